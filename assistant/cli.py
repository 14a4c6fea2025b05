"""The `notes` command: thin click commands that build Settings, call one pipeline function, format.

Bare `notes` opens the chat app. Errors become one line on stderr and exit code 2 (no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from assistant.config import MODES, Settings
from assistant.errors import AssistantError

F = TypeVar("F", bound=Callable[..., Any])


def location_options(func: F) -> F:
    """--corpus, --index and --model, shared by every command (also from NOTES_* variables)."""
    func = click.option("--model", help="Sentence-transformers model name or path [env NOTES_MODEL].")(func)
    func = click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Index folder (default ./index) [env NOTES_INDEX].",
    )(func)
    func = click.option(
        "--corpus",
        "corpus_dir",
        type=click.Path(path_type=Path),
        help="Notes folder, searched recursively for .md/.markdown/.txt (default ./corpus) [env NOTES_CORPUS].",
    )(func)
    return func


def _settings(corpus_dir: Path | None, index_dir: Path | None, model: str | None, **extra: Any) -> Settings:
    return Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir, model=model, **extra)


def _say(message: str) -> None:
    click.echo(f"notes: {message}", err=True)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@location_options
@click.version_option(package_name="notes-assistant", prog_name="notes")
@click.pass_context
def cli(ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, model: str | None) -> None:
    """Search your own study notes from the terminal. Without a command, opens the chat app."""
    if ctx.invoked_subcommand is None:
        from assistant.tui import run_chat

        run_chat(_settings(corpus_dir, index_dir, model))


@cli.command("index")
@location_options
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only what changed.")
def index_command(corpus_dir: Path | None, index_dir: Path | None, model: str | None, rebuild: bool) -> None:
    """Build or refresh the index (only changed notes are re-embedded)."""
    from assistant.engine import build, summary_line
    from assistant.present import inert

    settings = _settings(corpus_dir, index_dir, model)
    with _Progress() as progress:
        report = build(settings, rebuild=rebuild, progress=progress, notify=_say)
    for problem in report.problems:
        verb = "skipped" if problem.skipped else "repaired"
        click.echo(f"  {verb}: {inert(problem.path)}: {inert(problem.reason)}", err=True)
    click.echo(summary_line(report))


@cli.command("ask")
@location_options
@click.argument("question")
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True, help="Retrieval mode.")
@click.option("--file", "file_glob", help="Only search notes whose path or name matches this glob.")
@click.option("--explain", is_flag=True, help="Show each result's rank in the dense and BM25 lists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per question).")
def ask_command(
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    question: str,
    k: int,
    mode: str,
    file_glob: str | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Print the passages of your notes that answer QUESTION ("-" reads one question per line from stdin)."""
    from assistant.engine import open_searcher
    from assistant.errors import UsageProblem
    from assistant.present import format_response, response_record, to_json

    if question != "-" and not question.strip():
        raise UsageProblem("the question is empty", 'ask something, e.g. notes ask "lambda max memory"')
    settings = _settings(corpus_dir, index_dir, model)
    searcher = open_searcher(settings, notify=_say, progress=_stderr_progress())
    questions = _stdin_questions() if question == "-" else [question]
    for text in questions:
        response = searcher.search(text, k=k, mode=mode, file_glob=file_glob)
        if as_json:
            click.echo(to_json(response_record(response, explain)))
        else:
            click.echo(format_response(response, explain=explain))
        sys.stdout.flush()


def _stdin_questions() -> list[str]:
    return [line.strip() for line in sys.stdin if line.strip()]


