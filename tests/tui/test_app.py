"""Pilot tests of the chat app on the real engine: state and messages, not pixels (STYLE §10)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.message import Message

from assistant.config import Settings
from assistant.engine import Engine
from assistant.notes.chunk import Chunk
from assistant.present.render import openable_path
from assistant.retrieve.score import shown
from assistant.tui.app import NotesApp
from assistant.tui.messages import IndexReloaded, NotesChanged, SearchFinished
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, NOTES, chat_app, engine_for, indexed
from tests.tui.helpers import (
    ask,
    card_number,
    index_settled,
    latest_card,
    meta_text,
    notifications,
    screen_text,
    wait_until,
)

SIZE = (100, 32)


async def test_asking_shows_ranked_cards(settings: Settings, engine: Engine) -> None:
    messages: list[Message] = []
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        await pilot.press(*"lambda max memory")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(HitCard)) == 5)
        finished = [m for m in messages if isinstance(m, SearchFinished)]
        assert len(finished) == 1
        assert finished[0].response.query == "lambda max memory"
        assert finished[0].response.strength.strong
        cards = list(app.query(HitCard))
        assert [card.hit.rank for card in cards] == [1, 2, 3, 4, 5]
        assert cards[0].citation == "lambda.md:1-7"
        assert cards[0].hit.answer.start_line == 5, "the memory line answers"
        assert cards[0].expanded and not any(card.expanded for card in cards[1:])
        assert app.chat.question_input.value == ""
        assert app.chat.question_input.has_focus
        status = app.chat.status_line
        assert (status.files, status.chunks, status.model, status.state) == (3, 5, FAKE_MODEL, "ready")
        text = screen_text(app)
        assert "lambda.md:1-7" in text and "AWS Lambda › Limits" in text


async def test_cards_show_the_one_score(settings: Settings, engine: Engine) -> None:
    """The number on each card is the result's one score, as `notes ask` and its JSON show it, and it
    never rises down the list (issue 26)."""
    expected = engine.search("lambda max memory")
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        cards = latest_card(app).cards()
        assert [card.citation for card in cards] == [hit.chunk.citation for hit in expected.hits]
        numbers = [card_number(card) for card in cards]
        assert numbers == [shown(hit.score) for hit in expected.hits]
        assert [float(number) for number in numbers] == sorted((float(n) for n in numbers), reverse=True)
        assert numbers[:2] == ["0.33", "0.23"]


async def test_bm25_cards_show_the_share_of_the_question_s_words(settings: Settings, engine: Engine) -> None:
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.action_set_mode("bm25")
        await ask(pilot, "lambda pricing")
        response = latest_card(app).response
        assert response is not None and response.mode == "bm25"
        top = latest_card(app).cards()[0]
        assert top.citation == "lambda.md:9-16"
        # A BM25-only search has no question vector: its one score is the share of the question's words.
        assert card_number(top) == shown(response.hits[0].score) == "1.00"


async def test_up_and_down_recall_earlier_questions(app: NotesApp) -> None:
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


async def test_tab_and_jk_move_between_cards(settings: Settings, engine: Engine) -> None:
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
        latest = latest_card(app).cards()
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


async def test_enter_pins_a_card_open(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        cards = app.chat.log_view.hit_cards()
        await pilot.press("tab", "tab", "enter", "tab")
        assert cards[1].expanded and cards[2].expanded


async def test_follow_up_is_searched_in_context(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "and the timeout?")
        card = latest_card(app)
        assert card.response is not None
        assert card.response.query == "and the timeout?"
        assert (card.response.searched, card.response.rewrites) == ("lambda timeout", ("follow-up",))
        top = card.cards()[0].hit
        assert (top.chunk.citation, top.answer.start_line) == ("lambda.md:1-7", 6), "the timeout line answers"
        assert "searched: lambda timeout" in screen_text(app)
        await ask(pilot, "what is a nacl")
        response = latest_card(app).response
        assert response is not None and not response.rewritten
        assert "searched:" not in meta_text(latest_card(app))


async def test_clear_forgets_the_conversation(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not app.chat.log_view.answer_cards()
        assert app.query_one("#welcome")
        await ask(pilot, "and the timeout?")
        response = latest_card(app).response
        assert response is not None and not response.rewritten, "nothing before it to follow up on"


async def test_file_filter_restricts_answers(settings: Settings, app: NotesApp) -> None:
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
        card = latest_card(app)
        assert card.response is not None
        assert [hit.chunk.citation for hit in card.response.hits] == ["s3.md:11-13", "s3.md:1-9"]
        assert "in s3.md" in meta_text(card)
        await pilot.press("tab", "F")
        assert app.file_filter is None
        await ask(pilot, "maximum size")
        response = latest_card(app).response
        assert response is not None and len({hit.chunk.file for hit in response.hits}) == 3


@pytest.mark.parametrize("working_folder", [".", "corpus/sub"], ids=["outside", "inside-the-notes"])
async def test_the_chosen_note_alone_answers(
    tmp_path: Path, working_folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note chosen with `f` is taken literally: `notes [draft]*.md` is not a glob that also matches
    `notes d.md`, and a working folder inside the notes folder does not move it."""
    lambda_note = NOTES["lambda.md"]
    notes = {"notes [draft]*.md": lambda_note, "notes d.md": lambda_note, "sub/other.md": lambda_note}
    corpus = write_notes(tmp_path / "corpus", notes)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)
    monkeypatch.chdir(tmp_path / working_folder)
    app = chat_app(settings, indexed(settings))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.file_filter = "notes [draft]*.md"
        await ask(pilot, "lambda")
        response = latest_card(app).response
        assert response is not None and response.hits
        assert {hit.chunk.file for hit in response.hits} == {"notes [draft]*.md"}


