"""Small helpers shared by the chat app's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from assistant.tui.app import NotesApp


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until the condition holds (workers are threads: results arrive as messages).
    Returns as soon as it holds; the timeout only tells a hang from a busy machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)
    await pilot.pause()


async def ask(pilot: Pilot[None], text: str) -> None:
    """Type a question into the box, press Enter, and wait for its answer card to fill in."""
    app = pilot.app
    assert isinstance(app, NotesApp)
    app.chat.question_input.focus()
    await pilot.pause()
    app.chat.question_input.value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: answered(app))


def answered(app: NotesApp) -> bool:
    """The newest answer card is filled in: failed, or showing a card per hit."""
    cards = app.chat.log_view.answer_cards()
    if not cards:
        return False
    card = cards[-1]
    if card.has_class("-failed"):
        return True
    return card.response is not None and len(card.cards()) == len(card.response.hits)


def screen_text(app: NotesApp) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
