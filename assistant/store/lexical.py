"""BM25 over chunks: built with bm25s, queried with plain numpy.

Why not call bm25s at query time: importing it pulls in scipy (and numba where installed), which
costs more than a whole one-shot query should. bm25s stores its precomputed per-term document scores
as a CSC sparse matrix in `.npy` files; a query is the sum of a few columns, a dozen lines of numpy.
`tests/test_search.py` checks the scores equal bm25s' own `get_scores`.

Tokens: lowercase words (letters and digits, underscores only inside one), English stop words
removed, Snowball-stemmed; single characters and digits are kept ("port 22", "s3").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")

BM25_PARAMS = {"method": "lucene", "k1": 1.2, "b": 0.75}
_WORD = re.compile(r"[^\W_]+(?:_+[^\W_]+)*", re.UNICODE)
"""Runs of letters and digits, joined by inner underscores ("max_connections" stays one term) but
not wrapped in them: `__AWS Backup__` (Markdown emphasis) is "aws" and "backup", not "__aws" and
"backup__", which no question would ever match."""
MAX_CORRECTED_CHARS = 32
"""Longer unknown terms are not spelling-corrected (nor are longer indexed terms candidates)."""

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves whats hows thats theres its im ive id dont doesnt isnt arent wasnt""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Text → BM25 terms. The same function serves documents and queries."""
    return [term for _word, term in words_and_terms(text)]


def words_and_terms(text: str) -> list[tuple[str, str]]:
    """Each word of the text that is a BM25 term (lower case, no stop words), with its term."""
    words = [w for w in _WORD.findall(text.lower().replace("'", "")) if w not in STOP_WORDS]
    return list(zip(words, _stemmer().stemWords(words), strict=True)) if words else []


def build_bm25(texts: Sequence[str], directory: Path) -> None:
    """Index texts with bm25s and save its plain `.npy`/JSON files (never pickle) into directory."""
    if not texts:
        _save_empty(directory)  # bm25s cannot index nothing (a folder of only empty or skipped notes)
        return
    import bm25s

    corpus_tokens = [tokenize(text) or ["\u2205"] for text in texts]
    retriever = bm25s.BM25(**BM25_PARAMS)
    retriever.index(corpus_tokens, show_progress=False)
    directory.mkdir(parents=True, exist_ok=True)
    retriever.save(str(directory))


