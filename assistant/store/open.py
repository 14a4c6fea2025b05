"""Opening an index generation for search: every part loaded, checked against the others, never trusted blind.

Only plain data is read (no pickle). Large arrays are memory-mapped, so a one-shot question reads
only the pages it touches. Opening fails with `IndexCorrupt` (naming the file and the fix) when a
part is missing, damaged or disagrees with the rest, and with `IndexDamaged` when a file no longer
holds what the manifest recorded (the engine repairs those).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IndexCorrupt, IndexDamaged
from assistant.model.encoder_cache import ENCODER_DIRECTORY
from assistant.store.chunk_store import ChunkStore
from assistant.store.lexical import LexicalIndex
from assistant.store.manifest import REBUILD, Manifest
from assistant.store.spelling import WORDS_FILE, Speller
from assistant.store.state import IndexState, read_state
from assistant.store.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.store.token_vectors import TokenVectors
from assistant.store.vectors import DENSE_FILE, LINES_FAISS, LineVectors, read_faiss

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.embed import QueryEncoder
    from assistant.store.partial import Building


@dataclass(frozen=True)
class OpenedIndex:
    """A generation's parts, loaded and checked."""

    generation: Path
    manifest: Manifest
    chunks: ChunkStore
    dense_index: Any
    lexical: LexicalIndex
    lines: tuple[Any, np.ndarray] | None
    """The line FAISS index and each line's passage row (None: the index keeps no line vectors)."""
    line_vectors: tuple[np.ndarray, np.ndarray] | None
    """Every line vector (memory-mapped) and where each passage's lines start."""
    tokens: TokenVectors | None
    speller: Speller | None
    encoder: QueryEncoder
    slow_path: str = ""
    """Why questions take sentence-transformers' slow path ("" when they take the ONNX export)."""
    building: Building | None = None
    """How far its build was, for an index still being built (store/partial.py); None: complete."""


def open_index(state: IndexState, encoder: QueryEncoder | None = None, *, model: str | None = None) -> OpenedIndex:
    """Open the state's current generation. The query encoder is the one given, else the index's
    ONNX export when it has one, else sentence-transformers for the manifest's model (slower to
    start, same vectors)."""
    try:
        return _open(state, encoder, model)
    except IndexCorrupt:
        # A build may have replaced this generation while it was being read: open the new one.
        again = read_state(state.index_dir)
        if again.generation in (None, state.generation):
            raise
        return _open(again, encoder, model)


def _open(state: IndexState, encoder: QueryEncoder | None, model: str | None) -> OpenedIndex:
    import faiss
    from threadpoolctl import threadpool_limits

    # One question at a time: a single thread beats two for flat search (6.9 vs 9.7 ms at 100K).
    faiss.omp_set_num_threads(1)
    # And for numpy's BLAS, whose matrices here are tiny (question tokens x a passage's): with one
    # core busy elsewhere, two BLAS threads stalled a question for up to 138 ms (hybrid p95 23 ms);
    # one thread kept the worst at 22 ms (p95 12-14 ms), and changed nothing on a quiet machine.
    threadpool_limits(1, user_api="blas")
    generation, manifest = state.require()
    damaged = state.damaged()
    if damaged:
        listed = ", ".join(damaged[:3]) + (", …" if len(damaged) > 3 else "")
        raise IndexDamaged(
            f"the index in {generation} is damaged ({listed} changed since it was built)", REBUILD, files=tuple(damaged)
        )
    chunks = ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store)
    dense_index = read_faiss(generation / DENSE_FILE, "dense index")
    try:
        lexical = LexicalIndex(generation / "bm25")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexCorrupt(f"BM25 index unreadable: {generation / 'bm25'}: {exc}", REBUILD) from exc
    # (ChunkStore.open already holds the store to the manifest's chunk count.)
    if dense_index.ntotal != len(chunks) or lexical.num_docs != len(chunks):
        raise IndexCorrupt(
            f"index in {generation} disagrees with itself: {len(chunks)} chunks, "
            f"{dense_index.ntotal} vectors, {lexical.num_docs} BM25 documents",
            REBUILD,
        )
    if dense_index.ntotal and dense_index.d != manifest.model.dimension:
        raise IndexCorrupt(
            f"index in {generation} holds {dense_index.d}-d vectors but its manifest says "
            f"{manifest.model.dimension}-d ({manifest.model.name})",
            REBUILD,
        )
    lines, line_vectors = _load_lines(generation, len(chunks), dense_index.d)
    tokens = _load_tokens(generation, len(chunks), dense_index.d)
    if encoder is None:
        encoder = default_encoder(generation, model or manifest.model.name)
    speller = _load_speller(generation, encoder)
    slow = slow_path(manifest) if encoder.kind == "sentence-transformers" else ""
    return OpenedIndex(
        generation=generation,
        manifest=manifest,
        chunks=chunks,
        dense_index=dense_index,
        lexical=lexical,
        lines=lines,
        line_vectors=line_vectors,
        tokens=tokens,
        speller=speller,
        encoder=encoder,
        slow_path=slow,
    )


def slow_path(manifest: Manifest) -> str:
    """Why questions are embedded with sentence-transformers (a torch import: seconds, not a fraction)."""
    start = "questions take the slow path (sentence-transformers, about 8 s to start instead of 1 s): "
    error = manifest.embedding.get("export_error")
    if manifest.embedding.get("path") == "sentence-transformers" and error:
        return start + f"model {manifest.model.name} cannot be exported to ONNX ({error})"
    return start + "this index's copy of the model export is missing or unreadable (run `notes index --rebuild`)"


def _load_lines(
    generation: Path, chunk_count: int, dimension: int
) -> tuple[tuple[Any, np.ndarray] | None, tuple[np.ndarray, np.ndarray] | None]:
    """The per-line FAISS index with its line → passage map, and the line vectors with each
    passage's first line, when the index has them."""
    path = generation / LINES_FAISS
    if not path.exists():
        return None, None
    index = read_faiss(path, "line index")
    stored = LineVectors.load(generation, chunk_count, dimension)
    if stored is None or index.ntotal != len(stored.owner):
        raise IndexCorrupt(f"line index in {generation} disagrees with the chunks", REBUILD)
    return (index, stored.owner), (stored.vectors, stored.starts(chunk_count))


def _load_tokens(generation: Path, chunk_count: int, dimension: int) -> TokenVectors | None:
    """The passages' token vectors, when the index has them (a large one has none)."""
    directory = generation / TOKENS_DIRECTORY
    if not directory.exists():
        return None
    try:
        return TokenVectors.load(directory, chunk_count, dimension)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"token vectors unreadable in {generation}: {exc}", REBUILD) from exc


def _load_speller(generation: Path, encoder: QueryEncoder) -> Speller | None:
    """The notes' word counts, for correcting a question's typos."""
    path = generation / WORDS_FILE
    if not path.exists():
        return None
    try:
        return Speller.load(path, encoder.knows_word)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"word list unreadable: {path}: {exc}", REBUILD) from exc


def default_encoder(generation: Path, model: str) -> QueryEncoder:
    from assistant.model.onnx_encoder import OnnxEncoder, onnx_encoder_available

    if onnx_encoder_available(generation / ENCODER_DIRECTORY):
        try:
            # One short question: a single thread is about twice as fast as two (no hand-off cost).
            return OnnxEncoder(generation / ENCODER_DIRECTORY, threads=1)
        except (OSError, ValueError):
            pass
    from assistant.model.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model)
