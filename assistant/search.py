"""Stage 5, search: a question → passage-vector, line-vector and BM25 candidate lists → fused, ranked Hits.

Each stage is its own function returning ranked `(row, score)` lists, and fusion is pure:
- `dense_candidates`: cosine similarity (inner product of normalised vectors), in [-1, 1];
- `line_candidates`: passages ranked by the cosine of their best-matching line, in [-1, 1];
- `bm25_candidates`: BM25 scores, >= 0, unbounded;
- `fuse_rrf`: reciprocal rank fusion, score = sum over lists of weight / (k + rank). RRF ignores the
  lists' incomparable score scales and rewards passages both retrievers agree on.
- `rerank_by_tokens` (hybrid, when the index has token vectors): the top `RERANK_DEPTH` fused
  candidates reordered by late-interaction MaxSim of question and passage tokens (`token_vectors`),
  moved a little by each one's best line cosine (`LINE_WEIGHT`); their score becomes that, a
  similarity on MaxSim's scale.
Before any of them, `spelling.Speller` corrects misspelt words of the question to the notes' words.
The CLI, the chat app and the eval harness all call `Searcher.search`, so eval scores measure what
users see.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chunk import Chunk, continues, join_pieces
from assistant.chunk_store import ChunkStore
from assistant.config import MODES
from assistant.errors import IndexCorrupt, UsageProblem
from assistant.index import HNSW_EF_SEARCH, current_generation, read_manifest, require_index
from assistant.spelling import WORDS_FILE, Speller
from assistant.token_vectors import DIRECTORY as TOKENS_DIRECTORY
from assistant.token_vectors import RERANK_DEPTH, TokenVectors

if TYPE_CHECKING:
    import numpy as np

    from assistant.embed import QueryEncoder
    from assistant.lexical import LexicalIndex

LINE_WEIGHT = 0.2
"""In the rerank, the weight of a candidate's best line cosine next to its MaxSim, both as z-scores
among the candidates. MaxSim rewards a passage whose words each match some question word; the best
line says one statement answers the question as a whole. Any weight from 0.1 to 0.3 helped on both
eval sets alike (README, "What each change added"); 0.2 is the middle, not the best on either."""
RRF_K = 10
"""Lower than the customary 60: with three lists, agreement near the top should dominate
(measured on the eval set: see README, "What each improvement added")."""
LINE_CANDIDATES = 300
"""Line vectors searched per question before they are folded into chunks (about 5 lines a chunk)."""
CANDIDATES = 50
"""How deep each list goes before fusion."""
JOINED_MAX_LINES = 30
"""Neighbouring pieces of one section are shown as one passage up to this many lines."""
MAX_QUERY_CHARS = 2000
"""Longer questions are cut: the model reads 256 word pieces anyway, and BM25 needs no essay."""


@dataclass(frozen=True)
class Hit:
    """One ranked passage, with its rank in each list for --explain."""

    rank: int
    score: float
    chunk: Chunk
    ranks: dict[str, int | None] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)
    """Each list's own score: cosine for "dense" and "lines", BM25 for "bm25" (None: not in that list)."""
    fused_rank: int | None = None
    """Rank before the token rerank (None: not reranked); `score` is then the rerank's, on MaxSim's scale."""
    pieces: int = 1
    """How many neighbouring pieces of one section this passage joins (ranks and scores are the
    best-ranked piece's)."""


@dataclass(frozen=True)
class SearchResponse:
    query: str
    """What the user typed."""
    searched: str
    """What was actually searched (a follow-up carries its context here)."""
    mode: str
    hits: list[Hit]
    seconds: float = 0.0


@dataclass(frozen=True)
class RerankSignals:
    """A question's fused ranking and, for its top `RERANK_DEPTH`, each signal the rerank could weigh."""

    ranked: list[tuple[int, float]]
    """The whole fused ranking, (row, RRF score); the rows past the head follow it unchanged."""
    signals: dict[str, list[float]]
    """Signal name → one value per head row, in fused order."""


