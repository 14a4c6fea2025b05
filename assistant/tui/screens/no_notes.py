"""Shown instead of the chat when there is no notes folder: what was looked for, and the three ways
to point the app at notes. A screen, not a toast, since nothing else can be done until it is fixed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from assistant.present.render import inert


def how_to_point(folder: str, config_file: str) -> Content:
    """The ways to choose a notes folder, most to least temporary."""
    rows = (
        ("notes --corpus ~/notes", "this time"),
        ("export NOTES_CORPUS=~/notes", "in this shell"),
        (f'corpus = "~/notes"   in {config_file}', "from now on"),
    )
    width = max(len(command) for command, _ in rows) + 3
    lines = [Content.assemble((command.ljust(width), "bold"), (when, "italic")) for command, when in rows]
    return Content("\n").join(
        [
            Content(f"Notes Assistant searches a folder of notes (.md, .markdown, .txt). It looked in\n  {folder}"),
            Content(""),
            Content("Point it at your notes in one of these ways:"),
            *[Content("  ") + line for line in lines],
            Content(""),
            Content("Then press r to look again, or q to quit."),
        ]
    )


class NoNotesScreen(Screen[None]):
    """There are no notes to search: say what was looked for and how to fix it."""

    BINDINGS = [
        Binding("r", "app.look_again", "Look again"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self, problem: str, folder: str, config_file: str) -> None:
        super().__init__(classes="no-notes")
        self.problem = problem
        self.folder = folder
        self.config_file = config_file

    def compose(self) -> ComposeResult:
        with Vertical(id="no-notes-dialog"):
            yield Static(Content(f"No notes to search: {inert(self.problem)}"), id="no-notes-title")
            yield Static(how_to_point(inert(self.folder), inert(self.config_file)), id="no-notes-help")
        yield Footer()
