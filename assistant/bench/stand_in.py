"""A stand-in embedder for `notes bench --scale N`: clearly NOT the real model.

It projects hashed word counts (1 + log tf) onto 384 fixed random directions and normalises. It costs
microseconds a text instead of the real model's ~50 ms on a small CPU, so the vector index, BM25 and
the search path can be exercised at 1M chunks. Its vectors share words, not meaning, and are less
clustered than sentence embeddings, which makes them a harder (pessimistic) case for an approximate
index's recall.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.notes.chunk import approximate_token_count

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+")


class StandInEmbedder:
    """A cheap deterministic Embedder (see the module docstring)."""

    name = "bench-stand-in/hashed-random-projection"
    max_tokens = 256
    kind = "bench stand-in"

    def __init__(self, dimension: int = 384, buckets: int = 1 << 15, seed: int = 0) -> None:
        import numpy as np

        self.dimension = dimension
        self._buckets = buckets
        rng = np.random.default_rng(seed)
        self._projection = rng.standard_normal((buckets + 1, dimension), dtype=np.float32)
        self._projection[buckets] = 0.0  # the row an empty text maps to
        self._bucket_of: dict[str, int] = {}

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """QueryEncoder protocol, so a Searcher can use it for questions."""
        return self._embed(texts)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """No token vectors (an index it builds keeps none, so nothing asks for them)."""
        import numpy as np

        return self._embed(texts), [np.zeros((0, self.dimension), dtype=np.float32) for _ in texts]

    def knows_word(self, word: str) -> bool:
        return False

    def count_tokens(self, text: str) -> int:
        return approximate_token_count(text)

    def _bucket(self, word: str) -> int:
        bucket = self._bucket_of.get(word)
        if bucket is None:
            bucket = self._bucket_of[word] = zlib.crc32(word.encode("utf-8")) % self._buckets
        return bucket

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np
        from scipy.sparse import csr_matrix

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        columns: list[int] = []
        counts: list[int] = []
        row_starts = [0]
        bucket_of = self._bucket_of
        for text in texts:
            for word, count in Counter(_WORD.findall(text.lower())).items():
                if len(word) > 1:
                    bucket = bucket_of.get(word)
                    columns.append(self._bucket(word) if bucket is None else bucket)
                    counts.append(count)
            if len(columns) == row_starts[-1]:
                columns.append(self._buckets)
                counts.append(1)
            row_starts.append(len(columns))
        weights = 1.0 + np.log(np.asarray(counts, dtype=np.float32))
        features = csr_matrix(
            (weights, np.asarray(columns, dtype=np.int32), np.asarray(row_starts, dtype=np.int64)),
            shape=(len(texts), self._buckets + 1),
        )
        vectors = np.asarray(features @ self._projection, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(vectors / norms, dtype=np.float32)
