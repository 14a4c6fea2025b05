"""`notes bench`: timings and memory, on temporary copies of the notes and index."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import location_options, resolve, say


@click.command("bench")
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
    help="Full builds to time [default: 2 on the corpus, 1 with --scale or --folder].",
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
    "--folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Time full builds of this notes folder (read, never written) beside sentence-transformers "
    "encoding its passages, and nothing else.",
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
@click.pass_context
def bench_command(
    ctx: click.Context,
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    runs: int,
    build_runs: int | None,
    scale: int | None,
    scale_corpus: Path | None,
    folder: Path | None,
    stand_in: bool | None,
    questions_file: Path | None,
    seed: int,
    json_out: Path | None,
) -> None:
    """Time cold `ask` vs the naive path, chat app start, queries, builds and memory (or --scale N, or
    full builds of a large folder with --folder DIR).

    Works on temporary copies: your notes and index are never touched.
    """
    from assistant.bench import run_bench

    settings = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model).settings
    run_bench(
        settings,
        runs=runs,
        build_runs=build_runs,
        scale=scale,
        scale_corpus=scale_corpus,
        folder=folder,
        stand_in=stand_in,
        questions_file=questions_file,
        seed=seed,
        json_out=json_out,
        out=click.echo,
        note=say,
    )
