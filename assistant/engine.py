"""The one entry point both front ends (CLI and chat app) use: make sure the index is fresh, open it.

Kept apart from `search` so that opening a ready index never imports the build path (torch), and
apart from the CLI so the chat app refreshes indexes the same way `notes ask` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import IndexCorrupt, IndexStale
from assistant.index import (
    BuildReport,
    Freshness,
    Progress,
    build_index,
    check_freshness,
    current_generation,
    model_fingerprint,
    read_manifest,
)
from assistant.search import Searcher

if TYPE_CHECKING:
    from assistant.embed import Embedder

Notify = Callable[[str], None]


def _quiet(message: str) -> None:
    return None


def _quiet_progress(stage: str, done: int, total: int) -> None:
    return None


def build(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress = _quiet_progress,
    notify: Notify = _quiet,
) -> BuildReport:
    """Build or refresh the index with the settings' model (sentence-transformers, loaded lazily)."""
    embedder = _embedder_for_build(settings, rebuild)
    return build_index(
        settings.corpus_dir,
        settings.index_dir,
        embedder,
        rebuild=rebuild,
        progress=progress,
        on_wait=lambda: notify(f"waiting for another `notes index` to finish with {settings.index_dir} …"),
    )


def _embedder_for_build(settings: Settings, rebuild: bool) -> Embedder:
    """The current index's ONNX export when it was made from this model (fast: no torch import),
    else sentence-transformers. `--rebuild` always goes back to sentence-transformers."""
    from assistant.embed import OnnxEmbedder, SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(settings.model)
    if rebuild:
        return embedder
    try:
        generation = current_generation(settings.index_dir)
        if generation is None:
            return embedder
        manifest = read_manifest(generation)
    except (IndexCorrupt, IndexStale):
        return embedder
    from assistant.onnx_encoder import onnx_encoder_available

    encoder_dir = generation / "encoder"
    if manifest.get("model") == model_fingerprint(embedder) and onnx_encoder_available(encoder_dir):
        try:
            return OnnxEmbedder(settings.model, encoder_dir, embedder)
        except (OSError, ValueError):
            return embedder
    return embedder


def freshness(settings: Settings) -> Freshness:
    return check_freshness(settings.index_dir, settings.corpus_dir, settings.model)


def open_searcher(
    settings: Settings,
    *,
    notify: Notify = _quiet,
    progress: Progress = _quiet_progress,
    refresh: bool = True,
) -> Searcher:
    """A Searcher over a fresh index: builds a missing one, refreshes a stale one, saying so."""
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

