"""The help screen (`?` in an empty question box, or F1): what each key does."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "ask the question in the box"),
    ("↑ / ↓", "earlier questions, also from past runs (in the box)"),
    ("Tab / Shift+Tab", "next / previous result card"),
    ("j / k", "next / previous result card (outside the box)"),
    ("Esc", "back to the question box"),
    ("Enter / Space", "keep the selected card open"),
    ("o", "open the passage at its line in your editor (or viewer)"),
    ("c", "copy the answer as path:LINE, openable from where you started notes"),
    ("C", "copy the passage's text"),
    ("m / M", "mark the card as the answer / none of them (for notes eval)"),
    ("f / F", "answer from one note (type to filter) / all notes"),
    ("Ctrl+L", "clear the conversation"),
    ("Ctrl+P", "commands: re-index, search mode, number of results"),
    ("? / F1", "this help (? from an empty question box)"),
    ("Ctrl+Q", "quit"),
)

ABOUT = (
    "Answers are passages of your own notes, ranked; nothing is generated. The highlighted lines of a "
    "card are the ones that answer; `o` opens your editor there. A short follow-up "
    '("and the timeout?", "what about pricing") is searched together with the question before it; '
    "the card shows what was searched. Saving a note re-indexes it in the background."
)
SCORE = (
    "The bar and number on a card: how close in meaning the passage is to your question, the cosine "
    "similarity of the two (or of the question and the passage's closest line), up to 1; unrelated "
    'text scores below about 0.25. "No strong match" names the same number: even the closest passage '
    "is under 0.30, or the keyword and meaning searches disagree. In keywords-only mode the number is the "
    "BM25 score and the bar compares it with the top result's."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss_help", "Close")]

    def __init__(self, keys: Sequence[tuple[str, str]] = KEYS) -> None:
        super().__init__(classes="help-screen")
        self.keys = tuple(keys)

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in self.keys) + 2
        rows = [Content.assemble((key.ljust(width), "bold"), what) for key, what in self.keys]
        with Vertical(id="help-dialog"):
            yield Static(Content("Notes Assistant — keys"), id="help-title")
            yield Static(Content("\n").join(rows), id="help-keys")
            yield Static(Content(ABOUT), id="help-about")
            yield Static(Content(SCORE), id="help-score")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
