"""Warm query timing, shared by both modes: the questions, latency per mode, time per stage.

Every question is asked once per mode of one loaded Searcher (after a few untimed ones), so the
numbers are what a chat session sees once the index is open, not a cold start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import MODES

if TYPE_CHECKING:
    from assistant.retrieve.search import Searcher


ANSWERED = 5
"""Results whose answer lines the per-stage timing includes (`notes ask`'s default -k)."""
_SAMPLE_QUESTIONS = (
    "lambda maximum memory",
    "difference between security groups and network ACLs",
    "what is a NAT gateway",
    "S3 storage classes",
    "RDS multi-AZ vs read replicas",
    "SQS visibility timeout",
    "dynamodb partition key",
    "route 53 routing policies",
    "iam policy structure",
    "how to connect a VPC to S3 privately",
)


def load_questions(path: Path | None) -> list[str]:
    """The eval questions ("question" or "query" field, one JSON object a line), or a built-in sample."""
    if path is None or not path.is_file():
        return list(_SAMPLE_QUESTIONS)
    questions: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            text = record.get("question") or record.get("query")
            if text:
                questions.append(str(text))
    return questions or list(_SAMPLE_QUESTIONS)


def latencies(searcher: Searcher, questions: Sequence[str], k: int) -> dict[str, list[float]]:
    """Warm search latency per mode, in ms, over every question (after 10 untimed per mode)."""
    for mode in MODES:
        for question in questions[:10]:
            searcher.search(question, k=k, mode=mode)
    timings: dict[str, list[float]] = {}
    for mode in MODES:
        samples = timings[mode] = []
        for question in questions:
            started = time.perf_counter()
            searcher.search(question, k=k, mode=mode)
            samples.append((time.perf_counter() - started) * 1000)
    return timings


def components(searcher: Searcher, questions: Sequence[str]) -> dict[str, list[float]]:
    """Per-stage query time: spelling, BM25 scoring and top-k, query encoding (with token vectors
    when the index reranks), dense search, token rerank, and the answer lines of the top results."""
    from assistant.model.projection import project
    from assistant.retrieve.candidates import bm25_candidates, dense_candidates, line_candidates
    from assistant.retrieve.fuse import fuse_rrf, join_neighbours
    from assistant.retrieve.search import (
        CANDIDATES,
        Asked,
        normalise_query,
    )

    speller, tokens, lines = searcher.index.speller, searcher.index.tokens, searcher.index.lines
    timings: dict[str, list[float]] = {}

    def mark(name: str, started: float) -> float:
        now = time.perf_counter()
        timings.setdefault(name, []).append((now - started) * 1000)
        return now

    for question in questions:
        now = time.perf_counter()
        text = normalise_query(question)
        if speller is not None:
            text = speller.correct(text)
            now = mark("spelling correction", now)
        scores = searcher.index.lexical.scores(text)
        now = mark("bm25 scoring", now)
        ranked = [bm25_candidates(scores, CANDIDATES, None)]
        now = mark("bm25 top-k", now)
        query_tokens = None
        if tokens is not None:
            vector, query_tokens = searcher.embed_query_with_tokens(text)
        else:
            vector = searcher.embed_query(text)
        now = mark("query encoding", now)
        ranked.append(dense_candidates(searcher.index.dense_index, vector, CANDIDATES, None))
        now = mark("dense search (chunks)", now)
        if lines is not None:
            ranked.append(line_candidates(lines[0], lines[1], vector, CANDIDATES, None))
            now = mark("dense search (lines)", now)
        if tokens is not None and query_tokens is not None:
            fused = fuse_rrf(ranked)
            now = time.perf_counter()
            projected = project(query_tokens, tokens.projection)
            final, similarities = searcher.rerank_with_similarities(fused, vector, projected)
            now = mark("token rerank (top 30, MaxSim + best line)", now)
            asked = Asked(text, vector, projected, similarities)
            for group in join_neighbours(final, searcher.chunks, ANSWERED):
                searcher.answer_for(group, searcher.passage(group), asked)
            mark(f"answer lines ({ANSWERED} results, joined pieces included)", now)
    return timings
