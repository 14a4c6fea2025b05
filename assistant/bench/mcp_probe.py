"""Warm search through the MCP server, as an agent sees it: a real client (the SDK's stdio client)
in a child process starts `notes mcp` on the bench's copy of the notes and times each `search` call
from request to parsed answer, over every eval question once, after a warm-up.

The child (`child_mcp`) reports the samples and the server's start (spawn → handshake → first answer);
the parent (`mcp_searches`) adds them to the report. It measures the whole path: JSON-RPC framing on
both sides, the freshness check before each search, the search, and the answer's record.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from assistant.bench.children import python_child, require_result
from assistant.bench.report import Out, Report

WARM_UP = 10
"""Searches before timing starts (first-call costs: the encoder's first run, page cache)."""


def child_mcp(spec: dict[str, Any]) -> dict[str, Any]:
    """Start `notes mcp` under the SDK's stdio client and time its searches (the child's side)."""
    import anyio

    result: dict[str, Any] = anyio.run(_probe, spec)
    return result


async def _probe(spec: dict[str, Any]) -> dict[str, Any]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    server = spec.get("server") or [sys.executable, "-m", "assistant"]
    command = [*server, "mcp", "--corpus", spec["corpus"], "--index", spec["index"], "--model", spec["model"]]
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ), cwd=os.getcwd())
    questions: list[str] = spec["questions"]
    errors: list[str] = []
    samples: list[float] = []
    started = time.perf_counter()
    with Path(spec["errlog"]).open("w", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            handshake = time.perf_counter() - started
            first = await client.call_tool("search", {"question": questions[0], "k": spec["k"]})
            first_answer = time.perf_counter() - started
            if first.is_error:
                errors.append(str(first.content))
            for question in questions[:WARM_UP]:
                await client.call_tool("search", {"question": question, "k": spec["k"]})
            for question in questions:
                began = time.perf_counter()
                answer = await client.call_tool("search", {"question": question, "k": spec["k"]})
                samples.append((time.perf_counter() - began) * 1000)
                if answer.is_error:
                    errors.append(f"{question!r}: {answer.content}")
    return {"handshake_s": handshake, "first_answer_s": first_answer, "search_ms": samples, "errors": errors[:5]}


def mcp_searches(
    report: Report,
    work: Path,
    corpus: Path,
    index: Path,
    model: str,
    questions: list[str],
    k: int,
    note: Out,
    server: list[str] | None = None,
) -> None:
    """Time warm MCP searches in a child process (the parent's side) and add them to the report.
    `server`: the command before `mcp …` (default: this Python's `-m assistant`, i.e. `notes`)."""
    note(f"MCP server: {len(questions)} searches through a stdio client …")
    task = {
        "task": "mcp",
        "corpus": str(corpus),
        "index": str(index),
        "model": model,
        "questions": questions,
        "k": k,
        "errlog": str(work / "mcp-server.err"),
        "server": server,
    }
    run = python_child(task, work, timeout=1800.0)
    result = require_result(run, "MCP search probe")
    if result["errors"]:
        report.add("mcp_search", "warm MCP search", text="failed", note="; ".join(result["errors"])[:300])
        return
    cpu = report.info["machine"]["cpu"]
    report.add_sample(
        "mcp_search",
        f"warm `search` tool call (k={k}, hybrid)",
        result["search_ms"],
        "ms",
        "latency",
        note=f"request → parsed answer, SDK stdio client; {cpu}; target p50 ≤ 20 ms",
    )
    report.add("mcp_first_answer", "  server start → first answer", "s", "value", value=result["first_answer_s"])
    report.add("mcp_handshake", "  server start → handshake done", "s", "value", value=result["handshake_s"])
