"""A passage of a note, shown safely: Markdown (or plain text for .txt notes) with the question's terms
highlighted and its answer lines (answer.py) emphasised.

Note text is untrusted. It always goes through `inert` first (escape sequences and bidi controls become
visible escapes) and into `Content(...)`, never into a markup string, so `[bold]` in a note stays text.
Markdown decodes entities (`&#x202e;`) after that, so its rendered text is made inert once more.
Styles are referenced by component class (".hit-card--term"), resolved against the enclosing HitCard,
so their colours live in app.tcss.

Which lines are the answer comes with the passage (`present.shown_passage`): a range of its source
lines. A Markdown block is emphasised where its source lines are answer lines: all of it when all of
its lines are, else the words of those lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.content import Span as StyleSpan
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

from assistant.present.render import inert
from assistant.retrieve.highlight import locate, term_spans
from assistant.tui.widgets.markdown_lines import markdown_lines

TERM_STYLE = ".hit-card--term"
ANSWER_STYLE = ".hit-card--answer"
ANSWER_CLASS = "-answer"
"""The class of a Markdown block that shows (part of) the answer: the card scrolls it into view."""


def decorate(content: Content, terms: Sequence[str], answer: Sequence[str] = (), *, whole: bool = False) -> Content:
    """Content with the terms' spans styled, and the answer emphasised: all of it (`whole`), or
    where each answer line's words occur in it."""
    plain = content.plain
    if whole and plain.strip():
        content = content.stylize_before(ANSWER_STYLE, 0, len(plain))
    else:
        for fragment in answer:
            where = locate(fragment, plain)
            if where is not None:
                content = content.stylize_before(ANSWER_STYLE, *where)
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


def plain_passage(text: str, terms: Sequence[str], answer: range = range(0)) -> Content:
    """A passage shown line for line (plain-text notes keep their layout), its answer lines emphasised."""
    lines = [
        decorate(Content(inert(line)), terms, whole=index in answer) for index, line in enumerate(text.split("\n"))
    ]
    return Content("\n").join(lines)


def preview(
    text: str, terms: Sequence[str], lines: int = 2, *, answer: range = range(0), markdown: bool = False
) -> Content:
    """A collapsed passage: `lines` lines from the answer's first line (or the start), its answer
    emphasised; a table row under its table's header row.

    A Markdown passage reads as rendered (see `markdown_lines`); a plain-text one shows its stripped lines.
    """
    safe = inert(text)
    start = answer.start if answer else 0
    if markdown:
        body = _markdown_preview(safe, start, answer, lines, terms)
        if body is not None:
            return body
    return _plain_preview(safe, start, answer, lines, terms)


def _markdown_preview(safe: str, start: int, answer: range, lines: int, terms: Sequence[str]) -> Content | None:
    rendered = [line for line in markdown_lines(safe) if line.content.plain.strip()]
    if not rendered:  # only raw HTML or rules: show the source instead of nothing
        return None
    first = next((i for i, line in enumerate(rendered) if line.source >= start), 0)
    chosen = list(range(first, min(len(rendered), first + lines)))
    header = rendered[first].header
    if header is not None and header != rendered[first].source:
        # A table row: under its header row, which says which column is which.
        above = next((i for i, line in enumerate(rendered) if line.source == header), None)
        if above is not None:
            chosen = [above, *range(first, min(len(rendered), first + lines - 1))]
    shown = [
        decorate(rendered[i].content, terms, whole=rendered[i].source in answer and rendered[i].source != header)
        for i in chosen
    ]
    # Starting inside a nested list: keep the lines' relative indent, not the absolute one.
    indent = min(len(line.plain) - len(line.plain.lstrip(" ")) for line in shown)
    body = Content("\n").join(line[indent:] for line in shown)
    return Content("… ") + body if chosen[0] > 0 else body


def _plain_preview(safe: str, start: int, answer: range, lines: int, terms: Sequence[str]) -> Content:
    numbered = [(index, line.strip()) for index, line in enumerate(safe.split("\n")) if line.strip()]
    shown = [(index, line) for index, line in numbered if index >= start][:lines] or numbered[:lines]
    body = Content("\n").join(decorate(Content(line), terms, whole=index in answer) for index, line in shown)
    return Content("… ") + body if shown and shown[0][0] > numbered[0][0] else body


class _Highlighting(MarkdownBlock):
    """A Markdown block whose inline content gets the passage's highlights."""

    def set_content(self, content: Content) -> None:
        document = self._markdown
        if isinstance(document, PassageMarkdown):
            token = self._inline_token
            mapped = range(*token.map) if token is not None and token.map else range(0)
            answered = [line for line in mapped if line in document.answer]
            whole = bool(answered) and len(answered) == len(mapped)
            fragments = [document.source_lines[line] for line in answered if line < len(document.source_lines)]
            content = decorate(inert_content(content), document.terms, fragments, whole=whole)
            self.set_class(bool(answered), ANSWER_CLASS)
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
    """The passage as Markdown (lists, code blocks, tables), highlighted. Give it `inert` text;
    `answer`: which of its source lines are the answer."""

    BLOCKS = _highlighting_blocks()

    def __init__(self, markdown: str, *, terms: Sequence[str], answer: range = range(0), **kwargs: object) -> None:
        super().__init__(markdown, open_links=False, **kwargs)  # type: ignore[arg-type]
        self.terms = tuple(terms)
        self.answer = answer
        self.source_lines = markdown.split("\n")
