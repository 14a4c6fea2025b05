"""The child side of the chat app probe: time to interactive, measured from the parent's spawn.

The app is launched the way `notes` does (`assistant.tui:run_chat` unless told otherwise) but
headless; the clock stops when a focused, enabled Input or TextArea is there, and a key press checks
that the prompt really takes keys. A chat app that is not installed is reported, not fatal.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import Any

from assistant.bench.children import LAUNCH_ENV
from assistant.config import Settings


def child_tui(spec: dict[str, Any]) -> dict[str, Any]:
    """Launch the chat app the way `notes` does, headless, and time it until the prompt takes keys."""
    launched = float(os.environ[LAUNCH_ENV])
    module_name, _, function_name = spec["entry"].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return {"status": "missing", "error": str(exc)}
        raise
    from textual.app import App
    from textual.widgets import Input, TextArea

    result: dict[str, Any] = {"status": "no-prompt"}
    original_run = App.run

    async def probe(pilot: Any) -> None:
        app = pilot.app
        result["ready_s"] = time.time() - launched
        deadline = time.monotonic() + float(spec.get("timeout", 30.0))
        while time.monotonic() < deadline:
            focused = app.focused
            if isinstance(focused, (Input, TextArea)) and not focused.disabled:
                result["interactive_s"] = time.time() - launched
                before = focused.value if isinstance(focused, Input) else focused.text
                await pilot.press("x")
                after = focused.value if isinstance(focused, Input) else focused.text
                result["key_s"] = time.time() - launched
                result["status"] = "ok" if after != before else "key-ignored"
                break
            await pilot.pause(0.005)
        # NotesApp opens the index in a worker after painting: also time when answers become possible.
        while hasattr(app, "searcher") and time.monotonic() < deadline:
            if app.searcher is not None:
                result["searcher_s"] = time.time() - launched
                break
            await pilot.pause(0.005)
        app.exit()

    def headless_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.update(headless=True, inline=False, size=(120, 40), auto_pilot=probe)
        return original_run(self, *args, **kwargs)

    App.run = headless_run  # type: ignore[method-assign]
    settings = Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), model=spec["model"])
    from assistant.engine import Engine

    getattr(module, function_name)(settings, Engine(settings))
    return result
