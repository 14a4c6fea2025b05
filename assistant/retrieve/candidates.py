"""The ranked candidate lists a search fuses, each a pure function returning `(row, score)` lists:
- `dense_candidates`: cosine similarity (inner product of normalised vectors), in [-1, 1];
- `line_candidates`: passages ranked by the cosine of their best-matching line, in [-1, 1];
- `bm25_candidates`: BM25 scores, >= 0, unbounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

LINE_CANDIDATES = 300
"""Line vectors searched per question before they are folded into chunks (about 5 lines a chunk)."""


def dense_candidates(
    index: Any, query_vector: np.ndarray, n: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Top-n rows by cosine similarity from the FAISS index, optionally restricted to allowed rows."""
    import faiss
    import numpy as np

    if index.ntotal == 0 or n <= 0:
        return []
    library: Any = faiss  # its stubs lack the search-parameter classes
    vector = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    hnsw = isinstance(index, faiss.IndexHNSW)
    params = None
    if allowed is not None:
        if len(allowed) == 0:
            return []
        selector = library.IDSelectorBatch(allowed.astype(np.int64))
        params = library.SearchParameters(sel=selector)
        if hnsw:
            params = library.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, n))
    elif hnsw:
        params = library.SearchParametersHNSW(efSearch=max(index.hnsw.efSearch, n))
    scores, rows = index.search(vector, min(n, index.ntotal), params=params)
    return [(int(row), float(score)) for row, score in zip(rows[0], scores[0], strict=False) if row >= 0]


def line_candidates(
    index: Any, owner: np.ndarray, query_vector: np.ndarray, n: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Chunks ranked by their best-matching line: a question usually targets one statement of a
    passage, which the whole-passage vector blurs."""
    import numpy as np

    allowed_lines = None
    if allowed is not None:
        allowed_lines = np.flatnonzero(np.isin(owner, allowed))
    best: dict[int, float] = {}
    for line, score in dense_candidates(index, query_vector, LINE_CANDIDATES, allowed_lines):
        row = int(owner[line])
        if row not in best:
            best[row] = score
            if len(best) >= n:
                break
    return list(best.items())


def bm25_candidates(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    """Top-n rows by BM25 score, zero scores dropped (a passage sharing no term is no match)."""
    import numpy as np

    if allowed is not None:
        masked = np.zeros_like(scores)
        masked[allowed] = scores[allowed]
        scores = masked
    if n <= 0 or not len(scores):
        return []
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(row), float(scores[row])) for row in top if scores[row] > 0]
