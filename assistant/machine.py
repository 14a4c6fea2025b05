"""The machine a figure was measured on: CPU, the SIMD features its kernels can use, library versions.

Recorded with every index (manifest `machine`), every eval report and every bench run, so that a
figure always names the CPU it came from. Reading it imports nothing heavy (package versions come
from their metadata, CPU features from /proc/cpuinfo where there is one).
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_int8", "asimd", "sve", "i8mm")
"""The CPU features onnxruntime's and faiss's kernels choose between (x86-64 and ARM64)."""
LIBRARIES = ("onnxruntime", "faiss-cpu", "numpy", "torch", "sentence-transformers")


@lru_cache(maxsize=1)
def describe() -> dict[str, Any]:
    """CPU model, architecture, cores, the SIMD flags present, and library versions."""
    model, flags = _cpuinfo()
    versions: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": model or platform.processor() or "unknown",
        "architecture": platform.machine(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        "simd": [flag for flag in SIMD_FLAGS if flag in flags],
        "python": platform.python_version(),
        "libraries": versions,
    }


def kernel_class(machine: dict[str, Any] | None = None) -> str:
    """The line every figure names: "AVX-512 VNNI", "AVX2, no AVX-512 VNNI", or the architecture."""
    found = (machine or describe()).get("simd", [])
    if "avx512_vnni" in found:
        return "AVX-512 VNNI"
    if "avx2" in found:
        return "AVX2, no AVX-512 VNNI"
    return str((machine or describe()).get("architecture", "unknown"))


def summary(machine: dict[str, Any] | None = None) -> str:
    """One line: "AMD EPYC (AVX-512 VNNI), 2 cores, onnxruntime 1.23.2"."""
    found = machine or describe()
    runtime = found.get("libraries", {}).get("onnxruntime", "?")
    return f"{found.get('cpu')} ({kernel_class(found)}), {found.get('cores')} cores, onnxruntime {runtime}"


def _cpuinfo() -> tuple[str, set[str]]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", set()
    model, flags = "", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags
