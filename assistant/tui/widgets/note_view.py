"""A whole note, numbered, with one passage's lines marked: the body of the built-in viewer.

Line API (a ScrollView drawing only the visible rows), so a note of thousands of lines opens at once
already scrolled to the passage. Long lines wrap under their text, not under the line numbers. Note
text is untrusted: every line goes through `inert` and is drawn as plain segments, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from assistant.present.render import inert
from assistant.retrieve.highlight import term_spans

LEAD_IN = 3
"""Lines shown above the passage when the note opens."""
TAIL = 2
"""Lines kept below the answer line when the passage is too tall to show from its first line."""


class NoteView(ScrollView, can_focus=True):
    """Numbered lines of a note; lines `first`..`last` (1-based, inclusive) are marked."""

    COMPONENT_CLASSES = {
        "note-view--number",
        "note-view--marked",
        "note-view--marked-number",
        "note-view--term",
    }

    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
    ]

    def __init__(
        self,
        lines: Sequence[str],
        first: int,
        last: int,
        *,
        terms: Sequence[str] = (),
        at: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.lines = [inert(line) for line in lines]
        self.first = max(1, first)
        self.last = max(self.first, last)
        self.at = self.first if at is None else max(1, at)
        """The line that must be in view when the note opens (the answer's, or the passage's first)."""
        self.terms = tuple(terms)
        self.rows: list[tuple[int, bool, str]] = []
        """(line index, first row of its line, text) for each row at the current width."""
        self.row_of_line: list[int] = []
        self._width = 0
        self._digits = len(str(max(1, len(self.lines))))

    def on_resize(self, event: Resize) -> None:
        # Wrap as if the vertical scrollbar were there: it appears only once the rows are laid out.
        width = self.size.width - self.styles.gutter.width - self.styles.scrollbar_size_vertical
        if width <= 0 or width == self._width:
            return
        top_line = self.rows[int(self.scroll_y)][0] if self.rows and self._width else None
        self._layout(width)
        # The new virtual size takes effect on the next refresh; scrolling before it would clamp to 0.
        if top_line is None:
            self.call_after_refresh(self.scroll_to_passage)
        else:
            self.call_after_refresh(self.scroll_to, y=self.row_of_line[top_line], animate=False)

    def _layout(self, width: int) -> None:
        self._width = width
        room = max(10, width - self._digits - 3)
        rows: list[tuple[int, bool, str]] = []
        row_of_line: list[int] = []
        for index, line in enumerate(self.lines):
            row_of_line.append(len(rows))
            if len(line) <= room:
                rows.append((index, True, line))
                continue
            pieces = [piece.plain.rstrip() for piece in Content(line).wrap(room)] or [""]
            rows.extend((index, number == 0, piece) for number, piece in enumerate(pieces))
        self.rows = rows
        self.row_of_line = row_of_line
        self.virtual_size = Size(width, len(rows))
        self.refresh()

    def opening_row(self, height: int) -> int:
        """The row to show at the top: LEAD_IN rows above the passage's first line, so the passage starts
        near the top; unless its answer line would then be below the bottom (a passage taller than the
        view), when the view scrolls only as far as shows the answer line and TAIL rows after it (never
        putting the answer line closer than LEAD_IN to the top). The title names the passage either way."""
        count = len(self.row_of_line)
        first = min(self.first - 1, count - 1)
        at = min(self.at - 1, count - 1)
        top = max(0, self.row_of_line[first] - LEAD_IN)
        answer_top = self.row_of_line[at]
        answer_end = (self.row_of_line[at + 1] if at + 1 < count else len(self.rows)) - 1
        if height > 0 and answer_end + TAIL >= top + height:
            top = max(top, min(answer_top - LEAD_IN, answer_end + TAIL + 1 - height))
        return top

    def scroll_to_passage(self, attempts: int = 20) -> None:
        """Scroll to `opening_row` (once the new rows are laid out: until then the scroll range is too
        short, so try again after the next refresh)."""
        if not self.row_of_line:
            return
        target = self.opening_row(self.scrollable_content_region.height)
        self.scroll_to(y=target, animate=False, immediate=True)
        if attempts <= 0:
            return
        if self.max_scroll_y < target:
            self.set_timer(0.02, lambda: self.scroll_to_passage(attempts - 1))
        else:
            self.call_after_refresh(self._scrolled_to, target, attempts - 1)

    def _scrolled_to(self, target: int, attempts: int) -> None:
        """A layout pass of the new screen can clamp the scroll back before it is drawn (seen on a busy
        machine: the note opened at line 1): scroll again if it did."""
        if round(self.scroll_y) != target:
            self.scroll_to_passage(attempts)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = y + int(self.scroll_y)
        base = self.rich_style
        if row >= len(self.rows):
            return Strip.blank(width, base)
        index, first_row, text = self.rows[row]
        marked = self.first <= index + 1 <= self.last
        body = self.get_component_rich_style("note-view--marked") if marked else base
        number = self.get_component_rich_style("note-view--marked-number" if marked else "note-view--number")
        label = f"{index + 1:>{self._digits}}" if first_row else " " * self._digits
        segments = [Segment(f"{label} {'▌' if marked else '│'} ", number)]
        segments.extend(self._highlighted(text, body) if marked else [Segment(text, body)])
        return Strip(segments).adjust_cell_length(width, body)

    def _highlighted(self, text: str, style: Style) -> list[Segment]:
        term = style + self.get_component_rich_style("note-view--term", partial=True)
        segments: list[Segment] = []
        position = 0
        for start, end in term_spans(text, self.terms):
            segments.append(Segment(text[position:start], style))
            segments.append(Segment(text[start:end], term))
            position = end
        segments.append(Segment(text[position:], style))
        return segments

    def visible_text(self) -> list[str]:
        """The rows on screen as plain text (for tests and screen readers of the source)."""
        height = self.scrollable_content_region.height
        return [self.render_line(y).text.rstrip() for y in range(height)]
