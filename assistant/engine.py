"""The one engine behind every front end: the CLI, the chat app, eval, the bench and the MCP server.

An `Engine` is built from `Settings` and owns everything below the front ends: reading the index
folder, building or refreshing the index, repairing a damaged one, opening it, searching it and
saying how it stands. What notes and questions are embedded with can be handed to its constructor
(`embedder` for builds, `encoder` for questions); left out, they are the model's ONNX export (made
once per machine, then cached) and the index's own copy of it. Tests hand it a fast stand-in the
same way, never by patching a module.

Each operation reads the index folder once (`store.state.read_state`) and passes what it read down:
freshness, the build and opening all start from the same `IndexState`.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Mode, Settings
from assistant.errors import IndexCorrupt, IndexDamaged, IndexStale
from assistant.model.choice import encoder_while_building
from assistant.model.encoder_cache import ENCODER_DIRECTORY, remove_orphaned_exports
from assistant.notes.ingest import require_corpus
from assistant.reporting import EXPORT_STAGE as EXPORT_STAGE
from assistant.reporting import Notify, Progress, no_notify, no_progress
from assistant.retrieve.results import SearchResponse
from assistant.retrieve.search import Searcher
from assistant.store.build_report import NO_HOOKS, BuildHooks, BuildReport
from assistant.store.build_report import summary_line as summary_line
from assistant.store.freshness import Freshness, check_freshness, mismatch
from assistant.store.open import open_index
from assistant.store.state import IndexState, read_state

if TYPE_CHECKING:
    from assistant.model.embed import Embedder, EmbeddingPath, QueryEncoder, SentenceTransformerEmbedder
    from assistant.store.estimate import BuildPlan
    from assistant.store.health import Problem
    from assistant.store.partial import Building, PartialIndex


@dataclass(frozen=True)
class Status:
    """What `notes status` (and the MCP server's `status` tool) reports."""

    notes: Path
    index: Path
    model: str
    files: int
    """Notes the index holds (0 without an index)."""
    skipped: int
    """Notes the last build skipped (unreadable, binary, empty)."""
    passages: int
    state: str
    """One word for scripts: "ready", or the worst problem's kind (store.health.SEVERITY: "no notes",
    "unusable", "missing", "damaged", "stale", "slow")."""
    summary: list[str]
    """What the index holds and how it was made, a line each."""
    problems: list[Problem]
    """Each problem with the one command or change that fixes it (empty: ready and fresh)."""


class Engine:
    """Settings in, answers out: build, refresh, open, search and status over one notes folder."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        encoder: QueryEncoder | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        """What builds embed notes with (None: the model's ONNX export, see `_document_embedder`)."""
        self._encoder = encoder
        """What questions are embedded with (None: the index's own export, see store/open.py)."""
        self._searcher: Searcher | None = None
        self._partial: tuple[PartialIndex, Callable[[], QueryEncoder]] | None = None
        """The index a build is making, searchable from its text side on, with what embeds questions
        meanwhile (None: no build is running here)."""
        self._lock = threading.Lock()

    # ------------------------------------------------------------ reading the index folder

    def state(self) -> IndexState:
        """The index folder as it is now, read once."""
        return read_state(self.settings.index_dir)

    def freshness(self, state: IndexState | None = None) -> Freshness:
        """How the notes on disk compare with the index."""
        return check_freshness(state or self.state(), self.settings.corpus_dir, self.settings.model)

    # ------------------------------------------------------------ building

    def build(
        self,
        *,
        rebuild: bool = False,
        state: IndexState | None = None,
        progress: Progress = no_progress,
        notify: Notify = no_notify,
        hooks: BuildHooks = NO_HOOKS,
    ) -> BuildReport:
        """Build or refresh the index (only what changed is embedded again; `rebuild`: everything)."""
        from assistant.store.build import build_index  # the build's modules stay out of a question's start-up

        settings = self.settings
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        state = state or self.state()
        remove_orphaned_exports(settings.index_dir)
        with tempfile.TemporaryDirectory(prefix=f".export-{os.getpid()}-", dir=settings.index_dir) as scratch:
            embedder, embedding = self._document_embedder(Path(scratch), state, progress)
            questions = functools.cache(lambda: self._encoder or encoder_while_building(embedder, embedding))
            first = state.generation is None and self.searcher is None

            def answer_from(partial: PartialIndex) -> None:
                with self._lock:
                    self._partial = (partial, questions)
                if first:  # questions come to a first build's partial index: load what they need now
                    partial.warm(questions)
                if hooks.partial is not None:
                    hooks.partial(partial)

            try:
                return build_index(
                    settings.corpus_dir,
                    settings.index_dir,
                    embedder,
                    embedding=embedding,
                    state=state,
                    rebuild=rebuild,
                    progress=progress,
                    on_wait=lambda: notify(f"waiting for another `notes index` to finish with {settings.index_dir} …"),
                    hooks=replace(hooks, partial=answer_from),
                )
            finally:
                with self._lock:
                    self._partial = None

    def plan(self, *, rebuild: bool = False) -> BuildPlan:
        """What a build now would be ("Indexing", "Updating", "Rebuilding") and about how long a
        full one takes, from the notes' sizes (store/estimate.py): front ends say it before it starts."""
        from assistant.store.estimate import plan_build

        return plan_build(self.settings, self.state(), rebuild=rebuild, model_given=self._embedder is not None)

    def refresh(self, *, progress: Progress = no_progress, notify: Notify = no_notify) -> BuildReport:
        """Bring the index up to date: incrementally, or from scratch when it cannot serve these notes
        (another model, chunker or format)."""
        require_corpus(self.settings.corpus_dir)
        state = self.state()
        fresh = self.freshness(state)
        if fresh.other_corpus:
            raise mismatch(self.settings.index_dir, self.settings.corpus_dir, fresh.other_corpus)
        return self.build(rebuild=bool(fresh.reason), state=state, progress=progress, notify=notify)

    def _document_embedder(
        self, scratch: Path, state: IndexState, progress: Progress
    ) -> tuple[Embedder, EmbeddingPath]:
        """The embedder given to the engine, else the model's export (model/choice.py)."""
        from assistant.model.choice import document_embedder
        from assistant.model.embed import EmbeddingPath

        if self._embedder is not None:
            return self._embedder, EmbeddingPath(self._embedder.kind)
        return document_embedder(self.settings.model, scratch, progress, lambda model: _restore_cache(state, model))

    # ------------------------------------------------------------ opening

    def open(
        self,
        *,
        refresh: bool = True,
        notify: Notify = no_notify,
        progress: Progress = no_progress,
        on_report: Callable[[BuildReport], None] | None = None,
    ) -> Searcher:
        """A Searcher over a fresh, undamaged index: builds a missing one, refreshes a stale one and
        repairs a damaged one, saying so; refuses an index that belongs to another notes folder.
        With `refresh=False`, the index as it is on disk (never built or repaired here).
        `on_report`: handed each build's report (the CLI lists the notes it skipped or repaired)."""
        settings = self.settings
        require_corpus(settings.corpus_dir)
        state = self.state()
        fresh = self.freshness(state)
        if fresh.other_corpus:
            raise mismatch(settings.index_dir, settings.corpus_dir, fresh.other_corpus)

        def rebuild(why: str, everything: bool, state: IndexState | None = None) -> IndexState:
            notify(why)
            report = self.build(rebuild=everything, state=state, progress=progress, notify=notify)
            if on_report is not None:
                on_report(report)
            notify(summary_line(report))
            return self.state()

        if not fresh.fresh and refresh:
            if fresh.missing:
                state = rebuild(self.plan().estimate.first_build(settings.corpus_dir), False)
            else:
                state = rebuild(f"index is out of date ({fresh.describe()}): refreshing …", bool(fresh.reason), state)
        try:
            searcher = Searcher(open_index(state, self._encoder, model=settings.model))
        except IndexDamaged as exc:
            if not refresh:
                raise
            if only_encoder(exc.files):
                notify(f"{exc.message}: restoring the model export from this machine's cache …")
                if not self.repair(state, exc.files):
                    state = rebuild("the cache cannot restore it: writing the index again with a fresh export …", False)
                else:
                    state = self.state()
            else:
                state = rebuild(f"{exc.message}: rebuilding the index …", True)
            searcher = Searcher(open_index(state, self._encoder, model=settings.model))
        except (IndexCorrupt, IndexStale) as exc:
            if not refresh:
                raise
            state = rebuild(f"{exc.message}: rebuilding the index …", True)
            searcher = Searcher(open_index(state, self._encoder, model=settings.model))
        if searcher.slow_path:
            notify(searcher.slow_path)
        with self._lock:
            self._searcher = searcher
        return searcher

    def load(self) -> Searcher:
        """The index as it is on disk, opened (never built, refreshed or repaired: the chat app
        answers from it at once and refreshes in the background)."""
        return self.open(refresh=False)

    @property
    def searcher(self) -> Searcher | None:
        """The searcher last opened (None before the first `open` or `load`)."""
        with self._lock:
            return self._searcher

    @property
    def building(self) -> Building | None:
        """How far the running build is, once its partial index can answer (None: no build is
        running here, or it is still reading the notes)."""
        with self._lock:
            partial = self._partial
        return partial[0].building if partial is not None else None

    def _building_searcher(self) -> Searcher | None:
        """A searcher over what the running build has ready (store/partial.py), or None (also when
        the build ended meanwhile: its staging folder is then published or gone)."""
        with self._lock:
            partial = self._partial
        if partial is None:
            return None
        index, questions = partial
        try:
            return Searcher(index.opened(questions()))
        except IndexCorrupt:
            return None

    def repair(self, state: IndexState, damaged: Sequence[str]) -> bool:
        """Undo damage to the current index's copy of the model export from this machine's cache, in
        place, when the cache holds exactly the recorded files; False when anything else is damaged or
        the cache cannot restore it (the caller rebuilds)."""
        from assistant.config import resolve_model_path
        from assistant.files import copy_isolated
        from assistant.model.encoder_cache import cached_encoder, entry_records
        from assistant.store.generation import verify

        generation, manifest = state.generation, state.manifest
        if generation is None or manifest is None or not only_encoder(damaged):
            return False
        entry = cached_encoder(resolve_model_path(self.settings.model))
        records = entry_records(entry) if entry is not None else None
        if entry is None or records is None:
            return False
        for name in damaged:
            inside = name.removeprefix(f"{ENCODER_DIRECTORY}/")
            if inside not in records or records[inside].sha256 != manifest.stored[name].sha256:
                return False
            target = generation / name
            temporary = target.with_name(f".{target.name}.repair-{os.getpid()}")
            copy_isolated(entry / inside, temporary)
            os.replace(temporary, target)
        return not verify(generation, manifest)

    # ------------------------------------------------------------ asking

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        file: str | None = None,
        context: str | None = None,
    ) -> SearchResponse:
        """The ranked passages that answer a question, with their answer lines, from the searcher
        last opened (the index on disk is opened first if none is). `file`: only notes it names, as
        `--file` takes them (a path, a name without its suffix, a folder or a glob); `context`: what
        the previous turn of a conversation searched (follow-ups). With no index opened yet while
        a build runs, the answer comes from what the build has ready and says so (`building`)."""
        searcher = self.searcher or self._building_searcher() or self.load()
        return searcher.search(
            question,
            k=k or self.settings.k,
            mode=mode or self.settings.mode,
            file_glob=None if file is None else self.file_glob(file, searcher),
            context=context,
        )

    def file_glob(self, file: str, searcher: Searcher | None = None) -> str:
        """The glob of the indexed notes that `file` names, as `--file` takes it (retrieve/file_filter.py);
        UsageProblem, naming a few notes, when it names none."""
        from assistant.retrieve.file_filter import note_glob

        searcher = searcher or self.searcher or self._building_searcher() or self.load()
        return note_glob(file, searcher.files, self.settings.corpus_dir)

    def watch(self, stop: threading.Event, *, debounce_ms: int = 700) -> Iterator[set[str]]:
        """The notes (paths inside the notes folder) saved, added or removed, a set per burst of
        changes, until `stop` is set; only what ingest would index, never the index's own files."""
        import watchfiles

        from assistant.notes.ingest import is_note_path

        root = self.settings.corpus_dir.resolve()
        if not root.is_dir():
            return
        index = self.settings.index_dir.resolve()

        def is_note(change: watchfiles.Change, path: str) -> bool:
            candidate = Path(path)
            return is_note_path(candidate, root) and index not in candidate.parents

        for changes in watchfiles.watch(
            root, watch_filter=is_note, debounce=debounce_ms, stop_event=stop, yield_on_timeout=False
        ):
            yield {_relative(Path(path), root) for _change, path in changes}

    # ------------------------------------------------------------ health

    def status(self, *, full: bool = True) -> Status:
        """Whether the index is there, fresh, whole and fast, with what it holds. `full` hashes every
        file of the index (about 0.4 s for the shipped notes) and opens it to see which way questions
        would be embedded; without it, only sizes and times are compared."""
        from assistant.store.health import index_problems, index_summary, worst

        settings = self.settings
        state = self.state()
        problems = index_problems(settings, state, full=full, encoder=self._encoder)
        manifest = state.manifest
        return Status(
            notes=settings.corpus_dir,
            index=settings.index_dir,
            model=manifest.model.name if manifest is not None else settings.model,
            files=len(manifest.files) if manifest is not None else 0,
            skipped=len(manifest.skipped) if manifest is not None else 0,
            passages=manifest.chunk_count if manifest is not None else 0,
            state=worst(problems),
            summary=index_summary(state),
            problems=problems,
        )


def _restore_cache(state: IndexState, model: SentenceTransformerEmbedder) -> Path | None:
    """Put the current index's copy of the export back in the cache (a cleared ~/.cache costs a
    copy, not a 30 s export), when that copy is undamaged and made from this model by this code."""
    from assistant.model.encoder_cache import store_encoder
    from assistant.model.onnx_encoder import onnx_encoder_current
    from assistant.store.previous import model_fingerprint

    generation, manifest = state.generation, state.manifest
    if generation is None or manifest is None or manifest.model != model_fingerprint(model):
        return None
    copy = generation / ENCODER_DIRECTORY
    if not onnx_encoder_current(copy) or state.damaged():
        return None
    return store_encoder(model.path, copy)


def only_encoder(damaged: Sequence[str]) -> bool:
    """Whether the damage is confined to the index's copy of the model export (which the cache can
    restore in place; any other damaged file means a rebuild)."""
    return bool(damaged) and all(name.startswith(f"{ENCODER_DIRECTORY}/") for name in damaged)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
