"""Stage 4, index: Chunks + vectors → files in index/; and loading them back, checked.

Layout (plain, versioned data; never pickle):

    index/CURRENT                 {"generation": "gen-…"}: replaced atomically when a build finishes
    index/gen-…/manifest.json     format version, model, dimension, chunker version, per-file hashes
    index/gen-…/chunks.jsonl      one chunk a line; row i is vector i and BM25 document i (with
                                  chunk_offsets.npy, chunk_files.npy/.json: see chunk_store.py)
    index/gen-…/vectors.npy       float32, L2-normalised (reused by incremental builds)
    index/gen-…/dense.faiss       FAISS inner-product index (flat, or HNSW for large corpora)
    index/gen-…/bm25/             bm25s' saved arrays
    index/gen-…/encoder/          ONNX export of the query encoder (fast, torch-free queries)

A build writes a new generation and only then points CURRENT at it, so a crash, Ctrl-C or kill -9
mid-build leaves the previous index in use. Chunks whose embedding text is unchanged keep their old
vector; a different model, dimension or chunker version rebuilds everything.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.abbreviations import Expander, find_abbreviations
from assistant.chunk import CHUNKER_VERSION, Chunk, chunk_document, lexical_text, line_units
from assistant.chunk_store import ChunkStore, write_chunk_store
from assistant.errors import IndexCorrupt, IndexLocked, IndexMissing, IndexStale, IndexTooNew
from assistant.ingest import FileProblem, decode_document, discover, read_bytes
from assistant.lexical import BM25_PARAMS, build_bm25
from assistant.spelling import WORDS_FILE, count_words, write_words
from assistant.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.token_vectors import (
    PROJECTION_SAMPLE,
    TOKEN_VECTOR_LIMIT,
    Quantized,
    TokenVectors,
    fit_projection,
    project,
    quantize,
    write_token_vectors,
)

if TYPE_CHECKING:
    import numpy as np

    from assistant.embed import Embedder

FORMAT_VERSION = 5
EMBED_BATCH = 128
"""Texts handed to the embedder at a time (it batches further inside); progress is said per batch."""
HNSW_THRESHOLD = 200_000
"""Below this many chunks exact (flat) search is fast enough and exact; above it, HNSW."""
LINE_VECTOR_LIMIT = 200_000
"""Up to this many chunks each line also gets a vector (fine-grained dense matching); above it
the line vectors would outgrow memory (about 5 lines a chunk), so only chunk vectors are kept."""
HNSW_M = 32
HNSW_EF_SEARCH = 1024
"""Measured at 1M chunks (M=32, efConstruction=80): recall@10 against exact 0.80 at 128, 0.94 at 512,
0.97 at 1024, for 4.3 ms a query (`notes bench --scale 1000000`)."""

Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class BuildReport:
    files: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    lines_embedded: int = 0
    seconds: float = 0.0
    changed_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    rebuilt_all: bool = False
    up_to_date: bool = False


@dataclass(frozen=True)
class Freshness:
    """How the corpus on disk compares with the index's manifest."""

    missing: bool = False
    reason: str = ""
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def fresh(self) -> bool:
        return not (self.missing or self.reason or self.changed or self.added or self.removed)

    def describe(self) -> str:
        if self.missing:
            return "no index yet"
        if self.reason:
            return self.reason
        parts = []
        for label, names in (("changed", self.changed), ("new", self.added), ("removed", self.removed)):
            if names:
                parts.append(f"{len(names)} {label} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
        return "notes " + "; ".join(parts) if parts else "up to date"


# ---------------------------------------------------------------- on-disk generations


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
        name = str(data["generation"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"unreadable index pointer {pointer}: {exc}", "run `notes index --rebuild`") from exc
    if "/" in name or name.startswith("."):
        raise IndexCorrupt(f"index pointer {pointer} names a bad folder", "run `notes index --rebuild`")
    path = index_dir / name
    return path if path.is_dir() else None


def read_manifest(generation: Path) -> dict[str, Any]:
    path = generation / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"index manifest missing: {path}", "run `notes index --rebuild`") from exc
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest unreadable: {path}: {exc}", "run `notes index --rebuild`") from exc
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"index manifest is not an object: {path}", "run `notes index --rebuild`")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexCorrupt(f"index manifest has no format version: {path}", "run `notes index --rebuild`")
    if version > FORMAT_VERSION:
        raise IndexTooNew(
            f"index format {version} is newer than this notes understands ({FORMAT_VERSION})",
            "upgrade notes, or run `notes index --rebuild` to rebuild it with this version",
        )
    if version < FORMAT_VERSION:
        raise IndexStale(
            f"index format {version} is older than this notes ({FORMAT_VERSION})", "run `notes index --rebuild`"
        )
    model = manifest.get("model")
    files = manifest.get("files", {})
    if (
        not isinstance(model, dict)
        or not isinstance(model.get("name"), str)
        or not isinstance(model.get("dimension"), int)
        or not isinstance(files, dict)
        or not all(isinstance(entry, dict) for entry in files.values())
        or not isinstance(manifest.get("skipped", {}), dict)
    ):
        raise IndexCorrupt(f"index manifest is malformed: {path}", "run `notes index --rebuild`")
    return manifest


