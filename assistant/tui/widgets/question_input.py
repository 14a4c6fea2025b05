"""The question box: Enter asks, Up/Down recall earlier questions, `?` in an empty box asks for help."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from assistant.tui.history import History

PLACEHOLDER = "Ask your notes…  (Enter asks · ↑/↓ earlier questions · Tab to the results)"


class QuestionInput(Input):
    """An Input with shell-like recall of earlier questions."""

    BINDINGS = [
        Binding("up", "recall_back", "Earlier question", show=False),
        Binding("down", "recall_forward", "Later question", show=False),
    ]

    class HelpRequested(Message):
        """`?` was typed into the empty box: the user wants the keys, not a question mark."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=PLACEHOLDER, id=id)
        self.history = History()

    async def _on_key(self, event: events.Key) -> None:
        # Only when empty: a question may well end in "?", and one typed mid-question must stay text.
        if event.character == "?" and not self.value:
            event.stop()
            event.prevent_default()  # Input's own handler would insert it
            self.post_message(self.HelpRequested())

    def remember(self, text: str) -> None:
        self.history.add(text)

    def action_recall_back(self) -> None:
        recalled = self.history.back(self.value)
        if recalled is not None:
            self._show(recalled)

    def action_recall_forward(self) -> None:
        recalled = self.history.forward()
        if recalled is not None:
            self._show(recalled)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
