"""Hostile text: odd questions, and notes written to attack the terminal that shows them.

Questions (empty, whitespace, 100,000 characters, control characters, only stop words, other
languages, pure punctuation) give a result list or one clear message, never a traceback.
Note text with Rich markup, ANSI CSI/OSC sequences, bidi overrides and zero-width characters is
shown visibly escaped by `notes ask` and escaped in `--json` (which still parses back to the text).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.config import Mode
from assistant.errors import UsageProblem
from assistant.notes.chunk import Chunk
from assistant.present.render import format_response, inert, response_record, to_json
from assistant.retrieve.results import Hit, SearchResponse
from assistant.retrieve.search import MAX_QUERY_CHARS, Searcher, normalise_query
from assistant.store.build import build_index
from assistant.store.lexical import MAX_CORRECTED_CHARS

from .messy import HOSTILE_CHARS, HOSTILE_NOTE, EngineMaker, FakeEmbedder, engine_maker, run_notes

NOTES = {
    "lambda.md": "# Lambda\n\n## Limits\n\nMemory from 128 MB to 10 GB; the timeout is fifteen minutes.\n",
    "vpc.md": "# VPC\n\n## NACL\n\nA NACL is a stateless firewall at the subnet level.\n",
    "tokyo.md": "# 東京\n\n東京 は 日本 の 首都 です。\n\n## Ελληνικά\n\nΗ Αθήνα είναι πρωτεύουσα.\n",
    "hostile.md": HOSTILE_NOTE,
}


@pytest.fixture
def notes_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for name, text in NOTES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    return corpus, index


@pytest.fixture
def searcher(notes_index: tuple[Path, Path]) -> Searcher:
    return Searcher.load(notes_index[1], encoder=FakeEmbedder())


@pytest.fixture
def fake_cli() -> EngineMaker:
    """`notes` in-process with the fake model: queries and any automatic rebuild use FakeEmbedder."""
    return engine_maker(FakeEmbedder())


def ask_args(notes_index: tuple[Path, Path], *extra: str) -> list[str]:
    corpus, index = notes_index
    return ["ask", "--corpus", str(corpus), "--index", str(index), "--model", "fake-hash-32", *extra]


# ---------------------------------------------------------------- questions


@pytest.mark.parametrize("question", ["", " ", "   \t\n  ", "\x00\x01\x1b\x7f", "\u200b\u202e\ufeff"])
def test_empty_questions_are_a_usage_problem(searcher: Searcher, question: str) -> None:
    with pytest.raises(UsageProblem, match="empty"):
        searcher.search(question)


ODD_QUESTIONS = {
    "huge": "lambda memory " * 7_200,  # 100,800 characters
    "controls": "lambda\x1b[31m memory\x07\x00 limit\r\n\x9b",
    "stop words": "the of and to a in is it that what which",
    "japanese": "東京 は どこ",
    "greek": "Αθήνα πρωτεύουσα",
    "arabic rtl": "\u202bما هو\u202c lambda",
    "emoji": "🧑‍💻 lambda 🚀",
    "punctuation": "?!?!... ,;:-- ()[]{} ''\"\"",
    "surrogate": "lambda \udcff memory",  # what Python makes of invalid UTF-8 in argv
    "one char": "x",
    "digits": "128 10 15",
}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("name", list(ODD_QUESTIONS))
def test_odd_questions_answer_or_find_nothing(searcher: Searcher, name: str, mode: Mode) -> None:
    question = ODD_QUESTIONS[name]
    started = time.perf_counter()
    response = searcher.search(question, k=5, mode=mode)
    assert time.perf_counter() - started < 5
    assert len(response.searched) <= MAX_QUERY_CHARS
    assert len(response.hits) <= 5
    assert isinstance(format_response(response), str)
    assert json.loads(to_json(response_record(response)))["query"] == question


def test_questions_that_share_words_with_a_note_find_it(searcher: Searcher) -> None:
    assert searcher.search(ODD_QUESTIONS["huge"], mode="bm25").hits[0].chunk.file == "lambda.md"
    assert searcher.search("東京", mode="bm25").hits[0].chunk.file == "tokyo.md"
    assert searcher.search("Αθήνα", mode="bm25").hits[0].chunk.file == "tokyo.md"
    assert searcher.search(ODD_QUESTIONS["controls"], mode="bm25").hits[0].chunk.file == "lambda.md"


def test_stop_words_and_punctuation_find_nothing_in_bm25(searcher: Searcher) -> None:
    for name in ("stop words", "punctuation"):
        response = searcher.search(ODD_QUESTIONS[name], mode="bm25")
        assert response.hits == []
        assert format_response(response) == "No passages found."


def test_normalise_query_cleans_and_caps() -> None:
    assert normalise_query("  lambda\x1b[31m\tmemory\x00\n ") == "lambda [31m memory"
    assert normalise_query("\u202eevil\u200b") == "evil"
    assert len(normalise_query("word " * 100_000)) <= MAX_QUERY_CHARS
    assert normalise_query("\x00\x01 \u200b") == ""


def test_spelling_correction_survives_a_huge_token(tmp_path: Path) -> None:
    """A note holding one 100,000-character 'word' (a hex dump, a base64 image) must not make either
    speller (the question's, BM25's) build n deletions of n characters (gigabytes) on the first typo:
    both leave words longer than MAX_CORRECTED_CHARS out of their tables."""
    import random

    blob = "".join(random.Random(0).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(100_000))
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "blob.md").write_text("# Blob\n\n" + blob + "\n\nlambda memory limits\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", FakeEmbedder())
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    response = searcher.search("lambdda memmory", mode="bm25")
    assert response.hits and response.hits[0].chunk.file == "blob.md"
    searcher.index.lexical.correct("memmoryy")  # builds BM25's table too
    assert searcher.index.speller is not None
    for table in (searcher.index.speller._deletes, searcher.index.lexical._deletes):
        assert table is not None and max(len(variant) for variant in table) <= MAX_CORRECTED_CHARS + 1


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_cli_empty_question_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path], question: str
) -> None:
    code, out, err = run_notes(capsys, *ask_args(notes_index, question), make_engine=fake_cli)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "empty" in err and "Traceback" not in err


def test_cli_control_only_question_is_a_usage_problem(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path]
) -> None:
    code, out, err = run_notes(capsys, *ask_args(notes_index, "\x1b\x07\u202e", "--mode", "bm25"), make_engine=fake_cli)
    assert code == 2
    assert err.strip().startswith("notes: error:") and "empty" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("name", ["huge", "controls", "stop words", "japanese", "punctuation", "surrogate"])
def test_cli_odd_questions_exit_0(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path], name: str
) -> None:
    code, out, err = run_notes(
        capsys, *ask_args(notes_index, ODD_QUESTIONS[name], "--mode", "bm25"), make_engine=fake_cli
    )
    assert code == 0, err
    assert out.strip()
    assert "Traceback" not in err


# ---------------------------------------------------------------- hostile note text

VISIBLE = ["\\x1b", "\\x07", "\\u202e", "\\u200b", "\\ufeff"]


def hostile_hit(text: str = HOSTILE_NOTE) -> SearchResponse:
    chunk = Chunk("evil\x1b]0;pwned\x07.md", ("Terminal \x1b[31mred", "\u202eevil"), 1, 5, text)
    return SearchResponse("q", "q", "bm25", [Hit(1, 1.0, chunk, {"bm25": 1})])


def assert_inert(output: str) -> None:
    for char in HOSTILE_CHARS:
        assert char not in output, f"raw {char!r} reached the terminal"
    assert "\x1b" not in output and "\x07" not in output


def test_inert_escapes_every_hostile_character_visibly() -> None:
    shown = inert(HOSTILE_NOTE)
    assert_inert(shown)
    for escape in VISIBLE:
        assert escape in shown
    assert shown.count("\n") == HOSTILE_NOTE.count("\n")  # layout kept
    assert "[bold red]markup[/bold red]" in shown  # markup shown as typed, never interpreted


def test_inert_keeps_emoji_sequences() -> None:
    assert inert("🧑\u200d💻 ok") == "🧑\u200d💻 ok"
    assert inert("a\u200db") == "a\\u200db"


def test_plain_output_is_inert() -> None:
    output = format_response(hostile_hit(), explain=True)
    assert_inert(output)
    assert "\\x1b]0;pwned\\x07" in output  # the title change is shown, escaped
    assert "[bold red]" in output


def test_json_output_escapes_and_round_trips() -> None:
    response = hostile_hit()
    encoded = to_json(response_record(response, explain=True))
    assert_inert(encoded)
    assert "\n" not in encoded
    decoded = json.loads(encoded)
    assert decoded["results"][0]["text"] == HOSTILE_NOTE
    assert decoded["results"][0]["file"] == "evil\x1b]0;pwned\x07.md"
    assert decoded["results"][0]["heading_path"] == ["Terminal \x1b[31mred", "\u202eevil"]


def test_hostile_note_survives_ingest_unchanged_but_for_mojibake(searcher: Searcher) -> None:
    """Ingest keeps escapes as the note has them (only presentation neutralises them), so search
    results can be compared with the file; only the C1 control \\x9b is read as cp1252 mojibake."""
    assert searcher.search("pangolin", mode="bm25").hits[0].chunk.file == "hostile.md"
    text = "\n".join(chunk.text for chunk in searcher.chunks if chunk.file == "hostile.md")
    assert "\x1b]0;pwned\x07" in text
    assert "\x1b]52;c;cm0gLXJmIH4=\x07" in text
    assert "\u202eevil\u202c" in text
    assert "a\u200bb\u200cc\ufeffd\u2060e" in text


def test_cli_plain_output_of_a_hostile_note_is_inert(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path]
) -> None:
    question = "pangolin clipboard bidi isolate"
    code, out, err = run_notes(
        capsys, *ask_args(notes_index, question, "--mode", "bm25", "--explain"), make_engine=fake_cli
    )
    assert code == 0, err
    assert "hostile.md" in out
    assert_inert(out)
    assert_inert(err)
    for escape in ("\\x1b]0;pwned\\x07", "\\x1b]52;c;", "\\u202e", "\\u200b"):
        assert escape in out


def test_cli_json_output_of_a_hostile_note_round_trips(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path]
) -> None:
    question = "pangolin clipboard bidi isolate"
    code, out, err = run_notes(
        capsys, *ask_args(notes_index, question, "--mode", "bm25", "--json"), make_engine=fake_cli
    )
    assert code == 0, err
    assert_inert(out)
    assert out.count("\n") == 1
    record = json.loads(out)
    text = "\n".join(result["text"] for result in record["results"] if result["file"] == "hostile.md")
    assert "\x1b]0;pwned\x07" in text and "\x1b]52;c;cm0gLXJmIH4=\x07" in text
    assert "\u202eevil\u202c" in text and "a\u200bb\u200cc\ufeffd\u2060e" in text


def test_cli_hybrid_mode_works_with_the_fake_encoder(
    capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker, notes_index: tuple[Path, Path]
) -> None:
    code, out, err = run_notes(
        capsys, *ask_args(notes_index, "NACL stateless firewall", "--json"), make_engine=fake_cli
    )
    assert code == 0, err
    assert json.loads(out)["results"][0]["file"] == "vpc.md"


HOSTILE_NAME = "evil\x1b]0;pwned\x07\u202e.md"


def test_cli_ask_shows_a_hostile_file_name_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker
) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / HOSTILE_NAME).write_text("# Name\n\nThe file name attacks the terminal; ocelot.\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    args = [
        "ask",
        "ocelot",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "--model",
        "fake-hash-32",
        "--mode",
        "bm25",
    ]
    code, out, err = run_notes(capsys, *args, make_engine=fake_cli)
    assert code == 0, err
    assert_inert(out)
    assert "evil\\x1b]0;pwned\\x07\\u202e.md" in out
    code, out, err = run_notes(capsys, *args, "--json", make_engine=fake_cli)
    assert_inert(out)
    assert json.loads(out)["results"][0]["file"] == HOSTILE_NAME


def test_cli_index_reports_a_hostile_file_name_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_cli: EngineMaker
) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / HOSTILE_NAME).write_bytes(b"\x00" * 64)  # skipped, so its name is reported
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--model", "fake-hash-32"]
    code, out, err = run_notes(capsys, *args, make_engine=fake_cli)
    assert code == 0, err
    assert "skipped: evil" in err
    assert_inert(err)


def test_a_table_piece_is_printed_under_its_header_and_the_header_is_inert() -> None:
    """`notes ask` shows a piece cut from inside a table under the table's header row, as the chat
    app does; JSON keeps `text` as exactly the cited lines and gives the header on its own."""
    chunk = Chunk(
        "t.md",
        ("Storage",),
        9,
        10,
        "| Cross-AZ | no | yes |\n| Price | low | high |",
        table_header="| Feature | EBS \x1b[2J| EFS |",
    )
    response = SearchResponse("q", "q", "hybrid", [Hit(1, 0.5, chunk)])
    output = format_response(response)
    assert_inert(output)
    lines = output.splitlines()
    # The header and rule come first; the hit's answer (its first row, unscored here) is marked.
    assert lines[1:4] == ["   | Feature | EBS \\x1b[2J| EFS |", "   |---|---|---|", " › | Cross-AZ | no | yes |"]
    record = json.loads(to_json(response_record(response)))["results"][0]
    assert record["text"] == chunk.text
    assert record["table_header"] == "| Feature | EBS \x1b[2J| EFS |"