def read_chunks(generation: Path) -> list[Chunk]:
    """Every chunk of a generation, parsed and checked (search reads them one at a time instead)."""
    return list(ChunkStore.open(generation, read_manifest(generation)))


def load_vectors(generation: Path) -> np.ndarray:
    import numpy as np

    path = generation / "vectors.npy"
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"vector file unreadable: {path}: {exc}", "run `notes index --rebuild`") from exc


def model_fingerprint(embedder: Embedder) -> dict[str, Any]:
    return {"name": embedder.name, "dimension": embedder.dimension, "max_tokens": embedder.max_tokens}


def check_freshness(index_dir: Path, corpus_dir: Path, model: str) -> Freshness:
    """Compare the corpus with the manifest using size and mtime first, hashing only what moved."""
    try:
        generation = current_generation(index_dir)
    except IndexCorrupt as exc:
        return Freshness(reason=exc.message)
    if generation is None:
        return Freshness(missing=True)
    try:
        manifest = read_manifest(generation)
    except IndexTooNew:
        raise
    except (IndexCorrupt, IndexStale) as exc:
        return Freshness(reason=exc.message)
    if manifest.get("model", {}).get("name") != model:
        return Freshness(reason=f"index built with model {manifest.get('model', {}).get('name')!r}, not {model!r}")
    if manifest.get("chunker_version") != CHUNKER_VERSION:
        return Freshness(reason="index built by another chunker version")
    if Path(manifest.get("corpus", "")) != corpus_dir.resolve():
        return Freshness(reason=f"index built for another notes folder ({manifest.get('corpus')})")
    known: dict[str, dict[str, Any]] = manifest.get("files", {})
    sources, _ = discover(corpus_dir)
    changed: list[str] = []
    added: list[str] = []
    for source in sources:
        entry = known.get(source.path)
        if entry is None:
            added.append(source.path)
            continue
        try:
            info = source.absolute.stat()
        except OSError:
            changed.append(source.path)
            continue
        if info.st_size == entry.get("size") and info.st_mtime_ns == entry.get("mtime_ns"):
            continue
        raw, _problem = read_bytes(source)
        if raw is None or _content_hash(raw) != entry.get("hash"):
            changed.append(source.path)
    present = {source.path for source in sources}
    removed = [path for path in known if path not in present]
    # Files that were skipped at the last build stay skipped; only re-report them when they change.
    skipped = set(manifest.get("skipped", {}))
    seen: dict[str, Any] = manifest.get("skipped_stat", {})
    by_path = {source.path: source for source in sources}
    added = [path for path in added if path not in skipped or _moved(by_path[path].absolute, seen.get(path))]
    return Freshness(changed=tuple(changed), added=tuple(added), removed=tuple(removed))


def _moved(path: Path, seen: Any) -> bool:
    """Whether a file skipped at the last build has changed since (size or mtime)."""
    if not isinstance(seen, dict):
        return False
    try:
        info = path.stat()
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) != (seen.get("size"), seen.get("mtime_ns"))


