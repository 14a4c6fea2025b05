"""The chat app's progress row and status line say what a build does: "Indexing" a folder that has no
index, "Updating" one whose notes changed, each stage by its name, and a stage with no count as a
pulsing bar (no total)."""

from __future__ import annotations

import re

from textual.message import Message
from textual.widgets import Label

from assistant.config import Settings
from assistant.engine import Engine
from assistant.reporting import BUILD_STAGES, WRITING_STAGE
from assistant.tui.messages import IndexProgressed, IndexReloaded, IndexSettled, RefreshStarted
from tests.conftest import FakeEmbedder, HeldModel
from tests.tui.conftest import chat_app, engine_for
from tests.tui.helpers import wait_until

SIZE = (100, 32)


async def test_a_first_build_says_indexing_and_a_refresh_updating(settings: Settings) -> None:
    messages: list[Message] = []
    app = chat_app(settings, engine_for(settings))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages))
        [started] = [m for m in messages if isinstance(m, RefreshStarted)]
        assert started.verb == "Indexing" and started.state == "indexing (no index yet)"
        assert started.label.startswith("Indexing: no index yet, about ") and started.label.endswith("on this machine")
        progressed = [m for m in messages if isinstance(m, IndexProgressed)]
        assert {m.stage for m in progressed} <= set(BUILD_STAGES)
        assert all(m.label.startswith(f"Indexing: {m.stage}") for m in progressed)
        writing = [m for m in progressed if m.stage == WRITING_STAGE]
        assert writing[0].bar_total is None and writing[0].label == f"Indexing: {WRITING_STAGE}"
        await wait_until(pilot, lambda: any(isinstance(m, IndexSettled) for m in messages))

        messages.clear()
        (settings.corpus_dir / "lambda.md").write_text("# AWS Lambda\n\n## Limits\n\nMemory up to 10 GB.\n")
        app.index.refresh("notes changed")
        await wait_until(pilot, lambda: any(isinstance(m, IndexReloaded) for m in messages))
        [started] = [m for m in messages if isinstance(m, RefreshStarted)]
        assert started.verb == "Updating" and started.label == "Updating: notes changed"
        assert all(m.label.startswith("Updating: ") for m in messages if isinstance(m, IndexProgressed))


async def test_the_progress_row_says_how_long_the_stage_has_taken_and_its_clock_moves_while_it_waits(
    settings: Settings,
) -> None:
    """A stage that sends no progress for a while (the model holds a batch) still shows its clock
    moving, once a second, beside the stage's name and bar; the row goes when the index is in."""
    model = HeldModel()
    app = chat_app(settings, Engine(settings, embedder=model, encoder=FakeEmbedder()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, model.held.is_set)
        times = app.chat.query_one("#index-progress-times", Label)
        await wait_until(pilot, lambda: str(times.render()).endswith("elapsed"))
        first = str(times.render())
        assert re.fullmatch(r"0:0\d elapsed", first), first
        await wait_until(pilot, lambda: str(times.render()) != first, timeout=5)
        assert app.chat.has_class("-indexing")
        model.release.set()
        await wait_until(pilot, lambda: not app.chat.has_class("-indexing"))
