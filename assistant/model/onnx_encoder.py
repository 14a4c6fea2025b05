"""A torch-free encoder: a sentence-transformers model's ONNX export, run with onnxruntime.

Why: a one-shot `notes ask` only has to embed one short question, but a plain
`import sentence_transformers` drags in torch and transformers and takes 5-9 s on a small
machine. So at index-build time, where torch is loaded anyway, onnx_export.py writes the model's
transformer to ONNX once per machine (encoder_cache.py); at query time `OnnxEncoder` runs it
with onnxruntime, the Rust `tokenizers` package and numpy only.

Pooling (cls / max / mean / mean_sqrt_len_tokens / weightedmean / lasttoken, read from the model's
modules.json and pooling config: model_layout.py) and the final L2 normalisation are done in numpy.
Vectors always come out L2-normalised, matching `SentenceTransformer.encode(texts,
normalize_embeddings=True)`, because the index scores by inner product.

An export folder holds:
- `encoder.onnx`: the transformer;
- `projection.npy`: the model's token projection for the rerank (token_vectors.model_projection);
- `tokenizer.json`: the model's fast tokenizer as loaded by sentence-transformers (so any
  lower-casing it adds is baked in), set to truncate at `max_seq_length` and pad per batch;
- `encoder.json`: pooling, dimension, max_seq_length, graph input names, source model.

Importing this module imports neither torch, transformers nor sentence_transformers (nor numpy or
onnxruntime: every heavy import sits inside the function that needs it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.model.layout import POOLING_MODES, read_json

if TYPE_CHECKING:
    import numpy
    import onnxruntime
    import tokenizers

ONNX_FILE = "encoder.onnx"
PROJECTION_FILE = "projection.npy"
LEGACY_DOCUMENT_FILE = "documents.onnx"
"""An int8 copy that embedded notes until export revision 3: it computed different numbers on CPUs
with and without AVX-512 VNNI, so the same notes ranked differently by machine (issue 18)."""
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
FORMAT_NAME = "notes-assistant-onnx-encoder"
FORMAT_VERSION = 1
EXPORT_REVISION = 4
"""What an export holds beyond the format (3: the float model embeds notes too, and the model's token
projection is saved with it; 4: attention exported as plain matrix products, without the mask guard
of the fused-attention graph, 7-10 % less model time). Readers accept any revision; builds re-export
an older one once."""

# The graph inputs we know how to feed, in the order the export uses.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

_REQUIRED_META: dict[str, type | tuple[type, ...]] = {
    "pooling_mode": list,
    "max_seq_length": int,
    "dimension": int,
    "hidden_size": int,
    "input_names": list,
    "output_name": str,
    "onnx_bytes": int,
    "padding_side": str,
    "truncation_side": str,
    "pad_token": str,
    "pad_token_id": int,
    "pad_token_type_id": int,
}


def _load_meta(path: Path) -> dict[str, Any]:
    meta = read_json(path, "ONNX encoder metadata")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ValueError(f"ONNX encoder metadata is not an {FORMAT_NAME} file: {path}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"ONNX encoder metadata has format_version {meta.get('format_version')!r}, "
            f"this code reads {FORMAT_VERSION}: {path}"
        )
    for key, kind in _REQUIRED_META.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"ONNX encoder metadata: {key!r} missing or not {kind}: {path}")
    modes = meta["pooling_mode"]
    if not modes or any(m not in POOLING_MODES for m in modes):
        raise ValueError(f"ONNX encoder metadata: bad pooling_mode {modes!r}: {path}")
    if meta["dimension"] != meta["hidden_size"] * len(modes) or meta["max_seq_length"] <= 0:
        raise ValueError(f"ONNX encoder metadata: dimension/max_seq_length inconsistent: {path}")
    if "input_ids" not in meta["input_names"] or any(n not in KNOWN_INPUTS for n in meta["input_names"]):
        raise ValueError(f"ONNX encoder metadata: bad input_names {meta['input_names']!r}: {path}")
    if meta["padding_side"] not in ("left", "right") or meta["truncation_side"] not in ("left", "right"):
        raise ValueError(f"ONNX encoder metadata: bad padding/truncation side: {path}")
    if not isinstance(meta.get("prompt", ""), str):
        raise ValueError(f"ONNX encoder metadata: prompt must be a string: {path}")
    return meta


def onnx_encoder_available(directory: Path) -> bool:
    """True if `directory` holds a complete, readable ONNX query encoder (cheap: no model is loaded)."""
    directory = Path(directory)
    try:
        meta = _load_meta(directory / META_FILE)
        onnx_path = directory / ONNX_FILE
        tokenizer_path = directory / TOKENIZER_FILE
        for path in (onnx_path, tokenizer_path):
            if not path.is_file() or not os.access(path, os.R_OK):
                return False
        return onnx_path.stat().st_size == meta["onnx_bytes"] and tokenizer_path.stat().st_size > 0
    except (OSError, ValueError):
        return False


def onnx_encoder_current(directory: Path) -> bool:
    """Available and made by this code's export (an older one lacks the model's token projection,
    and embedded notes with an int8 copy whose numbers depend on the CPU)."""
    if not onnx_encoder_available(directory):
        return False
    try:
        revision = _load_meta(Path(directory) / META_FILE).get("export_revision", 1)
    except (OSError, ValueError):
        return False
    return isinstance(revision, int) and revision >= EXPORT_REVISION


def _pool(token_embeddings: numpy.ndarray, attention_mask: numpy.ndarray, modes: Sequence[str]) -> numpy.ndarray:
    """sentence-transformers' Pooling in numpy: (batch, seq, hidden) -> (batch, hidden * len(modes))."""
    import numpy as np

    batch, seq_len, _ = token_embeddings.shape
    mask = attention_mask.astype(np.float32)
    rows = np.arange(batch)
    parts: list[np.ndarray] = []
    for mode in modes:
        if mode == "cls":  # first real token (works with left padding too)
            parts.append(token_embeddings[rows, attention_mask.argmax(axis=1)])
        elif mode == "max":
            masked = np.where(mask[:, :, None] > 0, token_embeddings, -np.inf)
            parts.append(masked.max(axis=1))
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            summed = (token_embeddings * mask[:, :, None]).sum(axis=1)
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            parts.append(summed / (counts if mode == "mean" else np.sqrt(counts)))
        elif mode == "weightedmean":
            pad_lengths = attention_mask.argmax(axis=1)
            weights = np.arange(1, seq_len + 1, dtype=np.float32)[None, :] - pad_lengths[:, None]
            weighted = mask * weights
            summed = (token_embeddings * weighted[:, :, None]).sum(axis=1)
            parts.append(summed / np.maximum(weighted.sum(axis=1, keepdims=True), 1e-9))
        elif mode == "lasttoken":
            flipped = attention_mask[:, ::-1]
            indices = np.where(flipped.max(axis=1) == 0, seq_len - 1, flipped.argmax(axis=1))
            parts.append((token_embeddings * mask[:, :, None])[rows, seq_len - indices - 1])
        else:  # _load_meta rejects unknown modes
            raise ValueError(f"unknown pooling mode {mode!r}")
    pooled = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    return pooled.astype(np.float32, copy=False)


