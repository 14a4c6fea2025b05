"""Pick one note to restrict answers to (`f`)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from assistant.present import inert


class FilePicker(ModalScreen[str | None]):
    """A list of the indexed notes; dismisses with the chosen path, or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, files: Sequence[str], current: str | None = None) -> None:
        super().__init__(classes="file-picker")
        self.files = list(files)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static(Content("Answer only from this note (Enter chooses, Esc cancels)"), id="picker-title")
            options = [Option(Content(inert(name)), id=str(index)) for index, name in enumerate(self.files)]
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        if self.current in self.files:
            option_list.highlighted = self.files.index(self.current)
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.files[int(event.option.id or 0)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
