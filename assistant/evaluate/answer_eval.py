"""Answer-line accuracy for the eval harness: does the rank-1 passage's answer hit the gold lines?

Among questions whose rank-1 passage hits a gold span, the share whose answer lines overlap a gold
span of the same file: overall, per kind, and beside two baselines computed on the same passages:
- "first line": the passage's first line that may answer (`answer.first_line`: not its heading,
  an image or markup), what a reader sees first;
- "shared words": the line of the sentence sharing most words with the question
  (`highlight.best_sentence`, what the chat app emphasised before answer lines), else the first line.
The average answer length in lines is reported beside them, so longer answers cannot buy accuracy
(each baseline is one line long).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from assistant.evaluate.metrics import Span
from assistant.retrieve.answer import first_line
from assistant.retrieve.answer_unit import passage_lines
from assistant.retrieve.highlight import best_sentence, query_terms
from assistant.retrieve.results import Hit

SELECTORS = ("answer", "first line", "shared words")
"""The selector and its two baselines, as named in reports."""


def answer_row(hit: Hit, gold: Sequence[Span], searched: str) -> dict[str, Any]:
    """For a rank-1 passage that hits the gold: whether each selector's lines overlap a gold span,
    and the answer's citation and length."""
    chunk = hit.chunk
    answer = hit.answer

    def right(start: int, end: int) -> bool:
        span = Span(chunk.file, start, end)
        return any(span.overlaps(entry) for entry in gold)

    lines = passage_lines([(chunk.text, chunk.end_line)])
    first = first_line(lines, chunk.table_header)
    text = "\n".join(line.text for line in lines)
    best = best_sentence(text, query_terms(searched))
    shared = lines[text.count("\n", 0, best[0])].number if best is not None else first.start_line
    return {
        "answer": right(answer.start_line, answer.end_line),
        "first line": right(first.start_line, first.end_line),
        "shared words": right(shared, shared),
        "lines": answer.end_line - answer.start_line + 1,
        "cited": f"{chunk.file}:{answer.start_line}-{answer.end_line}",
    }


def summarise(rows: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """(kind, answer_row) pairs → accuracy of each selector overall and per kind, with n and the
    answer's average length in lines."""

    def figures(group: Sequence[dict[str, Any]]) -> dict[str, float]:
        n = len(group)
        shares = {name: sum(bool(row[name]) for row in group) / n if n else 0.0 for name in SELECTORS}
        return shares | {"avg_lines": sum(row["lines"] for row in group) / n if n else 0.0, "n": n}

    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, row in rows:
        kinds[kind].append(row)
    return figures([row for _kind, row in rows]) | {
        "by_kind": {kind: figures(group) for kind, group in sorted(kinds.items())}
    }


def format_answers(mode: str, summary: dict[str, Any]) -> str:
    """Markdown table: the answer's accuracy beside both baselines, overall and per kind."""
    header = "| group | n | answer lines | first line | shared words | avg answer lines |"
    lines = [
        f"### {mode}: answer lines (rank-1 passages that hit the gold)",
        "",
        header,
        "|---|---|---|---|---|---|",
        _row("all", summary),
    ]
    lines += [_row(kind, group) for kind, group in summary["by_kind"].items()]
    return "\n".join(lines)


def _row(label: str, figures: dict[str, Any]) -> str:
    cells = " | ".join(f"{figures[name]:.3f}" for name in SELECTORS)
    return f"| {label} | {figures['n']} | {cells} | {figures['avg_lines']:.2f} |"