def _content_hash(raw: bytes) -> str:
    from assistant.ingest import content_hash

    return content_hash(raw)


# ---------------------------------------------------------------- building


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: Callable[[], None] | None = None, timeout: float = 600.0) -> Iterator[None]:
    """One build at a time per index folder; the second waits (saying so once) or gives up."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if wait is None:
                raise IndexLocked(f"another `notes index` is building {index_dir}", "wait for it to finish") from exc
            wait()
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise IndexLocked(
                            f"another `notes index` has held {index_dir} for {timeout:.0f} s", "try again later"
                        ) from None
                    time.sleep(0.2)
        yield
    finally:
        handle.close()


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress = _no_progress,
    on_wait: Callable[[], None] | None = None,
    export_encoder: bool = True,
) -> BuildReport:
    """Build or refresh the index for corpus_dir, re-embedding only chunks whose text changed."""
    with build_lock(index_dir, on_wait):
        return _build_locked(corpus_dir, index_dir, embedder, rebuild, progress, export_encoder)


def _previous(
    index_dir: Path, embedder: Embedder, corpus_dir: Path, rebuild: bool = False
) -> tuple[Path | None, dict[str, Any] | None, str]:
    """The current generation, if it can seed an incremental build, and why not otherwise."""
    try:
        generation = current_generation(index_dir)
        if generation is None:
            return None, None, "no index yet"
        manifest = read_manifest(generation)
    except IndexTooNew as exc:
        if not rebuild:
            raise
        return None, None, exc.message
    except (IndexCorrupt, IndexStale) as exc:
        return None, None, exc.message
    if manifest.get("model") != model_fingerprint(embedder):
        return generation, None, "model changed"
    if manifest.get("chunker_version") != CHUNKER_VERSION:
        return generation, None, "chunker changed"
    return generation, manifest, ""


def _build_locked(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    rebuild: bool,
    progress: Progress,
    export_encoder: bool,
) -> BuildReport:
    import numpy as np

    started = time.perf_counter()
    report = BuildReport()
    previous, manifest, why_full = _previous(index_dir, embedder, corpus_dir, rebuild)
    same_model = previous is not None and why_full not in ("model changed",)
    if rebuild:
        manifest = None
    report.rebuilt_all = manifest is None
    old_chunks: dict[str, list[Chunk]] = {}
    old_vectors: dict[str, np.ndarray] = {}
    old_tokens: dict[str, Quantized] = {}
    old_projection: np.ndarray | None = None
    if manifest is not None and previous is not None:
        try:
            chunks = list(ChunkStore.open(previous, manifest))
            vectors = load_vectors(previous)
            if vectors.ndim != 2 or len(vectors) != len(chunks) or vectors.shape[1] != embedder.dimension:
                raise IndexCorrupt("vectors and chunks disagree")
            for row, chunk in enumerate(chunks):
                old_chunks.setdefault(chunk.file, []).append(chunk)
                old_vectors.setdefault(_key(chunk.embedding_text), vectors[row])
            old_vectors.update(_load_line_vectors(previous))
            old_tokens, old_projection = _load_token_vectors(previous, chunks, embedder.dimension)
        except IndexCorrupt:
            old_chunks, old_vectors, manifest = {}, {}, None
            report.rebuilt_all = True
    known_files: dict[str, dict[str, Any]] = (manifest or {}).get("files", {})

    sources, problems = discover(corpus_dir)
    all_chunks: list[Chunk] = []
    files: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    skipped_stat: dict[str, dict[str, int]] = {}
    for number, source in enumerate(sources, 1):
        progress("reading notes", number, len(sources))
        # Stat before reading: a file rewritten between the two then looks changed at the next check.
        try:
            info = source.absolute.stat()
            size, mtime_ns = info.st_size, info.st_mtime_ns
        except OSError:
            size, mtime_ns = -1, 0
        raw, problem = read_bytes(source)
        if raw is None:
            problems.append(problem)  # type: ignore[arg-type]
            skipped[source.path] = problem.reason  # type: ignore[union-attr]
            skipped_stat[source.path] = {"size": size, "mtime_ns": mtime_ns}
            continue
        digest = _content_hash(raw)
        entry = known_files.get(source.path)
        empty = ""
        if entry and entry.get("hash") == digest and (source.path in old_chunks or entry.get("chunks") == 0):
            chunks_here = old_chunks.get(source.path, [])
            notes = entry.get("notes", [])
            empty = str(entry.get("empty", "")) if not chunks_here else ""
            if empty:
                problems.append(FileProblem(source.path, "; ".join([*notes, empty]), True))
            elif notes:
                problems.append(FileProblem(source.path, "; ".join(notes), False))
        else:
            document, problem = decode_document(source.path, raw)
            if problem:
                problems.append(problem)
            if document is None:
                skipped[source.path] = problem.reason if problem else "unreadable"
                skipped_stat[source.path] = {"size": size, "mtime_ns": mtime_ns}
                continue
            chunks_here = chunk_document(document, max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens)
            if not chunks_here:
                # Tracked (so writing into it is noticed) but said once, as skipped: it holds nothing.
                if problem:
                    problems.remove(problem)
                empty = "empty file" if not document.text.strip() else "nothing to index"
                problems.append(FileProblem(source.path, "; ".join([*document.notes, empty]), True))
            notes = list(document.notes)
            report.changed_files.append(source.path)
        files[source.path] = {
            "hash": digest,
            "size": size,
            "mtime_ns": mtime_ns,
            "chunks": len(chunks_here),
            "notes": notes,
            **({"empty": empty} if empty else {}),
        }
        all_chunks.extend(chunks_here)
    report.removed_files = [path for path in known_files if path not in files and path not in skipped]
    report.problems = problems
    report.files = len(files)
    report.chunks = len(all_chunks)

    unchanged = (
        manifest is not None
        and not report.changed_files
        and not report.removed_files
        and set(files) == set(known_files)
    )
    if unchanged and previous is not None:
        report.up_to_date = True
        report.seconds = time.perf_counter() - started
        return report

    chunk_texts = [chunk.embedding_text for chunk in all_chunks]
    tokens: list[Quantized] | None = None
    projection: np.ndarray | None = None
    if hasattr(embedder, "embed_documents_with_tokens") and len(all_chunks) <= TOKEN_VECTOR_LIMIT:
        vectors, tokens, projection, report.embedded = _embed_with_tokens(
            embedder, chunk_texts, old_vectors, old_tokens, old_projection, progress
        )
    else:
        vectors, report.embedded = _embed_with_reuse(embedder, chunk_texts, old_vectors, progress, "embedding")
    report.reused = len(all_chunks) - report.embedded
    # Abbreviations the notes define are spelled out in line vectors and BM25 text (not in passage
    # vectors, nor in what is shown): see abbreviations.py.
    headings = dict.fromkeys(title for chunk in all_chunks for title in chunk.heading_path)
    expand = Expander(find_abbreviations([*headings, *(chunk.text for chunk in all_chunks)]))
    line_texts: list[str] = []
    line_owner: list[int] = []
    if len(all_chunks) < LINE_VECTOR_LIMIT:
        for row, chunk in enumerate(all_chunks):
            units = [expand(unit) for unit in line_units(chunk)]
            line_texts.extend(units)
            line_owner.extend([row] * len(units))
    line_vectors, report.lines_embedded = _embed_with_reuse(
        embedder, line_texts, old_vectors, progress, "embedding lines"
    )

    generation = index_dir / f"gen-{time.time_ns()}-{os.getpid()}"
    staging = index_dir / f".{generation.name}.partial"
    staging.mkdir(parents=True)
    try:
        progress("writing index", 0, 1)
        chunk_store = write_chunk_store(staging, all_chunks)
        np.save(staging / "vectors.npy", vectors, allow_pickle=False)
        index_type = write_faiss(staging / "dense.faiss", vectors)
        if line_texts:
            np.save(staging / "line_vectors.npy", line_vectors, allow_pickle=False)
            np.save(staging / "line_owner.npy", np.array(line_owner, dtype=np.int32), allow_pickle=False)
            np.save(staging / "line_keys.npy", np.array([_key(t) for t in line_texts], dtype="S32"), allow_pickle=False)
            write_faiss(staging / "lines.faiss", line_vectors)
        if tokens is not None and projection is not None:
            write_token_vectors(staging / TOKENS_DIRECTORY, tokens, projection)
        build_bm25([expand(lexical_text(chunk)) for chunk in all_chunks], staging / "bm25")
        write_words(staging / WORDS_FILE, count_words(f"{chunk.context}\n{chunk.text}" for chunk in all_chunks))
        if export_encoder:
            _place_encoder(staging / "encoder", previous, embedder, same_model)
        report.seconds = time.perf_counter() - started
        new_manifest = {
            "format_version": FORMAT_VERSION,
            "model": model_fingerprint(embedder),
            "chunker_version": CHUNKER_VERSION,
            "bm25": BM25_PARAMS,
            "index_type": index_type,
            "line_vectors": len(line_texts),
            "token_vectors": sum(len(passage.codes) for passage in tokens) if tokens is not None else 0,
            "corpus": str(corpus_dir.resolve()),
            "chunk_count": len(all_chunks),
            "chunk_store": chunk_store,
            "files": files,
            "skipped": skipped,
            "skipped_stat": skipped_stat,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(report.seconds, 3),
            "full_rebuild_reason": why_full if report.rebuilt_all else "",
        }
        _write_json(staging / "manifest.json", new_manifest)
        _fsync_tree(staging)
        os.replace(staging, generation)
        _write_json(index_dir / "CURRENT.tmp", {"generation": generation.name})
        os.replace(index_dir / "CURRENT.tmp", index_dir / "CURRENT")
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old_generations(index_dir, keep=generation.name)
    progress("writing index", 1, 1)
    return report


def _key(text: str) -> str:
    """Vectors are reused by the hash of the exact text embedded (chunk or line unit)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _load_line_vectors(generation: Path) -> dict[str, np.ndarray]:
    import numpy as np

    try:
        keys = np.load(generation / "line_keys.npy", allow_pickle=False)
        vectors = np.load(generation / "line_vectors.npy", allow_pickle=False)
    except (OSError, ValueError):
        return {}
    if len(keys) != len(vectors):
        return {}
    return {key.decode("ascii"): vectors[row] for row, key in enumerate(keys)}


