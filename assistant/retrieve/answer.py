"""Answer lines: for one search result, the line (or short run of lines) of its passage that answers
the question, chosen by meaning from signals the engine already has.

Input: a result's passage lines (answer_unit.py), the question's vector and token vectors, the
passage's stored line vectors and token vectors (with each token's line, stored at index time).
Output: an `Answer` (file lines, text, and the table header to show above a table row).

Why: a passage averages ten lines, and the reader glances at it for the one line with the number or
the rule. The line sharing most words with the question is often not it ("whats a nacl" → "One
NACL per subnet…" rather than the definition); every line of every passage already has a vector.

The rule (measured on both eval sets, docs/answer-lines.md):
1. Candidates: lines with a line vector and readable words of their own (an image's alt text is
   not), not headings, code fences or list items that only name a topic for their sub-items, nor
   (unless nothing else may answer) references made mostly of link text or labels of an image
   (`answer_unit.candidates`). A table's header row is scored but never answers: when it wins, its
   table's best-scoring row does.
2. Score: z(cosine of the question to the line's vector) + z(MaxSim of the question's tokens
   against that line's own tokens and its heading context's), z-scored among the candidates,
   equal weights (nothing tuned); a table row's cosine is read under its header row
   (`line_signals.line_cosines`).
   A line vector carries its heading, so a bare label ("Consists of:") under a heading that
   matches the question scores high on the heading alone; in the MaxSim the heading counts the
   same for every line, so only the line's own words tell the lines apart, and each signal
   corrects the other. Without token vectors the cosine alone decides; with no question vector
   (a BM25-only search) the IDF weight of the question's terms a line holds.
   A question that asks for a quantity ("how long", "how many", "limit") also weighs
   `QUANTITY_WEIGHT` times z(the line states a number): "Message Retention | Up to 14 days" over
   "Messages stored in queue until consumed" for "how long can an sqs message stay in the queue";
   one that asks what is not so ("what does X not capture") weighs `NEGATION_WEIGHT` times
   z(the line holds a negation word).
3. Context: each line's score gains `NEIGHBOUR_WEIGHT` times the mean score of the lines right
   above and below it that may answer (a line with none counts the passage's lowest): an answer is
   a statement among related ones more often than a stray line that happens to match. Ties go to
   the earlier line.
4. Grow the winner into its logical unit (`answer_unit.logical_unit`); a line right above or below
   it that scores within `TIE` of it joins a one-line answer (`_tied_neighbour`).

Pure: no index I/O, no UI; the per-line signals it weighs are line_signals.py's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.retrieve.answer_unit import (
    PassageLine,
    candidates,
    has_negation,
    has_number,
    has_words,
    is_table_header,
    is_table_row,
    logical_unit,
    passage_lines,
    table_header,
    table_rows,
)
from assistant.retrieve.line_signals import gather, lexical_scores, line_cosines, line_maxsims

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Answer:
    """The lines of a result's passage that answer the question."""

    start_line: int
    end_line: int
    """1-based, inclusive, lines of the file, inside the passage's span."""
    text: str
    """Those lines as in the passage."""
    header: str = ""
    """For a table row: its table's header row, to show above it (display only, not in the span)."""
    scored: bool = True
    """False when no line of the passage could answer (only headings, images, markup) or nothing was
    scored: the answer is then the passage's first readable line."""


NO_ANSWER = Answer(0, 0, "", scored=False)
"""Stands for "not chosen yet" where a record is made before its answer (search.Hit)."""

QUANTITY_WEIGHT = 0.5
"""For a question asking for a quantity, the weight of z(the line states a number) beside the two
vector signals (each weight 1). Measured: answers at rank 1 unchanged on both sets, among the top
five's answers +0.004 here and +0.006 held out (docs/answer-lines.md)."""
_QUANTITY = re.compile(
    r"\bhow (?:long|many|much|big|large|fast|often|far|old)\b|\b(?:limits?|max(?:imum)?|min(?:imum)?)\b"
)

NEGATION_WEIGHT = 1.0
"""For a question asking what is not so ("what does X not capture"), the weight of z(the line holds
a negation word) beside the two vector signals: the vectors score "Only metadata, not the content
of packets" and "Action (accepted or rejected)" alike, and the word "not" is what tells them apart.
The weight of each vector signal (0.5 was not enough for that example); neither eval set changes
at 0.5 or 1 (one question of the 513 asks that way), so it is a rule with its tests, not a measured
gain (docs/answer-lines.md)."""
_AUXILIARY = r"(?:do|does|did|is|are|was|were|can|could|will|would|should|has|have|must)"
_ASKS_NEGATED = re.compile(
    rf"^\s*(?:what|which)(?:\s+\S+){{0,3}}?\s+"
    rf"(?:{_AUXILIARY}(?:\s+\S+){{0,3}}?\s+(?:not|never)\b|{_AUXILIARY}n'?t\b|cannot\b)"
)
""""what/which (up to 3 words) do/is/can… (up to 3 words) not/never", or "…don't/can't/cannot":
the negation belongs to what is asked, not to a condition ("what happens when the cdn doesn't…")."""

