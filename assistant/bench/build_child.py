"""The child side of a timed index build: per-stage seconds and peak RSS from inside build_index.

build_index's progress calls mark stage changes; its `BuildHooks` time each index file written. The
direct path (scale mode, above DIRECT_ABOVE chunks) writes the synthetic notes and hands build_index
their chunks through a hook instead of decoding and parsing them (the same chunks; decoding and the
pure-Python Markdown parser alone take ~15 minutes for 1M chunks on 2 cores); everything else,
vectors, FAISS, BM25 and the files on disk, is the real build.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.bench.memory import peak_rss_mb, self_usage
from assistant.config import Settings
from assistant.notes.chunk import Chunk
from assistant.notes.ingest import Document, FileProblem

if TYPE_CHECKING:
    from assistant.engine import Engine
    from assistant.store.partial import PartialIndex

ChunkNote = Callable[[str, bytes], tuple[Document | None, FileProblem | None, list[Chunk]]]


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


def _timed_writes(clock: _StageClock) -> tuple[Callable[[str], None], Callable[[str, float, str], None]]:
    """Build hooks that time each index file written (FAISS and BM25 as their own stages)."""
    labels = {"dense.faiss": "  faiss (dense.faiss", "lines": "  faiss (lines.faiss", "bm25": "  bm25 (bm25"}

    def written(name: str, seconds: float, detail: str) -> None:
        if name in labels:
            kind = f", {detail}" if detail else ""
            clock.mark(f"{labels[name]}{kind})", seconds)

    def writing(name: str) -> None:
        return None

    return writing, written


def child_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Build an index as the spec says and report seconds, counts and per-stage timings."""
    from assistant.engine import Engine
    from assistant.store.build_report import BuildHooks
    from assistant.store.generation import current_generation
    from assistant.store.manifest import read_manifest

    settings = Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), model=spec["model"])
    if spec.get("model_cache"):  # a first build on a new machine: an empty export cache
        os.environ["NOTES_CACHE"] = spec["model_cache"]
    clock = _StageClock()
    writing, written = _timed_writes(clock)
    chunk_note = _known_chunks(spec["synthetic"], settings.corpus_dir, clock) if spec.get("synthetic") else None
    embedder = None
    if spec["stand_in"]:
        from assistant.bench.stand_in import StandInEmbedder

        embedder = StandInEmbedder()
    engine = Engine(settings, embedder=embedder, encoder=embedder)
    first: dict[str, Any] = {}
    asking: list[threading.Thread] = []
    question = spec.get("first_question")
    partial = _first_answer(engine, question, clock, first, asking) if question else None
    hooks = BuildHooks(chunk_note=chunk_note, writing=writing, written=written, partial=partial)
    started = clock.started = time.perf_counter()
    report = engine.build(rebuild=spec["rebuild"], progress=clock, hooks=hooks)
    seconds = time.perf_counter() - started
    for thread in asking:
        thread.join(60)
    generation = current_generation(settings.index_dir)
    manifest = read_manifest(generation) if generation else None
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time(),
        "chunks": report.chunks,
        "files": report.files,
        "embedded": report.embedded,
        "reused": report.reused,
        "line_vectors": manifest.line_vectors if manifest else None,
        "index_type": manifest.index_type if manifest else None,
        "stages": clock.finish(),
        "first_answer": first,
        "peak_rss_mb": peak_rss_mb(self_usage()),
    }


def _first_answer(
    engine: Engine, question: str, clock: _StageClock, first: dict[str, Any], asking: list[threading.Thread]
) -> Callable[[PartialIndex], None]:
    """A build hook that asks `question` as soon as the build can answer it (its partial index),
    beside the build as a user would, and records when: seconds from the build's start to the
    partial index and to the answer, and how many passages were embedded by then."""

    def ask() -> None:
        response = engine.search(question)
        first["answer_seconds"] = time.perf_counter() - clock.started
        first["passages_embedded"] = response.building.embedded if response.building else None
        first["results"] = len(response.hits)

    def on_partial(partial: PartialIndex) -> None:
        first["partial_seconds"] = time.perf_counter() - clock.started
        asking.append(threading.Thread(target=ask, daemon=True))
        asking[-1].start()

    return on_partial


def _known_chunks(synthetic: dict[str, Any], corpus: Path, clock: _StageClock) -> ChunkNote:
    """The direct path: write the synthetic notes, and hand the build their chunks instead of
    decoding and parsing 600 MB of Markdown (the chunks are the same: see tests/test_bench.py).
    Everything else in build_index runs as it is."""
    from assistant.bench.synthetic import harvest, synthetic_notes

    started = time.perf_counter()
    pool = harvest([Path(path) for path in synthetic["sources"]])
    planned: dict[str, list[Chunk]] = {}
    for note in synthetic_notes(pool, synthetic["count"], synthetic["seed"]):
        path = corpus / note.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note.text, encoding="utf-8")
        planned[note.path] = note.chunks
    clock.mark("(before the build) synthetic notes written", time.perf_counter() - started)

    def chunk_note(path: str, raw: bytes) -> tuple[Document | None, FileProblem | None, list[Chunk]]:
        return Document(path, "", ""), None, planned[path]

    return chunk_note
