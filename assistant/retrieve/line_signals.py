"""The per-line signals answer lines are chosen by (answer.py): for each line of a result's passage,
the question's cosine to its line vector, its tokens' MaxSim against the line's tokens, or (with no
vector at all) the IDF weight of the question's terms it holds. Kept apart from the choice rule so
that the choice stays plain Python and the vector arithmetic, the only numpy, sits in one place.
Pure: no index I/O."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from assistant.retrieve.answer_unit import PassageLine, header_rows

if TYPE_CHECKING:
    import numpy as np

HEADING_CREDIT = 0.95
"""How much a question token's match in the passage's heading context counts for each line, beside
the line's own match (1). Below 1, so that where the heading matches the whole question ("whats a
nacl" under "What is NACL?") the lines do not tie to within noise that the z-score would blow up:
at 1, the line with an emoji outscored the definition there. Swept on `corpus/`: 0.85 → 0.901,
0.9 → 0.909, 0.95 → 0.912, 0.97 → 0.912, 1 → 0.906; held out 0.970 for each from 0.9 to 1
(docs/answer-lines.md)."""


def line_cosines(
    lines: Sequence[PassageLine], query_vector: np.ndarray, line_vectors: np.ndarray
) -> list[float | None]:
    """Per passage line, the cosine of the question to its line vector (None: it has none), a
    table's body row read under its header row: the cosine to the sum of the two lines' vectors.
    `line_vectors`: the passage's stored line vectors, its pieces' rows in order.

    Why: a row's cells are about what its columns name, as a column's cells are; "| Designed for
    availability | 99.99% | 99.9% |" is about S3's storage classes only under the header row that
    names them, and read alone it lost "s3 storage classes" to the paragraph below the table
    (docs/answer-lines.md). A header row, and a row whose header row is not in the passage or has no
    vector (`answer_unit.header_rows`), keep their own cosine: the header's vector belongs to
    another chunk-store row, and reading its text again would cost a model call per result."""
    import numpy as np

    units = sum(line.unit is not None for line in lines)
    if len(line_vectors) != units:
        raise ValueError(f"{len(line_vectors)} line vectors for {units} line units")
    if not units:
        return [None] * len(lines)
    vectors = np.asarray(line_vectors, dtype=np.float32)
    cosines = vectors @ np.asarray(query_vector, dtype=np.float32)
    pairs = [
        (line.unit, lines[header].unit)
        for line, header in zip(lines, header_rows([line.text for line in lines]), strict=True)
        if header is not None and line.unit is not None and lines[header].unit is not None
    ]
    if pairs:
        rows, headers = np.asarray(pairs).T
        # A header row is no body row, so the cosines read here are all still each line's own.
        norms = np.linalg.norm(vectors[rows] + vectors[headers], axis=1)
        cosines[rows] = (cosines[rows] + cosines[headers]) / np.maximum(norms, 1e-12)
    return [None if line.unit is None else float(cosines[line.unit]) for line in lines]


def line_maxsims(similarity: np.ndarray, token_lines: np.ndarray, line_count: int) -> list[float | None]:
    """Per text line of one chunk: the mean over the question's tokens of the best cosine to a token
    of that line, or `HEADING_CREDIT` times the best to a token of the chunk's heading context
    (None: no token of the line was kept, e.g. past the model's window).

    The heading context counts for every line because every line is read under it: under "What is
    NACL?" a line need not say "NACL" again to be about NACLs, and under "S3 Storage Classes" the
    line that repeats "S3 … storage" should not win "s3 storage classes" on those words alone. So
    the question's words that the heading matches stop telling the lines apart and its other words
    decide; a line saying such a word itself still counts a little more (docs/answer-lines.md).

    `similarity`: the question's tokens against the chunk's, [question tokens, chunk tokens], both
    in the index's projection (`TokenVectors.similarities`); `token_lines[t]`: chunk token t's line
    (-1: the heading context)."""
    import numpy as np

    if similarity.shape[1] != len(token_lines):
        raise ValueError(f"{similarity.shape[1]} token similarities for {len(token_lines)} token lines")
    result: list[float | None] = [None] * line_count
    owners = np.asarray(token_lines)
    keep = (owners >= 0) & (owners < line_count)
    if not len(similarity) or not keep.any():
        return result
    matrix = np.asarray(similarity, dtype=np.float32)
    context = owners == -1
    owners = owners[keep]
    kept = matrix[:, keep]
    # Tokens of one line are contiguous and in line order: reduce each run's columns at once.
    starts = np.concatenate(([0], np.flatnonzero(owners[1:] != owners[:-1]) + 1))
    per_line = np.maximum.reduceat(kept, starts, axis=1)
    if context.any():
        per_line = np.maximum(per_line, HEADING_CREDIT * matrix[:, context].max(axis=1, keepdims=True))
    best = per_line.mean(axis=0)
    for line, value in zip(owners[starts].tolist(), best.tolist(), strict=True):
        previous = result[line]
        result[line] = value if previous is None else max(previous, value)
    return result


def gather(lines: Sequence[PassageLine], per_piece: Sequence[Sequence[float | None]]) -> list[float | None]:
    """Per passage line, the value a per-piece list gives its line (`line_maxsims` of each piece)."""
    return [None if line.piece_line is None else per_piece[line.piece][line.piece_line] for line in lines]


def lexical_scores(line_terms: Sequence[Collection[str]], weights: Mapping[str, float]) -> list[float]:
    """Per line, the summed weight (IDF) of the question's terms it holds (BM25's terms: see
    `lexical.tokenize`). Only for a search without a question vector: beside the cosine it
    measured worse (docs/answer-lines.md)."""
    return [sum(weights[term] for term in set(terms) if term in weights) for terms in line_terms]
