"""Question sets: the JSONL files an eval asks, read, checked against the notes, and written back.

One format for every set (`evals/questions.jsonl` and the sets marked while asking): a line per
question, `{"id", "question", "kind", "gold": [{"file", "start_line", "end_line", "evidence"}]}`.
Two kinds of question follow two rules:
- written by hand (`paraphrase`, `keyword`, `typo`, `heading`, `natural`): checked strictly, since
  they are committed beside the notes they are about: every span inside its note, not starting or
  ending on a blank line, its 4-15 word evidence verbatim in the span; any mismatch is an error;
- `marked` (marks.py: answers marked while asking): the gold follows the note (anchor.py), a mark
  whose lines are gone is stale (reported, not scored), and one with no gold is an open question
  ("none of these answer it", to be marked later). Their evidence is the answer's first line, so
  the 4-15 word rule does not apply: any non-empty text up to MAX_EVIDENCE characters.

A question's fingerprint stands for what it asks and what answers it (not where that is now), so
runs before and after an edit to the notes compare the same questions (runs.py, compare.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from assistant.errors import EvalSetError
from assistant.evaluate.anchor import anchor
from assistant.evaluate.metrics import Span
from assistant.notes.ingest import note_lines

MARKED = "marked"
KINDS = ("paraphrase", "keyword", "typo", "heading", "natural", MARKED)
MAX_EVIDENCE = 300
"""Characters of a marked answer's first line kept as its evidence (a line can be very long)."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    kind: str
    gold: tuple[Span, ...]
    evidence: tuple[str, ...] = field(default=())
    anchored_from: tuple[Span, ...] = field(default=())
    """For a marked question whose lines moved: where the set recorded them (empty: unmoved)."""

    @property
    def primary_file(self) -> str:
        return self.gold[0].file

    @property
    def fingerprint(self) -> str:
        """What the question asks and what answers it: a marked answer by its note and evidence (it
        may move), a hand-written one by its exact spans too."""
        gold: list[list[Any]] = []
        for span, evidence in zip(self.gold, self.evidence or ("",) * len(self.gold), strict=True):
            where = [span.file] if self.kind == MARKED else [span.file, span.start_line, span.end_line]
            gold.append([*where, evidence])
        return _digest([self.id, self.question, gold])


@dataclass(frozen=True)
class StaleQuestion:
    question: EvalQuestion
    """As the set records it."""
    reason: str


@dataclass(frozen=True)
class QuestionSet:
    """A set as it stands against the notes today: the questions to score (marked ones re-anchored),
    the open ones (no answer marked yet) and the stale ones (their marked lines are gone)."""

    path: Path
    scored: list[EvalQuestion]
    unanswered: list[EvalQuestion] = field(default_factory=list)
    stale: list[StaleQuestion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.scored) + len(self.unanswered) + len(self.stale)

    @property
    def moved(self) -> list[EvalQuestion]:
        return [q for q in self.scored if q.anchored_from]

    @property
    def fingerprint(self) -> str:
        """Every question's fingerprint, whatever its state: two runs of one set share it."""
        every = [q.fingerprint for q in self.scored + self.unanswered] + [s.question.fingerprint for s in self.stale]
        return _digest(sorted(every))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def question_id(question: str) -> str:
    """A marked question's id: the same question (case and spacing aside) always gets the same one."""
    return "m-" + hashlib.sha256(normal_question(question).encode("utf-8")).hexdigest()[:12]


def normal_question(question: str) -> str:
    return " ".join(question.split()).casefold()


# ---------------------------------------------------------------- reading and writing


def read_records(path: Path, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    """The set's lines as JSON objects, in order (a blank line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        if missing_ok:
            return []
        raise EvalSetError(f"cannot read eval set {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"cannot read eval set {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise EvalSetError(f"{path}:{number}: not a question object ({exc})") from exc
        if not isinstance(record, dict):
            raise EvalSetError(f"{path}:{number}: not a question object")
        records.append(record | {"_line": number})
    return records


def write_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Replace the set in one `os.replace`, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps({k: v for k, v in r.items() if k != "_line"}, ensure_ascii=False) + "\n" for r in records)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_set(path: Path, corpus_dir: Path) -> QuestionSet:
    """Read and check a set against the notes as they are now (see the module's docstring)."""
    cache: dict[str, list[str] | None] = {}
    scored: list[EvalQuestion] = []
    unanswered: list[EvalQuestion] = []
    stale: list[StaleQuestion] = []
    seen: set[str] = set()
    for record in read_records(path):
        where = f"{path}:{record['_line']}"
        try:
            qid, text, kind, gold = record["id"], record["question"], record["kind"], record["gold"]
            entries = [
                (str(e["file"]), int(e["start_line"]), int(e["end_line"]), str(e.get("evidence", ""))) for e in gold
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalSetError(f"{where}: not a question object ({exc})") from exc
        if qid in seen:
            raise EvalSetError(f"{where}: duplicate id {qid!r}")
        seen.add(str(qid))
        if kind not in KINDS:
            raise EvalSetError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not str(text).strip():
            raise EvalSetError(f"{where}: empty question")
        if not entries and kind != MARKED:
            raise EvalSetError(f"{where}: no gold entries")
        for file, start, end, _evidence in entries:
            if PurePosixPath(file).is_absolute() or ".." in PurePosixPath(file).parts or start > end:
                raise EvalSetError(
                    f"{where}: gold {file}:{start}-{end} is not a span of a note inside the notes folder"
                )
        spans = tuple(Span(file, start, end) for file, start, end, _ in entries)
        evidence = tuple(entry[3] for entry in entries)
        question = EvalQuestion(str(qid), str(text), str(kind), spans, evidence)
        if kind != MARKED:
            for span, said in zip(spans, evidence, strict=True):
                _check_gold(where, span, said, _lines(corpus_dir, span.file, cache))
            scored.append(question)
        elif not spans:
            unanswered.append(question)
        else:
            marked = _anchor_marked(where, question, corpus_dir, cache)
            if isinstance(marked, StaleQuestion):
                stale.append(marked)
            else:
                scored.append(marked)
    if not (scored or unanswered or stale):
        raise EvalSetError(f"{path} holds no questions")
    return QuestionSet(path, scored, unanswered, stale)


def load_questions(path: Path, corpus_dir: Path) -> list[EvalQuestion]:
    """The questions of a set that can be scored today (what scripts and the ceiling search ask)."""
    return load_set(path, corpus_dir).scored


def _lines(corpus_dir: Path, file: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if file not in cache:
        try:
            cache[file] = note_lines(corpus_dir / file)
        except OSError:
            cache[file] = None
    return cache[file]


def _anchor_marked(
    where: str, question: EvalQuestion, corpus_dir: Path, cache: dict[str, list[str] | None]
) -> EvalQuestion | StaleQuestion:
    spans: list[Span] = []
    for span, evidence in zip(question.gold, question.evidence, strict=True):
        if not evidence.strip() or len(evidence) > MAX_EVIDENCE:
            raise EvalSetError(f"{where}: a marked answer's evidence must be 1-{MAX_EVIDENCE} characters")
        found = anchor(span, evidence, _lines(corpus_dir, span.file, cache))
        if found.span is None:
            return StaleQuestion(question, found.reason)
        spans.append(found.span)
    if tuple(spans) == question.gold:
        return question
    return EvalQuestion(question.id, question.question, question.kind, tuple(spans), question.evidence, question.gold)


def _check_gold(where: str, span: Span, evidence: str, lines: list[str] | None) -> None:
    if lines is None:
        raise EvalSetError(f"{where}: gold file {span.file!r} is not in the notes folder")
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
