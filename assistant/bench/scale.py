"""Scale mode (`scale=N` or `scale_corpus=DIR`): how the index grows with the number of chunks.

It builds about N synthetic chunks (`assistant.synthetic`) and reports build throughput per stage,
index size per component, query p50/p95 per mode and per component, memory per chunk and, for an
approximate (HNSW) index, recall@10 against exact search over the same vectors for several efSearch
values. Above STAND_IN_ABOVE chunks the real model is replaced by a labelled stand-in embedder; above
DIRECT_ABOVE, `build_index` takes the synthetic notes' chunks from the generator instead of decoding
and parsing them (`assistant.bench.build_child`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.bench.builds import add_build
from assistant.bench.children import ChildRun, python_child, require_result
from assistant.bench.cold import cold_scale_asks
from assistant.bench.footprint import file_sizes, time_load_parts
from assistant.bench.memory import rss_mb
from assistant.bench.queries import components, latencies
from assistant.bench.report import Out, Report
from assistant.config import Settings
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import numpy as np


STAND_IN_ABOVE = 5_000
"""Scale runs above this many chunks use the stand-in embedder unless told otherwise (the real model
embeds ~20 chunks/s on a 2-core CPU)."""
DIRECT_ABOVE = 200_000
"""Synthetic runs above this many chunks skip writing Markdown files and chunking them."""
RECALL_K = 10
EF_SEARCH_SWEEP = (32, 64, 128, 256, 512, 1024)


def _estimate_chunks(folder: Path) -> int:
    """About how many chunks a notes folder makes (~500 bytes a chunk), before building it."""
    from assistant.notes.ingest import discover

    sources, _ = discover(folder)
    return sum(source.absolute.stat().st_size for source in sources) // 500


def bench_scale(
    settings: Settings,
    report: Report,
    work: Path,
    *,
    scale: int | None,
    scale_corpus: Path | None,
    runs: int,
    build_runs: int,
    stand_in: bool | None,
    direct: bool | None,
    questions: list[str],
    recall_queries: int,
    seed: int,
    note: Out,
) -> None:
    """The scale bench on synthetic notes or scale_corpus (see the module docstring)."""
    import numpy as np

    from assistant.bench.stand_in import StandInEmbedder
    from assistant.bench.synthetic import harvest, sample_texts, write_synthetic_corpus
    from assistant.retrieve.search import Searcher
    from assistant.store.generation import require_index

    wanted = scale if scale is not None else _estimate_chunks(scale_corpus)  # type: ignore[arg-type]
    if stand_in is None:
        stand_in = wanted > STAND_IN_ABOVE
    if direct is None:
        direct = scale_corpus is None and stand_in and wanted > DIRECT_ABOVE
    if direct and scale_corpus is not None:
        raise AssistantError("the direct path makes its own synthetic notes", "leave out --scale-corpus")
    sources = [settings.corpus_dir] if settings.corpus_dir.is_dir() else []
    pool = harvest(sources)
    index = work / "index"
    report.info["embedder"] = (
        "STAND-IN: hashed random projection, 384-d (not the real model; vectors share words, not meaning)"
        if stand_in
        else settings.model
    )
    report.info["synthetic_sources"] = [str(source) for source in sources]

    report.add("section_data", "data", style="section")
    if scale_corpus is not None:
        corpus = scale_corpus
        report.info["corpus"] = str(scale_corpus)
        report.add("data", "notes folder", text=str(scale_corpus), note=f"about {wanted:,} chunks estimated")
        path = "files: ingest → chunk → embed → write (build_index)"
    elif direct:
        corpus = work / "corpus"
        path = (
            "direct: build_index on synthetic notes, their chunks taken from the generator "
            "(decoding + Markdown parsing skipped; same chunks)"
        )
        report.add(
            "data", "synthetic sections", "", "value", value=wanted, note=f"seed {seed}, written by the build process"
        )
    else:
        corpus = work / "corpus"
        note(f"writing {wanted:,} synthetic sections …")
        started = time.perf_counter()
        files, size = write_synthetic_corpus(corpus, wanted, pool, seed)
        report.add(
            "data",
            "synthetic notes written",
            "s",
            "value",
            value=time.perf_counter() - started,
            note=f"{wanted:,} sections in {files:,} files, {size / 2**20:,.0f} MiB, seed {seed}",
        )
        path = "files: ingest → chunk → embed → write (build_index)"
    report.info["build_path"] = path

    report.add("section_build", f"build ({path})", style="section")
    builds: list[ChildRun] = []
    for number in range(build_runs):
        target = index if number == 0 else work / f"index-{number}"
        note(f"build {number + 1}/{build_runs} …")
        task: dict[str, Any] = {
            "task": "build",
            "corpus": str(corpus),
            "index": str(target),
            "model": settings.model,
            "rebuild": True,
            "stand_in": stand_in,
        }
        if direct:
            task["synthetic"] = {"count": wanted, "seed": seed, "sources": [str(source) for source in sources]}
            if number:
                shutil.rmtree(corpus, ignore_errors=True)
        run = python_child(task, work)
        require_result(run, "index build")
        builds.append(run)
        if number:
            shutil.rmtree(target, ignore_errors=True)
    add_build(report, "build_full", "full build", builds)
    chunks = int((builds[0].result or {})["chunks"])
    report.info["chunks"] = chunks
    peak = max(run.peak_rss_mb for run in builds)
    report.add(
        "build_memory_per_chunk", "  build peak RSS per chunk", "KiB", "value", value=peak * 1024 / max(chunks, 1)
    )

    generation = require_index(index)
    report.add("section_disk", "index size on disk", style="section")
    sizes = file_sizes(generation)
    for name, size in sizes.items():
        report.add(
            f"disk_{name}",
            f"  {name}",
            "MiB",
            "value",
            value=size / 2**20,
            note=f"{size / max(chunks, 1):,.0f} B/chunk",
        )
    report.add("disk_total", "total", "MiB", "value", value=sum(sizes.values()) / 2**20)

    report.add(
        "section_query",
        f"queries (one loaded Searcher, {len(questions)} eval questions, k={settings.k})",
        style="section",
    )
    note("loading the index …")
    encoder = StandInEmbedder() if stand_in else None
    before = rss_mb()
    started = time.perf_counter()
    searcher = Searcher.load(index, encoder, model=settings.model)
    loaded = time.perf_counter() - started
    after_load = rss_mb()
    note("timing queries …")
    for mode, samples in latencies(searcher, questions, settings.k).items():
        goal = "≤ 30 ms" if chunks <= 150_000 else "≤ 50 ms"
        report.add_sample(f"query_{mode}", f"{mode}", samples, "ms", "latency", note=f"target p50 {goal}")
    for name, samples in components(searcher, questions).items():
        report.add_sample(f"component_{name.replace(' ', '_')}", f"  component: {name}", samples, "ms", "latency")
    after_queries = rss_mb()
    report.add("searcher_load", "Searcher.load", "s", "value", value=loaded)
    if before is not None and after_load is not None and after_queries is not None:
        report.add(
            "rss_process",
            "query process RSS after queries",
            "MiB",
            "value",
            value=after_queries,
            note="target ≤ 2 GiB at 100K",
        )
        report.add("rss_growth", "  RSS growth: load + all queries", "MiB", "value", value=after_queries - before)
        report.add(
            "rss_per_chunk",
            "  RSS growth per chunk",
            "KiB",
            "value",
            value=(after_queries - before) * 1024 / max(chunks, 1),
            note=f"load alone {after_load - before:,.0f} MiB",
        )

    time_load_parts(report, generation)
    cold_scale_asks(report, work, corpus, index, settings.model, stand_in, min(runs, 3), note)

    report.add(
        "section_recall", f"vector indexes vs exact search over the same vectors (recall@{RECALL_K})", style="section"
    )
    import assistant.retrieve.search as search_module

    targets = [("chunks", searcher.index.dense_index, "vectors.npy", search_module.CANDIDATES)]
    lines = getattr(searcher, "lines", None)
    if lines is not None:
        targets.append(("lines", lines[0], "line_vectors.npy", getattr(search_module, "LINE_CANDIDATES", 300)))
    approximate = [target for target in targets if hasattr(target[1], "hnsw")]
    for name, dense, _file, _depth in targets:
        if not hasattr(dense, "hnsw"):
            report.add(
                f"recall_{name}",
                f"{name} index ({dense.ntotal:,} vectors)",
                text="flat (exact)",
                note="recall 1.0 by construction",
            )
    if not approximate:
        return
    note("measuring recall against exact search …")
    queries = list(questions)[:recall_queries]
    queries += sample_texts(pool, max(0, recall_queries - len(queries)), seed + 1)
    vectors = np.vstack([searcher.embed_query(text) for text in queries]).astype(np.float32)
    for name, dense, file, depth in approximate:
        stored = np.load(generation / file, allow_pickle=False, mmap_mode="r")
        _recall(report, name, dense, stored, vectors, len(questions), depth)


def _recall(
    report: Report, name: str, dense: Any, stored: np.ndarray, queries: np.ndarray, questions: int, depth: int
) -> None:
    """Recall@10 of an HNSW index against exact inner-product search, for several efSearch values."""
    import faiss
    import numpy as np

    exact_index = faiss.IndexFlatIP(stored.shape[1])
    for begin in range(0, len(stored), 65536):
        exact_index.add(np.ascontiguousarray(stored[begin : begin + 65536], dtype=np.float32))
    started = time.perf_counter()
    _scores, truth = exact_index.search(queries, RECALL_K)
    exact_ms = (time.perf_counter() - started) * 1000 / len(queries)
    single: list[float] = []
    for row in range(min(100, len(queries))):
        started = time.perf_counter()
        exact_index.search(queries[row : row + 1], RECALL_K)
        single.append((time.perf_counter() - started) * 1000)
    del exact_index
    report.add_sample(
        f"{name}_exact_query",
        f"{name}: exact flat search ({dense.ntotal:,} vectors), one query",
        single,
        "ms",
        "latency",
        note=f"batched {exact_ms:.1f} ms/query; {len(queries)} queries "
        f"({min(questions, len(queries))} eval questions + held-out chunk texts)",
    )
    default = int(dense.hnsw.efSearch)
    used = max(default, depth)
    hnsw_info = report.info.setdefault("hnsw", {})
    hnsw_info[name] = {
        "vectors": int(dense.ntotal),
        "M": int(dense.hnsw.nb_neighbors(1)),
        "efConstruction": int(dense.hnsw.efConstruction),
        "efSearch": default,
        "efSearch_used_by_search": used,
    }
    for ef in sorted(set(EF_SEARCH_SWEEP) | {default, used}):
        params = faiss.SearchParametersHNSW(efSearch=max(ef, RECALL_K))  # type: ignore[attr-defined]
        found = np.empty_like(truth)
        samples: list[float] = []
        for row in range(len(queries)):
            started = time.perf_counter()
            _s, rows = dense.search(queries[row : row + 1], RECALL_K, params=params)
            samples.append((time.perf_counter() - started) * 1000)
            found[row] = rows[0]
        hits = sum(len(set(found[row]) & set(truth[row])) for row in range(len(queries)))
        recall = hits / (RECALL_K * len(queries))
        # What fusion sees: search asks for `depth` candidates, so an exact top-10 item that lands
        # anywhere in them still counts (efSearch is raised to the depth, as dense_candidates does).
        deep_params = faiss.SearchParametersHNSW(efSearch=max(ef, depth))  # type: ignore[attr-defined]
        _scores, deep = dense.search(queries, depth, params=deep_params)
        deep_hits = sum(len(set(deep[row]) & set(truth[row])) for row in range(len(queries)))
        recall_deep = deep_hits / (RECALL_K * len(queries))
        tags = [
            tag
            for tag, value in (("index default", default), (f"what search uses at depth {depth}", used))
            if ef == value
        ]
        report.add_sample(
            f"{name}_hnsw_ef{ef}",
            f"{name}: HNSW efSearch={ef}",
            samples,
            "ms",
            "latency",
            recall=recall,
            recall_in_depth=recall_deep,
            note=f"recall@{RECALL_K} {recall:.3f}, exact top {RECALL_K} within top {depth}: {recall_deep:.3f}"
            + (f" ({', '.join(tags)}; target ≥ 0.95)" if tags else ""),
        )
