"""The index generation a build starts from: what of it an incremental build can reuse.

Why its own module: deciding whether the current generation can seed a build (same notes folder,
model, chunker, undamaged) and loading its chunks and vectors by text key is one job, apart from
making the new generation (build.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import IndexCorrupt
from assistant.model.embed import Embedder
from assistant.model.encoder_cache import ENCODER_DIRECTORY
from assistant.notes.chunk import CHUNKER_VERSION, Chunk
from assistant.store.chunk_store import ChunkStore
from assistant.store.freshness import belongs_elsewhere, mismatch
from assistant.store.manifest import Manifest, ModelFingerprint
from assistant.store.state import IndexState
from assistant.store.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.store.token_vectors import Quantized, TokenVectors
from assistant.store.vectors import LineVectors, load_vectors, text_key

if TYPE_CHECKING:
    import numpy as np


def model_fingerprint(embedder: Embedder) -> ModelFingerprint:
    return ModelFingerprint(embedder.name, embedder.dimension, embedder.max_tokens)


@dataclass
class Previous:
    """The current generation, as far as it can seed an incremental build."""

    generation: Path | None = None
    manifest: Manifest | None = None
    why_full: str = ""
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    tokens: dict[str, Quantized] = field(default_factory=dict)
    projection: np.ndarray | None = None
    same_model: bool = False
    encoder_damaged: bool = False
    """Its copy of the model export no longer matches its manifest: a new generation gets a fresh one."""

    @classmethod
    def load(cls, state: IndexState, corpus_dir: Path, embedder: Embedder, rebuild: bool) -> Previous:
        if state.problem is not None:
            if state.too_new and not rebuild:
                raise state.problem
            return cls(why_full=state.problem.message)
        generation, manifest = state.generation, state.manifest
        if generation is None or manifest is None:
            return cls(why_full="no index yet")
        if belongs_elsewhere(manifest, corpus_dir):
            if not rebuild:
                raise mismatch(state.index_dir, corpus_dir, manifest.corpus)
            return cls(why_full=f"replacing the index of {manifest.corpus}")
        same_model = manifest.model == model_fingerprint(embedder)
        if not same_model:
            return cls(generation, why_full="model changed")
        if manifest.chunker_version != CHUNKER_VERSION:
            return cls(generation, why_full="chunker changed", same_model=True)
        if rebuild:
            return cls(generation, why_full="--rebuild", same_model=True)
        damaged = state.damaged()
        data = [name for name in damaged if not name.startswith(f"{ENCODER_DIRECTORY}/")]
        if data:
            return cls(generation, why_full=f"damaged files ({', '.join(data[:3])})", same_model=True)
        previous = cls(generation, manifest, same_model=True, encoder_damaged=bool(damaged))
        try:
            previous._read_vectors(generation, manifest, embedder.dimension)
        except IndexCorrupt as exc:
            return cls(generation, why_full=exc.message, same_model=True)
        return previous

    def _read_vectors(self, generation: Path, manifest: Manifest, dimension: int) -> None:
        chunks = list(ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store))
        vectors = load_vectors(generation)
        if vectors.ndim != 2 or len(vectors) != len(chunks) or vectors.shape[1] != dimension:
            raise IndexCorrupt("vectors and chunks disagree")
        for row, chunk in enumerate(chunks):
            self.chunks.setdefault(chunk.file, []).append(chunk)
            self.vectors.setdefault(text_key(chunk.embedding_text), vectors[row])
        lines = LineVectors.load(generation, len(chunks), dimension)
        if lines is not None:
            self.vectors.update(lines.by_key())
        directory = generation / TOKENS_DIRECTORY
        if directory.is_dir():
            try:
                stored = TokenVectors.load(directory, len(chunks), dimension)
            except (OSError, ValueError):
                return
            self.tokens = {text_key(chunk.embedding_text): stored.passage(row) for row, chunk in enumerate(chunks)}
            self.projection = stored.projection
