"""Is the index usable, fresh, whole and fast? The checks behind `notes status`, each a problem with its fix.

Unlike opening an index for a question (a stat per file), these hash every file of the index, so
damage that kept a file's size and modification time is found too (about 0.4 s for the shipped
notes' index, most of it the model export).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.store.freshness import check_freshness, mismatch
from assistant.store.generation import current_generation, verify
from assistant.store.manifest import Manifest, read_manifest


@dataclass(frozen=True)
class Problem:
    """Something that stops the index answering well, and the one command or change that fixes it."""

    what: str
    fix: str


def check_notes_folder(settings: Settings) -> list[Problem]:
    from assistant.notes.ingest import require_corpus

    try:
        require_corpus(settings.corpus_dir)
    except AssistantError as exc:
        return [Problem(exc.message, "pass --corpus DIR, set NOTES_CORPUS, or set `corpus` in the config file")]
    return []


def check_freshness_of(settings: Settings) -> list[Problem]:
    if not settings.corpus_dir.is_dir():
        return []  # said by check_notes_folder
    try:
        state = check_freshness(settings.index_dir, settings.corpus_dir, settings.model)
    except AssistantError as exc:
        return [Problem(exc.message, exc.hint or "notes index --rebuild")]
    if state.missing:
        return [Problem(f"no index yet in {settings.index_dir}", "notes index")]
    if state.other_corpus:
        refused = mismatch(settings.index_dir, settings.corpus_dir, state.other_corpus)
        return [Problem(refused.message, refused.hint or "notes index --rebuild")]
    if state.reason:
        return [Problem(f"the index cannot be used: {state.reason}", "notes index --rebuild")]
    if not state.fresh:
        return [Problem(f"the index is out of date: {state.describe()}", "notes index")]
    return []


def check_damage(settings: Settings) -> list[Problem]:
    """Every file of the index hashed against the manifest."""
    manifest, generation = _current(settings)
    if manifest is None or generation is None:
        return []
    damaged = verify(generation, manifest, full=True)
    if not damaged:
        return []
    listed = ", ".join(damaged[:3]) + (", …" if len(damaged) > 3 else "")
    return [Problem(f"the index is damaged: {listed} changed since it was built", "notes index --rebuild")]


def check_query_path(settings: Settings) -> list[Problem]:
    """Would a question take sentence-transformers' slow path (no usable model export)? Opens the
    index as a question would, so the answer comes from the one place that chooses the encoder
    (`open_index.default_encoder`, which starts an onnxruntime session on the export: about 0.1 s)."""
    from assistant.store.open import open_index

    manifest, _generation = _current(settings)
    if manifest is None:
        return []
    try:
        slow = open_index(settings.index_dir, model=settings.model).slow_path
    except AssistantError:
        return []  # damaged or unreadable: check_damage and check_freshness_of say so
    return [Problem(slow, "notes index --rebuild")] if slow else []


CHECKS: list[Callable[[Settings], list[Problem]]] = [
    check_notes_folder,
    check_freshness_of,
    check_damage,
    check_query_path,
]
"""Each returns the problems it finds; `notes status` shows them all and exits 1 if there is any."""


def index_problems(settings: Settings) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(settings)]


def index_summary(settings: Settings) -> list[str]:
    """What the current index holds and how it was made, a line each (none when there is no readable one)."""
    from assistant.machine import summary

    manifest, _generation = _current(settings)
    if manifest is None:
        return []
    path = manifest.embedding.get("path", "?")
    return [
        f"index holds {len(manifest.files)} files, {manifest.chunk_count} chunks ({manifest.index_type}, "
        f"model {manifest.model.name}, built {manifest.built_at}) from {manifest.corpus}",
        f"notes embedded with {path} on {summary(manifest.machine) if manifest.machine else '?'}",
    ]


def _current(settings: Settings) -> tuple[Manifest | None, Path | None]:
    try:
        generation = current_generation(settings.index_dir)
        if generation is None:
            return None, None
        return read_manifest(generation), generation
    except AssistantError:
        return None, None  # check_freshness_of reports it
