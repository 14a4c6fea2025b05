"""Token vectors: stored as int8 with per-row scales, checked on load, and the MaxSim rerank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.chunk_store import read_chunks
from assistant.conversation import match_strength, score_fraction
from assistant.errors import IndexCorrupt
from assistant.fuse import rerank_by_tokens
from assistant.generation import current_generation
from assistant.index import build_index
from assistant.search import Searcher
from assistant.token_vectors import TokenVectors, quantize, write_token_vectors
from assistant.vectors import projection_sample as sample_by_keys
from assistant.vectors import text_key as _key

from .conftest import FakeEmbedder
from .messy import FakeEmbedder as WideFakeEmbedderBase


class WideFakeEmbedder(WideFakeEmbedderBase):
    """Wider than the projection, so a build fits one."""

    def __init__(self) -> None:
        super().__init__(name="fake-wide", dimension=256, max_tokens=256)


def _unit_rows(count: int, dimension: int = 8, seed: int = 0) -> np.ndarray:
    rows = np.random.RandomState(seed).randn(count, dimension).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_int8_codes_keep_the_vectors() -> None:
    rows = _unit_rows(50, 384)
    stored = quantize(rows)
    assert stored.codes.dtype == np.int8 and stored.scales.dtype == np.float32
    restored = stored.codes.astype(np.float32) * stored.scales[:, None]
    cosines = (restored * rows).sum(axis=1) / np.linalg.norm(restored, axis=1)
    assert float(cosines.min()) > 0.9995


def test_projection_keeps_the_main_axes_and_falls_back_to_identity() -> None:
    from assistant.token_vectors import PROJECTED_DIMENSION, fit_projection, project

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
    reranked = rerank_by_tokens(fused, e[[2]], stored, depth=3)
    assert [row for row, _score, _rank in reranked] == [2, 0, 1, 3]  # ties keep fused order
    assert reranked[0] == (2, pytest.approx(1.0), 3)
    assert reranked[-1] == (3, 0.05, None)  # beyond the depth: fused score, not reranked


def test_the_best_line_moves_the_rerank_by_line_weight_standard_deviations(tmp_path: Path) -> None:
    """Passages whose MaxSim with the question is 0.82, 0.80 and 0.50, whose best lines have cosines
    0.1, 0.9 and 0.5: the line's z-score (∓1.2247) times LINE_WEIGHT times MaxSim's spread (0.1463)
    moves the first two by ∓0.0358, which swaps them; the scores stay on MaxSim's scale."""
    from assistant.fuse import LINE_WEIGHT

    assert LINE_WEIGHT == pytest.approx(0.2)
    similarities = [0.82, 0.80, 0.50]
    tokens = [np.array([[c, (1 - c * c) ** 0.5, 0, 0]], dtype=np.float32) for c in similarities]
    write_token_vectors(tmp_path / "tokens", [quantize(t) for t in tokens], np.eye(4, dtype=np.float32))
    stored = TokenVectors.load(tmp_path / "tokens", 3, 4)
    fused = [(0, 0.3), (1, 0.2), (2, 0.1)]
    question = np.array([[1, 0, 0, 0]], dtype=np.float32)
    plain = rerank_by_tokens(fused, question, stored)
    assert [row for row, _s, _r in plain] == [0, 1, 2]
    with_lines = rerank_by_tokens(fused, question, stored, line_scores=[0.1, 0.9, 0.5])
    assert [row for row, _s, _r in with_lines] == [1, 0, 2]
    assert [score for _row, score, _r in with_lines] == pytest.approx([0.8358, 0.7842, 0.50], abs=4e-3)
    assert [rank for _row, _s, rank in with_lines] == [2, 1, 3]  # fused ranks kept for --explain
    same_lines = rerank_by_tokens(fused, question, stored, line_scores=[0.4, 0.4, 0.4])  # no spread: MaxSim alone
    assert [score for _row, score, _r in same_lines] == pytest.approx(similarities, abs=4e-3)


