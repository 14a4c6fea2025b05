"""How long-running work (a build, opening an index) tells its caller what it is doing.

Pipeline code never prints (STYLE §9): it calls these, and each front end decides how to show them
(a progress bar on stderr, a line per stage, the chat app's status line).

A build's stages are named here, in words a user understands, so that every front end shows the
same ones and tests can look for them. A stage with a natural count (notes read, texts embedded)
reports `done` of `total` at least once a model batch; one without (the model export, writing the
index) reports `UNCOUNTED` while it runs and `(1, 1)` when it is done, and a front end shows it
running with its elapsed time.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total): a stage is a short phrase (one of the `*_STAGE` below)."""
Notify = Callable[[str], None]
"""Called with one line the user should read (a rebuild starting, a repair, a slow fallback)."""

UNCOUNTED = -1
"""`total` of a stage with no natural count while it runs: shown as running, with its elapsed time."""

EXPORT_SECONDS = 20
"""The one-time model export, measured: 28.9 s on 2 busy cores (AMD EPYC, load 3) and 25 s on a quiet
2-core Xeon (issue 25) with the SDPA export; 9.7–10 s on 2 quiet cores (AMD EPYC) with the eager one
(export revision 4). Said in the stage's name, so a user knows why it takes that long."""
EXPORT_STAGE = f"exporting the model for this machine (one time only, about {EXPORT_SECONDS} s)"
READING_STAGE = "reading and chunking notes"
PASSAGES_STAGE = "embedding passages"
LINES_STAGE = "embedding lines"
WRITING_STAGE = "writing the index"
BUILD_STAGES = (EXPORT_STAGE, READING_STAGE, PASSAGES_STAGE, LINES_STAGE, WRITING_STAGE)
"""Every stage a build reports, in the order it runs them (the export only when nothing is cached)."""


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def no_notify(message: str) -> None:
    return None
