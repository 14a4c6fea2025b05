"""Score fusion and rerank variants on both eval sets from what `fusion_signals.py gather` saved
(docs/retrieval-experiments.md, "Quality on other authors' notes").

    .venv/bin/python docs/measure/fusion_signals.py gather corpus IX/corpus evals/questions.jsonl /tmp/corpus.json
    .venv/bin/python docs/measure/fusion_signals.py gather ../shared/testdata/aws-notes-external IX/external \\
        evals/external-questions.jsonl /tmp/ext.json
    .venv/bin/python docs/measure/fusion_variants.py IX/corpus /tmp/corpus.json IX/external /tmp/ext.json

Each line: hybrid Hit@1 / Hit@5 / MRR@10 on `corpus/`, then on the held-out notes. "base" must
equal `notes eval`'s hybrid row (it does: the rerank is z(MaxSim) + 0.2 z(best line) among the
fused top 30).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fusion_signals import Set

BASE = ("bm25", "dense", "lines")


def rrf(record, k=10, weights=None, names=BASE):
    totals = {}
    for name in names:
        weight = (weights or {}).get(name, 1.0)
        for rank, row in enumerate(record["lists"][name], 1):
            totals[row] = totals.get(row, 0.0) + weight / (k + rank)
    return sorted(totals.items(), key=lambda item: -item[1])


def z(values):
    values = np.asarray(values, float)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def feature(record, name, rows):
    values = np.array([record["f"][name][row] for row in rows], float)
    if np.isnan(values).any():
        fill = np.nanmean(values) if (~np.isnan(values)).any() else 0.0
        values = np.where(np.isnan(values), fill, values)
    return values


def token_maxima(record, key, rows):
    return np.stack([np.array(record[key][record["rows"].index(row)]) for row in rows])


def reranked(score, depth=30, k=10, weights=None, names=BASE):
    """A ranking: the fused head ordered by score(record, head, fused) (ties: fused order), then the tail."""

    def rank(record):
        fused = rrf(record, k, weights, names)
        head = [row for row, _ in fused[:depth]]
        values = score(record, head, fused)
        order = sorted(range(len(head)), key=lambda i: (-values[i], i))
        return [head[i] for i in order] + [row for row, _ in fused[depth:]]

    return rank


def linear(weights):
    """Sum of weight * z(signal); "fused" is -log(fused rank), "rrf" the RRF score, "logtok" log(tokens)."""

    def score(record, head, fused):
        total = np.zeros(len(head))
        for name, weight in weights.items():
            if name == "fused":
                values = -np.log(np.arange(1, len(head) + 1))
            elif name == "rrf":
                values = np.array([s for _, s in fused[: len(head)]])
            elif name == "logtok":
                values = np.log(feature(record, "tokens", head))
            else:
                values = feature(record, name, head)
            total += weight * z(values)
        return total

    return score


def in_use(record, head, fused):
    return linear({"maxsim": 1, "line": 0.2})(record, head, fused)


def rank_fused(k, weight):
    """The rerank's order and the fused order, fused again by RRF (the rerank moves a passage less far)."""

    def score(record, head, fused):
        values = in_use(record, head, fused)
        order = sorted(range(len(head)), key=lambda i: (-values[i], i))
        place = {i: p for p, i in enumerate(order, 1)}
        return np.array([1 / (k + place[i]) + weight / (k + i + 1) - 1e-9 * place[i] for i in range(len(head))])

    return score


