"""A torch-free query encoder: a sentence-transformers model exported to ONNX.

Why: a one-shot `notes ask` only has to embed one short question, but a plain
`import sentence_transformers` drags in torch and transformers and takes 5-9 s on a small
machine. So at index-build time, where torch is loaded anyway, `export_onnx_encoder` writes
the model's transformer to ONNX next to the index; at query time `OnnxQueryEncoder` runs it
with onnxruntime, the Rust `tokenizers` package and numpy only.

What is exported: only the transformer (token ids in, token embeddings out, dynamic batch
and sequence axes). Pooling (cls / max / mean / mean_sqrt_len_tokens / weightedmean /
lasttoken, as read from the model's modules.json and pooling config) and the final L2
normalisation are done in numpy. Vectors always come out L2-normalised, matching
`SentenceTransformer.encode(texts, normalize_embeddings=True)`, because the index scores by
inner product.

The export folder holds three or four files, each written under a temporary name and moved into
place with `os.replace`; `encoder.json` is removed first and written last, so a crash leaves
either a complete encoder or none that `onnx_encoder_available` accepts:

- `encoder.onnx`: the transformer;
- `documents.onnx` (when it stays faithful): an int8 copy for embedding notes at index time;
- `tokenizer.json`: the model's fast tokenizer as loaded by sentence-transformers (so any
  lower-casing it adds is baked in), set to truncate at `max_seq_length` and pad per batch;
- `encoder.json`: pooling, dimension, max_seq_length, graph input names, opset, source model.

Importing this module imports neither torch, transformers nor sentence_transformers (nor
numpy or onnxruntime: every heavy import sits inside the function that needs it).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy
    import onnxruntime
    import tokenizers
    import torch

ONNX_FILE = "encoder.onnx"
DOCUMENT_ONNX_FILE = "documents.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
FORMAT_NAME = "notes-assistant-onnx-encoder"
FORMAT_VERSION = 1
EXPORT_REVISION = 2
"""What an export holds beyond the format (2: the int8 document model, or a note of why not).
Readers accept any revision; builds re-export an older one once to get what it lacks."""
ONNX_OPSET = 17
OUTPUT_NAME = "token_embeddings"

# The graph inputs we know how to feed, in the order the export uses.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
# Legacy `pooling_mode_*` booleans of 1_Pooling/config.json, in sentence-transformers' concatenation order.
_LEGACY_POOLING_KEYS = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_max_tokens", "max"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
    ("pooling_mode_weightedmean_tokens", "weightedmean"),
    ("pooling_mode_lasttoken", "lasttoken"),
)
# Texts the export runs through both the original model and the ONNX encoder to check them.
_PROBE_TEXTS = (
    "what is the maximum memory for a lambda function?",
    "nacl",
    "",
    "Can a WAF sit in front of a network load balancer, or only an ALB? " * 40,
)
_MIN_PROBE_COSINE = 0.999
DOCUMENT_QUANTIZATION = "dynamic-int8-per-channel"
_MIN_DOCUMENT_COSINE = 0.98
"""The int8 document model is kept only if every probe vector stays this close to the float one
(measured on the shipped notes: mean 0.994, min 0.988 over 719 passages)."""


# --------------------------------------------------------------------------------------------
# Reading a sentence-transformers model folder (plain JSON, no torch)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelLayout:
    """What a sentence-transformers folder's modules.json and module configs say about the model.

    `max_seq_length` is None when sentence_bert_config.json does not set it (sentence-transformers
    then falls back to the tokenizer's and the model's limits; the export records the value the
    loaded model actually uses).
    """

    transformer_dir: str
    pooling_modes: tuple[str, ...]
    include_prompt: bool
    normalize: bool
    max_seq_length: int | None
    do_lower_case: bool


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"{what} cannot be read: {path}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {path}: {exc}") from exc


def _pooling_modes_from_config(config: dict[str, Any], path: Path) -> tuple[str, ...]:
    """The pooling modes in concatenation order, from the new (`pooling_mode`) or legacy keys."""
    raw = config.get("pooling_mode")
    if raw is not None:
        modes: tuple[str, ...]
        if isinstance(raw, str):
            modes = (raw,)
        elif isinstance(raw, list) and raw and all(isinstance(m, str) for m in raw):
            modes = tuple(raw)
        else:
            raise ValueError(f"pooling config {path}: pooling_mode must be a name or a list of names, got {raw!r}")
    else:
        modes = tuple(mode for key, mode in _LEGACY_POOLING_KEYS if config.get(key, False))
        if not modes:
            modes = ("mean",)
    unknown = [m for m in modes if m not in POOLING_MODES]
    if unknown:
        raise ValueError(f"pooling config {path}: unsupported pooling mode(s) {unknown}; known: {POOLING_MODES}")
    return modes


def read_model_layout(model_path: str | Path) -> ModelLayout:
    """Read modules.json, the Pooling config and sentence_bert_config.json of a model folder.

    Supports the Transformer -> Pooling -> (Normalize) pipeline of BERT-like sentence-transformers
    models; any other module (Dense, a router, a CNN...) raises ValueError naming it. A folder
    without modules.json is what sentence-transformers turns into Transformer + mean pooling.
    """
    root = Path(model_path)
    if not root.is_dir():
        raise FileNotFoundError(f"model folder not found: {root}")
    modules_path = root / "modules.json"
    transformer_dir = ""
    pooling_modes: tuple[str, ...] = ("mean",)
    include_prompt = True
    normalize = False
    if modules_path.exists():
        modules = _read_json(modules_path, "modules.json")
        if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
            raise ValueError(f"modules.json must be a list of objects: {modules_path}")
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        if not kinds or kinds[0] != "Transformer" or kinds.count("Transformer") != 1:
            raise ValueError(f"modules.json: expected one Transformer module, first; got {kinds}: {modules_path}")
        if kinds.count("Pooling") != 1:
            raise ValueError(f"modules.json: expected one Pooling module, got {kinds}: {modules_path}")
        for module, kind in zip(modules, kinds, strict=True):
            sub = str(module.get("path", ""))
            if kind == "Transformer":
                transformer_dir = sub
            elif kind == "Pooling":
                pooling_path = root / sub / "config.json"
                config = _read_json(pooling_path, "pooling config")
                if not isinstance(config, dict):
                    raise ValueError(f"pooling config must be a JSON object: {pooling_path}")
                pooling_modes = _pooling_modes_from_config(config, pooling_path)
                include_prompt = bool(config.get("include_prompt", True))
            elif kind == "Normalize" and kinds.index("Pooling") < kinds.index("Normalize"):
                normalize = True
            else:
                raise ValueError(
                    f"modules.json: module {module.get('type')!r} (at position {kinds.index(kind)}) is not supported "
                    f"by the ONNX query encoder (only Transformer, Pooling, then Normalize): {modules_path}"
                )
    max_seq_length: int | None = None
    do_lower_case = False
    st_config_path = root / transformer_dir / "sentence_bert_config.json"
    if st_config_path.exists():
        st_config = _read_json(st_config_path, "sentence_bert_config.json")
        if not isinstance(st_config, dict):
            raise ValueError(f"sentence_bert_config.json must be a JSON object: {st_config_path}")
        raw_len = st_config.get("max_seq_length")
        if raw_len is not None:
            if not isinstance(raw_len, int) or isinstance(raw_len, bool) or raw_len <= 0:
                raise ValueError(f"sentence_bert_config.json: bad max_seq_length {raw_len!r}: {st_config_path}")
            max_seq_length = raw_len
        do_lower_case = bool(st_config.get("do_lower_case", False))
    return ModelLayout(
        transformer_dir=transformer_dir,
        pooling_modes=pooling_modes,
        include_prompt=include_prompt,
        normalize=normalize,
        max_seq_length=max_seq_length,
        do_lower_case=do_lower_case,
    )


# --------------------------------------------------------------------------------------------
# Export (index-build time: torch and sentence-transformers are imported here, and only here)
# --------------------------------------------------------------------------------------------


def _temp_path(out_dir: Path, name: str) -> Path:
    return out_dir / f".{name}.tmp-{os.getpid()}"


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Delete temp files left by exports that crashed (their process is gone); keep live ones."""
    for name in (ONNX_FILE, DOCUMENT_ONNX_FILE, TOKENIZER_FILE, META_FILE):
        for leftover in out_dir.glob(f".{name}.tmp-*"):
            pid_text = leftover.name.rsplit("-", 1)[-1]
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                with contextlib.suppress(OSError):
                    leftover.unlink()
            except OSError:
                pass  # alive, but someone else's: leave it


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' "Loading weights" progress bar while we load, then restore it."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        yield
        return
    hf_logging: Any = transformers_logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _forward_accepts(model: torch.nn.Module, name: str) -> bool:
    import inspect

    params = inspect.signature(model.forward).parameters
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def export_onnx_encoder(model_path: str | Path, out_dir: Path) -> Path:
    """Export the sentence-transformers model folder `model_path` as an ONNX query encoder in `out_dir`.

    Loads the model with sentence-transformers on CPU (local files only: nothing is downloaded),
    exports its transformer with torch's TorchScript-based ONNX exporter (`dynamo=False`: it needs
    no onnxscript and takes a couple of seconds), saves the tokenizer and writes encoder.json.
    Before moving the files into place it encodes a few probe texts with both the original model and
    the new encoder and raises RuntimeError if any pair has a cosine below 0.999. Returns `out_dir`.
    """
    import warnings

    model_dir = Path(model_path)
    layout = read_model_layout(model_dir)  # validates the folder before the slow imports
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_final = out_dir / META_FILE
    # Withdraw the old encoder first: from here until the new encoder.json lands, none is "available".
    with contextlib.suppress(FileNotFoundError):
        meta_final.unlink()
    _remove_stale_temp_files(out_dir)

    onnx_tmp = _temp_path(out_dir, ONNX_FILE)
    documents_tmp = _temp_path(out_dir, DOCUMENT_ONNX_FILE)
    tokenizer_tmp = _temp_path(out_dir, TOKENIZER_FILE)
    meta_tmp = _temp_path(out_dir, META_FILE)
    with contextlib.suppress(FileNotFoundError):
        (out_dir / DOCUMENT_ONNX_FILE).unlink()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta, reference = _export_to(model_dir, layout, onnx_tmp, tokenizer_tmp)
        meta["onnx_bytes"] = onnx_tmp.stat().st_size
        meta["tokenizer_bytes"] = tokenizer_tmp.stat().st_size
        _verify_export(model_dir, meta, onnx_tmp, tokenizer_tmp, reference)
        meta.update(_quantize_for_documents(meta, onnx_tmp, documents_tmp, tokenizer_tmp))
        _fsync(onnx_tmp)
        _fsync(tokenizer_tmp)
        with open(meta_tmp, "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(onnx_tmp, out_dir / ONNX_FILE)
        if "document_onnx_bytes" in meta:
            _fsync(documents_tmp)
            os.replace(documents_tmp, out_dir / DOCUMENT_ONNX_FILE)
        os.replace(tokenizer_tmp, out_dir / TOKENIZER_FILE)
        os.replace(meta_tmp, meta_final)
    finally:
        for leftover in (onnx_tmp, documents_tmp, tokenizer_tmp, meta_tmp):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return out_dir


def _export_to(
    model_dir: Path, layout: ModelLayout, onnx_path: Path, tokenizer_path: Path
) -> tuple[dict[str, Any], numpy.ndarray]:
    """Load the model, write the ONNX graph and the tokenizer to the given paths.

    Returns the metadata for encoder.json and the model's own vectors for `_PROBE_TEXTS`.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    with _quiet_transformers():
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    model.eval()
    transformer: Any = model[0]
    hf_model: Any = transformer.auto_model
    hf_tokenizer: Any = transformer.tokenizer
    if hf_tokenizer is None or not getattr(hf_tokenizer, "is_fast", False):
        raise ValueError(f"{model_dir}: the model has no fast (Rust) tokenizer, which the ONNX encoder needs")
    max_seq_length = model.max_seq_length
    if not isinstance(max_seq_length, int) or max_seq_length <= 0:
        raise ValueError(f"{model_dir}: cannot tell the model's max_seq_length ({max_seq_length!r})")

    prompt = ""
    default_prompt_name = getattr(model, "default_prompt_name", None)
    if default_prompt_name:
        prompt = str(getattr(model, "prompts", {}).get(default_prompt_name, ""))
    if prompt and not layout.include_prompt:
        raise ValueError(f"{model_dir}: a default prompt excluded from pooling is not supported by the ONNX encoder")

    input_names = [
        name
        for name in KNOWN_INPUTS
        if (name == "input_ids" or name in hf_tokenizer.model_input_names) and _forward_accepts(hf_model, name)
    ]

    class _TokenEmbeddings(torch.nn.Module):
        """The transformer as a function of positional tensors, returning last_hidden_state."""

        def __init__(self, inner: torch.nn.Module, names: Sequence[str]) -> None:
            super().__init__()
            self.inner = inner
            self.names = tuple(names)

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            outputs: Any = self.inner(**dict(zip(self.names, tensors, strict=True)), return_dict=True)
            hidden: torch.Tensor = outputs.last_hidden_state
            return hidden

    # Two texts of different lengths, so the example batch has padding and the traced graph keeps
    # the attention mask (an all-ones mask may be optimised away by the model's masking code).
    example = hf_tokenizer(
        ["an example question about load balancers and firewalls", "short"],
        padding=True,
        truncation=True,
        max_length=max_seq_length,
        return_tensors="pt",
    )
    args = tuple(example[name] for name in input_names)
    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    dynamic_axes[OUTPUT_NAME] = {0: "batch", 1: "sequence"}
    wrapper = _TokenEmbeddings(hf_model, input_names).eval()
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            args,
            str(onnx_path),
            input_names=input_names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic_axes,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )

    # The tokenizer exactly as sentence-transformers uses it (do_lower_case may have added a
    # Lowercase normalizer), set to truncate at max_seq_length and pad to the batch's longest.
    from tokenizers import Tokenizer

    padding_side = str(getattr(hf_tokenizer, "padding_side", "right"))
    truncation_side = str(getattr(hf_tokenizer, "truncation_side", "right"))
    pad_token = hf_tokenizer.pad_token
    pad_id = hf_tokenizer.pad_token_id
    if pad_token is None or pad_id is None:
        raise ValueError(f"{model_dir}: the tokenizer has no pad token")
    pad_type_id = int(getattr(hf_tokenizer, "pad_token_type_id", 0) or 0)
    rust_tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    rust_tokenizer.enable_truncation(max_length=max_seq_length, strategy="longest_first", direction=truncation_side)
    rust_tokenizer.enable_padding(
        direction=padding_side, pad_id=int(pad_id), pad_type_id=pad_type_id, pad_token=str(pad_token)
    )
    rust_tokenizer.save(str(tokenizer_path))

    hidden_size = int(hf_model.config.hidden_size)
    dimension = hidden_size * len(layout.pooling_modes)
    # sentence-transformers 6 renamed get_sentence_embedding_dimension (kept, deprecated) to get_embedding_dimension.
    get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    st_dimension = get_dimension()
    if st_dimension is not None and int(st_dimension) != dimension:
        raise ValueError(f"{model_dir}: sentence embedding dimension {st_dimension} != {dimension} from pooling")

    # sentence-transformers applies the default prompt itself, as OnnxQueryEncoder.encode does.
    reference = model.encode(
        list(_PROBE_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )

    import sentence_transformers

    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "export_revision": EXPORT_REVISION,
        "source_model": str(model_dir.resolve()),
        "pooling_mode": list(layout.pooling_modes),
        "normalize": layout.normalize,
        "normalize_output": True,
        "max_seq_length": max_seq_length,
        "do_lower_case": layout.do_lower_case,
        "prompt": prompt,
        "hidden_size": hidden_size,
        "dimension": dimension,
        "input_names": input_names,
        "output_name": OUTPUT_NAME,
        "opset": ONNX_OPSET,
        "padding_side": padding_side,
        "truncation_side": truncation_side,
        "pad_token": str(pad_token),
        "pad_token_id": int(pad_id),
        "pad_token_type_id": pad_type_id,
        "exported_with": {
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
    }
    return meta, reference


def _verify_export(
    model_dir: Path, meta: dict[str, Any], onnx_path: Path, tokenizer_path: Path, reference: numpy.ndarray
) -> None:
    """Encode the probe texts with the new files and compare with the original model's vectors."""
    import numpy as np

    encoder = OnnxQueryEncoder._from_files(meta, onnx_path, tokenizer_path, threads=None)
    got = encoder.encode(list(_PROBE_TEXTS))
    reference = np.asarray(reference, dtype=np.float32)
    reference = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
    cosines = (got * reference).sum(axis=1)
    if got.shape != reference.shape or float(cosines.min()) < _MIN_PROBE_COSINE:
        raise RuntimeError(
            f"{model_dir}: the ONNX export does not reproduce the model's embeddings "
            f"(cosines {np.round(cosines, 4).tolist()}); not installing it"
        )


def _quantize_for_documents(
    meta: dict[str, Any], onnx_path: Path, documents_path: Path, tokenizer_path: Path
) -> dict[str, Any]:
    """Write an int8 copy of the encoder for embedding notes at index time, if it stays faithful.

    Why: indexing embeds every passage and every line of the notes, and that is most of a full
    build; dynamic int8 quantization (weights per channel) makes it about 1.8x faster on a 2-core
    CPU. Queries keep the float model, so a question is embedded exactly as sentence-transformers
    would. Measured on the eval set, int8 passages and lines retrieve as well as float ones
    (README, "What each change added"). The copy is checked on this machine (int8 kernels differ by
    CPU) against the float encoder; any failure or a cosine below `_MIN_DOCUMENT_COSINE` leaves
    documents on the float model. Returns the metadata keys to add (saying why, when skipped).
    """
    try:
        import numpy as np
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _quiet_quantizer():
            quantize_dynamic(str(onnx_path), str(documents_path), per_channel=True, weight_type=QuantType.QInt8)
        size = documents_path.stat().st_size
        float_encoder = OnnxQueryEncoder._from_files(meta, onnx_path, tokenizer_path, threads=None)
        int8_encoder = OnnxQueryEncoder._from_files(
            {**meta, "onnx_bytes": size}, documents_path, tokenizer_path, threads=None
        )
        probes = [text for text in _PROBE_TEXTS if text]
        cosines = (float_encoder.encode(probes) * int8_encoder.encode(probes)).sum(axis=1)
        if float(np.min(cosines)) < _MIN_DOCUMENT_COSINE:
            raise ValueError(f"int8 copy drifts (cosines {np.round(cosines, 4).tolist()})")
    except Exception as exc:  # noqa: BLE001 - an optional speed-up: documents fall back to the float model
        with contextlib.suppress(FileNotFoundError):
            documents_path.unlink()
        return {"document_quantization": "none", "document_quantization_skipped": str(exc).splitlines()[0][:200]}
    return {
        "document_onnx_bytes": size,
        "document_quantization": DOCUMENT_QUANTIZATION,
        "document_probe_min_cosine": round(float(np.min(cosines)), 5),
    }


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """onnxruntime's quantizer logs a 'consider pre-processing' warning with `logging.warning`, which
    would also install a stderr handler on the root logger for good: give it a silent one instead."""
    import logging

    root = logging.getLogger()
    level = root.level
    silent = logging.NullHandler()
    root.addHandler(silent)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
        root.removeHandler(silent)


# --------------------------------------------------------------------------------------------
# Query time: onnxruntime + tokenizers + numpy
# --------------------------------------------------------------------------------------------

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
    meta = _read_json(path, "ONNX encoder metadata")
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
    """Available and made by this code's export (an older one lacks the int8 document model)."""
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


class OnnxQueryEncoder:
    """Embeds queries with an exported ONNX encoder: onnxruntime + tokenizers + numpy, no torch.

    `encode` returns float32 rows, L2-normalised, that match
    `SentenceTransformer(model).encode(texts, normalize_embeddings=True)` to within float noise.
    `threads` sets onnxruntime's intra-op threads (default: the CPU count, at most 2, which is
    what a single short query can use). `documents=True` runs the export's int8 document model when
    it has one (index time: about 1.8x faster, cosine >= 0.98 to the float model), else the float one.
    """

    def __init__(self, directory: Path, threads: int | None = None, *, documents: bool = False) -> None:
        directory = Path(directory)
        meta_path = directory / META_FILE
        meta = _load_meta(meta_path)
        self.directory = directory
        onnx_path = directory / ONNX_FILE
        documents_bytes = meta.get("document_onnx_bytes")
        if documents and isinstance(documents_bytes, int) and not isinstance(documents_bytes, bool):
            candidate = directory / DOCUMENT_ONNX_FILE
            with contextlib.suppress(OSError):
                if candidate.stat().st_size == documents_bytes:
                    onnx_path, meta = candidate, {**meta, "onnx_bytes": documents_bytes}
        self.quantized = onnx_path.name == DOCUMENT_ONNX_FILE
        self._setup(meta, onnx_path, directory / TOKENIZER_FILE, threads)

    @classmethod
    def _from_files(
        cls, meta: dict[str, Any], onnx_path: Path, tokenizer_path: Path, threads: int | None
    ) -> OnnxQueryEncoder:
        """An encoder over files not (yet) under their final names: the export's self-check."""
        encoder = cls.__new__(cls)
        encoder.directory = onnx_path.parent
        encoder.quantized = False
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