NEIGHBOUR_WEIGHT = 0.3
"""How much the mean score (in z units) of a line's neighbours adds to its own. Measured on the eval
set: 0.2, 0.3 and 0.5 all helped (+0.012 to +0.020), the held-out set unchanged (docs/answer-lines.md)."""
TIE = 0.5
"""A neighbour scoring within this much (z units, with context) of a one-line answer joins it: the
gold answer is often the statement next to the best-scoring one, and two lines cost little to read."""


def first_line(lines: Sequence[PassageLine], table_header_row: str = "") -> Answer:
    """The passage's first line that may answer (else its first readable, else first non-blank
    line), unscored: the answer of a result nothing was scored for, and an eval baseline."""
    texts = [line.text for line in lines]
    readable_lines = [i for i, text in enumerate(texts) if has_words(text)]
    non_blank = [i for i, text in enumerate(texts) if text.strip()] or [0]
    i = (candidates(lines) or readable_lines or non_blank)[0]
    return Answer(lines[i].number, lines[i].number, texts[i], table_header(texts, i, table_header_row), scored=False)


def unscored(text: str, end_line: int, table_header_row: str = "") -> Answer:
    """`first_line` of a passage given as its text and end line (a Hit made without an answer)."""
    return first_line(passage_lines([(text, end_line)]), table_header_row)


# ---------------------------------------------------------------- the choice


def _zscores(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0] * len(values)
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((value - mean) ** 2 for value in values) / len(values))
    return [0.0] * len(values) if spread < 1e-9 else [(value - mean) / spread for value in values]


def _filled(values: Sequence[float | None]) -> list[float] | None:
    """Missing values as the lowest known one (None when none is known)."""
    known = [value for value in values if value is not None]
    if not known:
        return None
    low = min(known)
    return [low if value is None else value for value in values]


def asks_for_quantity(question: str) -> bool:
    """Whether a question asks how long, how many, how much… or for a limit: its answer states a number."""
    return bool(_QUANTITY.search(question.lower()))


def asks_what_not(question: str) -> bool:
    """Whether a question asks what (or which) is not so: its answer says "not", "no", "never"…"""
    return bool(_ASKS_NEGATED.search(question.lower()))


def line_scores(
    lines: Sequence[PassageLine],
    cosines: Sequence[float | None] | None,
    maxsims: Sequence[float | None] | None = None,
    lexical: Sequence[float | None] | None = None,
    *,
    quantity: bool = False,
    negation: bool = False,
) -> dict[int, float]:
    """Per candidate line (by index): z(cosine) + z(MaxSim), over whichever of the two is given
    (`lexical` counts only when neither is), with `quantity` (the question asks for one) plus
    `QUANTITY_WEIGHT` times z(states a number), with `negation` (it asks what is not so) plus
    `NEGATION_WEIGHT` times z(holds a negation word); then plus `NEIGHBOUR_WEIGHT` times the mean of its
    direct neighbours' (the lines right above and below it that are candidates; with none, the
    lowest score). Empty when the passage has no candidate or no signal was given."""
    signals = [s for s in (cosines, maxsims) if s is not None] or ([lexical] if lexical is not None else [])
    if any(len(signal) != len(lines) for signal in signals):
        raise ValueError("one value of each signal per passage line")
    chosen = candidates(lines)
    if not chosen or not signals:
        return {}
    total = [0.0] * len(chosen)
    for signal in signals:
        values = _filled([signal[i] for i in chosen])
        if values is not None:
            total = [a + b for a, b in zip(total, _zscores(values), strict=True)]
    if quantity:
        numbers = _zscores([float(has_number(lines[i].text)) for i in chosen])
        total = [a + QUANTITY_WEIGHT * b for a, b in zip(total, numbers, strict=True)]
    if negation:
        negative = _zscores([float(has_negation(lines[i].text)) for i in chosen])
        total = [a + NEGATION_WEIGHT * b for a, b in zip(total, negative, strict=True)]
    own = dict(zip(chosen, total, strict=True))
    lowest = min(total)
    scores = {}
    for i, value in own.items():
        around = [own[j] for j in (i - 1, i + 1) if j in own]
        scores[i] = value + NEIGHBOUR_WEIGHT * (sum(around) / len(around) if around else lowest)
    return scores


def best_line(
    lines: Sequence[PassageLine],
    cosines: Sequence[float | None] | None,
    maxsims: Sequence[float | None] | None = None,
    lexical: Sequence[float | None] | None = None,
) -> int | None:
    """The index of the candidate line with the highest score (`line_scores`). The earlier line
    wins a tie. None when the passage has no candidate, or no signal was given."""
    return _best(lines, line_scores(lines, cosines, maxsims, lexical))


