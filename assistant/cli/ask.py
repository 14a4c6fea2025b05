"""`notes ask`: one question (its words, quoted or not), or one per line from stdin with `-`.

Plain output is for people: colour and bold only when stdout is a terminal (never with --no-color or
NO_COLOR), citations as paths that open from the current folder, OSC 8 links where the terminal
shows them, and `searched: …` when a typo was corrected. `--json` is for scripts and never decorated.
`--open N` opens result N in the editor at its answer line instead of printing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.common import engine_for, location_options, open_for_questions, resolve, say
from assistant.cli.marking import mark_none, mark_result, parse_mark, show_mark
from assistant.config import MAX_K, MODES
from assistant.errors import UsageProblem

if TYPE_CHECKING:
    from assistant.retrieve.results import Hit


@click.command("ask")
@location_options
@click.argument("words", nargs=-1, metavar="QUESTION...")
@click.option(
    "-k", "k", type=click.IntRange(1, MAX_K), default=None, help="How many passages [default: 5, or config `k`]."
)
@click.option(
    "--mode", type=click.Choice(MODES), default=None, help="Retrieval mode [default: hybrid, or config `mode`]."
)
@click.option(
    "--file",
    "file_value",
    metavar="NOTE",
    help="Only search this note: a path (as the shell completes it), a name with or without its suffix, or a glob.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say how each result was ranked: its rank in the passage (dense), line and keyword (BM25) lists, "
    "its fused rank and the token-rerank score that ordered it, and the cosine its score was capped from.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print JSON, one object per question, with "weak_match" (and "weak_reason") on each.',
)
@click.option(
    "--open",
    "open_rank",
    type=click.IntRange(1, MAX_K),
    metavar="N",
    help="Open result N in your editor at its answer line.",
)
@click.option("--editor", help="Editor for --open [config `editor`, then $VISUAL, then $EDITOR].")
@click.option("--no-color", is_flag=True, help="No colour or bold, even on a terminal (as NO_COLOR=1 does).")
@click.option(
    "--mark",
    metavar="N|none",
    help="Save result N as the answer to this question in the notes folder's eval set (none: no result "
    "answers it, kept to mark later); `notes eval` then measures it.",
)
@click.option(
    "--set",
    "set_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The eval set --mark writes to [default: the notes folder's own, in ~/.local/share/notes-assistant/sets].",
)
@click.pass_context
def ask_command(
    ctx: click.Context,
    corpus_dir: Path | None,
    index_dir: Path | None,
    model: str | None,
    words: tuple[str, ...],
    k: int | None,
    mode: str | None,
    file_value: str | None,
    explain: bool,
    as_json: bool,
    open_rank: int | None,
    editor: str | None,
    no_color: bool,
    mark: str | None,
    set_path: Path | None,
) -> None:
    """Print the passages of your notes that answer a question.

    QUESTION is its words, quoted or not (`notes ask ssh port`); "-" reads one question per line from
    stdin and answers each as it arrives, under the question (`❯ question`); with --json a blank line
    gets an empty answer, so output line n answers input line n.

    Each result: its rank, its score (how close it is to the question, 0 to 1; never more than the
    result above), the passage as PATH:START-END, its answer lines after `›`, and its headings. When
    nothing in the notes is a strong match, a line says so above the closest passages (exit code 0).

    \b
    Examples:
      notes ask whats a nacl                 the passages that answer, ranked
      notes ask -k 3 --file vpc-endpoints gateway endpoint    from one note
      notes ask --json lambda max memory     the same as JSON, for scripts
      notes ask - < questions.txt            one question a line, each answered
      notes ask --open 1 nat gateway         open result 1 at its answer line
      notes ask --explain rdp port           how each result was ranked
    """
    from assistant.present.render import (
        Look,
        empty_record,
        format_response,
        question_line,
        response_record,
        to_json,
        wants_color,
        wants_links,
    )
    from assistant.retrieve.search import normalise_query

    batch = words == ("-",)
    question = " ".join(words)
    if not batch and not question.strip():
        raise UsageProblem("the question is empty", "ask something, e.g. notes ask lambda max memory")
    if open_rank is not None and (batch or as_json):
        raise UsageProblem("--open opens one result of one question", "drop --json and -, or drop --open")
    if mark is not None and (batch or open_rank is not None):
        raise UsageProblem("--mark marks one result of one question", "drop - and --open, or drop --mark")
    marked_rank = None if mark is None else parse_mark(mark)
    resolved = resolve(ctx, corpus_dir=corpus_dir, index_dir=index_dir, model=model, k=k, mode=mode, editor=editor)
    settings = resolved.settings
    if mark is not None and marked_rank is None:
        show_mark(mark_none(settings.corpus_dir, question, set_path), None, settings.corpus_dir, as_json)
        return
    engine = engine_for(ctx, settings)
    open_for_questions(engine)
    if file_value is not None:
        engine.file_glob(file_value)  # a --file that names no note is refused before any question is read
    if marked_rank is not None:
        response = engine.search(question, k=max(settings.k, marked_rank), file=file_value)
        marked = mark_result(settings.corpus_dir, response, marked_rank, set_path)
        show_mark(marked, response.hits[marked_rank - 1], settings.corpus_dir, as_json)
        return
    if open_rank is not None:
        response = engine.search(question, k=max(settings.k, open_rank), file=file_value)
        _open_result(response.hits, open_rank, settings.corpus_dir, settings.editor)
        return
    look = Look(
        color=wants_color(sys.stdout, no_color=no_color), links=wants_links(sys.stdout), notes_dir=settings.corpus_dir
    )
    answered = 0
    for text in _stdin_questions() if batch else iter([question]):
        if batch and not normalise_query(text):  # a blank line (or only control characters)
            if as_json:
                click.echo(to_json(empty_record(text)))
                sys.stdout.flush()
            continue
        response = engine.search(text, file=file_value)
        if as_json:
            click.echo(to_json(response_record(response, explain, settings.corpus_dir)))
        elif batch:
            # Each answer under its question, a blank line between answers: back to back they were
            # one long list with no telling where one question's passages ended.
            click.echo(("\n" if answered else "") + question_line(text, look))
            click.echo(format_response(response, explain=explain, look=look))
        else:
            click.echo(format_response(response, explain=explain, look=look))
        answered += 1
        sys.stdout.flush()


def _stdin_questions() -> Iterator[str]:
    """Each line of stdin, stripped, as it arrives (a blank line too, so answers stay aligned)."""
    for line in sys.stdin:
        yield line.strip()


def _open_result(hits: Sequence[Hit], rank: int, notes_dir: Path, configured: str | None) -> None:
    """Open the rank-th hit in the editor at its answer line; exit with the editor's status if it failed."""
    from assistant.present.editor import choose_editor, editor_command, editor_family, open_in_editor
    from assistant.present.render import inert, note_path, openable_path

    if rank > len(hits):
        count = f"{len(hits)} result{'s' if len(hits) != 1 else ''}"
        raise UsageProblem(f"--open {rank}: this question has {count}", "pick a smaller N, or ask with a larger -k")
    editor = choose_editor(configured)
    if editor is None:
        raise UsageProblem(
            "no editor to open the passage with",
            "pass --editor CMD, set `editor` in ~/.config/notes-assistant/config.toml, or set $EDITOR",
        )
    hit = hits[rank - 1]
    line = hit.answer.start_line
    call = editor_command(editor, note_path(notes_dir, hit.chunk.file), line)
    name = inert(editor_family(editor))
    if not call.knows_line:
        where = inert(openable_path(notes_dir, hit.chunk.file))
        say(f"{name} cannot be told a line: opening the note; the answer is at {where}:{line}")
    try:
        status = open_in_editor(call)
    except OSError as exc:
        raise UsageProblem(f"cannot start the editor {editor!r}: {exc.strerror or exc}") from exc
    if status != 0:
        say(f"{name} exited with status {status}")
        sys.exit(status)
