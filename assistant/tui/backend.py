"""What the chat app is given to search with: a Backend opens the index, refreshes it, watches the notes.

The app never builds retrieval itself (STYLE §8): `run_chat` hands it an `EngineBackend`, which calls
`assistant.engine` (the same path `notes ask` takes); tests hand it a `StaticBackend` around an
in-memory searcher. Every method here may block, so the app only calls them from worker threads.
No import of the engine happens until a method runs, so the app paints before faiss or torch load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from assistant.config import Settings
from assistant.notes.ingest import is_note_path
from assistant.reporting import Notify, Progress
from assistant.retrieve.search import SearchResponse


class SearcherLike(Protocol):
    """The part of `assistant.retrieve.search.Searcher` the app uses."""

    @property
    def files(self) -> Sequence[str]: ...

    @property
    def chunks(self) -> Sequence[Any]: ...

    @property
    def model_name(self) -> str: ...

    def search(
        self, query: str, *, k: int = 5, mode: str = "hybrid", file_glob: str | None = None
    ) -> SearchResponse: ...


class FreshnessLike(Protocol):
    @property
    def fresh(self) -> bool: ...

    @property
    def missing(self) -> bool: ...

    def describe(self) -> str: ...


class Backend(Protocol):
    """How the app reaches an index. Each call blocks; the app makes them in worker threads."""

    def open(self) -> SearcherLike:
        """The current index as it is on disk (fast: never builds). Raises AssistantError."""
        ...

    def freshness(self) -> FreshnessLike:
        """How the notes on disk compare with the index."""
        ...

    def refresh(self, progress: Progress, notify: Notify) -> str:
        """Bring the index up to date (incrementally) and return a one-line summary."""
        ...

    def watch(self, stop: threading.Event) -> Iterator[set[str]]:
        """Sets of changed note paths as notes are saved, until `stop` is set. May yield nothing."""
        ...


class EngineBackend:
    """The real thing: `assistant.engine` over the settings' notes folder and index."""

    def __init__(self, settings: Settings, *, debounce_ms: int = 700) -> None:
        self.settings = settings
        self.debounce_ms = debounce_ms

    def open(self) -> SearcherLike:
        from assistant.engine import open_searcher

        return open_searcher(self.settings, refresh=False)

    def freshness(self) -> FreshnessLike:
        from assistant.engine import freshness

        return freshness(self.settings)

    def refresh(self, progress: Progress, notify: Notify) -> str:
        from assistant.engine import build, freshness, summary_line

        state = freshness(self.settings)
        report = build(self.settings, rebuild=bool(state.reason), progress=progress, notify=notify)
        return summary_line(report)

    def watch(self, stop: threading.Event) -> Iterator[set[str]]:
        import watchfiles

        root = self.settings.corpus_dir.resolve()
        if not root.is_dir():
            return
        index = self.settings.index_dir.resolve()

        def is_note(change: watchfiles.Change, path: str) -> bool:
            # What ingest would index (not hidden, a note suffix), and never the index's own files.
            candidate = Path(path)
            return is_note_path(candidate, root) and index not in candidate.parents

        for changes in watchfiles.watch(
            root, watch_filter=is_note, debounce=self.debounce_ms, stop_event=stop, yield_on_timeout=False
        ):
            yield {_relative(Path(path), root) for _change, path in changes}


class StaticBackend:
    """A backend around a ready searcher: nothing to refresh, nothing to watch (tests, scripts)."""

    def __init__(self, searcher: SearcherLike, *, changes: Sequence[set[str]] = ()) -> None:
        self.searcher = searcher
        self.changes = list(changes)
        self.refreshed = 0

    def open(self) -> SearcherLike:
        return self.searcher

    def freshness(self) -> FreshnessLike:
        return _Fresh()

    def refresh(self, progress: Progress, notify: Notify) -> str:
        self.refreshed += 1
        progress("embed", 1, 1)
        return "index up to date"

    def watch(self, stop: threading.Event) -> Iterator[set[str]]:
        yield from self.changes


class _Fresh:
    fresh = True
    missing = False

    def describe(self) -> str:
        return "up to date"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


__all__ = ["Backend", "EngineBackend", "SearcherLike", "StaticBackend"]
