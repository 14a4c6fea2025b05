"""Stage 3, embed: texts → L2-normalised float32 vectors.

Documents are embedded with sentence-transformers at index time. Queries take the fast path when
the index holds an ONNX export of the model (`onnx_encoder`, no torch import: a one-shot `notes ask`
answers in well under a second), and fall back to sentence-transformers otherwise.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.config import resolve_model_path
from assistant.errors import AssistantError
from assistant.model.layout import model_dimension, model_max_tokens, token_counter, vocabulary_check

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.onnx_encoder import OnnxEncoder


@dataclass(frozen=True)
class EmbeddingPath:
    """How a build embeds the notes, as its caller (the engine) chose the embedder: recorded in the
    index's manifest, and the export it names is copied into the index for questions."""

    kind: str
    """"onnx" (the model's float export), "sentence-transformers" (torch), or a stand-in's own name."""
    export_dir: Path | None = None
    """The ONNX export the embedder runs on (None: it runs on none)."""
    export_error: str = ""
    """Why the model could not be exported ("" when it was, or when exporting was not tried)."""


class Embedder(Protocol):
    """What the index stage needs from a model; tests inject a deterministic fake."""

    name: str
    dimension: int
    max_tokens: int

    @property
    def kind(self) -> str:
        """How it embeds: "onnx" (the model's float export) or "sentence-transformers" (torch)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also gives each text's token vectors (for the rerank's MaxSim)."""

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def token_projection(self) -> np.ndarray:
        """The model's projection of token vectors (token_vectors.model_projection): the same for any notes."""
        ...

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Each text's tokens that `embed_documents_with_tokens` keeps, in order, as character offsets
        into the text: which line each token vector is on (token_vectors.token_lines)."""
        ...


@runtime_checkable
class ReportsPasses(Protocol):
    """An embedder whose calls say how many of their texts are embedded while they run (`done(count)`,
    on the caller's thread, about every PASS_POLL_S): a call of 1,024 texts still moves a progress bar."""

    def embed_reporting(
        self, texts: Sequence[str], *, tokens: bool, done: Callable[[int], None]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


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


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Loading a model prints weight-loading bars and deprecation chatter, not for the user's
    terminal: silenced while the model loads, and only then (the warning filters and log levels are
    put back afterwards, so nothing else in the process loses its warnings)."""
    import logging
    import warnings

    loggers = [logging.getLogger(name) for name in ("transformers", "sentence_transformers", "huggingface_hub")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module="torch")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


class SentenceTransformerEmbedder:
    """The production embedder: any sentence-transformers model, by name or path.

    Made without loading anything (the model loads at its first text), so an index whose questions
    fall back to it still answers BM25 questions when the model is not on this machine; a build
    refuses an unusable model before it starts (`Engine`, `layout.require_usable_model`)."""

    def __init__(self, model: str) -> None:
        self.name = model
        self.path = resolve_model_path(model)
        self._model: Any = None
        self._projection: np.ndarray | None = None
        self._counter = token_counter(self.path)
        self._vocabulary = vocabulary_check(self.path)
        self.max_tokens = model_max_tokens(self.path)
        self.dimension = model_dimension(self.path)

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                with quiet_loading():
                    from sentence_transformers import SentenceTransformer

                    # local_files_only: the weights come from disk; a cache miss is never a hub download.
                    self._model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
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

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, document=True)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, document=False)

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._encode_with_tokens(texts, document=True)

    def token_projection(self) -> np.ndarray:
        """The model's token projection, made here with sentence-transformers (the slow path: a model
        that cannot be exported to ONNX; an export computes the same with onnxruntime)."""
        from assistant.model.projection import model_projection, vocabulary_words

        if self._projection is None:
            words = vocabulary_words(dict(self.model.tokenizer.get_vocab()))
            self._projection = model_projection(self.embed_documents_with_tokens, words, self.dimension)
        return self._projection

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """The kept tokens' character offsets, from the model's (fast) tokenizer as `_tokens` reads them."""
        model = self.model
        found = []
        for text in texts:
            encoded = model.tokenizer(
                text,
                truncation=True,
                max_length=model.max_seq_length,
                return_special_tokens_mask=True,
                return_offsets_mapping=True,
            )
            pairs = zip(encoded["offset_mapping"], encoded["special_tokens_mask"], strict=True)
            found.append([(int(start), int(end)) for (start, end), special in pairs if not special])
        return found

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """As a query encoder (the slow path, when an index has no usable ONNX export)."""
        return self.embed_queries(texts)

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._encode_with_tokens(texts, document=False)

    def knows_word(self, word: str) -> bool:
        return self._vocabulary(word)

    def _encode_with_tokens(self, texts: Sequence[str], *, document: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector (L2-normalised) and token vectors, special tokens dropped and rows
        L2-normalised, from one pass of the model: what the ONNX encoder's `encode_with_tokens` gives."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        model = self.model
        encode = model.encode_document if document else model.encode_query
        outputs = encode(list(texts), output_value=None, batch_size=32, show_progress_bar=False)
        vectors = np.stack(
            [np.asarray(o["sentence_embedding"].float().cpu().numpy(), dtype=np.float32) for o in outputs]
        )
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        rows: list[np.ndarray] = []
        for text, output in zip(texts, outputs, strict=True):
            tokens = np.asarray(output["token_embeddings"].float().cpu().numpy(), dtype=np.float32)
            special = model.tokenizer(
                text, truncation=True, max_length=model.max_seq_length, return_special_tokens_mask=True
            )["special_tokens_mask"]
            keep = np.flatnonzero(np.asarray(special[: len(tokens)]) == 0)
            kept = tokens[keep]
            rows.append(kept / np.maximum(np.linalg.norm(kept, axis=1, keepdims=True), 1e-12))
        return np.ascontiguousarray(vectors), rows

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


GROUP_BATCH = 32
"""At most this many texts of one length go through the model in one pass, and at most PASS_TOKENS tokens:
4 long passages a pass instead of 32 keep a pass under a second on a busy core, for progress (measured:
the same speed, bit-identical vectors)."""
PASS_TOKENS = 1024
PASS_POLL_S = 0.25  # how often a reporting call (ReportsPasses) says how many of its texts are done


class OnnxEmbedder:
    """Embeds notes and questions with the model's ONNX export (float32): no torch import, so
    refreshing an index after an edit takes seconds instead of the ~9 s torch import alone, and the
    vectors match sentence-transformers' to cosine >= 0.9999 on any CPU.

    Why float, not the int8 copy notes were embedded with until issue 18: onnxruntime's int8 kernels
    compute different numbers on CPUs with and without AVX-512 VNNI (cosine 0.984 between the two for
    the same passage, measured with valgrind, which hides AVX-512), so a fresh clone on an AVX2-only
    CPU ranked the eval set differently and failed the gate. The float model differs between the two
    by at most 1e-7 (docs/reproducibility.md); it costs build time (docs/speed.md).

    Texts go through the model in groups of one token length, so no batch has padding: a text's
    vector depends on the text alone, never on what shares its pass (tests/test_onnx_encoder.py),
    and short lines share a pass instead of paying one each (lines 30% faster than one at a time).
    The groups go to one single-threaded session per core, each taking the next group when it is
    free: one text is too little work to split across threads, and sessions side by side were the
    fastest way found."""

    def __init__(self, model: str, encoder_dir: Path, like: SentenceTransformerEmbedder) -> None:
        from assistant.model.onnx_encoder import OnnxEncoder

        self.name = model
        self.kind = "onnx"
        self.encoder = OnnxEncoder(encoder_dir, threads=1)
        self._more_encoders: list[OnnxEncoder] = []
        # Chunk sizes must not depend on which embedder built the index: count with the model's tokenizer.
        self.max_tokens = like.max_tokens
        self.dimension = like.dimension
        self._counter = like.count_tokens

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, tokens=False)[0]

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and their token vectors from one forward pass (`token_vectors`)."""
        return self._embed(texts, tokens=True)

    def embed_reporting(
        self, texts: Sequence[str], *, tokens: bool, done: Callable[[int], None]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._embed(texts, tokens=tokens, done=done)  # ReportsPasses: done(count) as passes finish

    def token_projection(self) -> np.ndarray:
        """The model's token projection, saved with its export (token_vectors.model_projection)."""
        return self.encoder.projection()

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.encoder.token_offsets(texts)

    def _embed(
        self, texts: Sequence[str], *, tokens: bool, done: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors (and token vectors, or none) of the texts, in passes of one token length each,
        the most work first, each taken by the next free session (`done`: ReportsPasses)."""
        from concurrent.futures import ThreadPoolExecutor, wait

        import numpy as np

        texts = list(texts)
        encoders = self._encoders(len(texts))
        by_length: dict[int, list[int]] = {}
        for row, text in enumerate(texts):
            by_length.setdefault(self.encoder.token_count(text), []).append(row)
        step = {length: max(1, min(GROUP_BATCH, PASS_TOKENS // max(length, 1))) for length in by_length}
        passes = [
            (length, rows[start : start + step[length]])
            for length, rows in by_length.items()
            for start in range(0, len(rows), step[length])
        ]
        passes.sort(key=lambda item: -item[0] * len(item[1]))
        results: list[tuple[np.ndarray, list[np.ndarray]] | None] = [None] * len(passes)
        taken = iter(range(len(passes)))  # each session takes the next when free (dealt out, one lagged)
        lock = threading.Lock()
        finished = [0] * len(encoders)  # texts each session has embedded (each writes only its own)

        def run(session: int) -> None:
            encoder = encoders[session]
            while True:
                with lock:
                    number = next(taken, None)
                if number is None:
                    return
                rows = passes[number][1]
                batch = [texts[row] for row in rows]
                if tokens:
                    results[number] = encoder.encode_with_tokens(batch, batch_size=len(batch))
                else:
                    results[number] = (encoder.encode(batch, batch_size=len(batch)), [])
                finished[session] += len(rows)

        dimension = self.encoder.dimension  # the export's own (a stand-in model's may differ from `like`)
        vectors = np.zeros((len(texts), dimension), dtype=np.float32)
        token_rows: list[np.ndarray] = [np.zeros((0, dimension), dtype=np.float32)] * len(texts) if tokens else []
        with ThreadPoolExecutor(len(encoders)) as pool:  # onnxruntime lets go of the GIL while it runs
            futures = [pool.submit(run, session) for session in range(len(encoders))]
            said, pending = 0, set(futures)
            while done is not None and pending:  # ReportsPasses: how many texts are done, every PASS_POLL_S
                pending = wait(pending, timeout=PASS_POLL_S).not_done
                if sum(finished) > said:
                    said = sum(finished)
                    done(said)
            [future.result() for future in futures]  # a session's error, raised here
        for (_length, rows), result in zip(passes, results, strict=True):
            assert result is not None  # every pass is taken by a session before the pool closes
            batch_vectors, batch_tokens = result
            vectors[rows] = batch_vectors
            for row, found in zip(rows, batch_tokens, strict=False):
                token_rows[row] = found
        return vectors, token_rows

    def _encoders(self, count: int) -> list[OnnxEncoder]:
        """The sessions for `count` texts: one for a few (an edit re-embeds a handful, and opening
        another session costs more than it saves), one per core for more."""
        if count < PARALLEL_FROM:
            return [self.encoder]
        if not self._more_encoders:
            from assistant.model.onnx_encoder import OnnxEncoder

            workers = max(1, min(_cores(), DOCUMENT_WORKERS))
            self._more_encoders = [OnnxEncoder(self.encoder.directory, threads=1) for _ in range(workers - 1)]
        return [self.encoder, *self._more_encoders]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts))

    def count_tokens(self, text: str) -> int:
        return self._counter(text)


def _cores() -> int:
    """Cores this process may run on (the affinity mask where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1
