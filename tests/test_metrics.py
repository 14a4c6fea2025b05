"""Metrics on hand-computed cases and against ranx, the reference implementation."""

from __future__ import annotations

import math
import random

import pytest

from assistant.evaluate.metrics import (
    Span,
    first_hit_rank,
    hit_at,
    ndcg_at,
    question_metrics,
    reciprocal_rank,
    relevance,
)

GOLD = [Span("a.md", 10, 12), Span("b.md", 5, 5)]


def test_overlap_rules() -> None:
    assert Span("a.md", 1, 10).overlaps(Span("a.md", 10, 12))
    assert not Span("a.md", 1, 9).overlaps(Span("a.md", 10, 12))
    assert not Span("b.md", 10, 12).overlaps(Span("a.md", 10, 12))


def test_each_gold_entry_counts_once() -> None:
    returned = [Span("c.md", 1, 3), Span("a.md", 11, 11), Span("a.md", 9, 10), Span("b.md", 1, 20)]
    assert relevance(returned, GOLD) == [-1, 0, -1, 1]


def test_hand_computed_metrics() -> None:
    matched = [-1, 0, -1, 1]
    assert first_hit_rank(matched) == 2
    assert hit_at(matched, 1) == 0.0 and hit_at(matched, 3) == 1.0
    assert reciprocal_rank(matched) == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(matched, 2) == pytest.approx(dcg / ideal)
    assert question_metrics([-1] * 10, 2) == {"hit@1": 0, "hit@3": 0, "hit@5": 0, "mrr@10": 0, "ndcg@10": 0}


def test_against_ranx_on_random_runs() -> None:
    from ranx import Qrels, Run, evaluate

    rng = random.Random(7)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    ours: dict[str, dict[str, float]] = {}
    for q in range(60):
        gold_count = rng.randint(1, 4)
        matched = [rng.choice([-1, -1, -1] + list(range(gold_count))) for _ in range(10)]
        # each gold entry once, as relevance() guarantees
        seen: set[int] = set()
        matched = [g if g not in seen and not seen.add(g) else -1 for g in matched]  # type: ignore[func-returns-value]
        qid = f"q{q}"
        qrels[qid] = {f"g{g}": 1 for g in range(gold_count)}
        run[qid] = {(f"g{g}" if g >= 0 else f"x{rank}"): 10.0 - rank for rank, g in enumerate(matched)}
        ours[qid] = question_metrics(matched, gold_count)
    reference = evaluate(Qrels(qrels), Run(run), ["hit_rate@1", "hit_rate@5", "mrr@10", "ndcg@10"])
    mean = {name: sum(m[name] for m in ours.values()) / len(ours) for name in ("hit@1", "hit@5", "mrr@10", "ndcg@10")}
    assert mean["hit@1"] == pytest.approx(reference["hit_rate@1"])
    assert mean["hit@5"] == pytest.approx(reference["hit_rate@5"])
    assert mean["mrr@10"] == pytest.approx(reference["mrr@10"])
    assert mean["ndcg@10"] == pytest.approx(reference["ndcg@10"])
