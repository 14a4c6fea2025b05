"""The chat app: ask in the box, read ranked passages of your own notes with their citations.

The app is handed an Engine (STYLE §8), the one the CLI uses too, and never builds retrieval itself.
It paints at once; its `IndexKeeper` (indexing.py) opens the index in a worker thread, refreshes it
there if the notes changed since it was built, and again whenever a note is saved while the app is
open, and reports by messages (messages.py) that the handlers here turn into the status line, the
progress row and notifications. Questions asked before the index can answer them wait in `_pending`
and are answered as soon as it can. What `o` and `c` do with a passage is its `PassageActions`'
(passages.py), `m` and `M` (marks for `notes eval`) its `MarkActions`' (marking.py); questions asked
are kept per notes folder across runs (`history`).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from assistant.config import MODES, Mode, Settings, config_file, display_path
from assistant.engine import Engine
from assistant.present.render import inert
from assistant.retrieve.search import Searcher
from assistant.tui.commands import TEXTUAL_KEPT, InOrderCommands, chat_commands
from assistant.tui.history import Choices, History, HistoryFile, choices_path, history_path
from assistant.tui.indexing import IndexKeeper
from assistant.tui.marking import MarkActions
from assistant.tui.messages import (
    IndexFailed,
    IndexOpened,
    IndexProgressed,
    IndexReloaded,
    IndexSettled,
    NotesChanged,
    NotesMissing,
    RefreshStarted,
    SearchesDone,
    SearchFailed,
    SearchFinished,
    WatchFailed,
)
from assistant.tui.passages import PassageActions
from assistant.tui.screens.chat import ChatScreen
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.no_notes import NoNotesScreen
from assistant.tui.turns import PendingTurn, answering_state, only_note, search_turn, waiting_text
from assistant.tui.widgets.question_input import QuestionInput


class NotesApp(App[None]):
    """Notes Assistant's chat app."""

    CSS_PATH = "app.tcss"
    COMMANDS = {InOrderCommands}
    TITLE = "Notes Assistant"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        watch_notes: bool = True,
        history: HistoryFile | None = None,
        choices: Choices | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.index = IndexKeeper(self, engine, watch_notes=watch_notes)
        self.passages = PassageActions(self, settings)
        self.marks = MarkActions(self, settings)
        self.saved_questions = history if history is not None else HistoryFile(history_path(settings.corpus_dir))
        self.searcher: Searcher | None = None
        """The index the keeper opened last (None until it opens one): what the status line counts."""
        self.index_problem: str | None = None
        """Why there is no searcher, once opening failed: shown on waiting answer cards."""
        self._index_done = 0
        """The keeper's jobs done so far (`IndexSettled.through`); fewer than `index.asked`: it is busy."""
        self._hold_questions = False
        """A refresh was asked for: questions wait for it, so their answers see the latest notes."""
        self.choices = choices if choices is not None else Choices(choices_path(settings.corpus_dir))
        """The mode and result count last chosen here for this notes folder, restored at start."""
        self.mode, self.k = self.choices.restore(settings.mode, settings.k)
        self._last_asked: str | None = None
        self._asked_while_building: str | None = None
        """The latest question answered from a partial index: asked again when the index is complete."""
        self.file_filter: str | None = None
        self.context: str | None = None
        """What the latest answer searched: a follow-up ("and the timeout?") is searched in its light."""
        self.chat = ChatScreen(id="chat")
        self._pending: dict[int, PendingTurn] = {}
        self._searching = False
        self._turns = 0

    @property
    def index_busy(self) -> bool:
        """Whether the keeper has index work running or waiting."""
        return self._index_done < self.index.asked

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
        self.chat.show_index_state("opening…", "busy")
        self.chat.question_input.history = History(self.saved_questions.load(), limit=self.saved_questions.limit)
        self.index.start()

    def on_unmount(self) -> None:
        self.index.stop()

    # ------------------------------------------------------------ the index keeper's messages

    def on_index_opened(self, message: IndexOpened) -> None:
        self.index_problem = None
        self._use(message.searcher)
        self.chat.show_index_state("ready", "ok")
        self._dispatch()

    def on_refresh_started(self, message: RefreshStarted) -> None:
        self.chat.show_index_state(message.state, "busy")
        self.chat.show_progress(message.label)
        self._update_waiting()

    def on_index_progressed(self, message: IndexProgressed) -> None:
        self.chat.show_progress(message.label, message.done, message.bar_total, stage=message.stage)
        building = self.engine.building if self.searcher is None else None
        if building is not None:
            # No index yet, but the build's partial index answers: keywords, and vectors as they land.
            status = self.chat.status_line
            status.files, status.skipped, status.chunks = building.files, building.skipped, building.passages
            self.chat.show_index_state(answering_state(building.percent), "busy")
            self._dispatch()  # a batch already searching is never searched twice (SearchesDone)

    def on_index_reloaded(self, message: IndexReloaded) -> None:
        self.index_problem = None
        self._use(message.searcher)
        self.chat.show_index_state("ready", "ok")
        self.chat.show_progress(None)
        self.notify(message.summary, title="Index")
        asked, self._asked_while_building = self._asked_while_building, None
        if asked is not None and asked == self._last_asked:
            # Said, never silent: the latest answer came from part of the index; the whole one may rank otherwise.
            self.notify(f"The index is complete: asking “{inert(asked)}” again", title="Index", markup=False)
            self.ask(asked)

    def on_index_failed(self, message: IndexFailed) -> None:
        self.chat.show_progress(None)
        self.chat.show_index_state("unavailable" if self.searcher is None else "ready (refresh failed)", "problem")
        text = message.message + (f" ({message.hint})" if message.hint else "")
        if self.searcher is None:
            self.index_problem = text
        self.notify(inert(text), title="Index problem", severity="error", timeout=10, markup=False)

    def on_notes_missing(self, message: NotesMissing) -> None:
        self.chat.show_progress(None)
        self.chat.show_index_state("no notes folder", "problem")
        self.index_problem = message.message
        if not isinstance(self.screen, NoNotesScreen):
            folder = self.settings.corpus_dir.expanduser().absolute()
            self.push_screen(NoNotesScreen(message.message, display_path(folder), display_path(config_file())))

    def on_index_settled(self, message: IndexSettled) -> None:
        self._index_done = max(self._index_done, message.through)
        if self.index_busy:
            return  # more work was asked for meanwhile: its own IndexSettled follows
        self._hold_questions = False
        if self.searcher is None and self.chat.status_line.tone != "problem":
            self.chat.show_index_state("unavailable", "problem")
        self._dispatch()

    def on_notes_changed(self, message: NotesChanged) -> None:
        names = ", ".join(sorted(message.paths)[:3]) + (" …" if len(message.paths) > 3 else "")
        self._refresh(f"notes changed: {names}")

    def on_watch_failed(self, message: WatchFailed) -> None:
        problem = inert(f"Live re-indexing is off: {message.error}")
        self.notify(problem, title="Watching notes", severity="warning", markup=False)

    def _refresh(self, reason: str) -> None:
        """Refresh the index in the background; questions asked meanwhile wait for it."""
        self._hold_questions = True
        self.index.refresh(reason)

    def _use(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.chat.status_line.count(searcher.manifest, len(searcher.chunks), searcher.model_name)
        if self.file_filter and self.file_filter not in searcher.files:
            self.notify(
                f"{inert(self.file_filter)} is no longer indexed: answering from all notes",
                severity="warning",
                markup=False,
            )
            self._set_file_filter(None)

    # ------------------------------------------------------------ questions and answers

    @on(Input.Submitted, "#question")
    def _asked(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        box = self.chat.question_input
        box.remember(text)
        box.value = ""
        warning = self.saved_questions.keep(text)
        if warning is not None:
            self.notify(warning, title="History", severity="warning", markup=False)
        self.ask(text)

    @on(QuestionInput.HelpRequested)
    def _help_requested(self) -> None:
        self.action_help()

    def ask(self, text: str) -> int:
        """Add a question to the conversation and search it (now, or once the index is ready)."""
        self._turns += 1
        turn = self._turns
        self._pending[turn] = PendingTurn(text, self.mode, self.k, self.file_filter)
        self._last_asked = text
        card = self.chat.log_view.add_turn(turn, text, waiting=self._waiting_text())
        self.chat.log_view.show_question(card)
        self._dispatch()
        return turn

    def _waiting_text(self) -> str:
        return waiting_text(
            opened=self.searcher is not None,
            held=self._hold_questions,
            building=self.engine.building is not None,
            busy=self.index_busy,
            problem=self.index_problem,
        )

    def _update_waiting(self) -> None:
        text = self._waiting_text()
        for turn in self._pending:
            card = self.chat.log_view.answer_card(turn)
            if card is not None:
                card.show_waiting(text)

    def _dispatch(self) -> None:
        """Search every pending question if a searcher may be used now (or, with no index yet, the
        partial index of the build that makes it)."""
        self._update_waiting()
        can = self.engine.building is not None if self.searcher is None else not self._hold_questions
        if not self._pending or not can or self._searching:
            return  # a running batch dispatches again when it is done (SearchesDone): no question twice
        self._searching = True
        self._search(sorted(self._pending.items()), self.context)

    def on_searches_done(self, message: SearchesDone) -> None:
        self._searching = False
        self._dispatch()

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, turns: list[tuple[int, PendingTurn]], context: str | None) -> None:
        """Each waiting question in turn, each searched in the light of the one before it (a thread:
        it only posts messages)."""
        worker = get_current_worker()
        try:
            for turn, pending in turns:
                if worker.is_cancelled:
                    break
                answer = search_turn(self.engine, self.settings, turn, pending, context)
                if isinstance(answer, SearchFinished):
                    context = answer.response.searched
                self.post_message(answer)
        finally:
            self.post_message(SearchesDone())  # the next batch may start, whatever happened to this one

    def on_search_finished(self, message: SearchFinished) -> None:
        pending = self._pending.pop(message.turn, None)
        card = self.chat.log_view.answer_card(message.turn)
        if pending is None or card is None:
            return  # answered already, or the conversation was cleared
        self.context = message.response.searched
        if message.response.building is not None:
            self._asked_while_building = pending.asked
        card.show_response(message.response, pending.file_filter)
        self.chat.log_view.show_question(card)

    def on_search_failed(self, message: SearchFailed) -> None:
        self._pending.pop(message.turn, None)
        card = self.chat.log_view.answer_card(message.turn)
        if card is not None:
            card.show_failure(message.message, message.hint)
        self.notify(inert(message.message), title="Search problem", severity="error", markup=False)

    # ------------------------------------------------------------ actions

    def action_open_selected(self) -> None:
        self.passages.open(self.chat.selected_card())

    def action_copy_citation(self) -> None:
        self.passages.copy(self.chat.selected_card())

    def action_copy_passage(self) -> None:
        self.passages.copy_text(self.chat.selected_card())

    def action_mark_answer(self) -> None:
        self.marks.mark_answer(self.chat.selected_card())

    def action_mark_none(self) -> None:
        self.marks.mark_none(self.chat.selected_card())

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
        text = f"Answering only from {inert(file)}" if file else "Answering from all notes"
        self.notify(text, title="Notes", markup=False)

    async def action_clear(self) -> None:
        self._last_asked = None
        self.context = None
        self._pending.clear()
        self.chat.selected = None
        await self.chat.log_view.clear()
        self.chat.question_input.focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reindex(self) -> None:
        self._refresh("asked from the command palette")

    def action_look_again(self) -> None:
        """From the no-notes screen: try the notes folder again (it may exist now)."""
        if isinstance(self.screen, NoNotesScreen):
            self.pop_screen()
        self.chat.show_index_state("opening…", "busy")
        self._hold_questions = True
        self.index.open()

    def action_set_mode(self, mode: Mode) -> None:
        """A new search mode: remembered for this notes folder, and the latest question asked again."""
        if mode in MODES:
            self.mode = mode
            self.chat.status_line.mode = mode
            self.notify(f"Search mode: {mode}")
            self._remember_and_ask_again()

    def action_set_k(self, k: int) -> None:
        """A new result count: remembered for this notes folder, and the latest question asked again."""
        self.k = k
        self.chat.status_line.k = k
        self.notify(f"Showing {k} passages per question")
        self._remember_and_ask_again()

    def _remember_and_ask_again(self) -> None:
        try:
            self.choices.save(self.mode, self.k)
        except OSError as exc:
            self.notify(f"Not remembered for next time: {exc.strerror or exc}", severity="warning", markup=False)
        if self._last_asked is not None:
            self.ask(self._last_asked)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """This app's commands first, in their own order (3, 5, 10 results), then the only two of
        Textual's that matter here (Theme, Quit): no Keys, Maximize or Screenshot."""
        yield from chat_commands(self)
        yield from (command for command in super().get_system_commands(screen) if command.title in TEXTUAL_KEPT)


__all__ = ["NotesApp", "PendingTurn", "only_note"]
