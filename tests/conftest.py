"""Shared fixtures: a deterministic fake embedder, a tiny notes folder, an index built from it,
and an autouse guard that keeps every test away from the developer's real index/ and corpus/."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


class FakeEmbedder:
    """Hashed bag-of-words vectors: same words → similar vectors, no model, fully deterministic."""

    name = "fake-bow"
    dimension = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.calls: list[int] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.md5(word.encode()).digest()
            vector[digest[0] % self.dimension] += 1.0 if digest[1] % 2 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


@pytest.fixture(autouse=True)
def _isolated_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads NOTES_* from the developer's shell or writes into the real index/."""
    for name in ("NOTES_CORPUS", "NOTES_INDEX", "NOTES_MODEL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTES_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


SMALL_NOTES = {
    "lambda.md": "# Lambda\n\n## Limits\n\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes max\n\n"
    "## Pricing\n\nPay per request and per GB-second.\n",
    "network/vpc.md": "# VPC\n\n## NACL\n\nStateless firewall at the subnet level.\n\n"
    "## Security Groups\n\nStateful firewall on the instance.\n",
    "plain.txt": "\t\t\tStorage\n\nEBS: network drive for one instance.\n\nEFS: shared file system for many.\n",
}


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    for name, text in SMALL_NOTES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def small_index(tmp_path: Path, small_corpus: Path, fake_embedder: FakeEmbedder) -> Path:
    from assistant.index import build_index

    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, fake_embedder, export_encoder=False)
    return index_dir
