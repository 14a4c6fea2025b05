"""The per-machine ONNX export cache: reused across builds, keyed by the model's files, never in the way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.model import encoder_cache
from assistant.model.onnx_encoder import TOKENIZER_FILE, onnx_encoder_available
from assistant.reporting import EXPORT_STAGE, Progress
from tests.messy import write_notes
from tests.models import exported_stand_in, tiny_real_model
from tests.test_onnx_encoder import _write_tiny_encoder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("NOTES_CACHE", str(root))
    return root


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "1_Pooling" / "config.json").write_text("{}")
    return folder


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return _write_tiny_encoder(tmp_path / "export", ["mean"])


def test_root_follows_notes_cache_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOTES_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert encoder_cache.cache_root() == tmp_path / "xdg" / "notes-assistant"
    monkeypatch.setenv("NOTES_CACHE", str(tmp_path / "mine"))
    assert encoder_cache.cache_root() == tmp_path / "mine"


def test_stored_export_is_found_again(cache: Path, model_dir: Path, export: Path) -> None:
    assert encoder_cache.cached_encoder(str(model_dir)) is None
    entry = encoder_cache.store_encoder(str(model_dir), export)
    assert entry is not None and entry.parent == cache / "encoders"
    assert encoder_cache.cached_encoder(str(model_dir)) == entry
    assert onnx_encoder_available(entry)
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_changed_model_files_get_a_new_export_and_the_old_one_goes(cache: Path, model_dir: Path, export: Path) -> None:
    old = encoder_cache.store_encoder(str(model_dir), export)
    (model_dir / "model.safetensors").write_bytes(b"fine-tuned weights")
    assert encoder_cache.cached_encoder(str(model_dir)) is None
    new = encoder_cache.store_encoder(str(model_dir), export)
    assert new is not None and new != old
    assert old is not None and not old.exists()
    assert [p.name for p in (cache / "encoders").iterdir()] == [new.name]


def test_a_model_that_is_not_a_folder_is_never_cached(cache: Path, export: Path) -> None:
    assert encoder_cache.store_encoder("some-hub-name/not-here", export) is None
    assert encoder_cache.cached_encoder("some-hub-name/not-here") is None
    assert not cache.exists()


def test_an_unwritable_cache_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, export: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NOTES_CACHE", str(blocker))
    assert encoder_cache.store_encoder(str(model_dir), export) is None
    assert encoder_cache.cached_encoder(str(model_dir)) is None


def test_a_damaged_entry_is_ignored_then_replaced(cache: Path, model_dir: Path, export: Path) -> None:
    entry = encoder_cache.store_encoder(str(model_dir), export)
    assert entry is not None
    (entry / TOKENIZER_FILE).unlink()
    assert encoder_cache.cached_encoder(str(model_dir)) is None
    again = encoder_cache.store_encoder(str(model_dir), export)
    assert again == entry and encoder_cache.cached_encoder(str(model_dir)) == entry


def _recorder(stages: list[str]) -> Progress:
    """Progress that notes each stage reported (a stage is reported at its start and its end)."""
    return lambda stage, done, total: stages.append(stage)


def _build_twice(model: Path, tmp_path: Path) -> list[list[str]]:
    """Build two fresh index folders of the same notes with `model`, as a user would (no stand-in):
    the progress stages each build reported."""
    notes = write_notes(tmp_path / "notes", {"vpc.md": "# VPC\n\n## NACL\n\nA stateless firewall at the subnet.\n"})
    stages: list[list[str]] = []
    for number in range(2):
        engine = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / f"index-{number}", model=str(model)))
        stages.append([])
        engine.build(progress=_recorder(stages[-1]))
        state = engine.state()
        assert state.manifest is not None and state.manifest.embedding["path"] == "onnx-float32"
        assert not [path for path in engine.settings.index_dir.iterdir() if path.name.startswith(".export-")]
        assert engine.load().encoder.kind == "onnx"  # the index's own copy, not the build's scratch
    return stages


def test_builds_take_the_cached_export(cache: Path, tmp_path: Path) -> None:
    """A machine that has exported the model before never exports it again: two fresh index folders
    both take the cache's copy."""
    model = exported_stand_in(tmp_path / "model", tmp_path / "export")
    entry = encoder_cache.cached_encoder(str(model))
    assert entry is not None
    stages = _build_twice(model, tmp_path)
    assert all(EXPORT_STAGE not in seen for seen in stages), stages
    assert os.listdir(cache / "encoders") == [entry.name]


