"""Note text is shown literally: markup stays text, escape sequences never reach the terminal."""

from __future__ import annotations

from pathlib import Path

from assistant.config import Settings
from assistant.notes.chunk import Chunk
from assistant.tui.app import NotesApp
from assistant.tui.screens.viewer import NoteViewer
from assistant.tui.widgets.hit_card import HitCard
from tests.tui.conftest import HOSTILE_NOTE, FakeBackend, FakeSearcher
from tests.tui.helpers import ask, screen_text, wait_until

LITERALS = ("[bold]x[/]", "[link=http://e]y[/link]", "\\x1b[31mred", "\\x1b]52;c;ZXZpbA==\\x07", "\\u202e")


def hostile_searcher(corpus: Path) -> FakeSearcher:
    lines = HOSTILE_NOTE.split("\n")
    chunks = []
    for name in ("hostile.md", "hostile.txt", "[bold]odd[/] \x1b[2J.md"):
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)  # "[/]" makes a folder
        (corpus / name).write_text(HOSTILE_NOTE, encoding="utf-8")
        chunks.append(Chunk(name, ("Hostile note", "[red]heading[/red]\x1b]0;t\x07"), 3, 4, "\n".join(lines[2:4])))
    return FakeSearcher(chunks)


def assert_safe(app: NotesApp) -> str:
    text = screen_text(app)
    svg = app.export_screenshot()
    for output in (text, svg):
        assert "\x1b" not in output
        assert "\x07" not in output
        assert "\u202e" not in output
    return text


async def test_hostile_note_renders_literally_everywhere(settings: Settings, corpus: Path) -> None:
    searcher = hostile_searcher(corpus)
    app = NotesApp(settings, FakeBackend(searcher), watch_notes=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await ask(pilot, "hostile markup [bold]x[/] \x1b[31m")
        cards = list(app.query(HitCard))
        assert [card.hit.chunk.file for card in cards] == ["hostile.md", "hostile.txt", "[bold]odd[/] \x1b[2J.md"]
        text = assert_safe(app)
        # Markdown body (expanded top card) and the collapsed previews both keep the brackets.
        assert text.count("[bold]x[/]") >= 2
        assert "[link=http://e]y[/link]" in text
        assert "\\x1b[31mred" in text and "\\u202e" in text
        assert "[red]heading[/red]\\x1b]0;t\\x07" in text
        assert "[bold]odd[/] \\x1b[2J.md:3-4" in text

        await pilot.press("tab", "tab")  # expand the plain-text card too
        await wait_until(pilot, lambda: cards[1].expanded)
        text = assert_safe(app)
        assert text.count("[link=http://e]y[/link]") >= 2

        await pilot.press("c")
        assert app.clipboard == "hostile.txt:3-4"

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteViewer))
        await pilot.pause()
        text = assert_safe(app)
        for literal in LITERALS:
            assert literal in text, literal


async def test_hostile_question_is_echoed_literally(settings: Settings, backend: FakeBackend) -> None:
    app = NotesApp(settings, backend, watch_notes=False)
    async with app.run_test(size=(120, 32)) as pilot:
        await ask(pilot, "[bold]lambda[/] [link=http://e]y[/link]")
        text = assert_safe(app)
        assert "❯ [bold]lambda[/] [link=http://e]y[/link]" in text


# Markup, escapes and entities inside bold, code and link spans: the preview renders the spans, and
# their text stays literal (entities decode to bidi controls after `inert`, so they are checked too).
STYLED_HOSTILE = (
    "- **[bold red]x[/] \x1b[31mbold** and `[@click=app.quit] code` and [link \u202egoes &#x202e;](http://e)\n"
    "- **entity &rlm;tail &#8238;** styled hostile words\n"
)


async def test_hostile_text_in_styled_spans(settings: Settings) -> None:
    chunks = [Chunk(name, ("Styled",), 1, 2, STYLED_HOSTILE.rstrip("\n")) for name in ("first.md", "styled.md")]
    app = NotesApp(settings, FakeBackend(FakeSearcher(chunks)), watch_notes=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await ask(pilot, "bold code link")
        cards = list(app.query(HitCard))
        assert cards[0].expanded and not cards[1].expanded
        text = assert_safe(app)
        expanded, preview = text.split("styled.md:1-2")
        assert "link \\u202egoes \\u202e" in expanded and "entity \\u200ftail \\u202e" in expanded
        assert "• [bold red]x[/] \\x1b[31mbold and [@click=app.quit] code and link \\u202egoes \\u202e" in preview
        assert "• entity \\u200ftail \\u202e styled hostile words" in preview
        assert "**" not in preview and "`" not in preview and "](http" not in preview
