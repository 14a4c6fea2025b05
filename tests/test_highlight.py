"""Query-term spans and the best-matching sentence (assistant/retrieve/highlight.py)."""

from __future__ import annotations

from assistant.retrieve.highlight import best_sentence, locate, query_terms, sentences, stem, term_coverage, term_spans

PASSAGE = (
    "- RAM: from 128MB up to 10GB\n"
    "- Max execution time: 900 secs (15 minutes). The timeout defaults to 3 seconds.\n"
    "- Pricing depends on memory and duration."
)


def test_query_terms_drop_question_words() -> None:
    assert query_terms("What is the MAX timeout of Lambda, and its pricing?") == ["max", "timeout", "lambda", "pricing"]
    assert query_terms("what is it?") == []
    assert query_terms("s3 and S3") == ["s3"]


def test_stems_are_prefixes() -> None:
    assert stem("pricing") == "pric"
    assert stem("prices") == "pric"
    assert stem("memory") == "memor"
    assert stem("max") == "max"


def test_term_spans_match_inflections_case_insensitively() -> None:
    text = "Lambda pricing: prices per GB-second. Max memory, maximum TIMEOUT."
    found = [text[a:b] for a, b in term_spans(text, ["lambda", "price", "max", "timeout"])]
    assert found == ["Lambda", "pricing", "prices", "Max", "maximum", "TIMEOUT"]


def test_short_terms_match_whole_words_only() -> None:
    text = "S3 and s3-compatible, not S30 or ss3"
    assert [text[a:b] for a, b in term_spans(text, ["s3"])] == ["S3", "s3"]


def test_term_spans_treat_terms_literally() -> None:
    text = "use c++ here, not (b) or [c"
    assert [text[a:b] for a, b in term_spans(text, ["c++"])] == ["c++"]
    assert term_spans(text, ["(b", "[c", "*"]) is not None  # regex characters never raise


def test_no_terms_no_spans() -> None:
    assert term_spans("anything", []) == []


def test_sentences_split_lines_and_sentence_ends() -> None:
    units = [PASSAGE[a:b] for a, b in sentences(PASSAGE)]
    assert units == [
        "RAM: from 128MB up to 10GB",
        "Max execution time: 900 secs (15 minutes).",
        "The timeout defaults to 3 seconds.",
        "Pricing depends on memory and duration.",
    ]


def test_best_sentence_has_most_distinct_terms() -> None:
    span = best_sentence(PASSAGE, ["max", "execution", "timeout"])
    assert span is not None
    assert PASSAGE[span[0] : span[1]] == "Max execution time: 900 secs (15 minutes)."
    span = best_sentence(PASSAGE, ["memory", "pricing"])
    assert span is not None
    assert PASSAGE[span[0] : span[1]] == "Pricing depends on memory and duration."


def test_best_sentence_none_without_a_match_or_a_choice() -> None:
    assert best_sentence(PASSAGE, ["glacier"]) is None
    assert best_sentence("One sentence about lambda", ["lambda"]) is None
    assert best_sentence(PASSAGE, []) is None


def test_term_coverage() -> None:
    assert term_coverage(PASSAGE, ["memory", "pricing", "glacier", "vault"]) == 0.5
    assert term_coverage(PASSAGE, []) == 1.0


def test_locate_survives_markup_loss() -> None:
    rendered = "Max execution time: 900 secs (15 minutes). The timeout…"
    assert locate("**Max** execution `time`: 900 secs (15 minutes).", rendered) == (0, 42)
    assert locate("not there at all", rendered) is None
    assert locate("...", rendered) is None
