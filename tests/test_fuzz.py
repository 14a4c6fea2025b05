"""Fuzzing with hypothesis: arbitrary note text through decode + chunk, arbitrary questions through
normalise_query, BM25 scoring and Searcher.search on a tiny fake index, arbitrary text through the
presenters. Nothing may raise (except UsageProblem for a question that is empty once cleaned), and
the chunker keeps its line-coverage invariant.

Examples are bounded (max_examples, no deadline, no example database) so the suite stays fast.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.config import Mode
from assistant.errors import UsageProblem
from assistant.notes.chunk import Chunk, chunk_with_skips
from assistant.notes.ingest import Document, decode_document
from assistant.present.render import _UNSAFE, format_response, inert, response_record, to_json
from assistant.retrieve.results import SearchResponse
from assistant.retrieve.search import MAX_QUERY_CHARS, Searcher, normalise_query
from assistant.store.build import build_index

from .messy import FakeEmbedder

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Markdown-significant pieces mixed with hostile and exotic characters, so hypothesis reaches
# headings, lists, fences, tables, front matter and tables of contents, not only plain words.
MARKDOWN_PIECES = [
    "# ",
    "## ",
    "###### ",
    "#",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "  ",
    "    ",
    "\t",
    "> ",
    ">",
    "```",
    "~~~",
    "---",
    "===",
    "| a | b |",
    "|---|---|",
    "[x](#a)",
    "[link](http://x)",
    "**",
    "_",
    "`",
    "<div>",
    "</div>",
    "<!--",
    "-->",
    "\\",
    "Title:",
    "word",
    "lambda",
    "VPC",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x0b",
    "\x0c",
    "\u2028",
    "\x85",
    "é",
    "日本",
    "🧑‍💻",
    "\ud800",
    "\U0010ffff",
]

markdown_text = st.lists(st.one_of(st.sampled_from(MARKDOWN_PIECES), st.text(max_size=12)), max_size=60).map("".join)


def raw_unsafe(text: str) -> list[str]:
    """Characters that would act on a terminal: what `inert` must leave none of. A zero-width
    joiner between two symbols is allowed (it only glues an emoji sequence, as in 🧑‍💻)."""
    found = []
    for match in _UNSAFE.finditer(text):
        start, end = match.start(), match.end()
        if match.group(0) == "\u200d" and 0 < start and end < len(text):
            if unicodedata.category(text[start - 1]) == "So" and unicodedata.category(text[end]) == "So":
                continue
        found.append(match.group(0))
    return found


def _chunks_and_toc(document: Document, max_tokens: int) -> tuple[list[Chunk], list[tuple[int, int]]]:
    """Chunks, and the line ranges skipped as tables of contents, scripts and styles."""
    chunks, skipped = chunk_with_skips(document, max_tokens=max_tokens)
    return chunks, list(skipped)


def assert_coverage(document: Document, chunks: list[Chunk], skipped: list[tuple[int, int]]) -> None:
    lines = document.text.split("\n")
    spans = {(c.start_line, c.end_line) for c in chunks}
    for chunk in chunks:
        assert chunk.file == document.path
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines), (chunk.start_line, chunk.end_line, len(lines))
        assert isinstance(chunk.text, str)
    for number, line in enumerate(lines, 1):
        if not line.strip() or any(start <= number <= end for start, end in skipped):
            continue
        owners = [span for span in spans if span[0] <= number <= span[1]]
        assert len(owners) == 1, f"line {number} {line[:40]!r} lies in {len(owners)} distinct spans: {owners}"


@FUZZ
@given(text=markdown_text, max_tokens=st.sampled_from([8, 40, 256]))
def test_chunker_never_raises_and_covers_every_line(text: str, max_tokens: int) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    document, problem = decode_document("fuzz.md", raw)
    if document is None:
        assert problem is not None and problem.skipped
        return
    chunks, skipped = _chunks_and_toc(document, max_tokens)
    assert_coverage(document, chunks, skipped)


@FUZZ
@given(raw=st.binary(max_size=400), suffix=st.sampled_from(["md", "txt"]))
def test_decode_and_chunk_arbitrary_bytes(raw: bytes, suffix: str) -> None:
    document, problem = decode_document(f"fuzz.{suffix}", raw)
    if document is None:
        assert problem is not None and problem.skipped and problem.reason
        return
    assert "\x00" not in document.text
    assert "\r" not in document.text
    chunks, skipped = _chunks_and_toc(document, 40)
    assert_coverage(document, chunks, skipped)


# ---------------------------------------------------------------- the query path

TINY_NOTES = {
    "lambda.md": "# Lambda\n\nMemory from 128 MB to 10 GB; timeout fifteen minutes.\n",
    "vpc.md": "# VPC\n\n## NACL\n\nStateless firewall rules at the subnet level.\n",
    "日本語.md": "# 日本語のノート\n\n東京は日本の首都です。\n",
}


@pytest.fixture(scope="module")
def tiny_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    root = tmp_path_factory.mktemp("fuzz")
    corpus = root / "notes"
    corpus.mkdir()
    for name, text in TINY_NOTES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    fake = FakeEmbedder()
    build_index(corpus, root / "index", fake)
    return Searcher.load(root / "index", encoder=fake)


QUESTION_PIECES = MARKDOWN_PIECES + ["the", "a", "of", "?", "!!", "...", "lambda", "東京"]
questions = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(QUESTION_PIECES), max_size=30).map(" ".join))


@FUZZ
@given(query=questions)
def test_normalise_query_is_clean_and_bounded(query: str) -> None:
    searched = normalise_query(query)
    assert len(searched) <= MAX_QUERY_CHARS
    assert searched == searched.strip()
    assert "  " not in searched
    assert all(ch.isprintable() for ch in searched)


@FUZZ
@given(query=questions)
def test_bm25_scores_any_text(tiny_searcher: Searcher, query: str) -> None:
    scores = tiny_searcher.index.lexical.scores(normalise_query(query))
    assert scores.shape == (len(tiny_searcher.chunks),)
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)


@FUZZ
@given(query=questions, mode=st.sampled_from(["hybrid", "dense", "bm25"]), k=st.integers(1, 7))
@example(query=":", mode="hybrid", k=1)  # a question whose only token is punctuation: no token vectors kept
def test_search_answers_or_says_the_question_is_empty(tiny_searcher: Searcher, query: str, mode: Mode, k: int) -> None:
    try:
        response = tiny_searcher.search(query, k=k, mode=mode)
    except UsageProblem as exc:
        assert not normalise_query(query)
        assert "empty" in exc.message
        return
    assert isinstance(response, SearchResponse)
    assert len(response.hits) <= k
    assert [hit.rank for hit in response.hits] == list(range(1, len(response.hits) + 1))
    text = format_response(response)
    assert not raw_unsafe(text)
    record = json.loads(to_json(response_record(response, explain=True)))
    assert record["query"] == query


# ---------------------------------------------------------------- presenting untrusted text


@FUZZ
@given(text=st.one_of(st.text(max_size=300), markdown_text))
def test_inert_and_json_are_safe_for_any_text(text: str) -> None:
    shown = inert(text)
    assert not raw_unsafe(shown)
    assert "\x1b" not in shown and "\x07" not in shown
    encoded = to_json({"text": text})
    assert not _UNSAFE.search(encoded)
    assert all(ch not in encoded for ch in "\n\r\x1b\x07")
    assert json.loads(encoded) == {"text": text}


def test_fuzz_module_builds_its_index_in_tmp(tiny_searcher: Searcher) -> None:
    """Sanity: the fuzzed index is the tiny one (never the developer's)."""
    assert {chunk.file for chunk in tiny_searcher.chunks} == set(TINY_NOTES)
    assert Path(tiny_searcher.manifest.corpus).name == "notes"
