"""The core never imports the UI, and start-up never imports the heavy libraries.

The import-linter contract in pyproject.toml (run by .ci/run) holds the first rule for every import;
these tests hold what it cannot: that no core module imports a heavy library when it is imported, and
that the contract's list of core modules is every core module (a new one cannot slip past it).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import assistant

FRONT_ENDS = ("cli", "tui", "mcp", "bench", "__main__")
CORE = sorted(
    info.name.removeprefix("assistant.")
    for info in pkgutil.walk_packages(assistant.__path__, "assistant.")
    if info.name.split(".")[1] not in FRONT_ENDS and not info.name.rsplit(".", 1)[-1].startswith("_")
)
HEAVY = ("textual", "click", "torch", "sentence_transformers", "faiss", "bm25s", "onnxruntime", "transformers")
STAGES = ("notes", "model", "store", "retrieve", "engine", "evaluate", "present")


def test_the_layers_contract_holds_every_module_directly_under_assistant() -> None:
    """The layers contract is exhaustive over assistant/, so lint-imports itself refuses a module or
    folder that has no place in it; here: the stages are layered in the data flow's order."""
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    assert layers["containers"] == ["assistant"] and layers["exhaustive"] is True
    order = [name for layer in layers["layers"] for name in layer.replace("(", "").replace(")", "").split()]
    positions = [order.index(stage) for stage in ("engine", "retrieve", "store", "model", "notes")]
    assert positions == sorted(positions)
    assert all(stage in order for stage in STAGES)
    assert order.index("cli") < min(order.index(stage) for stage in STAGES)


@pytest.mark.parametrize("module", CORE)
def test_a_core_module_imports_no_ui_and_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, assistant.{module}; "
        f"heavy = {HEAVY!r}; "
        "bad = [m for m in heavy if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cli_help_is_light() -> None:
    code = (
        "import sys; from assistant.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('textual', 'torch', 'sentence_transformers', 'faiss') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, capture_output=True)
