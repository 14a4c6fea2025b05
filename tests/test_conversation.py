"""Follow-up resolution (retrieve/follow_up.py), the strength verdict (retrieve/strength.py) and the
recall history (tui/history.py)."""

from __future__ import annotations

import pytest

from assistant.config import Mode
from assistant.notes.chunk import Chunk
from assistant.retrieve.follow_up import Conversation, resolve
from assistant.retrieve.fuse import RRF_K
from assistant.retrieve.results import Hit, ListName, SearchResponse, Strength
from assistant.retrieve.strength import STRONG, Thresholds, match_strength, score_fraction, similarity
from assistant.tui.history import History


def strength_of(response: SearchResponse, thresholds: Thresholds = STRONG) -> Strength:
    return match_strength(response.mode, response.searched, response.hits, thresholds)


# ---------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(
    ("previous", "asked", "searched"),
    [
        # a leading connector keeps the topic and swaps the aspect
        ("lambda max memory", "and the max timeout?", "lambda max timeout"),
        ("lambda max memory", "and the timeout?", "lambda timeout"),
        ("lambda max memory", "what about pricing", "lambda pricing"),
        ("lambda max memory", "How about the cost?", "lambda cost"),
        # "and for X" swaps the topic and keeps the aspect
        ("lambda pricing", "and for s3?", "s3 pricing"),
        ("lambda pricing", "same for EC2", "EC2 pricing"),
        # a pronoun with no noun of its own points back
        ("lambda max memory", "what about it", "lambda max memory"),
        ("lambda max memory", "how much does that cost", "lambda cost"),
        ("s3 bucket", "is it encrypted by default?", "s3 bucket encrypted default"),
        ("glacier", "how long do those take", "glacier long take"),
        # a fragment with no topic of its own
        ("lambda max memory", "pricing?", "lambda pricing"),
        ("lambda max memory", "max size", "lambda max size"),
        # a name-shaped word after a connector is a new topic
        ("lambda pricing", "what about DynamoDB", "DynamoDB pricing"),
        # a new aspect word that is not an attribute joins the topic
        ("lambda max memory", "and the cold start?", "lambda cold start"),
    ],
)
def test_follow_ups_are_searched_in_context(previous: str, asked: str, searched: str) -> None:
    question = resolve(asked, previous)
    assert question.follow_up
    assert question.searched == searched
    assert question.context == previous
    assert question.asked == asked


@pytest.mark.parametrize(
    "asked",
    [
        "what is a nacl",
        "how does vpc peering work",
        "which services that scale automatically",  # "that" after a noun is not a pronoun
        "what is a nacl and how is it different from security groups",  # "it" is this question's nacl
        "wat is a nacl an how is it difrent from securty grups",
        "and what is a nacl?",  # a whole question after the connector stands alone
        "lambda",
        "S3 storage classes",
    ],
)
def test_new_topics_start_fresh(asked: str) -> None:
    question = resolve(asked, "lambda max memory")
    assert not question.follow_up
    assert question.searched == asked
    assert question.context is None


def test_nothing_to_lean_on_at_the_start() -> None:
    question = resolve("and the timeout?", None)
    assert not question.follow_up
    assert question.searched == "and the timeout?"


def test_chained_follow_ups_carry_the_topic() -> None:
    conversation = Conversation()
    assert conversation.ask("lambda max memory").searched == "lambda max memory"
    assert conversation.ask("and the timeout?").searched == "lambda timeout"
    assert conversation.ask("and for s3?").searched == "s3 timeout"
    assert conversation.ask("what is a nacl").searched == "what is a nacl"
    conversation.clear()
    assert not conversation.ask("and the timeout?").follow_up


def test_follow_up_logic_has_no_subject_words() -> None:
    """The decision rests on general signals: none of the corpus's subject words appear in the rules."""
    import assistant.retrieve.follow_up as module

    source = open(module.__file__, encoding="utf-8").read().lower()
    rules = source.split("def resolve", 1)[1].split("# ------", 1)[0]
    for word in ("lambda", "s3", "ec2", "nacl", "vpc", "dynamodb", "aws"):
        assert f'"{word}"' not in rules


# ---------------------------------------------------------------- strength


def _response(
    mode: Mode, ranks: list[dict[ListName, int | None]], scores: list[float], searched: str = "q"
) -> SearchResponse:
    hits = [
        Hit(i + 1, score, Chunk("n.md", ("Topic",), 1, 2, "lambda memory limit text"), rank)
        for i, (rank, score) in enumerate(zip(ranks, scores, strict=True))
    ]
    return SearchResponse(searched, searched, mode, hits)


def test_hybrid_strong_when_lists_agree_near_the_top() -> None:
    strength = strength_of(_response("hybrid", [{"bm25": 2, "dense": 1}], [0.03]))
    assert strength.strong


@pytest.mark.parametrize(
    ("ranks", "reason"),
    [
        ({"bm25": None, "dense": 1}, "found by meaning alone"),
        ({"bm25": 1, "dense": None}, "meaning is far"),
        ({"bm25": 5, "dense": 9}, "top 3"),  # a misspelt question: both lists unsure
        ({"bm25": 1, "dense": 15}, "disagree"),
    ],
)
def test_hybrid_weak_matches_say_why(ranks: dict[ListName, int | None], reason: str) -> None:
    strength = strength_of(_response("hybrid", [ranks], [0.02]))
    assert not strength.strong
    assert reason in strength.reason


