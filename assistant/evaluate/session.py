"""One `notes eval`: which set, ask it, keep the run, pick what to compare it with, compare.

Which set: `--set FILE` when given; for ./corpus the shipped `evals/questions.jsonl`; for any other
folder the questions marked on it (marks.py). What to compare with: `--against` (`last`, `baseline`,
a run's id or file) when given, else the folder's baseline when it has one, else the previous run.
The baseline of the shipped set is the committed `evals/baseline.json`; any other set's is
`baseline.json` among its kept runs (`notes eval --update-baseline` writes either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.config import Mode
from assistant.errors import EvalSetError
from assistant.evaluate.compare import Comparison, Incomparable, compare_runs
from assistant.evaluate.marks import marked_set_path
from assistant.evaluate.questions import QuestionSet
from assistant.evaluate.run import DEPTH, Asks, RunResult, result_record, run_eval
from assistant.evaluate.runs import (
    BASELINE_FILE,
    RunRecord,
    find_run,
    keep_run,
    load_json,
    new_run_id,
    read_run,
    run_record,
    runs_dir,
    stored_runs,
)
from assistant.store.manifest import Manifest

SHIPPED_SET = Path("evals/questions.jsonl")
SHIPPED_BASELINE = Path("evals/baseline.json")


def _here(path: Path) -> Path:
    return (Path.cwd() / path.expanduser()).resolve()


def is_shipped_set(set_path: Path) -> bool:
    return _here(set_path) == _here(SHIPPED_SET)


def choose_set(set_path: Path | None, corpus_dir: Path) -> Path:
    """The set `notes eval` asks (see the module's docstring); EvalSetError saying how to make one."""
    if set_path is not None:
        return set_path
    marked = marked_set_path(corpus_dir)
    if _here(corpus_dir) == _here(Path("corpus")) and SHIPPED_SET.is_file():
        return SHIPPED_SET
    if marked.is_file():
        return marked
    raise EvalSetError(
        f"no questions marked on {corpus_dir} yet",
        f"mark answers as you ask: notes ask --corpus {corpus_dir} QUESTION --mark N (or m in the chat app); "
        "or pass --set FILE",
    )


def set_runs_dir(corpus_dir: Path, set_path: Path) -> Path:
    """Where the runs of this set on these notes are kept (the folder's own marked set: `marked`)."""
    own = _here(set_path) == _here(marked_set_path(corpus_dir))
    return runs_dir(corpus_dir, None if own else set_path)


def baseline_file(set_path: Path, store: Path) -> Path:
    return SHIPPED_BASELINE if is_shipped_set(set_path) else store / BASELINE_FILE


@dataclass(frozen=True)
class Evaluation:
    questions: QuestionSet
    results: list[RunResult]
    record: dict[str, Any]
    """The run record, as kept."""
    run: RunRecord
    kept: Path
    comparison: Comparison | None
    refused: str | None
    """Why the default reference could not be compared (None: compared, or nothing to compare with)."""


def evaluate(
    engine: Asks,
    questions: QuestionSet,
    modes: Sequence[Mode],
    *,
    manifest: Manifest,
    settings: dict[str, Any],
    store: Path,
    baseline: Path,
    against: str | None = None,
) -> Evaluation:
    """Ask every scorable question in each mode, keep the run, and compare it with `against` (or the
    baseline, else the previous run). An explicit `against` that cannot be compared raises
    Incomparable with the reason; the default one is reported in `refused` instead."""
    if not questions.scored:
        raise EvalSetError(
            f"nothing to score in {questions.path}: {questions.count} questions, "
            f"{len(questions.unanswered)} unanswered, {len(questions.stale)} stale",
            "mark an answer: notes ask QUESTION --mark N",
        )
    results = [run_eval(engine, questions.scored, mode) for mode in modes]
    run_id = new_run_id(store)
    full = settings | {"k": DEPTH}
    record = run_record([result_record(r) for r in results], full, manifest, questions, run_id=run_id)
    per_question = record["runs"][modes[0]]["per_question"]
    run = read_run(record, run_id, f"run {run_id}")
    reference = find_reference(against, store, baseline, modes[0], per_question)
    try:
        kept = keep_run(store, record)
    except OSError as exc:
        raise EvalSetError(f"cannot keep the run in {store}: {exc.strerror or exc}") from exc
    comparison, refused = None, None
    if reference is not None:
        try:
            comparison = compare_runs(run, reference)
        except Incomparable as exc:
            if against is not None:
                raise
            refused = exc.message
    return Evaluation(questions, results, record, run, kept, comparison, refused)


def find_reference(
    against: str | None, store: Path, baseline: Path, mode: str, current: Sequence[dict[str, Any]] = ()
) -> RunRecord | None:
    """The run a new run in `mode` is compared with: `against`, else the baseline, else the latest
    run in the same mode, else the latest run (None: no earlier run and no baseline)."""
    if against == "baseline" or (against is None and baseline.is_file()):
        if not baseline.is_file():
            raise EvalSetError(f"no baseline yet ({baseline})", "make one: notes eval --update-baseline")
        return read_run(load_json(baseline), str(baseline), f"the baseline {baseline}", current)
    if against is None:
        paths = stored_runs(store)
        for path in reversed(paths):  # newest first: reading stops at the first run in this mode
            run = read_run(load_json(path), path.stem, f"run {path.stem}", current)
            if mode in run.modes:
                return replace(run, label=f"{run.label} (the last {mode} run)")
        if not paths:
            return None
        return read_run(load_json(paths[-1]), paths[-1].stem, f"run {paths[-1].stem} (the last run)", current)
    path = find_run(store, against)
    label = f"run {path.stem}" if path.parent == store else f"run {path}"
    if against == "last":
        label += " (the last run)"
    return read_run(load_json(path), str(path), label, current)


def kept_runs(store: Path, baseline: Path) -> tuple[list[RunRecord], RunRecord | None]:
    """The kept runs (oldest first) and the baseline, for `notes eval --runs`."""
    runs = [read_run(load_json(path), path.stem, path.stem) for path in stored_runs(store)]
    base = read_run(load_json(baseline), str(baseline), f"baseline ({baseline})") if baseline.is_file() else None
    return runs, base


__all__ = ["SHIPPED_SET", "Evaluation", "baseline_file", "choose_set", "evaluate", "kept_runs", "set_runs_dir"]