def _embed_with_reuse(
    embedder: Embedder, texts: list[str], old: dict[str, np.ndarray], progress: Progress, stage: str
) -> tuple[np.ndarray, int]:
    """Vectors for texts, reusing old ones by text hash; new texts embedded shortest first so
    each batch pads little. Returns the vectors and how many were embedded."""
    import numpy as np

    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    todo: list[int] = []
    for row, text in enumerate(texts):
        vector = old.get(_key(text))
        if vector is not None and len(vector) == embedder.dimension:
            vectors[row] = vector
        else:
            todo.append(row)
    progress(stage, 0, len(todo))

    def embed(picked: list[int]) -> None:
        vectors[picked] = embedder.embed_documents([texts[row] for row in picked])

    _in_batches(todo, texts, embed, progress, stage)
    return vectors, len(todo)


def _in_batches(
    rows: list[int], texts: list[str], embed: Callable[[list[int]], None], progress: Progress, stage: str, done: int = 0
) -> None:
    """Call embed on batches of 128 rows, shortest texts first so each batch pads little, saying
    how far along `stage` is (`done` rows were embedded before these)."""
    order = sorted(rows, key=lambda row: len(texts[row]))
    total = done + len(order)
    for begin in range(0, len(order), EMBED_BATCH):
        embed(order[begin : begin + EMBED_BATCH])
        progress(stage, done + min(begin + EMBED_BATCH, len(order)), total)


