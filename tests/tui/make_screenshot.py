"""Regenerate the README screenshot: the chat app answering real questions from the shipped notes.

Run from the repository root with a built index: `.venv/bin/python tests/tui/make_screenshot.py`.
"""

import asyncio
import sys
import tempfile

sys.path.insert(0, ".")
from pathlib import Path

from assistant.config import Settings
from assistant.tui.app import NotesApp
from assistant.tui.backend import EngineBackend
from assistant.tui.history import HistoryFile
from tests.tui.helpers import ask, wait_until


async def main():
    settings = Settings.from_env()
    history = HistoryFile(Path(tempfile.mkdtemp()) / "history.jsonl")  # keep your own history out of it
    app = NotesApp(settings, EngineBackend(settings), watch_notes=False, history=history)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_until(pilot, lambda: app.searcher is not None and not app._index_busy, timeout=60)
        await ask(pilot, "lambda max memory")
        await ask(pilot, "and the timeout?")
        await pilot.press("tab", "tab")
        await pilot.pause(0.5)
        app.save_screenshot(str(Path(__file__).with_name("screenshot-chat-answering.svg")))


asyncio.run(main())
