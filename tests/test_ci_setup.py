"""`.ci/setup` says what it is doing and about how long each step takes, and stays idempotent.

Run on a copy of the script with stand-ins for Python and pip, so nothing is installed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from .conftest import REPO


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_narrates_each_step_and_then_does_nothing(tmp_path: Path) -> None:
    shutil.copytree(REPO / ".ci", tmp_path / ".ci")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    log = tmp_path / "pip.log"
    stand_ins = tmp_path / "stand-ins"
    executable(stand_ins / "venv-python", "#!/bin/sh\nexit 0\n")
    executable(stand_ins / "pip", f'#!/bin/sh\necho "$@" >> {log}\n')
    # `$PYTHON -m venv .venv` makes a .venv whose python and pip are the stand-ins.
    executable(
        stand_ins / "python3.11",
        f"#!/bin/sh\nmkdir -p .venv/bin && cp {stand_ins / 'venv-python'} .venv/bin/python "
        f"&& cp {stand_ins / 'pip'} .venv/bin/pip\n",
    )
    env = {**os.environ, "PYTHON": str(stand_ins / "python3.11")}

    def setup() -> list[str]:
        result = subprocess.run(
            ["bash", ".ci/setup"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stderr.splitlines()

    said = setup()
    assert said[0].startswith("setup: creating .venv with") and "(~5 s)" in said[0]
    assert said[1] == "setup: installing torch 2.13.0, CPU build (~1 min on a new machine) …"
    assert (
        said[2] == "setup: installing notes-assistant, its test tools and its guard rails (~2 min on a new machine) …"
    )
    assert said[3].startswith("setup: done in ") and said[3].endswith(
        "s: run .venv/bin/notes (the first run builds the index, about a minute)"
    )
    assert len(said) == 4
    installs = log.read_text().splitlines()
    assert [line.split()[-1] for line in installs] == ["torch==2.13.0", ".[test,dev]"]
    assert all("--quiet" in line for line in installs)
    assert setup() == ["setup: .venv is up to date (nothing to install)"]
    assert len(log.read_text().splitlines()) == 2, "a second run installs nothing"
