"""Exporting a sentence-transformers model to ONNX, once per model and machine (index-build time).

torch and sentence-transformers are imported here, and only here. `export_onnx_encoder` loads the
model, exports its transformer with torch's TorchScript-based exporter (token ids in, token
embeddings out, dynamic batch and sequence axes), saves the fast tokenizer exactly as
sentence-transformers configures it, checks the result against the model itself on probe texts and
writes `encoder.json` last. The runtime that reads these files is onnx_encoder.py.

It also fits the model's token projection (token_vectors.model_projection), which depends on the
model alone, never on anyone's notes. Each file is written under a temporary name and moved into
place with `os.replace`; `encoder.json` is removed first and written last, so a crash leaves either a
complete export or none that `onnx_encoder_available` accepts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.files import fsync_file, write_json_durably
from assistant.model.layout import ModelLayout, read_model_layout
from assistant.model.onnx_encoder import (
    EXPORT_REVISION,
    FORMAT_NAME,
    FORMAT_VERSION,
    KNOWN_INPUTS,
    LEGACY_DOCUMENT_FILE,
    META_FILE,
    ONNX_FILE,
    PROJECTION_FILE,
    TOKENIZER_FILE,
    OnnxEncoder,
)

if TYPE_CHECKING:
    import numpy
    import torch

ONNX_OPSET = 17
OUTPUT_NAME = "token_embeddings"
# Texts the export runs through both the original model and the ONNX encoder to check them.
_PROBE_TEXTS = (
    "what is the maximum memory for a lambda function?",
    "nacl",
    "",
    "Can a WAF sit in front of a network load balancer, or only an ALB? " * 40,
)
_MIN_PROBE_COSINE = 0.999


def _temp_path(out_dir: Path, name: str) -> Path:
    return out_dir / f".{name}.tmp-{os.getpid()}"


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Delete temp files left by exports that crashed (their process is gone); keep live ones."""
    for name in (ONNX_FILE, PROJECTION_FILE, TOKENIZER_FILE, META_FILE):
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
    projection_tmp = _temp_path(out_dir, PROJECTION_FILE)
    tokenizer_tmp = _temp_path(out_dir, TOKENIZER_FILE)
    meta_tmp = _temp_path(out_dir, META_FILE)
    for outdated in (LEGACY_DOCUMENT_FILE, PROJECTION_FILE):
        with contextlib.suppress(FileNotFoundError):
            (out_dir / outdated).unlink()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta, reference = _export_to(model_dir, layout, onnx_tmp, tokenizer_tmp)
        meta["onnx_bytes"] = onnx_tmp.stat().st_size
        meta["tokenizer_bytes"] = tokenizer_tmp.stat().st_size
        encoder = _verify_export(model_dir, meta, onnx_tmp, tokenizer_tmp, reference)
        meta["projection"] = _write_projection(encoder, projection_tmp)
        for path in (onnx_tmp, tokenizer_tmp, projection_tmp):
            fsync_file(path)
        write_json_durably(meta_tmp, meta, indent=2)
        os.replace(onnx_tmp, out_dir / ONNX_FILE)
        os.replace(projection_tmp, out_dir / PROJECTION_FILE)
        os.replace(tokenizer_tmp, out_dir / TOKENIZER_FILE)
        os.replace(meta_tmp, meta_final)
    finally:
        for leftover in (onnx_tmp, projection_tmp, tokenizer_tmp, meta_tmp):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return out_dir


def _eager_attention(model: Any) -> None:
    """Trace attention as plain matrix products. transformers' default (torch's scaled dot-product
    attention) exports with a guard against fully masked rows, an IsNaN and a Where over every
    attention matrix, that cost 11 % of the model's CPU time in onnxruntime; this model's vectors
    are the same to 2e-7 either way (docs/speed.md, "Issue 25, second session")."""
    setter = getattr(model, "set_attn_implementation", None)
    if callable(setter):
        try:
            setter("eager")
            return
        except (ValueError, AttributeError):  # a model without an eager path keeps its own
            return
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "_attn_implementation"):
        config._attn_implementation = "eager"


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
    _eager_attention(hf_model)
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

    # sentence-transformers applies the default prompt itself, as OnnxEncoder.encode does.
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
) -> OnnxEncoder:
    """Encode the probe texts with the new files and compare with the original model's vectors;
    returns the checked encoder."""
    import numpy as np

    encoder = OnnxEncoder._from_files(meta, onnx_path, tokenizer_path, threads=None)
    got = encoder.encode(list(_PROBE_TEXTS))
    reference = np.asarray(reference, dtype=np.float32)
    reference = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
    cosines = (got * reference).sum(axis=1)
    if got.shape != reference.shape or float(cosines.min()) < _MIN_PROBE_COSINE:
        raise RuntimeError(
            f"{model_dir}: the ONNX export does not reproduce the model's embeddings "
            f"(cosines {np.round(cosines, 4).tolist()}); not installing it"
        )
    return encoder


def _write_projection(encoder: OnnxEncoder, path: Path) -> dict[str, Any]:
    """The model's token projection (token_vectors.model_projection), saved as plain .npy; returns
    what encoder.json records of it."""
    import numpy as np

    from assistant.model.projection import model_projection, vocabulary_words

    words = vocabulary_words(encoder.vocabulary())
    projection = model_projection(encoder.encode_with_tokens, words, encoder.dimension)
    with path.open("wb") as handle:
        np.save(handle, projection, allow_pickle=False)
    return {"words": len(words), "dimensions": int(projection.shape[1])}
