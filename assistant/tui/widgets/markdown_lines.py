"""Markdown flattened into display lines, for a collapsed card's preview.

Input: a passage's Markdown (already `inert`). Output: one styled `Content` per display line, each
tagged with the source line it comes from. Bold reads as bold, code as code, links as their text, list
items get the expanded view's bullets and their nesting indent, a table row is its cells joined by "│",
headings lose their `#` marks.

Why markdown-it-py rather than regexes: it parses the notes for the chunker and the expanded view too,
so emphasis, escapes, entities, nested lists and tables come out the same way everywhere.
Why a soft break starts a new display line: the preview starts at the best sentence's source line and
cuts each line at the card's edge, so keeping source lines keeps that start meaningful.

Note text is untrusted. Every fragment goes through `inert` again *after* parsing, because entities
(`&#x202e;`, `&rlm;`) decode to bidi controls. Styles are plain names or component classes, never
markup, and a link keeps only its text (no `@click` action).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from textual.content import Content, Span
from textual.widgets import Markdown

from assistant.present.render import inert

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

CODE_STYLE = ".hit-card--code"
LINK_STYLE = ".hit-card--link"
QUOTE_MARK = "│ "
CELL_GAP = " │ "
_INLINE_STYLES = {"strong_open": "bold", "em_open": "italic", "s_open": "strike", "link_open": LINK_STYLE}
_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DELIMITER_ROW = re.compile(r"\|[\s:|-]*-[\s:|-]*\|")


@dataclass(frozen=True)
class DisplayLine:
    """One line of a flattened passage."""

    source: int
    """The 0-based line of the Markdown source it shows."""
    content: Content
    header: int | None = None
    """For a table row: the source line of its table's header row (the header row's own, for it)."""


@dataclass
class _Container:
    """A list item or block quote: what it puts before its first line, and before the lines after."""

    first: str
    rest: str
    used: bool = False


@dataclass
class _State:
    """Where the walk is: markdown-it's token stream is flat, so open lists, items and rows live here."""

    lines: list[DisplayLine] = field(default_factory=list)
    containers: list[_Container] = field(default_factory=list)
    lists: list[list[int]] = field(default_factory=list)
    """Open lists, innermost last: [next number] for an ordered list, [] for a bullet list."""
    cells: list[Content] | None = None
    """The current table row's cells, while inside a row."""
    row: int = 0
    """The current table row's source line."""
    style: str | None = None
    """How the current block's text is styled (a heading is bold, a header row too)."""
    header: int | None = None
    """The current table's header row (its source line), while inside a table."""
    in_head: bool = False

    def prefix(self) -> str:
        """What goes before the next line: each open container's marker, or its indent once shown."""
        text = "".join(c.rest if c.used else c.first for c in self.containers)
        for container in self.containers:
            container.used = True
        return text

    def add(self, source: int, content: Content, header: int | None = None) -> None:
        self.lines.append(DisplayLine(source, Content(self.prefix()) + content.stylize(self.style or ""), header))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # The expanded view's parser (Textual's Markdown default), so both read the same source the same way.
    return MarkdownIt("gfm-like")


@lru_cache(maxsize=256)
def markdown_lines(text: str) -> tuple[DisplayLine, ...]:
    """The display lines of a Markdown passage (cached: a follow-up question often shows the same hits)."""
    state = _State()
    # A passage cut from a nested list is indented throughout; parsed as is, it would be a code block.
    for token in _parser().parse(textwrap.dedent(text)):
        _block(token, state)
    return tuple(state.lines)


