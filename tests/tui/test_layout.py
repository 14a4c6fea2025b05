"""Issue 26, the app: what must be on screen, and on which line, for the reader.

The built-in viewer opens with the passage's first line in view (not only its answer line), on a long
note where the passage is far down and on one where it is near the top; a result card scrolled to its
answer line keeps its citation and heading in view; the no-notes screen keeps "this time" on its
command's line from 80 to 200 columns. Pilot tests: rows read off the screen, not pixels (the
snapshots of the same screens are in test_snapshots.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.notes.chunk import Chunk
from assistant.tui.app import NotesApp
from assistant.tui.screens.no_notes import NoNotesScreen
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.note_view import LEAD_IN, NoteView
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, chat_app, engine_for, indexed
from tests.tui.helpers import ask, index_settled, latest_card, screen_text, title_text, wait_until

SIZE = (100, 32)


def numbered_row(rows: list[str], line: int) -> int | None:
    """Which visible row shows the start of note line `line` (None: not on screen)."""
    for index, row in enumerate(rows):
        label = row.split(maxsplit=1)[0] if row.strip() else ""
        if label == str(line):
            return index
    return None


def long_note(path: Path, passage: tuple[int, int], answer: int, total: int = 3000) -> Chunk:
    """A note of `total` filler lines with a passage marked at `passage` (1-based, inclusive) and its
    answer line at `answer`; the chunk the viewer is opened on."""
    lines = [f"line {n} of filler" for n in range(1, total + 1)]
    first, last = passage
    lines[first - 1] = "## The passage starts here"
    lines[answer - 1] = "the answer: lambda memory " + "and more words " * 12
    path.write_text("\n".join(lines) + "\n")
    return Chunk(path.name, ("Long", "The passage"), first, last, "\n".join(lines[first - 1 : last]))


async def opened_rows(app: NotesApp, chunk: Chunk, answer: int) -> tuple[NoteView, list[str]]:
    """Open the viewer on `chunk` at its answer line, and the rows it settles on."""
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: index_settled(app))  # the new note is indexed first: no work at exit
        app.passages.show_viewer(chunk, ["memory"], line=answer)
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        viewer = app.screen
        assert isinstance(viewer, NoteViewer)
        view = viewer.note_view
        # The view scrolls once its rows are laid out (it tries again until they are): wait for that.
        await wait_until(pilot, lambda: numbered_row(view.visible_text(), answer) is not None)
        await pilot.pause(0.05)
        return view, view.visible_text()


@pytest.mark.parametrize(
    ("passage", "answer"),
    [((2100, 2125), 2112), ((2, 12), 10)],
    ids=["far-down", "near-the-top"],
)
async def test_viewer_opens_with_the_passages_first_line_in_view(
    settings: Settings, app: NotesApp, passage: tuple[int, int], answer: int
) -> None:
    """Issue 26: the view opened with the answer line three rows below the top, so a passage whose
    answer is further in than that had its first line (its heading) above the top."""
    chunk = long_note(settings.corpus_dir / "long.md", passage, answer)
    view, rows = await opened_rows(app, chunk, answer)
    first_row = numbered_row(rows, passage[0])
    answer_row = numbered_row(rows, answer)
    assert first_row is not None, f"line {passage[0]} (the passage's first) is not on screen: {rows[:3]}"
    assert answer_row is not None and answer_row > first_row
    # Consistently near the top: LEAD_IN lines of what comes before, when there are that many.
    assert first_row == min(LEAD_IN, passage[0] - 1)
    assert "▌" in rows[first_row], "the passage's first line is marked"
    if first_row:
        assert "▌" not in rows[first_row - 1], "the line above it is not"
    assert view.scroll_y == max(0, passage[0] - 1 - LEAD_IN)


async def test_a_passage_taller_than_the_view_opens_with_its_answer_line_in_view(
    settings: Settings, app: NotesApp
) -> None:
    """The answer line wins when both can't be on screen: the view scrolls only as far as shows it,
    with two lines after it (the viewer's title names the passage)."""
    passage, answer = (1000, 1100), 1080
    chunk = long_note(settings.corpus_dir / "long.md", passage, answer)
    view, rows = await opened_rows(app, chunk, answer)
    answer_row = numbered_row(rows, answer)
    assert numbered_row(rows, passage[0]) is None
    assert answer_row is not None
    below = [row for row in rows[answer_row + 1 :] if row.split(maxsplit=1)[0].isdigit()]
    assert len(below) == 2, "two lines after the answer line, no more: the view scrolled only as far as needed"


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_no_notes_screen_keeps_each_way_on_its_commands_line(tmp_path: Path, width: int) -> None:
    """Each "when" stays on the line of its command, and the config file is named in full, at every width."""
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", model=FAKE_MODEL)
    app = chat_app(settings, engine_for(settings))
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, NoNotesScreen))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NoNotesScreen)
        lines = screen_text(app).split("\n")
        for when, command in [
            ("this time", "notes --corpus ~/notes"),
            ("in this shell", "export NOTES_CORPUS=~/notes"),
            ("from now on", 'corpus = "~/notes"'),
        ]:
            shown = [line for line in lines if when in line]
            assert len(shown) == 1 and command in shown[0], f"{when!r} apart from {command!r} at {width}: {shown}"
            assert shown[0].index(when) < shown[0].index(command)
        config = next(index for index, line in enumerate(lines) if "from now on" in line) + 1
        assert screen.config_file[:40] in lines[config], "the config file's path on the line under its setting"


