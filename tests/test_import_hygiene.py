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

FRONT_ENDS = ("cli", "tui", "bench", "__main__")
CORE = sorted(
    info.name
    for info in pkgutil.iter_modules(assistant.__path__)
    if info.name not in FRONT_ENDS and not info.name.startswith("_")
)
HEAVY = ("textual", "click", "torch", "sentence_transformers", "faiss", "bm25s", "onnxruntime", "transformers")


def test_the_import_contract_names_every_core_module() -> None:
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert sorted(contract["source_modules"]) == [f"assistant.{name}" for name in CORE]
    assert {"assistant.cli", "assistant.tui", "assistant.bench", "click", "textual"} <= set(
        contract["forbidden_modules"]
    )


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
