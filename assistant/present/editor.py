"""Opening a passage in the user's editor, at its line: shared by `notes ask --open N` and the chat app's `o`.

Editors disagree on how to be told a line, so the argv is built per family, named by the command's
file name: vi/vim/nvim, nano, micro, emacs, kak and friends take `+LINE FILE`; helix (`hx`), Sublime
Text and Zed take `FILE:LINE`; VS Code and its forks take `-g FILE:LINE`. Any other editor gets the
file alone and `EditorCall.knows_line` says so, for the caller to tell the user where the passage is.
The editor command may carry its own flags ("code -w", "emacs -nw"); it is split as a shell would.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UsageProblem

PLUS_LINE = frozenset(
    {"vi", "vim", "nvim", "gvim", "mvim", "view", "vis", "nano", "pico", "micro", "emacs", "emacsclient", "kak"}
    | {"ne", "joe", "jed", "mg"}
)
FILE_COLON_LINE = frozenset({"hx", "helix", "subl", "sublime_text", "zed", "zeditor"})
GOTO_FLAG = frozenset({"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"})


@dataclass(frozen=True)
class EditorCall:
    """The argv that opens a file in an editor, and whether the editor was told the line."""

    argv: list[str]
    knows_line: bool


def choose_editor(configured: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The editor to use: the configured one (flag or config file), else $VISUAL, else $EDITOR."""
    env = os.environ if environ is None else environ
    for candidate in (configured, env.get("VISUAL"), env.get("EDITOR")):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def _split(editor: str) -> list[str]:
    try:
        words = shlex.split(editor)
    except ValueError as exc:
        raise UsageProblem(f"cannot read the editor command {editor!r}: {exc}") from exc
    if not words:
        raise UsageProblem("the editor command is empty", "set --editor, `editor` in the config file, or $EDITOR")
    return words


def editor_family(editor: str) -> str:
    """The editor's command name without folder or `.exe`: "/usr/bin/nvim" → "nvim"."""
    name = Path(_split(editor)[0]).name
    return name[:-4] if name.lower().endswith(".exe") else name


def editor_command(editor: str, path: Path, line: int) -> EditorCall:
    """The argv for an editor given as $EDITOR would be (it may carry flags: "code -w"). Raises UsageProblem."""
    words = _split(editor)
    family = editor_family(editor)
    line = max(1, line)
    if family in PLUS_LINE:
        return EditorCall([*words, f"+{line}", str(path)], True)
    if family in FILE_COLON_LINE:
        return EditorCall([*words, f"{path}:{line}"], True)
    if family in GOTO_FLAG:
        return EditorCall([*words, "-g", f"{path}:{line}"], True)
    return EditorCall([*words, str(path)], False)


def open_in_editor(call: EditorCall) -> int:
    """Run the editor and wait for it; its exit status. Raises OSError (not found, not executable)."""
    return subprocess.run(call.argv, check=False).returncode
