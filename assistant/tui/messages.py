"""App-wide messages: what the worker threads report back to the UI (past-tense events).

Workers never touch widgets (Textual's UI methods are not thread-safe); they post one of these and
the app's handlers update the screen.
"""

from __future__ import annotations

from textual.message import Message

from assistant.reporting import UNCOUNTED
from assistant.retrieve.results import SearchResponse
from assistant.retrieve.search import Searcher


class SearchFinished(Message):
    """A question's search came back."""

    def __init__(self, turn: int, response: SearchResponse) -> None:
        super().__init__()
        self.turn = turn
        self.response = response


class SearchesDone(Message):
    """A batch of waiting questions has been searched (the app may start the next batch)."""


class SearchFailed(Message):
    """A question's search raised a problem the user can act on."""

    def __init__(self, turn: int, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.turn = turn
        self.message = message
        self.hint = hint


class IndexOpened(Message):
    """The index on disk was opened: questions can be answered (it may still be refreshed)."""

    def __init__(self, searcher: Searcher) -> None:
        super().__init__()
        self.searcher = searcher


class RefreshStarted(Message):
    """The index is being brought up to date (at start, on a note change, or on request): `verb` is
    what the build does, in the word the user reads ("Indexing": no index yet, "Updating",
    "Rebuilding"); `estimate`, for a full build, about how long it takes ("about 3 min")."""

    def __init__(self, reason: str, verb: str = "Updating", estimate: str = "") -> None:
        super().__init__()
        self.reason = reason
        self.verb = verb
        self.estimate = estimate

    @property
    def state(self) -> str:
        """The status line's word for the index while it runs: "indexing (no index yet)"."""
        return f"{self.verb.lower()} ({self.reason})"

    @property
    def label(self) -> str:
        """The progress row's label before the first stage reports."""
        return f"{self.verb}: {self.reason}" + (f", {self.estimate} on this machine" if self.estimate else "")


class IndexProgressed(Message):
    """A step of an index build: `done` of `total` in `stage` (reporting.py names the stages;
    `total` is UNCOUNTED while a stage with no count runs), for a build that is `verb`."""

    def __init__(self, stage: str, done: int, total: int, verb: str = "Updating") -> None:
        super().__init__()
        self.stage = stage
        self.done = done
        self.total = total
        self.verb = verb

    @property
    def label(self) -> str:
        """ "Indexing: embedding passages 320/675"; a stage with no count by its name alone."""
        count = f" {self.done:,}/{self.total:,}" if self.total > 1 else ""
        return f"{self.verb}: {self.stage}{count}"

    @property
    def bar_total(self) -> int | None:
        """The progress bar's total: None (a bar that pulses) while a stage with no count runs."""
        return None if self.total == UNCOUNTED else self.total


class IndexReloaded(Message):
    """A refresh finished and its searcher replaced the old one."""

    def __init__(self, searcher: Searcher, summary: str) -> None:
        super().__init__()
        self.searcher = searcher
        self.summary = summary


class IndexFailed(Message):
    """Opening or refreshing the index failed."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = hint


class IndexSettled(Message):
    """The index keeper finished every job asked of it up to job number `through` (IndexKeeper.asked);
    the messages of those jobs came before this one."""

    def __init__(self, through: int) -> None:
        super().__init__()
        self.through = through


class NotesChanged(Message):
    """Notes in the corpus folder were saved, added or removed while the app was open."""

    def __init__(self, paths: set[str]) -> None:
        super().__init__()
        self.paths = paths


class NotesMissing(Message):
    """The notes folder is missing or not a folder: the app shows how to point it at one."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.hint = hint


class WatchFailed(Message):
    """Watching the notes folder stopped with an error: saved notes are no longer re-indexed live."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