def _load_token_vectors(
    generation: Path, chunks: list[Chunk], dimension: int
) -> tuple[dict[str, Quantized], np.ndarray | None]:
    """The previous generation's token vectors by passage text hash, and the projection they were
    made with (none when it has none)."""
    directory = generation / TOKENS_DIRECTORY
    if not directory.is_dir():
        return {}, None
    try:
        stored = TokenVectors.load(directory, len(chunks), dimension)
    except (OSError, ValueError):
        return {}, None
    passages = {_key(chunk.embedding_text): stored.passage(row) for row, chunk in enumerate(chunks)}
    return passages, stored.projection


def _embed_with_tokens(
    embedder: Any,
    texts: list[str],
    old_vectors: dict[str, np.ndarray],
    old_tokens: dict[str, Quantized],
    projection: np.ndarray | None,
    progress: Progress,
) -> tuple[np.ndarray, list[Quantized], np.ndarray, int]:
    """`_embed_with_reuse` for passages, keeping each one's token vectors too (one forward pass),
    projected with the previous generation's projection (so its codes are reused), or else with
    one fitted on a sample of the passages (`projection_sample`), embedded first."""
    import numpy as np

    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    tokens: list[Quantized | None] = [None] * len(texts)
    todo: list[int] = []
    keys = [_key(text) for text in texts]
    for row, key in enumerate(keys):
        vector, passage = old_vectors.get(key), old_tokens.get(key)
        if projection is not None and vector is not None and passage is not None and len(vector) == embedder.dimension:
            vectors[row], tokens[row] = vector, passage
        else:
            todo.append(row)
    sample: list[int] = []
    progress("embedding", 0, len(todo))
    if projection is None:
        sample = projection_sample(keys, todo)
        sample_vectors, sample_tokens = embedder.embed_documents_with_tokens([texts[row] for row in sample])
        projection = fit_projection(sample_tokens, embedder.dimension)
        vectors[sample] = sample_vectors
        for row, rows in zip(sample, sample_tokens, strict=True):
            tokens[row] = quantize(project(rows, projection))
    progress("embedding", len(sample), len(todo))
    fitted = projection

    def embed(picked: list[int]) -> None:
        batch_vectors, batch_tokens = embedder.embed_documents_with_tokens([texts[row] for row in picked])
        vectors[picked] = batch_vectors
        for row, rows in zip(picked, batch_tokens, strict=True):
            tokens[row] = quantize(project(rows, fitted))

    sampled = set(sample)
    _in_batches([row for row in todo if row not in sampled], texts, embed, progress, "embedding", len(sample))
    return vectors, [passage for passage in tokens if passage is not None], projection, len(todo)


