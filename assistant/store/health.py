"""Is the index usable, fresh, whole and fast? The checks behind `notes status`, each a problem with its fix.

Unlike opening an index for a question (a stat per file), these hash every file of the index, so
damage that kept a file's size and modification time is found too (about 0.4 s for the shipped
notes' index, most of it the model export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.store.freshness import check_freshness, mismatch
from assistant.store.generation import verify
from assistant.store.state import IndexState

if TYPE_CHECKING:
    from assistant.model.embed import QueryEncoder


@dataclass(frozen=True)
class Problem:
    """Something that stops the index answering well, and the one command or change that fixes it."""

    what: str
    fix: str
    kind: str = "stale"
    """Which state it puts the index in, worst first: "no notes", "unusable", "missing", "damaged",
    "stale", "slow" (`Engine.status` reports the worst as one word)."""


def check_notes_folder(settings: Settings, state: IndexState) -> list[Problem]:
    from assistant.notes.ingest import require_corpus

    try:
        require_corpus(settings.corpus_dir)
    except AssistantError as exc:
        return [
            Problem(exc.message, "pass --corpus DIR, set NOTES_CORPUS, or set `corpus` in the config file", "no notes")
        ]
    return []


def check_freshness_of(settings: Settings, state: IndexState) -> list[Problem]:
    if not settings.corpus_dir.is_dir():
        return []  # said by check_notes_folder
    try:
        fresh = check_freshness(state, settings.corpus_dir, settings.model)
    except AssistantError as exc:
        return [Problem(exc.message, exc.hint or "notes index --rebuild", "unusable")]
    if fresh.missing:
        return [Problem(f"no index yet in {settings.index_dir}", "notes index", "missing")]
    if fresh.other_corpus:
        refused = mismatch(settings.index_dir, settings.corpus_dir, fresh.other_corpus)
        return [Problem(refused.message, refused.hint or "notes index --rebuild", "unusable")]
    if fresh.reason:
        return [Problem(f"the index cannot be used: {fresh.reason}", "notes index --rebuild", "unusable")]
    if not fresh.fresh:
        return [Problem(f"the index is out of date: {fresh.describe()}", "notes index")]
    return []


def check_damage(state: IndexState, *, full: bool) -> list[Problem]:
    """The index's files against the manifest: every file hashed (`full`), or sizes and times."""
    generation, manifest = state.generation, state.manifest
    if manifest is None or generation is None:
        return []
    damaged = verify(generation, manifest, full=True) if full else state.damaged()
    if not damaged:
        return []
    listed = ", ".join(damaged[:3]) + (", …" if len(damaged) > 3 else "")
    return [Problem(f"the index is damaged: {listed} changed since it was built", "notes index --rebuild", "damaged")]


def check_query_path(settings: Settings, state: IndexState, encoder: QueryEncoder | None = None) -> list[Problem]:
    """Would a question take sentence-transformers' slow path (no usable model export)? Opens the
    index as a question would, so the answer comes from the one place that chooses the encoder
    (`store.open.default_encoder`, which starts an onnxruntime session on the export: about 0.1 s)."""
    from assistant.store.open import open_index

    if state.manifest is None:
        return []
    try:
        slow = open_index(state, encoder, model=settings.model).slow_path
    except AssistantError:
        return []  # damaged or unreadable: check_damage and check_freshness_of say so
    return [Problem(slow, "notes index --rebuild", "slow")] if slow else []


SEVERITY = ("no notes", "unusable", "missing", "damaged", "stale", "slow")
"""Problem kinds, worst first."""


def worst(problems: list[Problem]) -> str:
    """The one word for the index's state: its worst problem's kind, "ready" without any."""
    kinds = {problem.kind for problem in problems}
    return next((kind for kind in SEVERITY if kind in kinds), "ready")


def index_problems(
    settings: Settings, state: IndexState, *, full: bool = True, encoder: QueryEncoder | None = None
) -> list[Problem]:
    """Every problem found, each with its fix: the notes folder, freshness, damage, and (with `full`)
    the way questions would be embedded."""
    problems = check_notes_folder(settings, state) + check_freshness_of(settings, state)
    problems += check_damage(state, full=full)
    if full:
        problems += check_query_path(settings, state, encoder)
    return problems


def index_summary(state: IndexState) -> list[str]:
    """What the current index holds and how it was made, a line each (none when there is no readable one)."""
    from assistant.machine import summary

    manifest = state.manifest
    if manifest is None:
        return []
    path = manifest.embedding.get("path", "?")
    skipped = f", {len(manifest.skipped)} skipped" if manifest.skipped else ""
    return [
        f"index holds {len(manifest.files)} files{skipped}, {manifest.chunk_count} chunks ({manifest.index_type}, "
        f"model {manifest.model.name}, built {manifest.built_at}) from {manifest.corpus}",
        f"notes embedded with {path} on {summary(manifest.machine) if manifest.machine else '?'}",
    ]
