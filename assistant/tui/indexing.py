"""The chat app's index keeper: opens what is on disk, refreshes it when the notes moved on or when
asked, and watches the notes folder, all off the UI thread.

The app owns one `IndexKeeper` and tells it what to do (`start`, `open`, `refresh`, `stop`); the keeper
answers only by posting messages to the app (messages.py), whose handlers update the screen: Textual's
"attributes down, messages up". Index jobs run one at a time, in the order asked, in a worker thread
that lives while there are jobs; jobs asked for while one runs are done together as one. After each
batch the keeper posts `IndexSettled(through)`: every job numbered up to `through` (see `asked`) is done,
and each job's own messages (IndexOpened, IndexReloaded, IndexFailed, …) were posted before it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual.app import App

from assistant.engine import Engine, summary_line
from assistant.errors import AssistantError, CorpusError
from assistant.present.render import inert
from assistant.retrieve.search import Searcher
from assistant.tui.messages import (
    IndexFailed,
    IndexOpened,
    IndexProgressed,
    IndexReloaded,
    IndexSettled,
    NotesChanged,
    NotesMissing,
    RefreshStarted,
    WatchFailed,
)

FIRST_FRAME_S = 0.1
"""How long the first open waits, so that the app's first frame is on screen before it starts."""


@dataclass(frozen=True)
class IndexJob:
    number: int
    open_first: bool
    """Open what is on disk first (and refresh only if the notes moved on); else refresh now."""
    reason: str = ""


class IndexKeeper:
    """Keeps the engine's index current with the notes folder, reporting to `app` by messages."""

    def __init__(self, app: App[Any], engine: Engine, *, watch_notes: bool) -> None:
        self.app = app
        self.engine = engine
        self.watch_notes = watch_notes
        self.asked = 0
        """Jobs asked for so far (counted on the UI thread; `IndexSettled.through` says how many are done)."""
        self.stopped = threading.Event()
        """Set by `stop`: the watcher ends and no new job starts."""
        self._lock = threading.Lock()
        self._jobs: list[IndexJob] = []
        self._working = False

    # ------------------------------------------------------------ asked on the UI thread

    def start(self) -> None:
        """Open the index (once the first frame is painted) and start watching the notes folder."""
        self._ask(open_first=True, delay=FIRST_FRAME_S)
        if self.watch_notes:
            self.app.run_worker(self._watch, name="watch notes", group="watch", thread=True, exit_on_error=False)

    def open(self) -> None:
        """Open what is on disk again (the notes folder may exist now), refreshing it if need be."""
        self._ask(open_first=True)

    def refresh(self, reason: str) -> None:
        """Bring the index up to date with the notes folder; `reason` is shown while it runs."""
        self._ask(open_first=False, reason=reason)

    def stop(self) -> None:
        self.stopped.set()

    def _ask(self, *, open_first: bool, reason: str = "", delay: float = 0.0) -> None:
        self.asked += 1
        with self._lock:
            self._jobs.append(IndexJob(self.asked, open_first, reason))
            if self._working:
                return  # the running worker takes it next
            self._working = True
        if delay:
            self.app.set_timer(delay, self._start_worker)
        else:
            self._start_worker()

    def _start_worker(self) -> None:
        if self.stopped.is_set():
            return
        self.app.run_worker(self._work, name="index", group="index", thread=True, exit_on_error=False)

    # ------------------------------------------------------------ worker threads: post, never touch widgets

    def _work(self) -> None:
        while not self.stopped.is_set():
            with self._lock:
                jobs, self._jobs = self._jobs, []
                if not jobs:
                    self._working = False
                    return
            try:
                if any(job.open_first for job in jobs):
                    self._open()
                else:
                    self._refresh(jobs[-1].reason)
            except Exception as exc:  # a background job must not take the app down: report it instead
                self.app.post_message(IndexFailed(f"Index worker failed: {type(exc).__name__}: {exc}"))
            self.app.post_message(IndexSettled(jobs[-1].number))

    def _open(self) -> None:
        """Open what is on disk (answers at once), then refresh it if the notes moved on."""
        opened: Searcher | None = None
        problem = ""
        try:
            opened = self.engine.load()
            self.app.post_message(IndexOpened(opened))
        except CorpusError as exc:
            self.app.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            problem = exc.message
        try:
            state = self.engine.freshness()
        except CorpusError as exc:
            self.app.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            self.app.post_message(IndexFailed(exc.message, exc.hint))
            return
        if opened is not None and state.fresh:
            return
        self._refresh(state.describe() if not state.fresh else problem)

    def _refresh(self, reason: str) -> None:
        verb, estimate = self._plan()
        self.app.post_message(RefreshStarted(reason, verb, estimate))

        def progress(stage: str, done: int, total: int) -> None:
            self.app.post_message(IndexProgressed(stage, done, total, verb))

        def notify(text: str) -> None:
            self.app.notify(inert(text), title="Index", markup=False)  # thread-safe: it posts a message

        try:
            summary = summary_line(self.engine.refresh(progress=progress, notify=notify))
            searcher = self.engine.load()
        except CorpusError as exc:
            self.app.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            self.app.post_message(IndexFailed(exc.message, exc.hint))
            return
        except Exception as exc:  # a background refresh must not take the app down: report it instead
            self.app.post_message(IndexFailed(f"indexing failed: {type(exc).__name__}: {exc}"))
            return
        self.app.post_message(IndexReloaded(searcher, summary))

    def _plan(self) -> tuple[str, str]:
        """What the refresh about to run does ("Indexing", "Updating", "Rebuilding") and, for a
        full build, about how long it takes; a folder the plan cannot read is left to the refresh
        to report."""
        try:
            plan = self.engine.plan()
        except (AssistantError, OSError):
            return "Updating", ""
        return plan.verb, plan.estimate.describe() if plan.full else ""

    def _watch(self) -> None:
        try:
            for paths in self.engine.watch(self.stopped):
                if paths:
                    self.app.post_message(NotesChanged(paths))
        except Exception as exc:  # the app works on without live re-indexing: say so
            self.app.post_message(WatchFailed(str(exc) or type(exc).__name__))
