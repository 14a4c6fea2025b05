"""Same notes, same answers (issue 18): an index belongs to one notes folder, damaged files are found
and repaired rather than trusted, and a slow fallback is never silent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import DEFAULT_MODEL, Settings
from assistant.engine import Engine
from assistant.errors import IndexDamaged, IndexMismatch
from assistant.model.encoder_cache import cached_encoder
from assistant.retrieve.search import Searcher
from assistant.store.build import build_index
from assistant.store.generation import current_generation
from assistant.store.manifest import read_manifest
from tests.messy import write_notes

from .conftest import SMALL_NOTES, FakeEmbedder
from .messy import engine_maker, run_notes, stand_in_engine
from .models import exported_stand_in

FAKE = "fake-bow"
"""The fake embedder's model name (tests/conftest.py): settings naming it keep its index fresh."""


def _notes(root: Path) -> Path:
    return write_notes(root, SMALL_NOTES)


def fake(corpus_dir: Path, index_dir: Path) -> Engine:
    """An engine that builds and answers with the fake embedder (no model, no export)."""
    return stand_in_engine(Settings(corpus_dir=corpus_dir, index_dir=index_dir, model=FAKE), FakeEmbedder())


# ---------------------------------------------------------------- one index per notes folder


def test_an_index_refuses_another_notes_folder(tmp_path: Path) -> None:
    mine, theirs, index = _notes(tmp_path / "mine"), _notes(tmp_path / "theirs"), tmp_path / "index"
    fake(mine, index).build()
    built = current_generation(index)
    with pytest.raises(IndexMismatch) as caught:
        fake(theirs, index).open()
    message = str(caught.value)
    assert str(mine.resolve()) in message and str(theirs.resolve()) in message and "--rebuild" in message
    with pytest.raises(IndexMismatch):
        fake(theirs, index).build()
    assert current_generation(index) == built  # nothing was rebuilt over it
    fake(theirs, index).build(rebuild=True)  # asked for: replaced
    assert read_manifest(current_generation(index) or index).corpus == str(theirs.resolve())


def test_the_cli_names_both_folders_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine, theirs, index = _notes(tmp_path / "mine"), _notes(tmp_path / "theirs"), tmp_path / "index"
    fake(mine, index).build()
    where = ["--corpus", str(theirs), "--index", str(index), "--model", FAKE]
    code, out, err = run_notes(capsys, "ask", "nacl", *where, make_engine=engine_maker(FakeEmbedder()))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and str(mine.resolve()) in err and str(theirs.resolve()) in err
    code, _out, err = run_notes(capsys, "index", *where, make_engine=engine_maker(FakeEmbedder()))
    assert code == 2 and "--rebuild" in err
    code, _out, _err = run_notes(capsys, "index", "--rebuild", *where, make_engine=engine_maker(FakeEmbedder()))
    assert code == 0


def test_a_moved_notes_folder_keeps_its_index(tmp_path: Path) -> None:
    """The folder the index was built from is gone (renamed, the project moved): no other notes can
    be clobbered, so the index is adopted by the folder that now asks."""
    old, index = _notes(tmp_path / "old"), tmp_path / "index"
    fake(old, index).build()
    new = old.rename(tmp_path / "new")
    searcher = fake(new, index).open()
    assert searcher.search("stateless firewall", k=1).hits


# ---------------------------------------------------------------- damage is found, not trusted


def test_a_damaged_file_is_found_at_open_and_rebuilt(tmp_path: Path) -> None:
    notes, index = _notes(tmp_path / "notes"), tmp_path / "index"
    fake(notes, index).build()
    vectors = (current_generation(index) or index) / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-8:] = b"\x7f" * 8  # same size: only the hash can tell
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexDamaged) as caught:
        Searcher.load(index, encoder=FakeEmbedder())
    assert caught.value.files == ("vectors.npy",)
    said: list[str] = []
    searcher = fake(notes, index).open(notify=said.append)
    assert len(said) == 2 and "vectors.npy" in said[0] and "rebuilding" in said[0], said
    assert said[1].startswith("index rebuilt:")
    assert searcher.search("stateless firewall", k=1).hits


