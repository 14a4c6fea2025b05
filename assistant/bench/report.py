"""The bench's results: rows in the order they were measured, printed as one aligned table under a
header that names the machine, and returned (or written) as JSON.

Kept apart from the measuring so that both modes print alike, and a table can be checked without
running anything. Numbers are formatted by unit here and nowhere else.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Out = Callable[[str], None]
"""Where lines go: the table (`out`) and progress (`note`)."""


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min, max, p95 and count of a sample (nearest-rank p95)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p95 = ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]
    return {"median": median, "min": ordered[0], "max": ordered[-1], "p95": p95, "n": len(ordered)}


@dataclass
class Report:
    """Rows of results, kept in the order they were measured, printed as one table."""

    mode: str
    rows: dict[str, dict[str, Any]]
    info: dict[str, Any]

    def add(self, key: str, label: str, unit: str = "", style: str = "range", **values: Any) -> dict[str, Any]:
        row = {"label": label, "unit": unit, "style": style, **values}
        self.rows[key] = row
        return row

    def add_sample(
        self, key: str, label: str, samples: Sequence[float], unit: str, style: str = "range", **extra: Any
    ) -> None:
        self.add(key, label, unit, style, **summarize(samples), **extra)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, **self.info, "results": self.rows}


def _number(value: float, unit: str) -> str:
    if unit in ("s",):
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MiB":
        return f"{value:,.0f} MiB" if value >= 10 else f"{value:.1f} MiB"
    if unit in ("KiB",):
        return f"{value:,.1f} KiB"
    if unit == "x":
        return f"{value:.1f}×"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "":
        return f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
    return f"{value:,.2f} {unit}"


def format_table(report: Report) -> list[str]:
    """The report as aligned text lines: metric, median (or value), spread, n, peak RSS / note."""
    lines = [f"{'metric':<46} {'median':>12} {'spread':>26} {'n':>5}  note"]
    lines.append("-" * 110)
    for row in report.rows.values():
        unit = row["unit"]
        if row["style"] == "section":
            lines.append("")
            lines.append(row["label"])
            continue
        if "text" in row:
            value, spread, count = row["text"], "", ""
        elif "median" in row:
            value = _number(row["median"], unit)
            if row["style"] == "latency":
                spread = f"p95 {_number(row['p95'], unit)}"
            elif row.get("n", 0) > 1:
                spread = f"{_number(row['min'], unit)} – {_number(row['max'], unit)}"
            else:
                spread = ""
            count = str(row.get("n", ""))
        elif "value" in row:
            value, spread, count = _number(row["value"], unit), "", ""
        else:
            value, spread, count = "n/a", "", ""
        notes = []
        if row.get("peak_rss_mb") is not None:
            notes.append(f"peak RSS {row['peak_rss_mb']:,.0f} MiB")
        if row.get("note"):
            notes.append(str(row["note"]))
        lines.append(f"  {row['label']:<44} {value:>12} {spread:>26} {count:>5}  {'; '.join(notes)}")
    return lines


def machine_info() -> dict[str, Any]:
    """CPU, memory, Python and library versions and load average, recorded with every run."""
    memory = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for name in ("numpy", "faiss", "onnxruntime", "bm25s"):
        with contextlib.suppress(ImportError):
            versions[name] = getattr(importlib.import_module(name), "__version__", "?")
    load = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(value, 2) for value in os.getloadavg()]
    from assistant.machine import describe, kernel_class

    described = describe()
    return {
        "load_average": load,
        "cpu": described["cpu"],
        "kernels": kernel_class(described),
        "simd": described["simd"],
        "cpus": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory else None,
        "gpu": "none used",
        "python": described["python"],
        "platform": platform.platform(),
        "versions": versions,
    }


def format_header(report: Report) -> list[str]:
    """Lines above the table: what was measured, on which machine, with which embedder, how long."""
    machine = report.info["machine"]
    what = report.info.get("corpus") or "synthetic notes"
    lines = [
        f"notes bench ({report.mode}): {what}, {report.info.get('chunks', '?'):,} chunks"
        if isinstance(report.info.get("chunks"), int)
        else f"notes bench ({report.mode}): {what}",
        f"machine: {machine['cpus']} CPUs ({machine['cpu']}, {machine.get('kernels')}; SIMD "
        f"{' '.join(machine.get('simd', []))}), {machine['memory_gib']} GiB RAM, no GPU; "
        f"Python {machine['python']}, " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        f"embedder: {report.info.get('embedder')}",
    ]
    if report.info.get("build_path"):
        lines.append(f"build path: {report.info['build_path']}")
    if report.info.get("hnsw"):
        lines.append(f"HNSW parameters: {report.info['hnsw']}")
    load_end = machine_info()["load_average"]
    report.info["load_average_end"] = load_end
    lines.append(
        f"bench took {report.info['bench_seconds']} s; "
        f"bench process peak RSS {report.info['bench_peak_rss_mb']:,.0f} MiB; "
        f"load average at start {machine['load_average']}, at end {load_end}"
    )
    lines.append("")
    return lines
