"""What a built index costs: bytes on disk per file, and the time Searcher.load spends per part.

Scale mode reports both, per chunk too, to show which component grows and which one loads slowly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.bench.report import Report


def file_sizes(generation: Path) -> dict[str, int]:
    """Bytes on disk per file of an index generation (a folder counts as the sum of its files)."""
    sizes: dict[str, int] = {}
    for path in sorted(generation.iterdir()):
        if path.is_dir():
            sizes[path.name + "/"] = sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
        else:
            sizes[path.name] = path.stat().st_size
    return sizes


def time_load_parts(report: Report, generation: Path) -> None:
    """What Searcher.load spends its time on, part by part (page cache warm)."""
    import faiss

    from assistant.store.chunk_store import ChunkStore
    from assistant.store.lexical import LexicalIndex
    from assistant.store.manifest import read_manifest

    manifest = read_manifest(generation)
    parts: list[tuple[str, str, Callable[[], Any]]] = [
        (
            "chunks",
            "chunk store (opened and checksummed; passages parsed when read)",
            lambda: ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store),
        ),
        ("dense", "dense index (read dense.faiss)", lambda: faiss.read_index(str(generation / "dense.faiss"))),
        ("bm25", "BM25 arrays (memory-mapped) + vocabulary", lambda: LexicalIndex(generation / "bm25")),
    ]
    if (generation / "lines.faiss").exists():
        parts.append(
            ("lines", "line index (read lines.faiss)", lambda: faiss.read_index(str(generation / "lines.faiss")))
        )
    for key, label, load in parts:
        started = time.perf_counter()
        loaded = load()
        report.add(f"load_{key}", f"  load: {label}", "s", "value", value=time.perf_counter() - started)
        del loaded
