"""Cold one-shot `notes ask`: a new `python -m assistant ask` process until its results are printed.

On the shipped corpus it is compared with the naive path: a new process that imports
sentence-transformers, loads the model, reads the same FAISS index and answers. Both are medians of
`runs` after one discarded warm-up each (page cache warm). A child that rebuilds the index instead
of answering fails the bench, since it would time the wrong thing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.bench.children import ChildRun, run_child
from assistant.bench.report import Out, Report
from assistant.config import resolve_model_path
from assistant.errors import AssistantError

QUESTION = "lambda maximum memory"
"""What every cold ask asks (a question the shipped notes answer)."""

# The naive path: what a one-shot query costs without the ONNX export (torch + sentence-transformers).
_NAIVE = """
import json, sys
import faiss, numpy as np
from sentence_transformers import SentenceTransformer
model_path, generation, question = sys.argv[1:4]
model = SentenceTransformer(model_path, device="cpu")
index = faiss.read_index(generation + "/dense.faiss")
with open(generation + "/chunks.jsonl", encoding="utf-8") as handle:
    chunks = [json.loads(line) for line in handle]
vector = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
scores, rows = index.search(np.asarray(vector, dtype="float32"), 5)
for score, row in zip(scores[0], rows[0]):
    chunk = chunks[row]
    print(f"{score:.3f}  {chunk['file']}:{chunk['start_line']}-{chunk['end_line']}")
    print("    " + chunk["text"][:200].replace(chr(10), " "))
"""


def cold_asks(
    report: Report, work: Path, corpus: Path, index: Path, generation: Path, model: str, runs: int, note: Out
) -> None:
    """Cold `notes ask` against the naive path, both new processes, medians after a warm-up."""
    ours = [
        sys.executable,
        "-m",
        "assistant",
        "ask",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "--model",
        model,
        QUESTION,
    ]
    naive = [sys.executable, "-c", _NAIVE, resolve_model_path(model), str(generation), QUESTION]
    timings: dict[str, list[ChildRun]] = {"ours": [], "naive": []}
    for number in range(runs + 1):
        note(f"cold ask {number}/{runs} …" if number else "cold ask warm-up …")
        for name, argv in (("ours", ours), ("naive", naive)):
            run = run_child(argv, work)
            if run.returncode != 0 or not run.stdout.strip():
                raise AssistantError(f"cold {name} ask failed (exit {run.returncode}): {run.tail()}")
            if name == "ours" and any(
                word in run.stderr for word in ("building", "indexing", "refreshing", "rebuilding")
            ):
                raise AssistantError(
                    f"`notes ask` rebuilt the bench's index instead of just answering: {run.tail()}",
                    "did the code (chunker or model settings) change while the bench ran? run it again",
                )
            if number:
                timings[name].append(run)
    for key, label, items, what in (
        ("cold_ask", "`notes ask` (ONNX query encoder, no torch)", timings["ours"], "hybrid, k=5"),
        ("cold_naive", "naive: sentence-transformers + faiss", timings["naive"], "dense only, k=5"),
    ):
        report.add_sample(
            key,
            label,
            [run.seconds for run in items],
            "s",
            peak_rss_mb=max(run.peak_rss_mb for run in items),
            note=f"{what}; 1 warm-up discarded",
        )
    ours_median = report.rows["cold_ask"]["median"]
    report.add(
        "cold_ratio",
        "naive / ours",
        "x",
        "value",
        value=report.rows["cold_naive"]["median"] / ours_median,
        note=f"target: ours ≤ 1.0 s ({'met' if ours_median <= 1.0 else 'NOT met'})",
    )


def cold_scale_asks(
    report: Report, work: Path, corpus: Path, index: Path, model: str, stand_in: bool, runs: int, note: Out
) -> None:
    """A one-shot `notes ask` at this scale: new process, freshness check, load, answer."""
    # A stand-in index has no query encoder a new process could load: time the BM25 path, which
    # loads everything else (chunks, FAISS, BM25) exactly as a hybrid question does.
    mode = "bm25" if stand_in else "hybrid"
    argv = [sys.executable, "-m", "assistant", "ask", "--corpus", str(corpus), "--index", str(index)]
    argv += ["--model", stand_in_name() if stand_in else model, "--mode", mode, QUESTION]
    samples: list[ChildRun] = []
    for number in range(runs + 1):
        note(f"cold ask {number}/{runs} …" if number else "cold ask warm-up …")
        run = run_child(argv, work)
        if run.returncode != 0 or not run.stdout.strip():
            raise AssistantError(f"cold ask failed (exit {run.returncode}): {run.tail()}")
        if any(word in run.stderr for word in ("building", "indexing", "refreshing", "rebuilding")):
            raise AssistantError(f"`notes ask` rebuilt the bench's index instead of just answering: {run.tail()}")
        if number:
            samples.append(run)
    report.add_sample(
        "cold_ask",
        f"cold `notes ask --mode {mode}` (new process)",
        [run.seconds for run in samples],
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in samples),
        note="1 warm-up discarded; page cache warm",
    )


def stand_in_name() -> str:
    """The model name a stand-in index records, which children must be given to use it."""
    from assistant.bench.stand_in import StandInEmbedder

    return StandInEmbedder.name
