"""A messy notes folder: the build completes, every skipped or repaired file is reported once (by
name and reason), nothing raises, and the index answers from the good files.

The fast tests build with the fake embedder through `build_index`; the `slow` test at the end runs
the real `notes index` / `notes ask` in a subprocess over the same folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.engine import summary_line
from assistant.notes.chunk import chunk_document
from assistant.notes.ingest import SourceFile, decode_document, load_documents, read_bytes
from assistant.retrieve.search import Searcher
from assistant.store.build import build_index
from assistant.store.build_report import BuildReport
from assistant.store.chunk_store import read_chunks
from assistant.store.freshness import check_freshness
from assistant.store.generation import current_generation
from assistant.store.manifest import read_manifest
from assistant.store.state import read_state

from .messy import (
    DECODED,
    GOOD_NOTES,
    INDEXED,
    FakeEmbedder,
    deep_list,
    engine_maker,
    expected_problems,
    make_messy_corpus,
    many_headings,
    one_line,
    run_notes,
)

REPO = Path(__file__).resolve().parent.parent
NOTES = REPO / ".venv" / "bin" / "notes"


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_messy_corpus(tmp_path_factory.mktemp("messy") / "notes")


@pytest.fixture(scope="module")
def messy_build(messy: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildReport, Path, float]:
    index = tmp_path_factory.mktemp("messy-index") / "index"
    started = time.perf_counter()
    report = build_index(messy, index, FakeEmbedder())
    return report, index, time.perf_counter() - started


def problems_by_path(problems: list) -> dict[str, tuple[bool, str]]:  # type: ignore[type-arg]
    counts = Counter(problem.path for problem in problems)
    repeated = {path: n for path, n in counts.items() if n > 1}
    assert not repeated, f"reported more than once: {repeated}"
    return {problem.path: (problem.skipped, problem.reason) for problem in problems}


def assert_expected(found: dict[str, tuple[bool, str]], expected: dict[str, tuple[bool, str]]) -> None:
    assert set(found) == set(expected), f"unexpected {set(found) - set(expected)}, missing {set(expected) - set(found)}"
    for path, (skipped, word) in expected.items():
        assert found[path][0] is skipped, (path, found[path])
        assert word.lower() in found[path][1].lower(), (path, found[path])


# ---------------------------------------------------------------- the fast build over the messy folder


def test_build_completes_and_reports_each_problem_once(messy_build: tuple[BuildReport, Path, float]) -> None:
    report, index, _ = messy_build
    assert_expected(problems_by_path(report.problems), expected_problems())
    manifest = read_manifest(current_generation(index))  # type: ignore[arg-type]
    for path in INDEXED:
        assert path in manifest.files, path
        assert manifest.files[path].chunks > 0, path
    skipped = {path for path, (is_skipped, _) in expected_problems().items() if is_skipped}
    assert set(manifest.skipped) == skipped - {"empty.md", "loop/again"}


def test_summary_line_counts_the_skipped_files(messy_build: tuple[BuildReport, Path, float]) -> None:
    report, _, _ = messy_build
    skipped = sum(1 for is_skipped, _ in expected_problems().values() if is_skipped)
    line = summary_line(report)
    assert f"{skipped} skipped" in line
    assert line.startswith("index built:")  # the first build of these notes


def test_hidden_folders_are_neither_read_nor_reported(messy_build: tuple[BuildReport, Path, float]) -> None:
    report, index, _ = messy_build
    generation = current_generation(index)
    assert generation is not None
    names = list(read_manifest(generation).files) + [problem.path for problem in report.problems]
    assert not any(part.startswith(".") for name in names for part in name.split("/"))
    assert not any("yeti" in chunk.text for chunk in read_chunks(generation))


def test_index_answers_from_the_good_files(messy_build: tuple[BuildReport, Path, float]) -> None:
    _, index, _ = messy_build
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    expected = {
        "quokka mnemonic": "good/networking.md",
        "zebrafish restore": "good/storage.txt",
        "Lambda memory 10240": "good/compute.markdown",
        "okapi": "utf16-le.md",
        "narwhal": "utf16-be.md",
        "capybara": "cp1252.md",
        "wombat": "latin1.txt",
        "axolotl": "invalid-utf8.md",
        "tapir": "folder.md/inside.md",
        "ibex": "loop/inside-loop.md",
        "Heading 9876": "many-headings.md",
        "level 999 item": "deep-list.md",
    }
    for question, file in expected.items():
        hits = searcher.search(question, k=3, mode="bm25").hits
        assert hits and hits[0].chunk.file == file, (question, [h.chunk.citation for h in hits])
        # The fake vectors carry little meaning, so hybrid is only checked to answer (the slow test
        # checks the real model's hybrid answers).
        assert len(searcher.search(question, k=3, mode="hybrid").hits) == 3
    assert searcher.search("yeti", mode="bm25").hits == []


def test_repaired_files_are_decoded_right(messy_build: tuple[BuildReport, Path, float]) -> None:
    _, index, _ = messy_build
    chunks = read_chunks(current_generation(index))  # type: ignore[arg-type]
    for path, text in DECODED.items():
        joined = "\n".join(chunk.text for chunk in chunks if chunk.file == path)
        assert text in joined, (path, joined[:200])


def test_rebuild_reports_the_same_problems_again_once(
    messy: Path, messy_build: tuple[BuildReport, Path, float], tmp_path: Path
) -> None:
    """An up-to-date second build over the same folder says the same, once per file."""
    _, index, _ = messy_build
    report = build_index(messy, index, FakeEmbedder())
    assert report.up_to_date
    found = problems_by_path(report.problems)
    assert_expected(found, expected_problems())


def test_load_documents_reports_each_problem_once(messy: Path) -> None:
    documents, problems = load_documents(messy)
    found = problems_by_path(problems)
    # load_documents has no chunker: the empty file is a document without text, not a problem.
    expected = {path: value for path, value in expected_problems().items() if path != "empty.md"}
    assert_expected(found, expected)
    paths = {document.path for document in documents}
    assert set(INDEXED) <= paths
    assert all("\x00" not in document.text for document in documents)


# ---------------------------------------------------------------- single awkward files


def build_one(tmp_path: Path, files: dict[str, bytes], **patches: object) -> BuildReport:
    corpus = tmp_path / "notes"
    corpus.mkdir(exist_ok=True)
    (corpus / "good.md").write_text("# Good\n\nThe good note about gibbons.\n", encoding="utf-8")
    for name, data in files.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_bytes(data)
    report = build_index(corpus, tmp_path / "index", FakeEmbedder())
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    assert searcher.search("gibbons", mode="bm25").hits[0].chunk.file == "good.md"
    return report


def test_unreadable_file_is_skipped_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as root, so chmod 000 would not stop a read: make the read itself fail."""
    real = Path.read_bytes

    def read_bytes_denied(self: Path) -> bytes:
        if self.name == "secret.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes_denied)
    report = build_one(tmp_path, {"secret.md": b"# Secret\n\ntext\n"})
    assert problems_by_path(report.problems) == {"secret.md": (True, "unreadable (Permission denied)")}


