"""`notes status`: the settings in force and where each came from, what the index holds, and its
health: a list of problems, each with the one command or change that fixes it. Exit 0 when there is
none, 1 otherwise, so scripts can ask "is my index usable and fresh?".

The checks are in assistant/store/health.py (`index_problems`), run by `Engine.status`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant.cli.common import engine_for, location_options, resolve
from assistant.config import Resolved, display_path

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
    each problem and the command that fixes it, when the index is missing, out of date, another
    folder's, damaged (every file is hashed), or would answer through the slow path.
    """
    resolved = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model)
    status = engine_for(ctx, resolved.settings).status()
    for line in settings_lines(resolved):
        click.echo(line)
    for line in status.summary:
        click.echo(line)
    problems = status.problems
    if not problems:
        click.echo("ok: the index is up to date with the notes, undamaged, and answers through the model export")
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