def projection_sample(keys: Sequence[str], rows: Sequence[int], size: int = PROJECTION_SAMPLE) -> list[int]:
    """The rows (ascending) whose token vectors fit the projection: those whose text hashes (`keys`,
    the same hashes that find reusable vectors) are lowest.

    Not a random draw by position: adding, removing or editing one passage changes the sample by
    that passage at most, so a full rebuild after a small edit does not project every other note's
    tokens onto different axes (which moved unrelated questions by a rank or two)."""
    return sorted(sorted(rows, key=lambda row: keys[row])[:size])


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    for path in index_dir.iterdir():
        if path.name != keep and (path.name.startswith("gen-") or path.name.endswith(".partial")):
            shutil.rmtree(path, ignore_errors=True)


def write_faiss(path: Path, vectors: np.ndarray) -> str:
    """Exact inner-product search below HNSW_THRESHOLD chunks, HNSW above; returns the type used."""
    import faiss

    dimension = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    if len(vectors) >= HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(dimension)
        kind = "flat"
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))
    return kind


def _place_encoder(target: Path, previous: Path | None, embedder: Embedder, same_model: bool) -> None:
    """Keep the ONNX export the embedder ran on, or else the previous one for the same model.

    Exporting is the engine's job (`engine._embedder_for_build`); an embedder without an export here is
    one whose model could not be exported, and trying again would only fail again. Queries then fall
    back to sentence-transformers."""
    from assistant.onnx_encoder import onnx_encoder_available

    source = getattr(embedder, "encoder_dir", None)
    if source is None and same_model and previous is not None:
        source = previous / "encoder"
    if source is not None and onnx_encoder_available(source):
        shutil.copytree(source, target, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one, else a copy.

    Why: the export is about 110 MB and identical in the model cache and in every generation; no file
    of it is ever written in place (generations are immutable, cache entries are replaced by rename),
    so a link is as safe as a copy and makes an incremental build neither slower nor bigger."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def require_index(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissing(f"no index in {index_dir}", "run `notes index`")
    return generation
