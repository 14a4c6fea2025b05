"""`notes eval --ceiling`: the weighting grid scored as search would rank, and fitted on the set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest

from assistant.evaluate.ceiling import fusion_ceiling
from assistant.evaluate.metrics import Span
from assistant.evaluate.run import EvalQuestion, load_questions, run_eval
from assistant.notes.chunk import Chunk
from assistant.retrieve.search import RerankSignals, Searcher
from tests.conftest import FakeEmbedder

QUESTIONS = [
    ("a", "lambda memory limit", "lambda.md", 5, "Memory: 128 MB to 10"),
    ("b", "stateless subnet firewall", "network/vpc.md", 5, "Stateless firewall at the subnet"),
    ("c", "how long can a function run", "lambda.md", 6, "Timeout: 15 minutes max"),
    ("d", "firewall on the instance", "network/vpc.md", 9, "Stateful firewall on the instance"),
    ("e", "shared file system", "plain.txt", 5, "EFS: shared file system for many"),
    ("f", "what does it cost", "lambda.md", 10, "Pay per request and per"),
]


def _question_set(tmp_path: Path) -> Path:
    path = tmp_path / "set.jsonl"
    records = [
        {
            "id": qid,
            "question": text,
            "kind": "natural",
            "gold": [{"file": f, "start_line": n, "end_line": n, "evidence": e}],
        }
        for qid, text, f, n, e in QUESTIONS
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_the_weights_in_use_score_what_eval_measures(
    tmp_path: Path, small_corpus: Path, small_index: Path, fake_embedder: FakeEmbedder
) -> None:
    questions = load_questions(_question_set(tmp_path), small_corpus)
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    ceiling = fusion_ceiling(searcher, questions)
    assert ceiling.in_use == pytest.approx(run_eval(searcher, questions, "hybrid").metrics)
    assert ceiling.questions == len(QUESTIONS) and 0 < ceiling.depth <= 30
    for metric, (_weights, best) in ceiling.best.items():
        assert best[metric] >= ceiling.in_use[metric]  # the weights in use are on the grid


class _SignalsOnly:
    """Stands in for a Searcher: its chunks, and fixed rerank signals per question."""

    def __init__(self, chunks: list[Chunk], signals: dict[str, RerankSignals]) -> None:
        self.chunks = chunks
        self._signals = signals

    def rerank_signals(self, query: str) -> RerankSignals | None:
        return self._signals[query]


def test_the_fit_finds_the_signal_that_ranks_the_answer_first() -> None:
    chunks = [Chunk("n.md", (f"H{row}",), 3 * row + 1, 3 * row + 2, f"text {row}") for row in range(4)]
    ranked = [(0, 0.4), (1, 0.3), (2, 0.2), (3, 0.1)]  # the rerank reorders the first three
    signals = {
        # MaxSim puts row 0 first; BM25 at full weight lifts row 1, the answer, above it (worked by hand:
        # z(MaxSim) 1.22, 0, -1.22 plus z(BM25) -0.93, 1.39, -0.46); at 0.4 it is still second.
        "fetched": RerankSignals(ranked, {"maxsim": [0.9, 0.5, 0.1], "bm25": [0.0, 5.0, 1.0]}),
        # The answer, row 3, is past the candidates: fourth whatever the weights.
        "missed": RerankSignals(ranked, {"maxsim": [0.9, 0.5, 0.1], "bm25": [1.0, 2.0, 3.0]}),
    }
    questions = [
        EvalQuestion("q1", "fetched", "natural", (Span("n.md", 4, 5),)),
        EvalQuestion("q2", "missed", "natural", (Span("n.md", 10, 11),)),
    ]
    fake = _SignalsOnly(chunks, signals)
    ceiling = fusion_ceiling(cast(Searcher, fake), questions, grid=(0.0, 0.4, 1.0), signals_of=fake.rerank_signals)
    assert ceiling.candidate_recall == 0.5 and ceiling.depth == 3
    assert ceiling.in_use["hit@1"] == 0.0 and ceiling.in_use["mrr@10"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    weights, best = ceiling.best["mrr@10"]
    assert weights == {"bm25": 1.0}
    assert best["hit@1"] == 0.5 and best["mrr@10"] == pytest.approx((1 + 1 / 4) / 2)


def test_an_index_without_token_vectors_has_no_ceiling() -> None:
    from assistant.errors import UsageProblem

    class NoRerank(_SignalsOnly):
        def rerank_signals(self, query: str) -> RerankSignals | None:
            return None

    question = EvalQuestion("q", "anything", "natural", (Span("n.md", 1, 1),))
    with pytest.raises(UsageProblem, match="no token vectors"):
        fake = NoRerank([], {})
        fusion_ceiling(cast(Searcher, fake), [question], signals_of=fake.rerank_signals)
