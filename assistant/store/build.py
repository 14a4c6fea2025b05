"""Stage 4, index: notes → chunks → vectors → a new index generation, in three steps.

1. `_read_notes`: every note, chunked; an unchanged note (same bytes) keeps its chunks (what of the
   current generation can be reused is `previous.Previous`).
2. `_write_text`: the chunk store, BM25 and word counts into a staging folder. From here a
   `PartialIndex` (partial.py), when the caller asks for one, answers by keywords.
3. `_embed`: passage vectors (with token vectors for the rerank), handed to the partial index batch
   by batch, then line vectors; a text embedded before keeps its vector (`vectors.text_key`).
4. `_write`: vectors, FAISS, line and token vectors and the model export into the staging folder,
   published atomically (`generation.publish`).

What is fitted on the notes (BM25 statistics, word counts, the abbreviations spelled out) is computed
from all of them at every build, so an incremental build and a fresh one of the same notes agree.
A different model, dimension or chunker version rebuilds everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import reporting
from assistant.errors import IndexCorrupt
from assistant.files import digest_bytes, record_files
from assistant.model.embed import Embedder, EmbeddingPath, TokenEmbedder
from assistant.model.encoder_cache import ENCODER_DIRECTORY, known_hashes, place_encoder
from assistant.notes.abbreviations import Expander, find_abbreviations
from assistant.notes.chunk import CHUNKER_VERSION, Chunk, chunk_document, lexical_text
from assistant.notes.ingest import FileProblem, decode_document, discover, read_bytes
from assistant.reporting import Progress, no_progress
from assistant.store.build_report import NO_HOOKS, BuildHooks, BuildReport
from assistant.store.chunk_store import write_chunk_store
from assistant.store.freshness import same_stat
from assistant.store.generation import build_lock, current_generation, new_staging, publish
from assistant.store.lexical import BM25_PARAMS, build_bm25
from assistant.store.line_vectors import LineUnits, embed_lines
from assistant.store.manifest import Manifest, NoteRecord, SkippedNote
from assistant.store.partial import PartialIndex
from assistant.store.previous import Previous, model_fingerprint
from assistant.store.spelling import WORDS_FILE, count_words, write_words
from assistant.store.state import IndexState, read_state
from assistant.store.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.store.token_vectors import TOKEN_VECTOR_LIMIT, Quantized, write_token_vectors
from assistant.store.vectors import (
    DENSE_FILE,
    LINE_VECTOR_LIMIT,
    VECTORS_FILE,
    embed_with_reuse,
    embed_with_tokens,
    no_landing,
    write_faiss,
    write_lines,
)

if TYPE_CHECKING:
    import numpy as np


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
        previous = Previous.load(state, corpus_dir, embedder, rebuild)
        report.rebuilt_all, report.first = previous.manifest is None, state.generation is None and not state.problem
        notes = _read_notes(corpus_dir, previous, embedder, hooks, progress, report)
        if previous.manifest is not None and not report.changed_files and not report.removed_files:
            if set(notes.files) == set(previous.manifest.files) and not previous.encoder_damaged:
                report.up_to_date = True
                report.seconds = time.perf_counter() - started
                return report
        import shutil

        staging, generation = new_staging(index_dir)
        try:
            # The text side first: with it, a partial index answers by keywords while vectors land.
            expand = _expander(notes.chunks)
            store = _write_text(staging, notes.chunks, expand, hooks)
            manifest = _manifest(corpus_dir, notes, store, embedder, embedding, previous)
            partial = None
            if hooks.partial is not None:
                partial = PartialIndex(staging, manifest, embedder.dimension)
                hooks.partial(partial)
            embedded = _embed(notes.chunks, previous, embedder, progress, report, expand, partial)
            _write(index_dir, staging, generation, manifest, embedded, previous, embedding, hooks, progress, started)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        report.seconds = time.perf_counter() - started
        return report


@dataclass
class _Notes:
    chunks: list[Chunk] = field(default_factory=list)
    files: dict[str, NoteRecord] = field(default_factory=dict)
    skipped: dict[str, SkippedNote] = field(default_factory=dict)


def _read_notes(
    corpus_dir: Path,
    previous: Previous,
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


def _expander(chunks: list[Chunk]) -> Expander:
    """Abbreviations the notes define, spelled out in line vectors and BM25 text (not in passage
    vectors, nor in what is shown): see abbreviations.py."""
    headings = dict.fromkeys(title for chunk in chunks for title in chunk.heading_path)
    return Expander(find_abbreviations([*headings, *(chunk.text for chunk in chunks)]))


def _embed(
    chunks: list[Chunk],
    previous: Previous,
    embedder: Embedder,
    progress: Progress,
    report: BuildReport,
    expand: Expander,
    partial: PartialIndex | None,
) -> _Embedded:
    """Step 2: passage vectors (and token vectors), then line vectors, reusing what was embedded
    before; each batch of passage vectors is handed to the partial index as it lands."""
    texts = [chunk.embedding_text for chunk in chunks]
    tokens: list[Quantized] | None = None
    projection: np.ndarray | None = None
    landed = partial.landed if partial is not None else no_landing
    if isinstance(embedder, TokenEmbedder) and len(chunks) <= TOKEN_VECTOR_LIMIT:
        vectors, tokens, projection, report.embedded = embed_with_tokens(
            embedder, texts, previous.vectors, previous.tokens, previous.projection, progress, landed
        )
    else:
        vectors, report.embedded = embed_with_reuse(
            embedder, texts, previous.vectors, progress, reporting.PASSAGES_STAGE, landed
        )
    report.reused = len(chunks) - report.embedded
    units = LineUnits.of(chunks, expand) if len(chunks) < LINE_VECTOR_LIMIT else LineUnits()
    line_vectors, report.lines_embedded = embed_lines(embedder, units, previous.vectors, progress)
    return _Embedded(vectors, tokens, projection, units.texts, units.owner, line_vectors)


def _step(hooks: BuildHooks, name: str, write: Callable[[], Any]) -> Any:
    """Write one part of the generation, telling the hooks before and after (with its time)."""
    hooks.writing(name)
    began = time.perf_counter()
    value = write()
    hooks.written(name, time.perf_counter() - began, value if isinstance(value, str) else "")
    return value


def _write_text(staging: Path, chunks: list[Chunk], expand: Expander, hooks: BuildHooks) -> dict[str, int]:
    """The generation's text side (chunk store, BM25, word counts), written before any vector is
    made; returns the chunk store's check for the manifest."""
    store: dict[str, int] = _step(hooks, "chunks", lambda: write_chunk_store(staging, chunks))
    _step(hooks, "bm25", lambda: build_bm25([expand(lexical_text(chunk)) for chunk in chunks], staging / "bm25"))
    _step(
        hooks, "words", lambda: write_words(staging / WORDS_FILE, count_words(f"{c.context}\n{c.text}" for c in chunks))
    )
    return store


