"""Answer lines a reader can trust (issue 26, point 3): never a line without readable text of its
own, a list whose intro line answers comes with its items, a list item that only names a topic
answers through its sub-items, a line among related ones beats a stray match, and a table row is
read under its table's header row (what its columns name)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import MODES, resolve_settings
from assistant.engine import Engine
from assistant.retrieve import answer, answer_unit, line_signals
from assistant.retrieve.answer import Answer, answer_lines, first_line
from assistant.retrieve.answer_unit import has_words, passage_lines
from tests import messy
from tests.conftest import FakeEmbedder
from tests.test_answer import choose, scores_for

ROUTE_53 = """Route 53 supports the following routing policies:
- **Simple Policy**: returns the same IP address every time.
- **Weighted Policy**: distributes amounts of traffic to servers.
- **Failover**: routes traffic to a backup server.
- **Latency-Based**: routes users to the fastest server.
- **Geolocation**: routes by the user's location.
- **Multi-Value Answer**: returns several IP addresses.
- **Geo Proximity**: like geolocation, with a bias.

DNS does not route any traffic."""


@pytest.mark.parametrize(
    "line",
    [
        "![alt text](./Images/image-8.png)",
        '<img width="745" alt="Screenshot 2024-10-20 at 17 14 19" src="https://example.com/a.png">',
        "  [click](../images/CMK-cross-ac.PNG)",
        "---",
        "</details>",
        "| --- | --- |",
    ],
)
def test_a_line_without_readable_words_of_its_own_never_answers(line: str) -> None:
    assert not has_words(line)
    text = f"{line}\nThe gateway endpoint adds a route to the route table."
    # Even when the line scores highest on both signals, the line with words answers.
    span = choose(text, {line[:6]: 0.95, "gateway": 0.2}, {line[:6]: 0.9, "gateway": 0.1})
    assert (span.start_line, span.end_line) == (100, 100)


def test_an_image_with_words_around_it_still_counts_them() -> None:
    assert has_words("See ![diagram](a.png) for how the NAT gateway routes traffic")
    assert has_words("`aws configure`") and has_words("3389: RDP")


def test_the_fallback_first_line_skips_images_too() -> None:
    lines = passage_lines([("![alt text](./Images/image-8.png)\nA gateway endpoint is free.", 5)])
    assert first_line(lines) == Answer(5, 5, "A gateway endpoint is free.", scored=False)


def test_a_list_whose_intro_line_answers_comes_with_its_items() -> None:
    span = choose(ROUTE_53, {"following routing policies": 0.9}, {"following routing policies": 0.9}, end_line=10)
    assert (span.start_line, span.end_line) == (1, 8)
    assert span.text.splitlines()[-1].startswith("- **Geo Proximity**")


def test_a_list_too_long_to_read_at_a_glance_brings_only_its_first_item() -> None:
    items = "\n".join(f"- item {i} of a long list" for i in range(answer_unit.MAX_LIST_LINES + 1))
    span = choose(f"The options are:\n{items}", {"options": 0.9}, {"options": 0.9}, end_line=50)
    assert span.end_line - span.start_line == 1


def test_an_item_of_the_list_still_answers_alone() -> None:
    span = choose(ROUTE_53, {"Failover": 0.9}, {"Failover": 0.9}, end_line=10)
    assert (span.start_line, span.end_line) == (4, 4)


def test_a_topic_item_answers_through_its_best_sub_item() -> None:
    text = "- Spot Fleet Strategies\n  - Lowest Price: a\n  - Diversified: spread\n  - Capacity: c\n  - Price: d"
    lines = passage_lines([(text, 10)])
    assert answer_unit.is_topic_item([line.text for line in lines], 0)
    span = choose(text, {"Spot Fleet": 0.9, "Diversified": 0.6}, {"Spot Fleet": 0.9, "Diversified": 0.6}, end_line=10)
    assert (span.start_line, span.end_line) == (8, 8)
    # A sentence with sub-items is no topic: it may answer.
    assert not answer_unit.is_topic_item(
        ["- Rules have a number from 1 to 32766, lower first", *text.splitlines()[1:]], 0
    )


def test_a_line_among_related_lines_beats_a_stray_match_of_the_same_score() -> None:
    text = "A stray line.\n\nFirst related line.\nThe related answer.\nLast related line.\n\nAn unrelated line."
    lines = passage_lines([(text, 20)])
    cosines = scores_for(lines, {"stray": 0.8, "answer": 0.8, "First related": 0.7, "Last related": 0.7})
    best = answer.best_line(lines, cosines)
    assert best is not None and lines[best].text == "The related answer."


def test_a_neighbour_that_scores_as_well_joins_a_one_line_answer() -> None:
    text = "Unrelated opening line.\nThe limit is 125 peerings.\nTransit gateway allows 5000.\nUnrelated close."
    span = choose(text, {"125": 0.8, "5000": 0.79, "Unrelated": 0.1}, end_line=4)
    assert (span.start_line, span.end_line) == (2, 3)
    far = choose(text, {"125": 0.9, "5000": 0.3, "Unrelated": 0.1}, end_line=4)
    assert (far.start_line, far.end_line) == (2, 2)


def test_answer_lines_never_pick_an_image_in_a_real_search(tmp_path: Path) -> None:
    notes = {
        "vpc.md": "# VPC\n\n## Gateway endpoint\n\n![gateway endpoint route table](./Images/image-8.png)\n\n"
        "A gateway endpoint adds a route to your route table for S3.\n\nIt costs nothing.\n",
        "other.md": "# Other\n\n## Lambda\n\nFunctions run on events.\n",
    }
    corpus = messy.write_notes(tmp_path / "notes", notes)
    settings = resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "ix", "model": "fake-bow"}).settings
    model = FakeEmbedder()
    engine = Engine(settings, embedder=model, encoder=model)
    engine.open()
    for mode in MODES:
        hit = engine.search("gateway endpoint route table", k=1, mode=mode).hits[0]
        assert "Images" not in hit.answer.text and has_words(hit.answer.text), mode
        assert hit.answer.text.startswith("A gateway endpoint adds a route")


def test_every_answer_line_of_a_passage_has_words(tmp_path: Path) -> None:
    lines = passage_lines([(ROUTE_53 + "\n![diagram](x.png)\n---", 12)])
    for key in ("Route 53", "Simple", "diagram", "DNS"):
        span = answer_lines(lines, scores_for(lines, {key: 0.9}), scores_for(lines, {key: 0.9}))
        assert all(has_words(line) or not line.strip() for line in span.text.splitlines()[:1])
        assert has_words(span.text.splitlines()[0])


def test_the_gate_holds_the_answers_average_length() -> None:
    from assistant.evaluate.compare import MAX_ANSWER_LINES, answer_length_failures
    from assistant.evaluate.metrics import HEADLINE
    from assistant.evaluate.run import RunResult

    def result(avg_lines: float) -> RunResult:
        metrics = dict.fromkeys(HEADLINE, 0.8)
        answers = {"answer": 0.9, "avg_lines": avg_lines, "n": 10}
        return RunResult("hybrid", metrics, {}, {}, [], 10.0, 500.0, 9.0, answers)

    assert answer_length_failures([result(MAX_ANSWER_LINES)]) == []
    (failure,) = answer_length_failures([result(MAX_ANSWER_LINES + 0.1)])
    assert failure.ceiling and failure.metric == "answer lines' average length" and failure.baseline == 1.5


# --- a table row read under its header row ----------------------------------------------------------

TIMBER = """Every board below is kiln-dried before it is sold.
| | Oak | Pine | Birch |
|---|---|---|---|
| Grain | coarse | straight | fine |
| Hardness (Janka) | 1290 | 380 | 1260 |
| Best for | floors | framing | cabinets |
Kiln-dried boards keep their shape for decades."""


def _unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


def test_a_row_answers_under_the_header_that_names_its_columns() -> None:
    # "which wood for cabinets": the kinds of wood (e0), which only the header names, and a use (e1).
    e = np.eye(8, dtype=np.float32)
    question = _unit(e[0] + e[1])
    vectors = np.stack(
        [
            _unit(e[0] + 2 * e[5]),
            _unit(e[0] + 0.3 * e[1] + 0.5 * e[2]),  # the header row: the kinds of wood
            _unit(0.2 * e[1] + e[3]),
            _unit(0.2 * e[1] + e[4]),
            _unit(e[1] + 0.4 * e[0] + 0.4 * e[6]),  # "Best for": a use, of what only the header says
            _unit(e[0] + e[1] + 0.9 * e[7]),  # the paragraph: about boards and their use, loosely
        ]
    )
    lines = passage_lines([(TIMBER, 7)])
    alone: list[float | None] = [None if line.unit is None else float(vectors[line.unit] @ question) for line in lines]
    # Each line read alone, the paragraph under the table answers.
    assert answer_lines(lines, alone).start_line == 7
    span = answer.answer_for_passage([(TIMBER, 7)], question, vectors)
    assert (span.start_line, span.end_line, span.header) == (6, 6, "| | Oak | Pine | Birch |")


def _cosines_by_line(*pieces: tuple[str, int]) -> dict[str, float]:
    """Each line's cosine (by its text) to a question along e0, every line vector its own axis plus
    half of e0: read alone, each line's cosine is `ALONE`; a row read under a header row, `UNDER`."""
    lines = passage_lines(pieces)
    units = sum(line.unit is not None for line in lines)
    e = np.eye(units + 1, dtype=np.float32)
    vectors = np.stack([_unit(e[i + 1] + 0.5 * e[0]) for i in range(units)])
    cosines = line_signals.line_cosines(lines, e[0], vectors)
    return {line.text: value for line, value in zip(lines, cosines, strict=True) if value is not None}


