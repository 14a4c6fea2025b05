"""What the MCP server's three tools do, apart from the protocol: `search`, `get` and `status` over
one Engine, each answering a plain dict (JSON-ready) or raising AssistantError.

One engine, kept open: the index is opened once, in a background thread as the server starts
(building a missing index, refreshing a stale one, so the client's handshake is never held up), and
the model stays loaded between questions. Before each search a freshness check (a stat per note,
well under a millisecond for the shipped notes) picks up a note saved meanwhile; the index is then
refreshed incrementally, as `notes ask` does. Index work and searches take one lock, so a refresh
never races a question.

Nothing here prints: what the engine says while building goes to `notify`, which the CLI points at
stderr (stdout is the protocol).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import MAX_K, Mode
from assistant.errors import AssistantError
from assistant.reporting import Notify, Progress, no_notify, no_progress

if TYPE_CHECKING:
    from assistant.engine import Engine
    from assistant.retrieve.search import Searcher
    from assistant.store.build_report import BuildReport


PARTIAL_POLL_S = 0.05
"""How often a search waiting for the first build looks whether it can answer from part of it."""
PATIENCE_S = 1.0
"""How long a search waits for the first build before answering from what it has ready: a small
folder is indexed by then, and its whole index answers better than a part."""


class NoteTools:
    """The tools' work over one engine: open the index once, keep it fresh, answer."""

    def __init__(
        self,
        engine: Engine,
        *,
        notify: Notify = no_notify,
        progress: Progress = no_progress,
        on_report: Callable[[BuildReport], None] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.engine = engine
        self._notify = notify
        self._progress = progress
        self._on_report = on_report
        self._cwd = cwd
        self._lock = threading.Lock()
        """One index operation at a time: opening, refreshing, searching."""
        self._opened = threading.Event()
        self._opening: threading.Thread | None = None

    # ------------------------------------------------------------ the index

    def start(self) -> None:
        """Open the index in the background (build or refresh it first when needed); searches wait for it."""
        if self._opening is None:
            self._opening = threading.Thread(target=self._open_at_start, name="notes-mcp-open", daemon=True)
            self._opening.start()

    def _open_at_start(self) -> None:
        try:
            with self._lock:
                self._open()
        except AssistantError as exc:  # a missing notes folder, another folder's index: said at each call
            self._notify(f"error: {exc}")
        except Exception as exc:  # noqa: BLE001 - the server keeps serving; each search tries again and says why
            self._notify(f"error: opening the index failed: {type(exc).__name__}: {exc}")
        finally:
            self._opened.set()

    def _open(self) -> Searcher:
        return self.engine.open(notify=self._notify, progress=self._progress, on_report=self._on_report)

    @property
    def opening(self) -> bool:
        """Whether the first opening (and any build it needed) is still going on."""
        return self._opening is not None and not self._opened.is_set()

    def _fresh_searcher(self) -> Searcher:
        """The opened index, refreshed first when a note was saved, added or removed since (and
        opened again when opening failed before: the notes folder may exist now). Caller holds the lock."""
        searcher = self.engine.searcher
        if searcher is None or not self.engine.freshness().fresh:
            searcher = self._open()
        return searcher

    def _wait_for_answers(self) -> bool:
        """Wait until a search can be answered: True once the index is open, False while its first
        build runs but can answer from what it has ready (the engine's partial index)."""
        waited = 0.0
        while not self._opened.wait(PARTIAL_POLL_S):
            waited += PARTIAL_POLL_S
            if waited >= PATIENCE_S and self.engine.building is not None:
                return False
        return True

    # ------------------------------------------------------------ the tools

    def search(
        self, question: str, *, k: int | None = None, mode: Mode | None = None, file: str | None = None
    ) -> dict[str, Any]:
        """The `notes ask --json` record for a question, with `weak_match`, and `index` when it was
        answered while the index is still being built (never held up by that build); k is capped
        at MAX_K."""
        from assistant.present.render import response_record

        self.start()
        wanted = k or self.engine.settings.k
        if self._wait_for_answers():
            with self._lock:
                self._fresh_searcher()
                response = self.engine.search(question, k=min(wanted, MAX_K), mode=mode, file=file)
        else:
            # The first build holds the lock; its partial index answers meanwhile, and says so.
            response = self.engine.search(question, k=min(wanted, MAX_K), mode=mode, file=file)
        record = response_record(response, notes_dir=self.engine.settings.corpus_dir)
        record["weak_match"] = not response.strength.strong
        if wanted > MAX_K:
            record["k_capped"] = f"k={wanted} asked; at most {MAX_K} results are returned"
        return record

    def get(self, path: str, *, start_line: int | None = None, end_line: int | None = None) -> dict[str, Any]:
        """A note's lines with their numbers (assistant/mcp/note_files.py)."""
        from assistant.mcp.note_files import read_note
        from assistant.notes.ingest import require_corpus

        require_corpus(self.engine.settings.corpus_dir)
        return read_note(self.engine.settings.corpus_dir, path, start_line, end_line, cwd=self._cwd)

    def status(self) -> dict[str, Any]:
        """What `notes status` reports, the cheap way (sizes and times, no hashing)."""
        from assistant.present.render import building_record

        status = self.engine.status(full=False)
        building = self.engine.building
        extra = {"building": building_record(building)} if building is not None else {}
        return {
            "notes": str(status.notes.resolve()),
            "index": str(status.index.resolve()),
            "model": status.model,
            "files": status.files,
            "skipped": status.skipped,
            "passages": status.passages,
            "state": status.state,
            "opening": self.opening,
            "summary": status.summary,
            "problems": [{"what": problem.what, "fix": problem.fix} for problem in status.problems],
            **extra,
        }
