"""`notes bench`: how fast and how big, measured end to end on throwaway copies.

Corpus mode (the default) measures the shipped notes (`settings.corpus_dir`), in one run:
- cold `notes ask`: a new `python -m assistant ask` process until its results are printed, against the
  naive path (a new process that imports sentence-transformers, loads the model, reads the same
  FAISS index and answers), both medians of `runs` after one discarded warm-up each (page cache warm);
- chat app time to interactive: a new process runs `assistant.tui.run_chat` headless and stops the
  clock when a focused, enabled Input or TextArea is there (then checks that a key press lands);
- warm query latency p50/p95 per mode, in this process, over every eval question;
- full build (`engine.build(rebuild=True)` into a fresh folder) and incremental re-index after a
  one-line edit, each in its own process, with per-process peak RSS.

Scale mode (`scale=N` or `scale_corpus=DIR`) builds about N synthetic chunks (`assistant.synthetic`)
and reports build throughput per stage, index size per component, query p50/p95 per mode and per
component, memory per chunk and, for an approximate (HNSW) index, recall@10 against exact search
over the same vectors for several efSearch values. Above STAND_IN_ABOVE chunks the real model is
replaced by a labelled stand-in embedder; above DIRECT_ABOVE, `build_index` takes the synthetic
notes' chunks from the generator instead of decoding and parsing them (the same chunks; decoding and
the pure-Python Markdown parser alone take ~15 minutes for 1M chunks on 2 cores); everything else,
vectors, FAISS, BM25 and the files on disk, is the real build.

Nothing here touches the user's corpus/ or index/: everything happens in a temporary folder removed on
exit, Ctrl-C included, and child processes are killed when the bench is interrupted. Children run
with the temporary folder as working directory, NOTES_* variables removed and the hub offline.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import MODES, Settings, resolve_model_path
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import numpy as np

    from assistant.search import Searcher

Out = Callable[[str], None]

STAND_IN_ABOVE = 5_000
"""Scale runs above this many chunks use the stand-in embedder unless told otherwise (the real model
embeds ~20 chunks/s on a 2-core CPU)."""
DIRECT_ABOVE = 200_000
"""Synthetic runs above this many chunks skip writing Markdown files and chunking them."""
QUESTION = "lambda maximum memory"
RECALL_K = 10
EF_SEARCH_SWEEP = (32, 64, 128, 256, 512, 1024)
TUI_ENTRY = "assistant.tui:run_chat"
LAUNCH_ENV = "NOTES_BENCH_LAUNCHED"
_CHILD = "import sys; from assistant.bench import child_main; child_main(sys.argv[1])"
_SAMPLE_QUESTIONS = (
    "lambda maximum memory",
    "difference between security groups and network ACLs",
    "what is a NAT gateway",
    "S3 storage classes",
    "RDS multi-AZ vs read replicas",
    "SQS visibility timeout",
    "dynamodb partition key",
    "route 53 routing policies",
    "iam policy structure",
    "how to connect a VPC to S3 privately",
)

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


def _quiet(message: str) -> None:
    return None


# ---------------------------------------------------------------- measurements and the table


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min, max, p95 and count of a sample (nearest-rank p95)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p95 = ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]
    return {"median": median, "min": ordered[0], "max": ordered[-1], "p95": p95, "n": len(ordered)}


@dataclass
class Report:
    """Rows of results, kept in the order they were measured, printed as one table."""

    mode: str
    rows: dict[str, dict[str, Any]]
    info: dict[str, Any]

    def add(self, key: str, label: str, unit: str = "", style: str = "range", **values: Any) -> dict[str, Any]:
        row = {"label": label, "unit": unit, "style": style, **values}
        self.rows[key] = row
        return row

    def add_sample(
        self, key: str, label: str, samples: Sequence[float], unit: str, style: str = "range", **extra: Any
    ) -> None:
        self.add(key, label, unit, style, **summarize(samples), **extra)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, **self.info, "results": self.rows}


def _number(value: float, unit: str) -> str:
    if unit in ("s",):
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MiB":
        return f"{value:,.0f} MiB" if value >= 10 else f"{value:.1f} MiB"
    if unit in ("KiB",):
        return f"{value:,.1f} KiB"
    if unit == "x":
        return f"{value:.1f}×"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "":
        return f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
    return f"{value:,.2f} {unit}"


def format_table(report: Report) -> list[str]:
    """The report as aligned text lines: metric, median (or value), spread, n, peak RSS / note."""
    lines = [f"{'metric':<46} {'median':>12} {'spread':>26} {'n':>5}  note"]
    lines.append("-" * 110)
    for row in report.rows.values():
        unit = row["unit"]
        if row["style"] == "section":
            lines.append("")
            lines.append(row["label"])
            continue
        if "text" in row:
            value, spread, count = row["text"], "", ""
        elif "median" in row:
            value = _number(row["median"], unit)
            if row["style"] == "latency":
                spread = f"p95 {_number(row['p95'], unit)}"
            elif row.get("n", 0) > 1:
                spread = f"{_number(row['min'], unit)} – {_number(row['max'], unit)}"
            else:
                spread = ""
            count = str(row.get("n", ""))
        elif "value" in row:
            value, spread, count = _number(row["value"], unit), "", ""
        else:
            value, spread, count = "n/a", "", ""
        notes = []
        if row.get("peak_rss_mb") is not None:
            notes.append(f"peak RSS {row['peak_rss_mb']:,.0f} MiB")
        if row.get("note"):
            notes.append(str(row["note"]))
        lines.append(f"  {row['label']:<44} {value:>12} {spread:>26} {count:>5}  {'; '.join(notes)}")
    return lines


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("numpy", "faiss", "onnxruntime", "bm25s"):
        with contextlib.suppress(ImportError):
            versions[name] = getattr(importlib.import_module(name), "__version__", "?")
    load = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(value, 2) for value in os.getloadavg()]
    return {
        "load_average": load,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory else None,
        "gpu": "none used",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _rss_mb() -> float | None:
    """This process's resident memory now (Linux), in MiB."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def _peak_rss_mb(usage: Any) -> float:
    divisor = 2**20 if sys.platform == "darwin" else 2**10
    return float(usage.ru_maxrss) / divisor


