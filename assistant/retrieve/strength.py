"""How far to trust an answer: whether a response's top passage is a strong match for the question.

Ranking scores say how well the retrievers agree, not how good a passage is; the verdict uses the
first result's shown score (score.py: the cosine of the question to the passage or its best line,
`similarity`) and the per-list ranks: the keyword list ("bm25") against the best of the meaning
lists ("dense", and "lines" where the index has line vectors). BM25 mode uses the share of the
question's words the passage holds, which is its shown score there. So a first result whose number
is below `min_cosine` (or `min_coverage`) is always called weak, in the words of that number. All
thresholds are in `STRONG` below. The searcher puts the verdict on every response, so every front
end says a weak match the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.retrieve.fuse import RRF_K
from assistant.retrieve.highlight import query_terms
from assistant.retrieve.results import Hit, Strength
from assistant.retrieve.score import shown, word_coverage


@dataclass(frozen=True)
class Thresholds:
    """When the top passage counts as a strong match; one place for every number."""

    top_rank: int = 3
    """Hybrid: at least one retriever ranks the top passage this high..."""
    agree_rank: int = 10
    """...and the other ranks it at least this high (the keyword and meaning searches agree)."""
    min_cosine: float = 0.30
    """Dense: the top passage's cosine similarity (all-MiniLM-L6-v2 puts unrelated text below ~0.25)."""
    min_coverage: float = 0.6
    """BM25: the share of the question's words that the top passage (with its headings) contains."""


STRONG = Thresholds()


def match_strength(mode: str, searched: str, hits: Sequence[Hit], thresholds: Thresholds = STRONG) -> Strength:
    """Whether a response's top passage is a strong match for what was searched."""
    if not hits:
        return Strength(False, "nothing in your notes matched")
    # The token rerank reorders passages but does not make the notes hold a better match: judge the
    # shown passage fusion ranked highest. Eval questions called weak: 31 before the rerank, 77 judging
    # the reranked first, 42 this way (the rest: fusion's first was reranked out of the top k).
    top = min(hits, key=lambda hit: hit.fused_rank or hit.rank)
    # The first result's own closeness: the number its card shows, and no result below shows more.
    first = hits[0]
    cosine = similarity(first)
    if cosine is None and mode == "dense":
        cosine = first.score
    if cosine is not None and cosine < thresholds.min_cosine:
        return Strength(False, f"the closest passage is only {shown(max(0.0, cosine))} similar")
    if mode == "dense":
        return Strength(True)
    if mode == "bm25":
        terms = query_terms(searched)
        coverage = word_coverage(top.chunk, searched)
        if coverage < thresholds.min_coverage:
            return Strength(False, f"the closest passage has only {round(coverage * len(terms))} of {len(terms)} words")
        return Strength(True)
    lexical = top.ranks.get("bm25")
    semantic = min((rank for name, rank in top.ranks.items() if name != "bm25" and rank is not None), default=None)
    if lexical is None:
        return Strength(False, "it was found by meaning alone, not by your words")
    if semantic is None:
        return Strength(False, "its meaning is far from the question")
    if min(lexical, semantic) > thresholds.top_rank:
        return Strength(False, f"neither keyword nor meaning search ranks it in its top {thresholds.top_rank}")
    if max(lexical, semantic) > thresholds.agree_rank:
        return Strength(False, "the keyword and meaning searches disagree about it")
    return Strength(True)


def similarity(hit: Hit) -> float | None:
    """How close in meaning a passage is to the question: `Hit.similarity` (the cosine of the
    question to the passage or its best line), else the best cosine among its lists' own scores;
    None when nothing measured it (a BM25-only search). What a card shows is `Hit.score`: this,
    capped by the result above (score.py)."""
    if hit.similarity is not None:
        return hit.similarity
    cosines = [score for name, score in hit.scores.items() if name != "bm25" and score is not None]
    return max(cosines) if cosines else None


def score_fraction(score: float, mode: str, top_score: float, lists: int = 2, reranked: bool = False) -> float:
    """A ranking key (`Hit.rank_score`) as a share of a full bar: a token-reranked passage's score (a
    similarity on MaxSim's scale) as is; a fused (RRF) score against its maximum (first in each of the
    `lists` fused lists: lists/(k+1)) — hybrid, dense when it fuses passage and line vectors —; a
    lone dense cosine as is; BM25 (unbounded) against the response's top score. `Hit.score` needs
    none of this: it is a share already (score.py)."""
    if reranked:
        full = 1.0
    elif mode == "hybrid" or (mode == "dense" and lists > 1):
        full = max(1, lists) / (RRF_K + 1)
    elif mode == "dense":
        full = 1.0
    else:
        full = top_score
    if full <= 0:
        return 0.0
    return max(0.0, min(1.0, score / full))