def test_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.scandir

    def scandir(path: str) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr("assistant.notes.ingest.os.scandir", scandir)
    report = build_one(tmp_path, {"locked/inside.md": b"# In\n\nx\n"})
    found = problems_by_path(report.problems)
    assert found == {"locked": (True, "unreadable folder (Permission denied)")}


def test_file_deleted_between_discovery_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = read_bytes

    def delete_then_read(source: SourceFile) -> tuple[bytes | None, object]:
        if source.path == "gone.md":
            source.absolute.unlink()
        return real(source)

    monkeypatch.setattr("assistant.store.build.read_bytes", delete_then_read)
    report = build_one(tmp_path, {"gone.md": b"# Gone\n\nsoon gone\n"})
    assert problems_by_path(report.problems) == {"gone.md": (True, "deleted while indexing")}
    manifest = read_manifest(current_generation(tmp_path / "index"))  # type: ignore[arg-type]
    assert "gone.md" not in manifest.files


def test_file_deleted_between_stat_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_bytes

    def vanish(self: Path) -> bytes:
        if self.name == "gone.md":
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", vanish)
    report = build_one(tmp_path, {"gone.md": b"# Gone\n\nsoon gone\n"})
    assert problems_by_path(report.problems) == {"gone.md": (True, "deleted while indexing")}


