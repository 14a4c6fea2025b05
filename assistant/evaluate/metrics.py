"""Retrieval metrics over line-span passages, under their standard names.

A returned passage hits a gold entry when it is from the same file and its line span overlaps the
gold span. Each gold entry counts once: a second passage over the same gold lines is not relevant
again, so near-duplicate passages cannot inflate nDCG. With that mapping a ranked list becomes a
binary relevance vector, and Hit@k, MRR@10 and nDCG@10 are the textbook definitions (checked against
ranx in tests/test_metrics.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    file: str
    start_line: int
    end_line: int

    def overlaps(self, other: Span) -> bool:
        return self.file == other.file and self.start_line <= other.end_line and other.start_line <= self.end_line


def relevance(returned: Sequence[Span], gold: Sequence[Span]) -> list[int]:
    """For each returned passage, the index of the (first unclaimed) gold entry it hits, or -1."""
    claimed: set[int] = set()
    matched: list[int] = []
    for passage in returned:
        found = -1
        for index, entry in enumerate(gold):
            if index not in claimed and passage.overlaps(entry):
                found = index
                claimed.add(index)
                break
        matched.append(found)
    return matched


def first_hit_rank(matched: Sequence[int]) -> int | None:
    """1-based rank of the first relevant passage, None when none is."""
    for rank, gold_index in enumerate(matched, 1):
        if gold_index >= 0:
            return rank
    return None


def hit_at(matched: Sequence[int], k: int) -> float:
    return 1.0 if any(g >= 0 for g in matched[:k]) else 0.0


def reciprocal_rank(matched: Sequence[int], k: int = 10) -> float:
    rank = first_hit_rank(matched[:k])
    return 1.0 / rank if rank else 0.0


def ndcg_at(matched: Sequence[int], gold_count: int, k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(rank + 1) for rank, g in enumerate(matched[:k], 1) if g >= 0)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(gold_count, k) + 1))
    return dcg / ideal if ideal else 0.0


HEADLINE = ("hit@1", "hit@5", "mrr@10")
METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10")


def question_metrics(matched: Sequence[int], gold_count: int) -> dict[str, float]:
    return {
        "hit@1": hit_at(matched, 1),
        "hit@3": hit_at(matched, 3),
        "hit@5": hit_at(matched, 5),
        "mrr@10": reciprocal_rank(matched, 10),
        "ndcg@10": ndcg_at(matched, gold_count, 10),
    }


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {name: 0.0 for name in METRICS}
    return {name: sum(row[name] for row in rows) / len(rows) for name in METRICS}
