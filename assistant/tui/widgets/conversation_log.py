"""The conversation log: each question, then its answer card, oldest first."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from assistant.tui.widgets.answer_card import AnswerCard, QuestionEntry
from assistant.tui.widgets.hit_card import HitCard

WELCOME = (
    "Ask a question about your notes, e.g. “lambda max memory”, then a follow-up such as “and the timeout?”.\n"
    "Answers are passages of your notes with their citations; nothing is made up. Press ? for keys."
)


class ConversationLog(VerticalScroll, can_focus=False):
    """Questions and answer cards. The app adds turns and fills them in; the log only lays them out."""

    def compose_welcome(self) -> Static:
        return Static(Content(WELCOME), id="welcome")

    def on_mount(self) -> None:
        self.mount(self.compose_welcome())
        self.watch(self, "scroll_y", self._scrolled, init=False)

    def _scrolled(self) -> None:
        self.keep_headers_in_view()

    def keep_headers_in_view(self) -> None:
        """The card whose top is above the view keeps its citation and heading at the view's top."""
        for card in self.query(HitCard):
            card.stick_header(self)

    def add_turn(self, turn: int, asked: str, *, waiting: str) -> AnswerCard:
        for welcome in self.query("#welcome"):
            welcome.remove()
        for earlier in self.query(AnswerCard):
            earlier.remove_class("-latest")
        entry = QuestionEntry(turn, asked)
        card = AnswerCard(turn, asked, waiting=waiting)
        card.add_class("-latest")
        self.mount_all([entry, card])
        return card

    def answer_card(self, turn: int) -> AnswerCard | None:
        for card in self.query(AnswerCard):
            if card.turn == turn:
                return card
        return None

    def answer_cards(self) -> list[AnswerCard]:
        return list(self.query(AnswerCard))

    def hit_cards(self) -> list[HitCard]:
        return list(self.query(HitCard))

    async def clear(self) -> None:
        await self.remove_children()
        await self.mount(self.compose_welcome())

    def show_question(self, card: AnswerCard) -> None:
        """Scroll so that the card's question is at the top (its answer below it); then an open result
        card scrolls on to its answer lines, if they are not in view with it."""
        entries = [entry for entry in self.query(QuestionEntry) if entry.turn == card.turn]
        target = entries[0] if entries else card

        def reveal_answers() -> None:
            for hit_card in card.cards():
                if hit_card.expanded:
                    hit_card.reveal_answer()

        self.call_after_refresh(self.scroll_to_widget, target, top=True, animate=False, on_complete=reveal_answers)
