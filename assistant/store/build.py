"""Stage 4, index: notes → chunks → vectors → a new index generation, in three steps.

1. `_read_notes`: every note, chunked; an unchanged note (same bytes) keeps its chunks.
2. `_embed`: passage vectors (with token vectors for the rerank), line vectors; a text embedded
   before keeps its vector (`vectors.text_key`).
3. `_write`: the chunk store, vectors, FAISS, BM25, token vectors, word counts and the model export
   into a staging folder, published atomically (`generation.publish`).

What is fitted on the notes (BM25 statistics, word counts, the abbreviations spelled out) is computed
from all of them at every build, so an incremental build and a fresh one of the same notes agree.
A different model, dimension or chunker version rebuilds everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import reporting
from assistant.errors import IndexCorrupt
from assistant.files import digest_bytes, record_files
from assistant.model.embed import Embedder, EmbeddingPath, TokenEmbedder
from assistant.model.encoder_cache import ENCODER_DIRECTORY, known_hashes, place_encoder
from assistant.notes.abbreviations import Expander, find_abbreviations
from assistant.notes.chunk import CHUNKER_VERSION, Chunk, chunk_document, lexical_text, line_units
from assistant.notes.ingest import FileProblem, decode_document, discover, read_bytes
from assistant.reporting import Progress, no_progress
from assistant.store.build_report import NO_HOOKS, BuildHooks, BuildReport
from assistant.store.chunk_store import ChunkStore, write_chunk_store
from assistant.store.freshness import belongs_elsewhere, mismatch, same_stat
from assistant.store.generation import build_lock, current_generation, new_staging, publish
from assistant.store.lexical import BM25_PARAMS, build_bm25
from assistant.store.manifest import Manifest, ModelFingerprint, NoteRecord, SkippedNote
from assistant.store.spelling import WORDS_FILE, count_words, write_words
from assistant.store.state import IndexState, read_state
from assistant.store.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.store.token_vectors import TOKEN_VECTOR_LIMIT, Quantized, TokenVectors, write_token_vectors
from assistant.store.vectors import (
    DENSE_FILE,
    LINE_VECTOR_LIMIT,
    VECTORS_FILE,
    LineVectors,
    embed_with_reuse,
    embed_with_tokens,
    load_vectors,
    text_key,
    write_faiss,
    write_lines,
)

if TYPE_CHECKING:
    import numpy as np


def model_fingerprint(embedder: Embedder) -> ModelFingerprint:
    return ModelFingerprint(embedder.name, embedder.dimension, embedder.max_tokens)


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    embedding: EmbeddingPath | None = None,
    state: IndexState | None = None,
    rebuild: bool = False,
    progress: Progress = no_progress,
    on_wait: Callable[[], None] | None = None,
    hooks: BuildHooks = NO_HOOKS,
) -> BuildReport:
    """Build or refresh the index for corpus_dir, re-embedding only texts that changed.

    `embedding`: how the embedder runs, as its caller chose it (recorded in the manifest; the export
    it names is copied into the index for questions); `state`: the index folder as the caller read
    it, read again only when another build published a generation while this one waited."""
    embedding = embedding if embedding is not None else EmbeddingPath(embedder.kind)
    with build_lock(index_dir, on_wait):
        started = time.perf_counter()
        report = BuildReport()
        if state is None or state.index_dir != index_dir or _pointer_moved(state):
            state = read_state(index_dir)
        previous = _Previous.load(state, corpus_dir, embedder, rebuild)
        report.rebuilt_all, report.first = previous.manifest is None, state.generation is None and not state.problem
        notes = _read_notes(corpus_dir, previous, embedder, hooks, progress, report)
        if previous.manifest is not None and not report.changed_files and not report.removed_files:
            if set(notes.files) == set(previous.manifest.files) and not previous.encoder_damaged:
                report.up_to_date = True
                report.seconds = time.perf_counter() - started
                return report
        embedded = _embed(notes.chunks, previous, embedder, progress, report)
        _write(corpus_dir, index_dir, notes, embedded, previous, embedder, embedding, hooks, progress, started)
        report.seconds = time.perf_counter() - started
        return report


@dataclass
class _Previous:
    """The current generation, as far as it can seed an incremental build."""

    generation: Path | None = None
    manifest: Manifest | None = None
    why_full: str = ""
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    tokens: dict[str, Quantized] = field(default_factory=dict)
    projection: np.ndarray | None = None
    same_model: bool = False
    encoder_damaged: bool = False
    """Its copy of the model export no longer matches its manifest: a new generation gets a fresh one."""

    @classmethod
    def load(cls, state: IndexState, corpus_dir: Path, embedder: Embedder, rebuild: bool) -> _Previous:
        if state.problem is not None:
            if state.too_new and not rebuild:
                raise state.problem
            return cls(why_full=state.problem.message)
        generation, manifest = state.generation, state.manifest
        if generation is None or manifest is None:
            return cls(why_full="no index yet")
        if belongs_elsewhere(manifest, corpus_dir):
            if not rebuild:
                raise mismatch(state.index_dir, corpus_dir, manifest.corpus)
            return cls(why_full=f"replacing the index of {manifest.corpus}")
        same_model = manifest.model == model_fingerprint(embedder)
        if not same_model:
            return cls(generation, why_full="model changed")
        if manifest.chunker_version != CHUNKER_VERSION:
            return cls(generation, why_full="chunker changed", same_model=True)
        if rebuild:
            return cls(generation, why_full="--rebuild", same_model=True)
        damaged = state.damaged()
        data = [name for name in damaged if not name.startswith(f"{ENCODER_DIRECTORY}/")]
        if data:
            return cls(generation, why_full=f"damaged files ({', '.join(data[:3])})", same_model=True)
        previous = cls(generation, manifest, same_model=True, encoder_damaged=bool(damaged))
        try:
            previous._read_vectors(generation, manifest, embedder.dimension)
        except IndexCorrupt as exc:
            return cls(generation, why_full=exc.message, same_model=True)
        return previous

    def _read_vectors(self, generation: Path, manifest: Manifest, dimension: int) -> None:
        chunks = list(ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store))
        vectors = load_vectors(generation)
        if vectors.ndim != 2 or len(vectors) != len(chunks) or vectors.shape[1] != dimension:
            raise IndexCorrupt("vectors and chunks disagree")
        for row, chunk in enumerate(chunks):
            self.chunks.setdefault(chunk.file, []).append(chunk)
            self.vectors.setdefault(text_key(chunk.embedding_text), vectors[row])
        lines = LineVectors.load(generation, len(chunks), dimension)
        if lines is not None:
            self.vectors.update(lines.by_key())
        directory = generation / TOKENS_DIRECTORY
        if directory.is_dir():
            try:
                stored = TokenVectors.load(directory, len(chunks), dimension)
            except (OSError, ValueError):
                return
            self.tokens = {text_key(chunk.embedding_text): stored.passage(row) for row, chunk in enumerate(chunks)}
            self.projection = stored.projection


@dataclass
class _Notes:
    chunks: list[Chunk] = field(default_factory=list)
    files: dict[str, NoteRecord] = field(default_factory=dict)
    skipped: dict[str, SkippedNote] = field(default_factory=dict)


def _read_notes(
    corpus_dir: Path,
    previous: _Previous,
    embedder: Embedder,
    hooks: BuildHooks,
    progress: Progress,
    report: BuildReport,
) -> _Notes:
    """Step 1: every note's chunks, reusing those of notes whose bytes are unchanged."""
    known = previous.manifest.files if previous.manifest is not None else {}
    sources, problems = discover(corpus_dir)
    notes = _Notes()
    for number, source in enumerate(sources, 1):
        progress(reporting.READING_STAGE, number, len(sources))
        # Stat before reading: a file rewritten between the two then looks changed at the next check.
        try:
            info = source.absolute.stat()
            size, mtime_ns = info.st_size, info.st_mtime_ns
        except OSError:
            size, mtime_ns = -1, 0
        entry = known.get(source.path)
        reusable = entry is not None and (source.path in previous.chunks or entry.chunks == 0)
        raw: bytes | None = None
        if entry is not None and reusable and same_stat(size, mtime_ns, entry):
            digest = entry.hash  # freshness.note_unchanged's rule: same size and time, not read again
        else:
            raw, problem = read_bytes(source)
            if raw is None or problem is not None:
                reason = problem.reason if problem else "unreadable"
                problems.append(problem or FileProblem(source.path, reason, True))
                notes.skipped[source.path] = SkippedNote(reason, size, mtime_ns)
                continue
            digest = digest_bytes(raw)
        empty = ""
        if entry is not None and reusable and entry.hash == digest:
            chunks_here = previous.chunks.get(source.path, [])
            repaired = list(entry.notes)
            empty = entry.empty if not chunks_here else ""
            if empty:
                problems.append(FileProblem(source.path, "; ".join([*repaired, empty]), True))
            elif repaired:
                problems.append(FileProblem(source.path, "; ".join(repaired), False))
        else:
            assert raw is not None  # only a note taken as unchanged by its stat is not read, and it is reused
            if hooks.chunk_note is not None:
                document, problem, chunks_here = hooks.chunk_note(source.path, raw)
            else:
                document, problem = decode_document(source.path, raw)
                chunks_here = []
                if document is not None:
                    chunks_here = chunk_document(
                        document, max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens
                    )
            if problem:
                problems.append(problem)
            if document is None:
                notes.skipped[source.path] = SkippedNote(problem.reason if problem else "unreadable", size, mtime_ns)
                continue
            if not chunks_here:
                # Tracked (so writing into it is noticed) but said once, as skipped: it holds nothing.
                if problem:
                    problems.remove(problem)
                empty = "empty file" if not document.text.strip() else "nothing to index"
                problems.append(FileProblem(source.path, "; ".join([*document.notes, empty]), True))
            repaired = list(document.notes)
            report.changed_files.append(source.path)
        notes.files[source.path] = NoteRecord(digest, size, mtime_ns, len(chunks_here), tuple(repaired), empty)
        notes.chunks.extend(chunks_here)
    report.removed_files = [path for path in known if path not in notes.files and path not in notes.skipped]
    report.problems = problems
    report.files = len(notes.files)
    report.chunks = len(notes.chunks)
    return notes


