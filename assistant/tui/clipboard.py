"""Copying a citation where the user can paste it.

OSC 52 (the terminal copies what the app sends it) is unreliable: tmux drops it unless
`set-clipboard` is on, and many terminals ignore it without saying so. So a system clipboard tool is
tried first (wl-copy on Wayland, xclip or xsel on X11, pbcopy on macOS, clip.exe on Windows and WSL);
OSC 52 is only the fallback, and `osc52_blocked` says when it is known not to arrive, so the app can
say plainly that nothing was copied instead of claiming it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping

TOOLS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("wl-copy",), "WAYLAND_DISPLAY"),
    (("xclip", "-selection", "clipboard"), "DISPLAY"),
    (("xsel", "--clipboard", "--input"), "DISPLAY"),
    (("pbcopy",), None),
    (("clip.exe",), None),
)
"""Each tool's argv (text on stdin) and the variable its display server needs, if any."""
TOOL_NAMES = ", ".join(argv[0] for argv, _ in TOOLS)

Which = Callable[[str], str | None]


def copy_with_tool(text: str, environ: Mapping[str, str] | None = None, which: Which = shutil.which) -> str | None:
    """Copy with the first clipboard tool that works here; its name, or None when none did."""
    env = os.environ if environ is None else environ
    for argv, display in TOOLS:
        if display is not None and not env.get(display):
            continue
        program = which(argv[0])
        if program is None:
            continue
        try:
            # The X11 tools fork a child that keeps serving the selection: it must not hold our pipes.
            result = subprocess.run(
                [program, *argv[1:]],
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=3,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0:
            return argv[0]
    return None


def osc52_blocked(environ: Mapping[str, str] | None = None, which: Which = shutil.which) -> str | None:
    """Why an OSC 52 copy will not reach the clipboard, when that is known; None when it may."""
    env = os.environ if environ is None else environ
    if env.get("TMUX"):
        tmux = which("tmux")
        if tmux is None:
            return None
        try:
            shown = subprocess.run(
                [tmux, "show-options", "-gv", "set-clipboard"],
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if shown.returncode == 0 and shown.stdout.strip() == "off":
            return "tmux's set-clipboard is off"
    return None
