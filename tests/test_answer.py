"""The answer lines (answer.py, answer_unit.py) on small hand-made passages, and wired into search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import Mode
from assistant.notes.outline import readable
from assistant.retrieve import answer, answer_unit, line_signals
from assistant.retrieve.answer import Answer, answer_lines
from assistant.retrieve.answer_unit import PassageLine, passage_lines
from assistant.store.token_vectors import token_lines


def scores_for(lines: Sequence[PassageLine], by_text: dict[str, float], default: float = 0.1) -> list[float | None]:
    """Per line: the score of the first key the line contains, else `default`; None where no vector."""
    out: list[float | None] = []
    for line in lines:
        if line.unit is None:
            out.append(None)
            continue
        out.append(next((value for key, value in by_text.items() if key in line.text), default))
    return out


def choose(
    text: str,
    cosine: dict[str, float],
    maxsim: dict[str, float] | None = None,
    end_line: int = 100,
    header: str = "",
) -> Answer:
    lines = passage_lines([(text, end_line)])
    return answer_lines(
        lines,
        scores_for(lines, cosine),
        None if maxsim is None else scores_for(lines, maxsim),
        table_header_row=header,
    )


# --- passage lines ----------------------------------------------------------------------------------


def test_text_lines_are_numbered_back_from_the_end_line() -> None:
    # A chunk's text leaves out its heading line, so it starts after start_line but ends on end_line.
    lines = passage_lines([("First statement here.\n\n- an item of the list", 12)])
    assert [line.number for line in lines] == [10, 11, 12]
    assert [line.unit for line in lines] == [0, None, 1]


def test_joined_pieces_keep_their_gap_and_count_units_across_pieces() -> None:
    lines = passage_lines([("alpha line one\nbeta", 5), ("gamma line three", 7)])
    assert [(line.number, line.text) for line in lines] == [
        (4, "alpha line one"),
        (5, "beta"),
        (6, ""),
        (7, "gamma line three"),
    ]
    # "beta" is 4 characters but trivial-length lines (<= 3) only are skipped: it has a vector.
    assert [line.unit for line in lines] == [0, 1, None, 2]
    assert [line.piece for line in lines] == [0, 0, 1, 1]
    assert [line.piece_line for line in lines] == [0, 1, None, 0]


def test_markup_and_very_short_lines_have_no_vector() -> None:
    lines = passage_lines([("| --- | --- |\n***\nok\n- real content", 4)])
    assert [line.unit for line in lines] == [None, None, None, 0]


def test_unit_rows_agree_with_the_indexers_line_units() -> None:
    from assistant.notes import chunk as chunk_module

    text = (
        "Intro line with words\n\n| a | b |\n|---|---|\n| x | y |\n- item\n  - sub item\n***\n> quote here\n"
        "<img src='x.png'>\n```\ncode line()\n```\n#\n== ==\nab\nabcd"
    )
    chunk = chunk_module.Chunk("notes.md", ("Topic",), 1, text.count("\n") + 1, text)
    lines = passage_lines([(text, chunk.end_line)])
    assert sum(line.unit is not None for line in lines) == len(chunk_module.line_units(chunk))


def test_line_cosines_maps_vector_rows_to_lines_and_checks_the_count() -> None:
    lines = passage_lines([("first line here\n\nsecond line here", 3)])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert line_signals.line_cosines(lines, np.array([0.0, 1.0], dtype=np.float32), vectors) == [0.0, None, 1.0]
    with pytest.raises(ValueError):
        line_signals.line_cosines(lines, np.array([0.0, 1.0], dtype=np.float32), vectors[:1])


# --- token MaxSim -----------------------------------------------------------------------------------


def test_tokens_map_to_text_lines_after_the_context_line() -> None:
    embedding_text = "Topic > Sub\nfirst line\nsecond line"
    offsets = [(0, 5), (12, 17), (18, 22), (23, 29), (30, 34)]
    assert token_lines(embedding_text, offsets) == [-1, 0, 0, 1, 1]


def test_line_maxsim_uses_the_lines_own_tokens_not_its_neighbours() -> None:
    e1, e2, e3 = np.eye(3, dtype=np.float32)
    query = np.stack([e1, e2])
    tokens = np.stack([e3, e1, e1, e2])  # context token, line 0: e1, line 1: e1 e2
    owners = np.array([-1, 0, 1, 1])
    result = line_signals.line_maxsims(query @ tokens.T, owners, 3)
    assert result[0] == pytest.approx(0.5)
    assert result[1] == pytest.approx(1.0)
    assert result[2] is None  # no token kept for it


def test_line_maxsim_credits_every_line_with_what_its_heading_matches() -> None:
    e1, e2, e3 = np.eye(3, dtype=np.float32)
    query = np.stack([e1, e2])  # e1: a word the heading holds, e2: the word that tells lines apart
    tokens = np.stack([e1, e1, e3, e2])  # context: e1; line 0 repeats e1; line 1: e3; line 2: e2
    result = line_signals.line_maxsims(query @ tokens.T, np.array([-1, 0, 1, 2]), 3)
    credit = line_signals.HEADING_CREDIT
    assert result == pytest.approx([0.5, credit / 2, (credit + 1) / 2])
    assert credit < 1, "the heading's word counts for every line, a little less than in the line itself"


def test_gather_places_per_piece_values_on_passage_lines() -> None:
    lines = passage_lines([("one line a", 1), ("two line b\nthree line c", 4)])
    assert line_signals.gather(lines, [[0.5], [0.1, 0.9]]) == [0.5, None, 0.1, 0.9]


# --- choosing the line --------------------------------------------------------------------------------

NACL = """**NACL** are like a firewall which control traffic from and to subnets.

