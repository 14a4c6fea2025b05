"""The chat app: ask in the box, read ranked passages of your own notes with their citations.

The app is handed a Backend (STYLE §8) and never builds retrieval itself. It paints at once; the index
opens in a worker thread, is refreshed there if the notes changed since it was built, and is refreshed
again whenever a note is saved while the app is open. Questions asked before a searcher is ready wait
in `_pending` and are answered as soon as one is. Workers only post messages (messages.py); handlers on
the UI thread update the widgets.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from textual import on, work
from textual.app import App, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState, get_current_worker

from assistant.chunk import Chunk
from assistant.config import MODES, Settings
from assistant.conversation import Conversation, Question, match_strength
from assistant.errors import AssistantError
from assistant.tui.backend import Backend, SearcherLike
from assistant.tui.editor import open_in_editor
from assistant.tui.messages import (
    IndexFailed,
    IndexOpened,
    IndexProgressed,
    IndexReloaded,
    NotesChanged,
    RefreshStarted,
    SearchFailed,
    SearchFinished,
)
from assistant.tui.screens.chat import ChatScreen
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.viewer import NoteViewer, read_note_lines
from assistant.tui.widgets.hit_card import HitCard

RESULT_COUNTS = (3, 5, 10)


@dataclass(frozen=True)
class PendingTurn:
    """A question waiting for (or in) a search, with the settings it was asked under."""

    question: Question
    mode: str
    k: int
    file_filter: str | None


class NotesApp(App[None]):
    """Notes Assistant's chat app."""

    CSS_PATH = "app.tcss"
    TITLE = "Notes Assistant"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, settings: Settings, backend: Backend, *, watch_notes: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.backend = backend
        self.watch_notes = watch_notes
        self.searcher: SearcherLike | None = None
        self.mode = settings.mode
        self.k = settings.k
        self.file_filter: str | None = None
        self.conversation = Conversation()
        self.chat = ChatScreen(id="chat")
        self.selected: HitCard | None = None
        self._pending: dict[int, PendingTurn] = {}
        self._turns = 0
        self._index_busy = False
        self._hold_questions = False
        self._refresh_queued: str | None = None
        self._stop_watching: threading.Event | None = None

    def get_default_screen(self) -> Screen[None]:
        return self.chat

    def on_mount(self) -> None:
        # The chat screen composes after the app mounts: start once it has painted.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        status = self.chat.status_line
        status.corpus = str(self.settings.corpus_dir)
        status.mode = self.mode
        status.k = self.k
        status.model = self.settings.model
        status.state = "opening…"
        status.tone = "busy"
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
        opened: SearcherLike | None = None
        problem = ""
        try:
            opened = self.backend.open()
            self.post_message(IndexOpened(opened))
        except AssistantError as exc:
            problem = exc.message
        try:
            state = self.backend.freshness()
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
            self.call_from_thread(self.notify, text, title="Index")

        try:
            summary = self.backend.refresh(progress=progress, notify=notify)
            searcher = self.backend.open()
        except AssistantError as exc:
            self.post_message(IndexFailed(exc.message, exc.hint))
            return
        except Exception as exc:  # a background refresh must not take the app down: report it instead
            self.post_message(IndexFailed(f"re-indexing failed: {type(exc).__name__}: {exc}"))
            return
        self.post_message(IndexReloaded(searcher, summary))

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self, stop: threading.Event) -> None:
        for paths in self.backend.watch(stop):
            if paths:
                self.post_message(NotesChanged(paths))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, searcher: SearcherLike, turns: list[tuple[int, PendingTurn]]) -> None:
        worker = get_current_worker()
        for turn, pending in turns:
            if worker.is_cancelled:
                return
            question = pending.question
            glob_pattern = glob.escape(pending.file_filter) if pending.file_filter else None
            try:
                response = searcher.search(question.searched, k=pending.k, mode=pending.mode, file_glob=glob_pattern)
            except AssistantError as exc:
                self.post_message(SearchFailed(turn, exc.message, exc.hint))
                continue
            except Exception as exc:  # report, don't crash the conversation
                self.post_message(SearchFailed(turn, f"search failed: {type(exc).__name__}: {exc}"))
                continue
            response = replace(response, query=question.asked)
            self.post_message(SearchFinished(turn, question, response, match_strength(response)))

    # ------------------------------------------------------------ index lifecycle

    def _use(self, searcher: SearcherLike) -> None:
        self.searcher = searcher
        status = self.chat.status_line
        status.files = len(searcher.files)
        status.chunks = len(searcher.chunks)
        status.model = searcher.model_name
        if self.file_filter and self.file_filter not in searcher.files:
            self.notify(f"{self.file_filter} is no longer indexed: answering from all notes", severity="warning")
            self._set_file_filter(None)

    def on_index_opened(self, message: IndexOpened) -> None:
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
        self._use(message.searcher)
        self.chat.status_line.state = "ready"
        self.chat.status_line.tone = "ok"
        self.chat.show_progress(None)
        self.notify(message.summary, title="Index")

    def on_index_failed(self, message: IndexFailed) -> None:
        self.chat.show_progress(None)
        if self.searcher is None:
            self.chat.status_line.state = "unavailable"
            self.chat.status_line.tone = "problem"
        else:
            self.chat.status_line.state = "ready (refresh failed)"
            self.chat.status_line.tone = "problem"
        text = message.message + (f" ({message.hint})" if message.hint else "")
        self.notify(text, title="Index problem", severity="error", timeout=10)

    def on_notes_changed(self, message: NotesChanged) -> None:
        names = ", ".join(sorted(message.paths)[:3]) + (" …" if len(message.paths) > 3 else "")
        self.request_refresh(f"notes changed: {names}")

    def request_refresh(self, reason: str) -> None:
        """Refresh the index in the background; questions asked meanwhile wait for it."""
        self._hold_questions = True
        if self._index_busy:
            self._refresh_queued = reason
            return
        self._index_busy = True
        self._refresh_index(reason)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state == WorkerState.ERROR and worker.group == "watch":
            self.notify(f"Live re-indexing is off: {worker.error}", title="Watching notes", severity="warning")
        if worker.group != "index" or worker.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if worker.state == WorkerState.ERROR:
            self.notify(f"Index worker failed: {worker.error}", title="Index problem", severity="error")
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

    # ------------------------------------------------------------ questions and answers

    @on(Input.Submitted, "#question")
    def _asked(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        box = self.chat.question_input
        box.remember(text)
        box.value = ""
        self.ask(text)

    def ask(self, text: str) -> int:
        """Add a question to the conversation and search it (now, or once the index is ready)."""
        question = self.conversation.ask(text)
        self._turns += 1
        turn = self._turns
        self._pending[turn] = PendingTurn(question, self.mode, self.k, self.file_filter)
        card = self.chat.log_view.add_turn(turn, question, waiting=self._waiting_text())
        self.chat.log_view.show_question(card)
        self._dispatch()
        return turn

    def _waiting_text(self) -> str:
        if self.searcher is not None and not self._hold_questions:
            return "Searching…"
        if self.searcher is not None:
            return "Waiting for the re-index to finish, so the answer sees your latest notes…"
        if self._index_busy:
            return "Waiting for the index to finish loading… (your question will be answered as soon as it is)"
        return "The index is not available (see the notification); press Ctrl+P → Re-index to try again."

    def _update_waiting(self) -> None:
        text = self._waiting_text()
        for turn in self._pending:
            card = self.chat.log_view.answer_card(turn)
            if card is not None:
                card.show_waiting(text)

    def _dispatch(self) -> None:
        """Search every pending question if a searcher may be used now."""
        self._update_waiting()
        if not self._pending or self.searcher is None or self._hold_questions:
            return
        self._search(self.searcher, sorted(self._pending.items()))

    def on_search_finished(self, message: SearchFinished) -> None:
        pending = self._pending.pop(message.turn, None)
        card = self.chat.log_view.answer_card(message.turn)
        if pending is None or card is None:
            return  # answered already, or the conversation was cleared
        card.show_response(message.response, message.strength, pending.file_filter)
        self.chat.log_view.show_question(card)

    def on_search_failed(self, message: SearchFailed) -> None:
        self._pending.pop(message.turn, None)
        card = self.chat.log_view.answer_card(message.turn)
        if card is not None:
            card.show_failure(message.message, message.hint)
        self.notify(message.message, title="Search problem", severity="error")

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

    # ------------------------------------------------------------ actions

    def action_open_selected(self) -> None:
        card = self.selected_card()
        if card is None:
            self.notify("Select a result first (Tab)", severity="warning")
            return
        chunk = card.hit.chunk
        path = self.settings.corpus_dir / chunk.file
        editor = os.environ.get("EDITOR", "").strip()
        if editor:
            try:
                with self.suspend():
                    status = open_in_editor(editor, path, chunk.start_line)
            except SuspendNotSupported:
                self.notify("Can't hand the terminal to an editor here: showing the note instead", severity="warning")
            except OSError as exc:
                self.notify(f"Couldn't start {editor!r}: {exc}", title="Editor", severity="error")
                return
            else:
                if status != 0:
                    self.notify(f"{editor} exited with status {status}", title="Editor", severity="warning")
                return
        self.show_viewer(chunk, card.terms)

    def show_viewer(self, chunk: Chunk, terms: Sequence[str] = ()) -> None:
        """The built-in viewer: the whole note, scrolled to the chunk's lines."""
        path = self.settings.corpus_dir / chunk.file
        try:
            lines = read_note_lines(path)
        except OSError as exc:
            self.notify(f"Couldn't read {chunk.file}: {exc.strerror or exc}", title="Viewer", severity="error")
            return
        self.push_screen(NoteViewer(chunk, lines, terms=terms))

    def action_copy_citation(self) -> None:
        card = self.selected_card()
        if card is None:
            self.notify("Select a result first (Tab)", severity="warning")
            return
        self.copy_to_clipboard(card.citation)
        self.notify(f"Copied {card.citation}", title="Citation")

    def action_pick_file(self) -> None:
        if self.searcher is None:
            self.notify("The index is still loading", severity="warning")
            return

        def chosen(file: str | None) -> None:
            if file is not None:
                self._set_file_filter(file)

        self.push_screen(FilePicker(self.searcher.files, self.file_filter), chosen)

    def action_clear_file(self) -> None:
        if self.file_filter is not None:
            self._set_file_filter(None)

    def _set_file_filter(self, file: str | None) -> None:
        self.file_filter = file
        self.chat.status_line.file_filter = file
        self.notify(f"Answering only from {file}" if file else "Answering from all notes", title="Notes")

    async def action_clear(self) -> None:
        self.conversation.clear()
        self._pending.clear()
        self.selected = None
        await self.chat.log_view.clear()
        self.chat.question_input.focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reindex(self) -> None:
        self.request_refresh("asked from the command palette")

    def action_set_mode(self, mode: str) -> None:
        if mode in MODES:
            self.mode = mode
            self.chat.status_line.mode = mode
            self.notify(f"Search mode: {mode}")

    def action_set_k(self, k: int) -> None:
        self.k = k
        self.chat.status_line.k = k
        self.notify(f"Showing {k} passages per question")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Re-index notes", "Bring the index up to date with the notes folder", self.action_reindex)
        for mode in MODES:
            yield SystemCommand(
                f"Search mode: {mode}",
                {"hybrid": "keywords and meaning, fused (default)", "dense": "meaning only", "bm25": "keywords only"}[
                    mode
                ],
                lambda mode=mode: self.action_set_mode(mode),
            )
        for count in RESULT_COUNTS:
            yield SystemCommand(
                f"Results per question: {count}",
                f"Show {count} passages for each question",
                lambda count=count: self.action_set_k(count),
            )
        yield SystemCommand("Answer from one note…", "Restrict answers to one note (f)", self.action_pick_file)
        yield SystemCommand("Answer from all notes", "Clear the one-note restriction (F)", self.action_clear_file)
        yield SystemCommand("Clear the conversation", "Forget the questions so far (Ctrl+L)", self.action_clear)


def run_chat(settings: Settings, *, watch_notes: bool = True) -> None:
    """Open the chat app on the settings' notes and index (bare `notes`)."""
    from assistant.tui.backend import EngineBackend

    NotesApp(settings, EngineBackend(settings), watch_notes=watch_notes).run()


__all__ = ["NotesApp", "PendingTurn", "run_chat"]
