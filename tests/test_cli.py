"""The `notes` command: JSON schema, stdin batches, one-line errors with exit code 2, help texts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from assistant.cli import cli, main

from .messy import Notes

run = Notes()
"""`notes` with the real engine, for what never reaches the model (help, errors)."""


def test_ask_json_schema(notes_cli: Notes, small_corpus: Path, tmp_path: Path) -> None:
    code, out, err = notes_cli(
        ["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), "--json", "lambda memory"]
    )
    assert code == 0
    assert "indexing it first" in err  # a missing index is built first, saying so on stderr
    data = json.loads(out)
    assert set(data) == {"query", "results", "weak_match"} and data["query"] == "lambda memory"
    assert isinstance(data["weak_match"], bool)
    for rank, result in enumerate(data["results"], 1):
        assert set(result) == {
            "rank",
            "score",
            "file",
            "heading_path",
            "start_line",
            "end_line",
            "text",
            "table_header",
            "path",
            "answer",
        }
        assert result["rank"] == rank
        answer = result["answer"]
        assert set(answer) == {"start_line", "end_line", "text"}
        assert result["start_line"] <= answer["start_line"] <= answer["end_line"] <= result["end_line"]
        assert answer["text"] and answer["text"] in result["text"]
        assert result["path"] == str(small_corpus / result["file"])  # the notes are not under the cwd
        assert isinstance(result["score"], float) and isinstance(result["heading_path"], list)
        assert isinstance(result["start_line"], int) and result["start_line"] <= result["end_line"]
    assert data["results"][0]["file"] == "lambda.md"
    assert data["results"][0]["heading_path"] == ["Lambda", "Limits"]


def test_ask_reads_questions_from_stdin(notes_cli: Notes, small_corpus: Path, tmp_path: Path) -> None:
    args = ["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), "--json", "-k", "2", "-"]
    code, out, _ = notes_cli(args, stdin="lambda memory\n\n   \n\x00\x01\nstateless firewall\n")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5, "one output line per input line, blank ones included"
    records = [json.loads(line) for line in lines]
    assert [record["query"] for record in records] == ["lambda memory", "", "", "\x00\x01", "stateless firewall"]
    assert [len(record["results"]) for record in records] == [2, 0, 0, 0, 2]
    assert records[1] == {"query": "", "results": [], "weak_match": True, "weak_reason": "the question is empty"}


def test_ask_plain_output_and_explain(notes_cli: Notes, small_corpus: Path, tmp_path: Path) -> None:
    args = ["ask", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"), "--explain", "-k", "1", "nacl"]
    code, out, _ = notes_cli(args)
    assert code == 0
    assert "network/vpc.md:" in out and "VPC > NACL" in out and "bm25 #1" in out


def test_refreshes_a_stale_index(notes_cli: Notes, small_corpus: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    notes_cli(["ask", "--corpus", str(small_corpus), "--index", index, "lambda"])
    (small_corpus / "lambda.md").write_text("# Lambda\n\nnew text about layers\n")
    code, out, err = notes_cli(["ask", "--corpus", str(small_corpus), "--index", index, "--json", "layers"])
    assert code == 0 and "out of date" in err and "1 changed" in err
    assert "layers" in json.loads(out)["results"][0]["text"]


def test_env_variables_choose_folders(
    notes_cli: Notes, small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTES_CORPUS", str(small_corpus))
    monkeypatch.setenv("NOTES_INDEX", str(tmp_path / "env-ix"))
    code, out, _ = notes_cli(["ask", "--json", "nacl"])
    assert code == 0 and json.loads(out)["results"]
    assert (tmp_path / "env-ix" / "CURRENT").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "--corpus", "/nonexistent/notes", "lambda"], "notes folder not found: /nonexistent/notes"),
        (["ask", "--bogus", "x"], "No such option '--bogus'"),
        (["ask", "--mode", "magic", "x"], "Invalid value for '--mode'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--index", str(tmp_path / "ix"), *args] if args[0] != "frobnicate" else args)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err


def test_real_process_error_has_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--corpus", str(tmp_path / "missing"), "hello"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "notes folder not found" in result.stderr


def _commands(group: click.Group) -> list[str]:
    return sorted(group.commands)


@pytest.mark.parametrize("name", _commands(cli))
def test_every_command_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help) > 20
    code, out, _ = run([name, "--help"])
    assert code == 0 and "--corpus" in out
