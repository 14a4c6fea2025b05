"""Pilot tests of the chat app: state and messages, not pixels (STYLE §10)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message

from assistant.config import Settings
from assistant.errors import UsageProblem
from assistant.notes.chunk import Chunk
from assistant.tui.app import NotesApp
from assistant.tui.backend import EngineBackend, StaticBackend
from assistant.tui.messages import IndexReloaded, NotesChanged, SearchFinished
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard
from tests.tui.conftest import FakeBackend, FakeSearcher
from tests.tui.helpers import ask, screen_text, wait_until

SIZE = (100, 32)


def make_app(settings: Settings, backend: Any, *, watch: bool = False) -> NotesApp:
    return NotesApp(settings, backend, watch_notes=watch)


async def test_asking_shows_ranked_cards(settings: Settings, backend: FakeBackend) -> None:
    messages: list[Message] = []
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        await pilot.press(*"lambda max memory")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(HitCard)) == 5)
        finished = [m for m in messages if isinstance(m, SearchFinished)]
        assert len(finished) == 1
        assert finished[0].response.query == "lambda max memory"
        assert finished[0].strength.strong
        cards = list(app.query(HitCard))
        assert [card.hit.rank for card in cards] == [1, 2, 3, 4, 5]
        assert cards[0].citation == "lambda.md:5-7"
        assert cards[0].expanded and not any(card.expanded for card in cards[1:])
        assert app.chat.question_input.value == ""
        assert app.chat.question_input.has_focus
        status = app.chat.status_line
        assert (status.files, status.chunks, status.model, status.state) == (3, 5, "fake-model", "ready")
        text = screen_text(app)
        assert "lambda.md:5-7" in text and "AWS Lambda › Limits" in text


async def test_up_and_down_recall_earlier_questions(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
        box = app.chat.question_input
        box.value = "draft"
        await pilot.press("up")
        assert box.value == "what is a nacl"
        await pilot.press("up")
        assert box.value == "lambda max memory"
        await pilot.press("up")
        assert box.value == "lambda max memory"
        await pilot.press("down")
        assert box.value == "what is a nacl"
        await pilot.press("down")
        assert box.value == "draft"


async def test_tab_and_jk_move_between_cards(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
        latest = app.chat.log_view.answer_cards()[-1].cards()
        await pilot.press("tab")
        assert app.focused is latest[0], "Tab from the box goes to the newest answer's top card"
        await pilot.press("tab")
        assert app.focused is latest[1]
        assert latest[1].expanded
        await pilot.press("j")
        assert app.focused is latest[2]
        assert not latest[1].expanded, "a card collapses when the selection moves on"
        assert latest[0].expanded, "the top card stays open"
        await pilot.press("k", "k")
        assert app.focused is latest[0]
        await pilot.press("k")
        first_answer = app.chat.log_view.answer_cards()[0].cards()
        assert app.focused is first_answer[-1], "k walks back into the earlier answer"
        await pilot.press("shift+tab")
        assert app.focused is first_answer[-2]
        await pilot.press("escape")
        assert app.chat.question_input.has_focus
        await pilot.press("shift+tab")
        assert app.focused is latest[-1]


async def test_enter_pins_a_card_open(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        cards = app.chat.log_view.hit_cards()
        await pilot.press("tab", "tab", "enter", "tab")
        assert cards[1].expanded and cards[2].expanded


async def test_follow_up_is_searched_in_context(
    settings: Settings, backend: FakeBackend, searcher: FakeSearcher
) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "and the timeout?")
        assert searcher.calls[-1]["query"] == "lambda timeout"
        card = app.chat.log_view.answer_cards()[-1]
        assert card.response is not None
        assert card.response.query == "and the timeout?"
        assert card.response.searched == "lambda timeout"
        assert "searched: lambda timeout" in screen_text(app)
        await ask(pilot, "what is a nacl")
        assert searcher.calls[-1]["query"] == "what is a nacl"
        assert "searched:" not in str(app.chat.log_view.answer_cards()[-1]._meta_line.render())


async def test_clear_forgets_the_conversation(settings: Settings, backend: FakeBackend, searcher: FakeSearcher) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not app.chat.log_view.answer_cards()
        assert app.query_one("#welcome")
        await ask(pilot, "and the timeout?")
        assert searcher.calls[-1]["query"] == "and the timeout?"


async def test_file_filter_restricts_answers(settings: Settings, backend: FakeBackend, searcher: FakeSearcher) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "maximum size")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        picker = app.screen
        assert isinstance(picker, FilePicker)
        assert picker.files == ["lambda.md", "networking.txt", "s3.md"]
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: app.file_filter == "s3.md")
        assert app.chat.status_line.file_filter == "s3.md"
        await ask(pilot, "maximum size")
        assert searcher.calls[-1]["file_glob"] == "s3.md"
        card = app.chat.log_view.answer_cards()[-1]
        assert card.response is not None
        assert {hit.chunk.file for hit in card.response.hits} == {"s3.md"}
        assert "in s3.md" in str(card._meta_line.render())
        await pilot.press("tab", "F")
        assert app.file_filter is None
        await ask(pilot, "maximum size")
        assert searcher.calls[-1]["file_glob"] is None


async def test_file_names_are_glob_escaped(settings: Settings, corpus: Path) -> None:
    from tests.tui.conftest import make_chunks

    odd = FakeSearcher(make_chunks(corpus, {"lambda.md": (corpus / "lambda.md").read_text()}))
    app = make_app(settings, StaticBackend(odd))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.file_filter = "notes [draft]*.md"
        await ask(pilot, "lambda")
        assert odd.calls[-1]["file_glob"] == "notes [[]draft][*].md"


async def test_picker_cancel_keeps_the_filter(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilePicker))
        assert app.file_filter is None


async def test_o_opens_the_editor_at_the_answer_line(
    settings: Settings, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[list[str]] = []

    def fake_run(argv: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setenv("EDITOR", "nvim --clean")
    monkeypatch.setattr("assistant.present.editor.subprocess.run", fake_run)
    app = make_app(settings, backend)
    suspended: list[bool] = []

    @contextlib.contextmanager
    def fake_suspend() -> Any:
        suspended.append(True)
        yield

    monkeypatch.setattr(app, "suspend", fake_suspend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await pilot.pause()
        # Not the passage's first line (11): the answer's, the table row under the "Price" header.
        hit = app.chat.log_view.hit_cards()[0].hit
        assert (hit.chunk.start_line, hit.answer.start_line) == (11, 15)
        assert runs == [["nvim", "--clean", "+15", str(settings.corpus_dir / "lambda.md")]]
        assert suspended == [True]
        assert not isinstance(app.screen, NoteViewer)


async def test_o_without_editor_opens_the_viewer(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        viewer = app.screen
        assert isinstance(viewer, NoteViewer)
        assert viewer.chunk.citation == "lambda.md:11-16"
        await pilot.pause()
        rows = viewer.note_view.visible_text()
        assert rows[0].startswith(" 1 │ # AWS Lambda")
        assert " 9 │ ## Pricing" in rows
        assert any(row.startswith("11 ▌ You pay per request") for row in rows)
        assert any(row.startswith("16 ▌ | Duration | billed per GB-second |") for row in rows)
        assert any(row.startswith("17 │") for row in rows)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, NoteViewer))


async def test_viewer_scrolls_a_long_note_to_the_passage(settings: Settings, backend: FakeBackend) -> None:
    lines = [f"line {n} of filler" for n in range(1, 3001)]
    lines[2119:2122] = ["the passage starts", "lambda memory " + "and more words " * 20, "the passage ends"]
    (settings.corpus_dir / "long.md").write_text("\n".join(lines) + "\n")
    chunk = Chunk("long.md", ("Long",), 2120, 2122, "\n".join(lines[2119:2122]))
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        app.show_viewer(chunk, ["memory"])
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        viewer = app.screen
        assert isinstance(viewer, NoteViewer)
        view = viewer.note_view
        await wait_until(pilot, lambda: view.scroll_y > 0)
        rows = view.visible_text()
        assert rows[0].startswith("2117 │ line 2117 of filler"), "the passage opens three lines below the top"
        assert rows[3].startswith("2120 ▌ the passage starts")
        assert rows[4].startswith("2121 ▌ lambda memory and more words")
        assert rows[5].startswith("     ▌ "), "a long line wraps under its text, not under the numbers"
        assert any(row.startswith("2122 ▌ the passage ends") for row in rows)
        await pilot.press("pagedown", "g")
        await pilot.pause()
        assert view.visible_text()[0].startswith("2117 │")


async def test_viewer_reports_a_missing_note(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        (settings.corpus_dir / "lambda.md").unlink()
        await pilot.press("tab", "o")
        await pilot.pause()
        assert not isinstance(app.screen, NoteViewer)
        assert any("Couldn't read lambda.md" in str(n.message) for n in app._notifications)


async def test_c_copies_the_citation(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "j", "c")
        assert app.clipboard == "lambda.md:11-16"
        assert any("copy lambda.md:11-16" in str(n.message) for n in app._notifications)


async def test_o_and_c_need_a_selection(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.action_copy_citation()
        app.action_open_selected()
        assert app.clipboard == ""
        assert not isinstance(app.screen, NoteViewer)


async def test_help_screen(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Ctrl+L" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await ask(pilot, "lambda")
        await pilot.press("tab", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_typing_question_mark_in_the_box_is_text(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w", "h", "y", "question_mark", "o", "c", "f", "F", "j", "k")
        assert app.chat.question_input.value == "why?ocfFjk"
        assert not isinstance(app.screen, HelpScreen)


async def test_weak_match_says_so_and_still_shows_passages(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "banana bread recipe")
        card = app.chat.log_view.answer_cards()[-1]
        assert card.strength is not None and not card.strength.strong
        assert card.has_class("-weak")
        assert len(card.cards()) == 5
        assert "No strong match in your notes" in screen_text(app)


async def test_question_before_the_index_is_ready_is_answered_when_it_is(
    settings: Settings, backend: FakeBackend, searcher: FakeSearcher
) -> None:
    backend.release.clear()
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.chat.status_line.state == "opening…"
        await pilot.press(*"lambda max memory", "enter")
        await pilot.pause()
        card = app.chat.log_view.answer_cards()[-1]
        assert "Waiting for the index" in str(card._meta_line.render())
        assert searcher.calls == []
        backend.release.set()
        await wait_until(pilot, lambda: len(card.cards()) == 5)
        assert searcher.calls[0]["query"] == "lambda max memory"


async def test_missing_index_is_built_in_the_background(settings: Settings, searcher: FakeSearcher) -> None:
    backend = FakeBackend(searcher, missing=True)
    messages: list[Message] = []
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await pilot.press(*"lambda", "enter")
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages))
        await wait_until(pilot, lambda: len(app.query(HitCard)) == 5)
        assert backend.refreshes == 1
        assert app.chat.status_line.state == "ready"
        assert not app.chat.has_class("-indexing")


async def test_saved_note_reindexes_and_the_next_question_waits_for_it(
    settings: Settings, backend: FakeBackend
) -> None:
    backend.changes = [{"lambda.md"}]
    messages: list[Message] = []
    app = make_app(settings, backend, watch=True)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages))
        changed = [m for m in messages if isinstance(m, NotesChanged)]
        assert changed and changed[0].paths == {"lambda.md"}
        assert backend.refreshes == 1
        await ask(pilot, "lambda")
    assert app._stop_watching is not None and app._stop_watching.is_set()


async def test_reindex_from_the_palette_holds_questions(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    titles = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None and not app._index_busy)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        app.action_reindex()
        await wait_until(pilot, lambda: backend.refreshes == 1 and not app._index_busy)
        await ask(pilot, "lambda")
    assert {"Re-index notes", "Search mode: dense", "Search mode: bm25", "Results per question: 10"} <= set(titles)


async def test_mode_and_result_count_apply_to_the_next_question(
    settings: Settings, backend: FakeBackend, searcher: FakeSearcher
) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.action_set_mode("bm25")
        app.action_set_k(3)
        await ask(pilot, "lambda pricing")
        assert searcher.calls[-1]["mode"] == "bm25" and searcher.calls[-1]["k"] == 3
        assert app.chat.status_line.mode == "bm25" and app.chat.status_line.k == 3
        assert "bm25 k=3" in screen_text(app)


async def test_search_problems_are_shown_not_raised(
    settings: Settings, backend: FakeBackend, searcher: FakeSearcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise UsageProblem("no notes match --file 'x'", "pick another note")

    monkeypatch.setattr(searcher, "search", broken)
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        card = app.chat.log_view.answer_cards()[-1]
        assert card.has_class("-failed")
        assert "pick another note" in str(card._meta_line.render())


def test_engine_backend_watcher_reports_saved_notes_and_stops(settings: Settings) -> None:
    """The real watchfiles watcher: note files only, relative paths, and it stops when told to."""
    backend = EngineBackend(settings, debounce_ms=50)
    stop = threading.Event()
    seen: list[set[str]] = []
    ready = threading.Event()

    def run() -> None:
        ready.set()
        for changes in backend.watch(stop):
            seen.append(changes)
            stop.set()

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait(2)
    deadline = threading.Event()
    for _ in range(40):  # the watcher needs a moment to start; keep saving until it sees one
        (settings.corpus_dir / ".#lock.md").write_text("editor lock file")
        (settings.corpus_dir / "ignored.tmp").write_text("not a note")
        (settings.corpus_dir / "lambda.md").write_text("# Lambda\n\nchanged\n")
        if deadline.wait(0.1) or seen:
            break
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert seen and seen[0] == {"lambda.md"}


def test_app_modules_import_no_retrieval_libraries() -> None:
    code = (
        "import sys, assistant.tui.app, assistant.tui;"
        "heavy = [m for m in ('faiss', 'torch', 'sentence_transformers', 'bm25s') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_passage_cut_from_inside_a_nested_list_opens_as_a_list(settings: Settings) -> None:
    """Its lines start indented; Markdown would read four spaces as a code block, so they are dedented."""
    text = "    * NAT gateway bandwidth: 5 Gbps, scales to 45 Gbps\n      * no security group to configure"
    searcher = FakeSearcher([Chunk("vpc.md", ("VPC", "NAT"), 10, 11, text)])
    app = make_app(settings, FakeBackend(searcher))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "nat gateway bandwidth")
        card = app.query_one(HitCard)
        assert card.expanded
        shown = screen_text(app)
        assert "• NAT gateway bandwidth: 5 Gbps, scales to 45 Gbps" in shown
        assert "* NAT gateway" not in shown  # not shown as source in a code block
