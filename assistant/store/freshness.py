"""Is an index still the index of these notes? The notes on disk against the manifest.

Cheap enough to run before every one-shot question: a stat per note, hashing only notes whose size
or modification time moved (an editor that rewrites a file unchanged costs one hash, not a rebuild).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IndexMismatch
from assistant.files import digest_bytes
from assistant.notes.chunk import CHUNKER_VERSION
from assistant.notes.ingest import SourceFile, discover, read_bytes
from assistant.store.manifest import Manifest, NoteRecord, SkippedNote
from assistant.store.state import IndexState


@dataclass(frozen=True)
class Freshness:
    """How the corpus on disk compares with the index's manifest."""

    missing: bool = False
    reason: str = ""
    """Why the index cannot serve these notes at all (another model, chunker or format)."""
    other_corpus: str = ""
    """The notes folder the index belongs to, when it is not this one."""
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def fresh(self) -> bool:
        return not (self.missing or self.reason or self.other_corpus or self.changed or self.added or self.removed)

    def describe(self) -> str:
        if self.missing:
            return "no index yet"
        if self.other_corpus:
            return f"the index belongs to another notes folder ({self.other_corpus})"
        if self.reason:
            return self.reason
        parts = []
        for label, names in (("changed", self.changed), ("new", self.added), ("removed", self.removed)):
            if names:
                parts.append(f"{len(names)} {label} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
        return "notes " + "; ".join(parts) if parts else "up to date"


def belongs_elsewhere(manifest: Manifest, corpus_dir: Path) -> bool:
    """Whether the index was built from another notes folder that still exists (one that is gone was
    renamed or moved with the project: its index is adopted by the folder now asking)."""
    return manifest.corpus != str(corpus_dir.resolve()) and Path(manifest.corpus).is_dir()


def mismatch(index_dir: Path, corpus_dir: Path, other: str) -> IndexMismatch:
    return IndexMismatch(
        f"{index_dir} is the index of {other}, not of {corpus_dir.resolve()}",
        "leave out --index (each notes folder gets its own), or run `notes index --rebuild` to replace it",
    )


def check_freshness(state: IndexState, corpus_dir: Path, model: str) -> Freshness:
    """Compare the notes on disk with the index's manifest (read once, in `state`)."""
    if state.too_new:
        assert state.problem is not None
        raise state.problem
    if state.problem is not None:
        return Freshness(reason=state.problem.message)
    if state.manifest is None:
        return Freshness(missing=True)
    manifest = state.manifest
    if belongs_elsewhere(manifest, corpus_dir):
        return Freshness(other_corpus=manifest.corpus)
    if manifest.model.name != model:
        return Freshness(reason=f"index built with model {manifest.model.name!r}, not {model!r}")
    if manifest.chunker_version != CHUNKER_VERSION:
        return Freshness(reason="index built by another chunker version")
    return _compare_notes(manifest, corpus_dir)


def same_stat(size: int, mtime_ns: int, record: NoteRecord) -> bool:
    """A note's size and modification time are as recorded: taken as unchanged without reading it."""
    return size == record.size and mtime_ns == record.mtime_ns


def note_unchanged(source: SourceFile, record: NoteRecord) -> bool:
    """The one rule for "this note changed since the index was built" (the build applies it too):
    its bytes' hash differs from the recorded one. Size and modification time only spare the hash:
    when both are as recorded the note is not read at all, and an editor that rewrites a file
    unchanged costs one hash, never a re-embedding."""
    try:
        info = source.absolute.stat()
    except OSError:
        return False
    if same_stat(info.st_size, info.st_mtime_ns, record):
        return True
    raw, _problem = read_bytes(source)
    return raw is not None and digest_bytes(raw) == record.hash


def _compare_notes(manifest: Manifest, corpus_dir: Path) -> Freshness:
    sources, _ = discover(corpus_dir)
    changed: list[str] = []
    added: list[str] = []
    for source in sources:
        entry = manifest.files.get(source.path)
        if entry is None:
            if source.path not in manifest.skipped or _moved(source.absolute, manifest.skipped[source.path]):
                added.append(source.path)
        elif not note_unchanged(source, entry):
            changed.append(source.path)
    present = {source.path for source in sources}
    removed = [path for path in manifest.files if path not in present]
    return Freshness(changed=tuple(changed), added=tuple(added), removed=tuple(removed))


def _moved(path: Path, seen: SkippedNote) -> bool:
    """Whether a file skipped at the last build has changed since (size or mtime): files that were
    skipped stay skipped, and are only reported again when they change."""
    try:
        info = path.stat()
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) != (seen.size, seen.mtime_ns)
