"""Which way a build embeds notes, and which way questions are embedded while it runs.

Why apart from the engine: the choice (a cached export, one restored from an index, a fresh export,
sentence-transformers for a model that cannot be exported) is about the model alone; the engine
hands in what only it knows (how to restore the cache from the current index).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.model.embed import Embedder, EmbeddingPath, QueryEncoder
from assistant.reporting import EXPORT_STAGE, UNCOUNTED, Progress

if TYPE_CHECKING:
    from assistant.model.embed import SentenceTransformerEmbedder


def document_embedder(
    model_name: str,
    scratch: Path,
    progress: Progress,
    restore: Callable[[SentenceTransformerEmbedder], Path | None],
) -> tuple[Embedder, EmbeddingPath]:
    """What a build embeds notes with, and how (recorded in the manifest): this machine's cached
    export of the model (checked before use), else one `restore`d from the current index's own
    copy, else a fresh export into `scratch` (cached for next time), else sentence-transformers for
    a model that cannot be exported."""
    from assistant.config import resolve_model_path
    from assistant.model.embed import OnnxEmbedder, SentenceTransformerEmbedder
    from assistant.model.encoder_cache import cached_encoder, store_encoder
    from assistant.model.layout import require_usable_model
    from assistant.model.onnx_export import export_onnx_encoder

    require_usable_model(model_name, resolve_model_path(model_name))  # before building
    model = SentenceTransformerEmbedder(model_name)
    cached = cached_encoder(model.path) or restore(model)
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            return OnnxEmbedder(model_name, cached, model), EmbeddingPath("onnx", cached)
    progress(EXPORT_STAGE, 0, UNCOUNTED)
    try:
        export_onnx_encoder(model.path, scratch)
        exported = store_encoder(model.path, scratch) or scratch
        onnx = OnnxEmbedder(model_name, exported, model)
    except Exception as exc:  # noqa: BLE001 - a model that cannot be exported still indexes, just slower
        error = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return model, EmbeddingPath("sentence-transformers", export_error=error)
    progress(EXPORT_STAGE, 1, 1)
    return onnx, EmbeddingPath("onnx", exported)


def encoder_while_building(embedder: Embedder, embedding: EmbeddingPath) -> QueryEncoder:
    """What embeds questions asked while a build runs: the export it embeds notes with (a session
    of its own on one thread, as a question's), else the model through sentence-transformers."""
    from assistant.model.embed import SentenceTransformerEmbedder

    if embedding.export_dir is not None:
        from assistant.model.onnx_encoder import OnnxEncoder

        with contextlib.suppress(OSError, ValueError):
            return OnnxEncoder(embedding.export_dir, threads=1)
    if isinstance(embedder, SentenceTransformerEmbedder):
        return embedder
    return SentenceTransformerEmbedder(embedder.name)