@cli.command("eval")
@location_options
@click.option(
    "--mode", type=click.Choice(MODES), default="hybrid", show_default=True, help="Retrieval mode to evaluate."
)
@click.option("--compare", is_flag=True, help="Run every mode and print them side by side.")
@click.option(
    "--set",
    "set_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("evals/questions.jsonl"),
    show_default=True,
    help="Question file (JSONL).",
)
@click.option("--check", is_flag=True, help="Exit 1 if Hit@1, Hit@5 or MRR@10 falls >0.01 below evals/baseline.json.")
@click.option("--update-baseline", is_flag=True, help="Write this run's figures to evals/baseline.json.")
@click.option(
    "--ceiling",
    is_flag=True,
    help="Also show how far re-weighting the hybrid rerank's signals could go, fitted on this set (about 35 s).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("evals/baseline.json"),
    show_default=True,
    help="Baseline file.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("evals"),
    show_default=True,
    help="Where report.md and report.json go.",
)
def eval_command(
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    mode: str,
    compare: bool,
    set_path: Path,
    check: bool,
    update_baseline: bool,
    ceiling: bool,
    baseline_path: Path,
    report_dir: Path,
) -> None:
    """Measure retrieval quality on the eval set; gate regressions with --check."""
    from assistant.engine import open_searcher
    from assistant.evaluate import (
        TOLERANCE,
        check_against_baseline,
        format_breakdown,
        format_misses,
        format_table,
        load_baseline,
        load_questions,
        run_eval,
        write_reports,
    )

    settings = _settings(corpus_dir, index_dir, model)
    questions = load_questions(set_path, settings.corpus_dir)
    searcher = open_searcher(settings, notify=_say, progress=_stderr_progress())
    modes = list(MODES) if compare or update_baseline else [mode]
    results = [run_eval(searcher, questions, name) for name in modes]
    click.echo(format_table(results))
    for result in results:
        if result.mode == mode or not compare:
            click.echo("\n" + format_breakdown(result))
            click.echo("\n" + format_misses(result))
    run_settings = {"set": str(set_path), "corpus": str(settings.corpus_dir), "model": settings.model, "modes": modes}
    written = write_reports(
        results, run_settings, searcher.manifest.to_json(), report_dir, baseline_path if update_baseline else None
    )
    _say("wrote " + ", ".join(str(path) for path in written))
    if ceiling:
        from assistant.ceiling import format_ceiling, fusion_ceiling

        click.echo("\n" + format_ceiling(fusion_ceiling(searcher, questions)))
    if check:
        baseline = load_baseline(baseline_path)
        failures = [(result.mode, f) for result in results for f in check_against_baseline(result, baseline)]
        for name, failure in failures:
            newly = ", ".join(failure.newly_failing) or "none individually"
            _say(
                f"REGRESSION ({name}) {failure.metric}: {failure.now:.3f}, more than {TOLERANCE} below the baseline "
                f"{failure.baseline:.3f}; newly failing: {newly}"
            )
        if failures:
            sys.exit(1)
        _say(f"eval check passed against {baseline_path}")


@cli.command("bench")
@location_options
@click.option(
    "--runs",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Repetitions of each process-level timing (cold ask, chat app start, incremental build).",
)
@click.option(
    "--build-runs",
    type=click.IntRange(1, 20),
    default=None,
    help="Full builds to time [default: 2 on the corpus, 1 with --scale].",
)
@click.option(
    "--scale",
    type=click.IntRange(1, 10_000_000),
    default=None,
    metavar="N",
    help="Benchmark about N synthetic chunks (made from the --corpus notes) instead of the corpus itself.",
)
@click.option(
    "--scale-corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Run the scale measurements on this notes folder (read, never written).",
)
@click.option(
    "--stand-in/--real-model",
    "stand_in",
    default=None,
    help="Embed with a cheap labelled stand-in instead of the real model [default: stand-in above 5,000 chunks].",
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Eval questions (JSONL) timed for latency [default: evals/questions.jsonl].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic notes.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write the results as JSON.",
)
def bench_command(
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    runs: int,
    build_runs: int | None,
    scale: int | None,
    scale_corpus: Path | None,
    stand_in: bool | None,
    questions_file: Path | None,
    seed: int,
    json_out: Path | None,
) -> None:
    """Time cold `ask` vs the naive path, chat app start, queries, builds and memory (or --scale N).

    Works on temporary copies: your notes and index are never touched.
    """
    from assistant.bench import run_bench

    settings = _settings(corpus_dir, index_dir, model)
    run_bench(
        settings,
        runs=runs,
        build_runs=build_runs,
        scale=scale,
        scale_corpus=scale_corpus,
        stand_in=stand_in,
        questions_file=questions_file,
        seed=seed,
        json_out=json_out,
        out=click.echo,
        note=_say,
    )


@cli.command("status")
@location_options
def status_command(corpus_dir: Path | None, index_dir: Path | None, model: str | None) -> None:
    """Say whether the index is built and fresh, and what it holds."""
    from assistant.engine import freshness
    from assistant.generation import current_generation
    from assistant.manifest import read_manifest

    settings = _settings(corpus_dir, index_dir, model)
    state = freshness(settings)
    generation = current_generation(settings.index_dir)
    if generation is not None:
        manifest = read_manifest(generation)
        click.echo(
            f"index: {settings.index_dir} ({len(manifest.files)} files, {manifest.chunk_count} chunks, "
            f"{manifest.index_type}, model {manifest.model.name}, built {manifest.built_at})"
        )
    click.echo(f"corpus: {settings.corpus_dir}: {state.describe()}")


class _Progress:
    """A rich progress bar on stderr, one task per stage."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
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

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _stderr_progress() -> Callable[[str, int, int], None]:
    """Progress for an automatic (re)build inside `ask`: a line per stage, only on a terminal."""
    seen: set[str] = set()

    def report(stage: str, done: int, total: int) -> None:
        if stage not in seen and sys.stderr.isatty():
            seen.add(stage)
            _say(f"{stage} …")

    return report


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="notes", standalone_mode=False)
    except click.exceptions.Abort:
        _say("interrupted")
        sys.exit(130)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
    except click.UsageError as exc:
        hint = f" (see `notes {exc.ctx.command.name} --help`)" if exc.ctx and exc.ctx.command.name != "cli" else ""
        _say(f"error: {exc.format_message()}{hint}")
        sys.exit(2)
    except click.ClickException as exc:
        _say(f"error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except AssistantError as exc:
        _say(f"error: {exc}")
        sys.exit(2)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
