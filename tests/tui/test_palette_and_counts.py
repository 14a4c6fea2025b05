"""Issue 26, the app: the command palette lists this app's commands first and in their own order (3, 5,
10 results), with only Textual's Theme and Quit beside them; the status line counts notes as `notes
index` says them ("N files (1 skipped)"); mode and result count are remembered per notes folder, and
changing either asks the latest question again."""

from __future__ import annotations

from pathlib import Path

from textual.command import DiscoveryHit

from assistant.config import Settings
from assistant.engine import Engine
from assistant.tui.app import NotesApp
from assistant.tui.commands import InOrderCommands
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, NOTES, chat_app, indexed
from tests.tui.helpers import ask, latest_card, wait_until

SIZE = (120, 36)


async def test_the_palette_lists_the_apps_commands_first_in_their_own_order(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        provider = InOrderCommands(app.screen)
        hits = [hit async for hit in provider.discover()]
        titles = [str(hit.display) for hit in hits if isinstance(hit, DiscoveryHit)]
        assert titles[0] == "Re-index notes"
        counts = [title for title in titles if title.startswith("Results per question")]
        assert counts == ["Results per question: 3", "Results per question: 5", "Results per question: 10"]
        textual = [title for title in titles if title in {"Theme", "Quit", "Keys", "Maximize", "Screenshot"}]
        assert textual == ["Theme", "Quit"] and titles[-2:] == ["Theme", "Quit"]


async def test_the_status_line_counts_skipped_notes_as_notes_index_does(tmp_path: Path) -> None:
    corpus = write_notes(tmp_path / "corpus", NOTES)
    (corpus / "picture.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)
    engine = indexed(settings)
    report = engine.refresh()
    assert sum(problem.skipped for problem in report.problems) == 1
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        status = app.chat.status_line
        assert (status.files, status.skipped) == (3, 1)
        assert "3 files (1 skipped)" in str(status.render())


async def test_mode_and_count_are_remembered_per_folder_and_a_change_asks_again(
    settings: Settings, engine: Engine
) -> None:
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        assert latest_card(app).response is not None and latest_card(app).response.mode == "hybrid"  # type: ignore[union-attr]
        app.action_set_mode("bm25")
        await wait_until(pilot, lambda: len(app.chat.log_view.answer_cards()) == 2 and answered(app))
        again = latest_card(app)
        assert again.asked == "lambda max memory" and again.response is not None and again.response.mode == "bm25"
        app.action_set_k(3)
        await wait_until(pilot, lambda: len(app.chat.log_view.answer_cards()) == 3 and answered(app))
        assert len(latest_card(app).cards()) <= 3
    restarted = chat_app(settings, engine)
    async with restarted.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: restarted.searcher is not None)
        assert (restarted.mode, restarted.k) == ("bm25", 3)
        assert (restarted.chat.status_line.mode, restarted.chat.status_line.k) == ("bm25", 3)


def answered(app: NotesApp) -> bool:
    card = latest_card(app)
    return card.response is not None and len(card.cards()) == len(card.response.hits)