ALONE = pytest.approx(0.5 / np.sqrt(1.25), abs=1e-6)
UNDER = pytest.approx(1.0 / np.sqrt(2 * 1.25 + 2 * 0.25), abs=1e-6)
"""(e_i + e0/2) + (e_j + e0/2): its cosine to e0 is (0.5 + 0.5) / |sum|, |sum|² = 2 · 1.25 + 2 · 0.25."""


def test_each_table_row_is_read_under_its_own_tables_header() -> None:
    text = "| Name | Size |\n|---|---|\n| alpha | 1 |\nBetween the tables.\n| Kind | Use |\n| --- | --- |\n| beta | 2 |"
    assert answer_unit.header_rows(text.split("\n")) == [None, 0, 0, None, None, 4, 4]
    cosines = _cosines_by_line((text, 50))
    assert cosines["| alpha | 1 |"] == UNDER and cosines["| beta | 2 |"] == UNDER
    # The header rows and the line between the tables keep their own.
    assert cosines["| Name | Size |"] == ALONE and cosines["| Kind | Use |"] == ALONE
    assert cosines["Between the tables."] == ALONE


@pytest.mark.parametrize(
    "text",
    [
        # No rule under the first row: no table to Markdown, or a piece cut from inside a table.
        "| alpha | 1 |\n| beta | 2 |",
        "|---|---|\n| gamma | 3 |",  # a piece that starts at its table's rule: the header ended the last
        "|   |   |\n|---|---|\n| delta | 4 |",  # a header row of empty cells names nothing (and has no vector)
        "| Name | Size |\n|---|---|\nA line after a table of only its header row.",
    ],
)
def test_a_row_without_its_header_row_in_the_passage_is_read_alone(text: str) -> None:
    cosines = _cosines_by_line((text, 50))
    assert list(cosines.values()) == [ALONE] * len(cosines)


def test_a_header_row_alone_never_answers() -> None:
    text = "| Name | Size |\n|---|---|\nA line after a table of only its header row."
    span = choose(text, {"Name": 0.9, "after": 0.2}, {"Name": 0.9, "after": 0.2})
    assert (span.start_line, span.end_line) == (100, 100)


def test_a_table_split_across_joined_pieces_reads_its_later_rows_under_its_header() -> None:
    first, second = "| Name | Size |\n|---|---|\n| alpha | 1 |", "| beta | 2 |\n| gamma | 3 |"
    cosines = _cosines_by_line((first, 12), (second, 14))
    assert [cosines[row] for row in ("| alpha | 1 |", "| beta | 2 |", "| gamma | 3 |")] == [UNDER] * 3
    # Alone, the later piece's rows are read alone, and show the chunk's header row above them.
    assert list(_cosines_by_line((second, 14)).values()) == [ALONE] * 2
    span = choose(second, {"gamma": 0.9}, header="| Name | Size |")
    assert (span.start_line, span.header) == (100, "| Name | Size |")
