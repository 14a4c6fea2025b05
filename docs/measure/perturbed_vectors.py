"""How much would the eval move if every vector differed by what another CPU's float kernels change?

    .venv/bin/python docs/measure/perturbed_vectors.py index evals/questions.jsonl corpus
(docs/reproducibility.md, section 1; the index is only read)."""

import dataclasses
import sys
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from common import searcher_with_raw_tokens, use_token_vectors

from assistant.evaluate.run import load_questions, run_eval

index_dir, set_path, corpus = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
searcher, gen, _texts, raw = searcher_with_raw_tokens(index_dir)
P = np.load(gen / "vectors.npy")
L = np.load(gen / "line_vectors.npy")
owner = searcher.index.lines[1]
proj = searcher.index.tokens.projection
questions = load_questions(set_path, corpus)
rng = np.random.default_rng(0)


def noisy(a, eps):
    b = a + eps * rng.standard_normal(a.shape).astype(np.float32) * np.abs(a).mean()
    return (b / np.linalg.norm(b, axis=-1, keepdims=True)).astype(np.float32)


base = None
for eps in (0.0, 1e-6, 1e-5, 1e-4):
    p, lv = (P, L) if eps == 0 else (noisy(P, eps), noisy(L, eps))
    d = faiss.IndexFlatIP(p.shape[1])
    d.add(p)
    searcher.index = dataclasses.replace(searcher.index, dense_index=d)
    li = faiss.IndexFlatIP(lv.shape[1])
    li.add(lv)
    searcher.index = dataclasses.replace(searcher.index, lines=(li, owner))
    searcher.index = dataclasses.replace(searcher.index, line_vectors=(lv, searcher.index.line_vectors[1]))
    use_token_vectors(searcher, [r if eps == 0 else noisy(r, eps) for r in raw], proj)
    r = run_eval(searcher, questions, "hybrid")
    ranks = {q["id"]: (q["rank"], tuple(q["returned"])) for q in r.per_question}
    if base is None:
        base = ranks
    moved = sum(1 for k in ranks if ranks[k] != base[k])
    m = r.metrics
    print(
        f"eps {eps:g}: {m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['mrr@10']:.3f}; "
        f"questions whose top 5 or rank moved: {moved}",
        flush=True,
    )
