"""What a build reports to its caller, and what a caller may hand a build (`index.build_index`).

Apart from the build itself so that the bench and tests can watch or feed a build through these
declared hooks, never by patching the index module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.reporting import no_notify

if TYPE_CHECKING:
    from assistant.notes.chunk import Chunk
    from assistant.notes.ingest import Document, FileProblem
    from assistant.store.partial import PartialIndex


@dataclass
class BuildReport:
    """What changed, what was embedded afresh and what was reused, and the notes that could not be read."""

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
    first: bool = False
    """There was no index before this build (it is "built", not "rebuilt")."""
    up_to_date: bool = False


def _no_timing(name: str, seconds: float, detail: str) -> None:
    return None


@dataclass(frozen=True)
class BuildHooks:
    """What a caller may hand a build to watch it or feed it, instead of patching this module.

    `chunk_note` replaces decoding and chunking of a note's bytes (the bench's synthetic notes at a
    million chunks, whose chunks it already knows); `writing(name)` is called before each index file
    is written, `written(name, seconds, detail)` after it (the bench's per-file timings; tests
    interrupt a build there); `partial(index)` is handed the index being built as soon as its text
    side is written, and it fills with passage vectors as they land (the engine answers from it)."""

    chunk_note: Callable[[str, bytes], tuple[Document | None, FileProblem | None, list[Chunk]]] | None = None
    writing: Callable[[str], None] = no_notify
    written: Callable[[str, float, str], None] = _no_timing
    partial: Callable[[PartialIndex], None] | None = None


NO_HOOKS = BuildHooks()


def summary_line(report: BuildReport) -> str:
    """One line a front end says when a build is done: what it did, how many notes it skipped."""
    if report.up_to_date:
        return f"index up to date: {report.files} files, {report.chunks} chunks ({report.seconds:.1f} s)"
    what = "built" if report.first else "rebuilt" if report.rebuilt_all else "updated"
    skipped = sum(1 for problem in report.problems if problem.skipped)
    extra = f", {skipped} skipped" if skipped else ""
    return (
        f"index {what}: {report.files} files{extra}, {report.chunks} chunks "
        f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f} s"
    )
