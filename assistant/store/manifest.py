"""An index generation's manifest: what it was built from, with what, and every file it holds.

`manifest.json` is plain JSON; this module is its one reader and writer, turning it into typed
records and refusing anything malformed with `IndexCorrupt` (a damaged or planted manifest never
reaches the code that trusts it). Written last in a build, so a generation with a readable manifest
is a complete one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from assistant.errors import IndexCorrupt, IndexStale, IndexTooNew
from assistant.files import StoredFile

FORMAT_VERSION = 7
"""7: each token vector's text line (`tokens/lines.npy`), for the answer lines. 6: the model's float
export embeds notes; token projection from the model; every stored file's size and hash; the
machine that built it."""
MANIFEST_FILE = "manifest.json"
REBUILD = "run `notes index --rebuild`"

T = TypeVar("T")


@dataclass(frozen=True)
class ModelFingerprint:
    """The model an index was embedded with; any difference means every vector must be remade."""

    name: str
    dimension: int
    max_tokens: int


@dataclass(frozen=True)
class NoteRecord:
    """One note as the build saw it: unchanged notes (same hash) keep their chunks and vectors."""

    hash: str
    size: int
    mtime_ns: int
    chunks: int
    notes: tuple[str, ...] = ()
    """What ingest repaired (said again when the note is rebuilt)."""
    empty: str = ""
    """Why a note with no chunks holds nothing ("empty file", "nothing to index")."""


@dataclass(frozen=True)
class SkippedNote:
    reason: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Manifest:
    model: ModelFingerprint
    chunker_version: int
    corpus: str
    """The notes folder (resolved) this index belongs to."""
    chunk_count: int
    chunk_store: dict[str, int]
    """{"bytes", "crc32"} of chunks.jsonl (see chunk_store.py)."""
    files: dict[str, NoteRecord]
    skipped: dict[str, SkippedNote]
    stored: dict[str, StoredFile]
    """Every file the index loads, by path inside the generation (the model export included)."""
    index_type: str
    line_vectors: int
    token_vectors: int
    bm25: dict[str, Any]
    embedding: dict[str, Any] = field(default_factory=dict)
    """How the notes were embedded: "path" (onnx-float32 or sentence-transformers), the runtime's
    version, the export's key."""
    machine: dict[str, Any] = field(default_factory=dict)
    built_at: str = ""
    build_seconds: float = 0.0
    full_rebuild_reason: str = ""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "model": vars(self.model),
            "chunker_version": self.chunker_version,
            "corpus": self.corpus,
            "chunk_count": self.chunk_count,
            "chunk_store": self.chunk_store,
            "files": {path: _note_json(record) for path, record in self.files.items()},
            "skipped": {path: vars(record) for path, record in self.skipped.items()},
            "stored": {path: vars(record) for path, record in self.stored.items()},
            "index_type": self.index_type,
            "line_vectors": self.line_vectors,
            "token_vectors": self.token_vectors,
            "bm25": self.bm25,
            "embedding": self.embedding,
            "machine": self.machine,
            "built_at": self.built_at,
            "build_seconds": self.build_seconds,
            "full_rebuild_reason": self.full_rebuild_reason,
        }


def _note_json(record: NoteRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hash": record.hash,
        "size": record.size,
        "mtime_ns": record.mtime_ns,
        "chunks": record.chunks,
        "notes": list(record.notes),
    }
    if record.empty:
        data["empty"] = record.empty
    return data


def read_manifest(generation: Path) -> Manifest:
    """The generation's manifest, checked: IndexCorrupt when unreadable or malformed, IndexStale
    for an older format, IndexTooNew for a newer one (never rebuilt over without --rebuild)."""
    import json

    path = generation / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"index manifest missing: {path}", REBUILD) from exc
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest unreadable: {path}: {exc}", REBUILD) from exc
    if not isinstance(data, dict):
        raise IndexCorrupt(f"index manifest is not an object: {path}", REBUILD)
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexCorrupt(f"index manifest has no format version: {path}", REBUILD)
    if version > FORMAT_VERSION:
        raise IndexTooNew(
            f"index format {version} is newer than this version of notes understands ({FORMAT_VERSION})",
            "upgrade notes, or run `notes index --rebuild` to rebuild it with this version",
        )
    if version < FORMAT_VERSION:
        raise IndexStale(f"index format {version} is older than this version of notes ({FORMAT_VERSION})", REBUILD)
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest is malformed: {path} ({exc})", REBUILD) from exc


def _parse(data: dict[str, Any]) -> Manifest:
    model = _object(data, "model")
    return Manifest(
        model=ModelFingerprint(_get(model, "name", str), _get(model, "dimension", int), _get(model, "max_tokens", int)),
        chunker_version=_get(data, "chunker_version", int),
        corpus=_get(data, "corpus", str),
        chunk_count=_get(data, "chunk_count", int),
        chunk_store={key: _get(_object(data, "chunk_store"), key, int) for key in ("bytes", "crc32")},
        files={path: _note(entry) for path, entry in _object(data, "files").items()},
        skipped={
            path: SkippedNote(_get(entry, "reason", str), _get(entry, "size", int), _get(entry, "mtime_ns", int))
            for path, entry in _object(data, "skipped").items()
        },
        stored={
            path: StoredFile(_get(entry, "size", int), _get(entry, "sha256", str), _get(entry, "mtime_ns", int))
            for path, entry in _object(data, "stored").items()
        },
        index_type=_get(data, "index_type", str),
        line_vectors=_get(data, "line_vectors", int),
        token_vectors=_get(data, "token_vectors", int),
        bm25=_object(data, "bm25"),
        embedding=_object(data, "embedding"),
        machine=_object(data, "machine"),
        built_at=_get(data, "built_at", str),
        build_seconds=float(_get(data, "build_seconds", (int, float))),
        full_rebuild_reason=_get(data, "full_rebuild_reason", str),
        format_version=_get(data, "format_version", int),
    )


def _note(entry: Any) -> NoteRecord:
    if not isinstance(entry, dict):
        raise TypeError("a note record is not an object")
    notes = entry.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise TypeError("a note record's notes are not strings")
    return NoteRecord(
        _get(entry, "hash", str),
        _get(entry, "size", int),
        _get(entry, "mtime_ns", int),
        _get(entry, "chunks", int),
        tuple(notes),
        str(entry.get("empty", "")),
    )


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key!r} is not an object")
    if not all(isinstance(name, str) for name in value):
        raise TypeError(f"{key!r} has keys that are not strings")
    return value


def _get(data: dict[str, Any], key: str, kind: type[T] | tuple[type, ...]) -> T:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{key!r} is {type(value).__name__}, not {getattr(kind, '__name__', kind)}")
    return value  # type: ignore[return-value]
