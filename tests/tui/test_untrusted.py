"""Note text is shown literally: markup stays text, escape sequences never reach the terminal.

The hostile notes are indexed and searched by the real engine, so what reaches the screen is what the
chunker, the searcher and the answer lines make of them, not a hand-made passage.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from assistant.config import Settings
from assistant.engine import Engine
from assistant.present.render import openable_path
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, chat_app, indexed
from tests.tui.helpers import ask, screen_text, wait_until

HOSTILE_NOTE = (
    "# Hostile note\n"
    "\n"
    "## [red]heading[/red]\x1b]0;t\x07\n"
    "\n"
    "Markup [bold]x[/] and [link=http://e]y[/link] stays literal for the hostile test.\n"
    "Colour \x1b[31mred\x1b[0m, title \x1b]0;title\x07, clipboard \x1b]52;c;ZXZpbA==\x07, "
    "reversed \u202eesrever hostile.\n"
)
HOSTILE_NAMES = ("hostile.md", "hostile.txt", "[bold]odd[/] \x1b[2J.md")  # "[/]" makes a folder
LITERALS = ("[bold]x[/]", "[link=http://e]y[/link]", "\\x1b[31mred", "\\x1b]52;c;ZXZpbA==\\x07", "\\u202e")


def notes_engine(tmp_path: Path, notes: dict[str, str]) -> tuple[Settings, Engine]:
    corpus = write_notes(tmp_path / "corpus", notes)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)
    return settings, indexed(settings)


def assert_safe(app: App[None]) -> str:
    text = screen_text(app)
    svg = app.export_screenshot()
    for output in (text, svg):
        assert "\x1b" not in output
        assert "\x07" not in output
        assert "\u202e" not in output
    return text


async def test_hostile_note_renders_literally_everywhere(tmp_path: Path) -> None:
    settings, engine = notes_engine(tmp_path, dict.fromkeys(HOSTILE_NAMES, HOSTILE_NOTE))
    app = chat_app(settings, engine)
    async with app.run_test(size=(160, 50)) as pilot:
        await ask(pilot, "hostile markup [bold]x[/] \x1b[31m")
        cards = list(app.query(HitCard))
        assert sorted(card.hit.chunk.file for card in cards) == sorted(HOSTILE_NAMES)
        text = assert_safe(app)
        # Markdown body (expanded top card) and the collapsed previews both keep the brackets.
        assert text.count("[bold]x[/]") >= 2
        assert "[link=http://e]y[/link]" in text
        assert "\\x1b[31mred" in text and "\\u202e" in text
        assert "[red]heading[/red]\\x1b]0;t\\x07" in text
        assert "[bold]odd[/] \\x1b[2J.md:1-6" in text

        plain = next(card for card in cards if card.hit.chunk.file == "hostile.txt")
        while app.focused is not plain:  # select (and expand) the plain-text card too
            await pilot.press("tab")
        await wait_until(pilot, lambda: plain.expanded)
        text = assert_safe(app)
        assert text.count("[link=http://e]y[/link]") >= 2

        await pilot.press("c")
        copied = f"{openable_path(app.settings.corpus_dir, plain.hit.chunk.file)}:{plain.hit.answer.start_line}"
        assert app.clipboard == copied and copied.endswith("hostile.txt:5")

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        await pilot.pause()
        text = assert_safe(app)
        for literal in LITERALS:
            assert literal in text, literal


async def test_hostile_question_is_echoed_literally(settings: Settings, engine: Engine) -> None:
    app = chat_app(settings, engine)
    async with app.run_test(size=(120, 32)) as pilot:
        await ask(pilot, "[bold]lambda[/] [link=http://e]y[/link]")
        text = assert_safe(app)
        assert "❯ [bold]lambda[/] [link=http://e]y[/link]" in text


# Markup, escapes and entities inside bold, code and link spans: the preview renders the spans, and
# their text stays literal (entities decode to bidi controls after `inert`, so they are checked too).
STYLED_HOSTILE = (
    "# Styled\n\n"
    "- **[bold red]x[/] \x1b[31mbold** and `[@click=app.quit] code` and [link \u202egoes &#x202e;](http://e)\n"
    "- **entity &rlm;tail &#8238;** styled hostile words\n"
)


async def test_hostile_text_in_styled_spans(tmp_path: Path) -> None:
    settings, engine = notes_engine(tmp_path, dict.fromkeys(("first.md", "styled.md"), STYLED_HOSTILE))
    app = chat_app(settings, engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await ask(pilot, "bold code link")
        cards = list(app.query(HitCard))
        assert cards[0].expanded and not cards[1].expanded
        text = assert_safe(app)
        expanded, preview = text.split(cards[1].citation)
        assert "link \\u202egoes \\u202e" in expanded and "entity \\u200ftail \\u202e" in expanded
        assert "• [bold red]x[/] \\x1b[31mbold and [@click=app.quit] code and link \\u202egoes \\u202e" in preview
        assert "• entity \\u200ftail \\u202e styled hostile words" in preview
        assert "**" not in preview and "`" not in preview and "](http" not in preview
