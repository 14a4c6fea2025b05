"""The chat app (bare `notes`). Importing this package loads nothing heavy; `run_chat` imports Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.engine import Engine


def run_chat(settings: Settings, engine: Engine, *, watch_notes: bool = True) -> None:
    """Open the chat app on the engine's notes folder and index."""
    from assistant.tui.app import NotesApp

    NotesApp(settings, engine, watch_notes=watch_notes).run()


__all__ = ["run_chat"]
