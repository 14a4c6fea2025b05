"""Small helpers shared by the chat app's tests.

Reading what the app shows takes two of Textual's private attributes (the compositor's strips, the
app's notifications); they are read here only, so a Textual upgrade that moves them breaks one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App
from textual.content import Content
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.widgets import Static

from assistant.tui.app import NotesApp
from assistant.tui.widgets.answer_card import AnswerCard
from assistant.tui.widgets.hit_card import BAR_CELLS, HitCard


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


def chat_of(pilot: Pilot[None]) -> NotesApp:
    app = pilot.app
    assert isinstance(app, NotesApp)
    return app


async def ask(pilot: Pilot[None], text: str) -> None:
    """Type a question into the box, press Enter, and wait for its answer card to fill in."""
    app = chat_of(pilot)
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


def index_settled(app: NotesApp) -> bool:
    """The index is open and no work on it is running or waiting."""
    return app.searcher is not None and not app.index_busy


def latest_card(app: NotesApp) -> AnswerCard:
    cards = app.chat.log_view.answer_cards()
    assert cards, "no question asked yet"
    return cards[-1]


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    content = widget.content
    return content.plain if isinstance(content, Content) else str(content)


def meta_text(card: AnswerCard) -> str:
    """An answer card's status line: waiting, searched, mode, count, time, or what went wrong."""
    return text_of(card.query_one(".answer-meta", Static))


def title_text(card: HitCard) -> str:
    """A result card's title: rank, score bar, the number beside it, citation."""
    return text_of(card.query_one(".hit-title", Static))


def card_number(card: HitCard) -> str:
    """The number a result card shows beside its score bar."""
    return title_text(card)[3 + BAR_CELLS :].split()[0]


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notices(app: App[None]) -> list[Notification]:
    """The notifications on screen, oldest first."""
    return list(app._notifications)


def notifications(app: App[None]) -> list[str]:
    """The messages of the notifications on screen, oldest first."""
    return [str(notice.message) for notice in notices(app)]
