"""`.ci/setup --tests` also installs Debian's Chromium (the HTML eval report's browser test needs it),
saying so, once; plain `.ci/setup`, the README's app command, never installs a browser (issue 27).

Run on a copy of the script with stand-ins for Python, pip and apt-get, so nothing is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .conftest import REPO
from .test_ci_setup import executable


def stand_in_setup(tmp_path: Path) -> tuple[dict[str, str], Path]:
    shutil.copytree(REPO / ".ci", tmp_path / ".ci")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    stand_ins = tmp_path / "stand-ins"
    log = tmp_path / "calls.log"
    executable(stand_ins / "venv-python", "#!/bin/sh\nexit 0\n")
    executable(stand_ins / "pip", f'#!/bin/sh\necho "pip $*" >> {log}\n')
    executable(
        stand_ins / "python3.11",
        f"#!/bin/sh\nmkdir -p .venv/bin && cp {stand_ins / 'venv-python'} .venv/bin/python "
        f"&& cp {stand_ins / 'pip'} .venv/bin/pip\n",
    )
    # apt-get "installs" the browser by putting a stand-in on PATH.
    browser = stand_ins / "notes-test-chromium"
    executable(
        stand_ins / "apt-get",
        f'#!/bin/sh\necho "apt-get $*" >> {log}\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\n" > {browser}; chmod +x {browser};; esac\n',
    )
    env = {
        **os.environ,
        "PYTHON": str(stand_ins / "python3.11"),
        "CHROMIUM": "notes-test-chromium",
        "PATH": f"{stand_ins}:{os.environ['PATH']}",
    }
    return env, log


def setup(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", ".ci/setup", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def test_setup_for_tests_installs_chromium_once_and_says_so(tmp_path: Path) -> None:
    env, log = stand_in_setup(tmp_path)
    plain = setup(tmp_path, env)
    assert plain.returncode == 0 and "chromium" not in plain.stderr, "the app's set-up installs no browser"
    assert "apt-get" not in log.read_text()
    result = setup(tmp_path, env, "--tests")
    assert result.returncode == 0, result.stderr
    said = result.stderr.splitlines()
    assert said[0] == "setup: .venv is up to date (nothing to install)"
    assert said[1] == (
        "setup: installing chromium from Debian's packages, for the test of the HTML eval report (~1-2 min) …"
    )
    assert said[2].startswith("setup: done in ") and len(said) == 3
    apt = [line for line in log.read_text().splitlines() if line.startswith("apt-get")]
    assert apt == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    again = setup(tmp_path, env, "--tests")
    assert again.stderr.splitlines() == [
        "setup: .venv is up to date (nothing to install)",
        "setup: chromium is installed (for the test of the HTML eval report)",
    ]
    assert len([line for line in log.read_text().splitlines() if line.startswith("apt-get")]) == 2


def test_setup_refuses_an_unknown_option(tmp_path: Path) -> None:
    env, _log = stand_in_setup(tmp_path)
    result = setup(tmp_path, env, "--test")
    assert result.returncode == 2 and "unknown option --test" in result.stderr


def test_readme_and_ci_install_the_browser_for_tests_only() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash .ci/setup && .venv/bin/notes " in readme
    assert "bash .ci/setup --tests && .venv/bin/python -m pytest" in readme
    assert "bash .ci/setup --tests\n" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