def _save_empty(directory: Path) -> None:
    """The files of a BM25 index over no documents, in the layout `LexicalIndex` reads."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "data.csc.index.npy", np.zeros(0, dtype=np.float32), allow_pickle=False)
    np.save(directory / "indices.csc.index.npy", np.zeros(0, dtype=np.int32), allow_pickle=False)
    np.save(directory / "indptr.csc.index.npy", np.zeros(1, dtype=np.int64), allow_pickle=False)
    (directory / "vocab.index.json").write_text("{}", encoding="utf-8")
    (directory / "params.index.json").write_text(json.dumps({**BM25_PARAMS, "num_docs": 0}), encoding="utf-8")


class LexicalIndex:
    """The saved BM25 index, memory-mapped; scores a query without importing bm25s."""

    def __init__(self, directory: Path) -> None:
        import numpy as np

        self.data = np.load(directory / "data.csc.index.npy", allow_pickle=False, mmap_mode="r")
        self.indices = np.load(directory / "indices.csc.index.npy", allow_pickle=False, mmap_mode="r")
        self.indptr = np.load(directory / "indptr.csc.index.npy", allow_pickle=False, mmap_mode="r")
        vocab = json.loads((directory / "vocab.index.json").read_text(encoding="utf-8"))
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        self.vocab: dict[str, int] = {str(k): int(v) for k, v in vocab.items()}
        self.num_docs = int(params["num_docs"])
        self._deletes: dict[str, list[int]] | None = None
        # bm25s gives the empty token a vocabulary id but no column, so columns <= vocabulary size.
        if not 1 <= len(self.indptr) <= len(self.vocab) + 1 or len(self.indices) != len(self.data):
            raise ValueError("BM25 index arrays disagree with its vocabulary")
        # A damaged or planted index must fail here, not index out of bounds in the middle of a query.
        arrays = (self.data, self.indices, self.indptr)
        if any(array.ndim != 1 or array.dtype.kind not in "iuf" for array in arrays) or self.num_docs < 0:
            raise ValueError("BM25 index arrays have the wrong shape or type")
        if int(self.indptr[0]) != 0 or int(self.indptr[-1]) != len(self.data) or bool(np.any(np.diff(self.indptr) < 0)):
            raise ValueError("BM25 index column pointers are inconsistent")
        if len(self.indices) and (int(self.indices.min()) < 0 or int(self.indices.max()) >= self.num_docs):
            raise ValueError("BM25 index refers to documents it does not have")
        if any(column < 0 for column in self.vocab.values()):
            raise ValueError("BM25 vocabulary has negative columns")

    def scores(self, query: str, is_word: Callable[[str], bool] | None = None) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros when no term is known).

        A term the notes do not have is read as a typo of one they do (`correct`), unless `is_word`
        says its word is a real word (the model's whole-word vocabulary, as `spelling.Speller` asks):
        a real word the notes never use is no typo. Without that, "read out loud" searched for
        "cloud", "slow" for "low", "field" for "file" and "ship" for "shop"."""
        import numpy as np

        scores = np.zeros(self.num_docs, dtype=np.float32)
        for word, term in words_and_terms(query):
            column = self.vocab.get(term)
            if column is None and not (is_word is not None and is_word(word)):
                column = self.correct(term)
            if column is None or column + 1 >= len(self.indptr):
                continue
            start, end = int(self.indptr[column]), int(self.indptr[column + 1])
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """Each known term's inverse document frequency, as Lucene's BM25 weighs it:
        ln(1 + (N - df + 0.5) / (df + 0.5)). Unknown terms are left out."""
        import math

        weights: dict[str, float] = {}
        for term in terms:
            column = self.vocab.get(term)
            if column is None or column + 1 >= len(self.indptr):
                continue
            df = int(self.indptr[column + 1] - self.indptr[column])
            weights[term] = math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5))
        return weights

    def correct(self, term: str) -> int | None:
        """The column of the most common indexed term one edit (or one swap of neighbouring letters)
        away from an unknown term ("lamda", "regoin", "storge", "memroy"), found through a
        delete-neighbourhood table built on first use."""
        if len(term) < 4 or len(term) > MAX_CORRECTED_CHARS or term.isdigit():
            return None
        if self._deletes is None:
            # Long terms (a base64 blob, a hash) are skipped: n deletions of n characters each.
            self._deletes = deletion_neighbourhood(
                (known, column)
                for known, column in self.vocab.items()
                if 3 <= len(known) <= MAX_CORRECTED_CHARS + 1 and column + 1 < len(self.indptr)
            )
        candidates = {column for variant in deletions(term) | {term} for column in self._deletes.get(variant, ())}
        # Swapped letters ("memroy") are two edits apart once the right word is stemmed ("memori").
        swapped = [term[:i] + term[i + 1] + term[i] + term[i + 2 :] for i in range(len(term) - 1)]
        for stem in _stemmer().stemWords(swapped):
            if stem in self.vocab:
                candidates.add(self.vocab[stem])
        if not candidates:
            return None
        return max(candidates, key=lambda column: (int(self.indptr[column + 1] - self.indptr[column]), -column))


def deletion_neighbourhood(entries: Iterable[tuple[str, T]]) -> dict[str, list[T]]:
    """Each word and every one-letter deletion of it → the entries it came from: two words one edit
    apart share a key, so a misspelling finds its candidates by lookup, not by a scan."""
    table: dict[str, list[T]] = {}
    for word, entry in entries:
        for variant in deletions(word) | {word}:
            table.setdefault(variant, []).append(entry)
    return table


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
