"""Entry point of the bench's child processes: read a task's spec, run the task, write its result.

The parent (`children.python_child`) starts `python -c` with this module's `child_main` and a spec
file; the result file is how the child's own numbers (per-stage times, time to interactive) get back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.bench.build_child import child_build
from assistant.bench.mcp_probe import child_mcp
from assistant.bench.naive_build import child_naive_build
from assistant.bench.tui_child import child_tui


def child_main(spec_path: str) -> None:
    """Entry point of the bench's child processes (build, direct build, chat app probe, MCP probe)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "build": child_build,
        "naive_build": child_naive_build,
        "tui": child_tui,
        "mcp": child_mcp,
    }
    result = tasks[spec["task"]](spec)
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
