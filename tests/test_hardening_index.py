"""A damaged or contested index: each case gets one clear message and either an automatic rebuild
or the one command that fixes it, and a failed build never destroys the previous good index.

Cases: a truncated or corrupt FAISS file, a chunk store that disagrees with the vectors, a manifest
from another model or dimension, a format version from the future (or the past), a damaged
pointer or BM25 folder, Ctrl-C and kill -9 during a build, and two builds at once.
All with the fake embedder, handed to the engine in place of the model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import IndexCorrupt, IndexLocked, IndexStale, IndexTooNew
from assistant.retrieve.search import Searcher
from assistant.store.build import build_index
from assistant.store.build_report import BuildHooks
from assistant.store.chunk_store import read_chunks
from assistant.store.freshness import check_freshness
from assistant.store.generation import build_lock, current_generation
from assistant.store.manifest import read_manifest
from assistant.store.open import open_index
from assistant.store.state import IndexState, read_state
from assistant.store.vectors import load_vectors

from .messy import FakeEmbedder, InterruptingEmbedder, engine_maker, reseal, run_notes, stand_in_engine

REPO = Path(__file__).resolve().parent.parent
MODEL = "fake-hash-32"

APES = "# Apes\n\n## Gibbons\n\nGibbons sing duets at dawn in the canopy.\n"


def write_corpus(root: Path, extra: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "apes.md").write_text(APES, encoding="utf-8")
    (root / "fish.md").write_text("# Fish\n\nThe coelacanth is a living fossil.\n", encoding="utf-8")
    for number in range(extra):
        (root / f"filler-{number:03}.md").write_text(
            f"# Filler {number}\n\nFiller note number {number} about topic{number}.\n", encoding="utf-8"
        )
    return root


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = write_corpus(tmp_path / "notes")
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    return corpus, index


def settings_for(corpus: Path, index: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index, model=MODEL)


def answers(index: Path) -> bool:
    """The index at `index` loads and finds the gibbons passage."""
    searcher = Searcher.load(index, encoder=FakeEmbedder())
    hits = searcher.search("gibbons duets", mode="bm25").hits
    return bool(hits) and hits[0].chunk.file == "apes.md"


def generation_of(index: Path) -> Path:
    generation = current_generation(index)
    assert generation is not None
    return generation


def edit_manifest(index: Path, **changes: object) -> None:
    path = generation_of(index) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def open_and_collect(corpus: Path, index: Path) -> tuple[Searcher, list[str]]:
    messages: list[str] = []
    searcher = stand_in_engine(settings_for(corpus, index)).open(notify=messages.append)
    return searcher, messages


def assert_one_rebuild_message(messages: list[str], *words: str) -> None:
    """One line says what was wrong and that it is being fixed; then the build summary."""
    assert len(messages) == 2, messages
    assert "rebuilding" in messages[0] or "refreshing" in messages[0], messages
    for word in words:
        assert word in messages[0], (word, messages[0])
    assert messages[1].startswith("index rebuilt:"), messages


def where(corpus: Path, index: Path) -> list[str]:
    return ["--corpus", str(corpus), "--index", str(index), "--model", MODEL]


# ---------------------------------------------------------------- damaged files → automatic rebuild

FAISS_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "random": lambda data: os.urandom(len(data)),
    "header only": lambda data: data[:16],
}


@pytest.mark.parametrize("damage", list(FAISS_DAMAGE))
def test_corrupt_faiss_file(built: tuple[Path, Path], damage: str) -> None:
    corpus, index = built
    path = generation_of(index) / "dense.faiss"
    path.write_bytes(FAISS_DAMAGE[damage](path.read_bytes()))
    reseal(path.parent)  # a planted file: FAISS's own reader meets it
    with pytest.raises(IndexCorrupt) as caught:
        Searcher.load(index, encoder=FakeEmbedder())
    assert "dense.faiss" in caught.value.message and "truncated or corrupt" in caught.value.message
    assert caught.value.hint == "run `notes index --rebuild`"
    assert "\n" not in str(caught.value)
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "dense.faiss")
    assert answers(index)


CHUNK_DAMAGE: dict[str, Callable[[list[str]], list[str]]] = {
    "line missing": lambda lines: lines[:-1],
    "line added": lambda lines: lines + lines[-1:],
    "garbage": lambda lines: lines[:-1] + ["{not json\n"],
    "wrong type": lambda lines: [line.replace('"text": "', '"text": 5, "x": "', 1) for line in lines],
    "text not a string": lambda lines: [json.dumps({**json.loads(line), "text": ["a"]}) + "\n" for line in lines],
    "bad span": lambda lines: [json.dumps({**json.loads(line), "start_line": 0}) + "\n" for line in lines],
    "empty": lambda lines: [],
}


@pytest.mark.parametrize("damage", list(CHUNK_DAMAGE))
def test_chunk_store_that_disagrees_with_the_vectors(built: tuple[Path, Path], damage: str) -> None:
    corpus, index = built
    path = generation_of(index) / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(CHUNK_DAMAGE[damage](lines)), encoding="utf-8")
    reseal(path.parent)
    with pytest.raises(IndexCorrupt) as caught:
        Searcher.load(index, encoder=FakeEmbedder())
    assert caught.value.hint == "run `notes index --rebuild`"
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages)
    assert answers(index)


def test_incremental_build_over_a_damaged_chunk_store_rebuilds_everything(built: tuple[Path, Path]) -> None:
    corpus, index = built
    path = generation_of(index) / "chunks.jsonl"
    path.write_text(path.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")
    report = build_index(corpus, index, FakeEmbedder())
    assert report.rebuilt_all and not report.up_to_date
    assert answers(index)


@pytest.mark.parametrize("shape", [(3,), (2, 16), (0, 32), (2, 2, 32)])
def test_vectors_of_another_shape_are_not_reused(built: tuple[Path, Path], shape: tuple[int, ...]) -> None:
    corpus, index = built
    np.save(generation_of(index) / "vectors.npy", np.ones(shape, dtype=np.float32), allow_pickle=False)
    (corpus / "fish.md").write_text("# Fish\n\nThe coelacanth was found again in 1938.\n", encoding="utf-8")
    report = build_index(corpus, index, FakeEmbedder())
    assert report.rebuilt_all
    assert answers(index)


def test_manifest_from_another_model(built: tuple[Path, Path]) -> None:
    corpus, index = built
    edit_manifest(index, model={"name": "someone/other-model", "dimension": 768, "max_tokens": 512})
    state = check_freshness(read_state(index), corpus, MODEL)
    assert "other-model" in state.reason
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "other-model", MODEL)
    assert read_manifest(generation_of(index)).model.name == MODEL
    assert answers(index)


def test_manifest_with_another_dimension(built: tuple[Path, Path]) -> None:
    corpus, index = built
    edit_manifest(index, model={"name": MODEL, "dimension": 768, "max_tokens": 128})
    with pytest.raises(IndexCorrupt, match="768"):
        Searcher.load(index, encoder=FakeEmbedder())
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "768")
    assert answers(index)


def test_incremental_build_after_a_model_change_re_embeds_everything(built: tuple[Path, Path]) -> None:
    corpus, index = built
    other = FakeEmbedder(name="fake-hash-16", dimension=16)
    report = build_index(corpus, index, other)
    assert report.rebuilt_all and report.reused == 0
    assert Searcher.load(index, encoder=other).index.dense_index.d == 16


MANIFEST_DAMAGE: dict[str, dict[str, object]] = {
    "older format": {"format_version": 0},
    "no format": {"format_version": None},
    "model not an object": {"model": "fake"},
    "files not an object": {"files": ["apes.md"]},
}


@pytest.mark.parametrize("damage", list(MANIFEST_DAMAGE))
def test_damaged_or_old_manifest_is_rebuilt(built: tuple[Path, Path], damage: str) -> None:
    corpus, index = built
    edit_manifest(index, **MANIFEST_DAMAGE[damage])
    with pytest.raises((IndexCorrupt, IndexStale)):
        Searcher.load(index, encoder=FakeEmbedder())
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages)
    assert answers(index)


def test_unparsable_manifest_and_pointer_are_rebuilt(built: tuple[Path, Path]) -> None:
    corpus, index = built
    (generation_of(index) / "manifest.json").write_bytes(b"\x00\xff not json")
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "manifest")
    (index / "CURRENT").write_text("{garbage", encoding="utf-8")
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "CURRENT")
    (index / "CURRENT").write_text(json.dumps({"generation": "../../etc"}), encoding="utf-8")
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "bad folder")
    assert answers(index)


def test_pointer_to_a_missing_generation_builds_a_new_index(built: tuple[Path, Path]) -> None:
    corpus, index = built
    (index / "CURRENT").write_text(json.dumps({"generation": "gen-0-0"}), encoding="utf-8")
    _, messages = open_and_collect(corpus, index)
    assert messages[0].startswith("no index yet")
    assert answers(index)


BM25_DAMAGE: dict[str, tuple[str, Callable[[], np.ndarray]]] = {
    "indices out of range": ("indices.csc.index.npy", lambda: np.array([10**6], dtype=np.int32)),
    "pointers inconsistent": ("indptr.csc.index.npy", lambda: np.array([5, 1], dtype=np.int64)),
    "float strings": ("data.csc.index.npy", lambda: np.array(["a"])),
}


@pytest.mark.parametrize("damage", list(BM25_DAMAGE))
def test_damaged_bm25_arrays(built: tuple[Path, Path], damage: str) -> None:
    corpus, index = built
    name, make = BM25_DAMAGE[damage]
    np.save(generation_of(index) / "bm25" / name, make(), allow_pickle=False)
    reseal(generation_of(index))
    with pytest.raises(IndexCorrupt, match="BM25"):
        Searcher.load(index, encoder=FakeEmbedder())
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "BM25")
    assert answers(index)


def test_bm25_vocabulary_not_an_object(built: tuple[Path, Path]) -> None:
    corpus, index = built
    (generation_of(index) / "bm25" / "vocab.index.json").write_text("[1, 2]", encoding="utf-8")
    reseal(generation_of(index))
    with pytest.raises(IndexCorrupt, match="BM25"):
        Searcher.load(index, encoder=FakeEmbedder())
    _, messages = open_and_collect(corpus, index)
    assert_one_rebuild_message(messages, "BM25")


def test_generation_replaced_while_loading_is_retried(built: tuple[Path, Path]) -> None:
    """`notes ask` read the index folder just before a build swapped generations and deleted the old
    one: opening what it read fails, so the folder is read again and the new generation opened."""
    _, index = built
    now = read_state(index)
    as_read_before = IndexState(index, index / "gen-1-1", now.manifest)  # that generation is gone
    opened = open_index(as_read_before, FakeEmbedder())
    assert opened.generation == now.generation
    assert answers(index)


# ---------------------------------------------------------------- a format from the future: refused


def test_future_format_is_refused_not_rebuilt_over(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = built
    edit_manifest(index, format_version=99)
    generation = generation_of(index)
    with pytest.raises(IndexTooNew) as caught:
        open_and_collect(corpus, index)
    assert "newer" in caught.value.message and "99" in caught.value.message
    assert "notes index --rebuild" in (caught.value.hint or "")
    with pytest.raises(IndexTooNew):
        build_index(corpus, index, FakeEmbedder())
    assert generation_of(index) == generation  # untouched

    fake = engine_maker()
    code, out, err = run_notes(capsys, "ask", "gibbons", *where(corpus, index), make_engine=fake)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "newer" in err and "notes index --rebuild" in err
    code, out, err = run_notes(capsys, "index", *where(corpus, index), make_engine=fake)
    assert code == 2 and "notes index --rebuild" in err and "Traceback" not in err
    assert generation_of(index) == generation

    code, out, err = run_notes(capsys, "index", "--rebuild", *where(corpus, index), make_engine=fake)
    assert code == 0, err
    assert generation_of(index) != generation
    assert answers(index)


# ---------------------------------------------------------------- interrupted builds keep the old index


def assert_previous_intact(index: Path, generation: Path) -> None:
    assert generation_of(index) == generation
    assert answers(index)
    assert not [path for path in index.iterdir() if path.name.endswith(".partial")]
    with build_lock(index, wait=None):  # released: a new build would not wait
        pass


@pytest.mark.parametrize("after", [0, 1])
def test_ctrl_c_while_embedding(tmp_path: Path, after: int) -> None:
    corpus = write_corpus(tmp_path / "notes", extra=300)  # > 2 batches of 128
    index = tmp_path / "index"
    build_index(corpus, index, FakeEmbedder())
    generation = generation_of(index)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, index, InterruptingEmbedder(after=after), rebuild=True)
    assert_previous_intact(index, generation)


@pytest.mark.parametrize("step", ["dense.faiss", "bm25", "manifest"])
def test_ctrl_c_while_writing(built: tuple[Path, Path], step: str) -> None:
    corpus, index = built
    generation = generation_of(index)

    def interrupted(name: str) -> None:
        if name == step:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, index, FakeEmbedder(), rebuild=True, hooks=BuildHooks(writing=interrupted))
    assert_previous_intact(index, generation)


def test_failing_embedder_and_full_disk_keep_the_old_index(
    built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = built
    generation = generation_of(index)
    with pytest.raises(RuntimeError):
        crashing = InterruptingEmbedder(exc=RuntimeError("model crashed"))
        build_index(corpus, index, crashing, rebuild=True)
    assert_previous_intact(index, generation)

    def full(name: str) -> None:
        if name == "dense.faiss":
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        build_index(corpus, index, FakeEmbedder(), rebuild=True, hooks=BuildHooks(writing=full))
    assert_previous_intact(index, generation)


def test_cli_ctrl_c_is_one_line_and_exit_130(built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    corpus, index = built
    generation = generation_of(index)
    interrupted = engine_maker(InterruptingEmbedder())
    code, out, err = run_notes(capsys, "index", "--rebuild", *where(corpus, index), make_engine=interrupted)
    assert code == 130
    assert err.strip().splitlines()[-1] == "notes: interrupted"
    assert "Traceback" not in err
    assert_previous_intact(index, generation)


# A build in another process, made slow at one step so the test can interrupt or contend with it.
BUILD_SCRIPT = """
import pathlib, signal, sys, time
from assistant.store import build as index_module
from assistant.store.build_report import BuildHooks
from tests.messy import FakeEmbedder

