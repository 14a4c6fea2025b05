"""Which axes should the token vectors be projected on? Variants measured side by side on one index.

    .venv/bin/python docs/measure/projections.py index evals/questions.jsonl corpus
(docs/reproducibility.md, section 2; the index is only read, the variants are swapped in memory)."""

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from common import searcher_with_raw_tokens, use_token_vectors

from assistant.evaluate.run import load_questions, run_eval
from assistant.model.onnx_encoder import OnnxEncoder
from assistant.model.projection import PROJECTED_DIMENSION, fit_projection, model_projection, vocabulary_words
from assistant.store.vectors import text_key as _key


def projection_sample(keys, rows, size=256):
    """The notes-fitted sample used before issue 18: the rows whose text keys are lowest."""
    return sorted(sorted(rows, key=lambda row: keys[row])[:size])


index_dir, set_path, corpus = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
t = time.time()
searcher, gen, texts, raw = searcher_with_raw_tokens(index_dir)
print(f"{len(texts)} passages embedded with tokens in {time.time() - t:.1f}s", flush=True)
keys = [_key(x) for x in texts]
enc = OnnxEncoder(gen / "encoder", threads=1)
words = vocabulary_words(enc.vocabulary())  # the 12,000 words the export fits its projection on
rng = random.Random(0)
seqs = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(500)]


def seq_tokens():
    return enc.encode_with_tokens(seqs, batch_size=32)[1]


q = np.linalg.qr(np.random.default_rng(0).standard_normal((384, 384)))[0][:, :PROJECTED_DIMENSION].astype(np.float32)
variants = {
    "notes: 256 lowest-hash passages (before issue 18)": lambda: fit_projection(
        [raw[i] for i in projection_sample(keys, range(len(texts)))], 384
    ),
    "notes: 256 highest-hash passages": lambda: fit_projection(
        [raw[i] for i in sorted(range(len(texts)), key=lambda r: keys[r])[-256:]], 384
    ),
    "notes: every passage": lambda: fit_projection(raw, 384),
    "model: 12,000 vocabulary words, each alone (in use)": lambda: model_projection(enc.encode_with_tokens, words, 384),
    "model: 500 seeded word sequences": lambda: fit_projection(seq_tokens(), 384),
    "random orthogonal (seeded)": lambda: q,
}
questions = load_questions(set_path, corpus)
for name, make in variants.items():
    proj = make()
    use_token_vectors(searcher, raw, proj)
    m = run_eval(searcher, questions, "hybrid").metrics
    print(f"| {name} | {m['hit@1']:.3f} | {m['hit@3']:.3f} | {m['hit@5']:.3f} | {m['mrr@10']:.3f} |", flush=True)
