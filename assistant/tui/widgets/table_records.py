"""A Markdown table too wide for the card, rewritten as one record per row: `header: value` lines.

Why: Textual lays a table out in its columns and cuts every cell that does not fit with "…"; at 80
columns a five-column table (S3's storage classes) showed nothing but cut cells. A row read as
"**Class:** Glacier / **Min storage:** 90 days" fits any width and still says which value is which.
Pure text in, text out: the passage's Markdown source lines, and which of them are the answer, so
the answer stays emphasised in its row's record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.notes.outline import TABLE_RULE
from assistant.retrieve.answer_unit import plain_text

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
CELL_PADDING = 2
"""Columns Textual's Markdown table spends around each cell (padding 0 1), besides one between cells."""


def cells(row: str) -> list[str]:
    """A table row's cells, stripped ("| a | b |" → ["a", "b"]); an escaped pipe stays in its cell."""
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip() for cell in _CELL_SPLIT.split(inner)]


def table_width(rows: Sequence[str]) -> int:
    """Columns a table needs with no cell cut: its widest cell in each column, padded, plus gutters."""
    widths: list[int] = []
    for row in rows:
        for column, cell in enumerate(cells(row)):
            width = len(plain_text(cell))
            if column < len(widths):
                widths[column] = max(widths[column], width)
            else:
                widths.append(width)
    return sum(width + CELL_PADDING for width in widths) + max(0, len(widths) - 1)


def tables_as_records(lines: Sequence[str], answer: range, width: int) -> tuple[list[str], range]:
    """The lines with every table wider than `width` written as a list of records (one item per
    row, a `**header:** value` line per cell), and where the answer lines are now."""
    out: list[str] = []
    moved: list[range] = []  # for each line in, the lines out that show it
    i = 0
    while i < len(lines):
        end = _table_end(lines, i)
        if end is None or table_width([lines[i], *lines[i + 2 : end]]) <= width:
            moved.append(range(len(out), len(out) + 1))
            out.append(lines[i])
            i += 1
            continue
        names = [plain_text(name) for name in cells(lines[i])]
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        moved += [range(len(out), len(out))] * 2  # the header row and rule: every record names its columns
        for row in lines[i + 2 : end]:
            first = len(out)
            out.extend(_record(names, cells(row), indent))
            moved.append(range(first, len(out)))
        if end < len(lines) and lines[end].strip():
            out.append("")  # or the next line would read as the last record's continuation
        i = end
    shown = [line for index in answer if index < len(moved) for line in moved[index]]
    return out, range(min(shown), max(shown) + 1) if shown else range(0)


def _table_end(lines: Sequence[str], i: int) -> int | None:
    """Where the table whose header row is line i ends (exclusive), or None if line i heads none."""
    if not lines[i].lstrip().startswith("|") or i + 1 >= len(lines) or not TABLE_RULE.match(lines[i + 1]):
        return None
    end = i + 2
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    return end


def _record(names: Sequence[str], values: Sequence[str], indent: str) -> list[str]:
    """One row as a list item: a `**name:** value` line per filled cell, joined by hard breaks."""
    pairs = [
        f"**{names[column]}:** {value}" if column < len(names) and names[column] else value
        for column, value in enumerate(values)
        if value
    ] or [""]
    lines = [f"{indent}- {pairs[0]}", *(f"{indent}  {pair}" for pair in pairs[1:])]
    return [line + "\\" for line in lines[:-1]] + [lines[-1]]
