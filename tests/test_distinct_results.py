"""Over the whole eval set: no result without readable text, no two results of one section whose
spans touch or overlap, and every result's answer lines inside its passage (issue 19).

A property of the chunker and of `fuse.join_neighbours`, not of the model: the fast test ranks with
the fake embedder; tests/test_end_to_end.py holds it with the real model too.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.config import Mode
from assistant.evaluate.run import load_questions
from assistant.notes.chunk import same_section, spans_touch
from assistant.notes.outline import readable
from assistant.retrieve.results import Hit
from assistant.retrieve.search import Searcher

from .conftest import CORPUS, REPO, FakeEmbedder

EVAL_SET = REPO / "evals" / "questions.jsonl"


def shape_problems(question: str, hits: Sequence[Hit]) -> list[str]:
    """What is wrong with one question's results, as lines a failure can print."""
    problems = []
    for hit in hits:
        chunk, answer = hit.chunk, hit.answer
        if not any(readable(line) for line in chunk.text.split("\n")):
            problems.append(f"{question!r}: empty card {chunk.citation}")
        if not chunk.start_line <= answer.start_line <= answer.end_line <= chunk.end_line:
            problems.append(f"{question!r}: answer {answer.start_line}-{answer.end_line} outside {chunk.citation}")
    for i, first in enumerate(hits):
        for second in hits[i + 1 :]:
            a, b = first.chunk, second.chunk
            if same_section(a, b) and spans_touch((a.start_line, a.end_line), (b.start_line, b.end_line)):
                problems.append(f"{question!r}: {a.citation} and {b.citation} are one section, touching")
    return problems


@pytest.fixture(scope="module")
def corpus_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    from assistant.store.build import build_index

    index = tmp_path_factory.mktemp("fake-corpus") / "index"
    build_index(CORPUS, index, FakeEmbedder())
    return Searcher.load(index, encoder=FakeEmbedder())


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_every_eval_questions_top_5_is_readable_and_distinct(corpus_searcher: Searcher, mode: Mode) -> None:
    problems: list[str] = []
    for question in load_questions(EVAL_SET, CORPUS):
        hits = corpus_searcher.search(question.question, k=5, mode=mode).hits
        assert len(hits) == 5 or mode == "bm25", question.question  # BM25 returns only passages with a word
        problems += shape_problems(question.question, hits)
    assert problems == []


def test_shape_problems_are_found() -> None:
    from assistant.notes.chunk import Chunk

    image = Chunk("n.md", ("S",), 1, 2, '<img src="https://x/y.png">')
    table = [Chunk("n.md", ("T",), 5, 9, "| EBS | block |"), Chunk("n.md", ("T",), 11, 12, "| EFS | file |")]
    found = shape_problems("q", [Hit(1, 0.5, image), *(Hit(2, 0.4, chunk) for chunk in table)])
    assert found == ["'q': empty card n.md:1-2", "'q': n.md:5-9 and n.md:11-12 are one section, touching"]


def test_no_passage_of_the_shipped_notes_is_without_words(corpus_searcher: Searcher) -> None:
    empty = [chunk.citation for chunk in corpus_searcher.chunks if not any(map(readable, chunk.text.split("\n")))]
    assert empty == []
