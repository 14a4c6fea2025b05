"""Questions asked while the index is busy wait for it, say why, and are answered once it is ready, on the
real engine: the stand-in model handed to its constructor holds each build until the test lets it go."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Static

from assistant.config import Settings
from assistant.engine import Engine
from assistant.tui.messages import IndexOpened, IndexReloaded, RefreshStarted, SearchFinished
from tests.conftest import FakeEmbedder, HeldModel
from tests.tui.conftest import NOTES, chat_app, indexed
from tests.tui.helpers import answered, ask, index_settled, latest_card, notifications, text_of, wait_until

SIZE = (100, 32)


def held_engine(settings: Settings) -> tuple[Engine, HeldModel]:
    model = HeldModel()
    return Engine(settings, embedder=model, encoder=FakeEmbedder()), model


def kinds(messages: list[Message]) -> list[str]:
    watched = (IndexOpened, RefreshStarted, IndexReloaded, SearchFinished)
    return [type(m).__name__ for m in messages if isinstance(m, watched)]


async def test_a_question_asked_while_the_first_index_builds_is_answered_from_what_is_ready(
    settings: Settings,
) -> None:
    """No index yet: the app builds it on opening, and a question asked while the passages are being
    embedded (the stand-in holds every batch) is answered at once from the build's partial index, by
    keywords, saying so on the status line and on the answer. When the index is complete the question
    is asked again, with a notice: nothing is re-ordered without saying so."""
    engine, model = held_engine(settings)
    messages: list[Message] = []
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, model.held.is_set)
        await wait_until(pilot, lambda: app.chat.status_line.state.startswith("indexing"))
        status = app.chat.status_line
        assert status.state == "indexing, 0% of passages embedded: answering from what is ready"
        assert (status.files, status.skipped, status.chunks) == (3, 0, 5), "counted from the build's notes"
        await ask(pilot, "lambda max memory")
        card = latest_card(app)
        assert card.response is not None and app.searcher is None
        building = card.response.building
        assert building is not None and (building.embedded, building.passages) == (0, 5)
        assert card.cards()[0].citation == "lambda.md:1-7", "found by its keywords"
        warning = text_of(card.query_one(".answer-building", Static))
        assert warning.startswith("Answered from an index still being built: 0 of 5 passages embedded (0%)")
        model.release.set()
        await wait_until(
            pilot, lambda: index_settled(app) and answered(app) and len(app.chat.log_view.answer_cards()) == 2
        )
        again = latest_card(app)
        assert again.response is not None and again.response.building is None
        assert again.cards()[0].citation == "lambda.md:1-7"
        assert any(text.startswith("The index is complete: asking") for text in notifications(app))
        assert kinds(messages) == ["RefreshStarted", "SearchFinished", "IndexReloaded", "SearchFinished"]
        assert app.chat.status_line.state == "ready"


async def test_a_stale_index_answers_at_once_and_the_refresh_brings_the_new_words(settings: Settings) -> None:
    """A note changed since the index was built: the app answers from the index on disk at once while it
    refreshes it in the background (Engine.load), and once the refresh is in, the new words answer."""
    indexed(settings)
    note = settings.corpus_dir / "lambda.md"
    note.write_text(NOTES["lambda.md"] + "\n## Quotas\n\nConcurrency quota: 1000 zanzibar units per region.\n")
    engine, model = held_engine(settings)
    messages: list[Message] = []
    app = chat_app(settings, engine)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(pilot, lambda: model.held.is_set() and app.searcher is not None)
        assert app.chat.status_line.state == "updating (notes 1 changed (lambda.md))"
        await ask(pilot, "zanzibar concurrency quota")
        assert not any("zanzibar" in card.hit.chunk.text for card in latest_card(app).cards()), "the index on disk"
        model.release.set()
        await wait_until(pilot, lambda: index_settled(app))
        await ask(pilot, "zanzibar concurrency quota")
        assert kinds(messages) == ["IndexOpened", "RefreshStarted", "SearchFinished", "IndexReloaded", "SearchFinished"]
        top = latest_card(app).cards()[0].hit
        assert top.chunk.file == "lambda.md" and "zanzibar" in top.chunk.text
