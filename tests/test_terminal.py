"""Where a real terminal matters, a real one: processes on a pseudo-terminal (`pty`) or on pipes.

- `notes ask` colours and links only on a terminal, and never with NO_COLOR or --no-color;
- bare `notes` without a terminal prints one line and exits 2 (no escape codes, no hang);
- bare `notes` on a terminal does start the app, and without a notes folder shows how to point it at one.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

# Runs the CLI with its engine over the fake embedder, as tests/conftest.py's `notes_cli` does.
FAKE_CLI = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from tests.conftest import FakeEmbedder
from tests.messy import engine_maker
from assistant.cli import main
main(sys.argv[1:], make_engine=engine_maker(FakeEmbedder()))
"""
CSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]")


class Terminal:
    """A child process on a pseudo-terminal of a fixed size; everything it writes is collected."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, size: tuple[int, int] = (30, 100)) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)
        self.output = b""

    def read_until(self, done: Callable[[bytes], bool], timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while not done(self.output) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def finish(self, timeout: float = 30) -> int:
        self.read_until(lambda _: self.process.poll() is not None, timeout)
        try:
            return self.process.wait(timeout=5)
        finally:
            os.close(self.master)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_HYPERLINK")}
    return {**env, "NOTES_MODEL": "fake-bow", "TERM": "xterm-256color", "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def notes_here(tmp_path: Path, small_corpus: Path) -> Path:
    """tmp_path holds ./notes (the small notes); the index goes to ./ix."""
    return tmp_path


def ask_on_terminal(cwd: Path, *args: str, **env: str) -> str:
    argv = [sys.executable, "-c", FAKE_CLI, "ask", "--corpus", "notes", "--index", "ix", "-k", "1", *args]
    terminal = Terminal(argv, child_env(**env), cwd)
    try:
        code = terminal.finish(60)
    finally:
        terminal.kill()
    assert code == 0, terminal.output.decode(errors="replace")
    return terminal.output.decode()


def test_ask_on_a_terminal_has_colour_and_links(notes_here: Path) -> None:
    out = ask_on_terminal(notes_here, "nacl")
    assert "\x1b[1m1.\x1b[0m" in out, "bold rank"
    link = (notes_here / "notes" / "network" / "vpc.md").as_uri()
    assert f"\x1b]8;;{link}\x1b\\notes/network/vpc.md:1\x1b]8;;\x1b\\" in out


def test_no_color_and_no_color_flag_keep_links_but_drop_colour(notes_here: Path) -> None:
    ask_on_terminal(notes_here, "nacl")  # build the index first
    for out in (ask_on_terminal(notes_here, "nacl", NO_COLOR="1"), ask_on_terminal(notes_here, "--no-color", "nacl")):
        assert "\x1b[1m" not in out and "\x1b[0m" not in out
        assert "\x1b]8;;file://" in out
        assert "1. [" in out


def test_dumb_terminal_gets_neither(notes_here: Path) -> None:
    out = ask_on_terminal(notes_here, "nacl", TERM="dumb")
    assert "\x1b" not in out and "notes/network/vpc.md:1-5" in out


def test_ask_into_a_pipe_is_plain(notes_here: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FAKE_CLI, "ask", "--corpus", "notes", "--index", "ix", "nacl"],
        env=child_env(),
        cwd=notes_here,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "\x1b" not in result.stdout and "notes/network/vpc.md:1-5" in result.stdout


@pytest.mark.parametrize("stdin_is_tty", [False, True])
def test_bare_notes_without_a_terminal_says_so_and_exits_2(tmp_path: Path, stdin_is_tty: bool) -> None:
    """`notes < /dev/null > out` and `notes > out`: one line on stderr, nothing in the file, exit 2."""
    out_file = tmp_path / "out"
    master, slave = pty.openpty()
    try:
        with out_file.open("wb") as out:
            result = subprocess.run(
                [sys.executable, "-m", "assistant", "--corpus", str(tmp_path)],
                stdin=slave if stdin_is_tty else subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.PIPE,
                env=child_env(),
                cwd=tmp_path,
                timeout=30,
            )
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 2
    assert out_file.read_bytes() == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("notes: the chat app needs a terminal; use notes ask")


def test_bare_notes_on_a_terminal_starts_the_app_and_explains_a_missing_notes_folder(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "assistant", "--corpus", "no-such-notes", "--index", str(tmp_path / "ix")]
    terminal = Terminal(argv, child_env(), tmp_path)
    try:
        screen = terminal.read_until(lambda seen: b"look again" in CSI.sub(b"", seen), timeout=60)
        text = CSI.sub(b"", screen).decode(errors="replace")
        assert "No notes to search: notes folder not found: no-such-notes" in text
        assert "notes --corpus ~/notes" in text and "NOTES_CORPUS" in text and "config.toml" in text
        os.write(terminal.master, b"q")
        assert terminal.finish(30) == 0
    finally:
        terminal.kill()
