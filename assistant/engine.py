"""The one entry point both front ends (CLI and chat app) use: make sure the index is fresh, open it.

Kept apart from `search` so that opening a ready index never imports the build path (torch), and
apart from the CLI so the chat app refreshes indexes the same way `notes ask` does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import IndexCorrupt, IndexDamaged, IndexStale
from assistant.model.encoder_cache import ENCODER_DIRECTORY
from assistant.notes.ingest import require_corpus
from assistant.reporting import Notify, Progress, no_notify, no_progress
from assistant.retrieve.search import Searcher
from assistant.store.build_report import NO_HOOKS, BuildHooks, BuildReport
from assistant.store.freshness import Freshness, check_freshness, mismatch
from assistant.store.generation import current_generation, verify
from assistant.store.manifest import read_manifest

if TYPE_CHECKING:
    from assistant.model.embed import Embedder, SentenceTransformerEmbedder


def build(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress = no_progress,
    notify: Notify = no_notify,
    hooks: BuildHooks = NO_HOOKS,
) -> BuildReport:
    """Build or refresh the index. Embedding runs on the model's ONNX export (made once per model
    and machine with sentence-transformers, then reused), falling back to sentence-transformers
    for models that cannot be exported."""
    from assistant.store.build import build_index  # the build's modules stay out of a question's start-up

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    _remove_orphaned_exports(settings.index_dir)
    with tempfile.TemporaryDirectory(prefix=f".export-{os.getpid()}-", dir=settings.index_dir) as scratch:
        embedder = _embedder_for_build(settings, Path(scratch), progress)
        return build_index(
            settings.corpus_dir,
            settings.index_dir,
            embedder,
            rebuild=rebuild,
            progress=progress,
            on_wait=lambda: notify(f"waiting for another `notes index` to finish with {settings.index_dir} …"),
            hooks=hooks,
        )


def _remove_orphaned_exports(index_dir: Path) -> None:
    """Scratch exports left by a build that was killed (kill -9 skips cleanup): ~100 MB each.
    Only folders whose process is gone are removed; a concurrent build's scratch is kept."""
    for path in index_dir.glob(".export-*-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _embedder_for_build(settings: Settings, scratch: Path, progress: Progress = no_progress) -> Embedder:
    """This machine's cached export of the model (`encoder_cache`, checked before use), else one
    restored from the current index's own copy, else a fresh export (cached for next time), else
    sentence-transformers for a model that cannot be exported."""
    from assistant.model.embed import OnnxEmbedder, SentenceTransformerEmbedder
    from assistant.model.encoder_cache import cached_encoder, store_encoder
    from assistant.model.onnx_export import export_onnx_encoder

    embedder = SentenceTransformerEmbedder(settings.model)
    cached = cached_encoder(embedder.path) or _restore_cache(settings, embedder)
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            return OnnxEmbedder(settings.model, cached, embedder)
    progress("loading model", 0, 1)
    try:
        export_onnx_encoder(embedder.path, scratch)
        onnx = OnnxEmbedder(settings.model, store_encoder(embedder.path, scratch) or scratch, embedder)
    except Exception as exc:  # noqa: BLE001 - a model that cannot be exported still indexes, just slower
        embedder.export_error = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return embedder
    progress("loading model", 1, 1)
    return onnx


def _restore_cache(settings: Settings, embedder: SentenceTransformerEmbedder) -> Path | None:
    """Put the current index's copy of the export back in the cache (a cleared ~/.cache costs a
    copy, not a 10 s export), when that copy is undamaged and made from this model by this code."""
    from assistant.model.encoder_cache import store_encoder
    from assistant.model.onnx_encoder import onnx_encoder_current
    from assistant.store.build import model_fingerprint

    try:
        generation = current_generation(settings.index_dir)
        manifest = read_manifest(generation) if generation is not None else None
    except (IndexCorrupt, IndexStale):
        return None
    if generation is None or manifest is None or manifest.model != model_fingerprint(embedder):
        return None
    copy = generation / ENCODER_DIRECTORY
    if not onnx_encoder_current(copy) or verify(generation, manifest):
        return None
    return store_encoder(embedder.path, copy)


def freshness(settings: Settings) -> Freshness:
    return check_freshness(settings.index_dir, settings.corpus_dir, settings.model)


def open_searcher(
    settings: Settings,
    *,
    notify: Notify = no_notify,
    progress: Progress = no_progress,
    refresh: bool = True,
    on_report: Callable[[BuildReport], None] | None = None,
) -> Searcher:
    """A Searcher over a fresh, undamaged index: builds a missing one, refreshes a stale one and
    repairs a damaged one, saying so; refuses an index that belongs to another notes folder.
    `on_report`: handed each build's report (the CLI lists the notes it skipped or repaired)."""
    require_corpus(settings.corpus_dir)
    state = freshness(settings)
    if state.other_corpus:
        raise mismatch(settings.index_dir, settings.corpus_dir, state.other_corpus)

    def rebuild(why: str, everything: bool) -> None:
        notify(why)
        report = build(settings, rebuild=everything, progress=progress, notify=notify)
        if on_report is not None:
            on_report(report)
        notify(summary_line(report))

    if not state.fresh and refresh:
        if state.missing:
            rebuild(f"no index yet in {settings.index_dir}: building it from {settings.corpus_dir} …", False)
        else:
            rebuild(f"index is out of date ({state.describe()}): refreshing …", bool(state.reason))
    try:
        searcher = Searcher.load(settings.index_dir, model=settings.model)
    except IndexDamaged as exc:
        if not refresh:
            raise
        if only_encoder(exc.files):
            notify(f"{exc.message}: restoring the model export from this machine's cache …")
            if not repair(settings, exc.files):
                rebuild("the cache cannot restore it: writing the index again with a fresh export …", False)
        else:
            rebuild(f"{exc.message}: rebuilding the index …", True)
        searcher = Searcher.load(settings.index_dir, model=settings.model)
    except (IndexCorrupt, IndexStale) as exc:
        if not refresh:
            raise
        rebuild(f"{exc.message}: rebuilding the index …", True)
        searcher = Searcher.load(settings.index_dir, model=settings.model)
    if searcher.slow_path:
        notify(searcher.slow_path)
    return searcher


def only_encoder(damaged: Sequence[str]) -> bool:
    """Whether the damage is confined to the index's copy of the model export (which the cache can
    restore in place; any other damaged file means a rebuild)."""
    return bool(damaged) and all(name.startswith(f"{ENCODER_DIRECTORY}/") for name in damaged)


def repair(settings: Settings, damaged: Sequence[str]) -> bool:
    """Undo damage to the current index's copy of the model export from this machine's cache, in
    place, when the cache holds exactly the recorded files; False when anything else is damaged or
    the cache cannot restore it (the caller rebuilds)."""
    from assistant.config import resolve_model_path
    from assistant.files import copy_isolated
    from assistant.model.encoder_cache import cached_encoder, entry_records

    generation = current_generation(settings.index_dir)
    if generation is None or not only_encoder(damaged):
        return False
    manifest = read_manifest(generation)
    entry = cached_encoder(resolve_model_path(settings.model))
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


def summary_line(report: BuildReport) -> str:
    if report.up_to_date:
        return f"index up to date: {report.files} files, {report.chunks} chunks ({report.seconds:.1f} s)"
    what = "rebuilt" if report.rebuilt_all else "updated"
    skipped = sum(1 for problem in report.problems if problem.skipped)
    extra = f", {skipped} skipped" if skipped else ""
    return (
        f"index {what}: {report.files} files{extra}, {report.chunks} chunks "
        f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f} s"
    )
