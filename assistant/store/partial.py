"""An index while its build runs: searchable as soon as its text side is written.

Why: a first build of a 400-file folder embeds for minutes, and a user with a question should not
wait for all of it. The build writes the passages, BM25 and word counts into its staging folder
first (seconds), then embeds; each batch of passage vectors is handed here as it lands. A search
meanwhile gets an `OpenedIndex` over what is ready: every passage by its keywords, the passages
embedded so far by their vectors, no line or token vectors yet (they come last). Each answer from
it carries `Building`, so every front end says that it came from an index still being built.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.store.chunk_store import ChunkStore
from assistant.store.lexical import LexicalIndex
from assistant.store.open import OpenedIndex
from assistant.store.spelling import WORDS_FILE, Speller

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.embed import QueryEncoder
    from assistant.store.manifest import Manifest


@dataclass(frozen=True)
class Building:
    """How far the build was when a search was answered from its partial index."""

    passages: int
    embedded: int
    """Passages whose vectors had landed (the rest were found by their keywords only)."""
    files: int = 0
    skipped: int = 0
    """The notes it holds and those it skipped, as `notes index` counts them (for a status line)."""

    @property
    def percent(self) -> int:
        """Embedded passages as a whole percentage, never 100 while any is missing."""
        if not self.passages:
            return 100
        share = 100 * self.embedded // self.passages
        return min(share, 99) if self.embedded < self.passages else 100

    def describe(self) -> str:
        """One line for any front end: what an answer from this index could and could not see."""
        return (
            f"answered from an index still being built: {self.embedded:,} of {self.passages:,} passages "
            f"embedded ({self.percent}%), the rest found by their keywords only"
        )

    def sentence(self) -> str:
        """`describe` as a sentence of its own, for a line above an answer."""
        said = self.describe()
        return f"{said[:1].upper()}{said[1:]}."


class PartialIndex:
    """The text side of a generation being built, and its passage vectors as they land (thread-safe:
    the build adds, searches read snapshots)."""

    def __init__(self, staging: Path, manifest: Manifest, dimension: int) -> None:
        import numpy as np

        self.staging = staging
        self.manifest = manifest
        self._dimension = dimension
        self._vectors: np.ndarray | None = None
        """The build's own passage-vector array (rows fill in as they land; never copied here)."""
        self._landed = np.zeros(manifest.chunk_count, dtype=bool)
        self._lock = threading.Lock()
        self._text: tuple[ChunkStore, LexicalIndex, Speller | None] | None = None
        """Opened at the first search (the text side never changes while the build runs)."""
        self._dense: tuple[int, Any] | None = None
        """The last snapshot's FAISS index and how many vectors it held (reused while none lands)."""

    @property
    def building(self) -> Building:
        with self._lock:
            return self._building()

    def _building(self) -> Building:
        manifest = self.manifest
        embedded = int(self._landed.sum())  # a few µs for 7,000 passages, ~1 ms at a million
        return Building(manifest.chunk_count, embedded, len(manifest.files), len(manifest.skipped))

    def landed(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        """Rows of the build's passage-vector array `vectors` are ready (called from its thread)."""
        if not len(rows):
            return
        with self._lock:
            self._vectors = vectors
            self._landed[list(rows)] = True

    def warm(self, encoder: Callable[[], QueryEncoder]) -> None:
        """Load what a question needs (the encoder, the text side) in a thread beside the build, so
        the first question asked does not wait for it."""

        def load() -> None:
            with contextlib.suppress(Exception):  # a failed warm-up only means the first question loads it
                self.opened(encoder())

        threading.Thread(target=load, name="notes-partial-warm", daemon=True).start()

    def opened(self, encoder: QueryEncoder) -> OpenedIndex:
        """What a search reads now: the text side, and a FAISS index over the vectors landed so far
        (rebuilt only when more have landed: ~5 ms for 7,000 passages)."""
        import faiss
        import numpy as np

        with self._lock:
            building = self._building()
            count = building.embedded
            if self._text is None:
                chunks = ChunkStore.open(self.staging, self.manifest.chunk_count, self.manifest.chunk_store)
                words = self.staging / WORDS_FILE
                speller = Speller.load(words, encoder.knows_word) if words.exists() else None
                self._text = (chunks, LexicalIndex(self.staging / "bm25"), speller)
            if self._dense is None or self._dense[0] != count:
                rows = np.flatnonzero(self._landed).astype(np.int64)
                dense = faiss.IndexIDMap(faiss.IndexFlatIP(self._dimension))
                if len(rows) and self._vectors is not None:
                    dense.add_with_ids(np.ascontiguousarray(self._vectors[rows], dtype=np.float32), rows)
                self._dense = (count, dense)
            dense_index = self._dense[1]
        chunks, lexical, speller = self._text
        return OpenedIndex(
            generation=self.staging,
            manifest=self.manifest,
            chunks=chunks,
            dense_index=dense_index,
            lexical=lexical,
            lines=None,
            line_vectors=None,
            tokens=None,
            speller=speller,
            encoder=encoder,
            building=building,
        )