- One NACL per subnet, new subnets are assigned the Default NACL
- Newly created NACLs will deny everything"""


def test_the_highest_scoring_line_answers() -> None:
    span = choose(NACL, {"like a firewall": 0.7, "One NACL": 0.5, "Newly": 0.4}, end_line=1360)
    assert (span.start_line, span.end_line) == (1357, 1357)
    assert span.text.startswith("**NACL** are like a firewall")
    assert span.scored


def test_maxsim_outvotes_a_label_that_only_its_heading_made_similar() -> None:
    text = "Consists of:\n- Version: policy language version\n- Statement: one or more statements"
    # Cosine alone prefers the bare label (its vector is mostly the heading)...
    assert choose(text, {"Consists": 0.83, "Version": 0.71, "Statement": 0.75}).start_line == 98
    # ...the label's own tokens match little of the question: with MaxSim a statement wins.
    span = choose(text, {"Consists": 0.83, "Version": 0.71, "Statement": 0.75}, {"Consists": 0.2, "Statement": 0.6})
    assert (span.start_line, span.end_line) == (100, 100)


def test_ties_go_to_the_earlier_line() -> None:
    span = choose("First equal line.\nSecond equal line.", {"equal": 0.5})
    # The earlier line leads; its equal neighbour joins it (answer.TIE).
    assert (span.start_line, span.end_line) == (99, 100)


def test_a_heading_line_never_answers() -> None:
    text = "## Spot instances\nBid for unused capacity at a lower price."
    span = choose(text, {"Spot": 0.95, "Bid": 0.3})
    assert (span.start_line, span.end_line) == (100, 100)


def test_a_passage_of_only_a_heading_falls_back_unscored() -> None:
    span = choose("## Load Balancing", {"Load": 0.9}, end_line=545)
    assert (span.start_line, span.end_line, span.scored) == (545, 545, False)


def test_an_image_line_never_answers() -> None:
    text = '<img width="422" alt="Screenshot 2024-10-16" src="https://x/y.png">\n- m = general purpose'
    span = choose(text, {"<img": 0.9, "general": 0.2})
    assert (span.start_line, span.end_line) == (100, 100)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('<img width="1378" alt="Screenshot 2024-10-20" src="https://x/y.png">', False),
        ("[https://aws.amazon.com/about-aws/](https://aws.amazon.com/about-aws/)", False),
        ("</details>", False),
        ("+-----------+    +-----------+", False),
        ("`http://169.254.169.254/latest/meta-data/`", True),
        ("[Region table](https://aws.amazon.com/x)", True),
        ("- m = general purpose", True),
    ],
)
def test_readable_lines(line: str, expected: bool) -> None:
    assert readable(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Sources: [S3 pricing](https://a/b), [S3 SLA](https://a/c), [Glacier pricing](https://a/d)", True),
        ("- Open-source [AWS CLI GitHub](https://github.com/aws/aws-cli)", True),
        ("- EFS can offer [higher throughput](https://a/b) (multiple gigabytes per second)", False),
        ("- Allows you to develop scripts to manage resources", False),
    ],
)
def test_a_line_mostly_of_link_text_is_a_reference(line: str, expected: bool) -> None:
    assert answer_unit.is_reference(line) is expected


def test_a_reference_line_never_answers_beside_a_statement() -> None:
    text = "- Allows you to develop scripts\n- Open-source [AWS CLI GitHub](https://github.com/aws/aws-cli)"
    span = choose(text, {"Open-source": 0.9, "scripts": 0.2})
    assert (span.start_line, span.text) == (99, "- Allows you to develop scripts")


def test_a_passage_of_only_references_still_answers_with_its_best() -> None:
    text = "- [User guide](https://a/ug)\n- [Pricing page](https://a/pricing)"
    span = choose(text, {"Pricing": 0.9, "User": 0.1})
    assert (span.start_line, span.scored) == (100, True)


def test_a_label_that_introduces_only_an_image_never_answers() -> None:
    text = "- NAT gateways bill for the data they process\n- This figure gives an overview:\n\n![Costs](figs/c.png)"
    span = choose(text, {"figure": 0.9, "NAT": 0.3})
    assert (span.start_line, span.end_line) == (97, 97)


def test_an_image_only_passage_falls_back_unscored() -> None:
    span = choose('<img width="1378" alt="Screenshot" src="https://x/y.png">', {"img": 0.9})
    assert not span.scored


def test_mismatched_signal_lengths_are_refused() -> None:
    lines = passage_lines([("one line here", 1)])
    with pytest.raises(ValueError):
        answer_lines(lines, [0.5, 0.2])


# --- growing the line into its unit -------------------------------------------------------------------

TTL = """- **High TTL** - e.g. 24 hr:
  - Less traffic on Route 53
  - Possibly outdated records
