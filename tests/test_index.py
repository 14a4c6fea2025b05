"""Building, incremental refresh, freshness and atomic replacement of the index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieve.search import Searcher
from assistant.store.build import build_index
from assistant.store.chunk_store import read_chunks
from assistant.store.freshness import check_freshness
from assistant.store.generation import current_generation
from assistant.store.manifest import ModelFingerprint, read_manifest
from assistant.store.state import read_state

from .conftest import FakeEmbedder


def test_build_writes_plain_versioned_files(small_index: Path) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    names = {p.name for p in generation.iterdir()}
    assert {"manifest.json", "chunks.jsonl", "chunk_offsets.npy", "chunk_files.npy", "chunk_files.json"} <= names
    assert {"vectors.npy", "dense.faiss", "bm25", "tokens"} <= names
    manifest = read_manifest(generation)
    assert manifest.format_version == 7
    assert "tokens/lines.npy" in manifest.stored
    assert manifest.model == ModelFingerprint("fake-bow", 64, 256)
    assert set(manifest.files) == {"lambda.md", "network/vpc.md", "plain.txt"}
    assert all(len(entry.hash) == 64 for entry in manifest.files.values())
    vectors = np.load(generation / "vectors.npy", allow_pickle=False)
    assert len(vectors) == manifest.chunk_count == len(read_chunks(generation))
    offsets = np.load(generation / "tokens" / "offsets.npy", allow_pickle=False)
    codes = np.load(generation / "tokens" / "codes.npy", allow_pickle=False)
    assert len(offsets) == manifest.chunk_count + 1 and offsets[-1] == len(codes) == manifest.token_vectors
    assert codes.dtype == np.int8 and codes.shape[1] == 64


def test_one_edited_file_re_embeds_only_its_changed_chunks(
    tmp_path: Path, small_corpus: Path, small_index: Path, fake_embedder: FakeEmbedder
) -> None:
    before = {c.content_hash for c in read_chunks(current_generation(small_index))}  # type: ignore[arg-type]
    note = small_corpus / "lambda.md"
    note.write_text(note.read_text().replace("Timeout: 15 minutes max", "Timeout: 900 seconds max"))
    embedder = FakeEmbedder()
    report = build_index(small_corpus, small_index, embedder)
    assert report.changed_files == ["lambda.md"]
    assert report.embedded == 1 and report.lines_embedded == 1
    assert sum(embedder.calls) == 2  # the changed chunk and its one changed line
    assert report.reused == report.chunks - 1
    after = read_chunks(current_generation(small_index))  # type: ignore[arg-type]
    assert len({c.content_hash for c in after} - before) == 1


def test_unchanged_corpus_is_up_to_date(small_corpus: Path, small_index: Path) -> None:
    embedder = FakeEmbedder()
    report = build_index(small_corpus, small_index, embedder)
    assert report.up_to_date and embedder.calls == []


def test_new_model_rebuilds_everything(small_corpus: Path, small_index: Path) -> None:
    embedder = FakeEmbedder()
    embedder.name = "other-model"
    report = build_index(small_corpus, small_index, embedder)
    assert report.rebuilt_all and report.embedded == report.chunks


def test_freshness_sees_changed_new_and_removed_notes(small_corpus: Path, small_index: Path) -> None:
    assert check_freshness(read_state(small_index), small_corpus, "fake-bow").fresh
    (small_corpus / "lambda.md").write_text("# Lambda\n\nchanged\n")
    (small_corpus / "new.md").write_text("# New\n")
    (small_corpus / "plain.txt").unlink()
    state = check_freshness(read_state(small_index), small_corpus, "fake-bow")
    assert (state.changed, state.added, state.removed) == (("lambda.md",), ("new.md",), ("plain.txt",))
    assert "1 changed" in state.describe()
    assert check_freshness(read_state(small_index), small_corpus, "another-model").reason


def test_failed_build_leaves_previous_index_usable(
    small_corpus: Path, small_index: Path, fake_embedder: FakeEmbedder
) -> None:
    class Exploding(FakeEmbedder):
        def embed_documents(self, texts):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    before = current_generation(small_index)
    (small_corpus / "lambda.md").write_text("# Lambda\n\nsomething new entirely\n")
    with pytest.raises(KeyboardInterrupt):
        build_index(small_corpus, small_index, Exploding())
    assert current_generation(small_index) == before
    assert not [p for p in small_index.iterdir() if p.name.endswith(".partial")]
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.search("lambda memory", k=1).hits


def test_chunk_store_is_jsonl_with_the_documented_fields(small_index: Path) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    first = json.loads((generation / "chunks.jsonl").read_text().splitlines()[0])
    assert set(first) == {
        "file",
        "heading_path",
        "start_line",
        "end_line",
        "text",
        "lead",
        "table_header",
        "id",
        "content_hash",
    }
