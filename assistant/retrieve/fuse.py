"""Fusion and reranking: pure functions from ranked lists to one ranking (no index, no model).

- `fuse_rrf`: reciprocal rank fusion, score = sum over lists of weight / (k + rank). RRF ignores the
  lists' incomparable score scales (cosines in [-1, 1], BM25 >= 0 unbounded) and rewards passages
  the retrievers agree on.
- `rerank_by_tokens`: the top fused candidates (`token_vectors.RERANK_DEPTH` of them, scored by the
  search stage) reordered by late-interaction MaxSim of question and passage tokens, moved a little
  by each one's best line cosine (`LINE_WEIGHT`); their score becomes that, on MaxSim's scale.
- `join_neighbours`: pieces of one section that rank with touching or overlapping spans are one answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.notes.chunk import Chunk, same_section, spans_touch

LINE_WEIGHT = 0.2
"""In the rerank, the weight of a candidate's best line cosine next to its MaxSim, both as z-scores
among the candidates. MaxSim rewards a passage whose words each match some question word; the best
line says one statement answers the question as a whole. Any weight from 0.1 to 0.3 helped on both
eval sets alike (docs/retrieval-experiments.md, "What each change added"); 0.2 is the middle, not the best on either."""
RRF_K = 10
"""Lower than the customary 60: with three lists, agreement near the top should dominate
(measured on the eval set: see docs/retrieval-experiments.md, "What each change added")."""
JOINED_MAX_LINES = 30
"""Neighbouring pieces of one section are shown as one passage up to this many lines."""
JOIN_DEPTH = 30
"""How far down the ranking a piece may still join a passage ranked above it: the token rerank's
head (`token_vectors.RERANK_DEPTH`), the candidates that were compared with the question closely.
Below it a piece never changes a passage: it is a new one, or, touching one shown, not shown."""


def fuse_rrf(
    lists: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked lists of (row, score); ties keep first-seen order."""
    totals: dict[int, float] = {}
    for index, ranked in enumerate(lists):
        weight = weights[index] if weights else 1.0
        for rank, (row, _score) in enumerate(ranked, 1):
            totals[row] = totals.get(row, 0.0) + weight / (k + rank)
    return sorted(totals.items(), key=lambda item: -item[1])


def rerank_by_tokens(
    ranked: Sequence[tuple[int, float]],
    maxsims: Sequence[float],
    line_scores: Sequence[float] | None = None,
) -> list[tuple[int, float, int | None]]:
    """The head of a fused ranking (its first len(maxsims) rows, whose MaxSim with the question these
    are: `TokenVectors.maxsim`) reordered by MaxSim, ties keeping fused order; then the rest: (row,
    score, rank before the rerank or None for the tail).

    With `line_scores` (each head candidate's best line cosine), a candidate's score is its MaxSim
    moved by LINE_WEIGHT times its line's z-score, in standard deviations of the head's MaxSim: the
    order of z(MaxSim) + LINE_WEIGHT * z(line), on MaxSim's own scale (held within [-1, 1]), so the
    shown scores still read as similarities and still fall with the rank."""
    scores = list(maxsims)
    depth = len(scores)
    head = list(ranked[:depth])
    if len(head) != depth:
        raise ValueError(f"{depth} MaxSim scores for a ranking of {len(ranked)}")
    if line_scores is not None and len(line_scores) == len(head):
        spread = _spread(scores)
        mean_line, spread_line = sum(line_scores) / max(len(line_scores), 1), _spread(line_scores)
        if spread_line > 1e-9:
            scores = [
                min(1.0, max(-1.0, score + LINE_WEIGHT * spread * (line - mean_line) / spread_line))
                for score, line in zip(scores, line_scores, strict=True)
            ]
    order = sorted(range(len(head)), key=lambda i: (-scores[i], i))
    reranked: list[tuple[int, float, int | None]] = [(head[i][0], scores[i], i + 1) for i in order]
    return reranked + [(row, score, None) for row, score in ranked[depth:]]


def _spread(values: Sequence[float]) -> float:
    """Standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return float((sum((value - mean) ** 2 for value in values) / len(values)) ** 0.5)


def join_neighbours(
    ranked: Sequence[tuple[int, float, int | None]],
    chunks: Sequence[Chunk],
    k: int,
    max_lines: int = JOINED_MAX_LINES,
    depth: int | None = None,
) -> list[list[int]]:
    """The ranking as up to k distinct passages, each a run of rows (in line order), in the order
    of their best-ranked row.

    A section too long for one piece is cut into several (a long table or list, an over-long
    line). When pieces of one section whose spans touch or overlap both rank, they are one answer:
    the lower-ranked piece joins the higher one's passage (with any piece between them) instead of
    taking a place of its own, and the place goes to the next passage. When joining would make the
    passage longer than `max_lines`, the lower-ranked piece is not shown at all: its section is,
    right beside it. So `k` results are k distinct places in the notes.

    A result's span does not depend on k: the first `depth` rows (default `JOIN_DEPTH`) are always
    grouped, whatever k is, and a row below them only starts a passage of its own, so the first k
    passages are the same for any larger k. (Stopping at k passages had left out pieces that `-k 10`
    then joined to a passage `-k 5` showed shorter.) Measured on the eval set:
    joining gave Hit@1 +0.012, MRR@10 +0.012, average passage +1 line
    (docs/retrieval-experiments.md, "What each change added"); dropping the rest, docs/answer-lines.md."""
    depth = JOIN_DEPTH if depth is None else depth
    groups: list[list[int]] = []
    for position, (row, _score, _fused) in enumerate(ranked):
        if position >= depth and len(groups) >= k:
            break
        if any(row in group for group in groups):
            continue  # a piece between two joined ones
        group = next((g for g in groups if _touching(g, [row], chunks)), None)
        if group is None:
            groups.append([row])
            continue
        if position >= depth or not _short(group, [row], chunks, max_lines):
            continue
        group[:] = _run(group, [row])
        # The new piece may close the gap to another passage: the later-ranked one joins the
        # earlier one, or, too long to join, is not shown.
        while other := next((g for g in groups if g is not group and _touching(group, g, chunks)), None):
            keep, drop = (group, other) if groups.index(group) < groups.index(other) else (other, group)
            if _short(keep, drop, chunks, max_lines):
                keep[:] = _run(keep, drop)
            groups.remove(drop)
            group = keep
    return groups[:k]


def _run(group: list[int], other: list[int]) -> list[int]:
    """Every row from the first of both runs to the last (pieces between two that rank come along)."""
    return list(range(min(group[0], other[0]), max(group[-1], other[-1]) + 1))


def _touching(group: list[int], other: list[int], chunks: Sequence[Chunk]) -> bool:
    """Whether two runs of rows are pieces of one section whose spans touch or overlap."""
    return same_section(chunks[group[0]], chunks[other[0]]) and spans_touch(
        (chunks[group[0]].start_line, chunks[group[-1]].end_line),
        (chunks[other[0]].start_line, chunks[other[-1]].end_line),
    )


def _short(group: list[int], other: list[int], chunks: Sequence[Chunk], max_lines: int) -> bool:
    """Whether the two runs together stay within `max_lines`."""
    start = min(chunks[group[0]].start_line, chunks[other[0]].start_line)
    end = max(chunks[group[-1]].end_line, chunks[other[-1]].end_line)
    return end - start + 1 <= max_lines
