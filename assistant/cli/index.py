"""`notes index`: build or refresh the index, with a progress bar and a line per repaired or skipped file."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import Progress, build_headline, engine_for, location_options, report_problems, resolve, say


@click.command("index")
@location_options
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only what changed.")
@click.pass_context
def index_command(
    ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, model: str | None, rebuild: bool
) -> None:
    """Build or refresh the index (only changed notes are re-embedded)."""
    from assistant.engine import summary_line
    from assistant.notes.ingest import require_corpus

    settings = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model).settings
    require_corpus(settings.corpus_dir)
    engine = engine_for(ctx, settings)
    say(build_headline(engine, rebuild=rebuild))
    with Progress() as progress:
        report = engine.build(rebuild=rebuild, progress=progress, notify=say)
    report_problems(report)
    click.echo(summary_line(report))
