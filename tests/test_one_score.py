"""One score everywhere (issue 26, point 1) and a weak match said everywhere (point 2).

The number shown for a result (`Hit.score`, retrieve/score.py) is its closeness to the question on a
0–1 scale, capped by the result above, so it never says a lower-ranked passage is the better match;
plain output and JSON give the same digits; a weak match is a line above the passages and
`"weak_match"` in JSON, by the rule the chat app uses (`SearchResponse.strength`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli.common import Invocation
from assistant.config import Settings, resolve_settings
from assistant.engine import Engine
from assistant.notes.chunk import Chunk
from assistant.present.render import format_response, response_record
from assistant.retrieve.results import Hit, ListName, SearchResponse, Strength
from assistant.retrieve.score import capped_scores, rounded, shown, word_coverage
from assistant.retrieve.strength import STRONG, match_strength
from tests import messy
from tests.conftest import FakeEmbedder

NOTES = {
    "lambda.md": "# Lambda\n\n## Limits\n\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes max\n\n"
    "## Pricing\n\nPay per request and per GB-second of memory.\n",
    "network/vpc.md": "# VPC\n\n## NACL\n\nStateless firewall at the subnet level.\n\n"
    "## Security Groups\n\nStateful firewall on the instance, like a NACL but stateful.\n",
    "storage.md": "# Storage\n\n## EBS\n\nNetwork drive for one instance.\n\n## EFS\n\nShared file system for many.\n",
}
MODEL = "fake-bow"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = messy.write_notes(tmp_path / "notes", NOTES)
    return resolve_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "model": MODEL}).settings


@pytest.fixture
def engine(settings: Settings) -> Engine:
    model = FakeEmbedder()
    engine = Engine(settings, embedder=model, encoder=model)
    engine.open()
    return engine


def notes(settings: Settings, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """`notes ask …` in-process over the stand-in model; exit code and stdout."""
    model = FakeEmbedder()
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--model", MODEL]
    result = CliRunner().invoke(
        cli,
        ["ask", *where, *args],
        input=stdin,
        catch_exceptions=False,
        obj=Invocation(make_engine=lambda s: Engine(s, embedder=model, encoder=model)),
    )
    return result.exit_code, result.stdout


# ---------------------------------------------------------------- the number


def test_a_score_is_capped_by_the_one_above_and_held_within_0_and_1() -> None:
    assert capped_scores([0.60, 0.79, 0.79, 0.55, 0.7]) == [0.60, 0.60, 0.60, 0.55, 0.55]
    assert capped_scores([1.2, -0.1, 0.3]) == [1.0, 0.0, 0.0]
    assert capped_scores([]) == []
    assert shown(0.605) == f"{0.605:.2f}" and rounded(0.8449) == 0.84


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("question", ["nacl stateless firewall", "lambda memory", "shared file system", "zebra"])
def test_scores_fall_with_the_rank_and_the_first_is_its_own(engine: Engine, mode: str, question: str) -> None:
    response = engine.search(question, k=5, mode=mode)  # type: ignore[arg-type]
    scores = [hit.score for hit in response.hits]
    assert scores == sorted(scores, reverse=True), "a lower-ranked passage never shows a higher number"
    assert all(0.0 <= score <= 1.0 for score in scores)
    if not response.hits:  # BM25 finds nothing for a word no note holds
        assert mode == "bm25"
        return
    first = response.hits[0]
    own = first.similarity if mode != "bm25" else word_coverage(first.chunk, response.searched)
    assert own is not None and first.score == pytest.approx(max(0.0, own))
    for hit in response.hits:
        closeness = hit.similarity if mode != "bm25" else word_coverage(hit.chunk, response.searched)
        assert closeness is not None and hit.score <= max(0.0, closeness) + 1e-9


def test_the_ranking_key_is_kept_apart_for_explain(engine: Engine) -> None:
    hit = engine.search("nacl stateless firewall", k=3).hits[0]
    assert hit.rank_score is not None
    record = response_record(engine.search("nacl stateless firewall", k=3), explain=True)["results"][0]
    assert record["score"] == rounded(hit.score) and record["rank_score"] == pytest.approx(hit.rank_score, abs=1e-6)


def test_plain_and_json_show_the_same_numbers_in_rank_order(settings: Settings) -> None:
    code, plain = notes(settings, "-k", "3", "firewall", "on", "the", "instance")
    assert code == 0
    shown_plain = [float(number) for number in re.findall(r"^\d+\. \[(\d\.\d\d)\]", plain, re.MULTILINE)]
    code, out = notes(settings, "--json", "-k", "3", "firewall", "on", "the", "instance")
    record = json.loads(out)
    assert shown_plain == [result["score"] for result in record["results"]]
    assert shown_plain == sorted(shown_plain, reverse=True) and len(shown_plain) == 3


# ---------------------------------------------------------------- a weak match, said everywhere


def test_a_low_first_score_is_weak_in_the_words_of_that_number() -> None:
    chunk = Chunk("n.md", ("Topic",), 1, 2, "lambda memory limit text")
    ranks: dict[ListName, int | None] = {"bm25": 1, "dense": 1}
    first = Hit(1, 0.21, chunk, ranks, similarity=0.21)
    closer_below = Hit(2, 0.21, chunk, {"bm25": 2, "dense": 2}, similarity=0.6)
    strength = match_strength("hybrid", "q", [first, closer_below])
    assert not strength.strong and strength.reason == f"the closest passage is only {shown(first.score)} similar"
    assert first.score < STRONG.min_cosine
    strong = Hit(1, 0.62, chunk, ranks, similarity=0.62)
    assert match_strength("hybrid", "q", [strong]).strong


def test_bm25_weakness_reads_the_score_it_shows(engine: Engine) -> None:
    response = engine.search("lambda world cup winner", k=3, mode="bm25")
    assert not response.strength.strong
    assert response.hits[0].score == pytest.approx(word_coverage(response.hits[0].chunk, response.searched))
    assert response.hits[0].score < STRONG.min_coverage


def test_plain_output_says_a_weak_match_above_the_passages_and_exits_0(settings: Settings) -> None:
    code, out = notes(settings, "purple", "elephant", "banana")
    assert code == 0, "it answered: the closest passages are shown"
    lines = out.splitlines()
    assert lines[0].startswith("No strong match in your notes (") and lines[0].endswith("). The closest passages:")
    assert lines[1].startswith("1. [")
    code, strong = notes(settings, "stateless", "firewall", "at", "the", "subnet", "level")
    assert code == 0 and "No strong match" not in strong


def test_json_says_weak_match_and_why(settings: Settings) -> None:
    _code, out = notes(settings, "--json", "purple", "elephant", "banana")
    weak = json.loads(out)
    assert weak["weak_match"] is True and weak["weak_reason"] and weak["results"]
    _code, out = notes(settings, "--json", "stateless", "firewall", "at", "the", "subnet", "level")
    strong = json.loads(out)
    assert strong["weak_match"] is False and "weak_reason" not in strong


def test_batch_json_says_it_for_every_line_blank_ones_included(settings: Settings) -> None:
    _code, out = notes(settings, "--json", "-", stdin="purple elephant banana\n\nstateless firewall subnet level\n")
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["weak_match"] for record in records] == [True, True, False]
    assert records[1]["results"] == [] and records[1]["weak_reason"] == "the question is empty"


def test_the_weak_line_is_the_response_strength() -> None:
    chunk = Chunk("n.md", ("Topic",), 1, 2, "text")
    hits = [Hit(1, 0.1, chunk)]
    weak = SearchResponse("q", "q", "hybrid", hits, strength=Strength(False, "because"))
    assert format_response(weak).splitlines()[0] == "No strong match in your notes (because). The closest passages:"
    assert not format_response(SearchResponse("q", "q", "hybrid", hits)).startswith("No strong match")
    assert response_record(weak)["weak_reason"] == "because"
