"""What the measurement scripts share: an index opened as a question would, and every passage's raw
(unprojected) token vectors, computed the way the build computes them (`OnnxEmbedder`)."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.model.embed import OnnxEmbedder
from assistant.retrieve.search import Searcher


def searcher_with_raw_tokens(index_dir: Path):
    """(searcher, generation folder, each passage's embedded text and raw token vectors, in
    chunk-store order)."""
    searcher = Searcher.load(index_dir)
    generation = searcher.opened.generation
    texts = [searcher.chunks[i].embedding_text for i in range(len(searcher.chunks))]
    like = SimpleNamespace(max_tokens=256, dimension=searcher.index.dense_index.d, count_tokens=len)
    embedder = OnnxEmbedder("measure", generation / "encoder", like)
    _vectors, raw = embedder.embed_documents_with_tokens(texts)
    return searcher, generation, texts, raw
