"""A passage of a note, shown safely: Markdown (or plain text for .txt notes) with the question's terms
highlighted and its answer lines (answer.py) emphasised.

Note text is untrusted. It always goes through `inert` first (escape sequences and bidi controls become
visible escapes) and into `Content(...)`, never into a markup string, so `[bold]` in a note stays text.
Markdown decodes entities (`&#x202e;`) after that, so its rendered text is made inert once more.
Styles are referenced by component class (".hit-card--term"), resolved against the enclosing HitCard,
so their colours live in app.tcss.

Which lines are the answer comes with the passage (`present.shown_passage`): a range of its source
lines. A Markdown block is emphasised where its source lines are answer lines: all of it when all of
its lines are, else the words of those lines; in a code block, the answer lines, whole.

Textual's public Markdown API only (`textual.widgets.markdown`): the document's `BLOCKS` map names the
block classes it builds, each built with its document and handed its text by `build_from_token` and
`set_content`; ours are those classes with the passage's emphasis added. tests/tui/test_passage.py
says by name which of these a Textual upgrade changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual.content import Content
from textual.content import Span as StyleSpan
from textual.widgets.markdown import Markdown, MarkdownBlock, MarkdownFence

from assistant.present.render import inert
from assistant.retrieve.highlight import locate, term_spans
from assistant.tui.widgets.markdown_lines import markdown_lines

if TYPE_CHECKING:
    from markdown_it.token import Token

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


@dataclass(frozen=True)
class Emphasis:
    """What a passage's blocks emphasise: the question's terms, and the answer (a range of the passage's
    source lines, `present.shown_passage`)."""

    terms: tuple[str, ...]
    answer: range
    source_lines: tuple[str, ...]

    def inline(self, content: Content, lines: range) -> tuple[Content, bool]:
        """A block's text (it shows source `lines`) made inert again, its terms highlighted, and emphasised
        where its lines are answer lines: all of it when all are, else their words; and whether any is."""
        answered = [line for line in lines if line in self.answer]
        whole = bool(answered) and len(answered) == len(lines)
        fragments = [self.source_lines[line] for line in answered if line < len(self.source_lines)]
        return decorate(inert_content(content), self.terms, fragments, whole=whole), bool(answered)

    def code(self, content: Content, first: int) -> tuple[Content, bool]:
        """A code block's highlighted text (its first line is source line `first`) with its answer lines
        emphasised whole, its syntax colours kept; and whether any line is an answer line."""
        answered = False
        offset = 0
        for number, line in enumerate(content.plain.split("\n"), first):
            if number in self.answer and line.strip():
                content = content.stylize_before(ANSWER_STYLE, offset, offset + len(line))
                answered = True
            offset += len(line) + 1
        return content, answered


def _emphasis_of(markdown: Markdown) -> Emphasis | None:
    return markdown.emphasis if isinstance(markdown, PassageMarkdown) else None


class _EmphasisedBlock(MarkdownBlock):
    """A block with inline text (a heading, a paragraph, a table cell) that takes its passage's emphasis.

    Public Textual API only: a block is built by `Markdown.BLOCKS`, constructed with its document, and handed
    its inline token by `build_from_token`, which sets its text with `set_content`."""

    def __init__(self, markdown: Markdown, token: Token, *args: Any, **kwargs: Any) -> None:
        super().__init__(markdown, token, *args, **kwargs)
        self.passage_emphasis = _emphasis_of(markdown)
        self.passage_lines = range(0)
        """The passage's source lines this block's text comes from."""

    def build_from_token(self, token: Token) -> None:
        self.passage_lines = range(*token.map) if token.map else range(0)
        super().build_from_token(token)

    def set_content(self, content: Content) -> None:
        if self.passage_emphasis is not None:
            content, answered = self.passage_emphasis.inline(content, self.passage_lines)
            self.set_class(answered, ANSWER_CLASS)
        super().set_content(content)


class _EmphasisedFence(MarkdownFence):
    """A code block whose answer lines are emphasised (its syntax colours kept)."""

    def __init__(self, markdown: Markdown, token: Token, code: str) -> None:
        super().__init__(markdown, token, code)
        self.passage_emphasis = _emphasis_of(markdown)
        start = token.map[0] if token.map else 0
        self.passage_first_line = start + 1 if token.type == "fence" else start
        """The passage's source line of the code's first line (a fence's opening ``` comes before it)."""

    def on_mount(self) -> None:
        # The fence composed its code as highlighted when it was built: show it again, emphasised.
        app = self.app
        self.set_content(self.highlight(self.code, self.lexer, ansi=app.native_ansi_color, dark=app.current_theme.dark))

    def set_content(self, content: Content) -> None:
        if self.passage_emphasis is not None:
            content, answered = self.passage_emphasis.code(content, self.passage_first_line)
            self.set_class(answered, ANSWER_CLASS)
        super().set_content(content)


INLINE_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "paragraph_open", "th_open", "td_open")
"""The blocks that hold inline text; lists and tables are containers of these."""
CODE_BLOCKS = ("fence", "code_block")


def _emphasising_blocks() -> dict[str, type[MarkdownBlock]]:
    blocks = dict(Markdown.BLOCKS)
    for name in INLINE_BLOCKS:
        base = blocks[name]
        blocks[name] = cast("type[MarkdownBlock]", type(base.__name__, (_EmphasisedBlock, base), {}))
    for name in CODE_BLOCKS:
        blocks[name] = _EmphasisedFence
    return blocks


class PassageMarkdown(Markdown):
    """The passage as Markdown (lists, code blocks, tables), highlighted. Give it `inert` text;
    `answer`: which of its source lines are the answer."""

    BLOCKS = _emphasising_blocks()

    def __init__(self, markdown: str, *, terms: Sequence[str], answer: range = range(0), **kwargs: Any) -> None:
        super().__init__(markdown, open_links=False, **kwargs)
        self.emphasis = Emphasis(tuple(terms), answer, tuple(markdown.split("\n")))