def test_hybrid_uses_the_best_meaning_list() -> None:
    """With line vectors there is a third list; the best meaning rank counts."""
    assert strength_of(_response("hybrid", [{"bm25": 2, "dense": 12, "lines": 1}], [0.03])).strong


def test_dense_threshold_is_the_cosine() -> None:
    assert strength_of(_response("dense", [{"dense": 1}], [STRONG.min_cosine + 0.01])).strong
    assert not strength_of(_response("dense", [{"dense": 1}], [STRONG.min_cosine - 0.01])).strong


def test_bm25_threshold_is_word_coverage() -> None:
    assert strength_of(_response("bm25", [{"bm25": 1}], [3.0], searched="lambda memory")).strong
    weak = strength_of(_response("bm25", [{"bm25": 1}], [3.0], searched="lambda world cup winner"))
    assert not weak.strong
    assert "1 of 4 words" in weak.reason


def test_no_hits_is_weak() -> None:
    assert not strength_of(SearchResponse("q", "q", "hybrid", [])).strong


def test_thresholds_are_adjustable_in_one_place() -> None:
    response = _response("hybrid", [{"bm25": 4, "dense": 4}], [0.02])
    assert not strength_of(response).strong
    assert strength_of(response, Thresholds(top_rank=5)).strong


# ---------------------------------------------------------------- score bar


def test_score_fraction_per_mode() -> None:
    assert score_fraction(2 / (RRF_K + 1), "hybrid", 0.0) == pytest.approx(1.0)
    assert score_fraction(1 / (RRF_K + 1), "hybrid", 0.0) == pytest.approx(0.5)
    assert score_fraction(3 / (RRF_K + 1), "hybrid", 0.0, lists=3) == pytest.approx(1.0)
    assert score_fraction(0.42, "dense", 0.9, lists=1) == pytest.approx(0.42)
    assert score_fraction(1 / (RRF_K + 1), "dense", 0.0, lists=2) == pytest.approx(0.5)
    assert score_fraction(-0.2, "dense", 0.9) == 0.0
    assert score_fraction(6.0, "bm25", 12.0) == pytest.approx(0.5)
    assert score_fraction(6.0, "bm25", 0.0) == 0.0


# ---------------------------------------------------------------- recall history


def test_history_recalls_like_a_shell() -> None:
    history = History()
    for text in ("first", "second", "second", "third"):
        history.add(text)
    assert history.entries == ["first", "second", "third"]
    assert history.back("draft") == "third"
    assert history.back("third") == "second"
    assert history.back("second") == "first"
    assert history.back("first") is None
    assert history.forward() == "second"
    assert history.forward() == "third"
    assert history.forward() == "draft"
    assert history.forward() is None


def test_empty_history_recalls_nothing() -> None:
    history = History()
    assert history.back("x") is None
    assert history.forward() is None


def test_hybrid_weak_when_the_best_cosine_is_low() -> None:
    """ "capital of France" can top both lists by a single shared word; its cosine gives it away."""
    hit = Hit(
        1,
        0.18,
        Chunk("n.md", ("Topic",), 1, 2, "France region"),
        {"bm25": 1, "dense": 1, "lines": 1},
        {"bm25": 4.0, "dense": 0.22, "lines": 0.25},
    )
    strength = strength_of(SearchResponse("capital of france", "capital of france", "hybrid", [hit]))
    assert not strength.strong and "0.25 similar" in strength.reason
    good = Hit(1, 0.27, hit.chunk, hit.ranks, {"bm25": 4.0, "dense": 0.41, "lines": 0.66})
    assert strength_of(SearchResponse("q", "q", "hybrid", [good])).strong


def test_the_weak_text_names_the_number_the_closest_card_shows() -> None:
    """One score: "No strong match" names the first result's number, which no result below exceeds
    (a lower-ranked passage closer by cosine is shown capped at it: retrieve/score.py)."""
    chunk = Chunk("n.md", ("Topic",), 1, 2, "lambda memory limit text")
    hits = [
        Hit(1, 0.21, chunk, {"bm25": 1, "dense": 1}, {"dense": 0.12}, similarity=0.21),
        Hit(2, 0.21, chunk, {"bm25": 2, "dense": 2}, {"dense": 0.2}, similarity=0.27),
    ]
    strength = strength_of(SearchResponse("q", "q", "hybrid", hits))
    assert not strength.strong and strength.reason == "the closest passage is only 0.21 similar"
    assert [similarity(hit) for hit in hits] == [0.21, 0.27]
    # A hit made without a similarity falls back to its lists' cosines; BM25 alone has none.
    assert similarity(Hit(1, 0.5, chunk, {"dense": 1}, {"dense": 0.4, "lines": 0.6})) == 0.6
    assert similarity(Hit(1, 3.0, chunk, {"bm25": 1}, {"bm25": 3.0})) is None
