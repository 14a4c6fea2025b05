"""Vectors of an index: embedding passages and lines (reusing unchanged ones), FAISS files, line vectors.

- Passage and line vectors are kept by the hash of the exact text embedded (`text_key`), so an
  incremental build re-embeds only texts that changed, and a fresh build of the same notes gets the
  same vectors (a text's vector depends only on the text: see embed.py).
- FAISS: exact inner product (cosine of normalised vectors) below `HNSW_THRESHOLD` passages, HNSW above.
- Line vectors: `line_vectors.npy` (float32, in passage order), `line_owner.npy` (passage row of
  each line), `line_keys.npy` (text keys, for reuse), `lines.faiss`. `LineVectors` is their one reader.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IndexCorrupt
from assistant.files import digest_text
from assistant.model.embed import PARALLEL_FROM, ReportsPasses
from assistant.model.projection import project
from assistant.reporting import PASSAGES_STAGE, Progress
from assistant.store.manifest import REBUILD
from assistant.store.token_vectors import Quantized, quantize, token_lines

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.embed import Embedder, TokenEmbedder

BATCH_SECONDS = 0.5
"""How long one batch handed to an embedder that does not report its passes should take: progress is
said after each, so a bar moves about twice a second whatever the texts' length and the machine's speed."""
MIN_BATCH = PARALLEL_FROM
"""The fewest texts a batch holds: fewer run on one core (embed.py), at half the speed on two."""
MAX_BATCH = 1024
"""The most texts a batch holds (it batches further inside, by token length), and the size of every
batch for an embedder that reports its passes. (Passages' token vectors are projected after the
model, unreported: 2.4 s for 675 passages on a busy machine, 3.5 ms each. Batches of 128 passages
instead were slower and their bar no steadier, measured: left as it is.)"""
HNSW_THRESHOLD = 200_000
"""Below this many chunks exact (flat) search is fast enough and exact; above it, HNSW."""
LINE_VECTOR_LIMIT = 200_000
"""Up to this many chunks each line also gets a vector (fine-grained dense matching); above it
the line vectors would outgrow memory (about 5 lines a chunk), so only chunk vectors are kept."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 1024
"""Measured at 1M chunks (M=32, efConstruction=80): recall@10 against exact 0.80 at 128, 0.94 at 512,
0.97 at 1024, for 4.3 ms a query (`notes bench --scale 1000000`)."""

DENSE_FILE = "dense.faiss"
VECTORS_FILE = "vectors.npy"
LINES_FAISS = "lines.faiss"
LINE_VECTORS = "line_vectors.npy"
LINE_OWNER = "line_owner.npy"
LINE_KEYS = "line_keys.npy"


def text_key(text: str) -> str:
    """The key a vector is kept under: the hash of the exact text embedded (chunk or line unit)."""
    return digest_text(text)[:32]


def write_faiss(path: Path, vectors: np.ndarray) -> str:
    """Exact inner-product search below HNSW_THRESHOLD chunks, HNSW above; returns the type used."""
    import faiss

    dimension = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    index: Any
    if len(vectors) >= HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(dimension)
        kind = "flat"
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))
    return kind


def read_faiss(path: Path, what: str) -> Any:
    """A FAISS file, searching HNSW as deep as HNSW_EF_SEARCH whatever it was saved with."""
    import faiss

    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorrupt(f"the {what} {path} is truncated or corrupt", REBUILD) from exc
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = max(index.hnsw.efSearch, HNSW_EF_SEARCH)
    return index


def load_vectors(generation: Path) -> np.ndarray:
    """The passage vectors, memory-mapped."""
    import numpy as np

    path = generation / VECTORS_FILE
    try:
        vectors: np.ndarray = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"vector file unreadable: {path}: {exc}", REBUILD) from exc
    return vectors


