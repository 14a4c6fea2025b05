"""The chat screen: status line, conversation log, indexing progress, question box, footer.

It lays things out, moves the selection between result cards and remembers the selected one; what a
key *does* to the notes (open, copy, filter, clear) is an app action, since it needs the app's state.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, ProgressBar

from assistant.present.stage_clock import StageClock
from assistant.reporting import UNCOUNTED
from assistant.tui.widgets.conversation_log import ConversationLog
from assistant.tui.widgets.hit_card import HitCard
from assistant.tui.widgets.question_input import QuestionInput
from assistant.tui.widgets.status_line import StatusLine


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("tab", "next_card", "Next result", show=False),
        Binding("shift+tab", "previous_card", "Previous result", show=False),
        Binding("j", "next_card(False)", "Next", show=False),
        Binding("k", "previous_card(False)", "Previous", show=False),
        Binding("escape", "focus_input", "Ask", show=False),
        Binding("o", "app.open_selected", "Open"),
        Binding("c", "app.copy_citation", "Copy citation"),
        Binding("C", "app.copy_passage", "Copy passage", show=False),
        Binding("m", "app.mark_answer", "Mark answer", show=False),
        Binding("M", "app.mark_none", "None answers", show=False),
        Binding("f", "app.pick_file", "One note"),
        Binding("F", "app.clear_file", "All notes"),
        Binding("ctrl+l", "app.clear", "Clear"),
        Binding("question_mark", "app.help", "Help"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected: HitCard | None = None
        """The card selected last (it keeps the selection while focus is in the question box)."""
        self.stage_clock = StageClock()
        self._clock_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status-line")
        yield ConversationLog(id="conversation")
        with Horizontal(id="index-progress"):
            yield Label("", id="index-progress-label")
            yield Label("", id="index-progress-times")
            yield ProgressBar(id="index-progress-bar", show_eta=False)
        yield QuestionInput(id="question")
        yield Footer()

    @property
    def log_view(self) -> ConversationLog:
        return self.query_one(ConversationLog)

    @property
    def question_input(self) -> QuestionInput:
        return self.query_one(QuestionInput)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.question_input.focus()
        # Once a second while a build runs: a stage with no count (the model export) sends no progress.
        self._clock_timer = self.set_interval(1.0, self._show_times, pause=True)

    def show_progress(self, label: str | None, done: int = 0, total: int | None = None, *, stage: str = "") -> None:
        """Show (or, with None, hide) the indexing progress row: `label`, the bar (`total` None: a stage
        with no count) and the time the stage (`stage`, else the label) has taken and has left."""
        self.set_class(label is not None, "-indexing")
        if label is None:
            if self._clock_timer is not None:
                self._clock_timer.pause()
            return
        self.stage_clock.update(stage or label, done, UNCOUNTED if total is None else total)
        self.query_one("#index-progress-label", Label).update(label)
        self.query_one("#index-progress-bar", ProgressBar).update(total=total, progress=done)
        self._show_times()
        if self._clock_timer is not None:
            self._clock_timer.resume()

    def _show_times(self) -> None:
        self.query_one("#index-progress-times", Label).update(self.stage_clock.text())

    def show_index_state(self, state: str, tone: str) -> None:
        """The index's state on the status line; `tone`: "ok", "busy" or "problem"."""
        self.status_line.state = state
        self.status_line.tone = tone

    @on(HitCard.Selected)
    def _selected(self, message: HitCard.Selected) -> None:
        self.selected = message.card

    def selected_card(self) -> HitCard | None:
        """The focused card, else the one selected last while it is still shown."""
        focused = self.focused
        if isinstance(focused, HitCard):
            return focused
        if self.selected is not None and self.selected.is_attached:
            return self.selected
        return None

    def action_focus_input(self) -> None:
        self.question_input.focus()

    def action_next_card(self, wrap: bool = True) -> None:
        self._move(+1, wrap)

    def action_previous_card(self, wrap: bool = True) -> None:
        self._move(-1, wrap)

    def _move(self, step: int, wrap: bool) -> None:
        cards = self.log_view.hit_cards()
        focused = self.focused
        if not cards:
            self.question_input.focus()
            return
        if not isinstance(focused, HitCard) or focused not in cards:
            # From the question box: Tab goes to the newest answer's top card, Shift+Tab to its last.
            latest = [card for card in cards if card.parent is cards[-1].parent]
            (latest[0] if step > 0 else latest[-1]).focus(scroll_visible=False)
            return
        index = cards.index(focused) + step
        if 0 <= index < len(cards):
            # Not Textual's scroll (it centres a tall card): the card scrolls itself to its answer, header kept.
            cards[index].focus(scroll_visible=False)
        elif wrap:
            self.question_input.focus()
