"""Stage 7, evaluate (diagnostic): how far any re-weighting of the rerank's signals could go on an eval set.

When the hybrid figures stall, the question is where the missing answers are lost: never fetched
(not among the `RERANK_DEPTH` candidates the rerank reorders), or fetched and ranked too low. This
module answers both for `notes eval --ceiling`:
- *candidate recall*: the share of questions with an answering passage among the candidates, the
  most any reordering of them could reach at 1 or at 5;
- *the fusion ceiling*: every combination on a grid of weights of the signals the rerank could
  weigh (`Searcher.rerank_signals`), each as a z-score among the candidates next to z(MaxSim), as
  the rerank itself does, scored on the set; the best at Hit@5 and the best at MRR@10 are shown.

The weights are fitted on the very questions they are scored on, so the ceiling is an upper bound
for a re-weighting, not a setting to adopt: a gain there can be overfitting, while no gain there
means the signals do not hold the answer and only a better one (model, chunking) can.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np

from assistant.chunk import Chunk, touches
from assistant.errors import UsageProblem
from assistant.evaluate import DEPTH, EvalQuestion
from assistant.fuse import LINE_WEIGHT, fuse_rrf, join_neighbours
from assistant.metrics import METRICS, Span, question_metrics, relevance
from assistant.search import CANDIDATES, Searcher
from assistant.token_vectors import RERANK_DEPTH

GRID = (-0.3, 0.0, 0.1, 0.2, 0.4, 0.7, 1.0)
"""Weights tried for each signal beside MaxSim's 1: against it, off, and up to as much as MaxSim."""
ANCHOR = "maxsim"
"""The signal every combination keeps at weight 1 (scaling all weights together changes no order)."""
IN_USE = {"best line": LINE_WEIGHT}
"""The weights search uses now; every other signal is at 0."""


@dataclass(frozen=True)
class RerankSignals:
    """A question's fused ranking and, for its top `RERANK_DEPTH`, each signal the rerank could weigh."""

    ranked: list[tuple[int, float]]
    """The whole fused ranking, (row, RRF score); the rows past the head follow it unchanged."""
    signals: dict[str, list[float]]
    """Signal name → one value per head row, in fused order."""


def rerank_signals(searcher: Searcher, query: str) -> RerankSignals | None:
    """What the hybrid rerank could weigh for a question's fused top `RERANK_DEPTH`, each signal
    one value per candidate (None when the index has no token vectors, so nothing is reranked).
    Only `notes eval --ceiling` reads these: search itself weighs MaxSim and the best line."""
    searched = searcher.searched_for(query)
    bm25 = searcher.bm25_scores(searched)
    lists, vector, query_tokens = searcher.candidate_lists(searched, "hybrid", CANDIDATES, None, bm25)
    if vector is None or query_tokens is None or searcher.tokens is None:
        return None
    ranked = fuse_rrf(list(lists.values()))
    head = [row for row, _score in ranked[:RERANK_DEPTH]]
    signals = {
        "maxsim": list(searcher.tokens.maxsim(query_tokens, head)),
        "passage cosine": [float(searcher.dense_index.reconstruct(row) @ vector) for row in head],
        "bm25": [float(bm25[row]) for row in head],
        "fused rank": [-float(np.log(rank)) for rank in range(1, len(head) + 1)],
    }
    best_lines = searcher.best_line_scores(ranked, vector)
    if best_lines is not None:
        signals["best line"] = best_lines
    return RerankSignals(ranked, signals)


@dataclass(frozen=True)
class Ceiling:
    questions: int
    depth: int
    """How many fused candidates the rerank reorders."""
    candidate_recall: float
    """Share of questions with an answering passage among those candidates."""
    in_use: dict[str, float]
    """Metrics of the weights search uses, recomputed here (they equal `notes eval`'s hybrid row)."""
    best: dict[str, tuple[dict[str, float], dict[str, float]]]
    """Headline metric → (weights, metrics) of the combination that scores best on it."""


def fusion_ceiling(
    searcher: Searcher,
    questions: Sequence[EvalQuestion],
    grid: Sequence[float] = GRID,
    signals_of: Callable[[str], RerankSignals | None] | None = None,
) -> Ceiling:
    """Score every weighting on the grid over the eval set (the model runs once per question).
    `signals_of`: where a question's signals come from (default: `rerank_signals` on the searcher)."""
    gather = signals_of or partial(rerank_signals, searcher)
    gathered: list[tuple[EvalQuestion, RerankSignals]] = []
    for question in questions:
        signals = gather(question.question)
        if signals is None:
            raise UsageProblem(
                "this index has no token vectors, so nothing is reranked and there is no ceiling to find",
                "indexes of over 20,000 passages skip the rerank",
            )
        gathered.append((question, signals))
    names = sorted(name for name in gathered[0][1].signals if name != ANCHOR) if gathered else []
    weightings = [dict(zip(names, values, strict=True)) for values in itertools.product(grid, repeat=len(names))]
    in_use = {name: IN_USE.get(name, 0.0) for name in names}
    weightings.append(in_use)
    totals = np.zeros((len(weightings), len(METRICS)))
    weights = np.array([[1.0] + [weighting[name] for name in names] for weighting in weightings])
    fetched = 0
    span = _Spans(searcher.chunks)
    for question, signals in gathered:
        z = _z_scores(np.array([signals.signals[name] for name in (ANCHOR, *names)]))
        combined = weights @ z  # one row of candidate scores per weighting
        # Highest first, ties keeping fused order; weightings whose orders agree where it
        # matters are scored once.
        orders = np.lexsort((np.broadcast_to(np.arange(z.shape[1]), combined.shape), -combined), axis=1)
        scored: dict[bytes, np.ndarray] = {}
        deciding = _deciding_length([row for row, _score in signals.ranked[: z.shape[1]]], searcher.chunks)
        for weighting, order in enumerate(orders):
            key = order[:deciding].tobytes()
            if key not in scored:
                returned = _returned(span, signals, order.tolist())
                metrics = question_metrics(relevance(returned, question.gold), len(question.gold))
                scored[key] = np.array([metrics[name] for name in METRICS])
            totals[weighting] += scored[key]
        fetched += _fetched(span, signals, question)
    means = [dict(zip(METRICS, (total / max(len(gathered), 1)).tolist(), strict=True)) for total in totals]
    on_grid = list(zip(weightings[:-1], means[:-1], strict=True))
    best = {metric: max(on_grid, key=partial(_preference, metric)) for metric in ("hit@5", "mrr@10")}
    return Ceiling(
        questions=len(gathered),
        depth=max((len(signals.signals[ANCHOR]) for _q, signals in gathered), default=0),
        candidate_recall=fetched / len(gathered) if gathered else 0.0,
        in_use=means[-1],
        best=best,
    )


