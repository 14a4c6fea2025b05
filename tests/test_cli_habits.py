"""The command line behaves as people who live in a terminal expect (issue 20): unquoted questions,
citations that open, --open, --file as the shell completes it, the config file, `notes status` exit
codes and sources, repaired files reported by `ask`, -V, completion, and eval leaving the checkout clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import UsageProblem

from .conftest import REPO
from .messy import Notes


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_corpus: Path) -> Path:
    """Work from tmp_path, with the small notes at ./notes and their index at ./ix."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTES_CORPUS", "notes")
    monkeypatch.setenv("NOTES_INDEX", "ix")
    return tmp_path


run = Notes()
"""`notes` with the real engine, for what never reaches the model (-V, completion)."""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg-config" / "notes-assistant" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- asking


def test_question_words_need_no_quotes(notes_cli: Notes, here: Path) -> None:
    quoted = notes_cli(["ask", "--json", "lambda memory limit"])
    unquoted = notes_cli(["ask", "lambda", "memory", "--json", "limit"])  # options may sit among the words
    assert quoted[0] == unquoted[0] == 0
    assert json.loads(quoted[1]) == json.loads(unquoted[1])
    assert json.loads(unquoted[1])["query"] == "lambda memory limit"


def test_a_lone_dash_still_reads_stdin(notes_cli: Notes, here: Path) -> None:
    code, out, _ = notes_cli(["ask", "--json", "-"], stdin="nacl\n")
    assert code == 0 and json.loads(out)["query"] == "nacl"
    code, out, _ = notes_cli(["ask", "--json", "-", "x"])
    assert code == 0 and json.loads(out)["query"] == "- x", "a dash among words is a word"


def test_plain_output_says_what_was_searched_after_a_typo_fix(notes_cli: Notes, here: Path) -> None:
    code, out, _ = notes_cli(["ask", "statelss", "firewall"])
    assert code == 0 and out.splitlines()[0] == "searched: stateless firewall"
    code, out, _ = notes_cli(["ask", "stateless", "firewall"])
    assert "searched:" not in out


def test_searched_is_said_exactly_when_the_question_was_rewritten(notes_cli: Notes, here: Path) -> None:
    """One rule for the plain line and JSON's key (SearchResponse.rewritten): spaces tidied away
    are not a rewrite, a corrected typo is."""
    code, out, _ = notes_cli(["ask", "lambda  memory"])
    assert code == 0 and "searched:" not in out and "lambda.md" in out
    code, out, _ = notes_cli(["ask", "--json", "lambda  memory"])
    record = json.loads(out)
    assert code == 0 and "searched" not in record and record["query"] == "lambda  memory"
    code, out, _ = notes_cli(["ask", "statelss  firewall"])
    assert code == 0 and out.splitlines()[0] == "searched: stateless firewall"
    code, out, _ = notes_cli(["ask", "--json", "statelss  firewall"])
    record = json.loads(out)
    assert code == 0 and record["searched"] == "stateless firewall" and record["query"] == "statelss  firewall"


def test_citations_are_paths_that_open_from_here(notes_cli: Notes, here: Path) -> None:
    code, out, _ = notes_cli(["ask", "-k", "1", "nacl"])
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("1. [") and " notes/network/vpc.md:1-5 › 5  VPC > NACL" in first
    assert "\x1b" not in out, "no colour or links when stdout is not a terminal"
    path = first.split()[2].rsplit(":", 1)[0]
    assert (here / path).is_file()
    code, out, _ = notes_cli(["ask", "--json", "-k", "1", "nacl"])
    result = json.loads(out)["results"][0]
    assert result["file"] == "network/vpc.md" and result["path"] == "notes/network/vpc.md"


def test_no_color_flag_is_accepted_and_output_unchanged(notes_cli: Notes, here: Path) -> None:
    assert notes_cli(["ask", "--no-color", "nacl"])[1] == notes_cli(["ask", "nacl"])[1]


def test_group_flags_reach_the_command(notes_cli: Notes, here: Path, tmp_path: Path) -> None:
    code, out, _ = notes_cli(["--index", str(tmp_path / "other-ix"), "ask", "--json", "nacl"])
    assert code == 0 and (tmp_path / "other-ix" / "CURRENT").exists()


def test_ask_building_the_index_reports_repaired_files(notes_cli: Notes, here: Path) -> None:
    (here / "notes" / "wide.md").write_bytes("# Wide\n\nutf sixteen notes\n".encode("utf-16"))
    code, _, err = notes_cli(["ask", "sixteen"])
    assert code == 0
    assert "  repaired: wide.md: decoded as UTF-16" in err.splitlines()
    assert "no index yet" in err and "index built:" in err
    code, _, index_err = notes_cli(["index"])
    assert "  repaired: wide.md: decoded as UTF-16" in index_err.splitlines(), "the same line as `notes index`"