- **Low TTL** - e.g. 60 sec:
  - More traffic on Route 53, more expensive
  - Records are outdated for less time
  - Easy to change records
  - Mandatory for each record
- Free of charge"""


def test_a_list_item_brings_its_few_sub_items() -> None:
    span = choose(TTL, {"High TTL": 0.8}, end_line=9)
    assert (span.start_line, span.end_line) == (1, 3)
    assert span.text.splitlines()[-1].strip() == "- Possibly outdated records"


def test_a_label_brings_the_sub_items_it_introduces() -> None:
    span = choose(TTL, {"Low TTL": 0.8}, end_line=9)
    assert (span.start_line, span.end_line) == (4, 8)


def test_an_item_that_only_names_the_topic_of_many_sub_items_answers_through_them() -> None:
    text = "- Spread Placement Group\n  - Objective: a\n  - Behavior: b\n  - Advantages: c\n  - Risks: seven per AZ"
    span = choose(text, {"Spread": 0.8, "Risks": 0.5})
    assert (span.start_line, span.end_line) == (100, 100)


def test_a_sub_item_alone_does_not_pull_in_its_parent_or_siblings() -> None:
    span = choose(TTL, {"Possibly outdated": 0.8}, end_line=9)
    assert (span.start_line, span.end_line) == (3, 3)


def test_a_label_line_brings_the_line_it_introduces() -> None:
    text = "Uses AWS Application Auto Scaling:\n\n- ECS Service Average CPU Utilisation\n- ALB request count"
    span = choose(text, {"Uses AWS": 0.9}, end_line=40)
    assert (span.start_line, span.end_line) == (37, 40), "a label brings the list it introduces"


def test_a_label_with_an_aside_after_its_colon_brings_its_list() -> None:
    text = "Fargate Launch type: (Serverless)\n\n- No EC2 instances to manage\n- Only define CPU and memory"
    span = choose(text, {"Fargate": 0.9}, end_line=40)
    assert (span.start_line, span.end_line) == (37, 40)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Fargate Launch type: (Serverless)", True),
        ("- **High TTL** - e.g. 24 hr:", True),
        ("Durability: Amazon S3 provides the most durable storage.", False),
        ("- Standard (12 hours)", False),
    ],
)
def test_labels(line: str, expected: bool) -> None:
    assert answer_unit.is_label(line) is expected


def test_a_label_brings_the_short_code_block_it_introduces() -> None:
    text = "Retrieve instance metadata with the following command:\n\n```sh\ncurl http://169.254.169.254/latest/meta-data/\n```"
    span = choose(text, {"Retrieve": 0.9}, end_line=40)
    assert (span.start_line, span.end_line) == (36, 40)


def test_a_label_stays_alone_over_a_long_code_block() -> None:
    code = "\n".join(f"echo step {n}" for n in range(10))
    text = f"Run the whole setup:\n```sh\n{code}\n```"
    span = choose(text, {"Run the whole": 0.9}, end_line=112)
    assert (span.start_line, span.end_line) == (100, 100)


def test_a_callout_marker_brings_its_message() -> None:
    text = "> [!WARNING]\n> Never set the logging bucket to store logs in itself."
    span = choose(text, {"WARNING": 0.9})
    assert (span.start_line, span.end_line) == (99, 100)


def test_a_wrapped_paragraph_is_one_answer() -> None:
    text = "a report that lists all your account's users and the status of their various\ncredentials\n\nNext one."
    span = choose(text, {"credentials": 0.9, "report": 0.8}, end_line=479)
    assert (span.start_line, span.end_line) == (476, 477)


def test_separate_sentences_on_consecutive_lines_stay_apart() -> None:
    text = "It is possible to bootstrap instances.\nBootstrapping means launching commands at start."
    span = choose(text, {"Bootstrapping": 0.9})
    assert (span.start_line, span.end_line) == (100, 100)


TABLE = """| Feature    | Amazon EBS        | Amazon EFS       |
| ---------- | ----------------- | ---------------- |
| Durability | 99.999%           | 11 nines         |
| Usage      | Single instance   | Many instances   |"""


def test_a_table_row_answers_alone_with_its_header_for_display() -> None:
    span = choose(TABLE, {"Durability": 0.8}, end_line=4)
    assert (span.start_line, span.end_line) == (3, 3)
    assert span.header.startswith("| Feature")


def test_a_table_row_takes_no_indented_line_after_it() -> None:
    text = "| Durability | 11 nines |\n    designed for, per year\n    not an SLA"
    span = choose(text, {"Durability": 0.9})
    assert (span.start_line, span.end_line) == (98, 98)


def test_a_winning_table_header_hands_over_to_its_best_row() -> None:
    span = choose(TABLE, {"Feature": 0.9, "Usage": 0.6, "Durability": 0.5}, end_line=4)
    assert (span.start_line, span.end_line) == (4, 4)
    assert span.header.startswith("| Feature")


def test_a_split_table_piece_takes_its_header_from_the_chunk() -> None:
    text = "| Durability | 99.999% | 11 nines |\n| Usage | Single | Many |"
    span = choose(text, {"Usage": 0.9}, header="| Feature | EBS | EFS |")
    assert (span.start_line, span.end_line, span.header) == (100, 100, "| Feature | EBS | EFS |")


def test_answers_without_token_vectors_use_the_cosine_alone() -> None:
    lines = passage_lines([(NACL, 1360)])
    span = answer_lines(lines, scores_for(lines, {"Newly": 0.9}), None)
    assert span.start_line == 1360


def test_a_bm25_only_search_chooses_by_weighted_terms() -> None:
    lines = passage_lines([(NACL, 1360)])
    weights = {"nacl": 1.0, "default": 3.0}
    terms = [set(line.text.lower().replace(",", " ").split()) for line in lines]
    lexical = line_signals.lexical_scores(terms, weights)
    assert lexical[2] == 4.0
    span = answer_lines(lines, None, None, lexical)
    assert span.start_line == 1359


def test_lexical_scores_are_ignored_beside_a_cosine() -> None:
    lines = passage_lines([(NACL, 1360)])
    span = answer_lines(lines, scores_for(lines, {"Newly": 0.9}), None, scores_for(lines, {"One NACL": 9.0}))
    assert span.start_line == 1360


FLOW_LOGS = """- **Only metadata**, not the content of packets.
- Metadata includes:
  - Source IP address
  - Packet size
  - Action (accepted or rejected)"""


def test_a_question_asking_what_is_not_so_favours_a_line_that_says_not() -> None:
    lines = passage_lines([(FLOW_LOGS, 5)])
    cosines = scores_for(lines, {"Action": 0.9, "Only metadata": 0.8, "Metadata includes": 0.8}, 0.75)
    assert answer_lines(lines, cosines).start_line == 5
    assert answer_lines(lines, cosines, negation=True).start_line == 1


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what does vpc flow logs not capture", True),
        ("which services dont make me pick a location first", True),
        ("what kind of traffic is not logged", True),
        ("which of these cannot be resized", True),
        ("what happens when the cdn doesnt have my file cached", False),
        ("why cant i use a cname on my root domain", False),
        ("how do i ssh to a server that has no public address", False),
        ("what does vpc flow logs capture", False),
    ],
)
def test_questions_asking_what_is_not_so(question: str, expected: bool) -> None:
    assert answer.asks_what_not(question) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- **Only metadata**, not the content of packets.", True),
        ("- Newly created NACLs won't allow anything", True),
        ("Data is not encrypted", True),
        ("- Action (accepted or rejected)", False),
        ("- Notifications go to the topic", False),
    ],
)
def test_lines_saying_what_is_not_so(line: str, expected: bool) -> None:
    assert answer_unit.has_negation(line) is expected


def test_answer_for_passage_wires_the_signals_together() -> None:
    text = "Consists of:\n- Version: policy language version\n- Statement: one or more statements"
    e1, e2, e3 = np.eye(3, dtype=np.float32)
    query_vector = e1
    line_vectors = np.stack([e1, 0.5 * e1 + 0.5 * e2, 0.7 * e1 + 0.3 * e3])  # the label is closest
    embedding_text = "Policy\n" + text
    # One token per line: the label's token is off, the "Statement" line's token matches the question.
    offsets = [(0, 6), (7, 15), (20, 27), (58, 67)]
    owners = token_lines(embedding_text, offsets)
    assert owners == [-1, 0, 1, 2]
    tokens = np.stack([e3, e3, e2, e1])
    span = answer.answer_for_passage(
        [(text, 30)], query_vector, line_vectors, piece_tokens=[(np.stack([e1]) @ tokens.T, np.array(owners))]
    )
    assert (span.start_line, span.end_line) == (30, 30)
    # Without token vectors the cosine alone picks the label, which brings the list it introduces.
    span = answer.answer_for_passage([(text, 30)], query_vector, line_vectors)
    assert (span.start_line, span.end_line) == (28, 30)
    # Without any vector, the lexical signal decides.
    span = answer.answer_for_passage(
        [(text, 30)], None, None, terms_of=lambda line: set(line.lower().split()), term_weights={"version:": 2.0}
    )
    assert span.start_line == 29


# --- invariants -----------------------------------------------------------------------------------

LINE_KINDS = [
    "## A heading",
    "Plain statement with words.",
    "- list item text",
    "  - nested sub item",
    "    - deeper sub item",
    "Label line:",
    "| col a | col b |",
    "| --- | --- |",
    "| row x | row y |",
    "",
    '<img src="x.png">',
    "```",
    "continued lowercase text",
    "ab",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(LINE_KINDS), min_size=1, max_size=25),
    st.integers(min_value=1, max_value=5000),
    st.lists(st.floats(min_value=-1, max_value=1), min_size=25, max_size=25),
    st.lists(st.floats(min_value=-1, max_value=1), min_size=25, max_size=25),
    st.booleans(),
)
def test_the_answer_lies_in_the_passage_and_is_its_own_lines(
    rows: list[str], end_line: int, cos: list[float], sims: list[float], with_tokens: bool
) -> None:
    text = "\n".join(rows)
    end_line = max(end_line, len(rows))
    lines = passage_lines([(text, end_line)])
    cosines: list[float | None] = [None if line.unit is None else cos[i] for i, line in enumerate(lines)]
    maxsims: list[float | None] = [None if line.unit is None else sims[i] for i, line in enumerate(lines)]
    span = answer_lines(lines, cosines, maxsims if with_tokens else None)
    first, last = lines[0].number, lines[-1].number
    assert first <= span.start_line <= span.end_line <= last
    chosen = [line.text for line in lines if span.start_line <= line.number <= span.end_line]
    assert span.text == "\n".join(chosen)
    if span.scored:
        start = chosen[0]
        assert not start.startswith("#") and readable(start) and start.strip() != "```"
        assert not answer_unit.is_table_header([line.text for line in lines], span.start_line - first)
        assert not math.isnan(float(span.start_line))


# --- wired into search ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_search_result_has_answer_lines_inside_its_passage(small_index: Path, mode: Mode) -> None:
    from assistant.retrieve.search import Searcher
    from tests.conftest import FakeEmbedder

    searcher = Searcher.load(small_index, encoder=FakeEmbedder())
    hits = searcher.search("lambda timeout minutes", k=5, mode=mode).hits
    assert hits
    for hit in hits:
        answer, chunk = hit.answer, hit.chunk
        assert chunk.start_line <= answer.start_line <= answer.end_line <= chunk.end_line
        shown = chunk.text.split("\n")
        first = chunk.end_line - len(shown) + 1
        assert answer.text == "\n".join(shown[answer.start_line - first : answer.end_line - first + 1])
    top = hits[0]
    assert top.chunk.file == "lambda.md" and top.answer.text == "- Timeout: 15 minutes max" and top.answer.scored


def test_a_hit_made_without_answer_lines_gets_its_first_readable_line() -> None:
    from assistant.notes.chunk import Chunk
    from assistant.retrieve.results import Hit

    image = '<img alt="Screenshot" src="https://x/y.png">'
    hit = Hit(1, 0.5, Chunk("n.md", ("Topic",), 3, 6, f"## Sub\n{image}\nThe first words.\nMore words."))
    assert (hit.answer.start_line, hit.answer.end_line, hit.answer.text, hit.answer.scored) == (
        5,
        5,
        "The first words.",
        False,
    )
