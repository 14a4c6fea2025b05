"""Helpers for the tests of marks and eval runs: a folder of three notes, and `notes …` run in-process
with the engine given the fake model (as a user runs it, through `assistant.cli.main`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main
from assistant.engine import Engine
from tests import messy
from tests.conftest import FakeEmbedder

THREE_NOTES = {
    "kitchen.md": "# Kitchen\n\n## Bread\n\n- Sourdough needs a starter fed daily with flour and water\n"
    "- Rye bread bakes for fifty minutes\n\n## Coffee\n\nEspresso uses nine bars of pressure through fine grounds.\n",
    "garden.md": "# Garden\n\n## Tomatoes\n\nTomatoes want six hours of direct sunlight every day.\n\n"
    "## Compost\n\nTurn the compost heap weekly to keep it aerobic.\n",
    "bikes.md": "# Bikes\n\n## Tyres\n\nRoad tyres run at eighty to one hundred psi.\n\n"
    "## Chains\n\nLubricate the chain every three hundred kilometres.\n",
}
ANSWERED = {
    "how long does rye bread bake": ("kitchen.md", 6),
    "how much sunlight do tomatoes want": ("garden.md", 5),
    "what pressure do road tyres run at": ("bikes.md", 5),
}
"""Questions whose first result (hybrid, fake model) holds the line that answers them."""
UNANSWERED = "when was the bicycle invented"
LOWER_DOWN = "how often do I feed the starter"
"""Its answer (kitchen.md:5) is the third result in hybrid mode and the first in bm25."""


class Notes:
    """`notes …` in this process, on one notes folder and its own index, with the fake model."""

    def __init__(self, folder: Path, index: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.index = index
        self.capsys = capsys
        self.fake = FakeEmbedder()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """Run `notes ARGS --corpus FOLDER --index INDEX`: (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        argv = [*args, "--corpus", str(self.folder), "--index", str(self.index)]
        try:
            main(argv, make_engine=lambda settings: Engine(settings, embedder=self.fake, encoder=self.fake))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> dict[str, Any]:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)  # type: ignore[no-any-return]


def three_notes(root: Path) -> Path:
    return messy.write_notes(root, THREE_NOTES)


def notes_on_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Notes:
    """A folder of three notes, ready to ask (the model is the fake one, named so the index is fresh)."""
    monkeypatch.setenv("NOTES_MODEL", FakeEmbedder().name)
    monkeypatch.chdir(tmp_path)
    return Notes(three_notes(tmp_path / "notes"), tmp_path / "index", capsys)


def mark_the_three(notes: Notes) -> None:
    """Three answers marked with --mark 1, and one question marked as answered by none."""
    for question in ANSWERED:
        code, _out, err = notes("ask", question, "--mark", "1")
        assert code == 0, err
    code, _out, err = notes("ask", UNANSWERED, "--mark", "none")
    assert code == 0, err
