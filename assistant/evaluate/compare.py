"""Two runs compared: per-question changes, win/tie/loss, p-values, a verdict and the regression gate.

A comparison pairs each mode of this run with the same mode of the reference (or, when this run has
one mode the reference lacks, with the reference's own mode: `--mode bm25 --against last` weighs
bm25 now against hybrid then). It is made over the questions both runs scored, matched by their
fingerprints (what is asked and what answers it, questions.py), and says so when that is not all of
either. Runs over another notes folder are refused, with the reason, as are runs that share no
question. The notes having changed between the runs is said, not refused: that is often the change
being measured.

The verdict and `--check` apply one rule: worse when Hit@1, Hit@5, MRR@10 or the answer lines' accuracy
fell by more than TOLERANCE; better when none fell and one rose by more; else the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.errors import EvalSetError
from assistant.evaluate.metrics import HEADLINE
from assistant.evaluate.runs import ModeRun, Outcome, RunRecord
from assistant.evaluate.significance import paired_randomization

if TYPE_CHECKING:
    from assistant.evaluate.run import RunResult

TOLERANCE = 0.01
COMPARED = ("hit@1", "hit@3", "hit@5", "mrr@10")
"""The metrics compared question by question (each follows from a question's first-hit rank)."""
ANSWER_LINES = "answer lines"


class Incomparable(EvalSetError):
    """Two runs that cannot be compared: the reason says why."""


@dataclass(frozen=True)
class MetricChange:
    name: str
    before: float
    after: float
    wins: int = 0
    ties: int = 0
    losses: int = 0
    p_value: float | None = None
    """None for the answer lines' accuracy (not a per-question mean over the same questions)."""

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def gates(self) -> bool:
        return self.name in HEADLINE or self.name == ANSWER_LINES

    @property
    def fell(self) -> bool:
        return self.gates and self.delta < -TOLERANCE

    @property
    def rose(self) -> bool:
        return self.gates and self.delta > TOLERANCE


@dataclass(frozen=True)
class RankChange:
    id: str
    question: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class ModeComparison:
    mode: str
    reference_mode: str
    questions: int
    metrics: list[MetricChange]
    gained: list[RankChange] = field(default_factory=list)
    """Not in the top 10 before, found now."""
    lost: list[RankChange] = field(default_factory=list)
    moved: list[RankChange] = field(default_factory=list)
    """Found in both, at another rank."""
    newly_failing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """By metric: the questions that passed it in the reference and fail it now."""

    @property
    def label(self) -> str:
        return self.mode if self.mode == self.reference_mode else f"{self.mode} (against {self.reference_mode})"


@dataclass(frozen=True)
class Comparison:
    reference: RunRecord
    modes: list[ModeComparison]
    scope: str
    """"all 4 questions", or "the 3 questions both runs share (this run 4, run … 3)"."""
    notes_changed: bool

    @property
    def fell(self) -> list[tuple[ModeComparison, MetricChange]]:
        return [(mode, m) for mode in self.modes for m in mode.metrics if m.fell]

    @property
    def rose(self) -> list[tuple[ModeComparison, MetricChange]]:
        return [(mode, m) for mode in self.modes for m in mode.metrics if m.rose]

    @property
    def word(self) -> str:
        return "worse" if self.fell else "better" if self.rose else "same"


def compare_runs(current: RunRecord, reference: RunRecord) -> Comparison:
    """This run against the reference, or Incomparable with the reason."""
    _same_notes(current, reference)
    pairs = _mode_pairs(current, reference)
    shared = [fp for fp in current.modes[pairs[0][0]].outcomes if fp in reference.modes[pairs[0][1]].outcomes]
    if not shared:
        raise Incomparable(
            f"{reference.label} shares no question with this run: its questions are not this set's",
            "compare runs of the same question set (`notes eval --runs` lists them)",
        )
    mine, theirs = len(current.modes[pairs[0][0]].outcomes), len(reference.modes[pairs[0][1]].outcomes)
    if len(shared) == mine == theirs:
        scope = f"all {mine} questions"
    else:
        scope = f"the {len(shared)} questions both runs share (of {mine} in this run, {theirs} in that one)"
    whole = len(shared) == mine == theirs
    modes = [
        _compare_mode(current.modes[now], reference.modes[then], shared, whole=whole and now == then)
        for now, then in pairs
    ]
    changed = bool(current.index_fingerprint and reference.index_fingerprint) and (
        current.index_fingerprint != reference.index_fingerprint
    )
    return Comparison(reference, modes, scope, changed)


def _same_notes(current: RunRecord, reference: RunRecord) -> None:
    if current.notes == reference.notes:
        return
    mine, theirs = current.note_files, reference.note_files
    if mine and theirs and len(mine & theirs) * 2 >= max(len(mine), len(theirs)):
        return  # the same notes, indexed from another place (the committed baseline was made on another machine)
    raise Incomparable(
        f"{reference.label} is over other notes ({reference.notes}, {len(theirs)} notes), not these "
        f"({current.notes}, {len(mine)} notes; {len(mine & theirs)} in common): their questions are about other notes",
        "compare runs over the same notes folder (`notes eval --corpus DIR --runs` lists them)",
    )


def _mode_pairs(current: RunRecord, reference: RunRecord) -> list[tuple[str, str]]:
    same = [(mode, mode) for mode in current.modes if mode in reference.modes]
    if same:
        return same
    if len(current.modes) == 1:
        return [(next(iter(current.modes)), reference.primary_mode)]
    raise Incomparable(f"{reference.label} has none of this run's modes ({', '.join(current.modes)})")


def _value(metric: str, rank: int | None) -> float:
    if rank is None:
        return 0.0
    if metric == "mrr@10":
        return 1.0 / rank if rank <= 10 else 0.0
    return 1.0 if rank <= int(metric.split("@")[1]) else 0.0


def _compare_mode(now: ModeRun, then: ModeRun, shared: Sequence[str], *, whole: bool) -> ModeComparison:
    after = [now.outcomes[fp] for fp in shared]
    before = [then.outcomes[fp] for fp in shared]
    metrics: list[MetricChange] = []
    newly: dict[str, tuple[str, ...]] = {}
    for metric in COMPARED:
        old = [_value(metric, o.rank) for o in before]
        new = [_value(metric, o.rank) for o in after]
        pairs = list(zip(old, new, strict=True))
        # Over the whole of both sets, the figures are the runs' own (the committed baseline's included).
        mean_old = then.metrics.get(metric, 0.0) if whole and metric in then.metrics else sum(old) / len(old)
        mean_new = now.metrics.get(metric, 0.0) if whole and metric in now.metrics else sum(new) / len(new)
        metrics.append(
            MetricChange(
                metric,
                mean_old,
                mean_new,
                wins=sum(1 for a, b in pairs if b > a),
                ties=sum(1 for a, b in pairs if b == a),
                losses=sum(1 for a, b in pairs if b < a),
                p_value=paired_randomization(old, new),
            )
        )
        newly[metric] = tuple(o.id for o, a, b in zip(after, old, new, strict=True) if a > 0 and b == 0)
    answers = _answer_change(before, after, then, now, whole=whole)
    if answers is not None:
        metrics.append(answers[0])
        newly[ANSWER_LINES] = answers[1]
    gained, lost, moved = [], [], []
    for old_outcome, new_outcome in zip(before, after, strict=True):
        change = RankChange(new_outcome.id, new_outcome.question, old_outcome.rank, new_outcome.rank)
        if old_outcome.rank == new_outcome.rank:
            continue
        if old_outcome.rank is None:
            gained.append(change)
        elif new_outcome.rank is None:
            lost.append(change)
        else:
            moved.append(change)
    moved.sort(key=lambda c: (-(abs((c.after or 0) - (c.before or 0))), c.id))
    return ModeComparison(now.mode, then.mode, len(shared), metrics, gained, lost, moved, newly)


def _answer_change(
    before: Sequence[Outcome], after: Sequence[Outcome], then: ModeRun, now: ModeRun, *, whole: bool
) -> tuple[MetricChange, tuple[str, ...]] | None:
    """The answer lines' accuracy (among questions whose rank-1 passage hits) before and after, and
    the questions whose answer lines were right before and are not now; None when the reference
    predates answer lines."""
    if not then.answers or not float(then.answers.get("n", 0)):
        return None

    def accuracy(outcomes: Sequence[Outcome]) -> float:
        first = [o for o in outcomes if o.rank == 1]
        return sum(1 for o in first if o.answer_hits) / len(first) if first else 0.0

    old = float(then.answers.get("answer", 0.0)) if whole else accuracy(before)
    new = float(now.answers.get("answer", 0.0)) if whole else accuracy(after)
    newly = tuple(a.id for b, a in zip(before, after, strict=True) if b.answer_hits and not a.answer_hits)
    return MetricChange(ANSWER_LINES, old, new), newly


# ---------------------------------------------------------------- the gate


MAX_ANSWER_LINES = 1.5
"""The gate's ceiling on the answers' average length in lines: longer answers buy accuracy (any
overlap with a gold span counts), so accuracy is only worth as much as the answers stay short."""


@dataclass(frozen=True)
class GateFailure:
    mode: str
    metric: str
    baseline: float
    """The reference's figure, or for a `ceiling` the most allowed."""
    now: float
    newly_failing: tuple[str, ...]
    ceiling: bool = False
    """A figure that must stay at or below `baseline` (the answers' average length), not above it."""


def gate_failures(comparison: Comparison) -> list[GateFailure]:
    """Hit@1, Hit@5, MRR@10 or answer-line accuracy more than TOLERANCE below the reference, with the
    questions that newly fail each."""
    return [
        GateFailure(mode.label, change.name, change.before, change.after, mode.newly_failing.get(change.name, ()))
        for mode, change in comparison.fell
    ]


def answer_length_failures(results: Sequence[RunResult]) -> list[GateFailure]:
    """The default mode's answers, when they average more than MAX_ANSWER_LINES lines (the other
    modes' answer lines are chosen with fewer signals; their accuracy is gated, not their length)."""
    failures = []
    for result in results:
        if result.mode != "hybrid":
            continue
        length = float(result.answers.get("avg_lines", 0.0))
        if length > MAX_ANSWER_LINES:
            failures.append(
                GateFailure(result.mode, "answer lines' average length", MAX_ANSWER_LINES, length, (), ceiling=True)
            )
    return failures
