"""Shown instead of the chat when there is no notes folder: what was looked for, and the three ways
to point the app at notes. A screen, not a toast, since nothing else can be done until it is fixed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from assistant.present.render import inert


def ways_to_point(config_file: str) -> list[tuple[str, Content]]:
    """The ways to choose a notes folder, most to least temporary: when each lasts, and what to do.

    Shown as a two-column grid, when before what: the short column is fixed, so each "this time" stays
    on its command's line at any width. The config file's path has a line of its own under its setting, so
    no width leaves a lone word at a line's end; a long path wraps within the command's column."""
    return [
        ("this time", Content.styled("notes --corpus ~/notes", "bold")),
        ("in this shell", Content.styled("export NOTES_CORPUS=~/notes", "bold")),
        ("from now on", Content.assemble(('corpus = "~/notes"', "bold"), "  in the config file\n", config_file)),
    ]


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
        searched = "Notes Assistant searches a folder of notes (.md, .markdown, .txt)."
        with Vertical(id="no-notes-dialog"):
            yield Static(Content(f"No notes to search: {inert(self.problem)}"), id="no-notes-title")
            yield Static(Content(f"{searched}\nIt looked in {inert(self.folder)}"), id="no-notes-folder")
            yield Static(Content("Point it at your notes in one of these ways:"))
            with Grid(id="no-notes-ways"):
                for when, command in ways_to_point(inert(self.config_file)):
                    yield Static(Content(when), classes="no-notes-when")
                    yield Static(command, classes="no-notes-command")
            yield Static(Content("Then press r to look again, or q to quit."))
        yield Footer()