def test_searcher_reads_each_passages_lines_for_the_rerank(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.lines is not None and searcher.line_vectors is not None
    vectors, starts = searcher.line_vectors
    owner = searcher.lines[1]
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
    assert searcher.tokens is not None
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
    assert match_strength(response).strong


def test_incremental_build_reuses_token_vectors(tmp_path: Path, small_corpus: Path) -> None:
    index = tmp_path / "index"
    build_index(small_corpus, index, FakeEmbedder(), export_encoder=False)
    first = current_generation(index)
    assert first is not None
    chunks = read_chunks(first)
    before = TokenVectors.load(first / "tokens", len(chunks), FakeEmbedder().dimension)
    nacl = next(row for row, chunk in enumerate(chunks) if chunk.text == "Stateless firewall at the subnet level.")
    note = small_corpus / "plain.txt"
    note.write_text(note.read_text() + "\nS3: objects in buckets.\n")
    report = build_index(small_corpus, index, FakeEmbedder(), export_encoder=False)
    assert report.embedded == 1 and report.reused >= 4
    second = current_generation(index)
    assert second is not None and second != first
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    after = searcher.tokens
    assert after is not None
    rows = {chunk.text: row for row, chunk in enumerate(searcher.chunks)}
    kept = after.passage(rows["Stateless firewall at the subnet level."])
    assert np.array_equal(kept.codes, before.passage(nacl).codes)


def test_damaged_token_vectors_make_the_index_corrupt(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    np.save(generation / "tokens" / "offsets.npy", np.array([0], dtype=np.int64))
    with pytest.raises(IndexCorrupt, match="token vectors"):
        Searcher.load(small_index, encoder=fake_embedder)


def test_incremental_builds_keep_the_fitted_projection(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    words = [f"word{i}" for i in range(400)]
    for number in range(6):
        body = "\n\n".join(f"## Part {part}\n\n" + " ".join(words[part * 20 : part * 20 + 60]) for part in range(6))
        (notes / f"note{number}.md").write_text(f"# Note {number}\n\n{body}\n")
    embedder = WideFakeEmbedder()
    index = tmp_path / "index"
    build_index(notes, index, embedder, export_encoder=False)
    first = current_generation(index)
    assert first is not None
    fitted = np.load(first / "tokens" / "projection.npy")
    assert fitted.shape == (256, 128)  # enough tokens to fit: projected, not the identity
    (notes / "note0.md").write_text((notes / "note0.md").read_text() + "\nOne more line.\n")
    report = build_index(notes, index, WideFakeEmbedder(), export_encoder=False)
    assert report.embedded == 1
    second = current_generation(index)
    assert second is not None and second != first
    assert np.array_equal(np.load(second / "tokens" / "projection.npy"), fitted)
    searcher = Searcher.load(index, encoder=WideFakeEmbedder())
    assert searcher.search("word30 word31", k=1).hits[0].fused_rank is not None


def test_the_projection_sample_follows_the_passages_not_their_positions() -> None:
    def projection_sample(texts: list[str], rows: range, size: int) -> list[int]:
        return sample_by_keys([_key(text) for text in texts], rows, size)

    texts = [f"passage number {i}" for i in range(40)]
    sample = projection_sample(texts, range(40), size=10)
    assert len(sample) == 10 and sample == sorted(sample)
    # A passage added in front shifts every position but moves at most one passage out of the sample.
    shifted = ["a new first passage", *texts]
    after = {shifted[row] for row in projection_sample(shifted, range(41), size=10)}
    assert len({texts[row] for row in sample} - after) <= 1
    # Editing one passage swaps at most that passage in or out.
    for edited_row in (sample[0], next(row for row in range(40) if row not in sample)):
        edited = [*texts]
        edited[edited_row] = "an edited passage"
        assert len(set(projection_sample(edited, range(40), size=10)) ^ set(sample)) <= 2
    # Positions alone (as a random draw by position did) would have moved most of it.
    assert len(set(projection_sample(texts[1:], range(39), size=10)) ^ {row - 1 for row in sample}) <= 2


def test_an_index_without_token_vectors_searches_in_fused_order(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    """Indexes over TOKEN_VECTOR_LIMIT passages keep no token vectors: no rerank (their line
    vectors are still opened, memory-mapped, for the answer lines)."""
    import shutil

    generation = current_generation(small_index)
    assert generation is not None
    shutil.rmtree(generation / "tokens")
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.tokens is None and searcher.lines is not None
    hits = searcher.search("timeout minutes", k=3).hits
    assert hits and all(hit.fused_rank is None for hit in hits)
    fused = [(0, 0.5), (1, 0.25)]
    assert searcher.rerank(fused, searcher.embed_query("timeout"), np.zeros((1, 8), dtype=np.float32)) == [
        (0, 0.5, None),
        (1, 0.25, None),
    ]
