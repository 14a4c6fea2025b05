"""Help and batch output (issue 26, point 6): `notes --help` with examples and whole descriptions,
`--explain`'s help naming what it prints, and each batch question above its answers."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli.common import Invocation
from assistant.engine import Engine
from tests import messy
from tests.conftest import SMALL_NOTES, FakeEmbedder


def run(*args: str, stdin: str | None = None, columns: int = 80) -> tuple[int, str]:
    model = FakeEmbedder()
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(
        cli,
        list(args),
        input=stdin,
        catch_exceptions=False,
        obj=Invocation(make_engine=lambda s: Engine(s, embedder=model, encoder=model)),
    )
    return result.exit_code, result.stdout


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_top_level_help_has_examples_and_whole_descriptions(columns: int) -> None:
    code, out = run("--help", columns=columns)
    assert code == 0
    assert "Examples:" in out and "notes ask whats a nacl" in out and "notes ask - < questions.txt" in out
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands, "no command description is cut short"
    described = " ".join(commands.split())
    for name, command in cli.commands.items():
        first_sentence = " ".join((command.help or "").split("\n\n", 1)[0].split())
        assert f"{name} {first_sentence}" in described


def test_ask_help_has_examples_and_explain_names_the_lists_it_prints() -> None:
    code, out = run("ask", "--help")
    assert code == 0 and "Examples:" in out and "notes ask --json" in out
    explain = " ".join(out.split("--explain", 1)[1].split("--json", 1)[0].split())
    for words in ("passage (dense)", "line", "keyword (BM25) lists", "fused rank", "token-rerank score"):
        assert words in explain
    assert '"weak_match"' in " ".join(out.split())


def test_the_help_fits_the_terminal_it_is_printed_on() -> None:
    """The examples are one `\\b` block each, kept within 80 columns."""
    _code, out = run("--help")
    assert max(len(line) for line in out.splitlines()) <= 80
    _code, out = run("ask", "--help")
    assert max(len(line) for line in out.splitlines()) <= 80


def test_batch_plain_output_puts_each_question_above_its_answers(tmp_path: Path) -> None:
    corpus = messy.write_notes(tmp_path / "notes", SMALL_NOTES)
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake-bow"]
    code, out = run("ask", *where, "-k", "1", "-", stdin="lambda memory\n\nstateless firewall\n")
    assert code == 0
    lines = out.splitlines()
    questions = [i for i, line in enumerate(lines) if line.startswith("❯ ")]
    assert [lines[i] for i in questions] == ["❯ lambda memory", "❯ stateless firewall"], "a blank line asks nothing"
    assert lines[0] == "❯ lambda memory" and lines[1].startswith("1. [") and "lambda.md" in lines[1]
    second = questions[1]
    assert lines[second - 1] == "" and lines[second + 1].startswith("1. [") and "vpc.md" in lines[second + 1]


def test_a_single_question_is_not_echoed(tmp_path: Path) -> None:
    corpus = messy.write_notes(tmp_path / "notes", SMALL_NOTES)
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake-bow"]
    code, out = run("ask", *where, "-k", "1", "lambda", "memory")
    assert code == 0 and out.startswith("1. [")


def test_every_command_keeps_its_own_help() -> None:
    for command in cli.commands.values():
        assert isinstance(command, click.Command) and command.help
