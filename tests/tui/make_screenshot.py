"""Regenerate the README screenshot: the chat app answering real questions from the shipped notes,
with the real model (a script, not a test: the stand-in model's scores would not be the ones users see).

Run from the repository root: `.venv/bin/python tests/tui/make_screenshot.py`. The index is opened as
`notes` opens it, and built or refreshed first if it is missing or stale (about a minute).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assistant.config import Settings  # noqa: E402 - after the path to the repository
from assistant.engine import Engine  # noqa: E402
from assistant.tui.app import NotesApp  # noqa: E402
from assistant.tui.history import HistoryFile  # noqa: E402
from tests.tui.helpers import ask, index_settled, wait_until  # noqa: E402

SCREENSHOT = Path(__file__).with_name("screenshot-chat-answering.svg")


async def main() -> None:
    settings = Settings.from_env()
    history = HistoryFile(Path(tempfile.mkdtemp()) / "history.jsonl")  # keep your own history out of it
    app = NotesApp(settings, Engine(settings), watch_notes=False, history=history)
    async with app.run_test(size=(110, 34)) as pilot:
        await wait_until(pilot, lambda: index_settled(app), timeout=600)
        await ask(pilot, "lambda max memory")
        await ask(pilot, "and the timeout?")
        await pilot.press("tab", "tab")
        await pilot.pause(0.5)
        app.save_screenshot(str(SCREENSHOT))
    print(f"wrote {SCREENSHOT}")


if __name__ == "__main__":
    asyncio.run(main())
