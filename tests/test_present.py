"""Plain output decoration: colour only when asked, OSC 8 links to file:// URIs, paths that open from
the current folder, `searched:` after a typo fix, and note text inert whatever the decoration."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from assistant.notes.chunk import Chunk
from assistant.present.render import (
    Look,
    format_hit,
    format_response,
    openable_path,
    response_record,
    to_json,
    wants_color,
    wants_links,
)
from assistant.retrieve.answer import Answer
from assistant.retrieve.results import Hit, SearchResponse

SGR = re.compile(r"\x1b\[[0-9;]*m")
OSC8 = re.compile(r"\x1b\]8;;([^\x1b]*)\x1b\\")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def response(file: str = "network/vpc.md", text: str = "NACL: stateless.") -> SearchResponse:
    chunk = Chunk(file, ("VPC", "NACL"), 5, 7, text)
    return SearchResponse("vpc nacl", "vpc nacl", "hybrid", [Hit(1, 0.5, chunk, {"dense": 1, "bm25": 2})], 0.01)


def test_undecorated_output_is_the_plain_layout() -> None:
    assert format_response(response()) == ("1. [0.50] network/vpc.md:5-7 › 7  VPC > NACL\n › NACL: stateless.")


def test_the_answer_lines_are_marked_and_cited_beside_the_passage() -> None:
    text = "## NACL\n**NACL** are a firewall for subnets.\n\n- One NACL per subnet\n  - default allows all\n- more"
    chunk = Chunk("vpc.md", ("VPC", "NACL"), 10, 15, text)
    hit = Hit(1, 0.5, chunk, answer=Answer(13, 14, "- One NACL per subnet\n  - default allows all"))
    assert format_hit(hit).splitlines() == [
        "1. [0.50] vpc.md:10-15 › 13-14  VPC > NACL",
        "   ## NACL",
        "   **NACL** are a firewall for subnets.",
        " › - One NACL per subnet",
        " ›   - default allows all",
        "   - more",
    ]
    # In colour the answer lines are bold too; without colour nothing but the gutter marks them.
    fancy = format_hit(hit, look=Look(color=True)).splitlines()
    assert fancy[3] == "\x1b[36m › \x1b[0m\x1b[1m- One NACL per subnet\x1b[0m"
    assert not SGR.search(fancy[2])


def test_a_table_piece_is_shown_under_its_header_with_its_answer_row_marked() -> None:
    chunk = Chunk(
        "s3.md", ("S3",), 20, 21, "| Glacier | 90 days |\n| Deep Archive | 180 days |", table_header="| Class | Min |"
    )
    hit = Hit(1, 0.5, chunk, answer=Answer(21, 21, "| Deep Archive | 180 days |", header="| Class | Min |"))
    assert format_hit(hit).splitlines()[1:] == [
        "   | Class | Min |",
        "   |---|---|",
        "   | Glacier | 90 days |",
        " › | Deep Archive | 180 days |",
    ]
    record = response_record(SearchResponse("q", "q", "hybrid", [hit]))["results"][0]
    assert record["answer"] == {"start_line": 21, "end_line": 21, "text": "| Deep Archive | 180 days |"}


def test_citations_open_from_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert openable_path(Path("corpus"), "network/vpc.md") == "corpus/network/vpc.md"
    assert openable_path(tmp_path / "corpus", "vpc.md") == "corpus/vpc.md"
    outside = tmp_path.parent / "elsewhere"
    assert openable_path(outside, "vpc.md") == str(outside / "vpc.md")
    text = format_response(response(), look=Look(notes_dir=outside))
    assert text.startswith(f"1. [0.50] {outside}/network/vpc.md:5-7 › 7  VPC > NACL")
    monkeypatch.chdir(tmp_path.parent)
    assert openable_path(Path(tmp_path.name) / "corpus", "a.md") == f"{tmp_path.name}/corpus/a.md"


def test_colour_and_links_wrap_the_same_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plain = format_response(response(), look=Look(notes_dir=Path("corpus")))
    fancy = format_response(response(), look=Look(color=True, links=True, notes_dir=Path("corpus")))
    assert SGR.search(fancy) and OSC8.search(fancy)
    assert OSC8.sub("", SGR.sub("", fancy)) == plain
    targets = [target for target in OSC8.findall(fancy) if target]
    assert targets == [(tmp_path / "corpus" / "network" / "vpc.md").as_uri()]  # the passage (the answer: a line)
    # The link covers `path:LINE`, which terminals and editors know how to open.
    assert re.search(r"\x1b\\corpus/network/vpc\.md:5\x1b\]8;;\x1b\\-7", fancy)


def test_link_targets_are_percent_encoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    hit = response(file="odd name;\x1b[31m.md").hits[0]
    text = format_hit(hit, look=Look(links=True, notes_dir=Path("corpus")))
    target = OSC8.findall(text)[0]
    assert target.endswith("/corpus/odd%20name%3B%1B%5B31m.md")
    assert "\x1b[31m" not in text and "odd name;\\x1b[31m.md':5" in text


def test_note_text_stays_inert_in_colour() -> None:
    hostile = response(text="evil \x1b]0;title\x07 and \x1b[2J")
    text = format_response(hostile, look=Look(color=True))
    assert "\\x1b]0;title\\x07" in text and "\\x1b[2J" in text
    assert "\x07" not in text and "\x1b[2J" not in text


def test_searched_is_shown_when_the_question_was_rewritten() -> None:
    """One rule for every front end: `searched: …` (and JSON's "searched") exactly when the searcher
    says it rewrote the question (`SearchResponse.rewrites`), never from comparing the strings."""
    hits = response().hits
    corrected = SearchResponse("edge locatoins", "edge locations", "hybrid", hits, 0.0, rewrites=("spelling",))
    assert format_response(corrected).splitlines()[0] == "searched: edge locations"
    assert response_record(corrected)["searched"] == "edge locations"
    spaced = SearchResponse("  vpc   nacl ", "vpc nacl", "hybrid", hits, 0.0)
    assert not format_response(spaced).startswith("searched:")
    assert "searched" not in response_record(spaced)
    empty = SearchResponse("edge locatoins", "edge locations", "hybrid", [], 0.0, rewrites=("spelling",))
    assert format_response(empty) == "searched: edge locations\nNo passages found."


def test_json_gains_an_openable_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    record = json.loads(to_json(response_record(response(), notes_dir=Path("corpus"))))
    assert record["results"][0]["file"] == "network/vpc.md"
    assert record["results"][0]["path"] == "corpus/network/vpc.md"
    assert "path" not in response_record(response())["results"][0]


@pytest.mark.parametrize(
    ("env", "no_color", "tty", "expected"),
    [
        ({}, False, True, True),
        ({}, False, False, False),
        ({"NO_COLOR": "1"}, False, True, False),
        ({"NO_COLOR": ""}, False, True, True),
        ({}, True, True, False),
        ({"TERM": "dumb"}, False, True, False),
    ],
)
def test_wants_color(env: dict[str, str], no_color: bool, tty: bool, expected: bool) -> None:
    stream = Tty() if tty else io.StringIO()
    assert wants_color(stream, env, no_color=no_color) is expected


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({"TERM": "xterm-256color"}, True, True),
        ({"TERM": "xterm-256color"}, False, False),
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "linux"}, True, False),
        ({"TERM": "dumb", "FORCE_HYPERLINK": "1"}, True, True),
        ({"TERM": "xterm", "FORCE_HYPERLINK": "0"}, True, False),
        ({"FORCE_HYPERLINK": "1"}, False, True),
    ],
)
def test_wants_links(env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = Tty() if tty else io.StringIO()
    assert wants_links(stream, env) is expected
