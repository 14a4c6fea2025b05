"""Snapshots of the chat app's main states, at a fixed 100x32 terminal, over the fake searcher.

Few and deliberate (STYLE §10): an answer, a follow-up with a card selected, an honest weak answer,
the note viewer, the note picker filtered by typing, and the screen shown when there is no notes
folder. Read the diff report before `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from assistant.config import Settings
from assistant.tui.app import NotesApp
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.no_notes import NoNotesScreen
from assistant.tui.screens.viewer import NoteViewer
from tests.tui.conftest import FakeBackend, FakeSearcher
from tests.tui.helpers import ask, wait_until

SIZE = (100, 32)
SnapCompare = Callable[..., bool]


@pytest.fixture
def app(corpus: Path, tmp_path: Path, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> NotesApp:
    # A relative notes folder, so the status line reads the same on every machine.
    monkeypatch.chdir(tmp_path)
    settings = Settings(corpus_dir=Path("corpus"), index_dir=Path("index"), model="fake-model")
    return NotesApp(settings, backend, watch_notes=False)


def asking(*questions: str, keys: tuple[str, ...] = ()) -> Callable[[Pilot[None]], Awaitable[Any]]:
    async def run_before(pilot: Pilot[None]) -> None:
        for question in questions:
            await ask(pilot, question)
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


def test_answer_with_top_card_open(snap_compare: SnapCompare, app: NotesApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=asking("lambda max memory"))


def test_follow_up_with_second_card_selected(snap_compare: SnapCompare, app: NotesApp) -> None:
    run_before = asking("lambda max memory", "and the timeout?", keys=("tab", "tab"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_no_strong_match(snap_compare: SnapCompare, app: NotesApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=asking("banana bread recipe"))


def test_note_viewer(snap_compare: SnapCompare, app: NotesApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, NoteViewer))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_note_picker_filtered(snap_compare: SnapCompare, app: NotesApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker))
        await pilot.press(*".md")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_no_notes_folder(
    snap_compare: SnapCompare, tmp_path: Path, searcher: FakeSearcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.test_habits import MissingNotes

    # Paths under the home folder are shown as ~/…: the same on every machine.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    settings = Settings(corpus_dir=Path("corpus"), index_dir=Path("index"), model="fake-model")
    app = NotesApp(settings, MissingNotes(searcher), watch_notes=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, NoNotesScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


S3_CLASSES = """\
# Amazon S3

## Storage classes compared

| Storage class | Durability | Availability | Min storage duration | Retrieval fee | Typical use |
|---|---|---|---|---|---|
| S3 Standard | 11 nines | 99.99% | none | none | Frequently accessed data |
| S3 Standard-IA | 11 nines | 99.9% | 30 days | per GB | Backups read now and then |
| S3 One Zone-IA | 11 nines | 99.5% | 30 days | per GB | Copies you can recreate |
| Glacier Instant Retrieval | 11 nines | 99.9% | 90 days | per GB | Archives read once a quarter |
| Glacier Flexible Retrieval | 11 nines | 99.99% | 90 days | per GB | Archives read in hours |
| Glacier Deep Archive | 11 nines | 99.99% | 180 days | per GB | Archives kept for years |
"""


@pytest.fixture
def table_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NotesApp:
    """One note whose wide table the chunker cut in two: the second piece carries the header row."""
    from assistant.notes.chunk import Chunk

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "s3-classes.md").write_text(S3_CLASSES, encoding="utf-8")
    lines = S3_CLASSES.split("\n")
    path = ("Amazon S3", "Storage classes compared")
    header = lines[4]
    chunks = [
        Chunk("s3-classes.md", path, 3, 9, "\n".join(lines[4:9])),
        Chunk("s3-classes.md", path, 10, 12, "\n".join(lines[9:12]), table_header=header),
    ]
    settings = Settings(corpus_dir=Path("corpus"), index_dir=Path("index"), model="fake-model")
    return NotesApp(settings, FakeBackend(FakeSearcher(chunks)), watch_notes=False)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_a_table_piece_under_its_header(snap_compare: SnapCompare, table_app: NotesApp, size: tuple[int, int]) -> None:
    """The piece cut from inside the table shows the table's header row, its answer row (Glacier Deep
    Archive) emphasised and in view; at 80 columns the table is too wide, so each row reads as
    `header: value` lines instead of cells cut to "…"."""
    assert snap_compare(table_app, terminal_size=size, run_before=asking("glacier deep archive min storage duration"))
