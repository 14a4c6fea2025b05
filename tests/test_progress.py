"""Progress that tells the truth (issue 25): every stage named, a callback at least once a model
batch, a build called what it is ("Indexing", "Updating", "Rebuilding"), and a question on a folder
with no index saying about how long it will wait. A slow stand-in model (a fixed sleep per text)
stands for the real one, handed to the Engine's constructor; timings are asserted only coarsely."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.config import resolve_settings
from assistant.engine import Engine
from assistant.reporting import (
    BUILD_STAGES,
    EXPORT_SECONDS,
    EXPORT_STAGE,
    LINES_STAGE,
    PASSAGES_STAGE,
    READING_STAGE,
    UNCOUNTED,
    WRITING_STAGE,
)
from assistant.store.estimate import estimate_build, round_duration
from assistant.store.vectors import MAX_BATCH, MIN_BATCH

from . import messy
from .conftest import REPO
from .test_terminal import CSI, Terminal, child_env


class SlowEmbedder(messy.FakeEmbedder):
    """The 32-d stand-in, `seconds` a text, recording each batch it is handed (when, how many)."""

    def __init__(self, seconds: float = 0.004) -> None:
        super().__init__(name="slow-fake-32")
        self.seconds = seconds
        self.batches: list[tuple[float, int]] = []

        self._inside = False

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not self._inside:  # (the stand-in's passage pass embeds through here too)
            self.batches.append((time.perf_counter(), len(texts)))
            time.sleep(self.seconds * len(texts))
        return super().embed_documents(texts)

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        self.batches.append((time.perf_counter(), len(texts)))
        time.sleep(self.seconds * len(texts))
        self._inside = True
        try:
            return super().embed_documents_with_tokens(texts)
        finally:
            self._inside = False


def many_lines(folder: Path, notes: int = 3, sections: int = 6, lines: int = 12) -> Path:
    """Notes of many short distinct lines (a few hundred line vectors, some dozens of passages)."""
    texts = {}
    for note in range(notes):
        parts = [f"# Topic {note}\n"]
        for section in range(sections):
            parts.append(f"\n## Part {note}.{section}\n\n")
            parts.extend(f"- fact {note} {section} {line} about service{line * 7 + section}\n" for line in range(lines))
        texts[f"topic{note}.md"] = "".join(parts)
    return messy.write_notes(folder, texts)


def test_every_stage_is_named_and_reported_in_order(tmp_path: Path) -> None:
    """The stages a build reports are the named ones, in order; the export is named only when it runs
    (test_encoder_cache.py), and a stage with no count reports UNCOUNTED, then (1, 1)."""
    corpus = many_lines(tmp_path / "notes", notes=2, sections=2, lines=3)
    settings = resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "ix", "model": "fake-hash-32"}).settings
    seen: list[tuple[str, int, int]] = []
    messy.stand_in_engine(settings).build(progress=lambda *call: seen.append(call))
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == [READING_STAGE, PASSAGES_STAGE, LINES_STAGE, WRITING_STAGE]
    assert set(stages) <= set(BUILD_STAGES) and EXPORT_STAGE in BUILD_STAGES
    assert [call for call in seen if call[0] == WRITING_STAGE] == [(WRITING_STAGE, 0, UNCOUNTED), (WRITING_STAGE, 1, 1)]
    assert "one time only" in EXPORT_STAGE and f"about {EXPORT_SECONDS} s" in EXPORT_STAGE
    reading = [done for stage, done, _ in seen if stage == READING_STAGE]
    assert reading == [1, 2], "a callback per note read"


def test_a_callback_comes_after_every_model_batch_and_batches_are_sized_by_time(tmp_path: Path) -> None:
    """With a model at 4 ms a text, no batch waits for 1,024 texts: each is sized to take about half
    a second (at least MIN_BATCH texts), and each is followed by its callback."""
    corpus = many_lines(tmp_path / "notes")
    settings = resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "ix", "model": "slow-fake-32"}).settings
    model = SlowEmbedder()
    events: list[tuple[str, int, int, float]] = []
    record = lambda stage, done, total: events.append((stage, done, total, time.perf_counter()))  # noqa: E731
    report = Engine(settings, embedder=model, encoder=model).build(progress=record)

    lines = [(done, total) for stage, done, total, _ in events if stage == LINES_STAGE]
    assert lines[0] == (0, report.lines_embedded) and lines[-1] == (report.lines_embedded, report.lines_embedded)
    sizes = [done - before for (before, _), (done, _) in zip(lines, lines[1:], strict=False)]
    assert len(sizes) >= 3 and all(MIN_BATCH <= size < MAX_BATCH for size in sizes[:-1]), sizes
    batch_sizes = [count for _, count in model.batches]
    assert sum(batch_sizes) == report.embedded + report.lines_embedded
    assert len(batch_sizes) == len([e for e in events if e[0] in (PASSAGES_STAGE, LINES_STAGE) and e[1] > 0])
    times = [at for stage, done, _, at in events if stage in (PASSAGES_STAGE, LINES_STAGE)]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert max(gaps) < 1.5, f"a bar still for {max(gaps):.2f} s (batches {batch_sizes})"


class ReportingEmbedder(messy.FakeEmbedder):
    """The stand-in, reporting its passes as the ONNX embedder does (`embed.ReportsPasses`): half, then all."""

    def __init__(self) -> None:
        super().__init__(name="reporting-fake-32")
        self.calls_reporting: list[int] = []

    def embed_reporting(
        self, texts: Sequence[str], *, tokens: bool, done: Callable[[int], None]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        self.calls_reporting.append(len(texts))
        done(len(texts) // 2)
        vectors, rows = self.embed_documents_with_tokens(texts)
        done(len(texts))
        return vectors, rows if tokens else []


def test_an_embedder_that_reports_its_passes_gets_whole_batches_and_moves_the_bar_within_them(tmp_path: Path) -> None:
    """The ONNX embedder batches texts of one token length well inside a call, so it gets MAX_BATCH
    texts at a time, and what it reports while a call runs reaches the bar."""
    corpus = many_lines(tmp_path / "notes")
    model = ReportingEmbedder()
    settings = resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "ix", "model": model.name}).settings
    seen: list[tuple[str, int, int]] = []
    report = Engine(settings, embedder=model, encoder=model).build(progress=lambda *call: seen.append(call))
    assert model.calls_reporting == [report.embedded, report.lines_embedded], "one call a stage: all fit a batch"
    lines = [done for stage, done, _ in seen if stage == LINES_STAGE]
    assert report.lines_embedded // 2 in lines and lines[-1] == report.lines_embedded


def test_first_build_says_indexing_a_refresh_updating_and_rebuild_rebuilding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = many_lines(tmp_path / "notes", notes=2, sections=2, lines=3)
    monkeypatch.setenv("NOTES_MODEL", "fake-hash-32")
    notes = messy.Notes(messy.engine_maker())
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "ix")]

    code, out, err = notes(["index", *where])
    assert code == 0 and "notes: Indexing " in err and "2 notes, about" in err and "on this machine" in err
    assert "model export" not in err, "a stand-in model exports nothing"
    assert out.startswith("index built: 2 files")
    for stage in (READING_STAGE, PASSAGES_STAGE, LINES_STAGE, WRITING_STAGE):
        assert stage in err, f"{stage!r} shown"
    assert "elapsed" in err

    (corpus / "topic0.md").write_text("# Topic 0\n\n## Changed\n\nA new line about zanzibar.\n")
    code, out, err = notes(["index", *where])
    assert code == 0 and "notes: Updating the index of " in err and "Indexing" not in err
    assert out.startswith("index updated:")

    code, out, err = notes(["index", "--rebuild", *where])
    assert code == 0 and "notes: Rebuilding " in err and out.startswith("index rebuilt:")


def test_ask_on_a_folder_with_no_index_says_what_it_does_and_about_how_long(
    tmp_path: Path, small_corpus: Path, notes_cli: messy.Notes
) -> None:
    code, out, err = notes_cli(["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), "nacl"])
    assert code == 0 and "vpc.md" in out
    first = err.splitlines()[0]
    assert first.startswith(f"notes: no index yet for {small_corpus} (3 notes): indexing it first, about ")
    assert first.endswith(" s on this machine …")
    code, _, err = notes_cli(["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), "nacl"])
    assert code == 0 and "no index yet" not in err


def test_the_estimate_grows_with_the_notes_and_counts_the_export(tmp_path: Path) -> None:
    small = messy.write_notes(tmp_path / "small", {"a.md": "# A\n\nshort\n"})
    large = messy.write_notes(tmp_path / "large", {f"n{i}.md": "# N\n\n" + "words of notes " * 4000 for i in range(5)})
    little, big = estimate_build(small, export=False), estimate_build(large, export=False)
    assert (little.notes, big.notes) == (1, 5) and big.size > 300_000 > little.size
    assert little.seconds < 2 < big.seconds
    assert estimate_build(large, export=True).seconds == pytest.approx(big.seconds + EXPORT_SECONDS)
    assert [round_duration(s) for s in (0.2, 7.4, 42, 95, 200, 3700, 7200)] == [
        "1 s",
        "7 s",
        "40 s",
        "2 min",
        "3 min",
        "1 h 2 min",
        "2 h",
    ]


SLOW_CLI = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from tests.test_progress import SlowEmbedder
from tests.messy import engine_maker
from assistant.cli import main
main(sys.argv[1:], make_engine=engine_maker(SlowEmbedder(0.01)))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_on_a_terminal_the_rows_are_redrawn_every_second_with_their_clocks(tmp_path: Path) -> None:
    """`notes index` on a pseudo-terminal with a model at 10 ms a text (a few seconds' build): the
    rows are redrawn several times a second, each with its elapsed time and, while it runs, the time
    left; a finished stage is ticked."""
    corpus = many_lines(tmp_path / "notes")
    argv = [sys.executable, "-c", SLOW_CLI, "index", "--corpus", str(corpus), "--index", str(tmp_path / "ix")]
    terminal = Terminal(argv, child_env(NOTES_MODEL="slow-fake-32"), tmp_path, size=(30, 140))
    try:
        code = terminal.finish(120)
    finally:
        terminal.kill()
    text = CSI.sub(b"", terminal.output).decode(errors="replace")
    assert code == 0, text
    assert "notes: Indexing " in text and "index built:" in text
    clocks = re.findall(rf"{LINES_STAGE} [^\n]*?(\d+:\d\d) elapsed", text)
    assert len(set(clocks)) >= 2, "the lines took seconds: their clock moved"
    assert len(clocks) >= 2 * (len(set(clocks)) - 1), f"redrawn at least twice a second: {clocks}"
    assert "elapsed, about" in text and " left" in text
    assert f"✓ {WRITING_STAGE}" in text