# ---------------------------------------------------------------- child processes


@dataclass(frozen=True)
class ChildRun:
    """One finished child process: wall time, its own peak RSS, exit status, output and result file."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None

    def tail(self) -> str:
        text = (self.stderr or self.stdout).strip().splitlines()
        return " | ".join(text[-3:])[:400]


def _child_env(extra_paths: Sequence[Path] = ()) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTES_")}
    root = str(Path(__file__).resolve().parents[1])
    paths = [root, *(str(path) for path in extra_paths)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def run_child(
    argv: Sequence[str],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    result_file: Path | None = None,
    timeout: float = 3600.0,
) -> ChildRun:
    """Run argv to completion and measure it: wall time from spawn to exit, and its peak RSS
    (os.wait4, so each child is measured on its own). Killed if the bench is interrupted."""
    env = dict(env or _child_env())
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    if result_file is not None:
        result_file.unlink(missing_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        env[LAUNCH_ENV] = repr(time.time())
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        try:
            status, usage = _wait(process, timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
    result = None
    if result_file is not None and result_file.exists():
        with contextlib.suppress(ValueError):
            result = json.loads(result_file.read_text(encoding="utf-8"))
    return ChildRun(
        seconds=seconds,
        peak_rss_mb=_peak_rss_mb(usage),
        returncode=status,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        result=result,
    )


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any]:
    """Block until the child exits (a timer kills it after timeout); its exit code and rusage."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    return code, usage


def _python_child(
    task: dict[str, Any], workdir: Path, extra_paths: Sequence[Path] = (), timeout: float = 3600.0
) -> ChildRun:
    spec = workdir / f"{task['task']}.spec.json"
    result = workdir / f"{task['task']}.result.json"
    spec.write_text(json.dumps({**task, "result": str(result)}), encoding="utf-8")
    return run_child(
        [sys.executable, "-c", _CHILD, str(spec)],
        workdir,
        env=_child_env(extra_paths),
        result_file=result,
        timeout=timeout,
    )


def _require(run: ChildRun, what: str) -> dict[str, Any]:
    if run.returncode != 0 or run.result is None:
        raise AssistantError(f"{what} failed (exit {run.returncode}): {run.tail()}")
    return run.result


