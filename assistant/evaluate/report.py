"""What `notes eval` says: a verdict line first, then the figures and what changed; the full report to a file.

The verdict names the run it is against (the baseline, else the previous run), the word (better,
same or worse: compare.py's rule, the one `--check` gates on) and the figures that moved, with
their p-values. The details beneath it are short enough for a terminal; everything else (answer
lines, figures by kind and by note, every changed question, every miss) goes to report.md. Note
text and questions are untrusted: the command line makes this text inert before printing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluate.answer_eval import format_answers
from assistant.evaluate.compare import COMPARED, TOLERANCE, Comparison, ModeComparison, RankChange
from assistant.evaluate.metrics import HEADLINE, METRICS
from assistant.evaluate.questions import QuestionSet
from assistant.evaluate.run import RunResult
from assistant.evaluate.runs import RunRecord, write_json
from assistant.machine import summary
from assistant.store.manifest import Manifest

SHOWN_CHANGES = 10
"""Changed questions listed per kind of change in the terminal (all of them are in report.md)."""


def headline(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name} {metrics.get(name, 0.0):.3f}" for name in HEADLINE)


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return " (p<0.001)" if value < 0.001 else f" (p={value:.3f})"


def verdict_word(comparison: Comparison | None, refused: str | None = None) -> str:
    """better, same or worse; "first" without an earlier run; "not compared" when it was refused."""
    if comparison is not None:
        return comparison.word
    return "not compared" if refused else "first"


def verdict_line(
    results: Sequence[RunResult], comparison: Comparison | None, *, run_id: str, refused: str | None = None
) -> str:
    """One line: against what, better/same/worse, and the figures that moved (with p-values)."""
    now = "; ".join(f"{result.mode} {headline(result.metrics)}" for result in results)
    if comparison is None:
        if refused:
            return f"verdict: not compared ({refused}); {now}"
        return (
            f"verdict: first run of this set on these notes: {now} (kept as run {run_id}; later runs compare with it)"
        )
    against = comparison.reference.label
    if not comparison.scope.startswith("all "):
        against += f", on the {comparison.modes[0].questions} questions both share"
    if comparison.word == "same":
        return f"verdict: same as {against}: no figure moved by more than {TOLERANCE} ({now})"
    moved = comparison.fell + [pair for pair in comparison.rose if pair not in comparison.fell]
    by_mode: dict[str, list[str]] = {}
    for mode, change in moved:
        figure = f"{change.name} {change.before:.3f} → {change.after:.3f}{_p(change.p_value)}"
        by_mode.setdefault(mode.label, []).append(figure)
    figures = "; ".join(f"{label} {', '.join(changes)}" for label, changes in by_mode.items())
    return f"verdict: {comparison.word} than {against}: {figures}"


def format_counts(questions: QuestionSet) -> str:
    """ "questions: 4 (3 scored, 1 unanswered, 0 stale)", and which marked answers moved with their note."""
    line = (
        f"questions: {questions.count} ({len(questions.scored)} scored, {len(questions.unanswered)} unanswered, "
        f"{len(questions.stale)} stale)"
    )
    lines = [line]
    for question in questions.moved:
        before = ", ".join(f"{s.file}:{s.start_line}-{s.end_line}" for s in question.anchored_from)
        after = ", ".join(f"{s.file}:{s.start_line}-{s.end_line}" for s in question.gold)
        lines.append(f"  moved with its note: `{question.id}` {question.question!r}: {before} → {after}")
    for stale in questions.stale:
        lines.append(f"  stale (not scored): `{stale.question.id}` {stale.question.question!r}: {stale.reason}")
    for question in questions.unanswered:
        lines.append(f"  unanswered (mark it: notes ask … --mark N): `{question.id}` {question.question!r}")
    return "\n".join(lines)


def _rank(rank: int | None) -> str:
    return "–" if rank is None else str(rank)


def _changes(title: str, changes: Sequence[RankChange], limit: int | None) -> list[str]:
    if not changes:
        return []
    shown = changes if limit is None else changes[:limit]
    lines = [f"  {title} ({len(changes)}):"]
    lines += [f"    `{c.id}` {c.question!r}: {_rank(c.before)} → {_rank(c.after)}" for c in shown]
    if len(shown) < len(changes):
        lines.append(f"    … and {len(changes) - len(shown)} more (in the report)")
    return lines


def format_comparison(comparison: Comparison, *, limit: int | None = SHOWN_CHANGES) -> str:
    """The figures before and after with win/tie/loss and p-values, then the questions gained, lost and
    moved with their ranks before and after (in the top 10; – is a miss)."""
    reference = comparison.reference
    notes = "; the notes changed since (another index fingerprint)" if comparison.notes_changed else ""
    lines = [
        f"compared with {reference.label} on {comparison.scope}{notes}",
        "",
        "| mode | metric | before | after | change | win/tie/loss | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in comparison.modes:
        for change in mode.metrics:
            wtl = f"{change.wins}/{change.ties}/{change.losses}" if change.p_value is not None else ""
            p = "" if change.p_value is None else _p(change.p_value).strip(" ()").removeprefix("p=")
            lines.append(
                f"| {mode.label} | {change.name} | {change.before:.3f} | {change.after:.3f} | "
                f"{change.delta:+.3f} | {wtl} | {p} |"
            )
    lines += [
        "",
        "win/tie/loss: questions whose value of the metric rose/stayed/fell; p: paired randomization test, "
        "two-sided (10,000 sign flips, fixed seed).",
    ]
    for mode in comparison.modes:
        lines += ["", _change_summary(mode)]
        lines += _changes("lost", mode.lost, limit)
        lines += _changes("gained", mode.gained, limit)
        lines += _changes("moved", mode.moved, limit)
    return "\n".join(lines)


def _change_summary(mode: ModeComparison) -> str:
    counts = f"{len(mode.gained)} gained, {len(mode.lost)} lost, {len(mode.moved)} moved"
    return f"{mode.label}, ranks before → after over {mode.questions} questions: {counts}"


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


def missed(result: RunResult) -> list[dict[str, Any]]:
    """The questions whose answer is not in the top 5."""
    return [q for q in result.per_question if q["rank"] is None or q["rank"] > 5]


def format_misses(result: RunResult, limit: int | None = None) -> str:
    misses = missed(result)
    shown = misses if limit is None else misses[:limit]
    lines = [f"### {result.mode}: {len(misses)} question{'' if len(misses) == 1 else 's'} missed at 5", ""]
    for q in shown:
        lines.append(
            f"- `{q['id']}` ({q['kind']}) {q['question']!r}: gold {', '.join(q['gold'])}; "
            f"got {', '.join(q['returned'])}" + (f" (first hit at {q['rank']})" if q["rank"] else "")
        )
    if len(shown) < len(misses):
        lines.append(f"- … and {len(misses) - len(shown)} more (in the report)")
    return "\n".join(lines)


def format_summary(
    results: Sequence[RunResult],
    questions: QuestionSet,
    comparison: Comparison | None,
    verdict: str,
    *,
    limit: int | None = SHOWN_CHANGES,
) -> str:
    """What the terminal shows: the verdict, the counts, the figures, the changes, the first misses."""
    parts = [verdict, "", format_counts(questions), "", format_table(results)]
    if comparison is not None:
        parts += ["", format_comparison(comparison, limit=limit)]
    for result in results:
        parts += ["", format_misses(result, limit)]
    return "\n".join(parts)


def report_markdown(
    results: Sequence[RunResult],
    settings: dict[str, Any],
    manifest: Manifest,
    questions: QuestionSet,
    comparison: Comparison | None = None,
    verdict: str = "",
) -> str:
    """The full report: everything the terminal shows, every changed question, answer lines, figures
    by kind and by note, every miss."""
    built_on = summary(manifest.machine) if manifest.machine else "?"
    parts = [
        "# Retrieval eval report",
        "",
        f"Set: `{settings.get('set')}`, {questions.count} questions; "
        f"model `{manifest.model.name}`; {manifest.chunk_count} chunks (chunker v{manifest.chunker_version}).",
        f"Notes embedded with {manifest.embedding.get('path', '?')} on {built_on}; evaluated on {summary()}.",
        "",
    ]
    if verdict:
        parts += [verdict, ""]
    parts += [format_counts(questions), "", format_table(results), ""]
    if comparison is not None:
        parts += [format_comparison(comparison, limit=None), ""]
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


def write_reports(record: dict[str, Any], markdown: str, report_dir: Path, stem: str = "report") -> list[Path]:
    """`<stem>.md` and `<stem>.json` (the run record) in report_dir."""
    report_dir.mkdir(parents=True, exist_ok=True)
    written = [report_dir / f"{stem}.md", report_dir / f"{stem}.json"]
    written[0].write_text(markdown, encoding="utf-8")
    write_json(written[1], record)
    return written


def json_figures(
    questions: QuestionSet,
    results: Sequence[RunResult],
    comparison: Comparison | None,
    *,
    run_id: str,
    refused: str | None = None,
) -> dict[str, Any]:
    """`--json`: the counts, each mode's figures, the verdict and, against a run, what changed."""
    figures: dict[str, Any] = {
        "questions": questions.count,
        "unanswered": len(questions.unanswered),
        "stale": len(questions.stale),
        "scored": len(questions.scored),
        "modes": {result.mode: {name: result.metrics[name] for name in COMPARED} for result in results},
        "run": run_id,
        "verdict": verdict_word(comparison, refused),
    }
    if refused:
        figures["refused"] = refused
    if comparison is not None:
        figures["against"] = comparison.reference.label
        figures["compared"] = {
            "scope": comparison.scope,
            "modes": {
                mode.mode: {
                    "against": mode.reference_mode,
                    "questions": mode.questions,
                    "gained": len(mode.gained),
                    "lost": len(mode.lost),
                    "moved": len(mode.moved),
                    "metrics": {
                        change.name: {
                            "before": change.before,
                            "after": change.after,
                            "wins": change.wins,
                            "ties": change.ties,
                            "losses": change.losses,
                            "p": change.p_value,
                        }
                        for change in mode.metrics
                    },
                }
                for mode in comparison.modes
            },
        }
    return figures


def format_runs(runs: Sequence[RunRecord], baseline: RunRecord | None) -> str:
    """`notes eval --runs`: one line per kept run, oldest first, and the baseline."""
    if not runs and baseline is None:
        return "no runs kept yet for this set on these notes: `notes eval` makes the first"
    lines = [
        "| run | modes | questions (scored/unanswered/stale) | model | index | figures |",
        "|---|---|---|---|---|---|",
    ]
    for run in ([baseline] if baseline is not None else []) + list(runs):
        first = run.modes[run.primary_mode]
        counts = run.counts
        scored = len(first.outcomes)
        lines.append(
            f"| {run.label} | {', '.join(run.modes)} | {counts.get('questions', scored)} ({scored}/"
            f"{counts.get('unanswered', 0)}/{counts.get('stale', 0)}) | {run.model} | "
            f"{run.index_fingerprint[:8] or '?'} | {run.primary_mode} {headline(first.metrics)} |"
        )
    return "\n".join(lines)
