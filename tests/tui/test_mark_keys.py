"""The chat app's mark keys (issue 27): `m` on a selected card writes the same record as
`notes ask … --mark N`; `M` keeps the question as answered by none of its cards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluate.marks import marked_set_path
from assistant.tui.app import NotesApp
from assistant.tui.history import HistoryFile
from assistant.tui.widgets.hit_card import HitCard
from tests.eval_notes import LOWER_DOWN, UNANSWERED, Notes, notes_on_three


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Notes:
    notes = notes_on_three(tmp_path, monkeypatch, capsys)
    assert notes("index")[0] == 0
    return notes


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)
    await pilot.pause()


def app_for(notes: Notes, tmp_path: Path) -> NotesApp:
    settings = Settings(corpus_dir=notes.folder, index_dir=notes.index, model=notes.fake.name)
    engine = Engine(settings, embedder=notes.fake, encoder=notes.fake)
    return NotesApp(settings, engine, watch_notes=False, history=HistoryFile(tmp_path / "history.jsonl"))


async def ask(pilot: Pilot[None], app: NotesApp, question: str) -> None:
    await until(pilot, lambda: app.searcher is not None)
    before = len(app.chat.log_view.answer_cards())
    app.chat.question_input.focus()
    app.chat.question_input.value = question
    await pilot.press("enter")
    await until(pilot, lambda: len(app.chat.log_view.answer_cards()) > before and _filled(app))


def _filled(app: NotesApp) -> bool:
    card = app.chat.log_view.answer_cards()[-1]
    return card.response is not None and len(card.cards()) == len(card.response.hits)


def saved(notes: Notes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in marked_set_path(notes.folder).read_text(encoding="utf-8").splitlines()]


async def test_m_marks_the_selected_card_as_the_cli_does(notes: Notes, tmp_path: Path) -> None:
    app = app_for(notes, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await ask(pilot, app, LOWER_DOWN)
        await pilot.press("tab", "tab", "tab")  # the third card holds the answer (kitchen.md:5)
        card = app.focused
        assert isinstance(card, HitCard) and card.hit.rank == 3
        await pilot.press("m")
        await until(pilot, lambda: marked_set_path(notes.folder).exists())
        said = [n.message for n in app._notifications]
        assert any(m.startswith(f"kitchen.md:5 answers {LOWER_DOWN!r}\nsaved to ") for m in said), said
        from_app = saved(notes)
        await ask(pilot, app, UNANSWERED)
        await pilot.press("tab", "M")  # outside the question box, where m and M are letters
        await until(pilot, lambda: len(saved(notes)) == 2)
    assert saved(notes)[1] == {"id": saved(notes)[1]["id"], "question": UNANSWERED, "kind": "marked", "gold": []}
    marked_set_path(notes.folder).unlink()
    code, _out, err = notes("ask", LOWER_DOWN, "--mark", "3")
    assert code == 0, err
    assert saved(notes) == from_app, "the app and --mark write the same record"
    (record,) = from_app
    assert record["gold"] == [
        {
            "file": "kitchen.md",
            "start_line": 5,
            "end_line": 5,
            "evidence": "- Sourdough needs a starter fed daily with flour and water",
        }
    ]


async def test_m_without_a_selected_card_says_what_to_do(notes: Notes, tmp_path: Path) -> None:
    app = app_for(notes, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        app.chat.log_view.focus()
        await pilot.press("escape")
        app.set_focus(None)
        await pilot.press("m")
        await pilot.pause()
        assert any("Select the card that answers" in n.message for n in app._notifications)
    assert not marked_set_path(notes.folder).exists()