def per_token(kind):
    """MaxSim pooled differently over the question's tokens."""

    def score(record, head, fused):
        maxima = token_maxima(record, "tokmax", head)
        if kind == "spread-weighted":
            spread = maxima.std(axis=0)
            pooled = (maxima * (spread / spread.sum())).sum(axis=1) if spread.sum() else maxima.mean(axis=1)
        elif kind == "z-per-token":
            pooled = ((maxima - maxima.mean(axis=0)) / (maxima.std(axis=0) + 1e-6)).mean(axis=1)
        else:
            pooled = np.sort(maxima, axis=1)[:, : max(1, maxima.shape[1] // 3)].mean(axis=1)
        return z(pooled) + 0.2 * z(feature(record, "line", head))

    return score


def context_discount(alpha):
    """MaxSim where a question token's best match in the heading context counts alpha times."""

    def score(record, head, fused):
        body, context = token_maxima(record, "tokmax_body", head), token_maxima(record, "tokmax_ctx", head)
        return z(np.maximum(body, alpha * context).mean(axis=1)) + 0.2 * z(feature(record, "line", head))

    return score


def group_mass(sets_chunks, level, weight):
    """In-use score plus the fused RRF mass of the other candidates of the same note (level 0) or the
    same first `level` headings."""

    def score(record, head, fused):
        chunks = sets_chunks[id(record)]

        def group(row):
            chunk = chunks[row]
            return (chunk.file,) if level == 0 else (chunk.file, chunk.heading_path[:level])

        mass = {}
        for row, value in fused[:50]:
            mass[group(row)] = mass.get(group(row), 0.0) + value
        own = dict(fused)
        return in_use(record, head, fused) + weight * z([mass[group(row)] - own[row] for row in head])

    return score


def main(corpus_index, corpus_json, external_index, external_json):
    sets = (Set(Path(corpus_index), Path(corpus_json)), Set(Path(external_index), Path(external_json)))
    chunks_of = {id(record): s.chunks for s in sets for record in s.records}

    def show(label, ranking):
        cells = []
        for s in sets:
            metrics, _ = s.evaluate(ranking)
            cells.append(f"{metrics['hit@1']:.3f} / {metrics['hit@5']:.3f} / {metrics['mrr@10']:.3f}")
        print(f"{label:55s} here {cells[0]}   held-out {cells[1]}", flush=True)

    show("base (in use)", reranked(in_use))
    show("fused order, no rerank", reranked(linear({"fused": 1})))
    for name in ("maxsim", "line", "passage", "bm25", "path", "nearest", "lms_ctx", "lms_win"):
        show(f"{name} alone", reranked(linear({name: 1})))
    for name in ("lms_ctx", "lms", "lms_win", "path", "nearest", "fused", "rrf", "logtok"):
        for weight in (0.05, 0.1, 0.2, 0.3):
            show(f"in use + {weight} {name}", reranked(linear({"maxsim": 1, "line": 0.2, name: weight})))
    for name in ("ms_noaddr", "ms_noimg", "ms_nomark", "ms_nounk"):
        show(f"{name} in place of maxsim", reranked(linear({name: 1, "line": 0.2})))
    for kind in ("spread-weighted", "z-per-token", "lowest third"):
        show(f"MaxSim pooled: {kind}", reranked(per_token(kind)))
    for alpha in (0.9, 0.95, 1.05, 1.1):
        show(f"context matches x {alpha}", reranked(context_discount(alpha)))
    for k in (1, 3, 10, 30):
        for weight in (0.2, 0.35, 0.5):
            show(f"rerank order RRF-fused with fused order, k={k} w={weight}", reranked(rank_fused(k, weight)))
    for extra in ("hpath", "hnear", "dpath", "dnear"):
        for weight in (0.25, 0.5, 1.0):
            show(
                f"fourth list {extra} at {weight}",
                reranked(in_use, weights={extra: weight}, names=(*BASE, extra)),
            )
    for k in (5, 20, 60):
        show(f"RRF k={k}", reranked(in_use, k=k))
    for name in BASE:
        for weight in (0.5, 1.5):
            show(f"RRF {name} weight {weight}", reranked(in_use, weights={name: weight}))
    for level in (0, 1, 2, 3):
        for weight in (0.1, 0.2):
            show(f"note/section mass, level {level}, {weight}", reranked(group_mass(chunks_of, level, weight)))


if __name__ == "__main__":
    main(*sys.argv[1:5])
