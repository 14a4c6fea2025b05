"""Citations (issue 26, point 4): the passage's path once, the answer as line numbers, a path that
needs quoting quoted, and a result's span the same whatever -k is."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli.common import Invocation
from assistant.config import Settings, resolve_settings
from assistant.engine import Engine
from assistant.notes.chunk import Chunk
from assistant.present.render import Look, format_hit, inert, shell_path
from assistant.retrieve.answer import Answer
from assistant.retrieve.fuse import join_neighbours
from assistant.retrieve.results import Hit
from tests import messy
from tests.conftest import FakeEmbedder

MODEL = "fake-bow"
LONG_TABLE = "\n".join(f"| Feature {i} | value {i} of the service | other {i} |" for i in range(60))
NOTES = {
    "RDS Proxy.md": "# RDS Proxy\n\n## Why\n\nPools database connections for Lambda functions.\n\n"
    "## Failover\n\nCuts failover time by up to 66 percent.\n",
    "tables.md": "# Services\n\n## Compared\n\n| Feature | A | B |\n|---|---|---|\n" + LONG_TABLE + "\n",
    "plain.md": "# Plain\n\n## Lambda\n\nFunctions that run on events.\n",
}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    messy.write_notes(tmp_path / "my notes", NOTES)
    return resolve_settings({"corpus_dir": Path("my notes"), "index_dir": tmp_path / "index", "model": MODEL}).settings


def ask(settings: Settings, *args: str) -> str:
    model = FakeEmbedder()
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--model", MODEL]
    result = CliRunner().invoke(
        cli,
        ["ask", *where, *args],
        catch_exceptions=False,
        obj=Invocation(make_engine=lambda s: Engine(s, embedder=model, encoder=model)),
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_path_is_given_once_and_the_answer_as_line_numbers() -> None:
    chunk = Chunk("notes/x.md", ("A", "B"), 1353, 1368, "\n".join(f"line {n}" for n in range(1354, 1369)))
    hit = Hit(1, 0.87, chunk, answer=Answer(1357, 1357, "line 1357"))
    head = format_hit(hit).splitlines()[0]
    assert head == "1. [0.87] notes/x.md:1353-1368 › 1357  A > B"
    assert head.count("x.md") == 1
    few = Hit(1, 0.87, chunk, answer=Answer(1357, 1359, "line 1357\nline 1358\nline 1359"))
    assert format_hit(few).splitlines()[0] == "1. [0.87] notes/x.md:1353-1368 › 1357-1359  A > B"


def test_a_path_that_needs_quoting_is_printed_quoted(settings: Settings) -> None:
    out = ask(settings, "-k", "1", "pools", "database", "connections")
    head = out.splitlines()[0]
    assert head.startswith("1. [") and " 'my notes/RDS Proxy.md':" in head
    quoted = head.split("] ", 1)[1].split(":", 1)[0]
    assert shlex.split(quoted) == ["my notes/RDS Proxy.md"] and Path(shlex.split(quoted)[0]).is_file()
    assert head.count("RDS Proxy.md") == 1


def test_a_plain_path_stays_unquoted_and_quoting_stays_inert() -> None:
    assert shell_path("corpus/vpc-endpoints.md") == "corpus/vpc-endpoints.md"
    assert shell_path("notes/it's here.md") == "'notes/it'\"'\"'s here.md'"
    hostile = Chunk("a\x1b]52;c;x\x07.md", ("T",), 1, 1, "text")
    head = format_hit(Hit(1, 0.5, hostile)).splitlines()[0]
    assert "\x1b" not in head and "\x07" not in head and inert("\x1b") in head


def test_links_and_colour_wrap_the_quoted_path(settings: Settings) -> None:
    chunk = Chunk("RDS Proxy.md", ("RDS Proxy",), 3, 5, "Pools database connections.")
    fancy = format_hit(Hit(1, 0.5, chunk), look=Look(color=True, links=True, notes_dir=Path("my notes")))
    assert "\x1b]8;;file://" in fancy and "'my notes/RDS Proxy.md':3" in fancy


# ---------------------------------------------------------------- spans that do not depend on -k


def _pieces(count: int) -> list[Chunk]:
    """`count` touching pieces of one long section, then an unrelated section per piece."""
    section = [Chunk("t.md", ("T",), 10 * i + 1, 10 * i + 10, f"piece {i}") for i in range(count)]
    others = [Chunk(f"o{i}.md", ("O",), 1, 5, f"other {i}") for i in range(count)]
    return section + others


def test_join_neighbours_gives_the_same_first_passages_for_any_k() -> None:
    chunks = _pieces(3)
    # Piece 0 ranks first, then five unrelated passages, then piece 1, which touches piece 0.
    ranked = [(0, 1.0, 1), (3, 0.9, 2), (4, 0.8, 3), (5, 0.7, 4), (2, 0.65, 5), (1, 0.6, 6)]
    five, ten = join_neighbours(ranked, chunks, 3), join_neighbours(ranked, chunks, 10)
    assert five == ten[:3]
    assert five[0] == [0, 1, 2], "pieces ranked below the k-th still join the passage they touch"


def test_below_the_join_depth_a_piece_never_changes_a_passage() -> None:
    chunks = _pieces(2)
    ranked = [(0, 1.0, 1), (2, 0.9, 2), (3, 0.8, 3), (1, 0.7, 4)]
    assert join_neighbours(ranked, chunks, 10, depth=2) == [[0], [2], [3]]
    assert join_neighbours(ranked, chunks, 2, depth=2) == [[0], [2]]


_WORDS = " ".join(f"word{j}" for j in range(40))
SECTION_IN_PIECES = {
    # One section of long lines, cut into pieces: the question's words at its start and its end.
    "big.md": "# Big\n\n## Zebra facts\n\n"
    + "\n".join(
        [f"- zebra stripes zebra herd {_WORDS}"] * 5
        + [f"- item {i} {_WORDS}" for i in range(5)]
        + [f"- one zebra {_WORDS}"] * 2
    )
    + "\n",
    **{f"o{i}.md": f"# O{i}\n\n## Zebra {i}\n\nA zebra crossing number {i} in town {i}.\n" for i in range(8)},
}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_results_span_is_the_same_with_k_3_and_k_10(tmp_path: Path, mode: str) -> None:
    corpus = messy.write_notes(tmp_path / "notes", SECTION_IN_PIECES)
    settings = resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "ix", "model": MODEL}).settings
    model = FakeEmbedder()
    engine = Engine(settings, embedder=model, encoder=model)
    engine.open()
    for question in ("one zebra", "zebra herd", "zebra"):
        three = [hit.chunk.citation for hit in engine.search(question, k=3, mode=mode).hits]  # type: ignore[arg-type]
        ten = [hit.chunk.citation for hit in engine.search(question, k=10, mode=mode).hits]  # type: ignore[arg-type]
        assert three == ten[:3], question


def test_the_cli_cites_the_same_spans_for_k_5_and_k_10(settings: Settings) -> None:
    def spans(k: str) -> list[str]:
        return [
            line.split()[2] for line in ask(settings, "-k", k, "feature", "value").splitlines() if line[:1].isdigit()
        ]

    assert spans("5") == spans("10")[:5]
