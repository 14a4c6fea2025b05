"""Answer lines a reader can trust (issue 26, point 3): never a line without readable text of its
own, a list whose intro line answers comes with its items, a list item that only names a topic
answers through its sub-items, and a line among related ones beats a stray match."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import MODES, resolve_settings
from assistant.engine import Engine
from assistant.retrieve import answer, answer_unit
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
