"""The per-machine ONNX export cache: reused across builds, keyed by the model's files, never in the way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant import engine
from assistant.config import Settings
from assistant.model import encoder_cache
from assistant.model.embed import OnnxEmbedder
from assistant.model.onnx_encoder import TOKENIZER_FILE, onnx_encoder_available
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


def test_builds_export_once_per_machine_then_reuse_it(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path
) -> None:
    exports: list[Path] = []

    def fake_export(model_path: str, out_dir: Path) -> Path:
        exports.append(Path(out_dir))
        return _write_tiny_encoder(Path(out_dir), ["mean"])

    monkeypatch.setattr("assistant.model.onnx_export.export_onnx_encoder", fake_export)
    monkeypatch.setattr("assistant.model.embed.resolve_model_path", lambda name: str(model_dir))
    for number in range(2):  # two fresh index folders: the second build finds the export cached
        settings = Settings(corpus_dir=tmp_path / "notes", index_dir=tmp_path / f"index-{number}")
        scratch = tmp_path / f"scratch-{number}"
        scratch.mkdir()
        embedder: Any = engine._embedder_for_build(settings, scratch)
        assert isinstance(embedder, OnnxEmbedder)
        assert embedder.export_dir.parent == cache / "encoders"
        shutil.rmtree(scratch)  # the build's scratch goes; the cached export must not depend on it
        assert embedder.embed_documents(["a b c"]).shape == (1, 4)
    assert len(exports) == 1
    assert os.listdir(cache / "encoders") == [embedder.export_dir.name]


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