def _block(token: Token, state: _State) -> None:
    """Handle one block-level token."""
    kind = token.type
    start = token.map[0] if token.map else 0
    if kind in ("bullet_list_open", "ordered_list_open"):
        state.lists.append([int(token.attrs.get("start", 1))] if kind == "ordered_list_open" else [])
    elif kind in ("bullet_list_close", "ordered_list_close"):
        state.lists.pop()
    elif kind == "list_item_open":
        state.containers.append(_item(state.lists))
    elif kind == "blockquote_open":
        state.containers.append(_Container(QUOTE_MARK, QUOTE_MARK))
    elif kind in ("list_item_close", "blockquote_close"):
        state.containers.pop()
    elif kind in ("heading_open", "thead_open"):
        state.style = "bold"
        state.in_head = kind == "thead_open"
    elif kind in ("heading_close", "thead_close"):
        state.style = None
        state.in_head = False
    elif kind == "table_close":
        state.header = None
    elif kind == "tr_open":
        state.cells, state.row = [], start
        if state.in_head:
            state.header = start
    elif kind == "tr_close" and state.cells is not None:
        state.add(state.row, Content(CELL_GAP).join(state.cells), state.header)
        state.cells = None
    elif kind == "inline":
        lines = _inline_lines(token.children or [])
        if state.cells is not None:
            state.cells.append(Content(" ").join(lines))
        else:
            for offset, line in enumerate(lines):
                row = _orphan_row(line)
                if row is not None:
                    state.add(start + offset, row)
    elif kind in ("fence", "code_block"):
        first = start + 1 if kind == "fence" else start
        for offset, code in enumerate(token.content.rstrip("\n").split("\n")):
            state.add(first + offset, Content.assemble((inert(code), CODE_STYLE)))


def _item(lists: list[list[int]]) -> _Container:
    """A list item's marker: the next number, or the expanded view's bullet for its depth."""
    numbers = lists[-1] if lists else []
    if numbers:
        marker = f"{numbers[0]}. "
        numbers[0] += 1
    else:
        depth = sum(1 for open_list in lists if not open_list) - 1
        marker = Markdown.BULLETS[depth % len(Markdown.BULLETS)]
    return _Container(marker, " " * len(marker))


def _orphan_row(line: Content) -> Content | None:
    """A paragraph line that is a table row cut off from its header (the chunker splits long tables)
    read as a row: its cells joined by "│"; None for a delimiter row; any other line as it is."""
    plain = line.plain
    text = plain.strip()
    if len(text) < 2 or text[0] != "|" or text[-1] != "|":
        return line
    if _DELIMITER_ROW.fullmatch(text):
        return None
    code = [span for span in line.spans if span.style == CODE_STYLE]
    pipes = [i for i, char in enumerate(plain) if char == "|" and not any(s.start <= i < s.end for s in code)]
    if len(pipes) < 2 or plain[pipes[0] :].strip() != plain[pipes[0] : pipes[-1] + 1].strip():
        return line
    cells = [_trimmed(line[a + 1 : b]) for a, b in zip(pipes, pipes[1:], strict=False)]
    return Content(CELL_GAP).join(cells)


def _trimmed(content: Content) -> Content:
    plain = content.plain
    start = len(plain) - len(plain.lstrip())
    return content[start : len(plain.rstrip())]


def _inline_lines(children: Sequence[Token]) -> list[Content]:
    """Inline tokens as styled text, one Content per source line (soft and hard breaks split lines)."""
    lines: list[Content] = []
    text: list[str] = []
    spans: list[Span] = []
    open_styles: list[tuple[str, int]] = []
    position = 0

    def add(fragment: str, style: str | None = None) -> None:
        nonlocal position
        fragment = inert(fragment)
        text.append(fragment)
        if style:
            spans.append(Span(position, position + len(fragment), style))
        position += len(fragment)

    def end_line() -> None:
        nonlocal position
        spans.extend(Span(begin, position, style) for style, begin in open_styles)
        open_styles[:] = [(style, 0) for style, _ in open_styles]
        lines.append(Content("".join(text), list(spans)))
        text.clear()
        spans.clear()
        position = 0

    for child in children:
        kind = child.type
        if kind == "text":
            add(_SPACES.sub(" ", child.content))
        elif kind == "code_inline":
            add(child.content, CODE_STYLE)
        elif kind in ("softbreak", "hardbreak"):
            end_line()
        elif kind in _INLINE_STYLES:
            open_styles.append((_INLINE_STYLES[kind], position))
        elif kind.endswith("_close") and open_styles:
            style, begin = open_styles.pop()
            spans.append(Span(begin, position, style))
        elif kind == "image":
            add(child.content or "image")
        elif kind == "html_inline":
            add(" " if _BREAK_TAG.fullmatch(child.content) else child.content)
    end_line()
    return lines
