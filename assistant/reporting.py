"""How long-running work (a build, opening an index) tells its caller what it is doing.

Pipeline code never prints (STYLE §9): it calls these, and each front end decides how to show them
(a progress bar on stderr, a line per stage, the chat app's status line).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total): a stage is a short phrase ("embedding lines")."""
Notify = Callable[[str], None]
"""Called with one line the user should read (a rebuild starting, a repair, a slow fallback)."""


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def no_notify(message: str) -> None:
    return None
