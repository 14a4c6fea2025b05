"""`notes bench`: how fast and how big, measured end to end on throwaway copies.

Two modes. Corpus mode (the default) measures the shipped notes: cold `notes ask` against the
naive path, chat app time to interactive, warm query latency, full and incremental builds
(`corpus`). Scale mode (`scale=N` or `scale_corpus=DIR`) builds about N synthetic chunks and reports
build throughput, index size, query latency, memory per chunk and HNSW recall (`scale`).

The modules, one concern each:
- `run`: `run_bench`, the entry point; the temporary workspace;
- `corpus`, `scale`: the two modes;
- `cold`, `queries`, `builds`, `footprint`: measurements both modes share;
- `children`, `memory`: starting child processes and measuring their time and memory;
- `child`, `build_child`, `tui_child`: what runs inside those children;
- `report`: the rows, the table, the machine.

Nothing here touches the user's corpus/ or index/: everything happens in a temporary folder removed on
exit, Ctrl-C included, and child processes are killed when the bench is interrupted. Children run
with the temporary folder as working directory, NOTES_* variables removed and the hub offline.
"""

from __future__ import annotations

from assistant.bench.child import child_main
from assistant.bench.children import LAUNCH_ENV, ChildRun, run_child
from assistant.bench.cold import QUESTION
from assistant.bench.corpus import TUI_ENTRY
from assistant.bench.queries import load_questions
from assistant.bench.report import Out, Report, format_table, machine_info, summarize
from assistant.bench.run import run_bench
from assistant.bench.scale import DIRECT_ABOVE, EF_SEARCH_SWEEP, RECALL_K, STAND_IN_ABOVE

__all__ = [
    "DIRECT_ABOVE",
    "EF_SEARCH_SWEEP",
    "LAUNCH_ENV",
    "QUESTION",
    "RECALL_K",
    "STAND_IN_ABOVE",
    "TUI_ENTRY",
    "ChildRun",
    "Out",
    "Report",
    "child_main",
    "format_table",
    "load_questions",
    "machine_info",
    "run_bench",
    "run_child",
    "summarize",
]
