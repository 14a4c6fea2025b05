"""The chat app's mark keys: `m` saves the selected card as the answer to its question, `M` saves the
question as answered by none of its cards (to mark later). Both write the notes folder's eval set
through evaluate/marks.py, as `notes ask … --mark N|none` does, and say what was saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App

from assistant.config import display_path
from assistant.errors import AssistantError
from assistant.evaluate.marks import Marked, mark_answer, mark_unanswered, marked_question, marked_set_path
from assistant.present.render import inert
from assistant.retrieve.results import SearchResponse
from assistant.tui.passages import PassageActions
from assistant.tui.widgets.answer_card import AnswerCard
from assistant.tui.widgets.hit_card import HitCard


class MarkActions(PassageActions):
    """`m` and `M` (bound on the chat screen), on the card PassageActions says is selected."""

    def action_mark_answer(self) -> None:
        """`m`: the selected card's answer lines become its question's answer in the eval set."""
        card = self.selected_card()
        answer = _answer_of(card)
        if card is None or answer is None or answer.response is None:
            self.notify("Select the card that answers (Tab), then press m", severity="warning")
            return
        response, rank = answer.response, card.hit.rank
        self._save(lambda path: mark_answer(path, response, rank, self.settings.corpus_dir))

    def action_mark_none(self) -> None:
        """`M`: none of the cards answers the question (the selected card's, else the latest)."""
        answer = _answer_of(self.selected_card()) or _latest_answer(self)
        if answer is None or answer.response is None:
            self.notify("Ask a question first: M marks it as answered by none of its results", severity="warning")
            return
        response: SearchResponse = answer.response
        self._save(lambda path: mark_unanswered(path, marked_question(response)))

    def _save(self, mark: Callable[[Path], Marked]) -> None:
        path = marked_set_path(self.settings.corpus_dir)
        try:
            marked = mark(path)
        except AssistantError as exc:
            self.notify(inert(str(exc)), title="Not marked", severity="error", markup=False)
            return
        self.notify(_said(marked), title="Marked for notes eval", markup=False, timeout=8)


def _answer_of(card: HitCard | None) -> AnswerCard | None:
    if card is None:
        return None
    return next((a for a in card.ancestors if isinstance(a, AnswerCard)), None)


def _latest_answer(app: App[None]) -> AnswerCard | None:
    answered = [card for card in app.query(AnswerCard) if card.response is not None]
    return answered[-1] if answered else None


def _said(marked: Marked) -> str:
    record = marked.record
    again = " (updated)" if marked.updated else ""
    if record["gold"]:
        gold = record["gold"][0]
        lines = f"{gold['start_line']}" + (f"-{gold['end_line']}" if gold["end_line"] != gold["start_line"] else "")
        what = f"{gold['file']}:{lines} answers {record['question']!r}{again}"
    else:
        what = f"none of these answers {record['question']!r}{again}: kept to mark later"
    count = f"{marked.questions} question{'s' if marked.questions != 1 else ''}"
    return inert(f"{what}\nsaved to {display_path(marked.set_path)} ({count})")
