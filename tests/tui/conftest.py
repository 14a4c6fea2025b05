"""Fixtures for the chat app's Pilot and snapshot tests: a tiny note folder, an in-memory searcher with
the real Searcher's surface, and backends that never touch a model, an index or a watcher thread."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import IndexMissing, UsageProblem
from assistant.notes.chunk import Chunk
from assistant.retrieve.answer import Answer, answer_for_passage
from assistant.retrieve.fuse import RRF_K
from assistant.retrieve.highlight import matched_terms, query_terms
from assistant.retrieve.results import Hit, SearchResponse
from assistant.retrieve.search import normalise_query
from assistant.store.lexical import tokenize

LAMBDA_NOTE = """\
# AWS Lambda

## Limits

- Memory: from 128 MB up to 10,240 MB (10 GB) per function.
- Maximum timeout: 900 seconds (15 minutes). The default timeout is 3 seconds.
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
		Networking

NACL: a network access control list guards a subnet.
A NACL is stateless: return traffic must be allowed explicitly.
Security groups are stateful and guard instances.
"""

HOSTILE_NOTE = (
    "# Hostile note\n"
    "\n"
    "Markup [bold]x[/] and [link=http://e]y[/link] stays literal for the hostile test.\n"
    "Colour \x1b[31mred\x1b[0m, title \x1b]0;title\x07, clipboard \x1b]52;c;ZXZpbA==\x07, "
    "reversed \u202eesrever hostile.\n"
)

NOTES = {
    "lambda.md": LAMBDA_NOTE,
    "s3.md": S3_NOTE,
    "networking.txt": NETWORK_NOTE,
}

SPANS: dict[str, list[tuple[tuple[str, ...], int, int]]] = {
    "lambda.md": [
        (("AWS Lambda", "Limits"), 5, 7),
        (("AWS Lambda", "Pricing"), 11, 16),
    ],
    "s3.md": [
        (("Amazon S3", "Storage classes"), 5, 9),
        (("Amazon S3", "Limits"), 13, 13),
    ],
    "networking.txt": [
        (("Networking",), 3, 5),
    ],
    "hostile.md": [
        (("Hostile note",), 3, 4),
    ],
}


def make_chunks(corpus: Path, files: dict[str, str]) -> list[Chunk]:
    chunks = []
    for name, text in files.items():
        lines = text.split("\n")
        for heading, start, end in SPANS[name]:
            chunks.append(Chunk(name, heading, start, end, "\n".join(lines[start - 1 : end])))
    return chunks


class FakeSearcher:
    """The Searcher surface over fixed chunks: ranks by shared words, deterministic, instant."""

    model_name = "fake-model"

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.files = sorted({chunk.file for chunk in chunks})
        self.manifest: dict[str, Any] = {"model": {"name": self.model_name}}
        self.calls: list[dict[str, Any]] = []

    def search(self, query: str, *, k: int = 5, mode: str = "hybrid", file_glob: str | None = None) -> SearchResponse:
        self.calls.append({"query": query, "k": k, "mode": mode, "file_glob": file_glob})
        searched = normalise_query(query)
        if not searched:
            raise UsageProblem("the question is empty", "type a few words")
        terms = query_terms(searched)
        pool = [c for c in self.chunks if not file_glob or fnmatch.fnmatch(c.file, file_glob)]
        scored = []
        for position, chunk in enumerate(pool):
            overlap = len(matched_terms(" ".join(chunk.heading_path) + "\n" + chunk.text, terms))
            scored.append((-overlap, position, chunk))
        scored.sort(key=lambda item: (item[0], item[1]))
        hits = []
        for rank, (negative, _position, chunk) in enumerate(scored[:k], 1):
            lexical = rank if negative < 0 else None
            ranks: dict[str, int | None] = {}
            if mode in ("hybrid", "bm25"):
                ranks["bm25"] = lexical
            if mode in ("hybrid", "dense"):
                ranks["dense"] = rank
            if mode == "hybrid":
                score = sum(1 / (RRF_K + r) for r in ranks.values() if r is not None)
            elif mode == "dense":
                score = 0.7 - 0.1 * rank if negative < 0 else 0.1
            else:
                score = float(-negative) * 2.0
            # Shared words stand in for meaning: 0.2 with none, 0.1 more for each.
            similar = None if mode == "bm25" else round(0.2 - 0.1 * negative, 2)
            hits.append(Hit(rank, score, chunk, ranks, answer=fake_answer(chunk, searched), similarity=similar))
        if mode == "bm25":
            hits = [hit for hit in hits if hit.ranks.get("bm25") is not None]
        return SearchResponse(query, searched, mode, hits, 0.0)


def fake_answer(chunk: Chunk, searched: str) -> Answer:
    """The answer lines a search without vectors chooses: the line holding most of the question's terms."""
    weights = dict.fromkeys(tokenize(searched), 1.0)
    pieces = [(chunk.text, chunk.end_line)]
    return answer_for_passage(pieces, None, None, terms_of=tokenize, term_weights=weights)


class FakeBackend:
    """A Backend whose opening can be held back, whose refresh counts, and whose watcher is a queue."""

    def __init__(self, searcher: FakeSearcher, *, missing: bool = False) -> None:
        self.searcher = searcher
        self.missing = missing
        self.release = threading.Event()
        self.release.set()
        self.refreshes = 0
        self.changes: list[set[str]] = []
        self.refreshed = threading.Event()

    def open(self) -> FakeSearcher:
        self.release.wait(5)
        if self.missing:
            raise IndexMissing("no index yet", "run `notes index`")
        return self.searcher

    def freshness(self) -> Any:
        backend = self

        class State:
            fresh = not backend.missing
            missing = backend.missing

            def describe(self) -> str:
                return "no index yet" if backend.missing else "up to date"

        return State()

    def refresh(self, progress: Any, notify: Any) -> str:
        self.refreshes += 1
        progress("embed", 1, 2)
        progress("embed", 2, 2)
        self.missing = False
        self.refreshed.set()
        return f"index updated ({self.refreshes})"

    def watch(self, stop: threading.Event) -> Iterator[set[str]]:
        while self.changes and not stop.is_set():
            yield self.changes.pop(0)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def settings(corpus: Path, tmp_path: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model="fake-model")


@pytest.fixture
def searcher(corpus: Path) -> FakeSearcher:
    return FakeSearcher(make_chunks(corpus, NOTES))


@pytest.fixture
def backend(searcher: FakeSearcher) -> FakeBackend:
    return FakeBackend(searcher)


@pytest.fixture(autouse=True)
def no_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's $EDITOR out of the tests."""
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)


@pytest.fixture(autouse=True)
def no_clipboard_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never run the machine's xclip or tmux: `c` sees no clipboard tool and no known OSC 52 block."""
    monkeypatch.setattr("assistant.tui.passages.copy_with_tool", lambda text: None)
    monkeypatch.setattr("assistant.tui.passages.osc52_blocked", lambda: None)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots differ from run to run."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)
