"""What the measurement scripts share: an index opened as a question would, and every passage's raw
(unprojected) token vectors, computed the way the build computes them (`OnnxEmbedder`)."""

import dataclasses
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.model.embed import OnnxEmbedder
from assistant.model.projection import project
from assistant.retrieve.search import Searcher
from assistant.store.token_vectors import TokenVectors, quantize


def searcher_with_raw_tokens(index_dir: Path):
    """(searcher, generation folder, each passage's embedded text and raw token vectors, in
    chunk-store order)."""
    searcher = Searcher.load(index_dir)
    generation = searcher.index.generation
    texts = [searcher.chunks[i].embedding_text for i in range(len(searcher.chunks))]
    like = SimpleNamespace(max_tokens=256, dimension=searcher.index.dense_index.d, count_tokens=len)
    embedder = OnnxEmbedder("measure", generation / "encoder", like)
    _vectors, raw = embedder.embed_documents_with_tokens(texts)
    return searcher, generation, texts, raw


def use_token_vectors(searcher: Searcher, raw: list[np.ndarray], projection: np.ndarray) -> None:
    """Give the searcher token vectors made from `raw` under `projection`, quantized as a build
    quantizes them (each token's line kept from the index)."""
    quantized = [quantize(project(tokens, projection)) for tokens in raw]
    offsets = np.zeros(len(quantized) + 1, np.int64)
    offsets[1:] = np.cumsum([len(q.codes) for q in quantized])
    codes = np.concatenate([q.codes for q in quantized])
    scales = np.concatenate([q.scales for q in quantized])
    tokens = TokenVectors(codes, scales, offsets, projection, searcher.index.tokens.lines)
    searcher.index = dataclasses.replace(searcher.index, tokens=tokens)
