"""The naive build, timed beside ours in one bench run: what the same index costs done the obvious way.

The obvious way is sentence-transformers on torch: load the model, `encode` every passage and every
line unit (batches of 32, as its docs suggest), write FAISS and BM25; `passages_only` (folder mode)
stops after the passages. Same chunks, same texts, same
files as `notes index` writes; only the embedding path differs (ours: the model's float ONNX export,
texts of one length per pass, one single-threaded session per core). The ratio of the two is the
build speed-up on whatever CPU the bench runs on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def child_naive_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Chunk the notes, embed them with sentence-transformers, write the vectors' files; per-stage seconds."""
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def mark(stage: str, since: float) -> float:
        now = time.perf_counter()
        stages[stage] = round(now - since, 3)
        return now

    from assistant.model.embed import SentenceTransformerEmbedder
    from assistant.notes.chunk import chunk_document, lexical_text, line_units
    from assistant.notes.ingest import load_documents
    from assistant.store.lexical import build_bm25
    from assistant.store.vectors import write_faiss

    embedder = SentenceTransformerEmbedder(spec["model"])
    model = embedder.model  # torch and sentence-transformers imported, weights loaded
    now = mark("import and load the model", started)
    documents, _problems = load_documents(Path(spec["corpus"]))
    chunks = [
        chunk
        for document in documents
        for chunk in chunk_document(document, max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens)
    ]
    lines = [unit for chunk in chunks for unit in line_units(chunk)]
    now = mark("read and chunk", now)
    passages = model.encode([chunk.embedding_text for chunk in chunks], batch_size=32, normalize_embeddings=True)
    encode_seconds = time.perf_counter() - now
    now = mark(f"embed {len(chunks)} passages", now)
    if spec.get("passages_only"):  # folder mode: the passages alone are what a full build is held against
        return {
            "seconds": time.perf_counter() - started,
            "encode_seconds": encode_seconds,
            "cpu_seconds": time.process_time(),
            "chunks": len(chunks),
            "stages": stages,
        }
    line_vectors = model.encode(lines, batch_size=32, normalize_embeddings=True)
    now = mark(f"embed {len(lines)} lines", now)
    out = Path(spec["index"])
    out.mkdir(parents=True, exist_ok=True)
    write_faiss(out / "dense.faiss", passages)
    write_faiss(out / "lines.faiss", line_vectors)
    build_bm25([lexical_text(chunk) for chunk in chunks], out / "bm25")
    mark("write FAISS and BM25", now)
    return {"seconds": time.perf_counter() - started, "chunks": len(chunks), "lines": len(lines), "stages": stages}