def _write(
    index_dir: Path,
    staging: Path,
    generation: Path,
    manifest: Manifest,
    embedded: _Embedded,
    previous: Previous,
    embedding: EmbeddingPath,
    hooks: BuildHooks,
    progress: Progress,
    started: float,
) -> None:
    """Step 3: the vector files of the new generation into its staging folder, then publish it."""
    import numpy as np

    progress(reporting.WRITING_STAGE, 0, reporting.UNCOUNTED)
    _step(hooks, "vectors", lambda: np.save(staging / VECTORS_FILE, embedded.vectors, allow_pickle=False))
    index_type = _step(hooks, DENSE_FILE, lambda: write_faiss(staging / DENSE_FILE, embedded.vectors))
    if embedded.line_texts:
        _step(
            hooks,
            "lines",
            lambda: write_lines(staging, embedded.line_vectors, embedded.line_owner, embedded.line_texts),
        )
    tokens, projection = embedded.tokens, embedded.projection
    if tokens is not None and projection is not None:
        _step(hooks, "tokens", lambda: write_token_vectors(staging / TOKENS_DIRECTORY, tokens, projection))
    sources = _encoder_sources(previous, embedding)
    if sources:
        _step(hooks, "encoder", lambda: place_encoder(staging / ENCODER_DIRECTORY, sources))
    manifest = replace(
        manifest,
        stored=record_files(staging, known_hashes(embedding.export_dir)),
        index_type=index_type,
        line_vectors=len(embedded.line_texts),
        token_vectors=sum(len(passage.codes) for passage in tokens) if tokens is not None else 0,
        machine=_machine(),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        build_seconds=round(time.perf_counter() - started, 3),
    )
    hooks.writing("manifest")
    publish(index_dir, staging, generation, manifest)
    progress(reporting.WRITING_STAGE, 1, 1)


def _manifest(
    corpus_dir: Path,
    notes: _Notes,
    store: dict[str, int],
    embedder: Embedder,
    embedding: EmbeddingPath,
    previous: Previous,
) -> Manifest:
    """The manifest as far as the text side decides it (the vector files fill in the rest)."""
    return Manifest(
        model=model_fingerprint(embedder),
        chunker_version=CHUNKER_VERSION,
        corpus=str(corpus_dir.resolve()),
        chunk_count=len(notes.chunks),
        chunk_store=store,
        files=notes.files,
        skipped=notes.skipped,
        stored={},
        index_type="building",
        line_vectors=0,
        token_vectors=0,
        bm25=BM25_PARAMS,
        embedding=_embedding_record(embedding),
        full_rebuild_reason=previous.why_full if previous.manifest is None else "",
    )


def _encoder_sources(previous: Previous, embedding: EmbeddingPath) -> list[Path]:
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
