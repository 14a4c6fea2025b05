"""Fusion on hand-computed lists, BM25 against bm25s itself, and Searcher behaviour on a tiny index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import UsageProblem
from assistant.notes.chunk import JOIN_GAP, Chunk, join_pieces, touches
from assistant.retrieve.candidates import bm25_candidates
from assistant.retrieve.fuse import JOINED_MAX_LINES, fuse_rrf, join_neighbours
from assistant.retrieve.search import Searcher, normalise_query
from assistant.store.build import build_index
from assistant.store.lexical import LexicalIndex, build_bm25, tokenize

from .conftest import FakeEmbedder


def test_rrf_hand_computed() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    bm25 = [(3, 12.0), (1, 9.0)]
    fused = dict(fuse_rrf([dense, bm25], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert [row for row, _ in fuse_rrf([dense, bm25], k=60)] == [1, 3, 2]


def test_rrf_weights_and_empty_lists() -> None:
    assert fuse_rrf([[], []]) == []
    fused = dict(fuse_rrf([[(7, 1.0)], [(8, 1.0)]], k=0, weights=[2.0, 1.0]))
    assert fused == {7: 2.0, 8: 1.0}


def test_bm25_scores_equal_bm25s(tmp_path: Path) -> None:
    import bm25s

    texts = ["lambda memory 128 MB to 10 GB", "ssh port 22", "lambda timeout 15 minutes", "dynamodb item 400 KB"]
    build_bm25(texts, tmp_path)
    ours = LexicalIndex(tmp_path)
    theirs = bm25s.BM25.load(str(tmp_path))
    for query in ("lambda memory", "port 22 ssh", "timeout of lambda lambda", "nothing matches"):
        expected = theirs.get_scores(tokenize(query)) if tokenize(query) else np.zeros(len(texts))
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5)


def test_tokenize_keeps_numbers_and_drops_stop_words() -> None:
    assert tokenize("What is the SSH port? 22") == ["ssh", "port", "22"]
    assert tokenize("Policies") == tokenize("policy")


def test_tokenize_reads_through_underscore_emphasis_but_keeps_identifiers() -> None:
    assert tokenize("__AWS Backup__ : __NO S3__") == tokenize("AWS Backup: no S3") == ["aw", "backup", "s3"]
    assert tokenize("set max_connections") == ["set", "max_connect"]


def test_bm25_candidates_drop_zero_scores_and_respect_allowed() -> None:
    scores = np.array([0.0, 3.0, 1.0, 2.0], dtype=np.float32)
    assert bm25_candidates(scores, 10, None) == [(1, 3.0), (3, 2.0), (2, 1.0)]
    assert bm25_candidates(scores, 10, np.array([2, 3])) == [(3, 2.0), (2, 1.0)]


@pytest.fixture
def searcher(small_index: Path, fake_embedder: FakeEmbedder) -> Searcher:
    return Searcher.load(small_index, encoder=fake_embedder)


def test_each_mode_finds_the_passage(searcher: Searcher) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        response = searcher.search("lambda memory limits", k=3, mode=mode)
        top = response.hits[0].chunk
        assert (top.file, top.heading_path) == ("lambda.md", ("Lambda", "Limits")), mode
        assert (top.start_line, top.end_line) == (1, 6)  # the empty "# Lambda" heading joins its child


def test_explain_ranks_per_list(searcher: Searcher) -> None:
    hit = searcher.search("stateless firewall subnet", k=1).hits[0]
    assert set(hit.ranks) == {"dense", "lines", "bm25"}
    assert hit.ranks["bm25"] == 1


def test_file_glob_restricts_results(searcher: Searcher) -> None:
    response = searcher.search("firewall", k=5, file_glob="network/*")
    assert response.hits and {h.chunk.file for h in response.hits} == {"network/vpc.md"}
    assert {h.chunk.file for h in searcher.search("firewall", k=5, file_glob="vpc.md").hits} == {"network/vpc.md"}
    with pytest.raises(UsageProblem, match="no notes match"):
        searcher.search("firewall", file_glob="*.pdf")


def test_bad_questions_and_options(searcher: Searcher) -> None:
    with pytest.raises(UsageProblem):
        searcher.search("   ")
    with pytest.raises(UsageProblem):
        searcher.search("x", mode="magic")  # type: ignore[arg-type]  # what an untyped caller could pass
    with pytest.raises(UsageProblem):
        searcher.search("x", k=0)


def test_normalise_query() -> None:
    assert normalise_query("  lambda\t\x1b[31m max\nmemory ") == "lambda [31m max memory"
    assert len(normalise_query("a " * 100_000)) <= 2000


def test_bm25_corrects_one_typo_or_swap(tmp_path: Path) -> None:
    build_bm25(["lambda memory limit", "ssh port", "storage gateway"], tmp_path)
    index = LexicalIndex(tmp_path)
    for typo, row in (("lamda", 0), ("memroy", 0), ("storge", 2), ("sssh port", 1)):
        assert int(np.argmax(index.scores(typo))) == row, typo
    assert not index.scores("zzzz").any()


def test_bm25_takes_no_real_word_for_a_typo(tmp_path: Path) -> None:
    # "loud" is one edit from "cloud", but a word the notes never use is no typo of one they do.
    build_bm25(["cloud storage", "cloud regions", "text to speech"], tmp_path)
    index = LexicalIndex(tmp_path)
    assert index.scores("read out loud").any()  # without knowing words: "loud" is read as "cloud"
    known = {"read", "out", "loud", "speech"}.__contains__
    assert not index.scores("read out loud", known).any()
    assert int(np.argmax(index.scores("lamda clowd", known))) in (0, 1)  # typos are still typos


def _pieces() -> list[Chunk]:
    """Rows 0-2: three pieces of one section (blank line between the last two); row 3: the next section."""
    return [
        Chunk("n.md", ("S",), 1, 3, "line 2\nline 3"),
        Chunk("n.md", ("S",), 4, 5, "line 4\nline 5"),
        Chunk("n.md", ("S",), 7, 8, "line 7\nline 8"),
        Chunk("n.md", ("T",), 9, 10, "line 10"),
    ]


def test_joined_pieces_read_as_the_file_does() -> None:
    first, second, third, other = _pieces()
    assert touches(first, second) and touches(second, third) and touches(third, second)
    assert not touches(third, other)  # another section
    assert not touches(first, third)  # not the next piece
    joined = join_pieces([first, second, third])
    assert (joined.start_line, joined.end_line, joined.heading_path) == (1, 8, ("S",))
    assert joined.text == "line 2\nline 3\nline 4\nline 5\n\nline 7\nline 8"
    # The cuts of one over-long line share its span: they touch, and join into the line again.
    cuts = [Chunk("n.md", ("S",), 1, 3, "line 2\nline 3 first half"), Chunk("n.md", ("S",), 1, 3, "second half")]
    assert touches(*cuts)
    assert join_pieces(cuts).text == "line 2\nline 3 first half second half"


def test_pieces_of_one_section_that_both_rank_are_one_passage() -> None:
    chunks = _pieces()

    def ranked(*rows: int) -> list[tuple[int, float, None]]:
        return [(row, 1.0, None) for row in rows]

    # Row 1 joins row 0's passage, and its place goes to row 3; a piece ranked below the k-th
    # passage joins it too, so the span does not depend on k (below `JOIN_DEPTH` it would not).
    assert join_neighbours(ranked(0, 1, 3), chunks, k=2) == [[0, 1], [3]]
    assert join_neighbours(ranked(0, 3, 1), chunks, k=2) == [[0, 1], [3]]
    assert join_neighbours(ranked(0, 3, 1), chunks, k=2, depth=2) == [[0], [3]]
    # Row 1 closes the gap between rows 0 and 2: one passage, led by row 2 (ranked first).
    assert join_neighbours(ranked(2, 0, 1, 3), chunks, k=5) == [[0, 1, 2], [3]]
    # Different sections never join.
    assert join_neighbours(ranked(2, 3), chunks, k=5) == [[2], [3]]
    assert join_neighbours(ranked(0, 1, 2, 3), chunks, k=2) == [[0, 1, 2], [3]]
    # A touching piece that would make the passage longer than the cap is not shown: its section is.
    assert join_neighbours(ranked(0, 1, 3), chunks, k=2, max_lines=4) == [[0], [3]]
    # Two passages a piece would join but the cap forbids: the later-ranked one goes, the earlier stays.
    assert join_neighbours(ranked(2, 0, 1, 3), chunks, k=5, max_lines=6) == [[1, 2], [3]]


def test_cuts_of_one_line_that_rank_are_one_passage_with_the_cuts_between() -> None:
    chunks = [Chunk("n.md", ("S",), 1, 2, f"cut {i}") for i in range(3)] + [Chunk("n.md", ("T",), 3, 3, "t")]
    assert join_neighbours([(0, 1.0, None), (2, 0.9, None), (3, 0.8, None)], chunks, k=5) == [[0, 1, 2], [3]]


def test_a_search_hit_joining_pieces_cites_and_shows_the_whole_run(tmp_path: Path) -> None:
    """End to end: a section long enough to be cut, asked about words in two of its pieces."""
    corpus = tmp_path / "notes"
    corpus.mkdir()
    filler = "and then some more plain words that make the item long enough to fill a piece"
    items = [f"- item {i} of the zebra protocol talks about ordinary things number {i} {filler}" for i in range(60)]
    text = "# Long\n\n## Zebra section\n\n" + "\n".join(items) + "\n"
    (corpus / "long.md").write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    assert len(searcher.chunks) > 3
    lines = text.split("\n")
    hits = searcher.search("zebra protocol", mode="bm25", k=10).hits
    assert any(hit.pieces > 1 for hit in hits)
    cited = [line for hit in hits for line in range(hit.chunk.start_line, hit.chunk.end_line + 1)]
    assert len(cited) == len(set(cited))  # no line shown twice
    for hit in hits:
        chunk = hit.chunk
        shown = chunk.text.split("\n")
        assert shown == lines[chunk.end_line - len(shown) : chunk.end_line]  # the cited lines, as in the file
        assert chunk.end_line - chunk.start_line + 1 <= JOINED_MAX_LINES or hit.pieces == 1
    spans = sorted((hit.chunk.start_line, hit.chunk.end_line) for hit in hits)
    assert all(after[0] - before[1] - 1 > JOIN_GAP for before, after in zip(spans, spans[1:], strict=False))