def child_main(spec_path: str) -> None:
    """Entry point of the bench's child processes (build, direct build, chat app probe)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "build": _child_build,
        "tui": _child_tui,
    }
    result = tasks[spec["task"]](spec)
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")


class _StageClock:
    """Turns build_index's progress calls into per-stage seconds and peak RSS at each stage's end."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}
        self.current: str | None = None
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.current:
            self._close()
            self.current = stage
            self.stages[stage] = {"start": time.perf_counter() - self.started}

    def mark(self, stage: str, seconds: float) -> None:
        self.stages[stage] = {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(_self_usage())}

    def _close(self) -> None:
        if self.current is not None and "seconds" not in self.stages[self.current]:
            entry = self.stages[self.current]
            entry["seconds"] = time.perf_counter() - self.started - entry.pop("start")
            entry["peak_rss_mb"] = _peak_rss_mb(_self_usage())

    def finish(self) -> dict[str, dict[str, float]]:
        self._close()
        self.current = None
        return self.stages


def _self_usage() -> Any:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF)


@contextlib.contextmanager
def _replaced(module: Any, **replacements: Any) -> Iterator[dict[str, Any]]:
    """Swap module attributes for the duration (bench child processes only); yields the originals."""
    originals = {name: getattr(module, name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield originals
    finally:
        for name, value in originals.items():
            setattr(module, name, value)


@contextlib.contextmanager
def _timed_writers(clock: _StageClock) -> Iterator[None]:
    """Time each write_faiss and build_bm25 call inside build_index."""
    import assistant.index as index_module

    def wrap(name: str, label: str) -> Callable[..., Any]:
        original = getattr(index_module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            value = original(*args, **kwargs)
            # write_faiss(path, vectors) and build_bm25(texts, directory): name what was written.
            target = Path(args[1] if name == "build_bm25" else args[0]).name
            kind = f", {value}" if isinstance(value, str) else ""
            clock.mark(f"{label} ({target}{kind})", time.perf_counter() - started)
            return value

        return timed

    with _replaced(index_module, write_faiss=wrap("write_faiss", "  faiss"), build_bm25=wrap("build_bm25", "  bm25")):
        yield


def _child_build(spec: dict[str, Any]) -> dict[str, Any]:
    from assistant import engine
    from assistant.index import build_index, current_generation, read_manifest

    settings = Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), model=spec["model"])
    clock = _StageClock()
    with contextlib.ExitStack() as stack:
        if spec.get("synthetic"):
            stack.enter_context(_known_chunks(spec["synthetic"], settings.corpus_dir, clock))
        stack.enter_context(_timed_writers(clock))
        started = clock.started = time.perf_counter()
        if spec["stand_in"]:
            from assistant.synthetic import StandInEmbedder

            report = build_index(
                settings.corpus_dir,
                settings.index_dir,
                StandInEmbedder(),
                rebuild=spec["rebuild"],
                progress=clock,
                export_encoder=False,
            )
        else:
            report = engine.build(settings, rebuild=spec["rebuild"], progress=clock)
    seconds = time.perf_counter() - started
    generation = current_generation(settings.index_dir)
    manifest = read_manifest(generation) if generation else {}
    return {
        "seconds": seconds,
        "chunks": report.chunks,
        "files": report.files,
        "embedded": report.embedded,
        "reused": report.reused,
        "line_vectors": manifest.get("line_vectors"),
        "index_type": manifest.get("index_type"),
        "stages": clock.finish(),
        "peak_rss_mb": _peak_rss_mb(_self_usage()),
    }


@contextlib.contextmanager
def _known_chunks(synthetic: dict[str, Any], corpus: Path, clock: _StageClock) -> Iterator[None]:
    """The direct path: write the synthetic notes, and let build_index take their chunks from the
    generator instead of decoding and parsing 600 MB of Markdown (the chunks are the same: see
    tests/test_bench.py). Everything else in build_index runs as it is."""
    import assistant.index as index_module
    from assistant.ingest import Document
    from assistant.synthetic import harvest, synthetic_notes

    started = time.perf_counter()
    pool = harvest([Path(path) for path in synthetic["sources"]])
    planned: dict[str, list[Any]] = {}
    for note in synthetic_notes(pool, synthetic["count"], synthetic["seed"]):
        path = corpus / note.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note.text, encoding="utf-8")
        planned[note.path] = note.chunks
    clock.mark("(before the build) synthetic notes written", time.perf_counter() - started)

    def decode(path: str, raw: bytes) -> tuple[Any, None]:
        return Document(path, "", ""), None

    def chunk(document: Any, **_options: Any) -> list[Any]:
        return planned[document.path]

    with _replaced(index_module, decode_document=decode, chunk_document=chunk):
        yield


