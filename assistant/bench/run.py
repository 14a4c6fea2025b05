"""`run_bench`: check the arguments, pick the mode, measure in a throwaway workspace, print the table.

Nothing here touches the user's corpus/ or index/: everything happens in a temporary folder removed
on exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.bench.corpus import TUI_ENTRY, bench_corpus
from assistant.bench.folder import bench_folder
from assistant.bench.memory import peak_rss_mb, self_usage
from assistant.bench.queries import load_questions
from assistant.bench.report import Out, Report, format_header, format_table, machine_info
from assistant.bench.scale import bench_scale
from assistant.config import Settings
from assistant.errors import AssistantError


def _quiet(message: str) -> None:
    return None


@contextlib.contextmanager
def _workspace(parent: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="notes-bench-", dir=parent) as name:
        yield Path(name)


def run_bench(
    settings: Settings,
    *,
    runs: int = 5,
    scale: int | None = None,
    scale_corpus: Path | None = None,
    folder: Path | None = None,
    out: Out = print,
    note: Out = _quiet,
    build_runs: int | None = None,
    stand_in: bool | None = None,
    direct: bool | None = None,
    questions_file: Path | None = None,
    recall_queries: int = 1000,
    seed: int = 0,
    json_out: Path | None = None,
    workdir: Path | None = None,
    tui_entry: str = TUI_ENTRY,
    tui_paths: Sequence[Path] = (),
) -> dict[str, Any]:
    """Measure, print a table through `out`, and return the results (also written to json_out).

    With `folder`: full builds of that folder beside sentence-transformers encoding its passages
    (`folder.py`). Without scale/scale_corpus: the shipped-corpus bench (cold ask vs naive, chat app start, warm
    latency, full and incremental builds). With them: the scale bench. `runs` repeats process-level
    timings; latencies use every question once per mode. `stand_in=None` picks the stand-in embedder
    above STAND_IN_ABOVE chunks (scale mode only). `note` receives progress lines.
    """
    if runs < 1:
        raise AssistantError(f"--runs must be at least 1, not {runs}")
    if scale is not None and scale < 1:
        raise AssistantError(f"--scale must be at least 1, not {scale}")
    scaled = scale is not None or scale_corpus is not None
    if folder is not None and scaled:
        raise AssistantError("--folder times full builds of a folder; --scale and --scale-corpus do not go with it")
    if folder is not None and not folder.is_dir():
        raise AssistantError(f"notes folder not found: {folder}", "pass --folder DIR")
    if not scaled and folder is None and not settings.corpus_dir.is_dir():
        raise AssistantError(f"notes folder not found: {settings.corpus_dir}", "pass --corpus DIR")
    if scale_corpus is not None and not scale_corpus.is_dir():
        raise AssistantError(f"notes folder not found: {scale_corpus}", "pass --scale-corpus DIR")
    if questions_file is None:
        candidate = Path("evals") / "questions.jsonl"
        questions_file = candidate if candidate.is_file() else None
    questions = load_questions(questions_file)
    mode = "scale" if scaled else "folder" if folder is not None else "corpus"
    report = Report(mode, {}, {"machine": machine_info()})
    report.info["config"] = {
        "runs": runs,
        "scale": scale,
        "scale_corpus": str(scale_corpus) if scale_corpus else None,
        "folder": str(folder) if folder else None,
        "questions": str(questions_file) if questions_file else "(built-in sample)",
        "question_count": len(questions),
        "seed": seed,
    }
    started = time.perf_counter()
    with _workspace(workdir) as work:
        if folder is not None:
            bench_folder(
                settings.model, report, work, folder, build_runs=build_runs or 1, stand_in=bool(stand_in), note=note
            )
        elif scaled:
            bench_scale(
                settings,
                report,
                work,
                scale=scale,
                scale_corpus=scale_corpus,
                runs=runs,
                build_runs=build_runs or 1,
                stand_in=stand_in,
                direct=direct,
                questions=questions,
                recall_queries=recall_queries,
                seed=seed,
                note=note,
            )
        else:
            bench_corpus(
                settings,
                report,
                work,
                runs=runs,
                build_runs=build_runs or 2,
                stand_in=bool(stand_in),
                questions=questions,
                tui_entry=tui_entry,
                tui_paths=tui_paths,
                note=note,
            )
    report.info["bench_seconds"] = round(time.perf_counter() - started, 1)
    report.info["bench_peak_rss_mb"] = round(peak_rss_mb(self_usage()), 1)
    for line in format_header(report):
        out(line)
    for line in format_table(report):
        out(line)
    result = report.as_dict()
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return result
