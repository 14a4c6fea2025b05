"""What every command shares: the location flags, settings resolution, the engine, stderr messages,
progress, and opening an index (building or refreshing it first, saying so, and naming repaired files)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from assistant.config import Resolved, Settings, resolve_settings

if TYPE_CHECKING:
    from assistant.engine import Engine
    from assistant.retrieve.search import Searcher
    from assistant.store.build_report import BuildReport

F = TypeVar("F", bound=Callable[..., Any])


def location_options(func: F) -> F:
    """--corpus, --index and --model, shared by every command (also from NOTES_* and the config file)."""
    func = click.option("--model", help="Sentence-transformers model name or path [env NOTES_MODEL; config `model`].")(
        func
    )
    func = click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Index folder [env NOTES_INDEX; config `index`; default ./index for ./corpus, else one per "
        "notes folder in ~/.cache/notes-assistant/indexes].",
    )(func)
    func = click.option(
        "--corpus",
        "corpus_dir",
        type=click.Path(path_type=Path),
        help="Notes folder, searched recursively for .md/.markdown/.txt [env NOTES_CORPUS; config `corpus`; "
        "default ./corpus].",
    )(func)
    return func


def _default_engine(settings: Settings) -> Engine:
    from assistant.engine import Engine

    return Engine(settings)


@dataclass
class Invocation:
    """What one run of `notes` shares between the group and its command: the location flags given
    before the command (`notes --corpus X ask …`), and how an engine is made from settings (`main`
    takes another maker: tests hand in an engine with a stand-in model)."""

    flags: dict[str, Any] = field(default_factory=dict)
    make_engine: Callable[[Settings], Engine] = _default_engine


def invocation(ctx: click.Context) -> Invocation:
    found = ctx.find_root().obj
    return found if isinstance(found, Invocation) else Invocation()


def resolve(ctx: click.Context, **flags: Any) -> Resolved:
    """Settings for this command: its own flags, then those given before the command (`notes --corpus
    X ask …`), then environment, config file and defaults."""
    given: dict[str, Any] = {key: value for key, value in invocation(ctx).flags.items() if value is not None}
    given.update({key: value for key, value in flags.items() if value is not None})
    return resolve_settings(given)


def engine_for(ctx: click.Context, settings: Settings) -> Engine:
    """The engine this command works through (the one way into the core)."""
    return invocation(ctx).make_engine(settings)


def say(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    click.echo(f"notes: {message}", err=True)


def report_problems(report: BuildReport) -> None:
    """Files the build skipped or repaired, one line each (what `notes index` and `notes ask` print)."""
    from assistant.present.render import inert

    for problem in report.problems:
        verb = "skipped" if problem.skipped else "repaired"
        click.echo(f"  {verb}: {inert(problem.path)}: {inert(problem.reason)}", err=True)


def open_for_questions(engine: Engine) -> Searcher:
    """Open a fresh, undamaged index (`Engine.open`): what it builds, refreshes or repairs is said on
    stderr, with the same per-file report as `notes index`."""
    return engine.open(notify=say, progress=stderr_progress(), on_report=report_problems)


class Progress:
    """A rich progress bar on stderr, one task per stage."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.bar = Bar(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=max(total, 1))
        self.bar.update(self.tasks[stage], completed=done, total=max(total, 1))

    def __enter__(self) -> Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def stderr_progress() -> Callable[[str, int, int], None]:
    """Progress for an automatic (re)build inside `ask`: a line per stage, only on a terminal."""
    seen: set[str] = set()

    def report(stage: str, done: int, total: int) -> None:
        if stage not in seen and sys.stderr.isatty():
            seen.add(stage)
            say(f"{stage} …")

    return report
