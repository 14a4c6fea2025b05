"""The chunk store: passages parsed only when a question needs them, damage still caught at load."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from assistant.errors import IndexCorrupt
from assistant.notes.chunk import Chunk
from assistant.retrieve.search import Searcher
from assistant.store.chunk_store import RECORDS, ChunkStore, write_chunk_store
from assistant.store.generation import current_generation

from .conftest import FakeEmbedder
from .messy import reseal


def _generation(index: Path) -> Path:
    generation = current_generation(index)
    assert generation is not None
    return generation


def test_store_reads_back_what_was_written(tmp_path: Path) -> None:
    chunks = [
        Chunk("b/two.md", ("Two", "Café ☕"), 3, 4, "naïve text\nsecond line"),
        Chunk("a.md", (), 1, 1, "one"),
        Chunk("b/two.md", ("Two",), 6, 9, 'quotes " and \\ and \x1b[31m escapes', lead="lead line"),
    ]
    written = write_chunk_store(tmp_path, chunks)
    assert written == {
        "bytes": (tmp_path / RECORDS).stat().st_size,
        "crc32": zlib.crc32((tmp_path / RECORDS).read_bytes()),
    }
    store = ChunkStore.open(tmp_path, 3, written)
    assert list(store) == chunks and store[-1] == chunks[2] and store[1:] == chunks[1:]
    assert store.files == ["a.md", "b/two.md"]
    assert store.rows_of(["b/two.md"]).tolist() == [0, 2]
    assert store.rows_of([]).tolist() == []
    with pytest.raises(IndexError):
        store[3]


def test_an_empty_store(tmp_path: Path) -> None:
    written = write_chunk_store(tmp_path, [])
    store = ChunkStore.open(tmp_path, 0, written)
    assert len(store) == 0 and list(store) == [] and store.files == []


def test_a_question_parses_only_the_passages_it_looks_at(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert isinstance(searcher.chunks, ChunkStore)
    assert not searcher.chunks._parsed  # nothing read at load
    assert searcher.files == ["lambda.md", "network/vpc.md", "plain.txt"]
    assert searcher.allowed_rows("vpc*") is not None
    assert not searcher.chunks._parsed  # --file picks rows without reading passages
    response = searcher.search("firewall", k=1, file_glob="network/*")
    assert response.hits[0].chunk.file == "network/vpc.md"
    assert 0 < len(searcher.chunks._parsed) < len(searcher.chunks)


def test_a_same_length_edit_is_caught_at_load(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    """One changed letter keeps every offset right: the manifest's checksum still catches it."""
    path = _generation(small_index) / RECORDS
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Stateless", b"Statefull", 1))
    reseal(path.parent)  # past the file records too: the store's own checksum catches it
    with pytest.raises(IndexCorrupt, match="checksum") as caught:
        Searcher.load(small_index, encoder=fake_embedder)
    assert caught.value.hint == "run `notes index --rebuild`"


@pytest.mark.parametrize("missing", ["chunk_offsets.npy", "chunk_files.npy", "chunk_files.json"])
def test_a_missing_part_is_caught_at_load(small_index: Path, fake_embedder: FakeEmbedder, missing: str) -> None:
    (_generation(small_index) / missing).unlink()
    reseal(_generation(small_index))
    with pytest.raises(IndexCorrupt, match="chunk store missing"):
        Searcher.load(small_index, encoder=fake_embedder)


def test_a_planted_record_fails_when_read_not_silently(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    """A record rewritten along with the manifest's checksum passes the load check; reading it
    still refuses a record that is not a chunk, with the rebuild hint."""
    generation = _generation(small_index)
    path = generation / RECORDS
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    planted = json.dumps({**record, "start_line": 0}, ensure_ascii=False).encode() + b"\n"
    planted = planted.ljust(len(lines[0]) - 1, b" ")[: len(lines[0]) - 1] + b"\n"
    assert len(planted) == len(lines[0])
    path.write_bytes(planted + b"".join(lines[1:]))
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["chunk_store"]["crc32"] = zlib.crc32(path.read_bytes())
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    reseal(generation)
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    with pytest.raises(IndexCorrupt, match="line 1 is not a chunk") as caught:
        searcher.chunks[0]
    assert caught.value.hint == "run `notes index --rebuild`"
    assert searcher.chunks[1].file  # the others still read
