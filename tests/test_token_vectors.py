"""Token vectors: stored as int8 with per-row scales, checked on load, and the MaxSim rerank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexCorrupt
from assistant.retrieve.fuse import rerank_by_tokens
from assistant.retrieve.search import Searcher
from assistant.retrieve.strength import match_strength, score_fraction
from assistant.store.build import build_index
from assistant.store.chunk_store import read_chunks
from assistant.store.generation import current_generation
from assistant.store.token_vectors import TokenVectors, quantize, write_token_vectors

from .conftest import FakeEmbedder
from .messy import FakeEmbedder as WideFakeEmbedderBase
from .messy import reseal


class WideFakeEmbedder(WideFakeEmbedderBase):
    """Wider than the projection, with a projection of its own (as a real model's export has)."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(name="fake-wide", dimension=256, max_tokens=256)
        self.seed = seed

    def token_projection(self) -> np.ndarray:
        axes = np.linalg.qr(np.random.RandomState(self.seed).randn(256, 128))[0]
        return np.ascontiguousarray(axes, dtype=np.float32)


def _unit_rows(count: int, dimension: int = 8, seed: int = 0) -> np.ndarray:
    rows = np.random.RandomState(seed).randn(count, dimension).astype(np.float32)
    return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def test_int8_codes_keep_the_vectors() -> None:
    rows = _unit_rows(50, 384)
    stored = quantize(rows)
    assert stored.codes.dtype == np.int8 and stored.scales.dtype == np.float32
    restored = stored.codes.astype(np.float32) * stored.scales[:, None]
    cosines = (restored * rows).sum(axis=1) / np.linalg.norm(restored, axis=1)
    assert float(cosines.min()) > 0.9995


def test_projection_keeps_the_main_axes_and_falls_back_to_identity() -> None:
    from assistant.model.projection import PROJECTED_DIMENSION, fit_projection, project

    rows = _unit_rows(2000, 384, seed=3)
    projection = fit_projection([rows[:1000], rows[1000:]], 384)
    assert projection.shape == (384, PROJECTED_DIMENSION)
    np.testing.assert_allclose(projection.T @ projection, np.eye(PROJECTED_DIMENSION), atol=1e-4)  # orthonormal
    projected = project(rows[:5], projection)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(fit_projection([rows[:10]], 384), np.eye(384, dtype=np.float32))  # too few to fit
    assert np.array_equal(fit_projection([rows[:, :64]], 64), np.eye(64, dtype=np.float32))  # already small


def test_written_vectors_load_back_per_passage(tmp_path: Path) -> None:
    passages = [quantize(_unit_rows(3, seed=1)), quantize(np.zeros((0, 8), dtype=np.float32)), quantize(_unit_rows(2))]
    write_token_vectors(tmp_path / "tokens", passages, np.eye(8, dtype=np.float32))
    stored = TokenVectors.load(tmp_path / "tokens", 3, 8)
    assert stored.offsets.tolist() == [0, 3, 3, 5]
    assert np.array_equal(stored.passage(2).codes, passages[2].codes)
    assert len(stored.passage(1).codes) == 0


def test_maxsim_hand_computed(tmp_path: Path) -> None:
    e = np.eye(4, dtype=np.float32)
    passages = [quantize(e[[0, 1]]), quantize(e[[2]]), quantize(np.zeros((0, 4), dtype=np.float32))]
    write_token_vectors(tmp_path / "tokens", passages, np.eye(4, dtype=np.float32))
    stored = TokenVectors.load(tmp_path / "tokens", 3, 4)
    query = e[[0, 2]]  # one token matches passage 0, the other passage 1
    # passage 0: best cosines (1, 0) → 0.5; passage 1: (0, 1) → 0.5; an empty passage scores 0
    assert stored.maxsim(query, [0, 1, 2]) == pytest.approx([0.5, 0.5, 0.0], abs=1e-6)
    assert stored.maxsim(e[[0]], [0, 1]) == pytest.approx([1.0, 0.0], abs=1e-6)


def test_rerank_reorders_the_head_and_keeps_the_tail(tmp_path: Path) -> None:
    e = np.eye(4, dtype=np.float32)
    write_token_vectors(tmp_path / "tokens", [quantize(e[[i]]) for i in range(4)], e)
    stored = TokenVectors.load(tmp_path / "tokens", 4, 4)
    fused = [(0, 0.3), (1, 0.2), (2, 0.1), (3, 0.05)]
    reranked = rerank_by_tokens(fused, stored.maxsim(e[[2]], [0, 1, 2]))  # the head: the first three
    assert [row for row, _score, _rank in reranked] == [2, 0, 1, 3]  # ties keep fused order
    row, score, rank = reranked[0]
    assert (row, rank) == (2, 3) and score == pytest.approx(1.0)
    assert reranked[-1] == (3, 0.05, None)  # beyond the depth: fused score, not reranked


def test_the_best_line_moves_the_rerank_by_line_weight_standard_deviations(tmp_path: Path) -> None:
    """Passages whose MaxSim with the question is 0.82, 0.80 and 0.50, whose best lines have cosines
    0.1, 0.9 and 0.5: the line's z-score (∓1.2247) times LINE_WEIGHT times MaxSim's spread (0.1463)
    moves the first two by ∓0.0358, which swaps them; the scores stay on MaxSim's scale."""
    from assistant.retrieve.fuse import LINE_WEIGHT

    assert LINE_WEIGHT == pytest.approx(0.2)
    similarities = [0.82, 0.80, 0.50]
    tokens = [np.array([[c, (1 - c * c) ** 0.5, 0, 0]], dtype=np.float32) for c in similarities]
    write_token_vectors(tmp_path / "tokens", [quantize(t) for t in tokens], np.eye(4, dtype=np.float32))
    stored = TokenVectors.load(tmp_path / "tokens", 3, 4)
    fused = [(0, 0.3), (1, 0.2), (2, 0.1)]
    question = np.array([[1, 0, 0, 0]], dtype=np.float32)
    maxsims = stored.maxsim(question, [0, 1, 2])
    plain = rerank_by_tokens(fused, maxsims)
    assert [row for row, _s, _r in plain] == [0, 1, 2]
    with_lines = rerank_by_tokens(fused, maxsims, line_scores=[0.1, 0.9, 0.5])
    assert [row for row, _s, _r in with_lines] == [1, 0, 2]
    assert [score for _row, score, _r in with_lines] == pytest.approx([0.8358, 0.7842, 0.50], abs=4e-3)
    assert [rank for _row, _s, rank in with_lines] == [2, 1, 3]  # fused ranks kept for --explain
    same_lines = rerank_by_tokens(fused, maxsims, line_scores=[0.4, 0.4, 0.4])  # no spread: MaxSim alone
    assert [score for _row, score, _r in same_lines] == pytest.approx(similarities, abs=4e-3)


def test_searcher_reads_each_passages_lines_for_the_rerank(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.index.lines is not None and searcher.index.line_vectors is not None
    vectors, starts = searcher.index.line_vectors
    owner = searcher.index.lines[1]
    for row in range(len(searcher.chunks)):
        assert set(owner[starts[row] : starts[row + 1]].tolist()) <= {row}
    assert int(starts[-1]) == len(owner) == len(vectors)
    question = searcher.embed_query("timeout minutes")
    ranked = [(row, 0.0) for row in range(len(searcher.chunks))]
    best = searcher.best_line_scores(ranked, question)
    assert best is not None and len(best) == min(len(ranked), 30)
    lines_of_first = vectors[starts[0] : starts[1]]
    if len(lines_of_first):
        assert best[0] == pytest.approx(float((lines_of_first @ question).max()), abs=1e-6)


def test_damaged_line_vectors_are_refused(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    np.save(generation / "line_vectors.npy", np.zeros((3, 2), dtype=np.float32), allow_pickle=False)
    reseal(generation)
    with pytest.raises(IndexCorrupt, match="line vectors"):
        Searcher.load(small_index, encoder=fake_embedder)


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (lambda d: np.save(d / "offsets.npy", np.array([0, 1], dtype=np.int64)), "offsets"),
        (lambda d: np.save(d / "codes.npy", np.zeros((2, 3), dtype=np.float32)), "shape"),
        (lambda d: np.save(d / "scales.npy", np.zeros(1, dtype=np.float32)), "scales"),
        (lambda d: np.save(d / "projection.npy", np.eye(7, dtype=np.float32)), "projection"),
        (lambda d: (d / "projection.npy").unlink(), None),
        (lambda d: (d / "codes.npy").write_bytes(b"\x93NUMPY garbage"), None),
    ],
)
def test_damaged_token_vectors_are_refused(tmp_path: Path, damage, what: str | None) -> None:  # type: ignore[no-untyped-def]
    write_token_vectors(
        tmp_path / "tokens", [quantize(_unit_rows(2)), quantize(_unit_rows(1))], np.eye(8, dtype=np.float32)
    )
    damage(tmp_path / "tokens")
    with pytest.raises((ValueError, OSError), match=what):
        TokenVectors.load(tmp_path / "tokens", 2, 8)


def test_hybrid_search_reranks_and_says_so(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.index.tokens is not None
    hybrid = searcher.search("timeout minutes", k=3)
    assert hybrid.hits[0].chunk.heading_path[-1] == "Limits"
    assert all(hit.fused_rank is not None for hit in hybrid.hits)
    assert [hit.score for hit in hybrid.hits] == sorted((hit.score for hit in hybrid.hits), reverse=True)
    assert 0 < hybrid.hits[0].score <= 1
    for mode in ("dense", "bm25"):  # only hybrid is reranked
        assert all(hit.fused_rank is None for hit in searcher.search("timeout minutes", k=3, mode=mode).hits)
    assert score_fraction(0.6, "hybrid", 0.6, lists=3, reranked=True) == pytest.approx(0.6)


def test_strength_judges_the_passage_fusion_ranked_first(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    response = searcher.search("stateless firewall subnet", k=3)
    judged = min(response.hits, key=lambda hit: hit.fused_rank or hit.rank)
    assert judged.fused_rank == 1
    assert match_strength(response.mode, response.searched, response.hits).strong


def test_incremental_build_reuses_token_vectors(tmp_path: Path, small_corpus: Path) -> None:
    index = tmp_path / "index"
    build_index(small_corpus, index, FakeEmbedder())
    first = current_generation(index)
    assert first is not None
    chunks = read_chunks(first)
    before = TokenVectors.load(first / "tokens", len(chunks), FakeEmbedder().dimension)
    nacl = next(row for row, chunk in enumerate(chunks) if chunk.text == "Stateless firewall at the subnet level.")
    note = small_corpus / "plain.txt"
    note.write_text(note.read_text() + "\nS3: objects in buckets.\n")
    report = build_index(small_corpus, index, FakeEmbedder())
    assert report.embedded == 1 and report.reused >= 4
    second = current_generation(index)
    assert second is not None and second != first
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    after = searcher.index.tokens
    assert after is not None
    rows = {chunk.text: row for row, chunk in enumerate(searcher.chunks)}
    kept = after.passage(rows["Stateless firewall at the subnet level."])
    assert np.array_equal(kept.codes, before.passage(nacl).codes)


def test_damaged_token_vectors_make_the_index_corrupt(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    np.save(generation / "tokens" / "offsets.npy", np.array([0], dtype=np.int64))
    reseal(generation)
    with pytest.raises(IndexCorrupt, match="token vectors"):
        Searcher.load(small_index, encoder=fake_embedder)


def _wide_notes(root: Path, count: int = 6) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    words = [f"word{i}" for i in range(400)]
    for number in range(count):
        body = "\n\n".join(f"## Part {part}\n\n" + " ".join(words[part * 20 : part * 20 + 60]) for part in range(6))
        (root / f"note{number}.md").write_text(f"# Note {number}\n\n{body}\n")
    return root


def test_the_projection_is_the_models_whatever_the_notes(tmp_path: Path) -> None:
    """Token vectors are projected on the model's own axes: an index of two notes and one of six,
    grown one way or built at once, all keep the same projection (no history in an index)."""
    expected = WideFakeEmbedder().token_projection()
    small = _wide_notes(tmp_path / "small", count=2)
    build_index(small, tmp_path / "small-index", WideFakeEmbedder())
    first = current_generation(tmp_path / "small-index")
    assert first is not None and np.array_equal(np.load(first / "tokens" / "projection.npy"), expected)
    _wide_notes(small, count=6)  # the folder grows
    report = build_index(small, tmp_path / "small-index", WideFakeEmbedder())
    assert 0 < report.embedded < report.chunks  # the first two notes' passages are reused
    grown = current_generation(tmp_path / "small-index")
    build_index(_wide_notes(tmp_path / "big"), tmp_path / "big-index", WideFakeEmbedder())
    fresh = current_generation(tmp_path / "big-index")
    assert grown is not None and fresh is not None
    for name in ("projection.npy", "codes.npy", "scales.npy", "offsets.npy"):
        assert np.array_equal(np.load(grown / "tokens" / name), np.load(fresh / "tokens" / name)), name
    searcher = Searcher.load(tmp_path / "small-index", encoder=WideFakeEmbedder())
    assert searcher.search("word30 word31", k=1).hits[0].fused_rank is not None


def test_a_new_projection_re_embeds_every_passage(tmp_path: Path) -> None:
    """Token vectors projected on other axes cannot be reused: a model export whose projection
    changed re-embeds them all, even with no note changed."""
    notes = _wide_notes(tmp_path / "notes")
    build_index(notes, tmp_path / "index", WideFakeEmbedder())
    (notes / "note0.md").write_text((notes / "note0.md").read_text() + "\nOne more line.\n")
    report = build_index(notes, tmp_path / "index", WideFakeEmbedder(seed=1))
    assert report.embedded == report.chunks


def test_an_index_without_token_vectors_searches_in_fused_order(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    """Indexes over TOKEN_VECTOR_LIMIT passages keep no token vectors: no rerank (their line
    vectors are still opened, memory-mapped, for the answer lines)."""
    import shutil

    generation = current_generation(small_index)
    assert generation is not None
    shutil.rmtree(generation / "tokens")
    reseal(generation)
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.index.tokens is None and searcher.index.lines is not None
    hits = searcher.search("timeout minutes", k=3).hits
    assert hits and all(hit.fused_rank is None for hit in hits)
