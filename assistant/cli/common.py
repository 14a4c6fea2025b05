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
from assistant.present.stage_clock import clock

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
    stderr, with the same per-file report as `notes index`, and on a terminal the build's stages
    while they run."""
    if not sys.stderr.isatty():
        return engine.open(notify=say, on_report=report_problems)
    with Progress(transient=True) as progress:
        return engine.open(notify=say, progress=progress, on_report=report_problems)


class Progress:
    """A build's stages on stderr, a row each: its name, a bar, how many of how many, and its
    elapsed and remaining time. A stage with no count (the model export, writing the index) spins
    with its elapsed time (and, for the export, the time it usually takes). Rich redraws the rows
    `REFRESHES_PER_SECOND` times a second from its own thread, so the clocks move even while a stage
    waits on one long step. The display starts at the first stage: opening a fresh index shows
    nothing. `transient`: the rows go when it ends (`notes ask`, whose answer follows)."""

    REFRESHES_PER_SECOND = 4

    def __init__(self, *, transient: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, SpinnerColumn, TextColumn
        from rich.progress import Progress as Bar

        self.bar = Bar(
            SpinnerColumn(finished_text="[progress.percentage]✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            _times_column(),
            console=Console(stderr=True),
            transient=transient,
            refresh_per_second=self.REFRESHES_PER_SECOND,
        )
        self.tasks: dict[str, Any] = {}
        self.started = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        from assistant.reporting import EXPORT_SECONDS, EXPORT_STAGE, UNCOUNTED

        if not self.started:
            self.bar.start()
            self.started = True
        counted = total != UNCOUNTED
        count = f"{done:,}/{total:,}" if counted and total > 1 else ""
        size = max(total, 1) if counted else None
        if stage not in self.tasks:
            expected = EXPORT_SECONDS if stage == EXPORT_STAGE else None
            self.tasks[stage] = self.bar.add_task(stage, total=size, expected=expected, count=count)
        self.bar.update(self.tasks[stage], total=size, completed=done, count=count)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.bar.stop()


def _times_column() -> Any:
    """The column of elapsed and remaining time (made here: rich is imported only when shown)."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class Times(ProgressColumn):
        max_refresh = 0.5  # remaining time from rich's rate estimate, steadied

        def render(self, task: Task) -> Text:
            elapsed = (task.finished_time if task.finished else task.elapsed) or 0.0
            said = f"{clock(elapsed)} elapsed"
            left = task.time_remaining if task.total is not None else None
            expected = task.fields.get("expected")
            if left is None and expected is not None and elapsed < expected:
                left = expected - elapsed
            if not task.finished and left is not None:
                said += f", about {clock(left)} left"
            return Text(said, style="progress.elapsed")

    return Times()


def build_headline(engine: Engine, *, rebuild: bool = False) -> str:
    """What `notes index` says before it starts: "Indexing …" (no index yet), "Rebuilding …" (all
    of it again) or "Updating …", with about how long a full build takes on this machine."""
    settings = engine.settings
    plan = engine.plan(rebuild=rebuild)
    estimate = plan.estimate
    what = f"{settings.corpus_dir} into {settings.index_dir}"
    if not plan.full:
        return f"{plan.verb} the index of {settings.corpus_dir} ({settings.index_dir}) …"
    export = ", the one-time model export included" if estimate.export else ""
    return f"{plan.verb} {what}: {estimate.notes} notes, {estimate.describe()} on this machine{export} …"


def stderr_progress() -> Callable[[str, int, int], None]:
    """Progress for an automatic (re)build inside `ask`: a line per stage, only on a terminal."""
    seen: set[str] = set()

    def report(stage: str, done: int, total: int) -> None:
        if stage not in seen and sys.stderr.isatty():
            seen.add(stage)
            say(f"{stage} …")

    return report
