"""Tests for assistant.bench and assistant.synthetic: the bench runs end to end on tiny inputs and
reports the expected rows. No timing is asserted: only that each measurement is there.

Everything uses the stand-in embedder (no model, no torch), so the whole file takes seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import format_table, load_questions, run_bench, run_child, summarize
from assistant.bench.stand_in import StandInEmbedder
from assistant.bench.synthetic import harvest, synthetic_chunks, write_synthetic_corpus
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.notes.chunk import chunk_document
from assistant.notes.ingest import decode_document, discover, read_bytes

REPO = Path(__file__).resolve().parent.parent

FAKE_CHAT_APP = """
from textual.app import App
from textual.widgets import Input


class FakeChat(App[None]):
    def compose(self):
        yield Input(id="prompt")

    def on_mount(self) -> None:
        self.query_one(Input).focus()


def run_chat(settings, engine) -> None:
    FakeChat().run()
"""


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    lines = [{"id": "q1", "question": "lambda memory limit"}, {"id": "q2", "question": "nacl vs security group"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_synthetic_chunks_are_what_the_chunker_makes(tmp_path: Path) -> None:
    """The direct scale path takes chunks from the generator instead of the chunker: they must agree."""
    pool = harvest([REPO / "corpus"])
    write_synthetic_corpus(tmp_path / "notes", 600, pool, seed=3)
    embedder = StandInEmbedder()
    sources, problems = discover(tmp_path / "notes")
    assert not problems
    chunked = []
    for source in sorted(sources, key=lambda source: source.path):
        raw, _ = read_bytes(source)
        assert raw is not None
        document, _ = decode_document(source.path, raw)
        assert document is not None
        chunked.extend(chunk_document(document, max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens))
    assert chunked == list(synthetic_chunks(pool, 600, seed=3))


def test_synthetic_notes_look_like_notes(tmp_path: Path) -> None:
    pool = harvest([REPO / "corpus"])
    files, size = write_synthetic_corpus(tmp_path / "a", 450, pool, seed=1)
    assert files == 3 and size > 0
    text = "\n".join(path.read_text(encoding="utf-8") for path in (tmp_path / "a").rglob("*.md"))
    for marker in ("\n# ", "\n## ", "\n### ", "\n- ", "```"):
        assert marker in "\n" + text
    write_synthetic_corpus(tmp_path / "b", 450, pool, seed=1)
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_synthetic_notes_work_from_an_empty_pool(tmp_path: Path) -> None:
    pool = harvest([])
    chunks = list(synthetic_chunks(pool, 20, seed=0))
    assert len(chunks) == 20 and all(chunk.text for chunk in chunks)


def test_stand_in_embedder_is_deterministic_and_normalised() -> None:
    texts = ["Lambda memory goes up to 10 GB", "", "lambda memory limit"]
    first = StandInEmbedder().embed_documents(texts)
    second = StandInEmbedder().embed_queries(texts)
    assert first.shape == (3, 384) and first.dtype == np.float32
    assert np.allclose(first, second)
    assert np.allclose(np.linalg.norm(first[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert float(first[0] @ first[2]) > float(first[0] @ StandInEmbedder().encode(["VPC peering routes"])[0])


def test_summarize_and_questions(tmp_path: Path, questions: Path) -> None:
    stats = summarize([3.0, 1.0, 2.0, 10.0])
    assert stats["median"] == 2.5 and stats["min"] == 1.0 and stats["max"] == 10.0 and stats["p95"] == 10.0
    assert summarize([]) == {"n": 0}
    assert load_questions(questions) == ["lambda memory limit", "nacl vs security group"]
    assert len(load_questions(tmp_path / "missing.jsonl")) >= 5


def test_run_child_measures_its_own_peak_memory(tmp_path: Path) -> None:
    run = run_child(
        [sys.executable, "-c", "x = bytearray(80_000_000); x[::4096] = b'1' * len(x[::4096]); print('ok')"], tmp_path
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok"
    assert run.peak_rss_mb > 70 and run.seconds > 0


@pytest.mark.parametrize("direct", [False, True], ids=["files", "direct"])
def test_scale_bench_on_a_tiny_synthetic_corpus(
    tmp_path: Path, small_corpus: Path, questions: Path, direct: bool
) -> None:
    lines: list[str] = []
    result = run_bench(
        Settings(corpus_dir=small_corpus, index_dir=tmp_path / "untouched-index"),
        scale=300,
        runs=1,
        stand_in=True,
        direct=direct,
        out=lines.append,
        questions_file=questions,
        json_out=tmp_path / "bench.json",
        workdir=tmp_path,
    )
    rows = result["results"]
    assert result["mode"] == "scale" and 290 <= result["chunks"] <= 310
    for key in (
        "build_full",
        "build_full_rate",
        "disk_total",
        "query_hybrid",
        "query_dense",
        "query_bm25",
        "component_bm25_scoring",
        "rss_per_chunk",
        "load_chunks",
        "cold_ask",
        "recall_chunks",
    ):
        assert key in rows, key
    assert rows["query_hybrid"]["n"] == 2
    assert "STAND-IN" in result["embedder"]
    table = "\n".join(lines)
    assert "hybrid" in table and "chunks/s" in table and "dense.faiss" in table
    assert json.loads((tmp_path / "bench.json").read_text())["results"].keys() == rows.keys()
    assert not (tmp_path / "untouched-index").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("notes-bench-")] == []


def test_corpus_bench_with_stand_in_and_a_fake_chat_app(tmp_path: Path, small_corpus: Path, questions: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "fake_chat.py").write_text(FAKE_CHAT_APP, encoding="utf-8")
    before = _snapshot(small_corpus)
    lines: list[str] = []
    result = run_bench(
        Settings(corpus_dir=small_corpus, index_dir=tmp_path / "untouched-index"),
        runs=1,
        build_runs=1,
        stand_in=True,
        out=lines.append,
        questions_file=questions,
        workdir=tmp_path,
        tui_entry="fake_chat:run_chat",
        tui_paths=[app_dir],
    )
    rows = result["results"]
    assert result["mode"] == "corpus" and result["chunks"] >= 5
    assert rows["cold_ask"]["text"].startswith("n/a")
    assert rows["tui_interactive"]["n"] == 1 and rows["tui_interactive"]["median"] > 0
    assert "a key press reached the prompt" in rows["tui_interactive"]["note"]
    for key in ("build_full", "query_hybrid", "query_dense", "query_bm25", "build_incremental", "searcher_load"):
        assert key in rows, key
    assert "re-embedded" in rows["build_incremental"]["note"]
    assert _snapshot(small_corpus) == before
    assert not (tmp_path / "untouched-index").exists()
    assert any("time to interactive" in line for line in lines)


def test_a_missing_chat_app_is_reported_not_fatal(tmp_path: Path, small_corpus: Path, questions: Path) -> None:
    from assistant.bench import Report
    from assistant.bench.corpus import _tui

    report = Report("corpus", {}, {})
    _tui(report, tmp_path, small_corpus, tmp_path / "index", "m", 2, "no_such_chat_app:run_chat", (), lambda _m: None)
    assert report.rows["tui_interactive"]["text"] == "n/a (tui not installed)"
    assert "n/a (tui not installed)" in "\n".join(format_table(report))


def test_recall_of_an_hnsw_index_against_exact_search() -> None:
    import faiss

    from assistant.bench import EF_SEARCH_SWEEP, Report
    from assistant.bench.scale import _recall

    rng = np.random.default_rng(0)
    stored = rng.standard_normal((3000, 32)).astype(np.float32)
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    index = faiss.IndexHNSWFlat(32, 8, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = 40
    index.add(stored)
    report = Report("scale", {}, {})
    _recall(report, "chunks", index, stored, stored[:50] + 0.01, questions=20, depth=50)
    recalls = {key: row["recall"] for key, row in report.rows.items() if key.startswith("chunks_hnsw_ef")}
    assert set(recalls) == {f"chunks_hnsw_ef{ef}" for ef in {*EF_SEARCH_SWEEP, 40, 50}}
    assert all(0.0 <= value <= 1.0 for value in recalls.values())
    assert recalls["chunks_hnsw_ef1024"] >= recalls["chunks_hnsw_ef32"]
    assert report.info["hnsw"]["chunks"]["efSearch_used_by_search"] == 50
    assert "what search uses" in report.rows["chunks_hnsw_ef50"]["note"]
    assert all(0.0 <= row["recall_in_depth"] <= 1.0 for key, row in report.rows.items() if "_hnsw_ef" in key)


def test_folder_bench_times_full_builds_of_a_folder_it_never_writes(
    tmp_path: Path, small_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(small_corpus)
    lines: list[str] = []
    monkeypatch.chdir(small_corpus.parent)  # the folder as typed: relative to where bench runs, not its children
    result = run_bench(
        Settings(corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "untouched-index"),
        folder=Path(small_corpus.name),
        build_runs=2,
        stand_in=True,
        out=lines.append,
        workdir=tmp_path,
    )
    rows = result["results"]
    assert result["mode"] == "folder" and result["chunks"] >= 5
    assert rows["build_full"]["n"] == 2 and rows["build_cpu"]["median"] > 0 and rows["build_lines"]["value"] > 0
    assert rows["naive_passages"]["text"].startswith("n/a")
    first = rows["first_answer"]
    assert first["n"] == 2 and 0 < first["median"] < rows["build_full"]["median"] * 2, "answered while it built"
    assert "the index ready to answer at" in first["note"]
    assert any("stage: embedding lines" in line for line in lines)
    assert _snapshot(small_corpus) == before
    assert not (tmp_path / "untouched-index").exists()
    with pytest.raises(AssistantError, match="--folder"):
        run_bench(Settings(), folder=small_corpus, scale=10, workdir=tmp_path)
