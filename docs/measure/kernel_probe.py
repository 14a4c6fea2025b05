"""Vectors of a sample of the shipped notes as the build embeds them, saved to compare CPU kernels.

Run it natively and under valgrind (which has no AVX-512, so onnxruntime picks its AVX2 kernels):
    .venv/bin/python docs/measure/kernel_probe.py index native.npz
    valgrind --tool=none -q .venv/bin/python docs/measure/kernel_probe.py index avx2.npz   # ~1 hour
then compare the two files' `vectors` and `tokens` (docs/reproducibility.md, section 1)."""

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.model.embed import OnnxEmbedder
from assistant.notes.chunk import line_units
from assistant.store.chunk_store import read_chunks
from assistant.store.generation import current_generation

g = current_generation(Path(sys.argv[1]))
chunks = read_chunks(g)
texts = [c.embedding_text for c in chunks[::35]] + [u for c in chunks[::9] for u in line_units(c)][:100]
emb = OnnxEmbedder("m", g / "encoder", SimpleNamespace(max_tokens=256, dimension=384, count_tokens=len))
vectors, tokens = emb.embed_documents_with_tokens(texts)
np.savez(sys.argv[2], vectors=vectors, tokens=np.concatenate(tokens))
print(len(texts), "texts", file=sys.stderr)
