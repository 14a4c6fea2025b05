"""Question spelling correction: typos become the notes' words; real words, inflections and names stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import IndexCorrupt
from assistant.retrieve.search import Searcher
from assistant.store.generation import current_generation
from assistant.store.spelling import Speller, count_words

from .conftest import FakeEmbedder
from .messy import reseal

NOTES = (
    "Edge locations cache content close to users. Each region has several availability zones.",
    "Lambda limits: memory, timeout, concurrency. Reserved concurrency per function. Regions and regional.",
    "Gateway endpoints for S3 and DynamoDB. Endpoint policies. enableDnsHostnames must be true.",
    "Business support: response time under an hour; the server responds. Working, reused, rewrites, user.",
)


@pytest.fixture
def speller() -> Speller:
    return Speller(count_words(NOTES), model_knows=lambda word: word in {"creds", "pricey"})


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("edge locatoins wat r they for", "edge locations wat r they for"),  # swap
        ("how many zones in a regoin", "how many zones in a region"),  # swap
        ("lamda max memory", "lambda max memory"),  # insertion
        ("edge cahe", "edge cahe"),  # under 5 letters: too short to trust
        ("lambda timout", "lambda timeout"),  # deletion
        ("gateway endpiont polices", "gateway endpoint policies"),  # swap, deletion
        ("reserved concurency", "reserved concurrency"),
        ("busines support respons time", "business support response time"),  # a dropped last letter
        ("endpoint not workin", "endpoint not working"),
    ],
)
def test_typos_become_the_notes_words(speller: Speller, typed: str, meant: str) -> None:
    assert speller.correct(typed) == meant


@pytest.mark.parametrize(
    "question",
    [
        "my secret creds on the instance",  # a whole word of the model's vocabulary
        "is it pricey",  # likewise
        "which regionz",  # an inflection of a notes word (one letter more at the end)
        "can i reuse it or rewrite it",  # the notes' "reused" and "rewrites" are the typed word plus an ending
        "every usere",  # "user" plus a letter: an inflection's shape, left alone
        "thats whats there",  # stop words
        "what does enableDnsHostnames do",  # not all lower case: a name, left alone
        "Regoin",  # capitalised: left alone
        "cdn caches",  # nothing one edit away
        "the endpoints",  # already a notes word
    ],
)
def test_real_words_and_names_stay(speller: Speller, question: str) -> None:
    assert speller.correct(question) == question


def test_only_one_edit_and_the_most_frequent_wins() -> None:
    speller = Speller({"region": 9, "regions": 1, "legion": 3, "redis": 5})
    assert speller.correct_word("reigon") == "region"
    assert speller.correct_word("regiom") == "regiom"  # a different last letter reads as another form
    assert speller.correct_word("creds") == "creds"  # redis is two edits away, though deletions pair them
    assert speller.correct_word("lagion") == "legion"


def test_search_says_what_it_searched(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    searcher = Searcher.load(small_index, encoder=fake_embedder)
    assert searcher.index.speller is not None
    response = searcher.search("statless firewal")
    # "firewal" is "firewall" less a last letter that makes no ending: a typo
    assert response.searched == "stateless firewall"
    # The stand-in embedder's vectors carry no meaning, so only the keyword list's order is asserted.
    nacl = next(hit for hit in response.hits if hit.chunk.heading_path[-1] == "NACL")
    assert nacl.ranks["bm25"] == 1 and nacl.rank <= 3


def test_damaged_word_list_makes_the_index_corrupt(small_index: Path, fake_embedder: FakeEmbedder) -> None:
    generation = current_generation(small_index)
    assert generation is not None
    (generation / "words.json").write_text(json.dumps(["not", "counts"]))
    reseal(generation)
    with pytest.raises(IndexCorrupt, match="word list"):
        Searcher.load(small_index, encoder=fake_embedder)
