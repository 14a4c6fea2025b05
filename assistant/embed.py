"""Stage 3, embed: texts → L2-normalised float32 vectors.

Documents are embedded with sentence-transformers at index time. Queries take the fast path when
the index holds an ONNX export of the model (`onnx_encoder`, no torch import: a one-shot `notes ask`
answers in well under a second), and fall back to sentence-transformers otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.config import resolve_model_path
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import numpy as np

    from assistant.onnx_encoder import OnnxQueryEncoder


class Embedder(Protocol):
    """What the index stage needs from a model; tests inject a deterministic fake."""

    name: str
    dimension: int
    max_tokens: int

    @property
    def export_dir(self) -> Path | None:
        """The ONNX export this embedder runs on, which the index keeps for its queries (None: none)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also gives each text's token vectors (for the rerank's MaxSim)."""

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]: ...


class QueryEncoder(Protocol):
    """What search needs to embed a question: every encoder has all of it (no optional parts)."""

    @property
    def kind(self) -> str:
        """How questions are embedded: "onnx" (fast, no torch) or "sentence-transformers" (slow start)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors and, from the same pass, each text's token vectors (special tokens dropped)."""
        ...

    def knows_word(self, word: str) -> bool:
        """Whether `word` is one whole token of the model's vocabulary (the speller leaves it alone)."""
        ...