def fuse_rrf(
    lists: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked lists of (row, score); ties keep first-seen order."""
    totals: dict[int, float] = {}
    for index, ranked in enumerate(lists):
        weight = weights[index] if weights else 1.0
        for rank, (row, _score) in enumerate(ranked, 1):
            totals[row] = totals.get(row, 0.0) + weight / (k + rank)
    return sorted(totals.items(), key=lambda item: -item[1])


def rerank_by_tokens(
    ranked: Sequence[tuple[int, float]],
    query_tokens: np.ndarray,
    tokens: TokenVectors,
    depth: int = RERANK_DEPTH,
    line_scores: Sequence[float] | None = None,
) -> list[tuple[int, float, int | None]]:
    """The top `depth` of a fused ranking reordered by MaxSim, ties keeping fused order; then the
    rest: (row, score, rank before the rerank or None for the tail).

    With `line_scores` (each head candidate's best line cosine), a candidate's score is its MaxSim
    moved by LINE_WEIGHT times its line's z-score, in standard deviations of the head's MaxSim: the
    order of z(MaxSim) + LINE_WEIGHT * z(line), on MaxSim's own scale (held within [-1, 1]), so the
    shown scores still read as similarities and still fall with the rank."""
    head = list(ranked[:depth])
    scores = tokens.maxsim(query_tokens, [row for row, _score in head])
    if line_scores is not None and len(line_scores) == len(head):
        spread = _spread(scores)
        mean_line, spread_line = sum(line_scores) / max(len(line_scores), 1), _spread(line_scores)
        if spread_line > 1e-9:
            scores = [
                min(1.0, max(-1.0, score + LINE_WEIGHT * spread * (line - mean_line) / spread_line))
                for score, line in zip(scores, line_scores, strict=True)
            ]
    order = sorted(range(len(head)), key=lambda i: (-scores[i], i))
    reranked: list[tuple[int, float, int | None]] = [(head[i][0], scores[i], i + 1) for i in order]
    return reranked + [(row, score, None) for row, score in ranked[depth:]]


def _spread(values: Sequence[float]) -> float:
    """Standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return float((sum((value - mean) ** 2 for value in values) / len(values)) ** 0.5)


def join_neighbours(
    ranked: Sequence[tuple[int, float, int | None]], chunks: Sequence[Chunk], k: int, max_lines: int = JOINED_MAX_LINES
) -> list[list[int]]:
    """The ranking as up to k passages, each a run of rows (in line order) led by its best-ranked row.

    A section too long for one piece is cut into several; when two of them both rank, they are one
    answer, so the lower-ranked piece joins the higher one's passage instead of taking a place of
    its own, and the place goes to the next passage. Measured on the eval set: Hit@1 +0.012,
    MRR@10 +0.012, average passage +1 line (README, "What each change added")."""
    groups: list[list[int]] = []
    for row, _score, _fused in ranked:
        if len(groups) >= k:
            break
        group = next((g for g in groups if _joinable(g, [row], chunks, max_lines)), None)
        if group is None:
            groups.append([row])
            continue
        group.append(row)
        group.sort()
        # The new piece may close the gap to another passage: the later-ranked one joins this one.
        other = next((g for g in groups if g is not group and _joinable(group, g, chunks, max_lines)), None)
        if other is not None:
            group.extend(other)
            group.sort()
            groups.remove(other)
    return groups


def _joinable(group: list[int], other: list[int], chunks: Sequence[Chunk], max_lines: int) -> bool:
    """Whether two runs of rows meet end to start as pieces of one section, and stay short together."""
    before, after = (group, other) if other[0] > group[-1] else (other, group)
    return (
        after[0] == before[-1] + 1
        and continues(chunks[before[-1]], chunks[after[0]])
        and chunks[after[-1]].end_line - chunks[before[0]].start_line + 1 <= max_lines
    )


def dense_candidates(
    index: Any, query_vector: np.ndarray, n: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Top-n rows by cosine similarity from the FAISS index, optionally restricted to allowed rows."""
    import faiss
    import numpy as np

    if index.ntotal == 0 or n <= 0:
        return []
    vector = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    params = None
    if allowed is not None:
        if len(allowed) == 0:
            return []
        selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
        params = faiss.SearchParameters(sel=selector)
        if hasattr(index, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(index.hnsw.efSearch, n))
    elif hasattr(index, "hnsw"):
        params = faiss.SearchParametersHNSW(efSearch=max(index.hnsw.efSearch, n))
    scores, rows = index.search(vector, min(n, index.ntotal), params=params)
    return [(int(row), float(score)) for row, score in zip(rows[0], scores[0], strict=False) if row >= 0]


def line_candidates(
    index: Any, owner: np.ndarray, query_vector: np.ndarray, n: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Chunks ranked by their best-matching line: a question usually targets one statement of a
    passage, which the whole-passage vector blurs."""
    import numpy as np

    allowed_lines = None
    if allowed is not None:
        allowed_lines = np.flatnonzero(np.isin(owner, allowed))
    best: dict[int, float] = {}
    for line, score in dense_candidates(index, query_vector, LINE_CANDIDATES, allowed_lines):
        row = int(owner[line])
        if row not in best:
            best[row] = score
            if len(best) >= n:
                break
    return list(best.items())


def bm25_candidates(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    """Top-n rows by BM25 score, zero scores dropped (a passage sharing no term is no match)."""
    import numpy as np

    if allowed is not None:
        masked = np.zeros_like(scores)
        masked[allowed] = scores[allowed]
        scores = masked
    if n <= 0 or not len(scores):
        return []
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(row), float(scores[row])) for row in top if scores[row] > 0]


class Searcher:
    """A loaded index, ready to answer: holds chunks, the FAISS index, BM25 arrays and the query encoder."""

    def __init__(
        self,
        chunks: ChunkStore,
        dense_index: Any,
        lexical: LexicalIndex,
        encoder: QueryEncoder | None,
        manifest: dict[str, Any],
        lines: tuple[Any, np.ndarray] | None = None,
        tokens: TokenVectors | None = None,
        speller: Speller | None = None,
        line_vectors: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.lines = lines
        self.line_vectors = line_vectors
        """Every line vector (memory-mapped) and, per passage, where its lines start: what the
        rerank reads its candidates' best line cosine from."""
        self.tokens = tokens
        self.speller = speller
        self.chunks = chunks
        self.dense_index = dense_index
        self.lexical = lexical
        self.encoder = encoder
        self.manifest = manifest
        self.files = chunks.files

    @property
    def model_name(self) -> str:
        return str(self.manifest.get("model", {}).get("name", "?"))

    @classmethod
    def load(cls, index_dir: Path, encoder: QueryEncoder | None = None, *, model: str | None = None) -> Searcher:
        """Open the current index. The query encoder is the index's ONNX export when it has one,
        else sentence-transformers for the manifest's model (slower to start, same vectors)."""
        generation = require_index(index_dir)
        try:
            return cls._open(generation, encoder, model)
        except IndexCorrupt:
            # A build may have replaced this generation while it was being read: open the new one.
            if current_generation(index_dir) in (None, generation):
                raise
            return cls._open(require_index(index_dir), encoder, model)

    @classmethod
    def _open(cls, generation: Path, encoder: QueryEncoder | None, model: str | None) -> Searcher:
        """Load one generation, checking that its parts agree; only plain data is read (no pickle)."""
        import faiss

        from assistant.lexical import LexicalIndex

        # One question at a time: a single thread beats two for flat search (6.9 vs 9.7 ms at 100K).
        faiss.omp_set_num_threads(1)
        manifest = read_manifest(generation)
        chunks = ChunkStore.open(generation, manifest)
        try:
            dense_index = _for_queries(faiss.read_index(str(generation / "dense.faiss")))
        except RuntimeError as exc:
            raise IndexCorrupt(
                f"the dense index {generation / 'dense.faiss'} is truncated or corrupt", "run `notes index --rebuild`"
            ) from exc
        try:
            lexical = LexicalIndex(generation / "bm25")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorrupt(
                f"BM25 index unreadable: {generation / 'bm25'}: {exc}", "run `notes index --rebuild`"
            ) from exc
        if (
            dense_index.ntotal != len(chunks)
            or lexical.num_docs != len(chunks)
            or manifest.get("chunk_count", len(chunks)) != len(chunks)
        ):
            raise IndexCorrupt(
                f"index in {generation} disagrees with itself: {len(chunks)} chunks, "
                f"{dense_index.ntotal} vectors, {lexical.num_docs} BM25 documents",
                "run `notes index --rebuild`",
            )
        if dense_index.ntotal and dense_index.d != manifest["model"]["dimension"]:
            raise IndexCorrupt(
                f"index in {generation} holds {dense_index.d}-d vectors but its manifest says "
                f"{manifest['model']['dimension']}-d ({manifest['model']['name']})",
                "run `notes index --rebuild`",
            )
        lines = _load_lines(generation, len(chunks))
        tokens = _load_tokens(generation, len(chunks), dense_index.d)
        # Only the token rerank reads line vectors: an index without token vectors never opens them.
        line_vectors = None
        if lines is not None and tokens is not None:
            line_vectors = _load_line_vectors(generation, lines[1], len(chunks), dense_index.d)
        if encoder is None:
            encoder = _default_encoder(generation, model or str(manifest["model"]["name"]))
        speller = _load_speller(generation, encoder)
        return cls(chunks, dense_index, lexical, encoder, manifest, lines, tokens, speller, line_vectors)

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

    def search(self, query: str, *, k: int = 5, mode: str = "hybrid", file_glob: str | None = None) -> SearchResponse:
        started = time.perf_counter()
        if mode not in MODES:
            raise UsageProblem(f"unknown mode {mode!r}", f"use one of {', '.join(MODES)}")
        if k < 1:
            raise UsageProblem(f"-k must be at least 1, not {k}")
        searched = self._searched(query)
        allowed = self.allowed_rows(file_glob)
        if allowed is not None and len(allowed) == 0:
            raise UsageProblem(f"no notes match --file {file_glob!r}", f"files: {', '.join(self.files[:5])}")
        lists, vector, query_tokens = self._candidate_lists(searched, mode, max(CANDIDATES, k), allowed)
        ranked = fuse_rrf(list(lists.values())) if len(lists) > 1 else lists[mode]
        if vector is not None and query_tokens is not None and self.tokens is not None:
            final = self.rerank(ranked, vector, query_tokens)
        else:
            final = [(row, score, None) for row, score in ranked]
        positions = {name: {row: rank for rank, (row, _s) in enumerate(items, 1)} for name, items in lists.items()}
        own = {name: dict(items) for name, items in lists.items()}
        placed = {row: (place, score, fused_rank) for place, (row, score, fused_rank) in enumerate(final)}
        hits = []
        for rank, group in enumerate(join_neighbours(final, self.chunks, k), 1):
            row = min(group, key=lambda member: placed[member][0])  # the best-ranked piece leads
            _place, score, fused_rank = placed[row]
            chunk = self.chunks[row] if len(group) == 1 else join_pieces([self.chunks[m] for m in group])
            hits.append(
                Hit(
                    rank,
                    score,
                    chunk,
                    {name: positions[name].get(row) for name in lists},
                    {name: own[name].get(row) for name in lists},
                    fused_rank,
                    len(group),
                )
            )
        return SearchResponse(query, searched, mode, hits, time.perf_counter() - started)

    def _searched(self, query: str) -> str:
        """What is actually searched for a question: whitespace and control characters tidied, typos
        corrected to the notes' words."""
        searched = normalise_query(query)
        if not searched:
            raise UsageProblem("the question is empty", "type a few words")
        if self.speller is not None:
            # A correction can lengthen the question ("memor" cut by the cap → "memory"): cap it again.
            searched = self.speller.correct(searched)[:MAX_QUERY_CHARS]
        return searched

    def _candidate_lists(
        self,
        searched: str,
        mode: str,
        depth: int,
        allowed: np.ndarray | None,
        bm25_scores: np.ndarray | None = None,
    ) -> tuple[dict[str, list[tuple[int, float]]], np.ndarray | None, np.ndarray | None]:
        """The mode's ranked candidate lists, with the question's vector and (hybrid, when the index
        has token vectors) its token vectors, from one pass of the model. `bm25_scores`: every
        passage's BM25 score for the question, when the caller has them already."""
        lists: dict[str, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "bm25"):
            if bm25_scores is None:
                bm25_scores = self.lexical.scores(searched)
            lists["bm25"] = bm25_candidates(bm25_scores, depth, allowed)
        vector = query_tokens = None
        if mode in ("hybrid", "dense"):
            if mode == "hybrid" and self.tokens is not None:
                vector, query_tokens = self.embed_query_with_tokens(searched)
            else:
                vector = self.embed_query(searched)
            lists["dense"] = dense_candidates(self.dense_index, vector, depth, allowed)
            if self.lines is not None:
                lists["lines"] = line_candidates(self.lines[0], self.lines[1], vector, depth, allowed)
        return lists, vector, query_tokens

    def rerank_signals(self, query: str) -> RerankSignals | None:
        """What the hybrid rerank could weigh for a question's fused top `RERANK_DEPTH`, each signal
        one value per candidate (None when the index has no token vectors, so nothing is reranked).
        Only `notes eval --ceiling` reads these: search itself weighs MaxSim and the best line."""
        import numpy as np

        searched = self._searched(query)
        bm25 = self.lexical.scores(searched)
        lists, vector, query_tokens = self._candidate_lists(searched, "hybrid", CANDIDATES, None, bm25)
        if vector is None or query_tokens is None or self.tokens is None:
            return None
        ranked = fuse_rrf(list(lists.values()))
        head = [row for row, _score in ranked[:RERANK_DEPTH]]
        signals = {
            "maxsim": list(self.tokens.maxsim(query_tokens, head)),
            "passage cosine": [float(self.dense_index.reconstruct(row) @ vector) for row in head],
            "bm25": [float(bm25[row]) for row in head],
            "fused rank": [-float(np.log(rank)) for rank in range(1, len(head) + 1)],
        }
        best_lines = self.best_line_scores(ranked, vector)
        if best_lines is not None:
            signals["best line"] = best_lines
        return RerankSignals(ranked, signals)

    def rerank(
        self, ranked: Sequence[tuple[int, float]], vector: np.ndarray, query_tokens: np.ndarray
    ) -> list[tuple[int, float, int | None]]:
        """The token rerank of a fused ranking, with the head's best line cosines when the index has
        line vectors (the fused order itself when it has no token vectors)."""
        if self.tokens is None:
            return [(row, score, None) for row, score in ranked]
        return rerank_by_tokens(ranked, query_tokens, self.tokens, line_scores=self.best_line_scores(ranked, vector))

    def best_line_scores(self, ranked: Sequence[tuple[int, float]], vector: np.ndarray) -> list[float] | None:
        """For each of the top `RERANK_DEPTH` rows, the cosine of its best-matching line (a passage
        without lines gets the others' mean, which is neutral after z-scoring)."""
        if self.line_vectors is None:
            return None
        vectors, starts = self.line_vectors
        best: list[float | None] = []
        for row, _score in ranked[:RERANK_DEPTH]:
            start, end = int(starts[row]), int(starts[row + 1])
            best.append(float((vectors[start:end] @ vector).max()) if end > start else None)
        known = [score for score in best if score is not None]
        fill = sum(known) / len(known) if known else 0.0
        return [fill if score is None else score for score in best]

    def embed_query(self, query: str) -> np.ndarray:
        if self.encoder is None:
            raise IndexCorrupt("no query encoder available", "run `notes index --rebuild`")
        return self.encoder.encode([query])[0]

    def embed_query_with_tokens(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The question's vector and, when the encoder can give them, its token vectors (one pass)."""
        with_tokens = getattr(self.encoder, "encode_with_tokens", None)
        if with_tokens is None:
            return self.embed_query(query), None
        vectors, tokens = with_tokens([query])
        return vectors[0], tokens[0]


def _load_lines(generation: Path, chunk_count: int) -> tuple[Any, np.ndarray] | None:
    """The per-line FAISS index and its line → chunk map, when the index has them."""
    import faiss
    import numpy as np

    path = generation / "lines.faiss"
    if not path.exists():
        return None
    try:
        index = _for_queries(faiss.read_index(str(path)))
        owner = np.load(generation / "line_owner.npy", allow_pickle=False)
    except (RuntimeError, OSError, ValueError) as exc:
        raise IndexCorrupt(f"line index unreadable in {generation}: {exc}", "run `notes index --rebuild`") from exc
    if index.ntotal != len(owner) or (len(owner) and (owner.min() < 0 or owner.max() >= chunk_count)):
        raise IndexCorrupt(f"line index in {generation} disagrees with the chunks", "run `notes index --rebuild`")
    return index, owner


def _load_line_vectors(
    generation: Path, owner: np.ndarray, chunk_count: int, dimension: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The line vectors, memory-mapped, and where each passage's lines start (lines are stored in
    passage order), when the index keeps them."""
    import numpy as np

    path = generation / "line_vectors.npy"
    if not path.exists():
        return None
    try:
        vectors = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"line vectors unreadable: {path}: {exc}", "run `notes index --rebuild`") from exc
    if vectors.ndim != 2 or len(vectors) != len(owner) or vectors.shape[1] != dimension or vectors.dtype.kind != "f":
        raise IndexCorrupt(f"line vectors in {generation} disagree with the line index", "run `notes index --rebuild`")
    if len(owner) and bool(np.any(np.diff(owner) < 0)):
        return None  # not in passage order (never written so): rerank without them
    starts = np.searchsorted(owner, np.arange(chunk_count + 1), side="left")
    return vectors, starts


def _load_tokens(generation: Path, chunk_count: int, dimension: int) -> TokenVectors | None:
    """The passages' token vectors, when the index has them (a large one has none)."""
    directory = generation / TOKENS_DIRECTORY
    if not directory.exists():
        return None
    try:
        return TokenVectors.load(directory, chunk_count, dimension)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"token vectors unreadable in {generation}: {exc}", "run `notes index --rebuild`") from exc


def _load_speller(generation: Path, encoder: Any) -> Speller | None:
    """The notes' word counts, for correcting a question's typos (an index may predate them)."""
    path = generation / WORDS_FILE
    if not path.exists():
        return None
    try:
        return Speller.load(path, getattr(encoder, "knows_word", None))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"word list unreadable: {path}: {exc}", "run `notes index --rebuild`") from exc


def _for_queries(index: Any) -> Any:
    """An HNSW index searches as deep as HNSW_EF_SEARCH, whatever it was saved with."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = max(index.hnsw.efSearch, HNSW_EF_SEARCH)
    return index


def normalise_query(query: str) -> str:
    """Collapse whitespace, drop control characters, cap the length."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in query)
    return " ".join(cleaned.split())[:MAX_QUERY_CHARS]


class _SentenceTransformerQueries:
    def __init__(self, model: str) -> None:
        from assistant.embed import SentenceTransformerEmbedder

        self.embedder = SentenceTransformerEmbedder(model)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_queries(texts)


def _default_encoder(generation: Path, model: str) -> QueryEncoder:
    from assistant.onnx_encoder import OnnxQueryEncoder, onnx_encoder_available

    if onnx_encoder_available(generation / "encoder"):
        try:
            # One short question: a single thread is about twice as fast as two (no hand-off cost).
            return OnnxQueryEncoder(generation / "encoder", threads=1)
        except (OSError, ValueError):
            pass
    return _SentenceTransformerQueries(model)
