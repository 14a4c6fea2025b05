# ruff: noqa: E402  (a measuring script: imports follow the set-up they depend on)
"""Side by side in one run: ways to embed the notes, against sentence-transformers' float vectors.

Agreement (cosine) over every passage and 1,500 lines of the shipped notes, and wall time on 2 cores
(one single-threaded session per core) for the passages and the lines. Usage, from the repository:
    .venv/bin/python docs/measure/embedding_variants.py index     # an index built by `notes index`
(docs/reproducibility.md, section 1)."""

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.machine import summary
from assistant.model.embed import OnnxEmbedder
from assistant.model.onnx_encoder import META_FILE, OnnxEncoder, _load_meta
from assistant.notes.chunk import line_units
from assistant.store.chunk_store import read_chunks
from assistant.store.generation import current_generation

gen = current_generation(Path(sys.argv[1]))
chunks = read_chunks(gen)
passages = [c.embedding_text for c in chunks]
lines = [u for c in chunks for u in line_units(c)][:1500]
enc_dir = gen / "encoder"
import tempfile

out = Path(tempfile.mkdtemp(prefix="variants-"))
import logging

logging.disable(logging.WARNING)
from onnxruntime.quantization import QuantType, quantize_dynamic

meta = _load_meta(enc_dir / META_FILE)
made = {}
for name, kw in {
    "int8 u8s8 (used until issue 18)": dict(weight_type=QuantType.QInt8),
    "int8 u8s8, 7-bit weights (reduce_range)": dict(weight_type=QuantType.QInt8, reduce_range=True),
    "int8 u8u8": dict(weight_type=QuantType.QUInt8),
}.items():
    target = out / (str(abs(hash(name))) + ".onnx")
    quantize_dynamic(str(enc_dir / "encoder.onnx"), str(target), per_channel=True, **kw)
    made[name] = target


def alone(path, texts):
    encs = [
        OnnxEncoder._from_files({**meta, "onnx_bytes": path.stat().st_size}, path, enc_dir / "tokenizer.json", 1)
        for _ in range(2)
    ]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    shares = [order[0::2], order[1::2]]
    vec = np.zeros((len(texts), 384), np.float32)
    t = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        rs = list(
            pool.map(lambda a: a[0].encode([texts[i] for i in a[1]], batch_size=1), zip(encs, shares, strict=True))
        )
    dt = time.perf_counter() - t
    for s, r in zip(shares, rs, strict=True):
        vec[s] = r
    return vec, dt


emb = OnnxEmbedder("m", enc_dir, SimpleNamespace(max_tokens=256, dimension=384, count_tokens=len))


def grouped(texts):
    t = time.perf_counter()
    v = emb.embed_documents(texts)
    return v, time.perf_counter() - t


from sentence_transformers import SentenceTransformer

from assistant.config import resolve_model_path

st = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
t = time.perf_counter()
ref_p = st.encode(passages, normalize_embeddings=True, batch_size=32)
st_p = time.perf_counter() - t
t = time.perf_counter()
ref_l = st.encode(lines, normalize_embeddings=True, batch_size=32)
st_l = time.perf_counter() - t
print(f"{len(passages)} passages, {len(lines)} lines; {summary()}")
print(
    "| how notes are embedded | passages: min / mean cosine to sentence-transformers"
    " | lines: min / mean | passages s | lines s |"
)
print("|---|---|---|---|---|")
rows = [
    ("float32 export, texts of one length per pass (in use)", lambda t: grouped(t)),
    ("float32 export, one text per pass", lambda t: alone(enc_dir / "encoder.onnx", t)),
]
rows += [(name, (lambda p: lambda t: alone(p, t))(path)) for name, path in made.items()]
for name, fn in rows:
    vp, tp = fn(passages)
    vl, tl = fn(lines)
    cp = (vp * ref_p).sum(1)
    cl = (vl * ref_l).sum(1)
    print(
        f"| {name} | {cp.min():.5f} / {cp.mean():.5f} | {cl.min():.5f} / {cl.mean():.5f} | {tp:.1f} | {tl:.1f} |",
        flush=True,
    )
print(f"| sentence-transformers on torch, batches of 32 (the reference) | 1 | 1 | {st_p:.1f} | {st_l:.1f} |")
