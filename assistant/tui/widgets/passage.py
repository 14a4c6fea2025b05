"""A passage of a note, shown safely: Markdown (or plain text for .txt notes) with the question's terms
highlighted and the best-matching sentence emphasised.

Note text is untrusted. It always goes through `inert` first (escape sequences and bidi controls become
visible escapes) and into `Content(...)`, never into a markup string, so `[bold]` in a note stays text.
Markdown decodes entities (`&#x202e;`) after that, so its rendered text is made inert once more.
Styles are referenced by component class (".hit-card--term"), resolved against the enclosing HitCard,
so their colours live in app.tcss.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.content import Span as StyleSpan
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

from assistant.highlight import CharSpan, best_sentence, locate, term_spans
from assistant.present import inert
from assistant.tui.widgets.markdown_lines import markdown_lines

TERM_STYLE = ".hit-card--term"
BEST_STYLE = ".hit-card--best"


def decorate(content: Content, terms: Sequence[str], best: str | None) -> Content:
    """Content with the terms' spans and (where its words occur) the best sentence styled."""
    plain = content.plain
    if best:
        where = locate(best, plain)
        if where is not None:
            content = content.stylize_before(BEST_STYLE, *where)
    for start, end in term_spans(plain, terms):
        content = content.stylize(TERM_STYLE, start, end)
    return content


def inert_content(content: Content) -> Content:
    """Content whose text is `inert`, its styles kept.

    Why again: the Markdown parser decodes entities after `inert` ran, and `&#x202e;` or `&rlm;` decode
    to bidi controls. Cheap when nothing needs escaping, which is nearly always.
    """
    plain = content.plain
    if inert(plain) == plain:
        return content
    pieces: list[Content] = []
    last = 0
    for index, char in enumerate(plain):
        # inert keeps a zero-width joiner between two symbols (an emoji sequence): ask it with the neighbours.
        window = plain[max(index - 1, 0) : index + 2] if char == "\u200d" else char
        if char in inert(window):
            continue
        styles = [StyleSpan(0, len(inert(char)), span.style) for span in content[index : index + 1].spans]
        pieces += [content[last:index], Content(inert(char), styles)]
        last = index + 1
    pieces.append(content[last:])
    return Content("").join(pieces)


def plain_passage(text: str, terms: Sequence[str]) -> Content:
    """A passage shown line for line (plain-text notes keep their layout)."""
    safe = inert(text)
    best = best_sentence(safe, terms)
    return decorate(Content(safe), terms, safe[best[0] : best[1]] if best else None)


def preview(text: str, terms: Sequence[str], lines: int = 2, *, markdown: bool = False) -> Content:
    """A collapsed passage: `lines` lines from the best-matching sentence's line (or the start).

    A Markdown passage reads as rendered (see `markdown_lines`); a plain-text one shows its stripped lines.
    """
    safe = inert(text)
    best = best_sentence(safe, terms)
    body = _markdown_preview(safe, best, lines) if markdown else None
    if body is None:
        body = _plain_preview(safe, best, lines)
    return decorate(body, terms, safe[best[0] : best[1]] if best else None)


def _markdown_preview(safe: str, best: CharSpan | None, lines: int) -> Content | None:
    line_of_best = safe.count("\n", 0, best[0]) if best else 0
    rendered = [line for line in markdown_lines(safe) if line.content.plain.strip()]
    if not rendered:  # only raw HTML or rules: show the source instead of nothing
        return None
    first = next((i for i, line in enumerate(rendered) if line.source >= line_of_best), 0)
    shown = [line.content for line in rendered[first : first + lines]]
    # Starting inside a nested list: keep the lines' relative indent, not the absolute one.
    indent = min(len(line.plain) - len(line.plain.lstrip(" ")) for line in shown)
    body = Content("\n").join(line[indent:] for line in shown)
    return Content("… ") + body if first else body


def _plain_preview(safe: str, best: CharSpan | None, lines: int) -> Content:
    start = safe.rfind("\n", 0, best[0]) + 1 if best else 0
    shown = [line.strip() for line in safe[start:].splitlines() if line.strip()][:lines]
    body = "\n".join(shown)
    if start > 0 and safe[:start].strip():
        body = "… " + body
    return Content(body)


def best_fragment(text: str, terms: Sequence[str]) -> str | None:
    safe = inert(text)
    best = best_sentence(safe, terms)
    return safe[best[0] : best[1]] if best else None


class _Highlighting(MarkdownBlock):
    """A Markdown block whose inline content gets the passage's highlights."""

    def set_content(self, content: Content) -> None:
        document = self._markdown
        if isinstance(document, PassageMarkdown):
            content = decorate(inert_content(content), document.terms, document.best)
        super().set_content(content)


def _highlighting_blocks() -> dict[str, type[MarkdownBlock]]:
    # Only blocks with inline text; code fences keep their syntax colours, lists and tables are containers.
    inline = {"h1", "h2", "h3", "h4", "h5", "h6", "paragraph_open", "th_open", "td_open"}
    blocks = dict(Markdown.BLOCKS)
    for name in inline:
        base = blocks[name]
        blocks[name] = type(base.__name__, (_Highlighting, base), {})
    return blocks


class PassageMarkdown(Markdown):
    """The passage as Markdown (lists, code blocks, tables), highlighted. Give it `inert` text."""

    BLOCKS = _highlighting_blocks()

    def __init__(self, markdown: str, *, terms: Sequence[str], best: str | None, **kwargs: object) -> None:
        super().__init__(markdown, open_links=False, **kwargs)  # type: ignore[arg-type]
        self.terms = tuple(terms)
        self.best = best
