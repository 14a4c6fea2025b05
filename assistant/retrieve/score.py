"""The one number shown for a result (`Hit.score`), the same in every front end.

What it is: how close the passage is to the question, on an absolute 0–1 scale, capped by the
number of the result above it:
- hybrid and dense: the cosine of the question's vector to the passage's vector or to its closest
  line's, whichever is higher (`Hit.similarity`; all-MiniLM-L6-v2 puts unrelated text below about
  0.25, a passage that answers usually above 0.5);
- bm25 (no question vector): the share of the question's words that the passage and its headings hold.
Below zero counts as zero.

Why capped: the ranking weighs more than this one number (keyword and meaning lists, the token
rerank), so a passage ranked second can be closer by cosine than the first. Shown as it is, the
cards would say that a lower-ranked passage is a better match than a higher one; capped, the number
never rises down the list, and the top result's number is its own, uncapped. The ranking key itself
(`Hit.rank_score`) is for `--explain` only: its scale depends on the mode and on the other
candidates (docs/scores.md compares the two as measures of a right first result).

The weak-match verdict (strength.py) reads the same number: a top result below
`strength.STRONG.min_cosine` (dense, hybrid) or `min_coverage` (bm25) is a weak match.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.notes.chunk import Chunk
from assistant.retrieve.highlight import query_terms, term_coverage

SCORE_DIGITS = 2
"""Digits every front end shows (and JSON gives): more would claim a precision the cosine lacks."""


def word_coverage(chunk: Chunk, searched: str) -> float:
    """The share of the question's words that a passage and its headings hold: a BM25-only
    search's closeness, which has no question vector to measure it by."""
    return term_coverage(" ".join(chunk.heading_path) + "\n" + chunk.text, query_terms(searched))


def capped_scores(values: Sequence[float]) -> list[float]:
    """Each result's own closeness (in rank order) held within [0, 1] and at most the number of
    the result above it."""
    shown: list[float] = []
    ceiling = 1.0
    for value in values:
        ceiling = min(ceiling, max(0.0, value))
        shown.append(ceiling)
    return shown


def rounded(score: float) -> float:
    """The score as shown (`SCORE_DIGITS` digits), for JSON: the same digits as plain text and the app."""
    return round(score, SCORE_DIGITS)


def shown(score: float) -> str:
    """The score as text: `0.87`."""
    return f"{score:.{SCORE_DIGITS}f}"
