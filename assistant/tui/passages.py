"""What the chat app does with a selected passage: open it in the editor (or the built-in viewer)
and copy its citation. The editor argv is `assistant.present.editor`'s, the same `notes ask --open` uses."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import App, SuspendNotSupported

from assistant.config import Settings
from assistant.errors import UsageProblem
from assistant.notes.chunk import Chunk
from assistant.notes.ingest import note_lines
from assistant.present.editor import choose_editor, editor_command, editor_family, open_in_editor
from assistant.present.render import inert
from assistant.tui.clipboard import TOOL_NAMES, copy_with_tool, osc52_blocked
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard


class PassageActions(App[None]):
    """The selected result card, and `o` / `c` on it."""

    settings: Settings
    selected: HitCard | None = None

    @on(HitCard.Selected)
    def _selected(self, message: HitCard.Selected) -> None:
        self.selected = message.card

    def selected_card(self) -> HitCard | None:
        focused = self.focused
        if isinstance(focused, HitCard):
            return focused
        if self.selected is not None and self.selected.is_attached:
            return self.selected
        return None

    def action_open_selected(self) -> None:
        """`o`: the passage in the editor at its answer line, or in the viewer when no editor is set."""
        card = self.selected_card()
        if card is None:
            self.notify("Select a result first (Tab)", severity="warning")
            return
        chunk = card.hit.chunk
        line = card.hit.answer.start_line
        editor = choose_editor(self.settings.editor)
        if editor is None:
            self.show_viewer(chunk, card.terms, line)
            return
        try:
            call = editor_command(editor, self.settings.corpus_dir / chunk.file, line)
        except UsageProblem as exc:
            self.notify(inert(exc.message), title="Editor", severity="error", markup=False)
            return
        name = inert(editor_family(editor))
        try:
            with self.suspend():
                status = open_in_editor(call)
        except SuspendNotSupported:
            self.notify("Can't hand the terminal to an editor here: showing the note instead", severity="warning")
            self.show_viewer(chunk, card.terms, line)
            return
        except OSError as exc:
            self.notify(
                f"Couldn't start {inert(editor)!r}: {exc.strerror or exc}",
                title="Editor",
                severity="error",
                markup=False,
            )
            return
        if status != 0:
            self.notify(f"{name} exited with status {status}", title="Editor", severity="warning", markup=False)
        elif not call.knows_line:
            self.notify(f"{name} can't be told a line: the answer is at line {line}", title="Editor", markup=False)

    def show_viewer(self, chunk: Chunk, terms: Sequence[str] = (), line: int | None = None) -> None:
        """The built-in viewer: the whole note, its chunk's lines marked, scrolled to `line` (its
        answer line; the chunk's first line without one)."""
        path = self.settings.corpus_dir / chunk.file
        try:
            lines = note_lines(path)
        except OSError as exc:
            self.notify(
                f"Couldn't read {inert(chunk.file)}: {exc.strerror or exc}",
                title="Viewer",
                severity="error",
                markup=False,
            )
            return
        self.push_screen(NoteViewer(chunk, lines, terms=terms, line=line))

    def action_copy_citation(self) -> None:
        """`c`: the citation onto the clipboard, by a clipboard tool if there is one, else by OSC 52;
        and when it is known that neither arrives, say so and show the citation to copy by hand."""
        card = self.selected_card()
        if card is None:
            self.notify("Select a result first (Tab)", severity="warning")
            return
        citation = inert(card.citation)
        self.copy_to_clipboard(card.citation)  # OSC 52, for terminals that take it
        tool = copy_with_tool(card.citation)
        if tool is not None:
            self.notify(f"Copied {citation} (with {tool})", title="Citation", markup=False)
            return
        blocked = osc52_blocked()
        if blocked is not None:
            self.notify(
                f"Nothing was copied: no clipboard tool ({TOOL_NAMES}) and {blocked}. The citation: {citation}",
                title="Couldn't copy",
                severity="error",
                timeout=20,
                markup=False,
            )
            return
        self.notify(
            f"Asked the terminal to copy {citation} (OSC 52). No clipboard tool ({TOOL_NAMES}) was found, so if "
            "your terminal ignores OSC 52 nothing was copied.",
            title="Citation",
            severity="warning",
            timeout=10,
            markup=False,
        )
