"""`notes mcp` as MCP clients run it: a process of its own, spoken to over stdin/stdout with the SDK's
stdio client (`stdio_client`, `ClientSession`), and with raw bytes where a client would misbehave.

The fast tests run `python -m tests.mcp_server` (the same `main`, handed the fake model); the slow
ones run the real `notes mcp` with the real model on the shipped notes, over an index built once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TextIO

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult

from .conftest import CORPUS, REPO
from .mcp_server import FAKE_MODEL

PASSED_ON = ("NOTES_CACHE", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HF_HUB_OFFLINE")
"""What the tests' isolation sets (conftest.py) and the server must see too."""


def server_env(**extra: str) -> dict[str, str]:
    """Added to what stdio_client passes on (HOME, PATH, …): the tests' isolated folders, this checkout."""
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    env["PYTHONPATH"] = str(REPO)
    return {**env, **extra}


FAKE_NOTES = [sys.executable, "-m", "tests.mcp_server"]
"""`notes`, with the fake model."""


def fake_server(notes: Path, index: Path) -> list[str]:
    return [*FAKE_NOTES, "mcp", "--model", FAKE_MODEL, "--corpus", str(notes), "--index", str(index)]


@contextlib.asynccontextmanager
async def session(command: list[str], errlog: TextIO, **env: str) -> AsyncIterator[ClientSession]:
    """An initialized client session with a server process started as `command`."""
    params = StdioServerParameters(command=command[0], args=command[1:], env=server_env(**env), cwd=str(REPO))
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        yield client


def record(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def message(result: CallToolResult) -> str:
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "\n" not in text
    return text


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[TextIO]:
    with (tmp_path / "server.err").open("w+", encoding="utf-8") as handle:
        yield handle


async def test_over_stdio_the_tools_are_listed_and_answer(small_corpus: Path, tmp_path: Path, errlog: TextIO) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("TOP-SECRET", encoding="utf-8")
    (small_corpus / "link.md").symlink_to(outside)
    with anyio.fail_after(120):
        async with session(fake_server(small_corpus, tmp_path / "index"), errlog) as client:
            tools = (await client.list_tools()).tools
            found = record(await client.call_tool("search", {"question": "lambda memory", "k": 2}))
            lines = record(await client.call_tool("get", {"path": "lambda.md", "start_line": 3, "end_line": 5}))
            refusals = [
                message(await client.call_tool("get", {"path": path}))
                for path in ("../secret.md", str(outside), "link.md")
            ]
            status = record(await client.call_tool("status", {}))
    assert {tool.name: tool.annotations.read_only_hint for tool in tools} == {  # type: ignore[union-attr]
        "search": True,
        "get": True,
        "status": True,
    }
    assert all(tool.input_schema["type"] == "object" and tool.output_schema for tool in tools)
    assert found["results"][0]["file"] == "lambda.md" and len(found["results"]) <= 2
    assert found["weak_match"] is False
    assert lines["lines"] == [
        {"line": 3, "text": "## Limits"},
        {"line": 4, "text": ""},
        {"line": 5, "text": "- Memory: 128 MB to 10 GB"},
    ]
    assert all("refused" in text and "TOP-SECRET" not in text for text in refusals)
    assert status["state"] == "ready" and status["files"] == 4  # ingest follows link.md; `get` does not
    errlog.seek(0)
    said = errlog.read()
    assert "serving" in said and "indexing it first" in said and "Traceback" not in said


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
async def test_200_searches_in_a_row_answer_with_flat_memory(
    small_corpus: Path, tmp_path: Path, errlog: TextIO
) -> None:
    pid_file = tmp_path / "server.pid"
    questions = ["lambda memory", "security groups", "nacl firewall", "ebs efs storage", "pricing per request"]
    with anyio.fail_after(300):
        async with session(
            fake_server(small_corpus, tmp_path / "index"), errlog, NOTES_TEST_PID_FILE=str(pid_file)
        ) as client:
            for number in range(50):  # warm up: allocator pools, caches
                record(await client.call_tool("search", {"question": questions[number % 5]}))
            pid = int(pid_file.read_text(encoding="utf-8"))
            before = rss_kib(pid)
            answered = 0
            for number in range(200):
                if record(await client.call_tool("search", {"question": questions[number % 5] + f" {number}"}))[
                    "results"
                ]:
                    answered += 1
            after = rss_kib(pid)
    assert answered == 200
    assert after - before < 4 * 1024, f"RSS grew {after - before} KiB over 200 searches"


async def test_a_malformed_call_leaves_the_server_up(small_corpus: Path, tmp_path: Path, errlog: TextIO) -> None:
    with anyio.fail_after(120):
        async with session(fake_server(small_corpus, tmp_path / "index"), errlog) as client:
            assert "invalid arguments" in message(await client.call_tool("search", {"question": {"not": "text"}}))
            assert "unknown tool" in message(await client.call_tool("rm", {"path": "/"}))
            assert "k:" in message(await client.call_tool("search", {"question": "x", "k": -5}))
            assert record(await client.call_tool("search", {"question": "lambda memory"}))["results"]


class RawServer:
    """A server process spoken to in raw JSON-RPC lines, as a broken client would."""

    def __init__(self, command: list[str], errlog: TextIO) -> None:
        env = {**os.environ, **server_env()}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog, cwd=REPO, env=env
        )
        self.lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def request(self, ident: int, method: str, params: Any) -> None:
        self.send(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}).encode())

    def reply(self, ident: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                message = json.loads(line)
                if message.get("id") == ident:
                    return dict(message)
            time.sleep(0.02)
        raise AssertionError(f"no reply to {ident}; stdout so far: {self.lines!r}")

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=30)