@dataclass(frozen=True)
class LineVectors:
    """A generation's line vectors (memory-mapped), the passage each belongs to, and their keys."""

    vectors: np.ndarray
    owner: np.ndarray
    keys: np.ndarray

    @classmethod
    def load(cls, generation: Path, chunk_count: int, dimension: int) -> LineVectors | None:
        """None when the index keeps no line vectors; IndexCorrupt when they disagree with it."""
        import numpy as np

        if not (generation / LINE_VECTORS).exists():
            return None
        try:
            # A plain view of the memory map: lazily read, without np.memmap's cost per slice.
            vectors = np.load(generation / LINE_VECTORS, allow_pickle=False, mmap_mode="r").view(np.ndarray)
            owner = np.load(generation / LINE_OWNER, allow_pickle=False)
            keys = np.load(generation / LINE_KEYS, allow_pickle=False, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"line vectors unreadable in {generation}: {exc}", REBUILD) from exc
        if (
            vectors.ndim != 2
            or vectors.dtype.kind != "f"
            or vectors.shape[1] != dimension
            or len(owner) != len(vectors)
            or len(keys) != len(vectors)
            or (len(owner) and (int(owner.min()) < 0 or int(owner.max()) >= chunk_count))
            or (len(owner) and bool(np.any(np.diff(owner) < 0)))
        ):
            raise IndexCorrupt(f"line vectors in {generation} disagree with the passages", REBUILD)
        return cls(vectors, owner, keys)

    def starts(self, chunk_count: int) -> np.ndarray:
        """Where each passage's lines start (lines are stored in passage order): passage i owns
        rows starts[i]:starts[i + 1]."""
        import numpy as np

        return np.searchsorted(self.owner, np.arange(chunk_count + 1), side="left")

    def by_key(self) -> dict[str, np.ndarray]:
        return {key.decode("ascii"): self.vectors[row] for row, key in enumerate(self.keys)}


def write_lines(directory: Path, vectors: np.ndarray, owner: Sequence[int], texts: Sequence[str]) -> str:
    """The line vectors' files; returns the FAISS index type used."""
    import numpy as np

    np.save(directory / LINE_VECTORS, vectors, allow_pickle=False)
    np.save(directory / LINE_OWNER, np.array(owner, dtype=np.int32), allow_pickle=False)
    np.save(directory / LINE_KEYS, np.array([text_key(text) for text in texts], dtype="S32"), allow_pickle=False)
    return write_faiss(directory / LINES_FAISS, vectors)


Landed = Callable[[Sequence[int], "np.ndarray"], None]
"""Told of rows whose vectors are ready, with the whole array they are rows of (the same array each
time, not a copy: a partial index reads the rows only when it is searched)."""


def no_landing(rows: Sequence[int], vectors: np.ndarray) -> None:
    return None


def embed_with_reuse(
    embedder: Embedder,
    texts: list[str],
    old: dict[str, np.ndarray],
    progress: Progress,
    stage: str,
    landed: Landed = no_landing,
) -> tuple[np.ndarray, int]:
    """Vectors for texts, reusing old ones by text key; returns the vectors and how many were embedded."""
    import numpy as np

    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    todo: list[int] = []
    for row, text in enumerate(texts):
        vector = old.get(text_key(text))
        if vector is not None and len(vector) == embedder.dimension:
            vectors[row] = vector
        else:
            todo.append(row)
    progress(stage, 0, len(todo))
    _land_reused(landed, vectors, todo)

    def embed(picked: list[int], done: Callable[[int], None]) -> None:
        batch = [texts[row] for row in picked]
        if isinstance(embedder, ReportsPasses):
            vectors[picked] = embedder.embed_reporting(batch, tokens=False, done=done)[0]
        else:
            vectors[picked] = embedder.embed_documents(batch)
        landed(picked, vectors)

    in_batches(todo, texts, embed, progress, stage, MAX_BATCH if isinstance(embedder, ReportsPasses) else None)
    return vectors, len(todo)


def in_batches(
    rows: list[int],
    texts: list[str],
    embed: Callable[[list[int], Callable[[int], None]], None],
    progress: Progress,
    stage: str,
    size: int | None,
) -> None:
    """Call embed on batches of rows of similar length (similar lengths batch well; for an embedder
    that reports, in `_evenly`'s order, else shortest first), saying how far along `stage` is after
    each, and while it runs when the embedder reports its passes (embed's second argument;
    embed.ReportsPasses): a fixed 1,024 texts a batch without that left a bar still for 27 s on
    passages. An embedder that reports gets `size` texts at a time (MAX_BATCH: smaller batches share
    fewer passes, 35 % slower, measured); one that does not (size None) gets batches sized from the
    rate of the one before (characters a second) to take about BATCH_SECONDS.
    Which texts share a batch never changes their vectors (embed.py: a text's vector depends on the
    text alone)."""
    order = sorted(rows, key=lambda row: len(texts[row]))
    if size is not None:
        for before, batch in _evenly(order, texts, size):
            embed(batch, lambda count, before=before: progress(stage, before + count, len(order)))  # type: ignore[misc]
            progress(stage, before + len(batch), len(order))
        return
    done, size = 0, MIN_BATCH
    while done < len(order):
        batch = order[done : done + size]
        began = time.perf_counter()
        embed(batch, lambda count, before=done: progress(stage, before + count, len(order)))  # type: ignore[misc]
        seconds = time.perf_counter() - began
        done += len(batch)
        progress(stage, done, len(order))
        rate = sum(len(texts[row]) for row in batch) / max(seconds, 1e-6)
        size = _batch_size(order, done, texts, rate * BATCH_SECONDS)


