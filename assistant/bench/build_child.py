"""The child side of a timed index build: per-stage seconds and peak RSS from inside build_index.

build_index's progress calls mark stage changes; write_faiss and build_bm25 are wrapped to time each
file written. The direct path (scale mode, above DIRECT_ABOVE chunks) writes the synthetic notes and
lets build_index take their chunks from the generator instead of decoding and parsing them (the same
chunks; decoding and the pure-Python Markdown parser alone take ~15 minutes for 1M chunks on 2
cores); everything else, vectors, FAISS, BM25 and the files on disk, is the real build. The module
attributes swapped for this are only ever swapped in a bench child process.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.bench.memory import peak_rss_mb, self_usage
from assistant.config import Settings


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
        self.stages[stage] = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(self_usage())}

    def _close(self) -> None:
        if self.current is not None and "seconds" not in self.stages[self.current]:
            entry = self.stages[self.current]
            entry["seconds"] = time.perf_counter() - self.started - entry.pop("start")
            entry["peak_rss_mb"] = peak_rss_mb(self_usage())

    def finish(self) -> dict[str, dict[str, float]]:
        self._close()
        self.current = None
        return self.stages


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


def child_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Build an index as the spec says and report seconds, counts and per-stage timings."""
    from assistant import engine
    from assistant.index import build_index, current_generation, read_manifest

    settings = Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), model=spec["model"])
    if spec.get("model_cache"):  # a first build on a new machine: an empty export cache
        os.environ["NOTES_CACHE"] = spec["model_cache"]
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
        "peak_rss_mb": peak_rss_mb(self_usage()),
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