def test_file_rewritten_while_indexing_is_seen_as_changed_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old text was indexed; the new text arrived after the read. The next freshness check must
    notice (the stat is taken before the read, so the recorded mtime is the old one)."""
    real = read_bytes

    def read_then_rewrite(source: SourceFile) -> tuple[bytes | None, object]:
        result = real(source)
        if source.path == "moving.md":
            source.absolute.write_text("# Moving\n\nthe new text about lemurs, longer than before\n", encoding="utf-8")
            later = time.time() + 5
            os.utime(source.absolute, (later, later))
        return result

    monkeypatch.setattr("assistant.store.build.read_bytes", read_then_rewrite)
    build_one(tmp_path, {"moving.md": b"# Moving\n\nold text about marmots\n"})
    monkeypatch.undo()
    state = check_freshness(read_state(tmp_path / "index"), tmp_path / "notes", "fake-hash-32")
    assert state.changed == ("moving.md",)
    report = build_index(tmp_path / "notes", tmp_path / "index", FakeEmbedder())
    assert report.changed_files == ["moving.md"]
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    assert searcher.search("lemurs", mode="bm25").hits[0].chunk.file == "moving.md"


def test_skipped_file_that_becomes_text_is_picked_up(tmp_path: Path) -> None:
    report = build_one(tmp_path, {"later.md": b"\x00" * 100, "empty.md": b""})
    assert problems_by_path(report.problems) == {
        "later.md": (True, "binary file, not text"),
        "empty.md": (True, "empty file"),
    }
    assert check_freshness(read_state(tmp_path / "index"), tmp_path / "notes", "fake-hash-32").fresh
    (tmp_path / "notes" / "later.md").write_text("# Later\n\nnow about sloths\n", encoding="utf-8")
    (tmp_path / "notes" / "empty.md").write_text("# Empty\n\nnow about okapis\n", encoding="utf-8")
    state = check_freshness(read_state(tmp_path / "index"), tmp_path / "notes", "fake-hash-32")
    assert set(state.added) | set(state.changed) == {"later.md", "empty.md"}
    build_index(tmp_path / "notes", tmp_path / "index", FakeEmbedder())
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    assert searcher.search("sloths", mode="bm25").hits[0].chunk.file == "later.md"
    assert searcher.search("okapis", mode="bm25").hits[0].chunk.file == "empty.md"


def test_file_name_that_is_not_utf8_is_skipped(tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    with open(os.path.join(os.fsencode(corpus), b"bad\xffname.md"), "wb") as handle:
        handle.write(b"# Bad name\n\ntext\n")
    report = build_one(tmp_path, {})
    assert problems_by_path(report.problems) == {"bad\ufffdname.md": (True, "name is not valid UTF-8 (rename it)")}


def test_symlinked_file_loop_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    os.symlink("b.md", corpus / "a.md")
    os.symlink("a.md", corpus / "b.md")
    report = build_one(tmp_path, {})
    assert problems_by_path(report.problems) == {"a.md": (True, "symlink loop"), "b.md": (True, "symlink loop")}


def test_folders_nested_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    level = str(corpus)
    os.mkdir(level)
    for _ in range(1500):  # one level at a time: Path.mkdir(parents=True) itself recurses
        level += "/d"
        os.mkdir(level)
    deep = Path(level)
    (deep / "deep.md").write_text("# Deep\n\nThe deepest note mentions quetzals.\n", encoding="utf-8")
    try:
        report = build_one(tmp_path, {})
        assert report.problems == []
        searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
        assert searcher.search("quetzals", mode="bm25").hits[0].chunk.file.endswith("d/d/deep.md")
    finally:
        # shutil.rmtree (pytest's tmp cleanup) recurses too: take the tower down from the top.
        (deep / "deep.md").unlink()
        while level != str(corpus):
            os.rmdir(level)
            level = level[: -len("/d")]


def test_utf16_without_bom_and_broken_utf16(tmp_path: Path) -> None:
    report = build_one(
        tmp_path,
        {
            "nobom.md": "# No BOM\n\ntext\n".encode("utf-16-le"),
            "broken16.md": b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8",  # a lone surrogate
        },
    )
    found = problems_by_path(report.problems)
    assert found["nobom.md"] == (True, "binary file, not text")
    assert found["broken16.md"][0] is True and "utf-16" in found["broken16.md"][1]


NOTHING_TO_INDEX = {"empty.md": b"", "image.md": b"\x89PNG\r\n\x1a\n\x00\x00", "blank.txt": b"  \n\n"}


@pytest.mark.parametrize("files", [{}, NOTHING_TO_INDEX], ids=["no files", "nothing but skipped files"])
def test_folder_with_nothing_to_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, bytes]
) -> None:
    """An empty folder, or one whose every file is skipped, builds an empty index (bm25s cannot
    index nothing) and questions find nothing, instead of a traceback."""
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    report = build_index(corpus, tmp_path / "index", FakeEmbedder())
    assert report.chunks == 0
    assert {problem.path for problem in report.problems} == set(files)
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    for mode in ("hybrid", "dense", "bm25"):
        assert searcher.search("anything at all", mode=mode).hits == []
    assert build_index(corpus, tmp_path / "index", FakeEmbedder()).up_to_date

    where = ["--corpus", str(corpus), "--index", str(tmp_path / "fresh-index"), "--model", "fake-hash-32"]
    code, out, err = run_notes(capsys, "ask", "anything", *where, make_engine=engine_maker())
    assert code == 0
    assert out.strip() == "No passages found."
    assert "Traceback" not in err


# ---------------------------------------------------------------- pathological shapes, timed

TIMES: dict[str, float] = {}


HANG_GUARD = 120.0
"""Seconds past which chunking one pathological note counts as hung. A guard against quadratic or
worse behaviour (which takes hours on these inputs), not a performance target: on a quiet 2-core
machine these take 0.1-3 s (printed with -s), and timings belong to `notes bench`."""


def timed_chunk(name: str, raw: bytes, limit: float) -> list:  # type: ignore[type-arg]
    started = time.perf_counter()
    document, problem = decode_document(name, raw)
    assert document is not None
    chunks = chunk_document(document, max_tokens=256)
    seconds = time.perf_counter() - started
    TIMES[name] = seconds
    print(f"\n{name}: {len(raw):,} bytes → {len(chunks):,} chunks in {seconds:.2f} s")
    assert seconds < limit, f"{name} took {seconds:.1f} s"
    return chunks


def test_20_mb_one_line_file_is_cut_and_fast() -> None:
    raw = one_line()
    document, problem = decode_document("huge.txt", raw)
    assert document is not None and problem is not None and not problem.skipped
    assert "characters long" in problem.reason
    assert document.text.count("\n") == 0
    chunks = timed_chunk("huge.txt", raw, limit=HANG_GUARD)
    assert chunks and all(chunk.start_line == chunk.end_line == 1 for chunk in chunks)


def test_20_mb_of_one_word_is_cut_and_fast() -> None:
    chunks = timed_chunk("blob.txt", b"QUJD" * (5 * 1024 * 1024), limit=HANG_GUARD)
    assert len(chunks) >= 1


def test_ten_thousand_headings_are_fast() -> None:
    chunks = timed_chunk("headings.md", many_headings().encode(), limit=HANG_GUARD)
    assert len(chunks) == 10_000
    assert chunks[-1].heading_path == ("headings", "Heading 9999")  # "##" only: rooted in the file's name


def test_lists_nested_a_thousand_deep_do_not_recurse_away() -> None:
    chunks = timed_chunk("deep.md", deep_list().encode(), limit=HANG_GUARD)
    assert chunks
    long_items = "# Deep\n\n" + "".join("  " * i + f"- item {i} " + "lorem ipsum " * 30 + "\n" for i in range(1000))
    assert timed_chunk("deep-long.md", long_items.encode(), limit=HANG_GUARD)


NESTING = {
    "dashes.md": "- " * 1000 + "x\n",
    "quotes.md": ">" * 1000 + " x\n",
    "quote-lines.md": "".join(">" * i + f" q {i}\n" for i in range(1000)),
    "ordered.md": "".join("   " * i + f"1. item {i}\n" for i in range(1000)),
    "brackets.md": "[" * 50_000 + "\n",
    "emphasis.md": "*a " * 50_000 + "\n",
    "fences.md": "```\n" * 20_000,
}


@pytest.mark.parametrize("name", list(NESTING))
def test_other_deep_nesting_is_fast(name: str) -> None:
    timed_chunk(name, NESTING[name].encode(), limit=HANG_GUARD)


def test_messy_build_time_is_reasonable(messy_build: tuple[BuildReport, Path, float]) -> None:
    report, _, seconds = messy_build
    print(f"\nmessy folder: {report.files} files, {report.chunks:,} chunks, built in {seconds:.1f} s")
    assert seconds < 120


def test_cli_index_over_the_messy_folder_with_the_fake_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`notes index` in-process (the fake model in place of the real one): exit 0, one stderr line
    per problem, a summary that counts the skipped files, then `notes ask` answers."""
    fake = engine_maker()
    corpus = make_messy_corpus(tmp_path / "notes", headings=200)
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--model", "fake-hash-32"]
    code, out, err = run_notes(capsys, "index", *where, make_engine=fake)
    assert code == 0
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith(("skipped:", "repaired:"))]
    reported = Counter(line.split(": ", 2)[1] for line in lines)
    assert set(reported) == set(expected_problems()) and set(reported.values()) == {1}, reported
    skipped = sum(1 for is_skipped, _ in expected_problems().values() if is_skipped)
    assert f"{skipped} skipped" in out and "Traceback" not in err
    code, out, err = run_notes(capsys, "ask", "quokka mnemonic", "--mode", "bm25", "--json", *where, make_engine=fake)
    assert code == 0
    assert json.loads(out)["results"][0]["file"] == "good/networking.md"


