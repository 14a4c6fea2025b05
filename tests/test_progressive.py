"""Answers while an index is being built (store/partial.py): the engine answers from what the build has
ready (every passage by its keywords, the passages embedded so far by meaning), and every front end
says the answer came from an index still being built.

The stand-in model holds each embedding batch until the test releases it: a build deliberately slow,
without sleeping.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.mcp.tools import NoteTools
from assistant.present.render import format_response, response_record
from assistant.store.build_report import BuildReport

from .conftest import FakeEmbedder, HeldModel


@pytest.fixture
def settings(small_corpus: Path, tmp_path: Path) -> Settings:
    return Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", model=FakeEmbedder().name)


def building_in_background(engine: Engine) -> tuple[threading.Thread, list[BuildReport]]:
    reports: list[BuildReport] = []
    thread = threading.Thread(target=lambda: reports.append(engine.build()), daemon=True)
    thread.start()
    return thread, reports


def wait_for(condition: object, timeout: float = 30.0) -> None:
    assert callable(condition)
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("timed out")


@pytest.fixture
def held(settings: Settings) -> Iterator[tuple[Engine, HeldModel]]:
    model = HeldModel()
    engine = Engine(settings, embedder=model, encoder=FakeEmbedder())
    yield engine, model
    model.release.set()  # never leave a build waiting


def test_a_first_build_answers_by_keywords_before_any_vector_and_says_so(held: tuple[Engine, HeldModel]) -> None:
    engine, model = held
    thread, reports = building_in_background(engine)
    wait_for(lambda: model.held.is_set() and engine.building is not None)
    response = engine.search("lambda timeout minutes")
    assert response.building is not None
    assert (response.building.embedded, response.building.passages) == (0, 6)
    assert response.hits and response.hits[0].chunk.file == "lambda.md"
    assert response.hits[0].answer.text  # answer lines from the question's keywords
    assert response.strength.strong, "judged by its words (its score), not by a meaning it has none of yet"
    assert [hit.score for hit in response.hits] == sorted((hit.score for hit in response.hits), reverse=True)

    plain = format_response(response)
    assert plain.splitlines()[0] == (
        "Answered from an index still being built: 0 of 6 passages embedded (0%), "
        "the rest found by their keywords only."
    )
    record = json.loads(json.dumps(response_record(response)))
    assert record["index"]["complete"] is False
    assert (record["index"]["passages"], record["index"]["passages_embedded"]) == (6, 0)

    model.release.set()
    thread.join(30)
    assert reports and reports[0].rebuilt_all
    assert engine.building is None
    complete = engine.search("lambda timeout minutes")
    assert complete.building is None
    assert "index" not in response_record(complete)
    assert "being built" not in format_response(complete)


def test_an_incremental_build_answers_from_the_vectors_it_keeps(
    settings: Settings, held: tuple[Engine, HeldModel]
) -> None:
    """Vectors kept from the last build land at once: only the changed note waits for the model, and
    it is found by its keywords meanwhile."""
    Engine(settings, embedder=FakeEmbedder(), encoder=FakeEmbedder()).build()
    (settings.corpus_dir / "sqs.md").write_text("# SQS\n\nMessage retention: up to 14 days, the wombat rule.\n")
    engine, model = held
    thread, _reports = building_in_background(engine)
    wait_for(lambda: model.held.is_set() and engine.building is not None)
    response = engine.search("sqs wombat retention")
    building = response.building
    assert building is not None and (building.embedded, building.passages) == (6, 7)
    assert building.percent == 85
    assert response.hits[0].chunk.file == "sqs.md"
    assert engine.search("memory limit", mode="dense").hits, "the kept vectors answer by meaning"
    model.release.set()
    thread.join(30)
    assert engine.search("sqs wombat retention").building is None


def test_a_build_that_fails_leaves_no_partial_index(settings: Settings) -> None:
    class Failing(FakeEmbedder):
        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("the model fell over")

    engine = Engine(settings, embedder=Failing(), encoder=FakeEmbedder())
    with pytest.raises(RuntimeError):
        engine.build()
    assert engine.building is None
    assert not [path for path in settings.index_dir.iterdir() if path.name.endswith(".partial")]


def test_the_mcp_search_answers_during_the_first_build(held: tuple[Engine, HeldModel]) -> None:
    """The server's first opening builds the index and holds its lock: a search is answered from
    the partial index meanwhile, with `index` saying so, and without it once the build is done."""
    engine, model = held
    tools = NoteTools(engine)
    tools.start()
    wait_for(model.held.is_set)
    record = tools.search("stateless firewall subnet")
    assert record["index"]["complete"] is False and record["index"]["passages_embedded"] == 0
    assert record["results"][0]["file"] == "network/vpc.md"
    status = tools.status()
    assert status["opening"] is True and status["building"]["passages_embedded"] == 0
    model.release.set()
    wait_for(lambda: not tools.opening)
    after = tools.search("stateless firewall subnet")
    assert "index" not in after and "building" not in tools.status()
    assert after["results"][0]["file"] == "network/vpc.md"
