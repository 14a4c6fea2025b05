"""A table too wide for the card reads as one `header: value` record per row (table_records.py)."""

from __future__ import annotations

from assistant.tui.widgets.table_records import cells, table_width, tables_as_records

TABLE = [
    "Classes:",
    "| Storage class | Min storage duration | Typical use |",
    "|---|---|---|",
    "| S3 Standard | none | Frequently accessed data |",
    "| **Glacier** Deep Archive | 180 days | Archives kept for years |",
    "After the table.",
]


def test_cells_and_the_width_a_table_needs() -> None:
    assert cells("| a | `b\\|c` | d |") == ["a", "`b\\|c`", "d"]
    # Widest cell of each column (markup not counted), padded by 2, one column between cells.
    assert table_width(TABLE[1:5]) == (20 + 2) + (20 + 2) + (24 + 2) + 2


def test_a_table_that_fits_is_left_alone() -> None:
    assert tables_as_records(TABLE, range(4, 5), 200) == (TABLE, range(4, 5))


def test_a_wide_table_becomes_records_and_the_answer_row_its_record() -> None:
    lines, answer = tables_as_records(TABLE, range(4, 5), 60)
    assert lines == [
        "Classes:",
        "- **Storage class:** S3 Standard\\",
        "  **Min storage duration:** none\\",
        "  **Typical use:** Frequently accessed data",
        "- **Storage class:** **Glacier** Deep Archive\\",
        "  **Min storage duration:** 180 days\\",
        "  **Typical use:** Archives kept for years",
        "",
        "After the table.",
    ]
    assert answer == range(4, 7)
    # Lines outside the table keep their answer; a header row answers nothing of its own.
    assert tables_as_records(TABLE, range(5, 6), 60)[1] == range(8, 9)
    assert tables_as_records(TABLE, range(1, 2), 60)[1] == range(0)