def test_damage_that_kept_its_mtime_is_found_by_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening checks sizes and modification times (hashing 110 MB at every question would cost
    0.4 s); `notes status` hashes every file."""
    notes, index = _notes(tmp_path / "notes"), tmp_path / "index"
    fake(notes, index).build()
    store = (current_generation(index) or index) / "bm25" / "vocab.index.json"
    info = store.stat()
    store.write_bytes(store.read_bytes().replace(b"stateless", b"statelesS"))
    os.utime(store, ns=(info.st_atime_ns, info.st_mtime_ns))
    where = ["--corpus", str(notes), "--index", str(index), "--model", FAKE]
    code, out, _err = run_notes(capsys, "status", *where, make_engine=engine_maker(FakeEmbedder()))
    assert code == 1
    assert "damaged" in out and "bm25/vocab.index.json" in out and "notes index --rebuild" in out


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model folder whose export (the tiny hand-made ONNX encoder) this machine's cache already
    holds: builds run the real export cache, the real copy into the index and the real ONNX query
    path, in milliseconds (tests/models.py)."""
    monkeypatch.setenv("NOTES_CACHE", str(tmp_path / "cache"))
    return exported_stand_in(tmp_path / "model", tmp_path / "export")


def test_a_damaged_model_export_is_restored_from_the_cache(tmp_path: Path, tiny_model: Path) -> None:
    notes = _notes(tmp_path / "notes")
    first = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / "index", model=str(tiny_model)))
    second = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / "index-2", model=str(tiny_model)))
    first.build()
    second.build()
    onnx = (current_generation(first.settings.index_dir) or tmp_path) / "encoder" / "encoder.onnx"
    with onnx.open("r+b") as handle:
        handle.truncate(0)  # damage in place, as a tool that truncates every file of a folder would
    said: list[str] = []
    searcher = first.open(notify=said.append)
    assert len(said) == 1 and "encoder/encoder.onnx" in said[0] and "cache" in said[0], said
    assert searcher.encoder.kind == "onnx" and not searcher.slow_path
    assert onnx.stat().st_size > 0
    assert second.open().encoder.kind == "onnx"  # the other index never shared the damage
    assert cached_encoder(str(tiny_model)) is not None


def test_a_damaged_cache_entry_is_never_copied_into_an_index(tmp_path: Path, tiny_model: Path) -> None:
    """A cache entry damaged since it was installed is removed, not used: the next build takes the
    index's own undamaged copy (and puts it back in the cache)."""
    notes = _notes(tmp_path / "notes")
    engine = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / "index", model=str(tiny_model)))
    engine.build()
    entry = cached_encoder(str(tiny_model))
    assert entry is not None
    good = (entry / "encoder.onnx").read_bytes()
    (entry / "encoder.onnx").write_bytes(b"\x00" * len(good))
    assert cached_encoder(str(tiny_model)) is None and not entry.exists()
    engine.build(rebuild=True)
    assert cached_encoder(str(tiny_model)) is not None
    assert (
        (current_generation(engine.settings.index_dir) or tmp_path) / "encoder" / "encoder.onnx"
    ).read_bytes() == good
    assert engine.open().encoder.kind == "onnx"


# ---------------------------------------------------------------- the slow path is never silent


def test_the_slow_path_is_said_once_and_status_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An index without a usable model export answers through sentence-transformers (seconds to
    start, not a fraction of one): opening it says so once, and `notes status` exits 1. (The index
    is the fake's, under the default model's name, so that no export of it exists.)"""
    notes, index = _notes(tmp_path / "notes"), tmp_path / "index"
    posing = FakeEmbedder()
    posing.name = DEFAULT_MODEL
    build_index(notes, index, posing)
    questions_as_a_user_asks = engine_maker(posing, questions=False)  # no stand-in for questions
    said: list[str] = []
    searcher = questions_as_a_user_asks(Settings(corpus_dir=notes, index_dir=index)).open(notify=said.append)
    assert searcher.encoder.kind == "sentence-transformers"
    assert said == [searcher.slow_path] and "slow path" in said[0] and "notes index --rebuild" in said[0]
    where = ["--corpus", str(notes), "--index", str(index)]
    code, out, _err = run_notes(capsys, "status", *where, make_engine=questions_as_a_user_asks)
    assert code == 1 and "slow path" in out
