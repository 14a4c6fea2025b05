"""Spelling correction of a question against the notes' own words, before it is embedded.

Why: BM25 forgives a typo (`lexical.LexicalIndex.correct`), but the embedding model does not:
"edge locatoins" is cut into word pieces that mean nothing, and the passage and token vectors miss.
A word is corrected only when all of these hold, so real words are left alone:
- it is at least 5 letters, lower case, and neither a word of the notes, nor a whole word in the
  model's vocabulary, nor a stop word ("creds", "thats" stay);
- a word of the notes is one edit away from it (an insertion, deletion, substitution or swap of
  neighbouring letters), and it is not merely an inflection of it (a different last letter, one
  letter more at the end, or the notes' word is it plus an ending: "replys", "pricey", "reuse"
  stay, while "workin" and "respons" lost only a last letter and become "working", "response");
- among several, the most frequent in the notes wins.
Measured on the eval set: typo questions Hit@1 0.74 → 0.79, Hit@5 0.93 → 0.97; no other question
changes (docs/retrieval-experiments.md, "What each change added").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.store.lexical import MAX_CORRECTED_CHARS, STOP_WORDS, deletion_neighbourhood, deletions

WORDS_FILE = "words.json"
MIN_LETTERS = 5
_WORD = re.compile(r"[a-z]+")
_QUESTION_WORD = re.compile(r"\b[a-z]+\b")


def count_words(texts: Iterable[str]) -> dict[str, int]:
    """How often each lower-case word of at least 3 letters occurs in the notes (for words.json)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word in _WORD.findall(text.lower()) if len(word) >= 3)
    return dict(counts)


def write_words(path: Path, counts: dict[str, int]) -> None:
    path.write_text(json.dumps(counts, ensure_ascii=True, separators=(",", ":")), encoding="utf-8")


class Speller:
    """Corrects a question's misspelt words to the notes' words (see the module docstring)."""

    def __init__(self, counts: dict[str, int], model_knows: Callable[[str], bool] | None = None) -> None:
        self.counts = counts
        self.model_knows = model_knows
        self._deletes: dict[str, list[str]] | None = None

    @classmethod
    def load(cls, path: Path, model_knows: Callable[[str], bool] | None = None) -> Speller:
        """ValueError/OSError when the file is not a JSON object of word counts."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
            isinstance(word, str) and isinstance(count, int) for word, count in data.items()
        ):
            raise ValueError(f"{path} is not a JSON object of word counts")
        return cls(data, model_knows)

    def correct(self, question: str) -> str:
        return _QUESTION_WORD.sub(lambda match: self.correct_word(match.group(0)), question)

    def correct_word(self, word: str) -> str:
        if not MIN_LETTERS <= len(word) <= MAX_CORRECTED_CHARS or word in self.counts or word in STOP_WORDS:
            return word
        if self.model_knows is not None and self.model_knows(word):
            return word
        candidates = [
            known
            for variant in deletions(word) | {word}
            for known in self._neighbours().get(variant, ())
            if _one_edit(word, known) and not _inflection(word, known)
        ]
        if not candidates:
            return word
        return max(candidates, key=lambda known: (self.counts[known], known))

    def _neighbours(self) -> dict[str, list[str]]:
        """Delete-neighbourhood table of the notes' words, built on the first unknown word."""
        if self._deletes is None:
            # A note's 100,000-letter run (a blob, a dump) would be 100,000 deletions of 100,000 letters.
            candidates = (known for known in self.counts if MIN_LETTERS - 1 <= len(known) <= MAX_CORRECTED_CHARS + 1)
            self._deletes = deletion_neighbourhood((known, known) for known in candidates)
        return self._deletes


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (the deletion table also pairs some words 2 apart)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _inflection(word: str, known: str) -> bool:
    """Another form of the same word, not a typo: a different last letter ("regiom"), one letter more
    at the end ("replys"), or the notes' word is the typed one plus an ending ("reuse" → "reused",
    "rewrite" → "rewrites"). A dropped last letter that makes no ending is a typo: "workin",
    "respons" and "busines" become "working", "response" and "business"."""
    if word[:-1] == known[:-1] or word[:-1] == known:
        return True
    return known[:-1] == word and _is_ending(word, known[-1])


def _is_ending(stem: str, letter: str) -> bool:
    """Whether `stem + letter` reads as an inflection of stem: a plural or third person ("rewrites",
    not "business"), or a past tense or agent noun of a word ending in e ("reused", "user")."""
    if letter == "s":
        return not stem.endswith("s")
    return letter in "dr" and stem.endswith("e")