def _best(lines: Sequence[PassageLine], scores: Mapping[int, float]) -> int | None:
    ranked = sorted(scores, key=lambda i: (-scores[i], i))
    texts = [line.text for line in lines]
    for winner in ranked:
        if is_table_header(texts, winner):
            # The header matched the question: the table answers, by its best row.
            rows = set(table_rows(texts, winner))
            winner = next((i for i in ranked if i in rows), -1)
            if winner < 0:
                continue
        return winner
    return None


def _tied_neighbour(texts: Sequence[str], scores: Mapping[int, float], best: int, unit: tuple[int, int]) -> int | None:
    """The line right above or below a one-line answer (the better of the two) when it may answer,
    is a one-line unit itself, no table row, and scores within `TIE` of the answer; else None."""
    start, end = unit
    if start != end or is_table_row(texts[best]):
        return None
    above = next((j for j in range(start - 1, -1, -1) if texts[j].strip()), None)
    below = next((j for j in range(end + 1, len(texts)) if texts[j].strip()), None)
    near = [j for j in (above, below) if j is not None and j in scores]
    if not near:
        return None
    neighbour = max(near, key=lambda j: (scores[j], -j))
    if scores[best] - scores[neighbour] > TIE or is_table_row(texts[neighbour]):
        return None
    grown = logical_unit(texts, neighbour)
    return neighbour if grown[0] == grown[1] else None


def answer_lines(
    lines: Sequence[PassageLine],
    cosines: Sequence[float | None] | None,
    maxsims: Sequence[float | None] | None = None,
    lexical: Sequence[float | None] | None = None,
    *,
    table_header_row: str = "",
    quantity: bool = False,
    negation: bool = False,
) -> Answer:
    """The answer of one result: its best line grown into its logical unit (with a neighbour that
    scores as well), with the table header to show above a table row; the first readable line,
    unscored, when no line can answer.

    cosines: `line_cosines(...)` (None without a question vector); maxsims: per passage line,
    `gather(lines, [line_maxsims(...) per piece])` (None without token vectors); lexical:
    `lexical_scores(...)`, read only when neither of the others is given; table_header_row: the
    passage's `Chunk.table_header`; quantity: the question asks for one (`asks_for_quantity`);
    negation: it asks what is not so (`asks_what_not`)."""
    if not lines:
        raise ValueError("a passage has at least one line")
    texts = [line.text for line in lines]
    scores = line_scores(lines, cosines, maxsims, lexical, quantity=quantity, negation=negation)
    best = _best(lines, scores)
    if best is None:
        return first_line(lines, table_header_row)
    start, end = logical_unit(texts, best)
    tied = _tied_neighbour(texts, scores, best, (start, end))
    if tied is not None:
        start, end = min(start, tied), max(end, tied)
    return Answer(
        lines[start].number,
        lines[end].number,
        "\n".join(texts[start : end + 1]),
        table_header(texts, start, table_header_row),
    )


def answer_for_passage(
    pieces: Sequence[tuple[str, int]],
    query_vector: np.ndarray | None,
    line_vectors: np.ndarray | None,
    *,
    piece_tokens: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    terms_of: Callable[[str], Collection[str]] | None = None,
    term_weights: Mapping[str, float] | None = None,
    table_header_row: str = "",
    quantity: bool = False,
    negation: bool = False,
) -> Answer:
    """One call for the search stage: the answer lines of a result from what it already holds.

    pieces: (text, end_line) of each chunk-store row the result joins, in line order; query_vector /
    line_vectors: the question's vector and those rows' stored line vectors, concatenated (None
    without); piece_tokens: for each row, the question's tokens against its tokens (a similarity
    matrix, `TokenVectors.similarities`) and each of its tokens' line (None without); terms_of /
    term_weights: a line's BM25 terms and the question's terms' IDFs (used only when neither vector
    signal is given); quantity: the question asks for one (`asks_for_quantity`); negation: it asks
    what is not so (`asks_what_not`)."""
    lines = passage_lines(pieces)
    cosines = None
    if query_vector is not None and line_vectors is not None:
        cosines = line_cosines(lines, query_vector, line_vectors)
    maxsims = None
    if piece_tokens is not None:
        per_piece = [
            line_maxsims(similarity, owners, text.count("\n") + 1)
            for (text, _end), (similarity, owners) in zip(pieces, piece_tokens, strict=True)
        ]
        maxsims = gather(lines, per_piece)
    lexical: list[float | None] | None = None
    if cosines is None and maxsims is None and terms_of is not None and term_weights is not None:
        lexical = list(lexical_scores([terms_of(line.text) for line in lines], term_weights))
    return answer_lines(
        lines, cosines, maxsims, lexical, table_header_row=table_header_row, quantity=quantity, negation=negation
    )