def _child_tui(spec: dict[str, Any]) -> dict[str, Any]:
    """Launch the chat app the way `notes` does, headless, and time it until the prompt takes keys."""
    launched = float(os.environ[LAUNCH_ENV])
    module_name, _, function_name = spec["entry"].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return {"status": "missing", "error": str(exc)}
        raise
    from textual.app import App
    from textual.widgets import Input, TextArea

    result: dict[str, Any] = {"status": "no-prompt"}
    original_run = App.run

    async def probe(pilot: Any) -> None:
        app = pilot.app
        result["ready_s"] = time.time() - launched
        deadline = time.monotonic() + float(spec.get("timeout", 30.0))
        while time.monotonic() < deadline:
            focused = app.focused
            if isinstance(focused, (Input, TextArea)) and not focused.disabled:
                result["interactive_s"] = time.time() - launched
                before = focused.value if isinstance(focused, Input) else focused.text
                await pilot.press("x")
                after = focused.value if isinstance(focused, Input) else focused.text
                result["key_s"] = time.time() - launched
                result["status"] = "ok" if after != before else "key-ignored"
                break
            await pilot.pause(0.005)
        # NotesApp opens the index in a worker after painting: also time when answers become possible.
        while hasattr(app, "searcher") and time.monotonic() < deadline:
            if app.searcher is not None:
                result["searcher_s"] = time.time() - launched
                break
            await pilot.pause(0.005)
        app.exit()

    def headless_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.update(headless=True, inline=False, size=(120, 40), auto_pilot=probe)
        return original_run(self, *args, **kwargs)

    App.run = headless_run  # type: ignore[method-assign]
    settings = Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), model=spec["model"])
    getattr(module, function_name)(settings)
    return result


# ---------------------------------------------------------------- shared pieces


def load_questions(path: Path | None) -> list[str]:
    """The eval questions ("question" or "query" field, one JSON object a line), or a built-in sample."""
    if path is None or not path.is_file():
        return list(_SAMPLE_QUESTIONS)
    questions: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            text = record.get("question") or record.get("query")
            if text:
                questions.append(str(text))
    return questions or list(_SAMPLE_QUESTIONS)


def _latencies(searcher: Searcher, questions: Sequence[str], k: int) -> dict[str, list[float]]:
    for mode in MODES:
        for question in questions[:10]:
            searcher.search(question, k=k, mode=mode)
    timings: dict[str, list[float]] = {}
    for mode in MODES:
        samples = timings[mode] = []
        for question in questions:
            started = time.perf_counter()
            searcher.search(question, k=k, mode=mode)
            samples.append((time.perf_counter() - started) * 1000)
    return timings


def _components(searcher: Searcher, questions: Sequence[str]) -> dict[str, list[float]]:
    """Per-stage query time: BM25 scoring, BM25 top-k, query encoding, dense search."""
    from assistant.search import CANDIDATES, bm25_candidates, dense_candidates, line_candidates, normalise_query

    names = ["bm25 scoring", "bm25 top-k", "query encoding", "dense search (chunks)"]
    lines = getattr(searcher, "lines", None)
    if lines is not None:
        names.append("dense search (lines)")
    timings: dict[str, list[float]] = {name: [] for name in names}
    for question in questions:
        text = normalise_query(question)
        marks = [time.perf_counter()]
        scores = searcher.lexical.scores(text)
        marks.append(time.perf_counter())
        bm25_candidates(scores, CANDIDATES, None)
        marks.append(time.perf_counter())
        vector = searcher.embed_query(text)
        marks.append(time.perf_counter())
        dense_candidates(searcher.dense_index, vector, CANDIDATES, None)
        marks.append(time.perf_counter())
        if lines is not None:
            line_candidates(lines[0], lines[1], vector, CANDIDATES, None)
            marks.append(time.perf_counter())
        for name, begin, end in zip(names, marks, marks[1:], strict=False):
            timings[name].append((end - begin) * 1000)
    return timings