def _deciding_length(head: Sequence[int], chunks: Sequence[Chunk]) -> int:
    """How much of an order of the head decides the top `DEPTH` passages: `join_neighbours` stops at
    `DEPTH` passages, and each row it reads either opens one or joins (or is folded into) the passage
    of a touching piece of its section, which only a row with such a piece among the candidates can do."""
    present = set(head)
    joinable = sum(
        1
        for row in head
        if (row - 1 in present and touches(chunks[row - 1], chunks[row]))
        or (row + 1 in present and touches(chunks[row], chunks[row + 1]))
    )
    return DEPTH + joinable


def _fetched(span: _Spans, signals: RerankSignals, question: EvalQuestion) -> bool:
    """Whether an answering passage is among the candidates the rerank reorders."""
    head = signals.ranked[: len(signals.signals[ANCHOR])]
    return any(span(row).overlaps(gold) for row, _score in head for gold in question.gold)


def _preference(metric: str, scored: tuple[dict[str, float], dict[str, float]]) -> tuple[float, float, float]:
    """Best on the metric, then on MRR@10, then on Hit@1."""
    metrics = scored[1]
    return metrics[metric], metrics["mrr@10"], metrics["hit@1"]


def _z_scores(signals: np.ndarray) -> np.ndarray:
    """Each signal (a row) as z-scores among the candidates; a signal that does not vary is all 0."""
    spread = signals.std(axis=1, keepdims=True)
    centred = signals - signals.mean(axis=1, keepdims=True)
    return cast("np.ndarray", np.divide(centred, spread, out=np.zeros_like(signals), where=spread > 1e-9))


def _returned(span: _Spans, signals: RerankSignals, order: Sequence[int]) -> list[Span]:
    """The passages a user would see for this order: the reordered head, then the fused tail, with
    neighbouring pieces joined exactly as search joins them."""
    final: list[tuple[int, float, int | None]] = [(signals.ranked[i][0], 0.0, i + 1) for i in order]
    final += [(row, score, None) for row, score in signals.ranked[len(order) :]]
    spans = []
    for group in join_neighbours(final, span.chunks, DEPTH):
        pieces = [span(row) for row in group]
        spans.append(Span(pieces[0].file, min(p.start_line for p in pieces), max(p.end_line for p in pieces)))
    return spans


class _Spans:
    """Each chunk's line span, read once: a weighting grid reads the same few hundred many times."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = chunks
        self._spans: dict[int, Span] = {}

    def __call__(self, row: int) -> Span:
        if row not in self._spans:
            chunk = self.chunks[row]
            self._spans[row] = Span(chunk.file, chunk.start_line, chunk.end_line)
        return self._spans[row]


def format_ceiling(ceiling: Ceiling) -> str:
    """The ceiling as a Markdown table beside the weights in use."""

    def row(label: str, metrics: Mapping[str, float]) -> str:
        return f"| {label} | " + " | ".join(f"{metrics[name]:.3f}" for name in METRICS) + " |"

    def describe(weights: Mapping[str, float]) -> str:
        chosen = ", ".join(f"{name} {weight:g}" for name, weight in sorted(weights.items()) if weight)
        return f"{ANCHOR} 1" + (f", {chosen}" if chosen else "")

    lines = [
        f"### Rerank ceiling ({ceiling.questions} questions)",
        "",
        f"An answering passage is among the {ceiling.depth} reranked candidates for "
        f"{ceiling.candidate_recall:.3f} of the questions: no reordering of them can do better at 1 or 5.",
        "Best weightings of the rerank's signals (z-scores among the candidates), fitted on this set itself:",
        "an upper bound for re-weighting, not a setting to adopt.",
        "",
        "| weights | " + " | ".join(METRICS) + " |",
        "|" + "---|" * (len(METRICS) + 1),
        row(f"in use: {describe(IN_USE)}", ceiling.in_use),
    ]
    for metric, (weights, metrics) in ceiling.best.items():
        lines.append(row(f"best {metric}: {describe(weights)}", metrics))
    return "\n".join(lines)
