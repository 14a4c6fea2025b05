"""How long a build's running stage has taken and about how long it has left, as the chat app shows it.

`notes index` gets these from rich's progress columns (cli/common.py); the chat app has no such
columns, so its progress row asks a `StageClock`, which it updates on every progress message and
reads once a second (a stage with no count, such as the model export, sends no message while it
runs, and its clock must still move). The remaining time is the stage's own average rate so far,
not the last batch's: an estimate that jumps with each batch reads as noise, and the build embeds
its batches in an order that keeps that average true (store/vectors.py `_evenly`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.reporting import EXPORT_SECONDS, EXPORT_STAGE, UNCOUNTED

STEADY_AFTER_S = 2.0
"""No remaining time is said before a stage has run this long: its first batch says little of its rate."""


def clock(seconds: float) -> str:
    """Seconds as m:ss (h:mm:ss from an hour)."""
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


@dataclass
class StageClock:
    """The clock of the stage a build is in: reset when the stage changes, read as text."""

    now: Callable[[], float] = time.monotonic
    stage: str | None = None
    started: float = 0.0
    done: int = 0
    total: int = UNCOUNTED

    def update(self, stage: str, done: int = 0, total: int = UNCOUNTED) -> None:
        """A progress report: `done` of `total` in `stage` (`total` UNCOUNTED: a stage with no count)."""
        if stage != self.stage:
            self.stage, self.started = stage, self.now()
        self.done, self.total = done, total

    def text(self) -> str:
        """ "0:31 elapsed, about 1:10 left"; elapsed alone until the rate can be told (or for a stage
        with no count, other than the export, whose usual time is known)."""
        elapsed = max(0.0, self.now() - self.started)
        left: float | None = None
        if self.total > 0 and 0 < self.done < self.total and elapsed >= STEADY_AFTER_S:
            left = (self.total - self.done) * elapsed / self.done
        elif self.stage == EXPORT_STAGE and elapsed < EXPORT_SECONDS:
            left = EXPORT_SECONDS - elapsed
        said = f"{clock(elapsed)} elapsed"
        return said if left is None else f"{said}, about {clock(left)} left"
