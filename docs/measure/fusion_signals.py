"""Gather, once per question, every signal a fusion or rerank variant could weigh, so that variants are
scored in-process without the model (`fusion_variants.py`; docs/retrieval-experiments.md, "Quality
on other authors' notes").

    .venv/bin/python docs/measure/fusion_signals.py gather CORPUS INDEX SET OUT.json

For each question: the three candidate lists as search makes them (depth 50), four more lists for
trying (BM25 over each passage's heading path alone and over its nearest heading alone, and the
cosine of the question to the embedded heading path and nearest heading), and for every row in their
union the `FEATURES`: MaxSim over all its tokens, its text's and its context's; its token count;
its best and second-best line cosine; its passage cosine; its BM25 score; the heading cosines;
MaxSim of one line at a time (with the context, without, over three lines); MaxSim without the
tokens of link addresses, images, Markdown markup or [UNK]; and each question token's best cosine
(over all tokens, the text's and the context's), for per-token variants.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.evaluate.metrics import METRICS, Span, question_metrics, relevance
from assistant.evaluate.run import DEPTH, load_questions
from assistant.model.projection import project
from assistant.retrieve.fuse import join_neighbours
from assistant.retrieve.search import CANDIDATES, Searcher


def gather(corpus: Path, index: Path, set_path: Path, out: Path) -> None:
    searcher = Searcher.load(index)
    questions = load_questions(set_path, corpus)
    chunks = searcher.chunks
    n = len(chunks)
    dense = searcher.index.dense_index.reconstruct_n(0, n)
    paths = [" > ".join(chunks[i].heading_path) or chunks[i].context for i in range(n)]
    nearest = [chunks[i].heading_path[-1] if chunks[i].heading_path else chunks[i].context for i in range(n)]
    unique = sorted(set(paths) | set(nearest))
    encoded = searcher.encoder.encode(unique)
    where = {text: i for i, text in enumerate(unique)}
    path_vectors = encoded[[where[p] for p in paths]]
    nearest_vectors = encoded[[where[p] for p in nearest]]
    vectors, starts = searcher.index.line_vectors
    import bm25s

    from assistant.store.lexical import tokenize

    heading_bm25 = {}
    for name, texts in (("hpath", paths), ("hnear", nearest)):
        retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        retriever.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
        heading_bm25[name] = retriever
    offsets = searcher.encoder.token_offsets([chunks[i].embedding_text for i in range(n)])
    masks = {name: [] for name in MASKS}
    for i in range(n):
        text = chunks[i].embedding_text
        for name, pattern in MASKS.items():
            spans = [m.span(m.lastindex or 0) for m in pattern.finditer(text)]
            masks[name].append(np.array([not any(a <= s0 and e0 <= b for a, b in spans) for s0, e0 in offsets[i]]))
    tokenizer = searcher.encoder._tokenizer
    unk = tokenizer.token_to_id("[UNK]")
    masks["nounk"] = []
    for encoding in tokenizer.encode_batch([chunks[i].embedding_text for i in range(n)]):
        kept = zip(encoding.ids, encoding.attention_mask, encoding.special_tokens_mask, strict=True)
        masks["nounk"].append(np.array([token != unk for token, mask, special in kept if mask and not special]))
    records = []
    for question in questions:
        searched = searcher.searched_for(question.question)
        bm25 = searcher.index.lexical.scores(searched)
        lists, vector, tokens = searcher.candidate_lists(searched, "hybrid", CANDIDATES, None, bm25)
        projected = project(tokens, searcher.index.tokens.projection)
        terms = tokenize(searched)
        for name, retriever in heading_bm25.items():
            scores = retriever.get_scores(terms) if terms else np.zeros(n)
            top = np.argsort(-scores, kind="stable")[:CANDIDATES]
            lists[name] = [(int(r), float(scores[r])) for r in top if scores[r] > 0]
        for name, matrix in (("dpath", path_vectors), ("dnear", nearest_vectors)):
            scores = matrix @ vector
            top = np.argsort(-scores, kind="stable")[:CANDIDATES]
            lists[name] = [(int(r), float(scores[r])) for r in top]
        rows = sorted({row for items in lists.values() for row, _ in items})
        matrices = searcher.index.tokens.similarities(projected, rows)
        feats = {}
        tokmax = {}
        for row, matrix in zip(rows, matrices, strict=True):
            tokmax[row] = [
                round(float(x), 4) for x in (matrix.max(axis=1) if matrix.size else np.zeros(len(projected)))
            ]
            owner_ = np.asarray(searcher.index.tokens.passage(row).lines)
            for part, keep in (("body", owner_ >= 0), ("ctx", owner_ < 0)):
                sub = matrix[:, keep]
                tokmax.setdefault(part, {})[row] = [
                    round(float(x), 4) for x in (sub.max(axis=1) if sub.size else np.full(len(projected), -1.0))
                ]
            owner = np.asarray(searcher.index.tokens.passage(row).lines)
            body, ctx = matrix[:, owner >= 0], matrix[:, owner < 0]
            start, end = int(starts[row]), int(starts[row + 1])
            line_scores = vectors[start:end] @ vector if end > start else np.zeros(0)
            feats[row] = [
                float(matrix.max(axis=1).mean()) if matrix.size else 0.0,
                float(body.max(axis=1).mean()) if body.size else 0.0,
                float(ctx.max(axis=1).mean()) if ctx.size else 0.0,
                float(matrix.shape[1]),
                float(line_scores.max()) if len(line_scores) else np.nan,
                float(dense[row] @ vector),
                float(bm25[row]),
                float(path_vectors[row] @ vector),
                float(nearest_vectors[row] @ vector),
                float(np.sort(line_scores)[-2]) if len(line_scores) > 1 else np.nan,
                *_line_maxsims(matrix, owner),
                *(_masked(matrix, masks[name][row]) for name in (*MASKS, "nounk")),
            ]
        records.append(
            {
                "id": question.id,
                "kind": question.kind,
                "gold": [[g.file, g.start_line, g.end_line] for g in question.gold],
                "lists": {name: [int(r) for r, _ in items] for name, items in lists.items()},
                "rows": rows,
                "feats": [feats[r] for r in rows],
                "tokmax": [tokmax[r] for r in rows],
                "tokmax_body": [tokmax["body"][r] for r in rows],
                "tokmax_ctx": [tokmax["ctx"][r] for r in rows],
            }
        )
    out.write_text(json.dumps(records), encoding="utf-8")


FEATURES = (
    "maxsim",
    "maxsim_body",
    "maxsim_ctx",
    "tokens",
    "line",
    "passage",
    "bm25",
    "path",
    "nearest",
    "line2",
    "lms_ctx",
    "lms",
    "lms_win",
    "ms_noaddr",
    "ms_noimg",
    "ms_nomark",
    "ms_nounk",
)

MASKS = {
    "noaddr": re.compile(r"\]\(([^)]*)\)|(\b\w+://\S+)"),
    "noimg": re.compile(r"!\[[^\]]*\]\([^)]*\)"),
    "nomark": re.compile(r"[|*_#`>\[\]()!~=-]+"),
}


def _masked(matrix: np.ndarray, keep: np.ndarray) -> float:
    if len(keep) != matrix.shape[1]:
        keep = np.ones(matrix.shape[1], dtype=bool)
    sub = matrix[:, keep]
    return float(sub.max(axis=1).mean()) if sub.size else 0.0


def _line_maxsims(matrix: np.ndarray, owner: np.ndarray) -> list[float]:
    """MaxSim of the question against one line of the passage at a time (with the context's tokens,
    without them, and over a window of three lines with them), the best line's."""
    if not matrix.size or not (owner >= 0).any():
        return [np.nan, np.nan, np.nan]
    ctx = matrix[:, owner < 0].max(axis=1) if (owner < 0).any() else np.full(matrix.shape[0], -1.0)
    lines = sorted(set(owner[owner >= 0].tolist()))
    per = {line: matrix[:, owner == line].max(axis=1) for line in lines}
    with_ctx = max(float(np.maximum(ctx, per[line]).mean()) for line in lines)
    alone = max(float(per[line].mean()) for line in lines)
    window = max(
        float(np.maximum.reduce([ctx, *(per[x] for x in (line - 1, line, line + 1) if x in per)]).mean())
        for line in lines
    )
    return [with_ctx, alone, window]


