"""Marking answers while asking (issue 27): `notes ask … --mark N|none` writes the folder's own eval set,
outside the notes; the gold follows the note; a mark whose lines are gone is stale, never dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import EvalSetError
from assistant.evaluate.anchor import anchor
from assistant.evaluate.marks import marked_set_path
from assistant.evaluate.metrics import Span
from assistant.evaluate.questions import load_set, question_id
from assistant.evaluate.session import set_runs_dir

from .eval_notes import ANSWERED, UNANSWERED, Notes, mark_the_three, notes_on_three


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Notes:
    return notes_on_three(tmp_path, monkeypatch, capsys)


def saved(notes: Notes) -> list[dict[str, Any]]:
    path = marked_set_path(notes.folder)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_three_marks_and_one_none_make_a_set_that_scores(notes: Notes, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in notes.folder.rglob("*") if p.is_file()}
    mark_the_three(notes)
    records = saved(notes)
    assert [r["question"] for r in records] == [*ANSWERED, UNANSWERED]
    for record, (file, line) in zip(records, ANSWERED.values(), strict=False):
        assert record["kind"] == "marked" and record["id"] == question_id(record["question"])
        (gold,) = record["gold"]
        assert (gold["file"], gold["start_line"], gold["end_line"]) == (file, line, line)
        note = (notes.folder / file).read_text(encoding="utf-8").splitlines()
        assert gold["evidence"] == note[line - 1].strip(), "the evidence is the answer line's text"
    assert records[-1]["gold"] == []
    # The set lives in the data folder, never among the notes, which are untouched.
    assert marked_set_path(notes.folder).is_relative_to(tmp_path / "xdg-data" / "notes-assistant")
    assert {p: p.read_bytes() for p in notes.folder.rglob("*") if p.is_file()} == before
    figures = notes.json("eval")
    assert figures["questions"] == 4 and figures["unanswered"] == 1 and figures["stale"] == 0
    assert figures["modes"]["hybrid"]["hit@1"] == 1.0
    assert set(figures["modes"]["hybrid"]) >= {"hit@1", "hit@3", "hit@5", "mrr@10"}


def test_a_mark_says_what_was_saved(notes: Notes) -> None:
    code, out, _ = notes("ask", "how long does rye bread bake", "--mark", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "marked result 1 as the answer to 'how long does rye bread bake'"
    assert lines[1].startswith("  notes/kitchen.md:6  Kitchen > Bread")
    assert lines[2] == "  › - Rye bread bakes for fifty minutes"
    assert lines[3].startswith("saved to ") and lines[3].endswith("(1 question)")
    code, out, _ = notes("ask", UNANSWERED, "--mark", "none")
    assert out.splitlines()[0] == f"marked {UNANSWERED!r} as answered by none of these results: kept to mark later"
    assert out.splitlines()[1].endswith("(2 questions, 1 unanswered)")


def test_marking_the_same_question_again_updates_it(notes: Notes) -> None:
    notes("ask", "how long does rye bread bake", "--mark", "none")
    code, out, _ = notes("ask", "How long does  rye bread bake", "--mark", "1")  # case and spacing aside
    assert code == 0 and "(marked before: updated)" in out
    (record,) = saved(notes)
    assert record["question"] == "How long does  rye bread bake" and record["gold"][0]["start_line"] == 6
    assert record["id"] == question_id("how long does rye bread bake")


def test_mark_json_and_set_file(notes: Notes, tmp_path: Path) -> None:
    elsewhere = tmp_path / "exported" / "mine.jsonl"
    shown = notes.json("ask", "how much sunlight do tomatoes want", "--mark", "1", "--set", str(elsewhere))
    assert shown["set"] == str(elsewhere) and shown["updated"] is False and shown["questions"] == 1
    assert shown["marked"]["gold"][0]["file"] == "garden.md"
    assert [json.loads(line) for line in elsewhere.read_text().splitlines()] == [shown["marked"]]
    assert not marked_set_path(notes.folder).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mark", "9"], "error: --mark 9: this question has 6 results (pick a smaller N)"),
        (["--mark", "first"], "--mark takes a result's number"),
        (["--mark", "1", "--open", "1"], "--mark marks one result of one question"),
    ],
)
def test_mark_problems_are_one_line_exit_2(notes: Notes, args: list[str], message: str) -> None:
    notes("index")
    code, out, err = notes("ask", "rye bread", *args)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1, err


def test_the_gold_follows_its_note_and_a_deleted_passage_is_stale(notes: Notes) -> None:
    mark_the_three(notes)
    assert notes.json("eval")["modes"]["hybrid"]["hit@1"] == 1.0
    garden = notes.folder / "garden.md"
    garden.write_text("".join(f"inserted line {n}\n" for n in range(5)) + garden.read_text(encoding="utf-8"))
    code, out, err = notes("eval")
    assert code == 0, err
    assert "moved with its note: `m-" in out and "garden.md:5-5 → garden.md:10-10" in out
    figures = notes.json("eval")
    assert figures["modes"]["hybrid"]["hit@1"] == 1.0 and figures["stale"] == 0
    kept = set_runs_dir(notes.folder, marked_set_path(notes.folder)) / f"{figures['run']}.json"
    run = json.loads(kept.read_text(encoding="utf-8"))
    moved = next(q for q in run["runs"]["hybrid"]["per_question"] if q["question"].startswith("how much sunlight"))
    assert moved["gold"] == ["garden.md:10-10"] and moved["moved_from"] == ["garden.md:5-5"] and moved["rank"] == 1
    # The marked passage deleted: reported stale, not scored, not dropped from the set.
    bikes = notes.folder / "bikes.md"
    bikes.write_text(bikes.read_text(encoding="utf-8").replace("Road tyres run at eighty to one hundred psi.\n", ""))
    code, out, err = notes("eval")
    assert code == 0, err
    assert "questions: 4 (2 scored, 1 unanswered, 1 stale)" in out
    assert "stale (not scored): `m-" in out and "what pressure do road tyres run at" in out
    figures = notes.json("eval")
    assert figures["questions"] == 4 and figures["stale"] == 1 and figures["unanswered"] == 1
    assert figures["modes"]["hybrid"]["hit@1"] == 1.0
    assert len(saved(notes)) == 4, "a stale mark stays in the set"


# ---------------------------------------------------------------- re-anchoring, as a function


LINES = ["# T", "", "alpha line", "beta line", "", "gamma line", "alpha line"]


def test_anchor_keeps_a_span_whose_evidence_is_still_there() -> None:
    assert anchor(Span("n.md", 3, 4), "alpha", LINES).span == Span("n.md", 3, 4)


def test_anchor_moves_to_the_nearest_occurrence_keeping_the_length() -> None:
    shifted = ["x", "y", *LINES]  # two lines inserted above
    assert anchor(Span("n.md", 4, 4), "beta line", shifted).span == Span("n.md", 6, 6)
    # The nearest occurrence to where it was (line 3) wins; on a tie, the later one (lines inserted above).
    nearest = anchor(Span("n.md", 3, 3), "alpha", ["alpha", "x", "changed", "y", "z", "w", "alpha"]).span
    assert nearest is not None and nearest.start_line == 1
    assert anchor(Span("n.md", 3, 3), "alpha", ["alpha", "x", "changed", "y", "alpha"]).span == Span("n.md", 5, 5)
    assert anchor(Span("n.md", 6, 7), "gamma", ["x", *LINES]).span == Span("n.md", 7, 8)


def test_anchor_reports_what_is_gone() -> None:
    gone = anchor(Span("n.md", 3, 3), "delta line", LINES)
    assert gone.stale and "no line holds 'delta line'" in gone.reason
    assert anchor(Span("n.md", 3, 3), "alpha", None).reason == "n.md is no longer in the notes"


def test_a_hand_edited_marked_set_is_checked(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("one\ntwo\n")
    path = tmp_path / "set.jsonl"
    good = {"id": "q", "question": "two?", "kind": "marked", "gold": [{"file": "a.md", "start_line": 2, "end_line": 2}]}
    path.write_text(json.dumps(good) + "\n")
    with pytest.raises(EvalSetError, match="evidence must be 1-300 characters"):
        load_set(path, notes)
    outside = {**good, "gold": [{"file": "../a.md", "start_line": 1, "end_line": 1, "evidence": "one"}]}
    path.write_text(json.dumps(outside) + "\n")
    with pytest.raises(EvalSetError, match="not a span of a note inside the notes folder"):
        load_set(path, notes)
    gone = {**good, "gold": [{"file": "b.md", "start_line": 1, "end_line": 1, "evidence": "one"}]}
    path.write_text(json.dumps(gone) + "\n")
    (stale,) = load_set(path, notes).stale
    assert stale.reason == "b.md is no longer in the notes"
