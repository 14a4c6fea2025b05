"""Abbreviations the notes define ("Availability Zone (AZ)"), spelled out wherever the notes use them.

Why: notes abbreviate ("replication across 3 AZ", "static IP per AZ"), and a question in plain
words ("how many zones…", "one fixed address per zone") meets a bare abbreviation only when the
model happens to know it. Notes usually define each abbreviation once, as a long form followed by
the short form in parentheses; the Schwartz–Hearst rule (Schwartz & Hearst, "A simple algorithm for
identifying abbreviation definitions in biomedical text", 2003) finds those definitions, and each
line vector and each passage's BM25 text then carries the long form after the abbreviation's first
use. Passage vectors and what is shown are left as written: spelling out passages too helped
`corpus/` but lost on other people's notes (docs/retrieval-experiments.md, "What each change added"). The notes
themselves are never touched; only what is indexed changes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

_DEFINED = re.compile(r"\(([A-Z][A-Za-z0-9]{1,7})\)")
"""A short form in parentheses: 2-8 letters or digits, starting with a capital."""
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]{1,8}\b")
"""A word that may be a short form, or one in the plural."""
_WORD = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*")


def find_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Short form → long form for every abbreviation the texts define, e.g. {"AZ": "Availability
    Zones"}; where a short form is defined differently in several places, its most frequent long
    form (ties: the first seen)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        if "(" not in text:
            continue
        for line in text.split("\n"):
            for match in _DEFINED.finditer(line):
                short = _singular(match.group(1))
                if short is None:
                    continue
                long = _long_form(short, line[: match.start()])
                if long is not None:
                    found[short][long] += 1
    return {short: longs.most_common(1)[0][0] for short, longs in found.items()}


def _singular(short: str) -> str | None:
    """The short form without a plural "s" ("AMIs" → "AMI"); None when it is no abbreviation (an
    abbreviation has at least two capitals: "IAM", "DDoS", "EC2", but not "Postgres")."""
    if short.endswith("s") and sum(ch.isupper() for ch in short[:-1]) >= 2:
        short = short[:-1]
    return short if sum(ch.isupper() for ch in short) >= 2 else None


def _long_form(short: str, before: str) -> str | None:
    """The shortest run of the words before a short form whose letters spell it, Schwartz–Hearst
    style: the short form's characters are matched right to left, the first one at the start of a
    word; the run is taken as written ("compute power & cores"). None when nothing fits, or the fit
    is one word, too long, or holds the short form itself ("EC2 Fundamentals Elastic Compute Cloud")."""
    words = list(_WORD.finditer(before))[-min(len(short) + 5, 2 * len(short)) :]
    if not words:
        return None
    candidate = before[words[0].start() : words[-1].end()]
    text = candidate.lower()
    position = len(text) - 1
    for index in range(len(short) - 1, -1, -1):
        char = short[index].lower()
        while position >= 0 and (
            text[position] != char or (index == 0 and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    starts = [word.start() - words[0].start() for word in words]
    long = candidate[max(start for start in starts if start <= position + 1) :]
    spelled = _WORD.findall(long)
    if not 2 <= len(spelled) <= len(short) + 1 or short.lower() in (word.lower() for word in spelled):
        return None
    return " ".join(long.split())


class Expander:
    """Spells out a fixed set of abbreviations in any text. Fast enough for a million passages:
    one scan for capitalised words and a dictionary look-up each (a pattern of all the short forms
    was three times slower)."""

    def __init__(self, abbreviations: Mapping[str, str]) -> None:
        self.abbreviations = dict(abbreviations)

    def __call__(self, text: str) -> str:
        """The text with each abbreviation's first use followed by its long form in parentheses,
        unless the text already spells it out; the rest unchanged."""
        if not self.abbreviations:
            return text
        done: set[str] = set()
        lowered = ""

        def spell(match: re.Match[str]) -> str:
            nonlocal lowered
            word = match.group(0)
            short = word if word in self.abbreviations else word[:-1] if word[-1] == "s" else ""
            long = self.abbreviations.get(short)
            if long is None or short in done:
                return word
            lowered = lowered or text.lower()
            if long.lower() in lowered:
                return word
            done.add(short)
            return f"{word} ({long})"

        return _CAPITALISED.sub(spell, text)
