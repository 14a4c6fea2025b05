"""The eval set is valid against the corpus; the harness and the gate work end to end (fake embedder)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import EvalSetError
from assistant.evaluate.answer_eval import answer_row, format_answers, summarise
from assistant.evaluate.run import check_against_baseline, load_questions, result_record, run_eval
from assistant.retrieve.search import Searcher

from .conftest import CORPUS, REPO, FakeEmbedder
from .messy import Notes

EVAL_SET = REPO / "evals" / "questions.jsonl"
EXTERNAL_SET = REPO / "evals" / "external-questions.jsonl"
EXTERNAL_NOTES = REPO.parent / "shared" / "testdata" / "aws-notes-external"


def test_every_question_is_valid_against_the_corpus() -> None:
    questions = load_questions(EVAL_SET, CORPUS)  # raises on any bad span or evidence
    assert len(questions) >= 200
    kinds = Counter(q.kind for q in questions)
    assert kinds["paraphrase"] / len(questions) >= 0.35
    assert all(kinds[k] >= 15 for k in ("keyword", "typo", "heading", "natural"))
    per_file = Counter(q.primary_file for q in questions)
    assert set(per_file) == {p.name for p in CORPUS.iterdir()}
    assert min(per_file.values()) >= 15


@pytest.mark.skipif(not EXTERNAL_NOTES.is_dir(), reason="../shared/testdata/aws-notes-external is not beside the repo")
def test_the_held_out_set_is_valid_against_other_peoples_notes() -> None:
    """`evals/external-questions.jsonl`: questions on three other authors' notes, to check that what
    was tuned on `corpus/` holds elsewhere (docs/retrieval-experiments.md, "Held-out check")."""
    questions = load_questions(EXTERNAL_SET, EXTERNAL_NOTES)
    assert len(questions) >= 80
    kinds = Counter(q.kind for q in questions)
    assert kinds["paraphrase"] / len(questions) >= 0.35
    authors = Counter(q.primary_file.split("/", 1)[0] for q in questions)
    assert len(authors) == 3 and min(authors.values()) >= 15


def test_gold_spans_are_tight() -> None:
    for question in load_questions(EVAL_SET, CORPUS):
        for span in question.gold:
            assert span.end_line - span.start_line < 15, (question.id, span)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "x", "question": "q", "kind": "weird", "gold": []}, "kind 'weird'"),
        (
            {
                "id": "x",
                "question": "q",
                "kind": "keyword",
                "gold": [{"file": "lambda.md", "start_line": 5, "end_line": 5, "evidence": "not in the notes at all"}],
            },
            "not found",
        ),
        (
            {
                "id": "x",
                "question": "q",
                "kind": "keyword",
                "gold": [{"file": "lambda.md", "start_line": 90, "end_line": 99, "evidence": "a b c d"}],
            },
            "outside",
        ),
    ],
)
def test_bad_items_are_refused(record: dict[str, Any], message: str, tmp_path: Path, small_corpus: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(EvalSetError, match=message):
        load_questions(path, small_corpus)


def _small_set(tmp_path: Path) -> Path:
    items = [
        {
            "id": "a",
            "question": "lambda memory limit",
            "kind": "keyword",
            "gold": [{"file": "lambda.md", "start_line": 5, "end_line": 5, "evidence": "Memory: 128 MB to 10"}],
        },
        {
            "id": "b",
            "question": "stateless subnet firewall",
            "kind": "natural",
            "gold": [
                {
                    "file": "network/vpc.md",
                    "start_line": 5,
                    "end_line": 5,
                    "evidence": "Stateless firewall at the subnet",
                }
            ],
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    return path


def test_harness_and_gate(tmp_path: Path, small_corpus: Path, small_index: Path, fake_embedder: FakeEmbedder) -> None:
    questions = load_questions(_small_set(tmp_path), small_corpus)
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    result = run_eval(searcher, questions, "hybrid")
    assert result.metrics["hit@5"] == 1.0 and result.avg_passage_lines > 0
    baseline = {"runs": {"hybrid": result_record(result)}}
    assert check_against_baseline(result, baseline) == []
    worse = {"runs": {"hybrid": result_record(result)}}
    worse["runs"]["hybrid"]["metrics"] = {**result.metrics, "hit@1": result.metrics["hit@1"] + 0.5}
    worse["runs"]["hybrid"]["per_question"] = [{**q, "rank": 1} for q in result.per_question]
    failures = check_against_baseline(result, worse)
    assert [f.metric for f in failures] == ["hit@1"]
    assert set(failures[0].newly_failing) == {q["id"] for q in result.per_question if q["rank"] != 1}


def test_eval_command_compare_and_check(tmp_path: Path, small_corpus: Path, notes_cli: Notes) -> None:
    common = [
        "--corpus",
        str(small_corpus),
        "--index",
        str(tmp_path / "ix"),
        "--set",
        str(_small_set(tmp_path)),
        "--baseline",
        str(tmp_path / "baseline.json"),
        "--report",
        str(tmp_path / "out"),
    ]
    code, out, _ = notes_cli(["eval", "--compare", "--update-baseline", *common])
    assert code == 0
    assert "| hybrid |" in out and "| dense |" in out and "| bm25 |" in out
    assert (tmp_path / "out" / "report.md").exists()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(report["runs"]) == {"hybrid", "dense", "bm25"} and report["manifest"]["chunk_count"] > 0
    code, _, err = notes_cli(["eval", "--check", *common])
    assert code == 0 and "passed" in err
    code, out, _ = notes_cli(["eval", "--ceiling", *common])
    assert code == 0 and "### Rerank ceiling (2 questions)" in out
    assert "| in use: maxsim 1, best line 0.2 |" in out and "| best mrr@10: maxsim 1" in out


def test_answer_lines_are_measured_beside_both_baselines_and_gated(
    tmp_path: Path, small_corpus: Path, small_index: Path, fake_embedder: FakeEmbedder
) -> None:
    questions = load_questions(_small_set(tmp_path), small_corpus)
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    result = run_eval(searcher, questions, "hybrid")
    answers = result.answers
    hit_at_1 = [q for q in result.per_question if q["rank"] == 1]
    assert answers["n"] == len(hit_at_1) > 0
    assert {"answer", "first line", "shared words", "avg_lines", "by_kind"} <= set(answers)
    assert all(0.0 <= answers[name] <= 1.0 for name in ("answer", "first line", "shared words"))
    assert answers["avg_lines"] >= 1.0 and set(answers["by_kind"]) <= {q.kind for q in questions}
    assert all("answer" in q and isinstance(q["answer_hits"], bool) for q in hit_at_1)
    assert "answer lines" in format_answers("hybrid", answers)
    # A baseline whose answers were better by more than the tolerance fails the gate, naming them.
    better = {"runs": {"hybrid": result_record(result)}}
    better["runs"]["hybrid"]["answers"] = {**answers, "answer": answers["answer"] + 0.5}
    better["runs"]["hybrid"]["per_question"] = [{**q, "answer_hits": True} for q in result.per_question]
    failures = check_against_baseline(result, better)
    assert [f.metric for f in failures] == ["answer lines"]
    assert set(failures[0].newly_failing) == {q["id"] for q in hit_at_1 if not q["answer_hits"]}
    # A baseline from before answer lines has none: nothing to gate on.
    older = {"runs": {"hybrid": {k: v for k, v in result_record(result).items() if k != "answers"}}}
    assert check_against_baseline(result, older) == []


def test_answer_rows_score_each_selector_on_the_same_passage() -> None:
    from assistant.evaluate.metrics import Span
    from assistant.notes.chunk import Chunk
    from assistant.retrieve.answer import Answer
    from assistant.retrieve.results import Hit

    text = "## NACL\n**NACL** are like a firewall for subnets.\n- One NACL per subnet\n- Newly created NACLs deny all"
    chunk = Chunk("vpc.md", ("VPC",), 10, 14, text)
    hit = Hit(1, 0.5, chunk, answer=Answer(12, 12, "**NACL** are like a firewall for subnets."))
    row = answer_row(hit, [Span("vpc.md", 12, 12)], "whats a nacl")
    # The answer is right, and so is the first content line here; the line sharing most words (the
    # heading, first of four lines with "nacl" once) is not.
    assert row == {"answer": True, "first line": True, "shared words": False, "lines": 1, "cited": "vpc.md:12-12"}
    summary = summarise([("natural", row), ("keyword", {**row, "answer": False, "lines": 3})])
    assert summary["answer"] == 0.5 and summary["avg_lines"] == 2.0 and summary["by_kind"]["natural"]["n"] == 1
