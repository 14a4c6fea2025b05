"""`notes ask QUESTION --mark N|none`: save what answers a question to the notes folder's eval set, and show it.

The saving is evaluate/marks.py's, shared with the chat app's mark keys; this module parses the
option and says what was saved (JSON with `--json`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.config import MAX_K
from assistant.errors import UsageProblem

if TYPE_CHECKING:
    from assistant.evaluate.marks import Marked
    from assistant.retrieve.results import Hit, SearchResponse


def parse_mark(value: str) -> int | None:
    """`--mark`'s value: a result's number, or None for "none"."""
    if value.strip().lower() == "none":
        return None
    if value.strip().isdigit() and 1 <= int(value) <= MAX_K:
        return int(value)
    raise UsageProblem(f"--mark takes a result's number (1 to {MAX_K}) or none, not {value!r}")


def mark_none(corpus_dir: Path, question: str, set_path: Path | None) -> Marked:
    from assistant.evaluate.marks import mark_unanswered, marked_set_path

    return mark_unanswered(set_path or marked_set_path(corpus_dir), question)


def mark_result(corpus_dir: Path, response: SearchResponse, rank: int, set_path: Path | None) -> Marked:
    from assistant.evaluate.marks import mark_answer, marked_set_path

    if rank > len(response.hits):
        count = f"{len(response.hits)} result{'s' if len(response.hits) != 1 else ''}"
        raise UsageProblem(f"--mark {rank}: this question has {count}", "pick a smaller N")
    return mark_answer(set_path or marked_set_path(corpus_dir), response, rank, corpus_dir)


def show_mark(marked: Marked, hit: Hit | None, corpus_dir: Path, as_json: bool) -> None:
    """What was saved: the question, the answer's citation and lines (or that none answers it), the set."""
    from assistant.config import display_path
    from assistant.present.render import inert, openable_path, to_json

    record = marked.record
    if as_json:
        click.echo(
            to_json(
                {
                    "marked": record,
                    "set": str(marked.set_path),
                    "updated": marked.updated,
                    "questions": marked.questions,
                    "unanswered": marked.unanswered,
                }
            )
        )
        return
    again = " (marked before: updated)" if marked.updated else ""
    question = inert(repr(record["question"]))
    if hit is None:
        click.echo(f"marked {question} as answered by none of these results{again}: kept to mark later")
    else:
        gold = record["gold"][0]
        lines = f"{gold['start_line']}" + (f"-{gold['end_line']}" if gold["end_line"] != gold["start_line"] else "")
        where = inert(f"{openable_path(corpus_dir, gold['file'])}:{lines}")
        heading = inert(" > ".join(hit.chunk.heading_path))
        click.echo(f"marked result {hit.rank} as the answer to {question}{again}")
        click.echo(f"  {where}  {heading}".rstrip())
        for line in hit.answer.text.split("\n"):
            if line.strip():
                click.echo(f"  › {inert(line)}")
    unanswered = f", {marked.unanswered} unanswered" if marked.unanswered else ""
    count = f"{marked.questions} question{'s' if marked.questions != 1 else ''}"
    click.echo(f"saved to {inert(display_path(marked.set_path))} ({count}{unanswered})")
