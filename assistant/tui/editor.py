"""Opening a passage in the user's editor: `$EDITOR +LINE FILE` (vi, vim, nano, emacs, micro, kak, helix
all take `+LINE`). The app suspends itself around the call."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path


def editor_command(editor: str, path: Path, line: int) -> list[str]:
    """The argv for an editor given as $EDITOR (which may carry its own flags: "code -w")."""
    return [*shlex.split(editor), f"+{max(1, line)}", str(path)]


def open_in_editor(editor: str, path: Path, line: int) -> int:
    """Run the editor on the file at the line and wait for it; its exit status. Raises OSError."""
    return subprocess.run(editor_command(editor, path, line), check=False).returncode
