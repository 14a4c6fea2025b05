"""`notes mcp`: serve the notes to AI agents over the Model Context Protocol (stdio).

The server is assistant/mcp/; this command only resolves the settings (flags, environment, config
file, as every command does) and hands it the engine. stdout is the protocol: everything this
command says goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import engine_for, location_options, report_problems, resolve, say, stderr_progress
from assistant.config import MAX_K, MODES


@click.command("mcp")
@location_options
@click.option(
    "-k", "k", type=click.IntRange(1, MAX_K), default=None, help="Passages per search [default: 5, or config `k`]."
)
@click.option(
    "--mode", type=click.Choice(MODES), default=None, help="Retrieval mode [default: hybrid, or config `mode`]."
)
@click.pass_context
def mcp_command(
    ctx: click.Context,
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    k: int | None,
    mode: str | None,
) -> None:
    """Serve your notes to AI agents over MCP on stdin/stdout.

    Three read-only tools: search (ranked passages with their answer lines), get (a note's numbered
    lines) and status. Configure it in an MCP client as the command `notes` with the arguments
    `mcp --corpus DIR` (see the README); the index is built or refreshed as the server starts.
    """
    from assistant.mcp.server import serve
    from assistant.mcp.tools import NoteTools

    settings = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model, k=k, mode=mode).settings
    say(f"serving {settings.corpus_dir} over MCP on stdin/stdout (tools: search, get, status)")
    engine = engine_for(ctx, settings)
    serve(NoteTools(engine, notify=say, progress=stderr_progress(), on_report=report_problems))
