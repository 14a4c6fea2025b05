"""The chat app's index lifecycle: open what is on disk, refresh it when the notes moved on, watch
the notes folder, and say when there is no notes folder at all.

Workers are threads: they only post messages (messages.py); the handlers here run on the UI thread
and update the status line and the progress row. `NotesApp` adds the conversation on top and
supplies the three hooks at the end (`_use`, `_dispatch`, `_update_waiting`).
"""

from __future__ import annotations

import threading

from textual import work
from textual.app import App
from textual.worker import Worker, WorkerState

from assistant.config import Settings, config_file, display_path
from assistant.engine import Engine, summary_line
from assistant.errors import AssistantError, CorpusError
from assistant.present.render import inert
from assistant.retrieve.search import Searcher
from assistant.tui.messages import (
    IndexFailed,
    IndexOpened,
    IndexProgressed,
    IndexReloaded,
    NotesChanged,
    NotesMissing,
    RefreshStarted,
)
from assistant.tui.screens.chat import ChatScreen
from assistant.tui.screens.no_notes import NoNotesScreen


class IndexKeeper(App[None]):
    """Keeps `searcher` current with the notes folder, in worker threads."""

    settings: Settings
    engine: Engine
    chat: ChatScreen
    searcher: Searcher | None
    watch_notes: bool

    def _init_index(self) -> None:
        self.searcher = None
        self.index_problem: str | None = None
        """Why there is no searcher, once opening failed: shown on waiting answer cards."""
        self._index_busy = False
        self._hold_questions = False
        self._refresh_queued: str | None = None
        self._stop_watching: threading.Event | None = None

    def _start_index(self) -> None:
        self._index_busy = True
        self.set_timer(0.1, self._open_index)  # after the first frame is on screen
        if self.watch_notes:
            stop = threading.Event()
            self._stop_watching = stop
            self._watch(stop)

    def on_unmount(self) -> None:
        stop = self._stop_watching
        if stop is not None:
            stop.set()

    # ------------------------------------------------------------ workers (threads: post, never touch widgets)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _open_index(self) -> None:
        """Open what is on disk (answers at once), then refresh it if the notes moved on."""
        opened: Searcher | None = None
        problem = ""
        try:
            opened = self.engine.load()
            self.post_message(IndexOpened(opened))
        except CorpusError as exc:
            self.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            problem = exc.message
        try:
            state = self.engine.freshness()
        except CorpusError as exc:
            self.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            self.post_message(IndexFailed(exc.message, exc.hint))
            return
        if opened is not None and state.fresh:
            return
        self._refresh_now(state.describe() if not state.fresh else problem)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _refresh_index(self, reason: str) -> None:
        self._refresh_now(reason)

    def _refresh_now(self, reason: str) -> None:
        self.post_message(RefreshStarted(reason))

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(IndexProgressed(stage, done, total))

        def notify(text: str) -> None:
            self.call_from_thread(self.notify, inert(text), title="Index", markup=False)

        try:
            summary = summary_line(self.engine.refresh(progress=progress, notify=notify))
            searcher = self.engine.load()
        except CorpusError as exc:
            self.post_message(NotesMissing(exc.message, exc.hint))
            return
        except AssistantError as exc:
            self.post_message(IndexFailed(exc.message, exc.hint))
            return
        except Exception as exc:  # a background refresh must not take the app down: report it instead
            self.post_message(IndexFailed(f"re-indexing failed: {type(exc).__name__}: {exc}"))
            return
        self.post_message(IndexReloaded(searcher, summary))

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self, stop: threading.Event) -> None:
        for paths in self.engine.watch(stop):
            if paths:
                self.post_message(NotesChanged(paths))

    # ------------------------------------------------------------ handlers (UI thread)

    def on_index_opened(self, message: IndexOpened) -> None:
        self.index_problem = None
        self._use(message.searcher)
        self.chat.status_line.state = "ready"
        self.chat.status_line.tone = "ok"
        self._dispatch()

    def on_refresh_started(self, message: RefreshStarted) -> None:
        self.chat.status_line.state = f"refreshing ({message.reason})"
        self.chat.status_line.tone = "busy"
        self.chat.show_progress(f"Re-indexing: {message.reason}")
        self._update_waiting()

    def on_index_progressed(self, message: IndexProgressed) -> None:
        self.chat.show_progress(
            f"Re-indexing: {message.stage} {message.done}/{message.total}", message.done, message.total
        )

    def on_index_reloaded(self, message: IndexReloaded) -> None:
        self.index_problem = None
        self._use(message.searcher)
        self.chat.status_line.state = "ready"
        self.chat.status_line.tone = "ok"
        self.chat.show_progress(None)
        self.notify(message.summary, title="Index")

    def on_index_failed(self, message: IndexFailed) -> None:
        self.chat.show_progress(None)
        self.chat.status_line.state = "unavailable" if self.searcher is None else "ready (refresh failed)"
        self.chat.status_line.tone = "problem"
        text = message.message + (f" ({message.hint})" if message.hint else "")
        if self.searcher is None:
            self.index_problem = text
        self.notify(inert(text), title="Index problem", severity="error", timeout=10, markup=False)

    def on_notes_missing(self, message: NotesMissing) -> None:
        self.chat.show_progress(None)
        self.chat.status_line.state = "no notes folder"
        self.chat.status_line.tone = "problem"
        self.index_problem = message.message
        if not isinstance(self.screen, NoNotesScreen):
            folder = self.settings.corpus_dir.expanduser().absolute()
            self.push_screen(NoNotesScreen(message.message, display_path(folder), display_path(config_file())))

    def action_look_again(self) -> None:
        """From the no-notes screen: try the notes folder again (it may exist now)."""
        if isinstance(self.screen, NoNotesScreen):
            self.pop_screen()
        self.chat.status_line.state = "opening…"
        self.chat.status_line.tone = "busy"
        self.request_refresh("looking for the notes folder again", open_first=True)

    def on_notes_changed(self, message: NotesChanged) -> None:
        names = ", ".join(sorted(message.paths)[:3]) + (" …" if len(message.paths) > 3 else "")
        self.request_refresh(f"notes changed: {names}")

    def request_refresh(self, reason: str, *, open_first: bool = False) -> None:
        """Refresh the index in the background; questions asked meanwhile wait for it."""
        self._hold_questions = True
        if self._index_busy:
            self._refresh_queued = reason
            return
        self._index_busy = True
        if open_first:
            self._open_index()
        else:
            self._refresh_index(reason)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state == WorkerState.ERROR and worker.group == "watch":
            problem = inert(f"Live re-indexing is off: {worker.error}")
            self.notify(problem, title="Watching notes", severity="warning", markup=False)
        if worker.group != "index" or worker.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if worker.state == WorkerState.ERROR:
            problem = inert(f"Index worker failed: {worker.error}")
            self.notify(problem, title="Index problem", severity="error", markup=False)
            self.chat.show_progress(None)
        if self._refresh_queued is not None:
            reason, self._refresh_queued = self._refresh_queued, None
            self._refresh_index(reason)
            return
        self._index_busy = False
        self._hold_questions = False
        if self.searcher is None and self.chat.status_line.tone != "problem":
            self.chat.status_line.state = "unavailable"
            self.chat.status_line.tone = "problem"
        self._dispatch()

    # ------------------------------------------------------------ hooks for the conversation (NotesApp)

    def _use(self, searcher: Searcher) -> None:
        """Start answering with this searcher."""
        self.searcher = searcher

    def _dispatch(self) -> None:
        """Answer the questions that wait, if they may be answered now."""

    def _update_waiting(self) -> None:
        """Tell waiting answer cards why they wait."""