@dataclass
class _Embedded:
    vectors: np.ndarray
    tokens: list[Quantized] | None
    projection: np.ndarray | None
    line_texts: list[str]
    line_owner: list[int]
    line_vectors: np.ndarray
    expand: Expander


def _embed(
    chunks: list[Chunk], previous: _Previous, embedder: Embedder, progress: Progress, report: BuildReport
) -> _Embedded:
    """Step 2: passage vectors (and token vectors), then line vectors, reusing what was embedded before."""
    texts = [chunk.embedding_text for chunk in chunks]
    tokens: list[Quantized] | None = None
    projection: np.ndarray | None = None
    if isinstance(embedder, TokenEmbedder) and len(chunks) <= TOKEN_VECTOR_LIMIT:
        vectors, tokens, projection, report.embedded = embed_with_tokens(
            embedder, texts, previous.vectors, previous.tokens, previous.projection, progress
        )
    else:
        vectors, report.embedded = embed_with_reuse(
            embedder, texts, previous.vectors, progress, reporting.PASSAGES_STAGE
        )
    report.reused = len(chunks) - report.embedded
    # Abbreviations the notes define are spelled out in line vectors and BM25 text (not in passage
    # vectors, nor in what is shown): see abbreviations.py.
    headings = dict.fromkeys(title for chunk in chunks for title in chunk.heading_path)
    expand = Expander(find_abbreviations([*headings, *(chunk.text for chunk in chunks)]))
    line_texts: list[str] = []
    line_owner: list[int] = []
    if len(chunks) < LINE_VECTOR_LIMIT:
        for row, chunk in enumerate(chunks):
            units = [expand(unit) for unit in line_units(chunk)]
            line_texts.extend(units)
            line_owner.extend([row] * len(units))
    line_vectors, report.lines_embedded = embed_with_reuse(
        embedder, line_texts, previous.vectors, progress, reporting.LINES_STAGE
    )
    return _Embedded(vectors, tokens, projection, line_texts, line_owner, line_vectors, expand)


