"""The built-in note viewer: the whole note, scrolled to a passage whose lines are marked.

Used by `o` when $EDITOR is not set. The note is read only to show it (the index is not consulted), and
shown like every other note text: through `inert`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from assistant.notes.chunk import Chunk
from assistant.present.render import inert
from assistant.tui.widgets.note_view import NoteView


class NoteViewer(Screen[None]):
    """A note, read-only, with one passage marked."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("g", "scroll_passage", "To passage"),
    ]

    def __init__(
        self, chunk: Chunk, lines: Sequence[str], *, terms: Sequence[str] = (), line: int | None = None
    ) -> None:
        super().__init__(classes="note-viewer")
        self.chunk = chunk
        self.lines = list(lines)
        self.terms = tuple(terms)
        self.line = line
        """The line that must be in view when it opens (the answer's first), else the passage's first; the
        passage's own first line is in view too whenever both fit."""

    def compose(self) -> ComposeResult:
        chunk = self.chunk
        path = " › ".join(chunk.heading_path) or "(top of the note)"
        yield Static(Content.assemble((inert(chunk.citation), "bold"), "  ", inert(path)), id="viewer-title")
        yield NoteView(self.lines, chunk.start_line, chunk.end_line, terms=self.terms, at=self.line, id="viewer-note")
        yield Footer()

    @property
    def note_view(self) -> NoteView:
        return self.query_one(NoteView)

    def on_mount(self) -> None:
        self.note_view.focus()

    def action_scroll_passage(self) -> None:
        self.note_view.scroll_to_passage()