async def test_picker_cancel_keeps_the_filter(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilePicker))
        assert app.file_filter is None


async def test_o_opens_the_editor_at_the_answer_line(
    settings: Settings, app: NotesApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[list[str]] = []

    def editor_process(argv: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setenv("EDITOR", "nvim --clean")
    monkeypatch.setattr("assistant.present.editor.subprocess.run", editor_process)
    suspended: list[bool] = []

    @contextlib.contextmanager
    def no_suspend() -> Iterator[None]:
        suspended.append(True)
        yield

    monkeypatch.setattr(app, "suspend", no_suspend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await pilot.pause()
        # Not the passage's first line (9): the answer's, the table row the searcher chose.
        hit = app.chat.log_view.hit_cards()[0].hit
        assert (hit.chunk.start_line, hit.answer.start_line) == (9, 16)
        assert runs == [["nvim", "--clean", "+16", str(settings.corpus_dir / "lambda.md")]]
        assert suspended == [True]
        assert not isinstance(app.screen, NoteViewer)


async def test_o_without_editor_opens_the_viewer(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        viewer = app.screen
        assert isinstance(viewer, NoteViewer)
        assert viewer.chunk.citation == "lambda.md:9-16"
        await pilot.pause()
        rows = viewer.note_view.visible_text()
        assert rows[0].startswith(" 1 │ # AWS Lambda")
        assert " 8 │" in rows
        assert " 9 ▌ ## Pricing" in rows
        assert any(row.startswith("11 ▌ You pay per request") for row in rows)
        assert any(row.startswith("16 ▌ | Duration | billed per GB-second |") for row in rows)
        assert any(row.startswith("17 │") for row in rows)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, NoteViewer))


async def test_viewer_scrolls_a_long_note_to_the_passage(settings: Settings, app: NotesApp) -> None:
    lines = [f"line {n} of filler" for n in range(1, 3001)]
    lines[2119:2122] = ["the passage starts", "lambda memory " + "and more words " * 20, "the passage ends"]
    (settings.corpus_dir / "long.md").write_text("\n".join(lines) + "\n")
    chunk = Chunk("long.md", ("Long",), 2120, 2122, "\n".join(lines[2119:2122]))
    async with app.run_test(size=SIZE) as pilot:
        app.passages.show_viewer(chunk, ["memory"])
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        viewer = app.screen
        assert isinstance(viewer, NoteViewer)
        view = viewer.note_view
        # Scrolling waits for the rows to be laid out (scroll_to_passage tries again): wait for where it ends.
        await wait_until(pilot, lambda: view.visible_text()[0].startswith("2117 "))
        rows = view.visible_text()
        assert rows[0].startswith("2117 │ line 2117 of filler"), "the passage opens three lines below the top"
        assert rows[3].startswith("2120 ▌ the passage starts")
        assert rows[4].startswith("2121 ▌ lambda memory and more words")
        assert rows[5].startswith("     ▌ "), "a long line wraps under its text, not under the numbers"
        assert any(row.startswith("2122 ▌ the passage ends") for row in rows)
        await pilot.press("pagedown", "g")
        await pilot.pause()
        assert view.visible_text()[0].startswith("2117 │")


async def test_viewer_reports_a_missing_note(settings: Settings, app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        top = latest_card(app).cards()[0]
        (settings.corpus_dir / top.hit.chunk.file).unlink()
        await pilot.press("tab", "o")
        await pilot.pause()
        assert not isinstance(app.screen, NoteViewer)
        assert any(f"Couldn't read {top.hit.chunk.file}" in text for text in notifications(app))


async def test_c_copies_the_answer_as_path_line_from_here_and_shift_c_the_passage(app: NotesApp) -> None:
    """Issue 26: `c` copies the answer line as `path:LINE`, a path that opens from the folder `notes` was
    started in (not the notes folder), so `vim +LINE path` or an editor taking `path:LINE` opens it;
    `C` copies the passage's own lines."""
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "j", "c")
        hit = latest_card(app).cards()[1].hit
        expected = f"{openable_path(app.settings.corpus_dir, hit.chunk.file)}:{hit.answer.start_line}"
        assert app.clipboard == expected
        opened = Path.cwd() / expected.rsplit(":", 1)[0]
        assert opened.is_file() and opened.resolve() == (app.settings.corpus_dir / hit.chunk.file).resolve()
        assert any(f"copy {expected}" in text for text in notifications(app))
        await pilot.press("C")
        assert app.clipboard == hit.chunk.text


async def test_o_and_c_need_a_selection(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.action_copy_citation()
        app.action_open_selected()
        await pilot.pause()
        assert app.clipboard == ""
        assert not isinstance(app.screen, NoteViewer)
        assert notifications(app) == ["Select a result first (Tab)"] * 2


async def test_help_screen(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Ctrl+L" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await ask(pilot, "lambda")
        await pilot.press("tab", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_typing_question_mark_in_the_box_is_text(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w", "h", "y", "question_mark", "o", "c", "f", "F", "j", "k")
        assert app.chat.question_input.value == "why?ocfFjk"
        assert not isinstance(app.screen, HelpScreen)


async def test_weak_match_says_so_and_still_shows_passages(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "banana bread recipe")
        card = latest_card(app)
        assert card.response is not None
        assert card.response.strength.reason == "the closest passage is only 0.14 similar"
        assert card.has_class("-weak")
        assert len(card.cards()) == 5
        assert card_number(card.cards()[0]) == "0.14", "the card shows the number the verdict names"
        assert "No strong match in your notes (the closest passage is only 0.14 similar)" in screen_text(app)


async def test_missing_index_is_built_in_the_background(settings: Settings) -> None:
    engine = engine_for(settings)
    messages: list[Message] = []
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await pilot.press(*"lambda", "enter")
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages))
        await wait_until(pilot, lambda: len(app.query(HitCard)) == 5)
        [reloaded] = [m for m in messages if isinstance(m, IndexReloaded)]
        assert reloaded.summary.startswith("index built: 3 files, 5 chunks (5 embedded, 0 reused)")
        assert app.chat.status_line.state == "ready"
        assert not app.chat.has_class("-indexing")
        assert engine.freshness().fresh


async def test_saved_note_reindexes_and_the_next_question_sees_it(settings: Settings, engine: Engine) -> None:
    """The real watcher: a saved note is re-indexed while the app is open, and then answers."""
    messages: list[Message] = []
    app = chat_app(settings, engine, watch=True)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: index_settled(app))
        note = settings.corpus_dir / "lambda.md"
        for attempt in range(60):  # the watcher needs a moment to start: save until it sees one
            note.write_text(
                NOTES["lambda.md"] + f"\n## Quotas\n\nConcurrency quota: 1000 zanzibar units ({attempt}).\n"
            )
            with contextlib.suppress(AssertionError):
                await wait_until(pilot, lambda: any(isinstance(m, NotesChanged) for m in messages), timeout=1)
                break
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages) and index_settled(app))
        changed = [m for m in messages if isinstance(m, NotesChanged)]
        assert changed[0].paths == {"lambda.md"}
        await ask(pilot, "zanzibar concurrency quota")
        top = latest_card(app).cards()[0].hit
        assert top.chunk.file == "lambda.md" and "zanzibar" in top.chunk.text
    assert app.index.stopped.is_set(), "the watcher was told to stop"


async def test_reindex_from_the_palette_holds_questions(app: NotesApp) -> None:
    messages: list[Message] = []
    titles = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: index_settled(app))
        titles = [command.title for command in app.get_system_commands(app.screen)]
        app.action_reindex()
        await ask(pilot, "lambda")
        events = [m for m in messages if isinstance(m, IndexReloaded | SearchFinished)]
        assert [type(m) for m in events] == [IndexReloaded, SearchFinished], "answered once the re-index is done"
        assert isinstance(events[0], IndexReloaded)
        assert events[0].summary.startswith("index up to date: 3 files, 5 chunks")
    assert {"Re-index notes", "Search mode: dense", "Search mode: bm25", "Results per question: 10"} <= set(titles)


