"""The Engine's own promises: the index folder is read once per operation, freshness and the build
agree on which notes changed, and `status()` names the state of the index in one word.

All over the fake model, handed to the Engine's constructor (tests/messy.py `stand_in_engine`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.store.generation import current_generation
from assistant.store.manifest import MANIFEST_FILE

from .conftest import FakeEmbedder
from .messy import Notes, stand_in_engine


@pytest.fixture
def engine(small_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> Engine:
    """An engine over the small notes and the 64-d fake, its index not built yet."""
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "ix", model=fake_embedder.name)
    return stand_in_engine(settings, fake_embedder)


def generation_of(engine: Engine) -> Path:
    generation = current_generation(engine.settings.index_dir)
    assert generation is not None
    return generation


# ---------------------------------------------------------------- one read of the index folder


@pytest.fixture
def manifest_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every read of an index's manifest.json from now on (a spy: each read still happens)."""
    reads: list[Path] = []
    read_text: Callable[..., str] = Path.read_text

    def counted(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == MANIFEST_FILE:
            reads.append(path)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    return reads


def ask(notes_cli: Notes, small_corpus: Path, tmp_path: Path, question: str) -> tuple[int, str, str]:
    return notes_cli(["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), question])


def test_a_question_reads_the_manifest_once(
    notes_cli: Notes, small_corpus: Path, tmp_path: Path, manifest_reads: list[Path]
) -> None:
    assert ask(notes_cli, small_corpus, tmp_path, "nacl")[0] == 0  # builds the index
    manifest_reads.clear()
    code, out, err = ask(notes_cli, small_corpus, tmp_path, "nacl")
    assert code == 0 and "vpc.md" in out and not err
    assert len(manifest_reads) == 1, manifest_reads


def test_a_stale_question_reads_the_manifest_once_before_the_refresh_and_once_after(
    notes_cli: Notes, small_corpus: Path, tmp_path: Path, manifest_reads: list[Path]
) -> None:
    """Freshness, seeding the incremental build and opening share what was read (issue: a stale
    `notes ask` read the manifest four times); only the new generation's manifest is read again."""
    assert ask(notes_cli, small_corpus, tmp_path, "nacl")[0] == 0
    before = current_generation(tmp_path / "ix")
    (small_corpus / "lambda.md").write_text("# Lambda\n\nLayers share code between functions.\n", encoding="utf-8")
    manifest_reads.clear()
    code, out, err = ask(notes_cli, small_corpus, tmp_path, "layers")
    assert code == 0 and "out of date" in err and "lambda.md" in out
    after = current_generation(tmp_path / "ix")
    assert before is not None and after is not None and after != before
    assert [path.parent for path in manifest_reads] == [before, after]


# ---------------------------------------------------------------- one rule for "this note changed"


def _touch(note: Path) -> None:
    """Saved again unchanged: the same bytes, a later modification time."""
    info = note.stat()
    os.utime(note, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))


def _edit(note: Path) -> None:
    note.write_text(note.read_text(encoding="utf-8") + "\nProvisioned concurrency keeps functions warm.\n")


def _edit_keeping_size_and_time(note: Path) -> None:
    """Other bytes of the same length, the modification time put back (as `cp -p` or a sync can):
    the stat spares the hash, for the build as for freshness."""
    info = note.stat()
    note.write_bytes(note.read_bytes().replace(b"Pricing", b"Costing"))
    os.utime(note, ns=(info.st_atime_ns, info.st_mtime_ns))


@pytest.mark.parametrize(
    ("change", "changed"),
    [(_touch, False), (_edit, True), (_edit_keeping_size_and_time, False)],
    ids=["touched", "edited", "edited keeping size and time"],
)
def test_freshness_and_the_build_agree_on_what_changed(
    engine: Engine, small_corpus: Path, change: Callable[[Path], None], changed: bool
) -> None:
    engine.build()
    embedder = FakeEmbedder()
    note = small_corpus / "lambda.md"
    change(note)
    fresh = engine.freshness()
    assert fresh.changed == (("lambda.md",) if changed else ())
    assert fresh.fresh is not changed
    report = stand_in_engine(engine.settings, embedder).build()
    assert report.changed_files == (["lambda.md"] if changed else [])
    assert report.up_to_date is not changed
    if not changed:
        assert embedder.calls == [] and report.embedded == 0, "a note taken as unchanged is never embedded again"
    assert engine.freshness().fresh


def test_a_touched_note_stays_fresh_build_after_build(engine: Engine, small_corpus: Path) -> None:
    engine.build()
    generation = generation_of(engine)
    _touch(small_corpus / "lambda.md")
    for _ in range(2):
        assert engine.freshness().fresh
        assert engine.build().up_to_date
    assert generation_of(engine) == generation, "nothing to write: the index is not rewritten"


# ---------------------------------------------------------------- status


def test_status_of_a_missing_index(engine: Engine, small_corpus: Path, tmp_path: Path) -> None:
    status = engine.status()
    assert status.state == "missing"
    assert (status.files, status.passages, status.summary) == (0, 0, [])
    assert [(problem.what, problem.fix) for problem in status.problems] == [
        (f"no index yet in {tmp_path / 'ix'}", "notes index")
    ]
    assert (status.notes, status.index, status.model) == (small_corpus, tmp_path / "ix", "fake-bow")


def test_status_of_a_fresh_index(engine: Engine) -> None:
    report = engine.build()
    for full in (True, False):
        status = engine.status(full=full)
        assert status.state == "ready" and status.problems == []
        assert status.files == 3 and status.passages == report.chunks > 0 and status.skipped == 0
        assert "index holds 3 files" in status.summary[0] and "model fake-bow" in status.summary[0]


def test_status_of_a_stale_index(engine: Engine, small_corpus: Path) -> None:
    engine.build()
    _edit(small_corpus / "lambda.md")
    (small_corpus / "new.md").write_text("# New\n\nA new note.\n", encoding="utf-8")
    status = engine.status()
    assert status.state == "stale" and status.files == 3
    assert [problem.fix for problem in status.problems] == ["notes index"]
    assert "out of date" in status.problems[0].what and "1 changed (lambda.md)" in status.problems[0].what


def test_status_of_a_damaged_index(engine: Engine) -> None:
    """Damage that kept the file's size and time is found by the full check (every file hashed);
    the quick one compares sizes and times, and finds damage that moved them."""
    engine.build()
    vectors = generation_of(engine) / "vectors.npy"
    info = vectors.stat()
    data = bytearray(vectors.read_bytes())
    data[-8:] = b"\x7f" * 8
    vectors.write_bytes(bytes(data))
    os.utime(vectors, ns=(info.st_atime_ns, info.st_mtime_ns))
    status = engine.status(full=True)
    assert status.state == "damaged"
    assert [problem.fix for problem in status.problems] == ["notes index --rebuild"]
    assert "vectors.npy" in status.problems[0].what
    assert engine.status(full=False).state == "ready"
    np.save(vectors, np.zeros((1, 64), dtype=np.float32), allow_pickle=False)
    assert engine.status(full=False).state == "damaged"


def test_status_of_an_index_this_version_cannot_read(engine: Engine) -> None:
    engine.build()
    manifest = generation_of(engine) / MANIFEST_FILE
    manifest.write_text("{not json", encoding="utf-8")
    status = engine.status()
    assert status.state == "unusable" and status.files == 0
    assert status.problems and all(problem.fix == "notes index --rebuild" for problem in status.problems)
