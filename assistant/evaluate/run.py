"""Stage 7, evaluate: the fixed question set → the same `Engine.search` users get → metrics, report, gate.

`evals/questions.jsonl` holds hand-written questions with gold line spans (validated against the
corpus on load); `evals/baseline.json` the committed figures that `--check` refuses to fall below
(by more than 0.01 on Hit@1, Hit@5, MRR@10 or answer-line accuracy, answer_eval.py), and the
answers' average length must stay within `MAX_ANSWER_LINES`. Each run
records its settings and the index manifest, so every number traces back to the configuration that
produced it.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Mode
from assistant.errors import EvalSetError
from assistant.evaluate.answer_eval import answer_row, format_answers, summarise
from assistant.evaluate.metrics import (
    HEADLINE,
    METRICS,
    Span,
    first_hit_rank,
    mean_metrics,
    question_metrics,
    relevance,
)
from assistant.machine import describe, summary
from assistant.notes.ingest import note_lines
from assistant.retrieve.results import SearchResponse
from assistant.store.manifest import Manifest


class Asks(Protocol):
    """What an eval asks its questions of: `Engine.search` (what users get), or, in measurement
    scripts, a `Searcher` whose index they have varied."""

    def search(self, question: str, /, *, k: int, mode: Mode) -> SearchResponse: ...


KINDS = ("paraphrase", "keyword", "typo", "heading", "natural")
DEPTH = 10
TOLERANCE = 0.01
MAX_ANSWER_LINES = 1.5
"""The gate's ceiling on the answers' average length in lines: longer answers buy accuracy (any
overlap with a gold span counts), so accuracy is only worth as much as the answers stay short."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    kind: str
    gold: tuple[Span, ...]
    evidence: tuple[str, ...] = field(default=())

    @property
    def primary_file(self) -> str:
        return self.gold[0].file