def _evenly(order: list[int], texts: list[str], size: int) -> list[tuple[int, list[int]]]:
    """Batches of `size` texts of similar length (cut from `order`, shortest first), in the order
    that keeps the share of the work done (characters) closest to the share of texts done, each
    with the count of texts before it. Why: a front end tells the remaining time from texts done
    and elapsed; shortest batches first made the rate fall through the stage and every estimate
    say about half the time it took (the 408-note folder: "about 0:17 left" 50 s before the end)."""
    batches = [order[start : start + size] for start in range(0, len(order), size)]
    work = [sum(len(texts[row]) for row in batch) for batch in batches]
    whole, count = max(sum(work), 1), max(len(order), 1)
    left, planned, done, worked = list(range(len(batches))), [], 0, 0
    while left:
        pick = min(left, key=lambda b: abs((worked + work[b]) / whole - (done + len(batches[b])) / count))
        left.remove(pick)
        planned.append((done, batches[pick]))
        done, worked = done + len(batches[pick]), worked + work[pick]
    return planned


def _batch_size(order: list[int], start: int, texts: list[str], characters: float) -> int:
    """How many texts from `start` on fit in `characters`, between MIN_BATCH and MAX_BATCH."""
    size, total = 0, 0
    for row in order[start : start + MAX_BATCH]:
        total += len(texts[row])
        if total > characters:
            break
        size += 1
    return min(max(size, MIN_BATCH), MAX_BATCH)


def embed_with_tokens(
    embedder: TokenEmbedder,
    texts: list[str],
    old_vectors: dict[str, np.ndarray],
    old_tokens: dict[str, Quantized],
    old_projection: np.ndarray | None,
    progress: Progress,
    landed: Landed = no_landing,
) -> tuple[np.ndarray, list[Quantized], np.ndarray, int]:
    """`embed_with_reuse` for passages, keeping each one's token vectors too (one forward pass),
    projected with the model's projection. A passage's old token vectors are reused only when they
    were projected with the same one (a new export of the model re-embeds them all)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    projection = embedder.token_projection()
    reusable = old_projection is not None and np.array_equal(old_projection, projection)
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    tokens: list[Quantized | None] = [None] * len(texts)
    todo: list[int] = []
    for row, text in enumerate(texts):
        key = text_key(text)
        vector, passage = old_vectors.get(key), old_tokens.get(key)
        if reusable and vector is not None and passage is not None and len(vector) == embedder.dimension:
            vectors[row], tokens[row] = vector, passage
        else:
            todo.append(row)
    progress(PASSAGES_STAGE, 0, len(todo))
    _land_reused(landed, vectors, todo)

    def embed(picked: list[int], done: Callable[[int], None]) -> None:
        batch = [texts[row] for row in picked]
        if isinstance(embedder, ReportsPasses):
            batch_vectors, batch_tokens = embedder.embed_reporting(batch, tokens=True, done=done)
        else:
            batch_vectors, batch_tokens = embedder.embed_documents_with_tokens(batch)
        vectors[picked] = batch_vectors
        offsets = embedder.token_offsets(batch)
        # One BLAS thread: a passage's tokens x the projection is too small to share (0.16 against
        # 0.47 ms of CPU a passage on two threads, more when the other core is busy: docs/speed.md).
        with threadpool_limits(1, user_api="blas"):
            for row, rows, found in zip(picked, batch_tokens, offsets, strict=True):
                tokens[row] = quantize(project(rows, projection), token_lines(texts[row], found))
        landed(picked, vectors)

    in_batches(todo, texts, embed, progress, PASSAGES_STAGE, MAX_BATCH if isinstance(embedder, ReportsPasses) else None)
    return vectors, [passage for passage in tokens if passage is not None], projection, len(todo)


def _land_reused(landed: Landed, vectors: np.ndarray, todo: list[int]) -> None:
    """Hand over the vectors kept from the previous build before any new one is made."""
    import numpy as np

    if landed is no_landing:
        return
    reused = np.setdiff1d(np.arange(len(vectors)), np.asarray(todo, dtype=np.int64))
    landed([int(row) for row in reused], vectors)