corpus, index, marker, phase, pause = sys.argv[1:6]
# Ctrl-C as at a terminal: a suite started as a background job (`cmd &` in a script) inherits SIGINT
# ignored, Python then installs no KeyboardInterrupt handler, and the build would sleep on.
signal.signal(signal.SIGINT, signal.default_int_handler)

def stall():
    pathlib.Path(marker).touch()
    time.sleep(float(pause))

class Slow(FakeEmbedder):
    def embed_documents(self, texts):
        if phase == "embed":
            stall()
        return super().embed_documents(texts)

def writing(name):
    if phase == "write" and name == "bm25":
        stall()

hooks = BuildHooks(writing=writing)
index_module.build_index(
    pathlib.Path(corpus), pathlib.Path(index), Slow(), rebuild=True, hooks=hooks
)
print("built")
"""


def start_build(corpus: Path, index: Path, marker: Path, phase: str, pause: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(corpus), str(index), str(marker), phase, str(pause)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"build never reached {phase}: {process.communicate()}")
        time.sleep(0.05)
    return process


@pytest.mark.parametrize("phase", ["embed", "write"])
def test_kill_9_during_a_build(built: tuple[Path, Path], tmp_path: Path, phase: str) -> None:
    corpus, index = built
    generation = generation_of(index)
    process = start_build(corpus, index, tmp_path / "started", phase, pause=60)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # The old index is in use; a half-written generation may be left, but never pointed at.
    assert generation_of(index) == generation
    assert answers(index)
    if phase == "write":
        assert [path for path in index.iterdir() if path.name.endswith(".partial")]
    # The lock died with the process; the next build neither waits nor keeps the leftovers.
    waited: list[bool] = []
    build_index(corpus, index, FakeEmbedder(), rebuild=True, on_wait=lambda: waited.append(True))
    assert not waited
    assert not [path for path in index.iterdir() if path.name.endswith(".partial")]
    assert [path.name for path in index.iterdir() if path.name.startswith("gen-")] == [generation_of(index).name]
    assert answers(index)


def test_sigint_during_writing_cleans_up(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index = built
    generation = generation_of(index)
    process = start_build(corpus, index, tmp_path / "started", "write", pause=60)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode != 0 and "KeyboardInterrupt" in err
    assert_previous_intact(index, generation)


def test_two_builds_at_once_the_second_waits(built: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, index = built
    first = start_build(corpus, index, tmp_path / "started", "embed", pause=2)
    with pytest.raises(IndexLocked) as caught:
        with build_lock(index, wait=None):
            pass
    assert "another `notes index`" in caught.value.message
    waited: list[float] = []
    started = time.monotonic()
    build_index(corpus, index, FakeEmbedder(), on_wait=lambda: waited.append(time.monotonic()))
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert len(waited) == 1, "the waiting build says so once"
    assert time.monotonic() - started >= 1.0
    assert answers(index)


def test_engine_says_it_is_waiting(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index = built
    first = start_build(corpus, index, tmp_path / "started", "embed", pause=2)
    messages: list[str] = []
    stand_in_engine(settings_for(corpus, index)).build(notify=messages.append)
    first.communicate(timeout=60)
    assert messages == [f"waiting for another `notes index` to finish with {index} …"]
    assert answers(index)


def test_scratch_exports_of_killed_builds_are_removed(built: tuple[Path, Path]) -> None:
    """Engine.build exports the model into index/.export-<pid>-*; kill -9 leaves it behind. The next
    build removes those whose process is gone and keeps a running one's."""
    corpus, index = built
    orphan = index / ".export-999999999-abc"
    alive = index / f".export-{os.getppid()}-def"
    for folder in (orphan, alive):
        folder.mkdir()
        (folder / "encoder.onnx").write_bytes(b"x" * 1000)
    stand_in_engine(settings_for(corpus, index)).build()
    assert not orphan.exists()
    assert alive.exists()
    assert not [path for path in index.iterdir() if path.name.startswith(".export-") and path != alive]


def test_lock_is_released_when_a_thread_build_fails(built: tuple[Path, Path]) -> None:
    corpus, index = built
    errors: list[BaseException] = []

    def run() -> None:
        try:
            crashing = InterruptingEmbedder(exc=RuntimeError("boom"))
            build_index(corpus, index, crashing, rebuild=True)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert errors
    with build_lock(index, wait=None):
        pass


def test_load_vectors_refuses_an_object_array(built: tuple[Path, Path]) -> None:
    _, index = built
    np.save(generation_of(index) / "vectors.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(IndexCorrupt, match="vector file unreadable"):
        load_vectors(generation_of(index))
    assert read_chunks(generation_of(index))
