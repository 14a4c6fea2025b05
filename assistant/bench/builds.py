"""Report rows for timed full builds, the same in both modes.

The seconds come from inside each build child (build_index alone, not Python start-up); the process
wall time, peak RSS and per-stage times of the first run go in the row's note and the rows below it.
"""

from __future__ import annotations

from assistant.bench.children import ChildRun
from assistant.bench.report import Report, summarize


def add_build(report: Report, key: str, label: str, runs: list[ChildRun]) -> None:
    """Rows for timed full builds: seconds inside the child, throughput and per-stage times."""
    results = [run.result or {} for run in runs]
    chunks = int(results[0].get("chunks", 0))
    seconds = [float(result["seconds"]) for result in results]
    wall = summarize([run.seconds for run in runs])["median"]
    report.add_sample(
        key,
        label,
        seconds,
        "s",
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
        note=f"{chunks:,} chunks, {results[0].get('index_type')}; process wall {wall:.1f} s",
    )
    rates = [chunks / value for value in seconds if value > 0]
    if rates:
        report.add_sample(f"{key}_rate", "  throughput (chunks/s)", rates, "/s")
    for stage, entry in results[0].get("stages", {}).items():
        report.add(
            f"{key}_stage_{stage.replace(' ', '_')}",
            f"  stage: {stage}",
            "s",
            "value",
            value=float(entry.get("seconds", 0.0)),
            note=f"peak RSS by then {entry.get('peak_rss_mb', 0):,.0f} MiB",
        )
