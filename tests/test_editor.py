"""Opening a passage at its line: the argv per editor family, and which editor is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import UsageProblem
from assistant.present.editor import choose_editor, editor_command, editor_family

NOTE = Path("/notes/vpc endpoints.md")


@pytest.mark.parametrize(
    ("editor", "argv"),
    [
        ("vi", ["vi", "+42", str(NOTE)]),
        ("vim", ["vim", "+42", str(NOTE)]),
        ("/usr/bin/nvim --clean", ["/usr/bin/nvim", "--clean", "+42", str(NOTE)]),
        ("nano", ["nano", "+42", str(NOTE)]),
        ("micro", ["micro", "+42", str(NOTE)]),
        ("emacs -nw", ["emacs", "-nw", "+42", str(NOTE)]),
        ("emacsclient -t", ["emacsclient", "-t", "+42", str(NOTE)]),
        ("hx", ["hx", f"{NOTE}:42"]),
        ("subl -w", ["subl", "-w", f"{NOTE}:42"]),
        ("code", ["code", "-g", f"{NOTE}:42"]),
        ("code --wait", ["code", "--wait", "-g", f"{NOTE}:42"]),
        ("codium", ["codium", "-g", f"{NOTE}:42"]),
        ("'/opt/My Editors/code.exe'", ["/opt/My Editors/code.exe", "-g", f"{NOTE}:42"]),
    ],
)
def test_each_editor_is_told_the_line_its_way(editor: str, argv: list[str]) -> None:
    call = editor_command(editor, NOTE, 42)
    assert call.argv == argv and call.knows_line


def test_an_unknown_editor_gets_the_file_and_says_it_cannot_take_a_line() -> None:
    call = editor_command("ed -p:", NOTE, 42)
    assert call.argv == ["ed", "-p:", str(NOTE)] and not call.knows_line
    assert editor_family("ed -p:") == "ed"


def test_line_is_at_least_one() -> None:
    assert editor_command("vim", NOTE, 0).argv == ["vim", "+1", str(NOTE)]


@pytest.mark.parametrize("editor", ["", "   ", "vim 'unclosed"])
def test_an_unusable_editor_command_is_a_usage_problem(editor: str) -> None:
    with pytest.raises(UsageProblem):
        editor_command(editor, NOTE, 1)


def test_choose_editor_order() -> None:
    assert choose_editor("hx", {"VISUAL": "vim", "EDITOR": "nano"}) == "hx"
    assert choose_editor(None, {"VISUAL": "vim", "EDITOR": "nano"}) == "vim"
    assert choose_editor(None, {"VISUAL": " ", "EDITOR": "nano"}) == "nano"
    assert choose_editor(None, {}) is None
