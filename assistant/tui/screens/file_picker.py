"""Pick one note to restrict answers to (`f`): type to filter, Up/Down to move, Enter to choose."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from assistant.present.render import inert


def filter_notes(files: Sequence[str], text: str) -> list[str]:
    """The notes whose path holds every word typed, in any case and order ("vpc end" → vpc-endpoints.md)."""
    words = text.lower().split()
    return [name for name in files if all(word in name.lower() for word in words)]


class FilePicker(ModalScreen[str | None]):
    """A filterable list of the indexed notes; dismisses with the chosen path, or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, files: Sequence[str], current: str | None = None) -> None:
        super().__init__(classes="file-picker")
        self.files = list(files)
        self.current = current
        self.shown = list(self.files)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static(Content("Answer only from one note (type to filter · Enter · Esc)"), id="picker-title")
            yield Input(placeholder="filter: words of the note's path", id="picker-filter")
            yield OptionList(id="picker-list")

    @property
    def option_list(self) -> OptionList:
        return self.query_one(OptionList)

    def on_mount(self) -> None:
        self._show("")
        if self.current in self.shown:
            self.option_list.highlighted = self.shown.index(self.current)
        self.query_one(Input).focus()

    @on(Input.Changed, "#picker-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, text: str) -> None:
        self.shown = filter_notes(self.files, text)
        option_list = self.option_list
        option_list.clear_options()
        if self.shown:
            option_list.add_options(
                Option(Content(inert(name)), id=str(index)) for index, name in enumerate(self.shown)
            )
            option_list.highlighted = 0
        else:
            option_list.add_option(Option(Content("no note matches"), id="none", disabled=True))

    def action_move(self, step: int) -> None:
        if step > 0:
            self.option_list.action_cursor_down()
        else:
            self.option_list.action_cursor_up()

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        highlighted = self.option_list.highlighted
        if self.shown and highlighted is not None:
            self.dismiss(self.shown[highlighted])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id not in (None, "none"):
            self.dismiss(self.shown[int(event.option.id)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
