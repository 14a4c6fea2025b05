"""Folder mode (`notes bench --folder DIR`): how long a full build of a large notes folder takes.

A folder of hundreds of notes (the 408-file one in ../shared/testdata takes minutes) is built the
way `notes index --rebuild` builds it, each time in a new process and a new index folder, with the
model export cached, and each build's stages (reading and chunking, passages, lines, writing) are
reported. Beside it, in the same run and alternating with it, sentence-transformers on torch encodes
the same passages alone (batches of 32, as its docs suggest): the ratio of the two is the figure that
carries from machine to machine (issue 25: a full build should take at most 0.75 of it).

The folder is read in place and never written; the indexes go into the bench's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from assistant.bench.builds import add_build
from assistant.bench.children import ChildRun, python_child, require_result
from assistant.bench.report import Out, Report, summarize
from assistant.reporting import EXPORT_STAGE

FIRST_ANSWER = "time to first answer (asked as the build starts, answered from what is ready)"
FIRST_QUESTION = "what does vpc flow logs not capture"
"""Asked of every build as soon as it can answer (store/partial.py), beside the build, as a user at
the chat app would: any question does, the time is the build's (its text side), not the search's."""


def bench_folder(
    model: str, report: Report, work: Path, folder: Path, *, build_runs: int, stand_in: bool, note: Out
) -> None:
    """Full builds of `folder` and sentence-transformers encoding its passages, alternating
    (`stand_in`: builds with the cheap stand-in embedder, and no sentence-transformers)."""
    report.info["corpus"] = str(folder.resolve())
    report.info["embedder"] = "stand-in (hashed random projection; NOT the real model)" if stand_in else model
    report.add("section_build", f"full build of {folder.name} (new process, new index, export cached)", style="section")
    ours: list[ChildRun] = []
    naive: list[ChildRun] = []
    if not stand_in:
        _export_once(model, work, report, note)
    for number in range(build_runs):
        note(f"full build {number + 1}/{build_runs} …")
        task = {
            "task": "build",
            "corpus": str(folder.resolve()),
            "index": str(work / f"index-{number}"),
            "model": model,
            "rebuild": True,
            "stand_in": stand_in,
            "first_question": FIRST_QUESTION,
        }
        run = python_child(task, work)
        require_result(run, "index build")
        ours.append(run)
        if stand_in:
            continue
        note(f"sentence-transformers encoding the same passages {number + 1}/{build_runs} …")
        task = {"task": "naive_build", "corpus": str(folder.resolve()), "model": model, "passages_only": True}
        run = python_child(task, work)
        require_result(run, "naive encoding")
        naive.append(run)
    add_build(report, "build_full", "full build (engine.build, rebuild; model export cached)", ours)
    report.add_sample(
        "build_cpu", "  CPU seconds (whole process)", [float((r.result or {})["cpu_seconds"]) for r in ours], "s"
    )
    first = ours[0].result or {}
    report.info["chunks"] = int(first.get("chunks", 0))
    report.add("build_lines", "  line vectors", "", "value", value=int(first.get("line_vectors") or 0))
    answers = [(run.result or {}).get("first_answer") or {} for run in ours]
    ready, embedded = float(answers[0].get("partial_seconds", 0)), answers[0].get("passages_embedded") or 0
    report.add_sample(
        "first_answer",
        FIRST_ANSWER,
        [float(answer["answer_seconds"]) for answer in answers if "answer_seconds" in answer],
        "s",
        note=f"from the build's start; the index ready to answer at {ready:.1f} s, "
        f"{embedded:,} passages embedded by the answer",
    )
    if stand_in:
        report.add("naive_passages", "sentence-transformers encoding the same passages", text="n/a (stand-in)")
        return
    naive_seconds = [float((run.result or {})["encode_seconds"]) for run in naive]
    report.add_sample(
        "naive_passages",
        "sentence-transformers encoding the same passages alone (batches of 32)",
        naive_seconds,
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in naive),
        note="; ".join(
            [
                *(f"{stage} {value:.1f} s" for stage, value in (naive[0].result or {})["stages"].items()),
                f"process CPU {float((naive[0].result or {})['cpu_seconds']):.0f} s",
            ]
        ),
    )
    ours_median = summarize([float((run.result or {})["seconds"]) for run in ours])["median"]
    report.add(
        "build_ratio",
        "  full build / sentence-transformers' passages (target ≤ 0.75)",
        "x",
        "value",
        value=ours_median / summarize(naive_seconds)["median"],
    )


def _export_once(model: str, work: Path, report: Report, note: Out) -> None:
    """Fill the bench's own model cache first (a build of one small note exports the model), so the
    timed builds find the export cached, as every build after a machine's first does."""
    notes = work / "export-notes"
    notes.mkdir(parents=True, exist_ok=True)
    (notes / "note.md").write_text("# Export\n\nOne note, so that the model is exported once.\n", encoding="utf-8")
    note("exporting the model once, into the bench's cache …")
    task = {"task": "build", "corpus": str(notes), "index": str(work / "export-index"), "model": model}
    run = require_result(python_child({**task, "rebuild": True, "stand_in": False}, work), "model export")
    export = run.get("stages", {}).get(EXPORT_STAGE, {}).get("seconds")
    if export is not None:
        report.add("export", "  the one-time model export, before the timed builds", "s", "value", value=float(export))