class OnnxEncoder:
    """Embeds notes and questions with an exported ONNX encoder: onnxruntime + tokenizers + numpy, no torch.

    `encode` returns float32 rows, L2-normalised, that match
    `SentenceTransformer(model).encode(texts, normalize_embeddings=True)` to cosine >= 0.9999 (the
    float model: the same numbers, to float rounding, on any CPU; tests/test_onnx_encoder.py).
    `threads` sets onnxruntime's intra-op threads (default: the CPU count, at most 2, which is
    what a single short query can use).
    """

    kind = "onnx"
    """Questions are embedded by the ONNX export: the fast path."""

    def __init__(self, directory: Path, threads: int | None = None) -> None:
        directory = Path(directory)
        self.directory = directory
        self._setup(_load_meta(directory / META_FILE), directory / ONNX_FILE, directory / TOKENIZER_FILE, threads)

    @classmethod
    def _from_files(
        cls, meta: dict[str, Any], onnx_path: Path, tokenizer_path: Path, threads: int | None
    ) -> OnnxEncoder:
        """An encoder over files not (yet) under their final names: the export's self-check."""
        encoder = cls.__new__(cls)
        encoder.directory = onnx_path.parent
        encoder._setup(meta, onnx_path, tokenizer_path, threads)
        return encoder

    def _setup(self, meta: dict[str, Any], onnx_path: Path, tokenizer_path: Path, threads: int | None) -> None:
        self._meta = meta
        self._modes: tuple[str, ...] = tuple(meta["pooling_mode"])
        self._prompt: str = str(meta.get("prompt", ""))
        self._dimension: int = int(meta["dimension"])
        self._max_seq_length: int = int(meta["max_seq_length"])
        self._tokenizer = self._load_tokenizer(meta, tokenizer_path)
        self._session = self._load_session(meta, onnx_path, threads)
        graph_inputs = [node.name for node in self._session.get_inputs()]
        unknown = [name for name in graph_inputs if name not in KNOWN_INPUTS]
        if unknown or "input_ids" not in graph_inputs:
            raise ValueError(
                f"ONNX encoder graph has inputs {graph_inputs}, expected some of {KNOWN_INPUTS}: {onnx_path}"
            )
        self._input_names: tuple[str, ...] = tuple(graph_inputs)
        outputs = self._session.get_outputs()
        last_dim = outputs[0].shape[-1] if outputs and outputs[0].shape else None
        if isinstance(last_dim, int) and last_dim != meta["hidden_size"]:
            raise ValueError(
                f"ONNX encoder graph gives {last_dim}-wide token embeddings, "
                f"metadata says {meta['hidden_size']}: {onnx_path}"
            )
        self._output_name: str = outputs[0].name

    @staticmethod
    def _load_tokenizer(meta: dict[str, Any], path: Path) -> tokenizers.Tokenizer:
        from tokenizers import Tokenizer

        if not path.is_file():
            raise FileNotFoundError(f"ONNX encoder tokenizer not found: {path}")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ValueError(f"ONNX encoder tokenizer is corrupt: {path}: {exc}") from exc
        tokenizer.enable_truncation(
            max_length=int(meta["max_seq_length"]), strategy="longest_first", direction=meta["truncation_side"]
        )
        tokenizer.enable_padding(
            direction=meta["padding_side"],
            pad_id=int(meta["pad_token_id"]),
            pad_type_id=int(meta["pad_token_type_id"]),
            pad_token=meta["pad_token"],
        )
        return tokenizer

    @staticmethod
    def _load_session(meta: dict[str, Any], path: Path, threads: int | None) -> onnxruntime.InferenceSession:
        import onnxruntime as ort

        if not path.is_file():
            raise FileNotFoundError(f"ONNX encoder model not found: {path}")
        size = path.stat().st_size
        if size != meta["onnx_bytes"]:
            raise ValueError(
                f"ONNX encoder model is {size} bytes, metadata says {meta['onnx_bytes']} "
                f"(truncated or replaced): {path}"
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads if threads and threads > 0 else min(os.cpu_count() or 1, 2)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        try:
            return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own InvalidProtobuf / Fail / RuntimeException types
            raise ValueError(f"ONNX encoder model is corrupt: {path}: {exc}") from exc

    def vocabulary(self) -> dict[str, int]:
        return dict(self._tokenizer.get_vocab())

    def token_count(self, text: str) -> int:
        """Word pieces the model reads for `text` (special tokens included, after truncation)."""
        return len(self._tokenizer.encode(self._prompt + text).ids)

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Each text's kept tokens (those `encode_with_tokens` gives vectors for, in order) as
        character offsets into the text; a token of the model's prompt starts before 0."""
        shift = len(self._prompt)
        found = []
        for encoding in self._tokenizer.encode_batch([self._prompt + text for text in texts]):
            kept = zip(encoding.offsets, encoding.attention_mask, encoding.special_tokens_mask, strict=True)
            found.append([(start - shift, end - shift) for (start, end), mask, special in kept if mask and not special])
        return found

    def projection(self) -> numpy.ndarray:
        """The model's token projection saved with the export (ValueError/OSError when absent or damaged)."""
        import numpy as np

        projection = np.load(self.directory / PROJECTION_FILE, allow_pickle=False)
        if projection.ndim != 2 or projection.shape[0] != self._dimension or not np.all(np.isfinite(projection)):
            raise ValueError(f"the model's token projection has shape {projection.shape}: {self.directory}")
        return np.asarray(projection, dtype=np.float32)

    def knows_word(self, word: str) -> bool:
        """Whether `word` is one whole token of the model's vocabulary (the speller leaves it alone)."""
        return self._tokenizer.token_to_id(word) is not None

    @property
    def dimension(self) -> int:
        """Width of the vectors `encode` returns."""
        return self._dimension

    @property
    def max_seq_length(self) -> int:
        """Tokens per text (special tokens included) beyond which a text is truncated."""
        return self._max_seq_length

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> numpy.ndarray:
        """Embed `texts`: a float32 array of shape (len(texts), dimension) with L2-normalised rows."""
        return self._encode(texts, batch_size, tokens=False)[0]

    def encode_with_tokens(
        self, texts: Sequence[str], batch_size: int = 32
    ) -> tuple[numpy.ndarray, list[numpy.ndarray]]:
        """`encode`'s vectors and, from the same forward pass, each text's token vectors (special
        and padding tokens dropped, rows L2-normalised): what a late-interaction rerank compares."""
        return self._encode(texts, batch_size, tokens=True)

    def _encode(
        self, texts: Sequence[str], batch_size: int, *, tokens: bool
    ) -> tuple[numpy.ndarray, list[numpy.ndarray]]:
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a single string")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        result = np.zeros((len(texts), self._dimension), dtype=np.float32)
        per_text: list[np.ndarray] = [np.zeros((0, 0), dtype=np.float32)] * len(texts) if tokens else []
        if not texts:
            return result, per_text
        # Longest first, like sentence-transformers, so batches hold texts of similar length.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors, token_rows = self._encode_batch([self._prompt + texts[i] for i in chunk], tokens=tokens)
            result[chunk] = vectors
            if tokens:
                for text_index, rows in zip(chunk, token_rows, strict=True):
                    per_text[text_index] = rows
        return result, per_text

    def _encode_batch(self, texts: list[str], *, tokens: bool = False) -> tuple[numpy.ndarray, list[numpy.ndarray]]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        attention_mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, np.ndarray] = {}
        for name in self._input_names:
            if name == "input_ids":
                feeds[name] = np.array([e.ids for e in encodings], dtype=np.int64)
            elif name == "attention_mask":
                feeds[name] = attention_mask
            else:  # token_type_ids
                feeds[name] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (token_embeddings,) = self._session.run([self._output_name], feeds)
        token_embeddings = np.asarray(token_embeddings, dtype=np.float32)
        pooled = _pool(token_embeddings, attention_mask, self._modes)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: np.ndarray = pooled / np.maximum(norms, 1e-12)
        token_rows: list[np.ndarray] = []
        if tokens:
            for row, encoding in enumerate(encodings):
                keep = np.flatnonzero(
                    (np.asarray(encoding.attention_mask) > 0) & (np.asarray(encoding.special_tokens_mask) == 0)
                )
                rows = token_embeddings[row, keep]
                token_rows.append(rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12))
        return normalised, token_rows
