"""Fixtures for the chat app's Pilot and snapshot tests: a small notes folder, and the real Engine over
it with the deterministic stand-in model handed to its constructor (tests/conftest.py `FakeEmbedder`).

Every test builds its own index in its own tmp_path (about 0.2 s for these notes): the app then opens,
refreshes, searches and watches exactly as it does for a user, and the scores, answer lines and
weak-match verdicts the tests check are the real searcher's. Nothing here patches the model or the
encoder; only faults are injected (a clipboard tool, an editor's process).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.tui.app import NotesApp
from tests.conftest import FakeEmbedder
from tests.messy import write_notes

FAKE_MODEL = FakeEmbedder().name
"""The model name an index built with the stand-in records; Settings must name it, or the index is stale."""

LAMBDA_NOTE = """\
# AWS Lambda

## Limits

- Max memory: 128 MB to 10,240 MB (10 GB) per function.
- Max timeout: 900 seconds (15 minutes); the default timeout is 3 seconds.
- Deployment package: 50 MB zipped, 250 MB unzipped.

## Pricing

You pay per request and per GB-second of duration. The first 1 million requests per month are free.

| Item | Price |
|------|-------|
| Requests | $0.20 per 1M requests |
| Duration | billed per GB-second |
"""

S3_NOTE = """\
# Amazon S3

## Storage classes

S3 Standard is for frequently accessed data. Glacier Deep Archive is the cheapest storage class.

```bash
aws s3 cp notes.txt s3://my-bucket/
```

## Limits

The maximum object size is 5 TB. A single PUT uploads at most 5 GB; use multipart upload above 100 MB.
"""

NETWORK_NOTE = """\
\t\tNetworking

NACL: a network access control list guards a subnet.
A NACL is stateless: return traffic must be allowed explicitly.
Security groups are stateful and guard instances.
"""

NOTES = {
    "lambda.md": LAMBDA_NOTE,
    "s3.md": S3_NOTE,
    "networking.txt": NETWORK_NOTE,
}
"""Three notes, five passages: lambda.md:1-7 and 9-16, s3.md:1-9 and 11-13, networking.txt:1-5."""


def engine_for(settings: Settings) -> Engine:
    """The real engine over the settings' notes and index, with the stand-in model for builds and questions."""
    model = FakeEmbedder()
    return Engine(settings, embedder=model, encoder=model)


def indexed(settings: Settings) -> Engine:
    """`engine_for`, with the index built: the app opens it at once, fresh."""
    engine = engine_for(settings)
    engine.build()
    return engine


def chat_app(settings: Settings, engine: Engine, *, watch: bool = False) -> NotesApp:
    return NotesApp(settings, engine, watch_notes=watch)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_notes(tmp_path / "corpus", NOTES)


@pytest.fixture
def settings(corpus: Path, tmp_path: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    """The notes folder, indexed."""
    return indexed(settings)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> NotesApp:
    """The chat app over the indexed notes, not watching the folder."""
    return chat_app(settings, engine)


@pytest.fixture(autouse=True)
def no_clipboard_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never run the machine's xclip or tmux: `c` sees no clipboard tool and no known OSC 52 block."""

    def no_tool(text: str) -> str | None:
        return None

    def not_blocked() -> str | None:
        return None

    monkeypatch.setattr("assistant.tui.passages.copy_with_tool", no_tool)
    monkeypatch.setattr("assistant.tui.passages.osc52_blocked", not_blocked)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots differ from run to run."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)
