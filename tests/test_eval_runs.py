"""Every eval run kept, any two compared (issue 27): a verdict line first, per-question rank changes,
win/tie/loss, a paired randomization test, refusals with their reason, `--check` against any run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from assistant.evaluate.compare import compare_runs
from assistant.evaluate.questions import load_set
from assistant.evaluate.runs import read_run, stored_runs
from assistant.evaluate.session import set_runs_dir
from assistant.evaluate.significance import paired_randomization

from .conftest import CORPUS, REPO
from .eval_notes import LOWER_DOWN, Notes, mark_the_three, notes_on_three, three_notes


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Notes:
    return notes_on_three(tmp_path, monkeypatch, capsys)


def runs_of(notes: Notes) -> list[Path]:
    from assistant.evaluate.marks import marked_set_path

    return stored_runs(set_runs_dir(notes.folder, marked_set_path(notes.folder)))


# ---------------------------------------------------------------- the paired randomization test


def test_randomization_test_on_hand_computed_cases() -> None:
    assert paired_randomization([1, 0, 1], [1, 0, 1]) == 1.0, "identical runs"
    assert paired_randomization([0, 0, 0], [1, 1, 1]) == 0.25, "2 of the 8 sign flips reach |3|"
    assert paired_randomization([0, 0], [1, 0]) == 1.0, "one difference: either sign reaches it"
    # Differences +1 ×5 and -1: |sum| ≥ 4 for 0, 1, 5 or 6 flips: (1 + 6 + 6 + 1) / 64.
    assert paired_randomization([0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 0]) == 14 / 64
    assert paired_randomization([0.5, 1.0], [1.0, 0.5]) == 1.0, "a swap is no difference"


def test_randomization_test_is_deterministic_and_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(3)

    def scipy_p(before: list[float], after: list[float]) -> float:
        result = stats.permutation_test(
            (after, before),
            lambda x, y, axis: (x - y).mean(axis=axis),
            permutation_type="samples",
            n_resamples=10_000,
            alternative="two-sided",
            random_state=0,
        )
        return float(result.pvalue)

    for _ in range(5):  # small: both enumerate every flip, so they agree exactly
        before = [float(rng.random() < 0.5) for _ in range(11)]
        after = [rng.choice([1.0, 0.5, 0.0]) for _ in range(11)]
        if before != after:
            assert paired_randomization(before, after) == pytest.approx(scipy_p(before, after), abs=1e-12)
    before = [float(rng.random() < 0.6) for _ in range(80)]
    after = [float(rng.random() < 0.8) for _ in range(80)]
    ours = paired_randomization(before, after)
    assert ours == paired_randomization(before, after), "a fixed seed: the same p-value every time"
    assert ours == pytest.approx(scipy_p(before, after), abs=0.02)


# ---------------------------------------------------------------- runs compared, on a folder of three notes


def test_bm25_against_the_last_run_gives_a_verdict_changes_and_p_values(notes: Notes) -> None:
    mark_the_three(notes)
    code, _out, err = notes("ask", LOWER_DOWN, "--mark", "3")
    assert code == 0, err
    first = notes.json("eval")
    assert first["verdict"] == "first" and first["modes"]["hybrid"]["hit@1"] == 0.75
    code, out, err = notes("eval", "--mode", "bm25", "--against", "last")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"verdict: better than run {first['run']} (the last run): bm25 (against hybrid) ")
    assert lines[0].endswith("bm25 (against hybrid) hit@1 0.750 → 1.000 (p=1.000), mrr@10 0.833 → 1.000 (p=1.000)")
    assert f"compared with run {first['run']} (the last run) on all 4 questions" in out
    assert "| bm25 (against hybrid) | hit@1 | 0.750 | 1.000 | +0.250 | 1/3/0 | 1.000 |" in out
    assert "bm25 (against hybrid), ranks before → after over 4 questions: 0 gained, 0 lost, 1 moved" in out
    assert f"'{LOWER_DOWN}': 3 → 1" in out
    assert len(runs_of(notes)) == 2, "every run is kept"
    figures = notes.json("eval", "--mode", "bm25", "--against", first["run"])
    compared = figures["compared"]["modes"]["bm25"]
    assert figures["verdict"] == "better" and compared["against"] == "hybrid" and compared["moved"] == 1
    assert compared["metrics"]["hit@1"] == {
        "before": 0.75,
        "after": 1.0,
        "wins": 1,
        "ties": 3,
        "losses": 0,
        "p": 1.0,
    }


def test_check_against_any_run_exits_1_on_a_regression(notes: Notes) -> None:
    mark_the_three(notes)
    notes("ask", LOWER_DOWN, "--mark", "3")
    bm25 = notes.json("eval", "--mode", "bm25")
    code, out, err = notes("eval", "--against", bm25["run"], "--check")
    assert code == 1
    assert out.startswith(f"verdict: worse than run {bm25['run']}: hybrid (against bm25) hit@1 1.000 → 0.750")
    assert "REGRESSION (hybrid (against bm25)) hit@1: 0.750, more than 0.01 below run" in err
    assert "newly failing: m-" in err
    code, _out, err = notes("eval", "--against", "last", "--check")
    assert code == 0 and "eval check passed against run" in err


def test_the_default_reference_is_the_baseline_else_the_last_run_in_that_mode(notes: Notes) -> None:
    mark_the_three(notes)
    notes.json("eval")
    bm25 = notes.json("eval", "--mode", "bm25")
    hybrid = notes.json("eval")
    assert hybrid["against"].endswith("(the last hybrid run)") and bm25["run"] not in hybrid["against"]
    code, _out, err = notes("eval", "--update-baseline")
    assert code == 0, err
    again = notes.json("eval")
    assert again["against"].startswith("the baseline ") and again["verdict"] == "same"
    code, out, _err = notes("eval", "--runs")
    rows = out.splitlines()[2:]
    assert code == 0 and len(rows) == 5 + 1, out  # the baseline and five runs, oldest first
    assert rows[0].startswith("| baseline (") and "| hybrid, dense, bm25 |" in rows[0]
    assert [row.split(" | ")[1] for row in rows[1:]] == ["hybrid", "bm25", "hybrid", "hybrid, dense, bm25", "hybrid"]


def test_a_run_over_more_questions_is_compared_on_those_both_share(notes: Notes) -> None:
    mark_the_three(notes)
    first = notes.json("eval")
    notes("ask", LOWER_DOWN, "--mark", "3")
    code, out, _err = notes("eval", "--against", first["run"])
    assert code == 0
    assert out.splitlines()[0].startswith(f"verdict: same as run {first['run']}, on the 3 questions both share:")
    assert "on the 3 questions both runs share (of 4 in this run, 3 in that one)" in out


def test_a_run_over_another_folders_set_is_refused_with_the_reason(
    notes: Notes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mark_the_three(notes)
    notes.json("eval")
    other = Notes(tmp_path / "other", tmp_path / "other-index", capsys)
    other.folder.mkdir()
    (other.folder / "sea.md").write_text("# Sea\n\nTides rise twice a day under the moon.\n", encoding="utf-8")
    assert other("ask", "how often do tides rise", "--mark", "1")[0] == 0
    theirs = other.json("eval")
    their_file = runs_of(other)[-1]
    assert their_file.stem == theirs["run"]
    code, out, err = notes("eval", "--against", str(their_file))
    assert code == 2 and out == ""
    (line,) = [line for line in err.splitlines() if line.startswith("notes: error:")]
    assert "is over other notes" in line and str(other.folder) in line and "0 in common" in line
    assert "compare runs over the same notes folder" in line
    # Without --against, a run is only ever compared with its own folder's runs.
    assert notes.json("eval")["verdict"] == "same"


def test_runs_are_plain_json_with_what_a_comparison_needs(notes: Notes) -> None:
    mark_the_three(notes)
    figures = notes.json("eval")
    (kept,) = runs_of(notes)
    record = json.loads(kept.read_text(encoding="utf-8"))
    assert record["run"]["id"] == figures["run"] and record["settings"]["model"] == notes.fake.name
    assert len(record["index_fingerprint"]) == 16 and len(record["set"]["fingerprint"]) == 16
    assert record["set"]["questions"] == 4 and len(record["set"]["unanswered"]) == 1
    per_question = record["runs"]["hybrid"]["per_question"]
    assert [q["rank"] for q in per_question] == [1, 1, 1] and all(len(q["fingerprint"]) == 16 for q in per_question)


def test_no_questions_marked_says_how_to_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    notes = notes_on_three(tmp_path, monkeypatch, capsys)
    code, _out, err = notes("eval")
    assert code == 2 and "no questions marked on" in err and "--mark N" in err
    notes("ask", "anything at all", "--mark", "none")
    code, _out, err = notes("eval")
    assert code == 2 and "nothing to score" in err and "1 unanswered" in err


# ---------------------------------------------------------------- the shipped set and its committed baseline


def test_the_committed_baseline_is_read_as_a_run_of_the_shipped_set() -> None:
    """evals/baseline.json predates fingerprints: its questions are matched to today's set by id,
    text and spans, so `notes eval --check` (CI) compares all of them, at the baseline's own figures."""
    baseline = json.loads((REPO / "evals" / "baseline.json").read_text(encoding="utf-8"))
    questions = load_set(REPO / "evals" / "questions.jsonl", CORPUS)
    current = [
        {
            "id": q.id,
            "question": q.question,
            "gold": [f"{s.file}:{s.start_line}-{s.end_line}" for s in q.gold],
            "fingerprint": q.fingerprint,
        }
        for q in questions.scored
    ]
    reference = read_run(baseline, "evals/baseline.json", "the baseline", current)
    assert set(reference.modes["hybrid"].outcomes) == {q.fingerprint for q in questions.scored}
    # The same figures again: the same, on all questions, nothing moved.
    again = json.loads(json.dumps(baseline))
    by_id = {q["id"]: q["fingerprint"] for q in current}
    for run in again["runs"].values():
        for q in run["per_question"]:
            q["fingerprint"] = by_id[q["id"]]
    comparison = compare_runs(read_run(again, "now", "this run"), reference)
    assert comparison.word == "same" and comparison.scope == f"all {len(questions.scored)} questions"
    hybrid = comparison.modes[0]
    assert hybrid.metrics[0].before == baseline["runs"]["hybrid"]["metrics"]["hit@1"]
    assert not (hybrid.gained or hybrid.lost or hybrid.moved)