def _write(
    corpus_dir: Path,
    index_dir: Path,
    notes: _Notes,
    embedded: _Embedded,
    previous: _Previous,
    embedder: Embedder,
    embedding: EmbeddingPath,
    hooks: BuildHooks,
    progress: Progress,
    started: float,
) -> None:
    """Step 3: every file of the new generation into a staging folder, then publish it."""
    import shutil

    import numpy as np

    staging, generation = new_staging(index_dir)
    try:
        progress(reporting.WRITING_STAGE, 0, reporting.UNCOUNTED)

        def step(name: str, write: Callable[[], Any]) -> Any:
            hooks.writing(name)
            began = time.perf_counter()
            value = write()
            hooks.written(name, time.perf_counter() - began, value if isinstance(value, str) else "")
            return value

        chunks = notes.chunks
        store = step("chunks", lambda: write_chunk_store(staging, chunks))
        step("vectors", lambda: np.save(staging / VECTORS_FILE, embedded.vectors, allow_pickle=False))
        index_type = step(DENSE_FILE, lambda: write_faiss(staging / DENSE_FILE, embedded.vectors))
        if embedded.line_texts:
            step(
                "lines",
                lambda: write_lines(staging, embedded.line_vectors, embedded.line_owner, embedded.line_texts),
            )
        tokens, projection = embedded.tokens, embedded.projection
        if tokens is not None and projection is not None:
            step("tokens", lambda: write_token_vectors(staging / TOKENS_DIRECTORY, tokens, projection))
        expand = embedded.expand
        step("bm25", lambda: build_bm25([expand(lexical_text(chunk)) for chunk in chunks], staging / "bm25"))
        step("words", lambda: write_words(staging / WORDS_FILE, count_words(f"{c.context}\n{c.text}" for c in chunks)))
        sources = _encoder_sources(previous, embedding)
        if sources:
            step("encoder", lambda: place_encoder(staging / ENCODER_DIRECTORY, sources))
        manifest = Manifest(
            model=model_fingerprint(embedder),
            chunker_version=CHUNKER_VERSION,
            corpus=str(corpus_dir.resolve()),
            chunk_count=len(chunks),
            chunk_store=store,
            files=notes.files,
            skipped=notes.skipped,
            stored=record_files(staging, known_hashes(embedding.export_dir)),
            index_type=index_type,
            line_vectors=len(embedded.line_texts),
            token_vectors=sum(len(passage.codes) for passage in tokens) if tokens is not None else 0,
            bm25=BM25_PARAMS,
            embedding=_embedding_record(embedding),
            machine=_machine(),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.perf_counter() - started, 3),
            full_rebuild_reason=previous.why_full if previous.manifest is None else "",
        )
        hooks.writing("manifest")
        publish(index_dir, staging, generation, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(reporting.WRITING_STAGE, 1, 1)


def _encoder_sources(previous: _Previous, embedding: EmbeddingPath) -> list[Path]:
    """The export the embedder ran on, else the previous generation's for the same model (unless damaged)."""
    sources = [embedding.export_dir] if embedding.export_dir is not None else []
    if previous.same_model and previous.generation is not None and not previous.encoder_damaged:
        sources.append(previous.generation / ENCODER_DIRECTORY)
    return sources


def _machine() -> dict[str, Any]:
    from assistant.machine import describe  # importlib.metadata: 20 ms nobody asking a question needs

    return describe()


def _embedding_record(embedding: EmbeddingPath) -> dict[str, Any]:
    """How the notes were embedded, for the manifest (and every report made from the index)."""
    from importlib import metadata

    record: dict[str, Any] = {"path": "onnx-float32" if embedding.kind == "onnx" else embedding.kind}
    if embedding.kind == "onnx":
        record["onnxruntime"] = metadata.version("onnxruntime")
        record["projection"] = "model vocabulary"
    if embedding.export_error:
        record["export_error"] = embedding.export_error
    return record


def _pointer_moved(state: IndexState) -> bool:
    """Whether another build published a generation since `state` was read (it waited for the lock)."""
    try:
        return current_generation(state.index_dir) != state.generation
    except IndexCorrupt:
        return True