def test_settings_from_the_config_file(notes_cli: Notes, here: Path, tmp_path: Path) -> None:
    write_config(tmp_path, "k = 2\nmode = 'bm25'\n")
    code, out, _ = notes_cli(["ask", "--json", "firewall"])
    assert code == 0 and len(json.loads(out)["results"]) <= 2
    code, out, _ = notes_cli(["ask", "--json", "-k", "3", "firewall", "--explain"])
    results = json.loads(out)["results"]
    assert set(results[0]["ranks"]) == {"bm25"}, "mode from the config file"


def test_a_bad_config_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    write_config(tmp_path, "k = true\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "config.toml: k must be a whole number from 1 to 100, not True" in err


# ---------------------------------------------------------------- --open


@pytest.fixture
def editor_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []

    def fake_run(argv: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr("assistant.present.editor.subprocess.run", fake_run)
    return runs


def test_open_starts_the_editor_at_the_line(
    notes_cli: Notes, here: Path, editor_runs: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "vim")
    second = json.loads(notes_cli(["ask", "--json", "nacl"])[1])["results"][1]
    code, out, _ = notes_cli(["ask", "nacl", "--open", "2"])
    assert code == 0 and out == ""
    # At the answer line, as the chat app's `o` opens it.
    assert editor_runs == [["vim", f"+{second['answer']['start_line']}", str(here / "notes" / second["file"])]]
    first = json.loads(notes_cli(["ask", "--json", "nacl"])[1])["results"][0]
    note = here / "notes" / "network" / "vpc.md"
    notes_cli(["ask", "nacl", "--open", "1", "--editor", "code -w"])
    assert editor_runs[-1] == ["code", "-w", "-g", f"{note}:{first['answer']['start_line']}"]


def test_open_with_an_editor_that_takes_no_line_says_so(
    notes_cli: Notes, here: Path, editor_runs: list[list[str]], tmp_path: Path
) -> None:
    write_config(tmp_path, 'editor = "ed"\n')
    code, _, err = notes_cli(["ask", "nacl", "--open", "1"])
    assert code == 0 and editor_runs == [["ed", str(here / "notes" / "network" / "vpc.md")]]
    assert "ed cannot be told a line: opening the note; the answer is at notes/network/vpc.md:5" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "nacl", "--open", "9", "-k", "2"], "--open 9: this question has"),
        (["ask", "--json", "nacl", "--open", "1"], "--open opens one result of one question"),
        (["ask", "nacl", "--open", "1"], "no editor to open the passage with"),
    ],
)
def test_open_problems_are_one_line(
    notes_cli: Notes, here: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert notes_cli(["index"])[0] == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        notes_cli.main(args)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "\n" not in err and message in err


# ---------------------------------------------------------------- --file


@pytest.mark.parametrize(
    ("value", "files"),
    [
        ("notes/network/vpc.md", {"network/vpc.md"}),  # as the shell completes it
        ("./notes/plain.txt", {"plain.txt"}),
        ("vpc.md", {"network/vpc.md"}),
        ("vpc", {"network/vpc.md"}),  # without its suffix
        ("plain", {"plain.txt"}),
        ("notes/network", {"network/vpc.md"}),  # a folder of notes
        ("*.txt", {"plain.txt"}),  # globs as before
        ("network/*", {"network/vpc.md"}),
    ],
)
def test_file_takes_paths_names_and_globs(notes_cli: Notes, here: Path, value: str, files: set[str]) -> None:
    code, out, _ = notes_cli(["ask", "--json", "--file", value, "firewall", "storage", "lambda"])
    assert code == 0
    assert {result["file"] for result in json.loads(out)["results"]} == files


def test_file_given_as_an_absolute_path(notes_cli: Notes, here: Path) -> None:
    code, out, _ = notes_cli(["ask", "--json", "--file", str(here / "notes" / "lambda.md"), "firewall"])
    assert code == 0 and {r["file"] for r in json.loads(out)["results"]} == {"lambda.md"}


def test_file_that_matches_nothing_names_the_notes(
    notes_cli: Notes, here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        notes_cli.main(["ask", "--file", "everything-aws", "x"])
    err = capsys.readouterr().err.strip()
    assert "no notes match --file 'everything-aws'" in err and "lambda.md" in err


def test_file_name_without_suffix_matches_the_shipped_notes() -> None:
    from assistant.retrieve.file_filter import note_glob

    files = ["architect-associate.md", "everything-aws.txt", "vpc-endpoints.md"]
    corpus = REPO / "corpus"
    assert note_glob("everything-aws", files, corpus, cwd=REPO) == "everything-aws.txt"
    assert note_glob("corpus/vpc-endpoints.md", files, corpus, cwd=REPO) == "vpc-endpoints.md"
    assert note_glob(str(corpus / "vpc-endpoints.md"), files, corpus, cwd=REPO / "evals") == "vpc-endpoints.md"
    assert note_glob("notes [draft].md", ["notes [draft].md"], corpus, cwd=REPO) == "notes [[]draft].md"
    assert note_glob("lambda", ["a/lambda.md", "b/lambda.txt"], corpus, cwd=REPO) == "lambda.*"


# ---------------------------------------------------------------- status


def test_status_is_0_when_fresh_and_shows_where_settings_came_from(
    notes_cli: Notes, here: Path, tmp_path: Path
) -> None:
    write_config(tmp_path, "k = 4\n")
    assert notes_cli(["index"])[0] == 0
    code, out, _ = notes_cli(["status", "--corpus", "notes"])
    assert code == 0
    assert "ok: the index is up to date with the notes" in out
    lines = out.splitlines()
    assert any(line.split()[:2] == ["notes", "notes"] and line.endswith("(flag --corpus)") for line in lines)
    assert any(line.split()[:2] == ["index", "ix"] and line.endswith("(env NOTES_INDEX)") for line in lines)
    assert any(line.split()[:2] == ["k", "4"] and "(config " in line for line in lines)
    assert any(line.split()[:2] == ["mode", "hybrid"] and line.endswith("(default)") for line in lines)
    assert "index holds 3 files" in out


def test_status_is_1_when_stale_naming_the_fix(notes_cli: Notes, here: Path) -> None:
    notes_cli(["index"])
    (here / "notes" / "lambda.md").write_text("# Lambda\n\nchanged\n", encoding="utf-8")
    code, out, _ = notes_cli(["status"])
    assert code == 1
    assert "problem: the index is out of date: notes 1 changed (lambda.md)" in out
    assert "    fix: notes index" in out


def test_status_is_1_without_an_index_or_notes(notes_cli: Notes, here: Path) -> None:
    code, out, _ = notes_cli(["status"])
    assert code == 1 and "problem: no index yet in ix" in out and "fix: notes index" in out
    code, out, _ = notes_cli(["status", "--corpus", "missing"])
    assert code == 1 and "problem: notes folder not found: missing" in out and "--corpus DIR" in out


def test_status_shows_which_index_a_notes_folder_gets(
    notes_cli: Notes, here: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NOTES_INDEX")
    monkeypatch.setenv("NOTES_CACHE", str(tmp_path / "cache"))
    code, out, _ = notes_cli(["status"])
    index_line = next(line for line in out.splitlines() if line.startswith("  index "))
    assert str(tmp_path / "cache" / "indexes" / "notes-") in index_line
    assert index_line.endswith("(default: this notes folder's own index in the cache)")
    assert notes_cli(["index"])[0] == 0 and notes_cli(["status"])[0] == 0
    assert list((tmp_path / "cache" / "indexes").iterdir())[0].name.startswith("notes-")


# ---------------------------------------------------------------- small things


def test_dash_v_is_version() -> None:
    code, out, _ = run(["-V"])
    assert code == 0 and out.startswith("notes, version ")
    assert run(["--version"])[1] == out


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "_notes_completion()"), ("zsh", "#compdef notes"), ("fish", "complete --no-files --command notes")],
)
def test_completion_scripts_are_produced(shell: str, marker: str) -> None:
    env = {**os.environ, "_NOTES_COMPLETE": f"{shell}_source"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant"], env=env, capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0 and marker in result.stdout


def test_eval_leaves_the_checkout_clean_unless_asked(
    notes_cli: Notes, here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_evaluate import _small_set

    args = ["eval", "--set", str(_small_set(here)), "--baseline", str(here / "baseline.json")]
    code, _, err = notes_cli([*args, "--update-baseline"])
    # The full report is kept with its run, in the user's data folder: nothing is written in the checkout.
    assert code == 0 and str(here / "xdg-data" / "notes-assistant" / "runs") in err
    assert not (here / "evals" / "report.md").exists() and not (here / "evals" / "report.json").exists()
    assert not (here / "evals" / "results").exists()
    code, _, err = notes_cli([*args, "--write-report"])
    assert code == 0 and (here / "evals" / "report.md").exists() and (here / "evals" / "report.json").exists()
    with pytest.raises(UsageProblem, match="name two places"):
        notes_cli([*args, "--write-report", "--report", "elsewhere"])


def test_ci_runs_the_gate_with_write_report() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert "notes eval --check --compare --write-report" in script


def test_readme_documents_the_config_file_completion_and_links() -> None:
    """The README's "Asking" part (with its chat app, notes folder and configuration sections): every
    config key, one completion line per shell, links and colour."""
    import re
    import tomllib

    readme = (REPO / "README.md").read_text()
    asking = readme[readme.index("## Asking") : readme.index("## How it works")]
    example = re.search(r"```toml\n(.*?)```", asking, re.S)
    assert example is not None
    keys = set(tomllib.loads(example.group(1)))
    assert keys == {"corpus", "index", "model", "k", "mode", "editor"}
    for shell in ("bash", "zsh", "fish"):
        assert f"_NOTES_COMPLETE={shell}_source notes" in asking
    for words in ("OSC 8", "NO_COLOR", "--no-color", "--open", "$XDG_CONFIG_HOME/notes-assistant/config.toml"):
        assert words in asking


def test_the_readme_config_example_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from assistant.config import resolve_settings

    readme = (REPO / "README.md").read_text()
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example is not None
    write_config(tmp_path, example.group(1))
    monkeypatch.delenv("NOTES_INDEX")
    resolved = resolve_settings({})
    assert resolved.settings.k == 5 and resolved.settings.editor == "nvim"
    assert all(source.startswith("config ") for source in resolved.sources.values())
