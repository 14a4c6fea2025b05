"""`notes eval`: retrieval quality on a question set, every run kept and compared, and the gate (`--check`).

The set is the one marked on the notes folder (`notes ask … --mark N`), or for ./corpus the shipped
`evals/questions.jsonl`, or `--set FILE`. The output starts with one verdict line (against the
baseline, else the previous run), then the figures and what changed; the full report goes to a file:
`evals/results/` for the shipped set (git-ignored; `--write-report` updates the committed
`evals/report.md` and `evals/report.json` instead, as CI does), else beside the kept runs.
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
    default=None,
    help="Question file (JSONL) [default: the questions marked on the notes folder; for ./corpus, "
    "evals/questions.jsonl].",
)
@click.option(
    "--against",
    metavar="RUN",
    help="Compare with this run: last, baseline, a run's id (see --runs) or a run's file "
    "[default: the baseline, else the last run].",
)
@click.option("--runs", "list_runs", is_flag=True, help="List the kept runs of this set on these notes, and stop.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 if Hit@1, Hit@5, MRR@10 or answer-line accuracy falls >0.01 below the run compared with, "
    "or answers average more than 1.5 lines.",
)
@click.option("--update-baseline", is_flag=True, help="Make this run (every mode) the baseline of this set.")
@click.option(
    "--ceiling",
    is_flag=True,
    help="Also show how far re-weighting the hybrid rerank's signals could go, fitted on this set (about 35 s).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Baseline file [default: evals/baseline.json for the shipped set, else the set's own].",
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
    help="Write report.md and report.json to this folder instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (for scripts), nothing else.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a self-contained HTML page with the figures and rank changes drawn.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    mode: str,
    compare: bool,
    set_path: Path | None,
    against: str | None,
    list_runs: bool,
    check: bool,
    update_baseline: bool,
    ceiling: bool,
    baseline_path: Path | None,
    write_report: bool,
    report_dir: Path | None,
    as_json: bool,
    html_path: Path | None,
) -> None:
    """Measure retrieval quality on a question set, compare with earlier runs; gate regressions with --check."""
    from assistant.cli.common import open_for_questions
    from assistant.config import display_path
    from assistant.errors import UsageProblem
    from assistant.evaluate.compare import TOLERANCE, answer_length_failures, gate_failures
    from assistant.evaluate.questions import load_set
    from assistant.evaluate.report import (
        format_runs,
        format_summary,
        json_figures,
        report_markdown,
        verdict_line,
        verdict_word,
        write_reports,
    )
    from assistant.evaluate.runs import write_json
    from assistant.evaluate.session import baseline_file, choose_set, evaluate, is_shipped_set, kept_runs, set_runs_dir
    from assistant.present.render import inert, to_json

    if write_report and report_dir is not None:
        raise UsageProblem("--write-report and --report name two places for one report", "use one of them")
    settings = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model).settings
    chosen = choose_set(set_path, settings.corpus_dir)
    store = set_runs_dir(settings.corpus_dir, chosen)
    baseline = baseline_path or baseline_file(chosen, store)
    if list_runs:
        click.echo(inert(format_runs(*kept_runs(store, baseline))))
        return
    questions = load_set(chosen, settings.corpus_dir)
    engine = engine_for(ctx, settings)
    searcher = open_for_questions(engine)
    primary = cast(Mode, mode)
    modes: list[Mode] = list(MODES) if compare or update_baseline else [primary]
    modes.insert(0, modes.pop(modes.index(primary)))
    run_settings = {"set": str(chosen), "corpus": str(settings.corpus_dir), "model": settings.model, "modes": modes}
    run_settings["mode"] = mode
    done = evaluate(
        engine,
        questions,
        modes,
        manifest=searcher.manifest,
        settings=run_settings,
        store=store,
        baseline=baseline,
        against=against,
    )
    run_id = done.run.name
    verdict = verdict_line(done.results, done.comparison, run_id=run_id, refused=done.refused)
    markdown = report_markdown(done.results, run_settings, searcher.manifest, questions, done.comparison, verdict)
    if write_report or report_dir is not None or is_shipped_set(chosen):
        target = COMMITTED_REPORT_DIR if write_report else report_dir or RESULTS_DIR
        written = write_reports(done.record, markdown, target)
    else:
        written = [store / f"{run_id}.md", done.kept]
        written[0].write_text(markdown, encoding="utf-8")
    if update_baseline:
        written.append(write_json(baseline, done.record))
    if html_path is not None:
        from assistant.evaluate.html_page import write_html

        about = {"notes": str(settings.corpus_dir), "set": str(chosen), "run": run_id, "model": settings.model}
        word = verdict_word(done.comparison, done.refused)
        try:
            written.append(
                write_html(html_path, done.results, questions, done.comparison, verdict=verdict, word=word, about=about)
            )
        except OSError as exc:
            raise UsageProblem(f"cannot write --html {html_path}: {exc.strerror or exc}") from exc
    if as_json:
        click.echo(to_json(json_figures(questions, done.results, done.comparison, run_id=run_id, refused=done.refused)))
    else:
        click.echo(inert(format_summary(done.results, questions, done.comparison, verdict)))
    say(f"kept run {run_id}; wrote " + ", ".join(inert(display_path(path)) for path in written))
    if ceiling:
        from assistant.evaluate.ceiling import format_ceiling, fusion_ceiling

        click.echo("\n" + inert(format_ceiling(fusion_ceiling(searcher, questions.scored))))
    if check:
        if done.comparison is None:
            raise UsageProblem(
                f"--check: nothing to check against ({done.refused or 'no baseline and no earlier run'})",
                "make a baseline with notes eval --update-baseline, or name a run with --against",
            )
        failures = gate_failures(done.comparison) + answer_length_failures(done.results)
        label = done.comparison.reference.label
        for failure in failures:
            newly = ", ".join(failure.newly_failing) or "none individually"
            if failure.ceiling:
                too_long = f"{failure.now:.2f} lines, above the ceiling {failure.baseline}"
                say(f"REGRESSION ({failure.mode}) {failure.metric}: {too_long}")
                continue
            say(
                f"REGRESSION ({failure.mode}) {failure.metric}: {failure.now:.3f}, more than {TOLERANCE} below "
                f"{inert(label)} ({failure.baseline:.3f}); newly failing: {inert(newly)}"
            )
        if failures:
            sys.exit(1)
        say(f"eval check passed against {inert(label)}")