def test_a_set_from_elsewhere_is_taken_with_set(notes: Notes, tmp_path: Path) -> None:
    mark_the_three(notes)
    from assistant.evaluate.marks import marked_set_path

    exported = tmp_path / "exported.jsonl"
    exported.write_text(marked_set_path(notes.folder).read_text(encoding="utf-8"), encoding="utf-8")
    figures = notes.json("eval", "--set", str(exported))
    assert figures["questions"] == 4 and figures["verdict"] == "first", "another set keeps its own runs"
    copy = three_notes(tmp_path / "copy")
    moved = Notes(copy, tmp_path / "copy-index", notes.capsys)
    assert moved.json("eval", "--set", str(exported))["modes"]["hybrid"]["hit@1"] == 1.0


def test_the_shipped_layout_and_cis_gate_keep_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """./corpus with evals/questions.jsonl and a committed evals/baseline.json, as in this repository:
    CI's `notes eval --check --compare --write-report` passes, writes the committed report, and fails
    (exit 1, naming the figure) once the baseline is better than the run."""
    notes = notes_on_three(tmp_path, monkeypatch, capsys)
    notes.folder = Path("corpus")
    three_notes(tmp_path / "corpus")
    (tmp_path / "evals").mkdir()
    hand_written = {
        "id": "k-1",
        "question": "rye bread bake time",
        "kind": "keyword",
        "gold": [{"file": "kitchen.md", "start_line": 6, "end_line": 6, "evidence": "Rye bread bakes for fifty"}],
    }
    (tmp_path / "evals" / "questions.jsonl").write_text(json.dumps(hand_written) + "\n", encoding="utf-8")
    code, out, err = notes("eval", "--compare", "--update-baseline")
    assert code == 0, err
    assert out.startswith("verdict: first run of this set on these notes: hybrid hit@1 1.000")
    assert (tmp_path / "evals" / "baseline.json").is_file() and (tmp_path / "evals" / "results" / "report.md").is_file()
    code, out, err = notes("eval", "--check", "--compare", "--write-report")
    assert code == 0 and "eval check passed against the baseline evals/baseline.json" in err
    assert out.startswith("verdict: same as the baseline evals/baseline.json")
    assert "| hybrid |" in out and "| dense |" in out and "| bm25 |" in out
    report = json.loads((tmp_path / "evals" / "report.json").read_text(encoding="utf-8"))
    assert set(report["runs"]) == {"hybrid", "dense", "bm25"} and report["manifest"]["chunk_count"] > 0
    assert "# Retrieval eval report" in (tmp_path / "evals" / "report.md").read_text(encoding="utf-8")
    baseline = json.loads((tmp_path / "evals" / "baseline.json").read_text(encoding="utf-8"))
    baseline["runs"]["bm25"]["metrics"]["mrr@10"] = 1.5
    (tmp_path / "evals" / "baseline.json").write_text(json.dumps(baseline), encoding="utf-8")
    code, out, err = notes("eval", "--check", "--compare")
    assert code == 1 and out.startswith("verdict: worse than the baseline evals/baseline.json: bm25 mrr@10 1.500")
    assert "REGRESSION (bm25) mrr@10: 1.000, more than 0.01 below the baseline evals/baseline.json (1.500)" in err
