"""The chat app (bare `notes`). Importing this package loads nothing heavy; `run_chat` imports Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings


def run_chat(settings: Settings, *, watch_notes: bool = True) -> None:
    """Open the chat app on the settings' notes folder and index."""
    from assistant.tui.app import run_chat as _run_chat

    _run_chat(settings, watch_notes=watch_notes)


__all__ = ["run_chat"]
