"""`notes eval`: retrieval quality on the eval set, and the regression gate (`--check`).

A run writes its report to `evals/results/` (git-ignored), so evaluating leaves the checkout clean;
`--write-report` updates the committed `evals/report.md` and `evals/report.json` instead (CI does).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click

from assistant.cli.common import engine_for, location_options, resolve, say
from assistant.config import MODES, Mode

RESULTS_DIR = Path("evals/results")
COMMITTED_REPORT_DIR = Path("evals")


@click.command("eval")
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
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 if Hit@1, Hit@5, MRR@10 or answer-line accuracy falls >0.01 below evals/baseline.json, "
    "or answers average more than 1.5 lines.",
)
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
    "--write-report",
    is_flag=True,
    help="Update the committed evals/report.md and evals/report.json (otherwise the report goes to evals/results/).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write report.md and report.json to this folder instead [default: evals/results].",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
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
    write_report: bool,
    report_dir: Path | None,
) -> None:
    """Measure retrieval quality and answer-line accuracy on the eval set; gate regressions with --check."""
    from assistant.cli.common import open_for_questions
    from assistant.errors import UsageProblem
    from assistant.evaluate.answer_eval import format_answers
    from assistant.evaluate.run import (
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

    if write_report and report_dir is not None:
        raise UsageProblem("--write-report and --report name two places for one report", "use one of them")
    settings = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model).settings
    questions = load_questions(set_path, settings.corpus_dir)
    engine = engine_for(ctx, settings)
    searcher = open_for_questions(engine)
    modes: list[Mode] = list(MODES) if compare or update_baseline else [cast(Mode, mode)]
    results = [run_eval(engine, questions, name) for name in modes]
    click.echo(format_table(results))
    for result in results:
        if result.mode == mode or not compare:
            click.echo("\n" + format_answers(result.mode, result.answers))
            click.echo("\n" + format_breakdown(result))
            click.echo("\n" + format_misses(result))
    run_settings = {"set": str(set_path), "corpus": str(settings.corpus_dir), "model": settings.model, "modes": modes}
    target = COMMITTED_REPORT_DIR if write_report else report_dir or RESULTS_DIR
    written = write_reports(
        results, run_settings, searcher.manifest, target, baseline_path if update_baseline else None
    )
    say("wrote " + ", ".join(str(path) for path in written))
    if ceiling:
        from assistant.evaluate.ceiling import format_ceiling, fusion_ceiling

        click.echo("\n" + format_ceiling(fusion_ceiling(searcher, questions)))
    if check:
        baseline = load_baseline(baseline_path)
        failures = [(result.mode, f) for result in results for f in check_against_baseline(result, baseline)]
        for name, failure in failures:
            newly = ", ".join(failure.newly_failing) or "none individually"
            if failure.ceiling:
                too_long = f"{failure.now:.2f} lines, above the ceiling {failure.baseline}"
                say(f"REGRESSION ({name}) {failure.metric}: {too_long}")
                continue
            say(
                f"REGRESSION ({name}) {failure.metric}: {failure.now:.3f}, more than {TOLERANCE} below the baseline "
                f"{failure.baseline:.3f}; newly failing: {newly}"
            )
        if failures:
            sys.exit(1)
        say(f"eval check passed against {baseline_path}")
