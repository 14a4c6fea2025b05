"""Stage 5, search: a question → passage-vector, line-vector and BM25 candidate lists → fused, ranked Hits.

Each list is its own function (candidates.py) returning ranked `(row, score)` lists. They are fused
and reranked by the pure functions of fuse.py. Before any of them,
`spelling.Speller` corrects misspelt words of the question to the notes' words. The CLI, the chat
app and the eval harness all call `Searcher.search`, so eval scores measure what users see.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import MODES, Mode
from assistant.errors import UsageProblem
from assistant.model.projection import project
from assistant.notes.chunk import Chunk, join_pieces
from assistant.retrieve.answer import Answer, answer_for_passage, asks_for_quantity, asks_what_not
from assistant.retrieve.candidates import bm25_candidates, dense_candidates, line_candidates
from assistant.retrieve.follow_up import resolve
from assistant.retrieve.fuse import fuse_rrf, join_neighbours, rerank_by_tokens
from assistant.retrieve.results import Hit, ListName, Rewrite, SearchResponse
from assistant.retrieve.score import capped_scores, word_coverage
from assistant.retrieve.strength import match_strength
from assistant.store.lexical import tokenize
from assistant.store.open import OpenedIndex, open_index
from assistant.store.state import read_state
from assistant.store.token_vectors import RERANK_DEPTH, maxsim_of

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.embed import QueryEncoder
    from assistant.store.chunk_store import ChunkStore
    from assistant.store.manifest import Manifest

CANDIDATES = 50
"""How deep each list goes before fusion."""
MAX_QUERY_CHARS = 2000
"""Longer questions are cut: the model reads 256 word pieces anyway, and BM25 needs no essay."""


class Searcher:
    """An opened index, ready to answer: passages, FAISS, BM25 arrays, token vectors, the query encoder.

    Everything is read through `index` (the opened generation, store/open.py); the properties below
    are what front ends and reports may read of it."""

    def __init__(self, index: OpenedIndex) -> None:
        self.index = index

    @property
    def chunks(self) -> ChunkStore:
        return self.index.chunks

    @property
    def files(self) -> list[str]:
        return self.index.chunks.files

    @property
    def manifest(self) -> Manifest:
        return self.index.manifest

    @property
    def model_name(self) -> str:
        return self.index.manifest.model.name

    @property
    def encoder(self) -> QueryEncoder:
        return self.index.encoder

    @property
    def slow_path(self) -> str:
        """Why questions take sentence-transformers' slow path ("" when they take the ONNX export)."""
        return self.index.slow_path

    @classmethod
    def load(cls, index_dir: Path, encoder: QueryEncoder | None = None, *, model: str | None = None) -> Searcher:
        """Open the current index as it is on disk (store/open.py)."""
        return cls(open_index(read_state(index_dir), encoder, model=model))

    def allowed_rows(self, file_glob: str | None) -> np.ndarray | None:
        """Rows of chunks from files matching the glob (matched against the path and the file name)."""
        if not file_glob:
            return None
        matching = [
            file
            for file in self.files
            if fnmatch.fnmatch(file, file_glob) or fnmatch.fnmatch(file.rsplit("/", 1)[-1], file_glob)
        ]
        return self.chunks.rows_of(matching)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: Mode = "hybrid",
        file_glob: str | None = None,
        context: str | None = None,
    ) -> SearchResponse:
        """The ranked passages for a question. `context`: what the previous turn of a conversation
        searched, so that a follow-up ("and the timeout?") is searched in its light."""
        started = time.perf_counter()
        if mode not in MODES:
            raise UsageProblem(f"unknown mode {mode!r}", f"use one of {', '.join(MODES)}")
        if k < 1:
            raise UsageProblem(f"-k must be at least 1, not {k}")
        searched, rewrites = self.rewrite(query, context)
        allowed = self.allowed_rows(file_glob)
        if allowed is not None and len(allowed) == 0:
            raise UsageProblem(f"no notes match --file {file_glob!r}", f"files: {', '.join(self.files[:5])}")
        lists, vector, query_tokens = self.candidate_lists(searched, mode, max(CANDIDATES, k), allowed)
        ranked = fuse_rrf(list(lists.values())) if len(lists) > 1 else next(iter(lists.values()))
        tokens = self.index.tokens
        projected = None if query_tokens is None or tokens is None else project(query_tokens, tokens.projection)
        similarities: dict[int, np.ndarray] = {}
        if mode == "hybrid" and vector is not None and projected is not None:
            final, similarities = self.rerank_with_similarities(ranked, vector, projected)
        else:
            final = [(row, score, None) for row, score in ranked]
        positions = {name: {row: rank for rank, (row, _s) in enumerate(items, 1)} for name, items in lists.items()}
        own = {name: dict(items) for name, items in lists.items()}
        placed = {row: (place, score, fused_rank) for place, (row, score, fused_rank) in enumerate(final)}
        # The answer lines fall back on the question's BM25 terms only without both vector signals.
        lexical_only = (vector is None or self.index.line_vectors is None) and projected is None
        asked = Asked(
            searched,
            vector,
            projected,
            similarities,
            self.index.lexical.idf(tokenize(searched)) if lexical_only else None,
        )
        groups = join_neighbours(final, self.chunks, k)
        passages = [self.passage(group) for group in groups]
        cosines = [self.similarity(group, vector, own) for group in groups]
        closeness = [
            word_coverage(chunk, searched) if value is None else value
            for chunk, value in zip(passages, cosines, strict=True)
        ]
        hits = []
        for rank, (group, chunk, similar, score) in enumerate(
            zip(groups, passages, cosines, capped_scores(closeness), strict=True), 1
        ):
            # The best-ranked piece leads (a piece between two that rank may not be in the ranking at all).
            row = min(group, key=lambda member: placed[member][0] if member in placed else len(placed))
            _place, key, fused_rank = placed[row]
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    chunk=chunk,
                    ranks={name: positions[name].get(row) for name in lists},
                    scores={name: own[name].get(row) for name in lists},
                    fused_rank=fused_rank,
                    pieces=len(group),
                    answer=self.answer_for(group, chunk, asked),
                    similarity=similar,
                    rank_score=key,
                )
            )
        return SearchResponse(
            query=query,
            searched=searched,
            mode=mode,
            hits=hits,
            seconds=time.perf_counter() - started,
            rewrites=rewrites,
            strength=match_strength(self._judged_as(mode, hits), searched, hits),
            building=self.index.building,
        )

    def _judged_as(self, mode: Mode, hits: Sequence[Hit]) -> Mode:
        """The mode a response's strength is judged in: by keywords, as in BM25 mode, when its first
        passage was found while the index is being built and has no vector yet (its score is then
        the share of the question's words it holds); else the mode searched."""
        if self.index.building is not None and hits and hits[0].similarity is None:
            return "bm25"
        return mode

    def rewrite(self, query: str, context: str | None = None) -> tuple[str, tuple[Rewrite, ...]]:
        """What is actually searched for a question, and how it was rewritten on the way: whitespace
        and control characters tidied (not a rewrite), a follow-up completed from `context` (the
        previous turn's search), misspelt words corrected to the notes' words."""
        tidied = normalise_query(query)
        if not tidied:
            raise UsageProblem("the question is empty", "type a few words")
        rewrites: list[Rewrite] = []
        searched = tidied
        if context:
            followed = resolve(tidied, context)
            if followed.follow_up and followed.searched != tidied:
                searched = normalise_query(followed.searched)
                rewrites.append("follow-up")
        speller = self.index.speller
        if speller is not None:
            # A correction can lengthen the question ("memor" cut by the cap → "memory"): cap it again.
            corrected = speller.correct(searched)[:MAX_QUERY_CHARS]
            if corrected != searched:
                searched = corrected
                rewrites.append("spelling")
        return searched, tuple(rewrites)

    def searched_for(self, query: str) -> str:
        """What is searched for a question asked on its own (no conversation before it)."""
        return self.rewrite(query)[0]

    def rerank_signals(self, query: str) -> RerankSignals | None:
        """What the hybrid rerank could weigh for a question's fused top `RERANK_DEPTH`, each signal
        one value per candidate (None when the index has no token vectors, so nothing is reranked).
        Only `notes eval --ceiling` reads these: search itself weighs MaxSim and the best line."""
        import numpy as np

        searched = self.searched_for(query)
        bm25 = self.bm25_scores(searched)
        lists, vector, query_tokens = self.candidate_lists(searched, "hybrid", CANDIDATES, None, bm25)
        tokens = self.index.tokens
        if vector is None or query_tokens is None or tokens is None:
            return None
        ranked = fuse_rrf(list(lists.values()))
        head = [row for row, _score in ranked[:RERANK_DEPTH]]
        signals = {
            "maxsim": list(tokens.maxsim(query_tokens, head)),
            "passage cosine": [float(self.index.dense_index.reconstruct(row) @ vector) for row in head],
            "bm25": [float(bm25[row]) for row in head],
            "fused rank": [-float(np.log(rank)) for rank in range(1, len(head) + 1)],
        }
        best_lines = self.best_line_scores(ranked, vector)
        if best_lines is not None:
            signals["best line"] = best_lines
        return RerankSignals(ranked, signals)

    def candidate_lists(
        self,
        searched: str,
        mode: Mode,
        depth: int,
        allowed: np.ndarray | None,
        bm25_scores: np.ndarray | None = None,
    ) -> tuple[dict[ListName, list[tuple[int, float]]], np.ndarray | None, np.ndarray | None]:
        """The mode's ranked candidate lists, with the question's vector and (hybrid, when the index
        has token vectors) its token vectors, from one pass of the model. `bm25_scores`: every
        passage's BM25 score for the question, when the caller has them already."""
        lists: dict[ListName, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "bm25"):
            if bm25_scores is None:
                bm25_scores = self.bm25_scores(searched)
            lists["bm25"] = bm25_candidates(bm25_scores, depth, allowed)
        vector = query_tokens = None
        if mode in ("hybrid", "dense"):
            if self.index.tokens is not None:
                # Token vectors from the same pass: the hybrid rerank, and any mode's answer lines.
                vector, query_tokens = self.embed_query_with_tokens(searched)
            else:
                vector = self.embed_query(searched)
            lists["dense"] = dense_candidates(self.index.dense_index, vector, depth, allowed)
            if self.index.lines is not None:
                lists["lines"] = line_candidates(self.index.lines[0], self.index.lines[1], vector, depth, allowed)
        return lists, vector, query_tokens

    def bm25_scores(self, searched: str) -> np.ndarray:
        """Every passage's BM25 score for what is searched; a real word the notes lack is not taken
        for a typo of one they have (`LexicalIndex.scores`)."""
        return self.index.lexical.scores(searched, self.index.encoder.knows_word)

    def rerank_with_similarities(
        self, ranked: Sequence[tuple[int, float]], vector: np.ndarray, projected: np.ndarray
    ) -> tuple[list[tuple[int, float, int | None]], dict[int, np.ndarray]]:
        """The token rerank of a fused ranking (`fuse.rerank_by_tokens`, with the head's best line
        cosines when the index has line vectors), given the projected question tokens, and the head's
        token similarity matrices, which the answer lines read again (answer_for)."""
        tokens = self.index.tokens
        assert tokens is not None
        head = [row for row, _score in ranked[:RERANK_DEPTH]]
        matrices = tokens.similarities(projected, head)
        final = rerank_by_tokens(
            ranked, [maxsim_of(matrix) for matrix in matrices], line_scores=self.best_line_scores(ranked, vector)
        )
        return final, dict(zip(head, matrices, strict=True))

    def best_line_scores(self, ranked: Sequence[tuple[int, float]], vector: np.ndarray) -> list[float] | None:
        """For each of the top `RERANK_DEPTH` rows, the cosine of its best-matching line (a passage
        without lines gets the others' mean, which is neutral after z-scoring)."""
        if self.index.line_vectors is None:
            return None
        vectors, starts = self.index.line_vectors
        best: list[float | None] = []
        for row, _score in ranked[:RERANK_DEPTH]:
            start, end = int(starts[row]), int(starts[row + 1])
            best.append(float((vectors[start:end] @ vector).max()) if end > start else None)
        known = [score for score in best if score is not None]
        fill = sum(known) / len(known) if known else 0.0
        return [fill if score is None else score for score in best]

    def passage(self, group: Sequence[int]) -> Chunk:
        """What a result of chunk-store rows `group` (in line order) shows: its chunk, or its pieces joined."""
        return self.chunks[group[0]] if len(group) == 1 else join_pieces([self.chunks[row] for row in group])

    def answer_for(self, group: Sequence[int], chunk: Chunk, asked: Asked) -> Answer:
        """The answer lines of a result joining chunk-store rows `group`, from the question's vector
        and tokens and the rows' stored line and token vectors; with no question vector (BM25 mode)
        or an index without line or token vectors, from the question's BM25 terms."""
        import numpy as np

        pieces = [(self.chunks[row].text, self.chunks[row].end_line) for row in group]
        line_vectors = None
        if asked.vector is not None and self.index.line_vectors is not None:
            vectors, starts = self.index.line_vectors
            line_vectors = np.concatenate([vectors[int(starts[row]) : int(starts[row + 1])] for row in group])
        piece_tokens = None
        if asked.tokens is not None and self.index.tokens is not None:
            missing = [row for row in group if row not in asked.similarities]
            # The rerank compared the question with these rows already, unless they ranked below its head.
            matrices = asked.similarities | dict(
                zip(missing, self.index.tokens.similarities(asked.tokens, missing), strict=True)
            )
            piece_tokens = [(matrices[row], np.asarray(self.index.tokens.passage(row).lines)) for row in group]
        return answer_for_passage(
            pieces,
            asked.vector,
            line_vectors,
            piece_tokens=piece_tokens,
            terms_of=tokenize,
            term_weights=asked.term_weights,
            table_header_row=chunk.table_header,
            quantity=asks_for_quantity(asked.searched),
            negation=asks_what_not(asked.searched),
        )

    def similarity(
        self, group: Sequence[int], vector: np.ndarray | None, own: dict[ListName, dict[int, float]]
    ) -> float | None:
        """The best cosine of the question to a passage of rows `group`: its passage vector's (where
        the dense list has it) or any of its lines'."""
        if vector is None:
            return None
        known = [own[name][row] for name in ("dense", "lines") if name in own for row in group if row in own[name]]
        if self.index.line_vectors is not None:
            vectors, starts = self.index.line_vectors
            for row in group:
                start, end = int(starts[row]), int(starts[row + 1])
                if end > start:
                    known.append(float((vectors[start:end] @ vector).max()))
        return max(known) if known else None

    def embed_query(self, query: str) -> np.ndarray:
        vector: np.ndarray = self.index.encoder.encode([query])[0]
        return vector

    def embed_query_with_tokens(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and, when the encoder can give them, its token vectors (one pass)."""
        vectors, tokens = self.index.encoder.encode_with_tokens([query])
        return vectors[0], tokens[0]


@dataclass(frozen=True)
class RerankSignals:
    """A question's fused ranking and, for its top `RERANK_DEPTH`, each signal the rerank could weigh."""

    ranked: list[tuple[int, float]]
    """The whole fused ranking, (row, RRF score); the rows past the head follow it unchanged."""
    signals: dict[str, list[float]]
    """Signal name → one value per head row, in fused order."""


@dataclass(frozen=True)
class Asked:
    """What the answer lines of every result of one search are chosen with."""

    searched: str
    vector: np.ndarray | None
    tokens: np.ndarray | None
    """The question's token vectors, projected like the stored ones (None: no token vectors)."""
    similarities: dict[int, np.ndarray]
    """The rerank's token similarity matrices, by row (the answer lines read them again)."""
    term_weights: dict[str, float] | None = None
    """The IDF of the question's BM25 terms, when the answer lines have no vector signal to go on."""


def normalise_query(query: str) -> str:
    """Collapse whitespace, drop control characters, cap the length."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query)
    return " ".join(cleaned.split())[:MAX_QUERY_CHARS]