# ---------------------------------------------------------------- the real thing (slow)


def run(args: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)


@pytest.mark.slow
def test_notes_index_over_the_messy_folder(tmp_path: Path) -> None:
    """`notes index` with the real model: exit 0, each problem once on stderr, then answers.
    (500 headings instead of 10,000: those alone take minutes to embed on a CPU; the fast tests
    above cover the full-size file.)"""
    corpus = make_messy_corpus(tmp_path / "notes", headings=500)
    index = tmp_path / "index"
    env = {**os.environ, "NOTES_CORPUS": str(corpus), "NOTES_INDEX": str(index), "HF_HUB_OFFLINE": "1"}
    env.pop("NOTES_MODEL", None)
    started = time.perf_counter()
    result = run([str(NOTES), "index"], env)
    seconds = time.perf_counter() - started
    print(f"\nnotes index over the messy folder: {seconds:.1f} s\n{result.stderr[-3000:]}\n{result.stdout}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith(("skipped:", "repaired:"))]
    reported = Counter(line.split(": ", 2)[1] for line in lines)
    assert set(reported) == set(expected_problems()), reported
    assert all(count == 1 for count in reported.values()), reported
    for line in lines:
        verb, path, _reason = line.split(": ", 2)
        assert (verb == "skipped") is expected_problems()[path][0], line
    skipped = sum(1 for is_skipped, _ in expected_problems().values() if is_skipped)
    assert f"{skipped} skipped" in result.stdout

    answers = {"quokka mnemonic NAT": "good/networking.md", "zebrafish Glacier": "good/storage.txt"}
    for question, file in answers.items():
        asked = run([str(NOTES), "ask", question, "--json", "-k", "3"], env, timeout=300)
        assert asked.returncode == 0, asked.stderr
        results = json.loads(asked.stdout)["results"]
        assert results[0]["file"] == file, [r["file"] for r in results]
    plain = run([str(NOTES), "ask", "pangolin clipboard window title", "-k", "10"], env, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert "hostile.md" in plain.stdout
    for char in ("\x1b", "\x07", "\u202e", "\u200b"):
        assert char not in plain.stdout


def test_good_notes_fixture_is_what_the_tests_expect() -> None:
    assert set(GOOD_NOTES) <= set(INDEXED)
    assert sys.version_info >= (3, 11)
