"""Per-token vectors of each passage, for a late-interaction (MaxSim) rerank of the top candidates.

Why: a passage vector is the mean of its tokens, so one sentence that answers a question is
averaged away among the others, and paraphrases ("walled off from other tenants" for "isolation")
match single words better than a whole passage. Scoring a candidate by, for each question token,
its best-matching passage token (ColBERT's MaxSim), then averaging, keeps those matches. The token
vectors are the same model's, from the same forward pass that makes the passage vector, so they
cost no extra model time at index time; at query time only the top `RERANK_DEPTH` fused candidates
are scored (well under a millisecond). Measured on the eval set: hybrid Hit@1 0.700 → 0.764.

Storage (`tokens/` in a generation, plain `.npy`, read memory-mapped):
- `projection.npy`: float32 [model dimension, `PROJECTED_DIMENSION`], the model's own projection
  (`model_projection`: the top principal axes of its vocabulary's token vectors, made with its ONNX
  export); token vectors are projected onto it and L2-normalised again;
- `codes.npy`: int8 [tokens, projected dimension], each vector scaled by its own largest magnitude
  to ±127; `scales.npy`: float32 [tokens], that scale;
- `offsets.npy`: int64 [chunks + 1], passage i owns rows offsets[i]:offsets[i+1];
- `lines.npy`: int16 [tokens], the line of the passage's text each token is on (-1: the heading
  context its embedded text starts with), for the answer lines' MaxSim per line (answer.py). Kept
  at index time from the tokenizer's offsets: finding it at query time meant tokenizing every
  shown passage again, half the answer's cost (docs/answer-lines.md).
Measured on the eval set, 128 projected int8 dimensions rerank as well as 384 float16 ones (Hit@1
0.766 vs 0.764) in a sixth of the bytes: about 130 bytes a token, 16 KB a passage (11 MB for the
shipped notes, 120 MB for the 7,769 passages of the 408 external notes). Indexes of more than
`TOKEN_VECTOR_LIMIT` passages keep none; search then keeps the fused order.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.model.projection import project

if TYPE_CHECKING:
    import numpy as np

TOKEN_VECTOR_LIMIT = 20_000
"""Passages above which an index stores no token vectors (about 330 MB of them at this size)."""
RERANK_DEPTH = 30
"""How many fused candidates the MaxSim rerank reorders."""
DIRECTORY = "tokens"


@dataclass(frozen=True)
class Quantized:
    """One passage's token vectors as int8 codes and per-row scales, and each token's text line."""

    codes: np.ndarray
    scales: np.ndarray
    lines: np.ndarray
    """int16: the line of the passage's text each token is on (-1: its context, or not known)."""

    def vectors(self) -> np.ndarray:
        """The token vectors as float32 again."""
        import numpy as np

        return np.asarray(self.codes, dtype=np.float32) * np.asarray(self.scales, dtype=np.float32)[:, None]


def quantize(tokens: np.ndarray, lines: Sequence[int] | None = None) -> Quantized:
    """L2-normalised float token vectors [n, d] → int8 codes and per-row scales (`lines`: each
    token's text line, from `token_lines`; all -1 when not given)."""
    import numpy as np

    tokens = np.asarray(tokens, dtype=np.float32)
    peak = np.abs(tokens).max(axis=1) if len(tokens) else np.zeros(0, dtype=np.float32)
    scales = np.maximum(peak, 1e-12) / 127.0
    codes = np.clip(np.rint(tokens / scales[:, None]), -127, 127).astype(np.int8)
    if lines is None or len(lines) != len(tokens):
        owners = np.full(len(tokens), -1, dtype=np.int16)
    else:
        owners = np.clip(np.asarray(lines, dtype=np.int64), -1, np.iinfo(np.int16).max).astype(np.int16)
    return Quantized(codes, scales.astype(np.float32), owners)