@pytest.mark.slow
def test_the_first_build_on_a_machine_exports_the_model_and_the_next_reuse_it(cache: Path, tmp_path: Path) -> None:
    """A real (tiny) model and an empty cache: the first build exports it into the cache (torch), the
    build into another fresh index folder takes the cache's copy."""
    model = tiny_real_model(tmp_path / "model")
    stages = _build_twice(model, tmp_path)
    assert [seen.count(EXPORT_STAGE) for seen in stages] == [2, 0], stages  # started and finished, then never
    entry = encoder_cache.cached_encoder(str(model))
    assert entry is not None and os.listdir(cache / "encoders") == [entry.name]


@pytest.mark.slow
def test_a_model_that_cannot_be_exported_still_builds_and_says_why_questions_are_slow(
    cache: Path, tmp_path: Path
) -> None:
    """A real model the ONNX export refuses (a default prompt that pooling leaves out): the build
    embeds with sentence-transformers, records why, and opening the index says so once."""
    model = tiny_real_model(tmp_path / "model", prompt_outside_pooling=True)
    notes = write_notes(tmp_path / "notes", {"vpc.md": "# VPC\n\n## NACL\n\nA stateless firewall at the subnet.\n"})
    engine = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / "index", model=str(model)))
    report = engine.build()
    assert report.chunks >= 1
    manifest = engine.state().manifest
    assert manifest is not None and manifest.embedding["path"] == "sentence-transformers"
    assert "prompt" in manifest.embedding["export_error"]
    assert encoder_cache.cached_encoder(str(model)) is None
    said: list[str] = []
    searcher = engine.open(notify=said.append)
    assert said == [searcher.slow_path] and "cannot be exported to ONNX" in said[0] and "prompt" in said[0]
    assert engine.search("stateless firewall", k=1).hits[0].chunk.file == "vpc.md"


def test_an_export_from_before_the_document_model_is_made_again(cache: Path, model_dir: Path, export: Path) -> None:
    import json

    meta_path = export / "encoder.json"
    meta = json.loads(meta_path.read_text())
    del meta["export_revision"]
    meta_path.write_text(json.dumps(meta))
    entry = encoder_cache.store_encoder(str(model_dir), export)
    assert entry is not None and onnx_encoder_available(entry)  # still readable for queries
    assert encoder_cache.cached_encoder(str(model_dir)) is None  # but a build exports afresh


def test_an_index_holds_its_own_copy_of_the_export(export: Path, tmp_path: Path) -> None:
    """Every generation holds the export as its own copy (a clone where the file system can): damage
    to one index's export, or to the cache's, never reaches another (issue 18: a hard link did)."""
    first = tmp_path / "gen-1" / "encoder"
    encoder_cache.place_encoder(first, [export])
    assert onnx_encoder_available(first)
    second = tmp_path / "gen-2" / "encoder"
    encoder_cache.place_encoder(second, [tmp_path / "missing", first])  # from the previous generation
    assert onnx_encoder_available(second)
    for name in os.listdir(export):
        assert not os.path.samefile(export / name, first / name)
        assert (export / name).read_bytes() == (second / name).read_bytes()
    for name in os.listdir(first):
        with (first / name).open("r+b") as handle:
            handle.truncate(0)
    assert not onnx_encoder_available(first)
    assert onnx_encoder_available(export) and onnx_encoder_available(second)
