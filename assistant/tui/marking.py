"""The chat app's mark keys: `m` saves the selected card as the answer to its question, `M` saves the
question as answered by none of its cards (to mark later). Both write the notes folder's eval set
through evaluate/marks.py, as `notes ask … --mark N|none` does, and say what was saved.

The app owns one `MarkActions` and hands it the selected card; like `PassageActions`, it works through
the app's public API only (`notify`, `query`), on the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App

from assistant.config import Settings, display_path
from assistant.errors import AssistantError
from assistant.evaluate.marks import Marked, mark_answer, mark_unanswered, marked_question, marked_set_path
from assistant.present.render import inert
from assistant.retrieve.results import SearchResponse
from assistant.tui.widgets.answer_card import AnswerCard
from assistant.tui.widgets.hit_card import HitCard


class MarkActions:
    """`m` and `M` (bound on the chat screen), on the selected card."""

    def __init__(self, app: App[Any], settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def mark_answer(self, card: HitCard | None) -> None:
        """`m`: the selected card's answer lines become its question's answer in the eval set."""
        answer = _answer_of(card)
        if card is None or answer is None or answer.response is None:
            self.app.notify("Select the card that answers (Tab), then press m", severity="warning")
            return
        response, rank = answer.response, card.hit.rank
        self._save(lambda path: mark_answer(path, response, rank, self.settings.corpus_dir))

    def mark_none(self, card: HitCard | None) -> None:
        """`M`: none of the cards answers the question (the selected card's, else the latest)."""
        answer = _answer_of(card) or _latest_answer(self.app)
        if answer is None or answer.response is None:
            self.app.notify("Ask a question first: M marks it as answered by none of its results", severity="warning")
            return
        response: SearchResponse = answer.response
        self._save(lambda path: mark_unanswered(path, marked_question(response)))

    def _save(self, mark: Callable[[Path], Marked]) -> None:
        path = marked_set_path(self.settings.corpus_dir)
        try:
            marked = mark(path)
        except AssistantError as exc:
            self.app.notify(inert(str(exc)), title="Not marked", severity="error", markup=False)
            return
        self.app.notify(_said(marked), title="Marked for notes eval", markup=False, timeout=8)


def _answer_of(card: HitCard | None) -> AnswerCard | None:
    if card is None:
        return None
    return next((a for a in card.ancestors if isinstance(a, AnswerCard)), None)


def _latest_answer(app: App[Any]) -> AnswerCard | None:
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
