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
from tests.tui.conftest import FAKE_MODEL, chat_app, engine_for
from tests.tui.helpers import index_settled, screen_text, wait_until

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
    """Today's bug: the view opened with the answer line three rows below the top, so a passage whose
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
    """The answer line wins when both can't be on screen: the view scrolls only as far as shows it
    (with a little after it), and the title still names the passage."""
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
