"""An index folder as read once for one operation: its current generation, the manifest, what is wrong.

Why one read: checking freshness, restoring the model cache, seeding an incremental build and opening
the index all start from the same pointer and manifest. Each used to read them again (a stale
`notes ask` read the manifest four times and checked the files three times); now the engine reads an
`IndexState` once and hands it down, and the integrity check (`damaged`) runs at most once per state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError, IndexCorrupt, IndexMissing, IndexStale, IndexTooNew
from assistant.store.generation import current_generation, verify
from assistant.store.manifest import Manifest, read_manifest


@dataclass(frozen=True)
class IndexState:
    """What an index folder holds right now (one read of CURRENT and the manifest)."""

    index_dir: Path
    generation: Path | None = None
    """The current generation's folder (None: no index yet, or an unreadable pointer)."""
    manifest: Manifest | None = None
    """Its manifest, when it could be read and is of this version's format."""
    problem: AssistantError | None = None
    """Why there is a generation but no usable manifest (corrupt, older format, newer format)."""
    _damaged: list[list[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def missing(self) -> bool:
        return self.generation is None and self.problem is None

    @property
    def too_new(self) -> bool:
        """Written by a newer version of this tool: refused, never rebuilt over without --rebuild."""
        return isinstance(self.problem, IndexTooNew)

    def damaged(self) -> list[str]:
        """The generation's files that no longer hold what the manifest recorded (a stat per file,
        a hash only where one moved); checked once per state, then remembered."""
        if self.generation is None or self.manifest is None:
            return []
        if not self._damaged:
            self._damaged.append(verify(self.generation, self.manifest))
        return self._damaged[0]

    def require(self) -> tuple[Path, Manifest]:
        """The generation and its manifest, or the error that says why there is none."""
        if self.problem is not None:
            raise self.problem
        if self.generation is None or self.manifest is None:
            raise IndexMissing(f"no index in {self.index_dir}", "run `notes index`")
        return self.generation, self.manifest


def read_state(index_dir: Path) -> IndexState:
    """Read the index folder once. Never raises for a damaged or foreign index: the state says so."""
    try:
        generation = current_generation(index_dir)
    except IndexCorrupt as exc:
        return IndexState(index_dir, problem=exc)
    if generation is None:
        return IndexState(index_dir)
    try:
        manifest = read_manifest(generation)
    except (IndexCorrupt, IndexStale) as exc:  # IndexTooNew is an IndexStale
        return IndexState(index_dir, generation, problem=exc)
    return IndexState(index_dir, generation, manifest)