def _offline() -> None:
    # Model weights must come from disk: never let a cache miss turn into a hub download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _quiet_loading() -> None:
    """Model loading prints weight-loading bars and deprecation chatter: not for the user's terminal."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    for name in ("transformers", "sentence_transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as transformers_logging

        hf_logging: Any = transformers_logging
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


class SentenceTransformerEmbedder:
    """The production embedder: any sentence-transformers model, by name or path."""

    def __init__(self, model: str) -> None:
        self.name = model
        self.path = resolve_model_path(model)
        self._model: Any = None
        self._counter = token_counter(self.path)
        self._vocabulary = vocabulary_check(self.path)
        self.max_tokens = model_max_tokens(self.path)
        self.dimension = model_dimension(self.path)

    @property
    def model(self) -> Any:
        if self._model is None:
            _offline()
            try:
                _quiet_loading()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.path, device="cpu")
            except (OSError, ValueError) as exc:
                raise AssistantError(
                    f"cannot load embedding model {self.name!r}: {str(exc).splitlines()[0]}",
                    "pass --model with a local sentence-transformers folder or an installed model",
                ) from exc
            self.max_tokens = int(self._model.max_seq_length or self.max_tokens)
            dimension = (
                getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            )
            self.dimension = int(dimension() or self.dimension)
        return self._model

    kind = "sentence-transformers"
    export_dir: Path | None = None
    """Runs on torch, not on an ONNX export."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, document=True)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, document=False)

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._encode(texts, document=True), self._tokens(texts, document=True)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """As a query encoder (the slow path, when an index has no usable ONNX export)."""
        return self.embed_queries(texts)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.embed_queries(texts), self._tokens(texts, document=False)

    def knows_word(self, word: str) -> bool:
        return self._vocabulary(word)

    def _tokens(self, texts: Sequence[str], *, document: bool) -> list[np.ndarray]:
        """Each text's token vectors, special tokens dropped and rows L2-normalised: what the ONNX
        encoder's `encode_with_tokens` gives for the same text."""
        import numpy as np

        model = self.model
        encode = model.encode_document if document else model.encode_query
        outputs = encode(list(texts), output_value="token_embeddings", batch_size=32, show_progress_bar=False)
        rows: list[np.ndarray] = []
        for text, output in zip(texts, outputs, strict=True):
            tokens = np.asarray(output.float().cpu().numpy(), dtype=np.float32)
            special = model.tokenizer(
                text, truncation=True, max_length=model.max_seq_length, return_special_tokens_mask=True
            )["special_tokens_mask"]
            keep = np.flatnonzero(np.asarray(special[: len(tokens)]) == 0)
            kept = tokens[keep]
            rows.append(kept / np.maximum(np.linalg.norm(kept, axis=1, keepdims=True), 1e-12))
        return rows

    def _encode(self, texts: Sequence[str], *, document: bool) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        encode = model.encode_document if document else model.encode_query
        vectors = encode(
            list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return self._counter(text)


DOCUMENT_WORKERS = 4
"""At most this many single-threaded model sessions embed notes side by side (one per core)."""
PARALLEL_FROM = 32
"""Texts from which an embedding call is shared between sessions."""


class OnnxEmbedder:
    """Embeds documents and queries with the index's ONNX export of the same model: no torch import,
    so refreshing an index after an edit takes seconds instead of the ~9 s torch import alone.
    Documents go through the export's int8 copy when it has one (cosine >= 0.98 to the float model,
    retrieval unchanged on the eval set, ~1.8x faster); queries through the float model, whose
    vectors match sentence-transformers' to cosine >= 0.999 (tests/test_onnx_encoder.py).

    Notes are embedded one text per forward pass, by one single-threaded session per core. Why one
    at a time: the int8 model scales activations once per batch, so in a batch a passage's vectors
    depended on its neighbours (cosine 0.992 between two orders) and any rebuild moved single eval
    figures by about ±0.01; alone, the same text always gets the same vectors. Why a session per
    core: one text is too little work to split across threads, but two sessions side by side are the
    fastest way found (2 cores, shipped notes: 719 passages 4.1-4.3 s against 7.2-8.1 s in batches of
    8 on two threads; 3,841 lines 6.6-7.4 s against 6.8-9.5 s)."""

    def __init__(self, model: str, encoder_dir: Path, like: SentenceTransformerEmbedder) -> None:
        from assistant.onnx_encoder import OnnxQueryEncoder

        self.name = model
        self.export_dir: Path | None = encoder_dir
        self.encoder = OnnxQueryEncoder(encoder_dir, threads=1, documents=True)
        self._more_encoders: list[OnnxQueryEncoder] = []
        # Chunk sizes must not depend on which embedder built the index: count with the model's tokenizer.
        self.max_tokens = like.max_tokens
        self.dimension = like.dimension
        self._counter = like.count_tokens
        self._query_encoder: OnnxQueryEncoder | None = None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, tokens=False)[0]

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and their token vectors from one forward pass (`token_vectors`)."""
        return self._embed(texts, tokens=True)

    def _embed(self, texts: Sequence[str], *, tokens: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors (and token vectors, or none) of each text alone, the texts dealt out to the
        sessions longest first."""
        from concurrent.futures import ThreadPoolExecutor

        import numpy as np

        texts = list(texts)
        encoders = self._encoders(len(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        shares = [order[n :: len(encoders)] for n in range(len(encoders))]

        def run(encoder: OnnxQueryEncoder, share: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
            batch = [texts[i] for i in share]
            if tokens:
                return encoder.encode_with_tokens(batch, batch_size=1)
            return encoder.encode(batch, batch_size=1), []

        dimension = self.encoder.dimension  # the export's own (a stand-in model's may differ from `like`)
        vectors = np.zeros((len(texts), dimension), dtype=np.float32)
        rows: list[np.ndarray] = [np.zeros((0, dimension), dtype=np.float32)] * len(texts) if tokens else []
        with ThreadPoolExecutor(len(encoders)) as pool:  # onnxruntime lets go of the GIL while it runs
            results = list(pool.map(run, encoders, shares))
        for share, (share_vectors, share_rows) in zip(shares, results, strict=True):
            if share:
                vectors[share] = share_vectors
            for i, row in zip(share, share_rows, strict=False):
                rows[i] = row
        return vectors, rows

    def _encoders(self, count: int) -> list[OnnxQueryEncoder]:
        """The sessions for `count` texts: one for a few (an edit re-embeds a handful, and opening
        another session costs more than it saves), one per core for more."""
        if count < PARALLEL_FROM:
            return [self.encoder]
        if not self._more_encoders:
            from assistant.onnx_encoder import OnnxQueryEncoder

            workers = max(1, min(_cores(), DOCUMENT_WORKERS))
            self._more_encoders = [
                OnnxQueryEncoder(self.encoder.directory, threads=1, documents=True) for _ in range(workers - 1)
            ]
        return [self.encoder, *self._more_encoders]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._queries().encode(list(texts))

    def _queries(self) -> OnnxQueryEncoder:
        """Questions always go through the float model, as at search time."""
        if not self.encoder.quantized:
            return self.encoder
        if self._query_encoder is None:
            from assistant.onnx_encoder import OnnxQueryEncoder

            self._query_encoder = OnnxQueryEncoder(self.encoder.directory)
        return self._query_encoder

    def count_tokens(self, text: str) -> int:
        return self._counter(text)


def _cores() -> int:
    """Cores this process may run on (the affinity mask where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _model_file(path: str, name: str) -> Path | None:
    candidate = Path(path) / name
    return candidate if candidate.is_file() else None


def model_max_tokens(path: str) -> int:
    config = _model_file(path, "sentence_bert_config.json")
    if config:
        try:
            return int(json.loads(config.read_text())["max_seq_length"])
        except (ValueError, KeyError, OSError):
            pass
    return 256


def model_dimension(path: str) -> int:
    for name in ("1_Pooling/config.json",):
        config = _model_file(path, name)
        if config:
            try:
                return int(json.loads(config.read_text())["word_embedding_dimension"])
            except (ValueError, KeyError, OSError):
                pass
    return 0


@lru_cache(maxsize=4)
def token_counter(path: str) -> Callable[[str], int]:
    """Count word pieces with the model's own fast tokenizer, so chunks are sized to its real window."""
    from assistant.chunk import approximate_token_count

    tokenizer_file = _model_file(path, "tokenizer.json")
    if tokenizer_file is None:
        return approximate_token_count
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


@lru_cache(maxsize=4)
def vocabulary_check(path: str) -> Callable[[str], bool]:
    """Whether a word is one whole token of the model's vocabulary (False when it has no tokenizer.json)."""
    tokenizer_file = _model_file(path, "tokenizer.json")
    if tokenizer_file is None:
        return lambda word: False
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    return lambda word: tokenizer.token_to_id(word) is not None
