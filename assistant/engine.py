"""The one entry point both front ends (CLI and chat app) use: make sure the index is fresh, open it.

Kept apart from `search` so that opening a ready index never imports the build path (torch), and
apart from the CLI so the chat app refreshes indexes the same way `notes ask` does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import IndexCorrupt, IndexStale
from assistant.freshness import Freshness, check_freshness
from assistant.generation import current_generation
from assistant.index import NO_HOOKS, BuildHooks, BuildReport, build_index, model_fingerprint
from assistant.ingest import require_corpus
from assistant.manifest import read_manifest
from assistant.reporting import Notify, Progress, no_notify, no_progress
from assistant.search import Searcher

if TYPE_CHECKING:
    from assistant.embed import Embedder


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
    """The current index's ONNX export when it was made from this model (no torch import at all:
    an incremental refresh takes seconds), else this machine's cached export of it
    (`encoder_cache`), else a fresh export (cached for next time), else sentence-transformers."""
    from assistant.embed import OnnxEmbedder, SentenceTransformerEmbedder
    from assistant.encoder_cache import cached_encoder, store_encoder
    from assistant.onnx_encoder import onnx_encoder_current
    from assistant.onnx_export import export_onnx_encoder

    embedder = SentenceTransformerEmbedder(settings.model)
    try:
        generation = current_generation(settings.index_dir)
        manifest = read_manifest(generation) if generation is not None else None
    except (IndexCorrupt, IndexStale):
        generation, manifest = None, None
    if generation is not None and manifest is not None and manifest.model == model_fingerprint(embedder):
        if onnx_encoder_current(generation / "encoder"):
            try:
                return OnnxEmbedder(settings.model, generation / "encoder", embedder)
            except (OSError, ValueError):
                pass
    cached = cached_encoder(embedder.path)
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            return OnnxEmbedder(settings.model, cached, embedder)
    progress("loading model", 0, 1)
    try:
        export_onnx_encoder(embedder.path, scratch)
        onnx = OnnxEmbedder(settings.model, store_encoder(embedder.path, scratch) or scratch, embedder)
    except Exception:  # noqa: BLE001 - a model that cannot be exported still indexes, just slower
        return embedder
    progress("loading model", 1, 1)
    return onnx


def freshness(settings: Settings) -> Freshness:
    return check_freshness(settings.index_dir, settings.corpus_dir, settings.model)


def open_searcher(
    settings: Settings,
    *,
    notify: Notify = no_notify,
    progress: Progress = no_progress,
    refresh: bool = True,
) -> Searcher:
    """A Searcher over a fresh index: builds a missing one, refreshes a stale one, saying so."""
    require_corpus(settings.corpus_dir)
    state = freshness(settings)
    if not state.fresh and refresh:
        if state.missing:
            notify(f"no index yet in {settings.index_dir}: building it from {settings.corpus_dir} …")
        else:
            notify(f"index is out of date ({state.describe()}): refreshing …")
        report = build(settings, rebuild=bool(state.reason), progress=progress, notify=notify)
        notify(summary_line(report))
    try:
        return Searcher.load(settings.index_dir, model=settings.model)
    except (IndexCorrupt, IndexStale) as exc:
        if not refresh:
            raise
        notify(f"{exc.message}: rebuilding the index …")
        report = build(settings, rebuild=True, progress=progress, notify=notify)
        notify(summary_line(report))
        return Searcher.load(settings.index_dir, model=settings.model)


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