def token_lines(embedded: str, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """For each token of a passage's embedded text (`Chunk.embedding_text`: its context line, then
    its text), given its character offsets into that text: the line of the passage's text it is on,
    -1 for the context line."""
    starts = [0] + [i + 1 for i, char in enumerate(embedded) if char == "\n"]
    return [max(-1, bisect.bisect_right(starts, start) - 2) for start, _end in offsets]


def write_token_vectors(directory: Path, passages: Sequence[Quantized], projection: np.ndarray) -> None:
    import numpy as np

    dimension = projection.shape[1]
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "projection.npy", np.asarray(projection, dtype=np.float32), allow_pickle=False)
    lengths = [len(passage.codes) for passage in passages]
    offsets = np.zeros(len(passages) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    codes = np.concatenate([p.codes for p in passages]) if passages else np.zeros((0, dimension), dtype=np.int8)
    scales = np.concatenate([p.scales for p in passages]) if passages else np.zeros(0, dtype=np.float32)
    lines = np.concatenate([p.lines for p in passages]) if passages else np.zeros(0, dtype=np.int16)
    np.save(directory / "codes.npy", codes.astype(np.int8, copy=False), allow_pickle=False)
    np.save(directory / "lines.npy", lines.astype(np.int16, copy=False), allow_pickle=False)
    np.save(directory / "scales.npy", scales.astype(np.float32, copy=False), allow_pickle=False)
    np.save(directory / "offsets.npy", offsets, allow_pickle=False)


class TokenVectors:
    """A generation's token vectors, memory-mapped: a query touches only its candidates' rows."""

    def __init__(
        self, codes: np.ndarray, scales: np.ndarray, offsets: np.ndarray, projection: np.ndarray, lines: np.ndarray
    ) -> None:
        self.codes = codes
        self.scales = scales
        self.offsets = offsets
        self.projection = projection
        self.lines = lines

    @classmethod
    def load(cls, directory: Path, chunk_count: int, dimension: int) -> TokenVectors:
        """Open and check them; ValueError/OSError when they are damaged or disagree with the index."""
        import numpy as np

        projection = np.asarray(np.load(directory / "projection.npy", allow_pickle=False), dtype=np.float32)
        # Plain views of the memory maps: still read lazily, but slicing a np.memmap costs ~5 µs in
        # Python per slice, and a query slices every candidate's rows (0.6 ms a question).
        codes = np.load(directory / "codes.npy", allow_pickle=False, mmap_mode="r").view(np.ndarray)
        scales = np.load(directory / "scales.npy", allow_pickle=False, mmap_mode="r").view(np.ndarray)
        offsets = np.asarray(np.load(directory / "offsets.npy", allow_pickle=False))
        lines = np.load(directory / "lines.npy", allow_pickle=False, mmap_mode="r").view(np.ndarray)
        if projection.ndim != 2 or projection.shape[0] != dimension or not np.all(np.isfinite(projection)):
            raise ValueError(f"token projection has shape {projection.shape}, not ({dimension}, …)")
        if codes.dtype != np.int8 or codes.ndim != 2 or codes.shape[1] != projection.shape[1]:
            raise ValueError(f"token vectors have shape {codes.shape} and type {codes.dtype}")
        if scales.ndim != 1 or len(scales) != len(codes) or scales.dtype.kind != "f":
            raise ValueError("token scales disagree with the token vectors")
        if lines.ndim != 1 or len(lines) != len(codes) or lines.dtype.kind != "i":
            raise ValueError("token lines disagree with the token vectors")
        if offsets.ndim != 1 or len(offsets) != chunk_count + 1 or offsets.dtype.kind not in "iu":
            raise ValueError("token offsets disagree with the passages")
        if int(offsets[0]) != 0 or int(offsets[-1]) != len(codes) or bool(np.any(np.diff(offsets) < 0)):
            raise ValueError("token offsets are inconsistent")
        return cls(codes, scales, offsets, projection, lines)

    def passage(self, row: int) -> Quantized:
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        return Quantized(self.codes[start:end], self.scales[start:end], self.lines[start:end])

    def maxsim(self, query_tokens: np.ndarray, rows: Sequence[int]) -> list[float]:
        """For each passage row: the mean, over query tokens, of the best cosine to a passage token."""
        return [maxsim_of(matrix) for matrix in self.similarities(project(query_tokens, self.projection), rows)]

    def similarities(self, query: np.ndarray, rows: Sequence[int]) -> list[np.ndarray]:
        """For each passage row, the cosines of the (projected) question tokens to its tokens:
        [question tokens, passage tokens]. The rerank's MaxSim and the answer lines' both read them."""
        import numpy as np

        matrices = []
        for row in rows:
            passage = self.passage(row)
            if len(passage.codes) == 0 or len(query) == 0:  # one column per passage token, always
                matrices.append(np.zeros((len(query), len(passage.codes)), dtype=np.float32))
            else:
                matrices.append(query @ passage.vectors().T)
        return matrices


def maxsim_of(similarity: np.ndarray) -> float:
    """MaxSim from a question × passage token similarity matrix (0 when either side is empty)."""
    return float(similarity.max(axis=1).mean()) if similarity.size else 0.0