def _sizes(generation: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in sorted(generation.iterdir()):
        if path.is_dir():
            sizes[path.name + "/"] = sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
        else:
            sizes[path.name] = path.stat().st_size
    return sizes


def _add_build(report: Report, key: str, label: str, runs: list[ChildRun]) -> None:
    results = [run.result or {} for run in runs]
    chunks = int(results[0].get("chunks", 0))
    seconds = [float(result["seconds"]) for result in results]
    wall = summarize([run.seconds for run in runs])["median"]
    report.add_sample(
        key,
        label,
        seconds,
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
        note=f"{chunks:,} chunks, {results[0].get('index_type')}; process wall {wall:.1f} s",
    )
    rates = [chunks / value for value in seconds if value > 0]
    if rates:
        report.add_sample(f"{key}_rate", "  throughput (chunks/s)", rates, "/s")
    for stage, entry in results[0].get("stages", {}).items():
        report.add(
            f"{key}_stage_{stage.replace(' ', '_')}",
            f"  stage: {stage}",
            "s",
            "value",
            value=float(entry.get("seconds", 0.0)),
            note=f"peak RSS by then {entry.get('peak_rss_mb', 0):,.0f} MiB",
        )


# ---------------------------------------------------------------- corpus mode


def _edit_one_line(corpus: Path, number: int) -> str:
    """Append a few words to one prose line of one note (the same line each time); returns which."""
    from assistant.ingest import discover

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


def _bench_corpus(
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
    corpus = work / "corpus"
    index = work / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    model = settings.model
    report.info["corpus"] = str(settings.corpus_dir.resolve())
    report.info["embedder"] = "stand-in (hashed random projection; NOT the real model)" if stand_in else model

    report.add("section_build", "index build", style="section")
    builds: list[ChildRun] = []
    for number in range(build_runs):
        target = index if number == 0 else work / f"index-{number}"
        note(f"full build {number + 1}/{build_runs} …")
        run = _python_child(
            {
                "task": "build",
                "corpus": str(corpus),
                "index": str(target),
                "model": model,
                "rebuild": True,
                "stand_in": stand_in,
            },
            work,
        )
        _require(run, "index build")
        builds.append(run)
        if number:
            shutil.rmtree(target, ignore_errors=True)
    _add_build(report, "build_full", "full build (engine.build, rebuild)", builds)
    chunks = int((builds[0].result or {})["chunks"])
    report.info["chunks"] = chunks

    from assistant.index import require_index

    generation = require_index(index)
    report.add("section_cold", "cold one-shot query (new process → results printed)", style="section")
    if stand_in:
        report.add("cold_ask", "cold `notes ask`", text="n/a (stand-in embedder)")
    else:
        _cold_asks(report, work, corpus, index, generation, model, runs, note)

    report.add("section_tui", "chat app (new process → prompt takes keys)", style="section")
    # With a stand-in index the app must be told that model, or it would rebuild with the real one.
    tui_model = _stand_in_name() if stand_in else model
    _tui(report, work, corpus, index, tui_model, runs, tui_entry, tui_paths, note)

    report.add(
        "section_warm", f"warm query latency (one loaded Searcher, {len(questions)} eval questions)", style="section"
    )
    _warm(report, index, model, questions, settings.k, stand_in, note)

    report.add("section_incremental", "incremental re-index after a one-line edit (new process each)", style="section")
    edits: list[ChildRun] = []
    where = ""
    for number in range(runs):
        where = _edit_one_line(corpus, number + 1)
        note(f"incremental build {number + 1}/{runs} ({where}) …")
        run = _python_child(
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
        _require(run, "incremental build")
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


def _cold_asks(
    report: Report, work: Path, corpus: Path, index: Path, generation: Path, model: str, runs: int, note: Out
) -> None:
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
            if name == "ours" and any(word in run.stderr for word in ("building", "refreshing", "rebuilding")):
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
        run = _python_child(task, work, extra_paths, timeout=120.0)
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


def _stand_in_name() -> str:
    from assistant.synthetic import StandInEmbedder

    return StandInEmbedder.name


def _warm(report: Report, index: Path, model: str, questions: list[str], k: int, stand_in: bool, note: Out) -> None:
    from assistant.search import Searcher

    note("warm queries …")
    encoder = None
    if stand_in:
        from assistant.synthetic import StandInEmbedder

        encoder = StandInEmbedder()
    before = _rss_mb()
    started = time.perf_counter()
    searcher = Searcher.load(index, encoder, model=model)
    loaded = time.perf_counter() - started
    for mode, samples in _latencies(searcher, questions, k).items():
        report.add_sample(f"query_{mode}", f"{mode} (k={k})", samples, "ms", "latency")
    for name, samples in _components(searcher, questions).items():
        report.add_sample(f"component_{name.replace(' ', '_')}", f"  component: {name}", samples, "ms", "latency")
    after = _rss_mb()
    report.add("searcher_load", "  Searcher.load (in-process)", "s", "value", value=loaded)
    if before is not None and after is not None:
        report.add("searcher_rss", "  RSS growth: load + all queries", "MiB", "value", value=after - before)


# ---------------------------------------------------------------- scale mode


def _estimate_chunks(folder: Path) -> int:
    from assistant.ingest import discover

    sources, _ = discover(folder)
    return sum(source.absolute.stat().st_size for source in sources) // 500


def _bench_scale(
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
    import numpy as np

    from assistant.index import require_index
    from assistant.search import Searcher
    from assistant.synthetic import StandInEmbedder, harvest, sample_texts, write_synthetic_corpus

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
        run = _python_child(task, work)
        _require(run, "index build")
        builds.append(run)
        if number:
            shutil.rmtree(target, ignore_errors=True)
    _add_build(report, "build_full", "full build", builds)
    chunks = int((builds[0].result or {})["chunks"])
    report.info["chunks"] = chunks
    peak = max(run.peak_rss_mb for run in builds)
    report.add(
        "build_memory_per_chunk", "  build peak RSS per chunk", "KiB", "value", value=peak * 1024 / max(chunks, 1)
    )

    generation = require_index(index)
    report.add("section_disk", "index size on disk", style="section")
    sizes = _sizes(generation)
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
    before = _rss_mb()
    started = time.perf_counter()
    searcher = Searcher.load(index, encoder, model=settings.model)
    loaded = time.perf_counter() - started
    after_load = _rss_mb()
    note("timing queries …")
    for mode, samples in _latencies(searcher, questions, settings.k).items():
        goal = "≤ 30 ms" if chunks <= 150_000 else "≤ 50 ms"
        report.add_sample(f"query_{mode}", f"{mode}", samples, "ms", "latency", note=f"target p50 {goal}")
    for name, samples in _components(searcher, questions).items():
        report.add_sample(f"component_{name.replace(' ', '_')}", f"  component: {name}", samples, "ms", "latency")
    after_queries = _rss_mb()
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

    _load_parts(report, generation)
    _cold_scale_asks(report, work, corpus, index, settings.model, stand_in, min(runs, 3), note)

    report.add(
        "section_recall", f"vector indexes vs exact search over the same vectors (recall@{RECALL_K})", style="section"
    )
    import assistant.search as search_module

    targets = [("chunks", searcher.dense_index, "vectors.npy", search_module.CANDIDATES)]
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


def _load_parts(report: Report, generation: Path) -> None:
    """What Searcher.load spends its time on, part by part (page cache warm)."""
    import faiss

    from assistant.index import read_chunks
    from assistant.lexical import LexicalIndex

    parts: list[tuple[str, str, Callable[[], Any]]] = [
        ("chunks", "chunk store (chunks.jsonl → Chunk objects)", lambda: read_chunks(generation)),
        ("dense", "dense index (read dense.faiss)", lambda: faiss.read_index(str(generation / "dense.faiss"))),
        ("bm25", "BM25 arrays (memory-mapped) + vocabulary", lambda: LexicalIndex(generation / "bm25")),
    ]
    if (generation / "lines.faiss").exists():
        parts.append(
            ("lines", "line index (read lines.faiss)", lambda: faiss.read_index(str(generation / "lines.faiss")))
        )
    for key, label, load in parts:
        started = time.perf_counter()
        loaded = load()
        report.add(f"load_{key}", f"  load: {label}", "s", "value", value=time.perf_counter() - started)
        del loaded


def _cold_scale_asks(
    report: Report, work: Path, corpus: Path, index: Path, model: str, stand_in: bool, runs: int, note: Out
) -> None:
    """A one-shot `notes ask` at this scale: new process, freshness check, load, answer."""
    # A stand-in index has no query encoder a new process could load: time the BM25 path, which
    # loads everything else (chunks, FAISS, BM25) exactly as a hybrid question does.
    mode = "bm25" if stand_in else "hybrid"
    argv = [sys.executable, "-m", "assistant", "ask", "--corpus", str(corpus), "--index", str(index)]
    argv += ["--model", _stand_in_name() if stand_in else model, "--mode", mode, QUESTION]
    samples: list[ChildRun] = []
    for number in range(runs + 1):
        note(f"cold ask {number}/{runs} …" if number else "cold ask warm-up …")
        run = run_child(argv, work)
        if run.returncode != 0 or not run.stdout.strip():
            raise AssistantError(f"cold ask failed (exit {run.returncode}): {run.tail()}")
        if any(word in run.stderr for word in ("building", "refreshing", "rebuilding")):
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


# ---------------------------------------------------------------- entry point


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

    Without scale/scale_corpus: the shipped-corpus bench (cold ask vs naive, chat app start, warm
    latency, full and incremental builds). With them: the scale bench. `runs` repeats process-level
    timings; latencies use every question once per mode. `stand_in=None` picks the stand-in embedder
    above STAND_IN_ABOVE chunks (scale mode only). `note` receives progress lines.
    """
    if runs < 1:
        raise AssistantError(f"--runs must be at least 1, not {runs}")
    if scale is not None and scale < 1:
        raise AssistantError(f"--scale must be at least 1, not {scale}")
    scaled = scale is not None or scale_corpus is not None
    if not scaled and not settings.corpus_dir.is_dir():
        raise AssistantError(f"notes folder not found: {settings.corpus_dir}", "pass --corpus DIR")
    if scale_corpus is not None and not scale_corpus.is_dir():
        raise AssistantError(f"notes folder not found: {scale_corpus}", "pass --scale-corpus DIR")
    if questions_file is None:
        candidate = Path("evals") / "questions.jsonl"
        questions_file = candidate if candidate.is_file() else None
    questions = load_questions(questions_file)
    report = Report("scale" if scaled else "corpus", {}, {"machine": machine_info()})
    report.info["config"] = {
        "runs": runs,
        "scale": scale,
        "scale_corpus": str(scale_corpus) if scale_corpus else None,
        "questions": str(questions_file) if questions_file else "(built-in sample)",
        "question_count": len(questions),
        "seed": seed,
    }
    started = time.perf_counter()
    with _workspace(workdir) as work:
        if scaled:
            _bench_scale(
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
            _bench_corpus(
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
    report.info["bench_peak_rss_mb"] = round(_peak_rss_mb(_self_usage()), 1)
    for line in _header(report):
        out(line)
    for line in format_table(report):
        out(line)
    result = report.as_dict()
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return result


def _header(report: Report) -> list[str]:
    machine = report.info["machine"]
    what = report.info.get("corpus") or "synthetic notes"
    lines = [
        f"notes bench ({report.mode}): {what}, {report.info.get('chunks', '?'):,} chunks"
        if isinstance(report.info.get("chunks"), int)
        else f"notes bench ({report.mode}): {what}",
        f"machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB RAM, no GPU; "
        f"Python {machine['python']}, " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        f"embedder: {report.info.get('embedder')}",
    ]
    if report.info.get("build_path"):
        lines.append(f"build path: {report.info['build_path']}")
    if report.info.get("hnsw"):
        lines.append(f"HNSW parameters: {report.info['hnsw']}")
    load_end = machine_info()["load_average"]
    report.info["load_average_end"] = load_end
    lines.append(
        f"bench took {report.info['bench_seconds']} s; "
        f"bench process peak RSS {report.info['bench_peak_rss_mb']:,.0f} MiB; "
        f"load average at start {machine['load_average']}, at end {load_end}"
    )
    lines.append("")
    return lines
