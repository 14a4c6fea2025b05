"""Shared fixtures: a deterministic fake embedder, a tiny notes folder, an index built from it,
`notes` with its engine over the fake (`notes_cli`), and an autouse guard that keeps every test away
from the developer's real index/ and corpus/."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings

from tests import messy

REPO = Path(__file__).resolve().parent.parent

# CI runs the property tests on the same examples every time: a red CI names a bug, never a lucky draw
# (locally they keep exploring new examples).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
CORPUS = REPO / "corpus"


class FakeEmbedder(messy.FakeEmbedder):
    """tests/messy.py's hashed bag-of-words embedder, 64-d, counting the texts each call embeds."""

    def __init__(self) -> None:
        super().__init__(name="fake-bow", dimension=64, max_tokens=256)
        self.calls: list[int] = []  # type: ignore[assignment]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(text) for text in texts]).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


class HeldModel(FakeEmbedder):
    """The stand-in model, whose embedding waits until `release` is set: a build deliberately slow
    without sleeping (a question asked meanwhile meets an index still being built)."""

    def __init__(self) -> None:
        super().__init__()
        self.held = threading.Event()
        """Set once a build is waiting in the model."""
        self.release = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.held.set()
        if not self.release.wait(30):
            raise TimeoutError("the test never released the build")
        return super().embed_documents(texts)


@pytest.fixture(scope="session")
def _session_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export cache for the whole run: the real model is exported once, not per test."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolated_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _session_model_cache: Path) -> None:
    """No test reads NOTES_* from the developer's shell or writes into the real index/ or the
    user's model cache; the user's config file and question history stay out too."""
    for name in (
        "NOTES_CORPUS",
        "NOTES_INDEX",
        "NOTES_MODEL",
        "NOTES_CACHE",
        "EDITOR",
        "VISUAL",
        "NO_COLOR",
        "FORCE_HYPERLINK",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTES_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("NOTES_CACHE", str(_session_model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def notes_cli(monkeypatch: pytest.MonkeyPatch, fake_embedder: FakeEmbedder) -> messy.Notes:
    """The CLI's real path, every command's engine over the fake embedder (builds and questions);
    NOTES_MODEL names the fake, so the index it builds stays fresh."""
    monkeypatch.setenv("NOTES_MODEL", fake_embedder.name)
    return messy.Notes(messy.engine_maker(fake_embedder))


SMALL_NOTES = {
    "lambda.md": "# Lambda\n\n## Limits\n\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes max\n\n"
    "## Pricing\n\nPay per request and per GB-second.\n",
    "network/vpc.md": "# VPC\n\n## NACL\n\nStateless firewall at the subnet level.\n\n"
    "## Security Groups\n\nStateful firewall on the instance.\n",
    "plain.txt": "\t\t\tStorage\n\nEBS: network drive for one instance.\n\nEFS: shared file system for many.\n",
}


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    return messy.write_notes(tmp_path / "notes", SMALL_NOTES)


@pytest.fixture
def small_index(tmp_path: Path, small_corpus: Path, fake_embedder: FakeEmbedder) -> Path:
    from assistant.store.build import build_index

    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, fake_embedder)
    return index_dir
