"""What the chat app does with a selected passage: open it in the editor (or the built-in viewer)
and copy its citation. The editor argv is `assistant.present.editor`'s, the same `notes ask --open` uses.

The app owns one `PassageActions` and hands it the selected card; it works through the app's public
API only (`notify`, `suspend`, `push_screen`, `copy_to_clipboard`), on the UI thread: an editor takes
over the terminal, so the app must be suspended while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import App, SuspendNotSupported

from assistant.config import Settings
from assistant.errors import UsageProblem
from assistant.notes.chunk import Chunk
from assistant.notes.ingest import note_lines
from assistant.present.editor import choose_editor, editor_command, editor_family, open_in_editor
from assistant.present.render import inert, openable_path, shell_path
from assistant.tui.clipboard import TOOL_NAMES, copy_with_tool, osc52_blocked
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard

NOTHING_SELECTED = "Select a result first (Tab)"


class PassageActions:
    """`o` and `c` on the selected result card."""

    def __init__(self, app: App[Any], settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def open(self, card: HitCard | None) -> None:
        """`o`: the passage in the editor at its answer line, or in the viewer when no editor is set."""
        if card is None:
            self.app.notify(NOTHING_SELECTED, severity="warning")
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
            self.app.notify(inert(exc.message), title="Editor", severity="error", markup=False)
            return
        name = inert(editor_family(editor))
        try:
            with self.app.suspend():
                status = open_in_editor(call)
        except SuspendNotSupported:
            self.app.notify("Can't hand the terminal to an editor here: showing the note instead", severity="warning")
            self.show_viewer(chunk, card.terms, line)
            return
        except OSError as exc:
            self.app.notify(
                f"Couldn't start {inert(editor)!r}: {exc.strerror or exc}",
                title="Editor",
                severity="error",
                markup=False,
            )
            return
        if status != 0:
            self.app.notify(f"{name} exited with status {status}", title="Editor", severity="warning", markup=False)
        elif not call.knows_line:
            self.app.notify(f"{name} can't be told a line: the answer is at line {line}", title="Editor", markup=False)

    def show_viewer(self, chunk: Chunk, terms: Sequence[str] = (), line: int | None = None) -> None:
        """The built-in viewer: the whole note, its chunk's lines marked, scrolled to `line` (its
        answer line; the chunk's first line without one)."""
        path = self.settings.corpus_dir / chunk.file
        try:
            lines = note_lines(path)
        except OSError as exc:
            self.app.notify(
                f"Couldn't read {inert(chunk.file)}: {exc.strerror or exc}",
                title="Viewer",
                severity="error",
                markup=False,
            )
            return
        self.app.push_screen(NoteViewer(chunk, lines, terms=terms, line=line))

    def copy(self, card: HitCard | None) -> None:
        """`c`: the answer as `path:LINE`, a path that opens from the folder `notes` was started in
        (quoted when a shell needs it), onto the clipboard: `vim +LINE path` or any editor that takes
        `path:LINE` opens it."""
        if card is None:
            self.app.notify(NOTHING_SELECTED, severity="warning")
            return
        where = shell_path(openable_path(self.settings.corpus_dir, card.hit.chunk.file))
        self._copy(f"{where}:{card.hit.answer.start_line}", "Citation")

    def copy_text(self, card: HitCard | None) -> None:
        """`C`: the passage's own lines (exactly the cited ones) onto the clipboard."""
        if card is None:
            self.app.notify(NOTHING_SELECTED, severity="warning")
            return
        self._copy(card.hit.chunk.text, "Passage")

    def _copy(self, text: str, what: str) -> None:
        """Onto the clipboard by a clipboard tool if there is one, else by OSC 52; and when it is known
        that neither arrives, say so (and show a citation to copy by hand)."""
        shown = inert(text) if what == "Citation" else f"{len(text.splitlines())} lines"
        self.app.copy_to_clipboard(text)  # OSC 52, for terminals that take it
        tool = copy_with_tool(text)
        if tool is not None:
            self.app.notify(f"Copied {shown} (with {tool})", title=what, markup=False)
            return
        blocked = osc52_blocked()
        if blocked is not None:
            self.app.notify(
                f"Nothing was copied: no clipboard tool ({TOOL_NAMES}) and {blocked}. The {what.lower()}: {shown}",
                title="Couldn't copy",
                severity="error",
                timeout=20,
                markup=False,
            )
            return
        self.app.notify(
            f"Asked the terminal to copy {shown} (OSC 52). No clipboard tool ({TOOL_NAMES}) was found, so if "
            "your terminal ignores OSC 52 nothing was copied.",
            title=what,
            severity="warning",
            timeout=10,
            markup=False,
        )
