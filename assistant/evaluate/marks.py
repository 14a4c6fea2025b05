"""Marking answers while asking: the user's own eval set, built from the results they saw.

`notes ask QUESTION --mark N` and the chat app's mark keys both end here, with the response the user
saw: the result's answer lines become the question's gold (`kind: "marked"`), with the text of their
first line as evidence (what re-anchors them when the note changes, anchor.py); "none of these"
keeps the question with no gold, an open question to mark later. Each notes folder has its own set,
outside the notes (they are never written to): `$XDG_DATA_HOME/notes-assistant/sets/<folder>.jsonl`.
Marking a question again replaces its earlier mark, so a set holds each question once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import data_root, folder_key
from assistant.errors import EvalSetError
from assistant.evaluate.anchor import anchor
from assistant.evaluate.metrics import Span
from assistant.evaluate.questions import (
    MARKED,
    MAX_EVIDENCE,
    normal_question,
    question_id,
    read_records,
    write_records,
)
from assistant.notes.ingest import note_lines
from assistant.retrieve.results import Hit, SearchResponse


def marked_set_path(corpus_dir: Path) -> Path:
    """Where one notes folder's marked questions are kept."""
    return data_root() / "sets" / f"{folder_key(corpus_dir)}.jsonl"


@dataclass(frozen=True)
class Marked:
    """What a mark saved, for the front end to show."""

    record: dict[str, Any]
    """The set's line for the question, as written."""
    set_path: Path
    updated: bool
    """True when it replaced an earlier mark of the same question."""
    questions: int
    unanswered: int
    """The set's counts after saving."""


def marked_question(response: SearchResponse) -> str:
    """The question a mark records: as typed, except a follow-up ("and the timeout?"), which is kept
    as searched (completed from the previous turn) so that it stands on its own in an eval."""
    return response.searched if "follow-up" in response.rewrites else response.query


def mark_answer(set_path: Path, response: SearchResponse, rank: int, corpus_dir: Path) -> Marked:
    """Save result `rank` (1-based) of `response` as the answer to its question."""
    if not 1 <= rank <= len(response.hits):
        count = f"{len(response.hits)} result{'s' if len(response.hits) != 1 else ''}"
        raise EvalSetError(f"cannot mark result {rank}: this question has {count}")
    question = marked_question(response)
    record = {
        "id": question_id(question),
        "question": question,
        "kind": MARKED,
        "gold": [answer_gold(response.hits[rank - 1], corpus_dir)],
    }
    return _save(set_path, record)


def mark_unanswered(set_path: Path, question: str) -> Marked:
    """Save the question as one that none of the results answer (an open question, to mark later)."""
    if not question.strip():
        raise EvalSetError("cannot mark an empty question")
    return _save(set_path, {"id": question_id(question), "question": question, "kind": MARKED, "gold": []})


def answer_gold(hit: Hit, corpus_dir: Path) -> dict[str, Any]:
    """A hit's answer lines as a gold entry: the lines in the note on disk that hold them now, and
    the text of the first as evidence."""
    answer = hit.answer
    shown = answer.text.split("\n")
    offset = next((i for i, line in enumerate(shown) if line.strip()), None)
    if offset is None:
        raise EvalSetError(f"result {hit.rank} has no answer text to mark")
    evidence = shown[offset].strip()[:MAX_EVIDENCE]
    last = max(i for i, line in enumerate(shown) if line.strip())
    span = Span(hit.chunk.file, answer.start_line + offset, answer.start_line + last)
    try:
        lines = note_lines(corpus_dir / hit.chunk.file)
    except OSError as exc:
        raise EvalSetError(f"cannot read {hit.chunk.file} to mark it: {exc.strerror or exc}") from exc
    found = anchor(span, evidence, lines).span
    if found is None:
        raise EvalSetError(
            f"{hit.chunk.file} changed since it was indexed: its answer lines are no longer there",
            "ask again once the index is refreshed",
        )
    return {"file": found.file, "start_line": found.start_line, "end_line": found.end_line, "evidence": evidence}


def _save(set_path: Path, record: dict[str, Any]) -> Marked:
    records = read_records(set_path, missing_ok=True)
    same = normal_question(record["question"])
    updated = False
    for index, old in enumerate(records):
        if old.get("id") == record["id"] or normal_question(str(old.get("question", ""))) == same:
            records[index] = record | {"id": old.get("id", record["id"])}
            record = records[index]
            updated = True
            break
    else:
        records.append(record)
    try:
        write_records(set_path, records)
    except OSError as exc:
        raise EvalSetError(f"cannot save the mark to {set_path}: {exc.strerror or exc}") from exc
    unanswered = sum(1 for r in records if not r.get("gold"))
    return Marked(record, set_path, updated, len(records), unanswered)