def load_questions(path: Path, corpus_dir: Path) -> list[EvalQuestion]:
    """Read and validate an eval set: every gold span and evidence string must match the corpus."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalSetError(f"cannot read eval set {path}: {exc.strerror or exc}") from exc
    file_lines: dict[str, list[str]] = {}
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
            qid, text, kind, gold = record["id"], record["question"], record["kind"], record["gold"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalSetError(f"{where}: not a question object ({exc})") from exc
        if qid in seen:
            raise EvalSetError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        if kind not in KINDS:
            raise EvalSetError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not str(text).strip() or not gold:
            raise EvalSetError(f"{where}: empty question or no gold entries")
        spans = []
        evidence = []
        for entry in gold:
            span = Span(str(entry["file"]), int(entry["start_line"]), int(entry["end_line"]))
            _check_gold(where, span, str(entry.get("evidence", "")), corpus_dir, file_lines)
            spans.append(span)
            evidence.append(str(entry.get("evidence", "")))
        questions.append(EvalQuestion(str(qid), str(text), str(kind), tuple(spans), tuple(evidence)))
    if not questions:
        raise EvalSetError(f"{path} holds no questions")
    return questions


def _check_gold(where: str, span: Span, evidence: str, corpus_dir: Path, cache: dict[str, list[str]]) -> None:
    if span.file not in cache:
        try:
            cache[span.file] = note_lines(corpus_dir / span.file)
        except OSError as exc:
            raise EvalSetError(f"{where}: gold file {span.file!r} not in {corpus_dir}") from exc
    lines = cache[span.file]
    if not 1 <= span.start_line <= span.end_line <= len(lines):
        raise EvalSetError(f"{where}: span {span.start_line}-{span.end_line} outside {span.file} ({len(lines)} lines)")
    chosen = lines[span.start_line - 1 : span.end_line]
    if not chosen[0].strip() or not chosen[-1].strip():
        raise EvalSetError(
            f"{where}: span {span.file}:{span.start_line}-{span.end_line} starts or ends on a blank line"
        )
    words = len(evidence.split())
    if not 4 <= words <= 15:
        raise EvalSetError(f"{where}: evidence must be 4-15 words, has {words}")
    if not any(evidence in line for line in chosen):
        raise EvalSetError(f"{where}: evidence {evidence!r} not found in {span.file}:{span.start_line}-{span.end_line}")


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
        }
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


def _row(label: str, metrics: dict[str, float], n: int | None = None) -> str:
    cells = " | ".join(f"{metrics[name]:.3f}" for name in METRICS)
    return f"| {label} | {'' if n is None else n} | {cells} |"


def format_table(results: Sequence[RunResult]) -> str:
    """Markdown table: one row per mode, then paraphrase-only rows (the hard part) per mode."""
    header = "| run | n | " + " | ".join(METRICS) + " | avg lines | avg chars |"
    lines = [header, "|" + "---|" * (len(METRICS) + 4)]
    for result in results:
        n = len(result.per_question)
        lines.append(
            _row(result.mode, result.metrics, n) + f" {result.avg_passage_lines:.1f} | {result.avg_passage_chars:.0f} |"
        )
    for result in results:
        if "paraphrase" in result.by_kind:
            group = result.by_kind["paraphrase"]
            lines.append(_row(f"{result.mode}: paraphrase", group, int(group["n"])) + " | |")
    return "\n".join(lines)


def format_breakdown(result: RunResult) -> str:
    header = "| group | n | " + " | ".join(METRICS) + " |"
    lines = [f"### {result.mode}: by kind", "", header, "|" + "---|" * (len(METRICS) + 2)]
    lines += [_row(kind, group, int(group["n"])) for kind, group in result.by_kind.items()]
    lines += ["", f"### {result.mode}: by file (primary gold file)", "", header, "|" + "---|" * (len(METRICS) + 2)]
    lines += [_row(file, group, int(group["n"])) for file, group in result.by_file.items()]
    return "\n".join(lines)


def format_misses(result: RunResult) -> str:
    missed = [q for q in result.per_question if q["rank"] is None or q["rank"] > 5]
    lines = [f"### {result.mode}: {len(missed)} questions missed at 5", ""]
    for q in missed:
        lines.append(
            f"- `{q['id']}` ({q['kind']}) {q['question']!r}: gold {', '.join(q['gold'])}; "
            f"got {', '.join(q['returned'])}" + (f" (first hit at {q['rank']})" if q["rank"] else "")
        )
    return "\n".join(lines)


def report_markdown(results: Sequence[RunResult], settings: dict[str, Any], manifest: Manifest) -> str:
    built_on = summary(manifest.machine) if manifest.machine else "?"
    parts = [
        "# Retrieval eval report",
        "",
        f"Set: `{settings.get('set')}`, {len(results[0].per_question)} questions; "
        f"model `{manifest.model.name}`; {manifest.chunk_count} chunks (chunker v{manifest.chunker_version}).",
        f"Notes embedded with {manifest.embedding.get('path', '?')} on {built_on}; evaluated on {summary()}.",
        "",
        format_table(results),
        "",
    ]
    for result in results:
        parts += [
            format_answers(result.mode, result.answers),
            "",
            format_breakdown(result),
            "",
            format_misses(result),
            "",
        ]
    return "\n".join(parts)


def result_record(result: RunResult) -> dict[str, Any]:
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


def write_reports(
    results: Sequence[RunResult],
    run_settings: dict[str, Any],
    manifest: Manifest,
    report_dir: Path,
    baseline_path: Path | None = None,
) -> list[Path]:
    """report.md and report.json (metrics, per-question ranks, settings, the index manifest and the
    machine it ran on); the same record becomes the baseline when baseline_path is given."""
    described = manifest.to_json()
    record = {
        "settings": run_settings,
        "machine": describe(),
        "manifest": {key: value for key, value in described.items() if key not in ("files", "stored")},
        "files": {name: note.hash for name, note in manifest.files.items()},
        "runs": {result.mode: result_record(result) for result in results},
    }
    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    report_dir.mkdir(parents=True, exist_ok=True)
    written = [report_dir / "report.md", report_dir / "report.json"]
    written[0].write_text(report_markdown(results, run_settings, manifest), encoding="utf-8")
    written[1].write_text(text, encoding="utf-8")
    if baseline_path is not None:
        baseline_path.write_text(text, encoding="utf-8")
        written.append(baseline_path)
    return written


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalSetError(f"cannot read baseline {path}: {exc}", "run `notes eval --update-baseline`") from exc
    if not isinstance(baseline, dict) or "runs" not in baseline:
        raise EvalSetError(f"baseline {path} has no runs", "run `notes eval --update-baseline`")
    return baseline


@dataclass(frozen=True)
class GateFailure:
    metric: str
    baseline: float
    """The baseline's figure, or for a `ceiling` the most allowed."""
    now: float
    newly_failing: tuple[str, ...]
    ceiling: bool = False
    """A figure that must stay at or below `baseline` (the answers' average length), not above it."""


def check_against_baseline(result: RunResult, baseline: dict[str, Any]) -> list[GateFailure]:
    """Headline metrics more than TOLERANCE below the baseline, with the questions that newly fail."""
    try:
        base = baseline["runs"][result.mode]
    except KeyError as exc:
        raise EvalSetError(
            f"baseline has no figures for mode {result.mode!r}", "run `notes eval --update-baseline`"
        ) from exc
    before = {q["id"]: q["rank"] for q in base.get("per_question", [])}
    failures: list[GateFailure] = []
    for metric in HEADLINE:
        old, new = float(base["metrics"][metric]), result.metrics[metric]
        if new < old - TOLERANCE:
            cutoff = 1 if metric == "hit@1" else (5 if metric == "hit@5" else 10)
            newly = tuple(
                q["id"]
                for q in result.per_question
                if before.get(q["id"]) is not None
                and before[q["id"]] <= cutoff
                and (q["rank"] is None or q["rank"] > cutoff)
            )
            failures.append(GateFailure(metric, old, new, newly))
    if "answers" in base and float(base["answers"].get("n", 0)):
        old, new = float(base["answers"]["answer"]), float(result.answers.get("answer", 0.0))
        if new < old - TOLERANCE:
            right_before = {q["id"] for q in base.get("per_question", []) if q.get("answer_hits")}
            newly = tuple(q["id"] for q in result.per_question if q["id"] in right_before and not q.get("answer_hits"))
            failures.append(GateFailure("answer lines", old, new, newly))
    length = float(result.answers.get("avg_lines", 0.0))
    if length > MAX_ANSWER_LINES:
        failures.append(GateFailure("answer lines' average length", MAX_ANSWER_LINES, length, (), ceiling=True))
    return failures
