"""A question waiting for its answer in the chat app, and how it names the one note it may be answered from."""

from __future__ import annotations

import glob
from dataclasses import dataclass

from assistant.config import Mode, Settings
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.present.render import inert
from assistant.tui.messages import SearchFailed, SearchFinished


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


def waiting_text(*, opened: bool, held: bool, building: bool, busy: bool, problem: str | None) -> str:
    """What a question's card says until its answer comes: whether it is being searched, from what,
    or what it waits for (`opened`: an index is open; `held`: a refresh asked for must finish first;
    `building`: a first build's partial index can answer; `busy`: index work is running)."""
    if opened and not held:
        return "Searching…"
    if not opened and building:
        return "Searching what is indexed so far…"
    if opened:
        return "Waiting for the re-index to finish, so the answer sees your latest notes…"
    if busy:
        return "Waiting for the index to finish loading… (your question will be answered as soon as it is)"
    cause = problem or "the index could not be opened"
    return f"Can't answer yet: {inert(cause)}. Fix that, then press Ctrl+P → Re-index notes to try again."


def answering_state(percent: int) -> str:
    """The status line's index state while a first build's partial index answers questions."""
    return f"indexing, {percent}% of passages embedded: answering from what is ready"


def search_turn(
    engine: Engine, settings: Settings, turn: int, pending: PendingTurn, context: str | None
) -> SearchFinished | SearchFailed:
    """One waiting question searched (in a worker thread), as the message the app takes it by: its
    answer, or the problem in one line (a failure is reported, never taken out on the conversation)."""
    try:
        file = None if pending.file_filter is None else only_note(settings, pending.file_filter)
        response = engine.search(pending.asked, k=pending.k, mode=pending.mode, file=file, context=context)
    except AssistantError as exc:
        return SearchFailed(turn, exc.message, exc.hint)
    except Exception as exc:  # noqa: BLE001 - report, don't crash the conversation
        return SearchFailed(turn, f"search failed: {type(exc).__name__}: {exc}")
    return SearchFinished(turn, response)
