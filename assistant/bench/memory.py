"""Memory readings: this process's resident memory now, and peak RSS from an rusage record.

RSS growth in the bench's own process measures a loaded Searcher; peak RSS of a child (os.wait4)
measures a build or a cold ask on its own.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any


def rss_mb() -> float | None:
    """This process's resident memory now (Linux), in MiB."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def peak_rss_mb(usage: Any) -> float:
    """Peak RSS from an rusage record, in MiB (ru_maxrss is bytes on macOS, KiB on Linux)."""
    divisor = 2**20 if sys.platform == "darwin" else 2**10
    return float(usage.ru_maxrss) / divisor


def self_usage() -> Any:
    """This process's rusage so far (its ru_maxrss is the peak RSS until now)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF)