class Set:
    """A gathered set, opened with its index's chunks for joining and spans."""

    def __init__(self, index: Path, gathered: Path) -> None:
        self.searcher = Searcher.load(index)
        self.chunks = self.searcher.chunks
        self.records = json.loads(gathered.read_text(encoding="utf-8"))
        for record in self.records:
            record["gold"] = [Span(*g) for g in record["gold"]]
            record["f"] = {
                name: dict(zip(record["rows"], (f[i] for f in record["feats"]), strict=True))
                for i, name in enumerate(FEATURES)
            }

    def evaluate(self, rank_fn, kinds=None):
        """rank_fn(record) → ordered rows (the final ranking); metrics as `notes eval` computes them."""
        totals = {name: 0.0 for name in METRICS}
        per = []
        count = 0
        for record in self.records:
            if kinds and record["kind"] not in kinds:
                continue
            final = [(row, 0.0, None) for row in rank_fn(record)]
            spans = []
            for group in join_neighbours(final, self.chunks, DEPTH):
                pieces = [self.chunks[row] for row in group]
                spans.append(Span(pieces[0].file, min(p.start_line for p in pieces), max(p.end_line for p in pieces)))
            metrics = question_metrics(relevance(spans, record["gold"]), len(record["gold"]))
            per.append((record["id"], metrics))
            for name in METRICS:
                totals[name] += metrics[name]
            count += 1
        return {name: totals[name] / count for name in METRICS}, per


if __name__ == "__main__":
    if sys.argv[1] == "gather":
        gather(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
