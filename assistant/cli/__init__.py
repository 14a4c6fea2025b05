"""The `notes` command: thin click commands that build Settings, call one pipeline function, format.

One module per command (`ask`, `index`, `evaluate`, `bench`, `status`, `mcp`); what they share is in
`common`. Bare `notes` opens the chat app, on a terminal only. Errors become one line on stderr and
exit code 2 (no traceback). Nothing heavy is imported until a command runs, so `--help` is instant.

Shell completion is click's: `eval "$(_NOTES_COMPLETE=bash_source notes)"` (zsh_source, fish_source).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.ask import ask_command
from assistant.cli.bench import bench_command
from assistant.cli.common import Invocation, engine_for, location_options, resolve, say
from assistant.cli.evaluate import eval_command
from assistant.cli.index import index_command
from assistant.cli.mcp import mcp_command
from assistant.cli.status import status_command
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.engine import Engine

NO_TERMINAL = 'the chat app needs a terminal; use notes ask "…" for one question, or notes ask - for a batch'


class NotesGroup(click.Group):
    """click's group, listing each command with its whole description (wrapped), not cut to the width."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=NotesGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@location_options
@click.version_option(None, "-V", "--version", package_name="notes-assistant", prog_name="notes")
@click.pass_context
def cli(ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, model: str | None) -> None:
    """Search your own study notes from the terminal. Without a command, opens the chat app.

    \b
    Examples:
      notes                                the chat app on ./corpus
      notes ask whats a nacl               the passages that answer, ranked
      notes ask --json lambda max memory   the same as JSON, for scripts
      notes ask - < questions.txt          one question a line, each answered
      notes --corpus ~/notes ask nat gw    your own notes folder, indexed once
      notes index                          build or refresh the index
      notes status                         is the index healthy?

    `notes COMMAND --help` says more about each command.
    """
    ctx.ensure_object(Invocation).flags = {"corpus_dir": corpus_dir, "index_dir": index_dir, "model": model}
    if ctx.invoked_subcommand is not None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        say(NO_TERMINAL)
        sys.exit(2)
    from assistant.tui import run_chat

    settings = resolve(ctx).settings
    run_chat(settings, engine_for(ctx, settings))


for _command in (ask_command, index_command, eval_command, bench_command, status_command, mcp_command):
    cli.add_command(_command)


def main(argv: list[str] | None = None, *, make_engine: Callable[[Settings], Engine] | None = None) -> None:
    """Entry point: run the CLI, turning every expected error into one line and an exit code.
    `make_engine`: how commands get their engine (default: `Engine(settings)`, the real model)."""
    # The tokenizers library warns when the process forks (an editor, a child build) after it has run
    # in parallel; nothing here relies on that parallelism.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    invocation = Invocation() if make_engine is None else Invocation(make_engine=make_engine)
    try:
        cli.main(args=argv, prog_name="notes", standalone_mode=False, obj=invocation)
    except click.exceptions.Abort:
        say("interrupted")
        sys.exit(130)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
    except click.UsageError as exc:
        hint = f" (see `notes {exc.ctx.command.name} --help`)" if exc.ctx and exc.ctx.command.name != "cli" else ""
        say(f"error: {exc.format_message()}{hint}")
        sys.exit(2)
    except click.ClickException as exc:
        say(f"error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except AssistantError as exc:
        say(f"error: {exc}")
        sys.exit(2)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


__all__ = ["cli", "main"]
