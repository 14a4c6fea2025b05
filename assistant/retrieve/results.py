"""What a search gives back: ranked passages (`Hit`) in one `SearchResponse` that every front end reads.

One response, one rule: whether the question was rewritten before it was searched (a follow-up
completed from the previous turn, a typo corrected) is said here, by the searcher that rewrote it
(`rewrites`), never worked out again by a front end; and so is whether the best match is weak
(`strength`). The CLI, the chat app, the MCP server and the eval harness show or score these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from assistant.config import Mode
from assistant.notes.chunk import Chunk
from assistant.retrieve.answer import NO_ANSWER, Answer, unscored

if TYPE_CHECKING:
    from assistant.store.partial import Building

ListName = Literal["dense", "lines", "bm25"]
"""The ranked candidate lists fused in hybrid mode: passage vectors, line vectors, BM25."""
Rewrite = Literal["follow-up", "spelling"]
"""Why what was searched differs from what was asked (tidying whitespace is not a rewrite)."""


@dataclass(frozen=True)
class Strength:
    """Whether a response's best passage is a strong match for the question (`strength.match_strength`)."""

    strong: bool
    reason: str = ""
    """Why the match is weak, in words a reader can check."""


@dataclass(frozen=True)
class Hit:
    """One ranked passage, with its rank in each list for --explain."""

    rank: int
    score: float
    """The number shown for it in every front end (score.py): its closeness to the question, 0 to
    1, never above the result ranked before it."""
    chunk: Chunk
    ranks: dict[ListName, int | None] = field(default_factory=dict)
    scores: dict[ListName, float | None] = field(default_factory=dict)
    """Each list's own score: cosine for "dense" and "lines", BM25 for "bm25" (None: not in that list)."""
    fused_rank: int | None = None
    """Rank before the token rerank (None: not reranked)."""
    pieces: int = 1
    """How many neighbouring pieces of one section this passage joins (ranks and scores are the
    best-ranked piece's)."""
    answer: Answer = NO_ANSWER
    """The lines of the passage that answer the question (answer.py). A hit made without one gets
    the passage's first readable line, unscored."""
    similarity: float | None = None
    """How close in meaning the passage is to the question: the cosine of the question's vector to
    the passage's or its best line's, whichever is higher (None without a question vector)."""
    rank_score: float | None = None
    """What ordered it (for --explain): the token rerank's score (MaxSim moved by the best line's
    cosine) for a reranked passage, else the fused RRF score, or the one list's own score. Its
    scale depends on the mode and on the other candidates, so it is never shown as the score."""

    def __post_init__(self) -> None:
        if self.answer is NO_ANSWER:
            chunk = self.chunk
            object.__setattr__(self, "answer", unscored(chunk.text, chunk.end_line, chunk.table_header))


STRONG_MATCH = Strength(True)


@dataclass(frozen=True)
class SearchResponse:
    query: str
    """What the user typed."""
    searched: str
    """What was actually searched: the question tidied, and rewritten as `rewrites` says."""
    mode: Mode
    hits: list[Hit]
    seconds: float = 0.0
    rewrites: tuple[Rewrite, ...] = ()
    """How the question was rewritten before it was searched, in the order it happened (empty: it
    was searched as asked). Every front end shows `searched` exactly when this is not empty."""
    strength: Strength = STRONG_MATCH
    """Whether the best passage is a strong match (a weak one is said in every front end)."""
    building: Building | None = None
    """Set when the answer came from an index still being built (store/partial.py): how far it was.
    Every front end says so; None: the index was complete."""

    @property
    def rewritten(self) -> bool:
        return bool(self.rewrites)