STEPS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
TALL_NOTE = "\n".join(
    [
        "# Amazon SQS",
        "",
        "## Queue settings",
        "",
        "Things to set on a new queue:",
        "",
        *(
            f"- Step {n}: check the {word} settings of the console before you continue."
            for n, word in enumerate(STEPS, 1)
        ),
        "",
        "Message retention period: 4 days by default, from 60 seconds up to 14 days.",
        "",
        "- Visibility timeout: 30 seconds by default.",
        "",
    ]
)
"""One passage taller than a small terminal, its answer line (retention) near its end."""
ANSWER_TEXT = "Message retention period: 4 days by default"


@pytest.fixture
def tall_app(tmp_path: Path) -> NotesApp:
    notes = write_notes(tmp_path / "corpus", {"sqs.md": TALL_NOTE, "other.md": "# Other\n\nNothing on queues.\n"})
    settings = Settings(corpus_dir=notes, index_dir=tmp_path / "index", model=FAKE_MODEL)
    return chat_app(settings, indexed(settings))


def row_of(lines: list[str], text: str) -> int:
    rows = [index for index, line in enumerate(lines) if text in line]
    assert rows, f"{text!r} is not on screen"
    return rows[0]


async def test_a_tall_card_keeps_its_citation_and_heading_above_its_answer_line(tall_app: NotesApp) -> None:
    """80x24: the card is taller than the conversation's view. Scrolled to its answer line, its citation
    and heading path stay on screen, stuck at the view's top, the answer line just under them; moving
    to the next card and back scrolls the same way; scrolling up puts the header back in its place."""
    async with tall_app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, "sqs message retention period")
        card = latest_card(tall_app).cards()[0]
        assert (card.hit.chunk.citation, card.hit.answer.start_line) == ("sqs.md:1-26", 24)
        await pilot.pause(0.1)

        def check_stuck() -> None:
            lines = screen_text(tall_app).split("\n")
            assert "Things to set on a new queue" not in "\n".join(lines), "the card's top is scrolled away"
            citation, heading = row_of(lines, title_text(card)[3:].strip()), row_of(lines, "Amazon SQS › Queue")
            answer = row_of(lines, ANSWER_TEXT)
            assert citation < heading < answer, lines
            assert citation == tall_app.chat.log_view.scrollable_content_region.y, "stuck at the view's top"
            assert card.header.has_class("-stuck")

        check_stuck()
        await pilot.press("tab", "tab", "shift+tab")
        await wait_until(pilot, lambda: tall_app.screen.focused is card)
        await pilot.pause(0.1)
        check_stuck()
        await pilot.press("pageup", "pageup")
        await pilot.pause(0.1)
        lines = screen_text(tall_app).split("\n")
        assert row_of(lines, "Amazon SQS › Queue") + 2 == row_of(lines, "Things to set on a new queue")
        assert not card.header.has_class("-stuck")


async def test_a_card_that_fits_is_shown_from_its_top(tall_app: NotesApp) -> None:
    """80x50: the card, from its top to its answer line, fits in the view: it is scrolled into view whole
    from its top, the question above it still on screen, nothing stuck."""
    async with tall_app.run_test(size=(80, 50)) as pilot:
        await ask(pilot, "sqs message retention period")
        card = latest_card(tall_app).cards()[0]
        await pilot.pause(0.1)
        lines = screen_text(tall_app).split("\n")
        question = row_of(lines, "❯ sqs message retention period")
        assert question < row_of(lines, "sqs.md:1-26") < row_of(lines, "Things to set on a new queue")
        assert row_of(lines, ANSWER_TEXT) < 50
        assert not card.header.has_class("-stuck")


TALL_TEXT_NOTE = "\n".join(
    [
        "Queue settings",
        "",
        *(f"then check the {word} settings of the console before you go on" for word in STEPS),
        "",
        "the message retention period is 4 days by default, from 60 seconds up to 14 days",
        "the visibility timeout is 30 seconds by default",
        "",
    ]
)
"""The same as a plain-text note: its passage is shown line for line, not as Markdown blocks."""


async def test_a_tall_plain_text_card_is_scrolled_to_its_answer_with_its_citation(tmp_path: Path) -> None:
    """A .txt passage has no Markdown block to scroll to: its answer line's row is counted as the card
    wraps its lines. At 80x24 the answer line and the stuck citation and heading are on screen."""
    notes = write_notes(tmp_path / "corpus", {"sqs.txt": TALL_TEXT_NOTE, "other.md": "# Other\n\nNothing.\n"})
    settings = Settings(corpus_dir=notes, index_dir=tmp_path / "index", model=FAKE_MODEL)
    app = chat_app(settings, indexed(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, "message retention period")
        card = latest_card(app).cards()[0]
        assert (card.hit.chunk.citation, card.hit.answer.start_line) == ("sqs.txt:1-21", 20)
        await pilot.pause(0.1)
        lines = screen_text(app).split("\n")
        assert "then check the alpha settings" not in "\n".join(lines), "the card's top is scrolled away"
        assert row_of(lines, "sqs.txt:1-21") < row_of(lines, "the message retention period is 4 days")
        assert card.header.has_class("-stuck")
