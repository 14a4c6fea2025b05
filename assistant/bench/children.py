"""The parent side of the bench's child processes: start one, wait for it, measure it on its own.

Whatever is timed end to end (a cold ask, a build, the chat app) runs in a new process, so that its
wall time and peak RSS (os.wait4) are its own. Children run with the temporary folder as working
directory, NOTES_* variables removed and the hub offline, and are killed when the bench is
interrupted. Python tasks go through `assistant.bench.child.child_main`: a JSON spec in, a JSON
result out.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.bench.memory import peak_rss_mb
from assistant.errors import AssistantError

_CHILD = "import sys; from assistant.bench.child import child_main; child_main(sys.argv[1])"
LAUNCH_ENV = "NOTES_BENCH_LAUNCHED"


@dataclass(frozen=True)
class ChildRun:
    """One finished child process: wall time, its own peak RSS, exit status, output and result file."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None

    def tail(self) -> str:
        text = (self.stderr or self.stdout).strip().splitlines()
        return " | ".join(text[-3:])[:400]


MODEL_CACHE = "model-cache"
"""Folder, in the bench's workspace, that children use as their ONNX export cache (`encoder_cache`)."""


def child_env(extra_paths: Sequence[Path] = ()) -> dict[str, str]:
    """The environment of a child: NOTES_* removed, this checkout (and extra_paths) importable, hub offline."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTES_")}
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *(str(path) for path in extra_paths)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def run_child(
    argv: Sequence[str],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    result_file: Path | None = None,
    timeout: float = 3600.0,
) -> ChildRun:
    """Run argv to completion and measure it: wall time from spawn to exit, and its peak RSS
    (os.wait4, so each child is measured on its own). Killed if the bench is interrupted."""
    env = dict(env or child_env())
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    if result_file is not None:
        result_file.unlink(missing_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        env[LAUNCH_ENV] = repr(time.time())
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        try:
            status, usage = _wait(process, timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
    result = None
    if result_file is not None and result_file.exists():
        with contextlib.suppress(ValueError):
            result = json.loads(result_file.read_text(encoding="utf-8"))
    return ChildRun(
        seconds=seconds,
        peak_rss_mb=peak_rss_mb(usage),
        returncode=status,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        result=result,
    )


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any]:
    """Block until the child exits (a timer kills it after timeout); its exit code and rusage."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    return code, usage


def python_child(
    task: dict[str, Any], workdir: Path, extra_paths: Sequence[Path] = (), timeout: float = 3600.0
) -> ChildRun:
    """Run one bench task (`child_main`) in a new Python process: spec file in, result file out."""
    spec = workdir / f"{task['task']}.spec.json"
    result = workdir / f"{task['task']}.result.json"
    spec.write_text(json.dumps({**task, "result": str(result)}), encoding="utf-8")
    env = child_env(extra_paths)
    # The bench's own model cache: the user's is never read or written, and every run starts alike.
    env["NOTES_CACHE"] = str(workdir / MODEL_CACHE)
    return run_child(
        [sys.executable, "-c", _CHILD, str(spec)],
        workdir,
        env=env,
        result_file=result,
        timeout=timeout,
    )


def require_result(run: ChildRun, what: str) -> dict[str, Any]:
    """The child's result, or an AssistantError with the tail of its output if it failed."""
    if run.returncode != 0 or run.result is None:
        raise AssistantError(f"{what} failed (exit {run.returncode}): {run.tail()}")
    return run.result
