"""Showing a passage: which words of it to highlight, and which sentence answers the question best.

Input: a question and a passage's text. Output: character spans into that text. Pure text functions
(no UI import), shared by the chat app and anything else that presents hits.

Why prefix matching on a crude stem: the reader wants "pricing" in the question to light up "price"
and "prices" in the note, and BM25 (which ranked the passage) stems too. A real stemmer would be more
exact, but a highlight that misses an inflection is worse than one that catches a cousin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from assistant.store.lexical import STOP_WORDS

CharSpan = tuple[int, int]

ASKING_WORDS = frozenset(
    """
    also either every many much neither per versus via vs whose onto mine us
    may might must shall done
    tell explain show give get gets use uses used using work works mean means need needs make
    please know want like ok okay don doesn isn aren wasn weren didn
    """.split()
)
"""Words that say how a question is asked rather than what it is about ("explain", "tell me")."""
STOPWORDS = STOP_WORDS | ASKING_WORDS
"""What is never a content word of a question: BM25's stop words (lexical.py) and the asking words."""

WORD = re.compile(r"[^\W_](?:[\w.\-/+]*[^\W_])?")
"""A word as a reader sees it: "S3," is "S3", "pay-as-you-go" and "us-east-1" stay whole."""
_SUFFIXES = ("ies", "ing", "ed", "es", "s", "y", "e")


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, in order ("S3," → "s3", "pay-as-you-go" stays whole, "it's" → "it", "s")."""
    return [match.group(0).lower() for match in WORD.finditer(text)]


def query_terms(query: str) -> list[str]:
    """The content words of a question, in order, without repeats: what a passage should contain."""
    seen: dict[str, None] = {}
    for word in words(query):
        if word in STOPWORDS or len(word) < 2:
            continue
        seen.setdefault(word, None)
    return list(seen)


def stem(term: str) -> str:
    """A crude stem used as a prefix: "pricing", "prices", "price" → "pric"; "memory" → "memor"."""
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[: -len(suffix)]
    return term


@lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        root = stem(term)
        if len(root) <= 2:
            parts.append(re.escape(root) + r"(?![\w])")
        else:
            parts.append(re.escape(root) + r"[\w'\-]*")
    if not parts:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + ")", re.IGNORECASE)


def term_spans(text: str, terms: Sequence[str]) -> list[CharSpan]:
    """Where the terms (or words sharing their stem) occur in the text, as sorted (start, end) spans."""
    pattern = _term_pattern(tuple(terms))
    if pattern is None:
        return []
    return [match.span() for match in pattern.finditer(text)]


def matched_terms(text: str, terms: Sequence[str]) -> set[str]:
    """Which of the terms occur in the text (by stem)."""
    found: set[str] = set()
    for term in terms:
        pattern = _term_pattern((term,))
        if pattern is not None and pattern.search(text):
            found.add(term)
    return found


def term_coverage(text: str, terms: Sequence[str]) -> float:
    """The share of the terms that occur in the text: 1.0 when there are no terms."""
    if not terms:
        return 1.0
    return len(matched_terms(text, terms)) / len(terms)


_LIST_MARK = re.compile(r"^\s*(?:[-*+•>]|\d+[.)]|#{1,6})\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def sentences(text: str) -> list[CharSpan]:
    """Sentence-like units of a passage: each line (a list item, a table row) split at sentence ends,
    without list markers or surrounding blanks."""
    units: list[CharSpan] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        marker = _LIST_MARK.match(body)
        start = marker.end() if marker else len(body) - len(body.lstrip())
        pieces = [start]
        pieces.extend(m.end() for m in _SENTENCE_END.finditer(body, start))
        pieces.append(len(body))
        for a, b in zip(pieces, pieces[1:], strict=False):
            piece = body[a:b]
            stripped = piece.strip()
            if any(ch.isalnum() for ch in stripped):
                lead = len(piece) - len(piece.lstrip())
                units.append((offset + a + lead, offset + a + lead + len(stripped)))
        offset += len(line)
    return units


def best_sentence(text: str, terms: Sequence[str]) -> CharSpan | None:
    """The unit of the passage that holds the most distinct terms (then the most mentions, then the
    earliest); None when no unit holds any term, or the passage is a single unit (nothing to single out)."""
    units = sentences(text)
    if len(units) < 2 or not terms:
        return None
    best: CharSpan | None = None
    best_key: tuple[int, int] = (0, 0)
    for start, end in units:
        piece = text[start:end]
        distinct = len(matched_terms(piece, terms))
        mentions = len(term_spans(piece, terms))
        key = (distinct, mentions)
        if distinct and key > best_key:
            best, best_key = (start, end), key
    return best


def locate(fragment: str, text: str) -> CharSpan | None:
    """Where a fragment's words occur, in order, in a text that may have lost the fragment's markup
    (Markdown's `**`, backticks, list markers) or re-flowed its spaces; None if they don't."""
    found = [re.escape(word) for word in _plain_words(fragment)]
    if not found:
        return None
    pattern = re.compile(r"[\W_]+".join(found) + r"[^\w\s]*", re.IGNORECASE)
    match = pattern.search(text)
    return match.span() if match else None


def _plain_words(text: str) -> Iterable[str]:
    return re.findall(r"[^\W_]+", text)
