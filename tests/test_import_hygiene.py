"""The pipeline never imports the UI, and start-up never imports the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

PIPELINE = ["ingest", "chunk", "embed", "index", "lexical", "search", "present", "engine", "evaluate", "metrics"]


@pytest.mark.parametrize("module", PIPELINE)
def test_pipeline_stage_imports_no_ui_and_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, assistant.{module}; "
        "heavy = ('textual', 'click', 'torch', 'sentence_transformers', 'faiss', 'bm25s'); "
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