async def test_mode_and_result_count_apply_to_the_next_question(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.action_set_mode("bm25")
        app.action_set_k(3)
        await ask(pilot, "lambda pricing")
        response = latest_card(app).response
        assert response is not None and response.mode == "bm25"
        assert [hit.chunk.citation for hit in response.hits] == ["lambda.md:9-16", "lambda.md:1-7"]
        assert app.chat.status_line.mode == "bm25" and app.chat.status_line.k == 3
        assert "bm25 k=3" in screen_text(app)
        await ask(pilot, "security groups")
        response = latest_card(app).response
        assert response is not None and len(response.hits) <= 3


async def test_search_problems_are_shown_not_raised(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None)
        app.file_filter = "gone.md"  # a note removed since it was chosen
        await ask(pilot, "lambda")
        card = latest_card(app)
        assert card.has_class("-failed")
        assert "gone.md" in meta_text(card)
        assert any("gone.md" in text for text in notifications(app))


def test_the_engine_watcher_reports_saved_notes_and_stops(settings: Settings) -> None:
    """The real watchfiles watcher: note files only, relative paths, and it stops when told to."""
    engine = engine_for(settings)
    stop = threading.Event()
    seen: list[set[str]] = []
    ready = threading.Event()

    def run() -> None:
        ready.set()
        for changes in engine.watch(stop, debounce_ms=50):
            seen.append(changes)
            stop.set()

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait(2)
    pause = threading.Event()
    for _ in range(40):  # the watcher needs a moment to start; keep saving until it sees one
        (settings.corpus_dir / ".#lock.md").write_text("editor lock file")
        (settings.corpus_dir / "ignored.tmp").write_text("not a note")
        (settings.corpus_dir / "lambda.md").write_text("# Lambda\n\nchanged\n")
        if pause.wait(0.1) or seen:
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


async def test_a_passage_cut_from_inside_a_nested_list_opens_as_a_list(tmp_path: Path) -> None:
    """The chunker cuts a long nested list; the piece the answer is in starts indented, and Markdown
    would read four leading spaces as a code block, so the card dedents it."""
    items = ["* Gateways of the VPC, each with its own limits"]
    items += [f"    * gateway {n} routes traffic between subnets and the outside" for n in range(1, 41)]
    items[30:30] = ["    * NAT gateway bandwidth: 5 Gbps, scales to 45 Gbps", "      * no security group to configure"]
    corpus = write_notes(tmp_path / "vpc", {"vpc.md": "# VPC\n\n## Gateways\n\n" + "\n".join(items) + "\n"})
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "vpc-index", model=FAKE_MODEL)
    app = chat_app(settings, indexed(settings))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "nat gateway bandwidth")
        card = app.query_one(HitCard)
        assert card.hit.chunk.text.startswith("    * gateway"), "the passage starts inside the list"
        assert card.expanded
        shown = screen_text(app)
        assert "• NAT gateway bandwidth: 5 Gbps, scales to 45 Gbps" in shown
        assert "* NAT gateway" not in shown  # not shown as source in a code block
