"""About how long a full build of a notes folder takes, from the size of its notes, said before it starts.

Why: a first `notes ask` on a folder of 400 notes builds for minutes; a user told "about 5 min" can
decide to wait, where one shown nothing thinks it hung. The estimate needs nothing but the files'
sizes (no reading, no model): the embedding that takes nearly all of a build's time grows with the
text, and bytes of notes are a fair measure of text.

The rate, measured with the model export cached (`notes index --rebuild`, whole build, 2 cores):

| notes | bytes | seconds | bytes a second | machine |
|---|---|---|---|---|
| `corpus/` (5 files) | 348,546 | 46.1 | 7,560 | AMD EPYC, AVX-512 VNNI, busy (load 5) |
| `corpus/` | 348,546 | 28.4 | 12,270 | same, quiet (docs/speed.md, issue 21) |
| aws-notes-external (408 files) | 3,085,489 | 325 | 9,490 | Intel Xeon, AVX-512, quiet (issue 25) |
| aws-notes-external | 3,085,489 | 197–351 | 8,790–15,660 | AMD EPYC, busy (docs/speed.md) |
| *after issue 25's speed-ups:* `corpus/` | 348,546 | 14.5 | 24,040 | AMD EPYC, quiet (`notes bench`) |
| aws-notes-external | 3,085,489 | 143 | 21,580 | AMD EPYC, quiet (`notes bench --folder`) |
| aws-notes-external | 3,085,489 | 267–447 | 6,900–11,560 | AMD EPYC, busy (load 3–7) |

`BYTES_PER_SECOND` is between the quiet and the busy rates of today's build (an estimate a little
long is better than one that runs out); the embedding runs one model session per core (up to
embed.DOCUMENT_WORKERS), so more cores are taken to scale it. A faster build needs it measured again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings, resolve_model_path
from assistant.model.embed import DOCUMENT_WORKERS
from assistant.model.encoder_cache import cached_encoder
from assistant.notes.ingest import discover
from assistant.reporting import EXPORT_SECONDS
from assistant.store.freshness import check_freshness
from assistant.store.state import IndexState

BYTES_PER_SECOND = 15_000
"""Bytes of notes a full build gets through a second on 2 cores, export cached (table above)."""
MEASURED_CORES = 2


@dataclass(frozen=True)
class BuildEstimate:
    """A full build's size and expected time on this machine."""

    notes: int
    size: int
    """Bytes of the notes."""
    seconds: float
    export: bool
    """The one-time model export is part of it (nothing cached on this machine yet)."""

    def describe(self) -> str:
        """ "about 3 min", "about 40 s": rounded, as an estimate should be."""
        return f"about {round_duration(self.seconds)}"

    def first_build(self, corpus: Path) -> str:
        """What a question asked of a folder with no index says before the build it waits for."""
        size = f", {self.size / 1e6:.1f} MB" if self.size >= 100_000 else ""
        export = ", the one-time model export included" if self.export else ""
        return (
            f"no index yet for {corpus} ({self.notes} notes{size}): indexing it first, "
            f"{self.describe()} on this machine{export} …"
        )


@dataclass(frozen=True)
class BuildPlan:
    """What a build started now would do, in the word a user reads: "Indexing" (no index yet),
    "Rebuilding" (everything again: asked, or the index cannot serve these notes) or "Updating"
    (only what changed), and about how long a full build takes."""

    verb: str
    estimate: BuildEstimate

    @property
    def full(self) -> bool:
        return self.verb != "Updating"


def plan_build(settings: Settings, state: IndexState, *, rebuild: bool, model_given: bool) -> BuildPlan:
    """The plan of a build of the settings' notes into `state`'s index (`model_given`: the engine
    was handed its embedder, so nothing is exported)."""
    if state.too_new or state.problem is not None:
        verb = "Rebuilding"  # (a newer format is refused by the build itself, with its reason)
    else:
        fresh = check_freshness(state, settings.corpus_dir, settings.model)
        rebuild = rebuild or bool(fresh.reason or fresh.other_corpus)
        verb = "Indexing" if fresh.missing else "Rebuilding" if rebuild else "Updating"
    export = not model_given and cached_encoder(resolve_model_path(settings.model)) is None
    return BuildPlan(verb, estimate_build(settings.corpus_dir, export=export))


def estimate_build(corpus_dir: Path, *, export: bool) -> BuildEstimate:
    """The expected time of a full build of corpus_dir, from its notes' sizes (`BYTES_PER_SECOND`)."""
    sources, _problems = discover(corpus_dir)
    size = 0
    for source in sources:
        try:
            size += source.absolute.stat().st_size
        except OSError:
            continue
    workers = max(1, min(_cores(), DOCUMENT_WORKERS))
    seconds = 1.0 + size / (BYTES_PER_SECOND * workers / MEASURED_CORES)
    return BuildEstimate(len(sources), size, seconds + (EXPORT_SECONDS if export else 0), export)


def round_duration(seconds: float) -> str:
    """A duration as a person would say it: "5 s", "40 s", "3 min", "1 h 10 min"."""
    if seconds < 10:
        return f"{max(1, round(seconds))} s"
    if seconds < 90:
        return f"{round(seconds / 5) * 5} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1
