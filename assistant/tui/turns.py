"""A question waiting for its answer in the chat app, and how it names the one note it may be answered from."""

from __future__ import annotations

import glob
from dataclasses import dataclass

from assistant.config import Mode, Settings


@dataclass(frozen=True)
class PendingTurn:
    """A question waiting for (or in) a search, with the settings it was asked under."""

    asked: str
    mode: Mode
    k: int
    file_filter: str | None


def only_note(settings: Settings, note: str) -> str:
    """What a search is handed (it takes `file` as `--file` does) to answer from this one indexed note
    alone, whatever the working folder and whatever the note's name holds: the note's absolute path,
    the part inside the notes folder glob-escaped, so `notes [draft]*.md` never matches `notes d.md`."""
    return str(settings.corpus_dir.expanduser().absolute() / glob.escape(note))
