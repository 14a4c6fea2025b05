"""The chat app's entries in the command palette (Ctrl+P): re-index, search mode, results per question,
one note or all, clear. Each runs one of the app's actions, as its key does.

Textual's own system-command provider lists every entry sorted by name, which put "Results per
question: 10" before 3 and 5 and mixed Textual's entries among the app's; `InOrderCommands` lists
them in the order the app gives them (its own first)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hits
from textual.system_commands import SystemCommandsProvider

from assistant.config import MODES, Mode

if TYPE_CHECKING:
    from assistant.tui.app import NotesApp

RESULT_COUNTS = (3, 5, 10)
TEXTUAL_KEPT = frozenset({"Theme", "Quit"})
"""Textual's own palette entries the app keeps."""


class InOrderCommands(SystemCommandsProvider):
    """The app's system commands, listed in the order it yields them (searching still ranks by match)."""

    async def discover(self) -> Hits:
        for title, help_text, callback, discover in self.app.get_system_commands(self.screen):
            if discover:
                yield DiscoveryHit(title, callback, help=help_text)


MODE_HELP: dict[Mode, str] = {
    "hybrid": "keywords and meaning, fused (default)",
    "dense": "meaning only",
    "bm25": "keywords only",
}


def chat_commands(app: NotesApp) -> Iterator[SystemCommand]:
    yield SystemCommand("Re-index notes", "Bring the index up to date with the notes folder", app.action_reindex)
    for mode in MODES:
        yield SystemCommand(f"Search mode: {mode}", MODE_HELP[mode], lambda mode=mode: app.action_set_mode(mode))
    for count in RESULT_COUNTS:
        yield SystemCommand(
            f"Results per question: {count}",
            f"Show {count} passages for each question",
            lambda count=count: app.action_set_k(count),
        )
    yield SystemCommand("Answer from one note…", "Restrict answers to one note (f)", app.action_pick_file)
    yield SystemCommand("Answer from all notes", "Clear the one-note restriction (F)", app.action_clear_file)
    yield SystemCommand("Clear the conversation", "Forget the questions so far (Ctrl+L)", app.action_clear)