def test_garbage_on_the_wire_leaves_the_server_up_and_stdout_holds_only_protocol(
    small_corpus: Path, tmp_path: Path, errlog: TextIO
) -> None:
    server = RawServer(fake_server(small_corpus, tmp_path / "index"), errlog)
    try:
        server.send(b"this is not json")
        server.send(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": "oops"}')
        server.send(b"\xff\xfe\x00 binary junk")
        server.request(
            2,
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
        )
        assert "result" in server.reply(2)
        server.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        server.request(3, "tools/call", {"name": "search", "arguments": "not an object"})
        server.request(4, "no/such/method", {})
        server.request(5, "tools/call", {"name": "search", "arguments": {"question": "lambda memory"}})
        answered = server.reply(5)
        assert answered["result"]["isError"] is False
        assert answered["result"]["structuredContent"]["results"][0]["file"] == "lambda.md"
        assert "error" in server.reply(3) and "error" in server.reply(4)
    finally:
        assert server.close() == 0
    for line in server.lines:  # every line on stdout is a JSON-RPC message: nothing else leaks onto the wire
        assert json.loads(line)["jsonrpc"] == "2.0"


# ---------------------------------------------------------------- the real model, the shipped notes


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory, _session_model_cache: Path) -> Path:
    """The shipped notes' index, built once with the real model (its ONNX export cached for the session)."""
    index = tmp_path_factory.mktemp("mcp-real") / "index"
    env = {**os.environ, "NOTES_CACHE": str(_session_model_cache), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "assistant", "index", "--corpus", str(CORPUS), "--index", str(index)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)
    assert result.returncode == 0, result.stderr
    return index


def ten_gigabytes(found: dict[str, Any]) -> bool:
    """Whether the passage naming Lambda's 10 GB maximum is in the top 3, with its answer line."""
    return any(
        re.search(r"10\s?GB", result["answer"]["text"]) and "128" in result["answer"]["text"]
        for result in found["results"][:3]
    )


@pytest.mark.slow
async def test_lambda_maximum_memory_with_the_real_model(real_index: Path, errlog: TextIO) -> None:
    command = [sys.executable, "-m", "assistant", "mcp", "--corpus", str(CORPUS), "--index", str(real_index)]
    with anyio.fail_after(300):
        async with session(command, errlog) as client:
            found = record(await client.call_tool("search", {"question": "lambda maximum memory"}))
            top = found["results"][0]
            lines = record(
                await client.call_tool("get", {"path": top["path"], "start_line": top["answer"]["start_line"]})
            )
    assert ten_gigabytes(found), found
    assert found["weak_match"] is False
    assert lines["lines"][0] == {"line": top["answer"]["start_line"], "text": top["answer"]["text"].split("\n")[0]}


def readme_config() -> dict[str, Any]:
    """The README's configuration block for MCP clients (the JSON one)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(\{\s*\"mcpServers\".*?)\n```", text, re.DOTALL)
    assert block, "the README has no mcpServers block"
    return dict(json.loads(block.group(1))["mcpServers"]["notes"])


@pytest.mark.slow
async def test_the_readme_configuration_answers_a_question(real_index: Path, errlog: TextIO) -> None:
    """As a new user would: the README's block, with their own paths filled in, in an MCP client."""
    config = readme_config()
    assert config["command"].endswith("/.venv/bin/notes")
    command = str(Path(sys.executable).parent / "notes")
    args = [str(CORPUS) if arg.startswith(("~", "/")) else arg for arg in config["args"]]
    assert args[0] == "mcp" and "--corpus" in args
    with anyio.fail_after(300):
        async with session([command, *args], errlog, **config.get("env", {}), NOTES_INDEX=str(real_index)) as client:
            found = record(await client.call_tool("search", {"question": "lambda maximum memory"}))
    assert ten_gigabytes(found), found


def test_the_bench_times_search_calls_through_a_stdio_client(small_corpus: Path, tmp_path: Path) -> None:
    from assistant.bench.mcp_probe import mcp_searches
    from assistant.bench.report import Report, format_table, machine_info

    report = Report("corpus", {}, {"machine": machine_info()})
    questions = ["lambda memory", "nacl firewall", "ebs storage"] * 5
    mcp_searches(report, tmp_path, small_corpus, tmp_path / "index", FAKE_MODEL, questions, 3, print, FAKE_NOTES)
    row = report.rows["mcp_search"]
    assert row["n"] == len(questions) and 0 < row["median"] <= row["p95"] < 5000
    assert report.info["machine"]["cpu"] in row["note"]
    assert report.rows["mcp_first_answer"]["value"] >= report.rows["mcp_handshake"]["value"] > 0
    assert any("warm `search` tool call (k=3, hybrid)" in line for line in format_table(report))
