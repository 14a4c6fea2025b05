"""`notes` with the tests' fake model, as a process of its own: the stdio tests spawn
`python -m tests.mcp_server mcp --model fake-bow --corpus … --index …`, since a real subprocess
cannot be handed objects.

The engine is injected the way every test injects it (`main(argv, make_engine=...)`); with
NOTES_TEST_PID_FILE set, the process first writes its pid there (the memory test reads its RSS).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from assistant.cli import main
from assistant.config import Settings
from assistant.engine import Engine
from tests.conftest import FakeEmbedder

FAKE_MODEL = FakeEmbedder().name


def make_engine(settings: Settings) -> Engine:
    fake = FakeEmbedder()
    return Engine(settings, embedder=fake, encoder=fake)


if __name__ == "__main__":
    pid_file = os.environ.get("NOTES_TEST_PID_FILE")
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()), encoding="utf-8")
    main(sys.argv[1:], make_engine=make_engine)
