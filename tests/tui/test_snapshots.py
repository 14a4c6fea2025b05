"""Snapshots of the chat app's main states, at a fixed 100x32 terminal unless a test says otherwise, on
the real engine over the small notes folder (the stand-in model handed to the Engine, so scores are the
same on every machine).

Few and deliberate (STYLE §10): an answer, a follow-up with a card selected, an honest weak answer,
the note viewer, the note picker filtered by typing, the screen shown when there is no notes folder
(at 80, 120 and 200 columns), and a piece of a long table under its header at two sizes. Read the diff report before
`--snapshot-update`, and look at the new SVGs: each must show what its test's name says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from assistant.config import Mode, Settings
from assistant.engine import Engine
from assistant.retrieve.results import SearchResponse
from assistant.tui.app import NotesApp
from assistant.tui.screens.file_picker import FilePicker
from assistant.tui.screens.no_notes import NoNotesScreen
from assistant.tui.screens.viewer import NoteViewer
from tests.conftest import FakeEmbedder
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, chat_app, engine_for
from tests.tui.helpers import ask, index_settled, wait_until

SIZE = (100, 32)
SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[None]], Awaitable[None]]


class SteadyEngine(Engine):
    """The real engine, with each search's time set to 0: the one thing on screen that would differ
    from run to run ("hybrid · 5 passages · 2 ms")."""

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        file: str | None = None,
        context: str | None = None,
    ) -> SearchResponse:
        response = super().search(question, k=k, mode=mode, file=file, context=context)
        return dataclasses.replace(response, seconds=0.0)


def steady(settings: Settings) -> SteadyEngine:
    """`SteadyEngine` over the settings' notes and index, with the stand-in model, the index built."""
    model = FakeEmbedder()
    engine = SteadyEngine(settings, embedder=model, encoder=model)
    engine.build()
    return engine


def relative_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings naming ./corpus and ./index from tmp_path, so the status line reads the same on every machine."""
    monkeypatch.chdir(tmp_path)
    return Settings(corpus_dir=Path("corpus"), index_dir=Path("index"), model=FAKE_MODEL)


@pytest.fixture
def snapshot_app(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NotesApp:
    settings = relative_settings(tmp_path, monkeypatch)
    return chat_app(settings, steady(settings))


def asking(*questions: str, keys: tuple[str, ...] = ()) -> RunBefore:
    async def run_before(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app, NotesApp) and index_settled(pilot.app))
        for question in questions:
            await ask(pilot, question)
        if keys:
            await pilot.press(*keys)
        await pilot.pause(0.1)

    return run_before


def test_answer_with_top_card_open(snap_compare: SnapCompare, snapshot_app: NotesApp) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=asking("lambda max memory"))


def test_follow_up_with_second_card_selected(snap_compare: SnapCompare, snapshot_app: NotesApp) -> None:
    run_before = asking("lambda max memory", "and the timeout?", keys=("tab", "tab"))
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


def test_no_strong_match(snap_compare: SnapCompare, snapshot_app: NotesApp) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=asking("banana bread recipe"))


def test_note_viewer(snap_compare: SnapCompare, snapshot_app: NotesApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, NoteViewer))
        await pilot.pause(0.1)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


def test_note_picker_filtered(snap_compare: SnapCompare, snapshot_app: NotesApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker))
        await pilot.press(*".md")
        await pilot.pause(0.1)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (200, 40)], ids=["80x24", "120x30", "200x40"])
def test_no_notes_folder(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """The three ways to point the app at notes, each "when" on its command's line, at 80 to 200 columns."""
    # Paths under the home folder are shown as ~/…: the same on every machine.
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = relative_settings(tmp_path, monkeypatch)
    app = chat_app(settings, engine_for(settings))

    async def run_before(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, NoNotesScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def storage_classes_by_region() -> str:
    """A note with one long table (36 rows), which the chunker cuts into pieces: the passage that
    answers starts inside the table and is shown under the table's header row. (Its heading says
    "per region", not "by region": the stand-in model hashes "by" and "deep" to one dimension, so
    every row would match the question's "deep" through its heading.)"""
    classes = [
        ("S3 Standard", "99.99%", "none", "none", "Frequently accessed data"),
        ("S3 Standard-IA", "99.9%", "30 days", "per GB", "Backups read now and then"),
        ("S3 One Zone-IA", "99.5%", "30 days", "per GB", "Copies you can recreate"),
        ("Glacier Instant Retrieval", "99.9%", "90 days", "per GB", "Archives read once a quarter"),
        ("Glacier Flexible Retrieval", "99.99%", "90 days", "per GB", "Archives read in hours"),
        ("Glacier Deep Archive", "99.99%", "180 days", "per GB", "Archives kept for years"),
    ]
    regions = ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1", "ca-central-1", "af-south-1"]
    header = "| Storage class | Region | Availability | Min storage duration | Retrieval fee | Typical use |"
    rows = [
        f"| {name} | {region} | {rest[0]} | {rest[1]} | {rest[2]} | {rest[3]} |"
        for region in regions
        for name, *rest in classes
    ]
    return "\n".join(
        ["# Amazon S3", "", "## Storage classes per region", "", header, "|---|---|---|---|---|---|", *rows, ""]
    )


@pytest.fixture
def table_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NotesApp:
    write_notes(tmp_path / "corpus", {"s3-classes.md": storage_classes_by_region()})
    settings = relative_settings(tmp_path, monkeypatch)
    return chat_app(settings, steady(settings))


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_a_table_piece_under_its_header(snap_compare: SnapCompare, table_app: NotesApp, size: tuple[int, int]) -> None:
    """The passage cut from inside the long table shows the table's header row, its answer row
    (Glacier Deep Archive in sa-east-1) emphasised and in view; at 80 columns the table is too wide,
    so each row reads as `header: value` lines instead of cells cut to "…", and the card is taller than
    the screen: its citation and heading stay stuck at the top, the answer record just under them."""
    question = "glacier deep archive min storage duration sa-east-1"
    assert snap_compare(table_app, terminal_size=size, run_before=asking(question))
