"""Stage 7, evaluate: a question set → the same `Engine.search` users get → per-question ranks and metrics.

The set is read and checked against the notes by questions.py (hand-written questions strictly,
marked ones re-anchored); this module asks each scorable question in one mode and scores the top
10. Kept runs, comparisons, reports and the gate build on `RunResult`s: runs.py, compare.py,
report.py. `load_questions` and `check_against_baseline` are here for measurement scripts
(docs/measure/) and older callers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Mode
from assistant.errors import EvalSetError
from assistant.evaluate.answer_eval import answer_row, summarise
from assistant.evaluate.compare import TOLERANCE, GateFailure, compare_runs, gate_failures
from assistant.evaluate.metrics import Span, first_hit_rank, mean_metrics, question_metrics, relevance
from assistant.evaluate.questions import KINDS, EvalQuestion, load_questions
from assistant.evaluate.runs import load_json, read_run
from assistant.retrieve.results import SearchResponse

__all__ = [
    "DEPTH",
    "KINDS",
    "TOLERANCE",
    "Asks",
    "EvalQuestion",
    "RunResult",
    "check_against_baseline",
    "load_baseline",
    "load_questions",
    "result_record",
    "run_eval",
]


class Asks(Protocol):
    """What an eval asks its questions of: `Engine.search` (what users get), or, in measurement
    scripts, a `Searcher` whose index they have varied."""

    def search(self, question: str, /, *, k: int, mode: Mode) -> SearchResponse: ...


DEPTH = 10


@dataclass
class RunResult:
    mode: str
    metrics: dict[str, float]
    by_kind: dict[str, dict[str, float]]
    by_file: dict[str, dict[str, float]]
    per_question: list[dict[str, Any]]
    avg_passage_lines: float
    avg_passage_chars: float
    latency_ms_p50: float
    answers: dict[str, Any] = field(default_factory=dict)
    """Answer-line accuracy beside its baselines, overall and per kind (answer_eval.summarise)."""


def run_eval(engine: Asks, questions: Sequence[EvalQuestion], mode: Mode) -> RunResult:
    """Search every question as a user would and score the top 10."""
    rows: list[dict[str, float]] = []
    per_question: list[dict[str, Any]] = []
    grouped_kind: dict[str, list[dict[str, float]]] = defaultdict(list)
    grouped_file: dict[str, list[dict[str, float]]] = defaultdict(list)
    lines = chars = shown = 0
    latencies: list[float] = []
    answered: list[tuple[str, dict[str, Any]]] = []
    for question in questions:
        started = time.perf_counter()
        response = engine.search(question.question, k=DEPTH, mode=mode)
        latencies.append(time.perf_counter() - started)
        returned = [Span(h.chunk.file, h.chunk.start_line, h.chunk.end_line) for h in response.hits]
        matched = relevance(returned, question.gold)
        scores = question_metrics(matched, len(question.gold))
        rows.append(scores)
        grouped_kind[question.kind].append(scores)
        grouped_file[question.primary_file].append(scores)
        for hit in response.hits[:5]:
            lines += hit.chunk.end_line - hit.chunk.start_line + 1
            chars += len(hit.chunk.text)
            shown += 1
        record: dict[str, Any] = {
            "id": question.id,
            "question": question.question,
            "kind": question.kind,
            "rank": first_hit_rank(matched),
            "returned": [f"{s.file}:{s.start_line}-{s.end_line}" for s in returned[:5]],
            "gold": [f"{s.file}:{s.start_line}-{s.end_line}" for s in question.gold],
            "fingerprint": question.fingerprint,
        }
        if question.anchored_from:
            record["moved_from"] = [f"{s.file}:{s.start_line}-{s.end_line}" for s in question.anchored_from]
        if matched and matched[0] >= 0:
            row = answer_row(response.hits[0], question.gold, response.searched)
            answered.append((question.kind, row))
            record["answer"], record["answer_hits"] = row["cited"], row["answer"]
        per_question.append(record)
    latencies.sort()
    return RunResult(
        mode=mode,
        metrics=mean_metrics(rows),
        by_kind={kind: mean_metrics(group) | {"n": len(group)} for kind, group in sorted(grouped_kind.items())},
        by_file={file: mean_metrics(group) | {"n": len(group)} for file, group in sorted(grouped_file.items())},
        per_question=per_question,
        avg_passage_lines=lines / shown if shown else 0.0,
        avg_passage_chars=chars / shown if shown else 0.0,
        latency_ms_p50=latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        answers=summarise(answered),
    )


def load_baseline(path: Path) -> dict[str, Any]:
    """A baseline file (a run record), read; EvalSetError naming the fix when it cannot be."""
    try:
        baseline = load_json(path)
    except EvalSetError as exc:
        raise EvalSetError(exc.message, "run `notes eval --update-baseline`") from exc
    if "runs" not in baseline:
        raise EvalSetError(f"baseline {path} has no runs", "run `notes eval --update-baseline`")
    return baseline


def result_record(result: RunResult) -> dict[str, Any]:
    """A mode's figures and per-question ranks as a run record holds them (runs.run_record)."""
    return {
        "mode": result.mode,
        "metrics": result.metrics,
        "by_kind": result.by_kind,
        "by_file": result.by_file,
        "avg_passage_lines": result.avg_passage_lines,
        "avg_passage_chars": result.avg_passage_chars,
        "latency_ms_p50": result.latency_ms_p50,
        "answers": result.answers,
        "per_question": result.per_question,
    }


def check_against_baseline(result: RunResult, baseline: dict[str, Any]) -> list[GateFailure]:
    """Headline metrics or answer-line accuracy more than TOLERANCE below the baseline, with the
    questions that newly fail (compare.gate_failures over one mode)."""
    record = result_record(result)
    reference = read_run(baseline, "baseline", "the baseline", record["per_question"])
    if result.mode not in reference.modes:
        raise EvalSetError(f"baseline has no figures for mode {result.mode!r}", "run `notes eval --update-baseline`")
    current = read_run({"runs": {result.mode: record}}, "this run", "this run")
    return gate_failures(compare_runs(current, reference))
