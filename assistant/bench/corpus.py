"""Corpus mode (the default): the shipped notes (`settings.corpus_dir`), copied and measured in one run:
- cold `notes ask` against the naive path (`assistant.bench.cold`);
- chat app time to interactive: a new process runs `assistant.tui.run_chat` headless and stops the
  clock when a focused, enabled Input or TextArea is there (then checks that a key press lands);
- warm query latency p50/p95 per mode, in this process, over every eval question;
- warm MCP search: a real client over stdio times the `search` tool of a `notes mcp` child;
- first build on a new machine (empty model cache: the ONNX export and its projection are made first),
  full build (`engine.build(rebuild=True)` into a fresh folder, export cached) and incremental
  re-index after a one-line edit, each in its own process, with per-process peak RSS;
- the naive build of the same notes (sentence-transformers on torch) in the same run, and the ratio.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.bench.builds import add_build
from assistant.bench.children import MODEL_CACHE, ChildRun, python_child, require_result
from assistant.bench.cold import cold_asks, stand_in_name
from assistant.bench.mcp_probe import mcp_searches
from assistant.bench.memory import rss_mb
from assistant.bench.queries import components, latencies
from assistant.bench.report import Out, Report, summarize
from assistant.config import Settings
from assistant.errors import AssistantError

TUI_ENTRY = "assistant.tui:run_chat"


def _edit_one_line(corpus: Path, number: int) -> str:
    """Append a few words to one prose line of one note (the same line each time); returns which."""
    from assistant.notes.ingest import discover

    sources, _problems = discover(corpus)
    for source in sorted(sources, key=lambda s: s.path):
        lines = source.absolute.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
        fenced = False
        candidates: list[int] = []
        for index, line in enumerate(lines):
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
                continue
            if (
                not fenced
                and len(line.split()) >= 6
                and not line[:1].isspace()
                and not line.startswith(("#", "|", ">"))
            ):
                candidates.append(index)
        if candidates:
            row = candidates[len(candidates) // 2]
            base = lines[row].split(" (bench edit ")[0]
            lines[row] = f"{base} (bench edit {number})"
            source.absolute.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
            return f"{source.path}:{row + 1}"
    raise AssistantError("no note has a prose line to edit", "the bench needs at least one note with a sentence")


def _counted(numbers: range, what: str, note: Out) -> Iterator[int]:
    for number in numbers:
        note(f"{what} {number + 1}/{len(numbers)} …")
        yield number


def _full_build(
    work: Path, corpus: Path, target: Path, model: str, stand_in: bool, model_cache: Path | None
) -> ChildRun:
    """One full build in a new process; `model_cache` (an empty folder) makes it a first build."""
    task = {
        "task": "build",
        "corpus": str(corpus),
        "index": str(target),
        "model": model,
        "rebuild": True,
        "stand_in": stand_in,
    }
    if model_cache is not None:
        task["model_cache"] = str(model_cache)
    run = python_child(task, work)
    require_result(run, "index build")
    return run


def bench_corpus(
    settings: Settings,
    report: Report,
    work: Path,
    *,
    runs: int,
    build_runs: int,
    stand_in: bool,
    questions: list[str],
    tui_entry: str,
    tui_paths: Sequence[Path],
    note: Out,
) -> None:
    """The shipped-corpus bench on a copy of the notes (see the module docstring)."""
    corpus = work / "corpus"
    index = work / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    model = settings.model
    report.info["corpus"] = str(settings.corpus_dir.resolve())
    report.info["embedder"] = "stand-in (hashed random projection; NOT the real model)" if stand_in else model

    report.add("section_build", "index build", style="section")
    if not stand_in:
        # A new machine: no ONNX export of the model yet, so the build exports it (torch) first.
        firsts = [
            _full_build(work, corpus, work / f"index-first-{number}", model, stand_in, work / f"fresh-cache-{number}")
            for number in _counted(range(build_runs), "first build on a new machine", note)
        ]
        add_build(report, "build_first", "first build on a machine (export + projection + embedding)", firsts)
        # What every later build finds: the first run's export, in the children's model cache.
        shutil.move(work / "fresh-cache-0", work / MODEL_CACHE)
        for number in range(build_runs):
            shutil.rmtree(work / f"fresh-cache-{number}", ignore_errors=True)
            shutil.rmtree(work / f"index-first-{number}", ignore_errors=True)
    builds = [
        _full_build(work, corpus, index if number == 0 else work / f"index-{number}", model, stand_in, None)
        for number in _counted(range(build_runs), "full build", note)
    ]
    for number in range(1, build_runs):
        shutil.rmtree(work / f"index-{number}", ignore_errors=True)
    add_build(report, "build_full", "full build (engine.build, rebuild; model export cached)", builds)
    chunks = int((builds[0].result or {})["chunks"])
    report.info["chunks"] = chunks
    if not stand_in:
        _naive_build(report, work, corpus, model, builds, build_runs, note)

    from assistant.store.generation import require_index

    generation = require_index(index)
    report.add("section_cold", "cold one-shot query (new process → results printed)", style="section")
    if stand_in:
        report.add("cold_ask", "cold `notes ask`", text="n/a (stand-in embedder)")
    else:
        cold_asks(report, work, corpus, index, generation, model, runs, note)

    report.add("section_tui", "chat app (new process → prompt takes keys)", style="section")
    # With a stand-in index the app must be told that model, or it would rebuild with the real one.
    tui_model = stand_in_name() if stand_in else model
    _tui(report, work, corpus, index, tui_model, runs, tui_entry, tui_paths, note)

    report.add(
        "section_warm", f"warm query latency (one loaded Searcher, {len(questions)} eval questions)", style="section"
    )
    _warm(report, index, model, questions, settings.k, stand_in, note)

    report.add("section_mcp", "MCP server (`notes mcp` in a new process, the SDK's client over stdio)", style="section")
    if stand_in:
        report.add("mcp_search", "warm `search` tool call", text="n/a (stand-in embedder)")
    else:
        mcp_searches(report, work, corpus, index, model, questions, settings.k, note)

    report.add("section_incremental", "incremental re-index after a one-line edit (new process each)", style="section")
    edits: list[ChildRun] = []
    where = ""
    for number in range(runs):
        where = _edit_one_line(corpus, number + 1)
        note(f"incremental build {number + 1}/{runs} ({where}) …")
        run = python_child(
            {
                "task": "build",
                "corpus": str(corpus),
                "index": str(index),
                "model": model,
                "rebuild": False,
                "stand_in": stand_in,
            },
            work,
        )
        require_result(run, "incremental build")
        edits.append(run)
    results = [run.result or {} for run in edits]
    report.add_sample(
        "build_incremental",
        "incremental build (engine.build)",
        [float(r["seconds"]) for r in results],
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in edits),
        note=f"edited {where}; re-embedded {results[-1].get('embedded')} of {results[-1].get('chunks')}",
    )
    report.add_sample(
        "build_incremental_wall", "  process wall (`notes index` equivalent)", [r.seconds for r in edits], "s"
    )


def _tui(
    report: Report,
    work: Path,
    corpus: Path,
    index: Path,
    model: str,
    runs: int,
    entry: str,
    extra_paths: Sequence[Path],
    note: Out,
) -> None:
    task = {"task": "tui", "entry": entry, "corpus": str(corpus), "index": str(index), "model": model, "timeout": 30.0}
    samples: list[ChildRun] = []
    for number in range(runs + 1):
        note(f"chat app start {number}/{runs} …" if number else "chat app warm-up …")
        run = python_child(task, work, extra_paths, timeout=120.0)
        result = run.result
        if result is None or run.returncode != 0:
            report.add(
                "tui_interactive", "time to interactive", text="failed", note=f"exit {run.returncode}: {run.tail()}"
            )
            return
        if result["status"] == "missing":
            report.add("tui_interactive", "time to interactive", text="n/a (tui not installed)")
            return
        if result["status"] == "no-prompt":
            report.add(
                "tui_interactive", "time to interactive", text="n/a", note="no focused Input/TextArea within 30 s"
            )
            return
        if number:
            samples.append(run)
    results = [run.result or {} for run in samples]
    ignored = sum(1 for result in results if result["status"] != "ok")
    report.add_sample(
        "tui_interactive",
        "time to interactive (prompt focused)",
        [r["interactive_s"] for r in results],
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in samples),
        note="headless; " + (f"{ignored} runs ignored the key press" if ignored else "a key press reached the prompt"),
    )
    report.add_sample("tui_ready", "  app ready (first screen mounted)", [r["ready_s"] for r in results], "s")
    searcher_ready = [r["searcher_s"] for r in results if "searcher_s" in r]
    if searcher_ready:
        report.add_sample("tui_searcher", "  index opened (answers possible)", searcher_ready, "s")


def _warm(report: Report, index: Path, model: str, questions: list[str], k: int, stand_in: bool, note: Out) -> None:
    from assistant.retrieve.search import Searcher

    note("warm queries …")
    encoder = None
    if stand_in:
        from assistant.bench.stand_in import StandInEmbedder

        encoder = StandInEmbedder()
    before = rss_mb()
    started = time.perf_counter()
    searcher = Searcher.load(index, encoder, model=model)
    loaded = time.perf_counter() - started
    for mode, samples in latencies(searcher, questions, k).items():
        report.add_sample(f"query_{mode}", f"{mode} (k={k})", samples, "ms", "latency")
    for name, samples in components(searcher, questions).items():
        report.add_sample(f"component_{name.replace(' ', '_')}", f"  component: {name}", samples, "ms", "latency")
    after = rss_mb()
    report.add("searcher_load", "  Searcher.load (in-process)", "s", "value", value=loaded)
    if before is not None and after is not None:
        report.add("searcher_rss", "  RSS growth: load + all queries", "MiB", "value", value=after - before)


def _naive_build(
    report: Report, work: Path, corpus: Path, model: str, ours: list[ChildRun], build_runs: int, note: Out
) -> None:
    """The same notes built the naive way (sentence-transformers on torch), in this run, and the ratio."""
    naive = [
        python_child(
            {"task": "naive_build", "corpus": str(corpus), "index": str(work / f"naive-{n}"), "model": model}, work
        )
        for n in _counted(range(build_runs), "naive build (sentence-transformers)", note)
    ]
    seconds = [float(require_result(run, "naive build")["seconds"]) for run in naive]
    report.add_sample(
        "build_naive",
        "naive build in the same run (sentence-transformers encode, batches of 32)",
        seconds,
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in naive),
        note="; ".join(f"{stage} {value:.1f} s" for stage, value in (naive[0].result or {})["stages"].items()),
    )
    ours_median = summarize([float((run.result or {})["seconds"]) for run in ours])["median"]
    report.add(
        "build_ratio", "  naive / ours (full build)", "×", "value", value=summarize(seconds)["median"] / ours_median
    )
