"""`notes status`: the settings in force and where each came from, what the index holds, and its
health: a list of problems, each with the one command or change that fixes it. Exit 0 when there is
none, 1 otherwise, so scripts can ask "is my index usable and fresh?".

A check is a function of the settings that returns problems; add one to CHECKS to report more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from assistant.cli.common import location_options, resolve
from assistant.config import Resolved, Settings, display_path
from assistant.errors import AssistantError


@dataclass(frozen=True)
class Problem:
    """Something that stops the index answering well, and how to fix it."""

    what: str
    fix: str


def check_notes_folder(settings: Settings) -> list[Problem]:
    from assistant.ingest import require_corpus

    try:
        require_corpus(settings.corpus_dir)
    except AssistantError as exc:
        return [
            Problem(
                exc.message,
                "pass --corpus DIR, set NOTES_CORPUS, or set `corpus` in the config file (see `settings` above)",
            )
        ]
    return []


def check_freshness(settings: Settings) -> list[Problem]:
    from assistant.engine import freshness

    if not settings.corpus_dir.is_dir():
        return []  # said by check_notes_folder
    try:
        state = freshness(settings)
    except AssistantError as exc:
        return [Problem(exc.message, exc.hint or "notes index --rebuild")]
    if state.missing:
        return [Problem(f"no index yet in {settings.index_dir}", "notes index")]
    if not state.fresh:
        return [Problem(f"the index is out of date: {state.describe()}", "notes index")]
    return []


CHECKS: list[Callable[[Settings], list[Problem]]] = [check_notes_folder, check_freshness]
"""Each returns the problems it finds; `notes status` shows them all and exits 1 if there is any."""

_LABELS = {
    "corpus_dir": "notes",
    "index_dir": "index",
    "model": "model",
    "k": "k",
    "mode": "mode",
    "editor": "editor",
}


@click.command("status")
@location_options
@click.pass_context
def status_command(ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, model: str | None) -> None:
    """Say whether the index is built and fresh, and which settings are in force.

    Each setting is shown with where it came from (flag, env, config file or default). Exits 1, naming
    each problem and the command that fixes it, when the index is missing or out of date.
    """
    resolved = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model)
    settings = resolved.settings
    for line in settings_lines(resolved):
        click.echo(line)
    summary = index_summary(settings)
    if summary:
        click.echo(summary)
    problems = [problem for check in CHECKS for problem in check(settings)]
    if not problems:
        click.echo("ok: the index is up to date with the notes")
        return
    for problem in problems:
        click.echo(f"problem: {problem.what}")
        click.echo(f"    fix: {problem.fix}")
    sys.exit(1)


def settings_lines(resolved: Resolved) -> list[str]:
    """`name  value  (source)` for each setting, then the config file and whether it exists."""
    settings = resolved.settings
    values = {
        "corpus_dir": str(settings.corpus_dir),
        "index_dir": str(settings.index_dir),
        "model": settings.model,
        "k": str(settings.k),
        "mode": settings.mode,
        "editor": settings.editor or "–",
    }
    width = max(len(value) for value in values.values())
    lines = ["settings:"]
    for name, label in _LABELS.items():
        lines.append(f"  {label:<7} {values[name]:<{width}}  ({resolved.sources[name]})")
    found = "found" if resolved.config_found else "not found; optional"
    lines.append(f"  config  {display_path(resolved.config_file)} ({found})")
    return lines


def index_summary(settings: Settings) -> str | None:
    """What the current index holds, in one line; None when there is no readable one."""
    from assistant.generation import current_generation
    from assistant.manifest import read_manifest

    try:
        generation = current_generation(settings.index_dir)
        if generation is None:
            return None
        manifest = read_manifest(generation)
    except AssistantError:
        return None  # check_freshness reports it
    return (
        f"index holds {len(manifest.files)} files, {manifest.chunk_count} chunks ({manifest.index_type}, "
        f"model {manifest.model.name}, built {manifest.built_at}) from {manifest.corpus}"
    )
