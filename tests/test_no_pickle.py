"""No code from data: nothing the tool writes or reads is pickle, and an index folder from an
untrusted source cannot run code when it is loaded, searched or built upon.

A planted payload would create a marker file when unpickled; every test checks that loading either
refuses it with a clear IndexCorrupt or never reads it, and that the marker never appears.
"""

from __future__ import annotations

import builtins
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexCorrupt
from assistant.retrieve.search import Searcher
from assistant.store.build import build_index
from assistant.store.generation import current_generation
from assistant.store.vectors import load_vectors

from .messy import FakeEmbedder, reseal

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "assistant"

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


class Payload:
    """Unpickling this opens (creates) the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (builtins.open, (self.marker, "w"))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker), protocol=4)


def save_object_npy(path: Path, marker: Path) -> None:
    np.save(path, np.array([Payload(marker), 1], dtype=object), allow_pickle=True)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "apes.md").write_text("# Apes\n\nGibbons sing duets at dawn.\n", encoding="utf-8")
    (corpus / "fish.md").write_text("# Fish\n\nThe coelacanth is a living fossil.\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    return corpus, index


def generation_of(index: Path) -> Path:
    generation = current_generation(index)
    assert generation is not None
    return generation


def test_the_payloads_really_run_code(tmp_path: Path) -> None:
    """Sanity: the planted files would create the marker if anything unpickled them."""
    marker = tmp_path / "ran"
    pickle.loads(pickle_bytes(marker))
    assert marker.exists()
    marker.unlink()
    save_object_npy(tmp_path / "x.npy", marker)
    np.load(tmp_path / "x.npy", allow_pickle=True)
    assert marker.exists()


# ---------------------------------------------------------------- the source never unpickles


def python_sources() -> list[Path]:
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 5
    return files


UNSAFE_PATTERNS = {
    "imports pickle": re.compile(r"^\s*(import|from)\s+(c?pickle|_pickle|dill|joblib|shelve|marshal)\b", re.M),
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "torch.load": re.compile(r"\btorch\.load\s*\("),
    "pickle call": re.compile(r"\bpickle\.(loads?|Unpickler)\b"),
    "unsafe yaml": re.compile(r"\byaml\.(load|unsafe_load)\s*\("),
    "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\s*\("),
}


@pytest.mark.parametrize("name", list(UNSAFE_PATTERNS))
def test_source_never_deserialises_code(name: str) -> None:
    pattern = UNSAFE_PATTERNS[name]
    found = [
        f"{path.relative_to(REPO)}:{text[: m.start()].count(chr(10)) + 1}"
        for path in python_sources()
        for text in [path.read_text(encoding="utf-8")]
        for m in pattern.finditer(text)
    ]
    assert not found, f"{name}: {found}"


def test_every_np_load_forbids_pickle() -> None:
    calls = []
    for path in python_sources():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\b(np|numpy)\.load\(", text):
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            call = text[match.start() : end + 1]
            calls.append(call)
            assert "allow_pickle=False" in call, f"{path.name}: {call}"
    assert calls, "expected np.load calls in the index and BM25 loaders"


# ---------------------------------------------------------------- what is written is plain data


def test_index_files_are_plain_data(built: tuple[Path, Path]) -> None:
    _, index = built
    files = [path for path in index.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert path.suffix in {".json", ".jsonl", ".npy", ".faiss", ".onnx", ""} or path.name == "CURRENT", path
        data = path.read_bytes()
        assert not data.startswith(PICKLE_MAGIC), f"{path} is a pickle"
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)  # raises for arrays of Python objects
            assert not array.dtype.hasobject, f"{path} holds Python objects"


def test_build_and_search_never_unpickle(built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """With every unpickling entry point booby-trapped, a full build, an incremental build, a load
    and a search all succeed: none of them uses pickle."""
    corpus, index = built

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap)
    real_load = np.load

    def checked_load(*args: object, **kwargs: object) -> object:
        assert kwargs.get("allow_pickle") is False, "np.load without allow_pickle=False"
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(np, "load", checked_load)
    (corpus / "new.md").write_text("# New\n\nA new note about tapirs.\n", encoding="utf-8")
    build_index(corpus, index, FakeEmbedder())
    build_index(corpus, index, FakeEmbedder(), rebuild=True)
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    assert searcher.search("tapirs", mode="hybrid").hits


# ---------------------------------------------------------------- planted payloads are refused


def test_planted_vectors_npy_is_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index = built
    marker = tmp_path / "pwned"
    save_object_npy(generation_of(index) / "vectors.npy", marker)
    reseal(generation_of(index))  # planted with matching records: np.load's own refusal is what meets it
    with pytest.raises(IndexCorrupt) as caught:
        load_vectors(generation_of(index))
    assert "vectors.npy" in caught.value.message and "rebuild" in (caught.value.hint or "")
    # Loading for search does not read it; an incremental build refuses it and rebuilds everything.
    Searcher.load(index, encoder=FakeEmbedder())
    report = build_index(corpus, index, FakeEmbedder(), rebuild=False)
    assert not marker.exists()
    (corpus / "apes.md").write_text("# Apes\n\nGibbons sing long duets at dawn.\n", encoding="utf-8")
    save_object_npy(generation_of(index) / "vectors.npy", marker)
    report = build_index(corpus, index, FakeEmbedder())
    assert report.rebuilt_all
    assert not marker.exists()


def test_planted_raw_pickle_files_are_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    """Every file of the index in turn replaced by a pickle whose unpickling would create the
    marker: loading either refuses it (IndexCorrupt) or never reads it, and no code runs."""
    corpus, index = built
    generation = generation_of(index)
    originals = {path: path.read_bytes() for path in generation.rglob("*") if path.is_file()}
    marker = tmp_path / "pwned"
    refused = []
    for path, original in originals.items():
        for plant in ("raw", "npy"):
            if plant == "npy" and path.suffix != ".npy":
                continue
            if plant == "raw":
                path.write_bytes(pickle_bytes(marker))
            else:
                save_object_npy(path, marker)
            if path.name != "manifest.json":
                reseal(generation)  # planted with matching records: each loader's own check meets it
            try:
                Searcher.load(index, encoder=FakeEmbedder()).search("gibbons", mode="hybrid")
            except IndexCorrupt as exc:
                refused.append(path.name)
                assert exc.hint == "run `notes index --rebuild`", (path, exc)
            assert not marker.exists(), f"loading a planted {path.name} ran code"
            path.write_bytes(original)
            reseal(generation)
    assert {"manifest.json", "chunks.jsonl", "dense.faiss", "data.csc.index.npy", "vocab.index.json"} <= set(refused)
    (index / "CURRENT").write_bytes(pickle_bytes(marker))
    with pytest.raises(IndexCorrupt):
        Searcher.load(index, encoder=FakeEmbedder())
    assert not marker.exists()


def test_planted_payloads_do_not_run_during_a_build(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index = built
    marker = tmp_path / "pwned"
    generation = generation_of(index)
    for path in generation.rglob("*.npy"):
        save_object_npy(path, marker)
    for name in ("chunks.jsonl", "dense.faiss"):
        (generation / name).write_bytes(pickle_bytes(marker))
    build_index(corpus, index, FakeEmbedder())
    assert not marker.exists()
    assert Searcher.load(index, encoder=FakeEmbedder()).search("gibbons", mode="bm25").hits
