"""A sentence-transformers model folder, read as plain JSON (no torch): its modules and pooling.

What the ONNX export (onnx_export.py) and its runtime (onnx_encoder.py) both need to know about a
model: which folder holds the transformer, how token vectors are pooled, whether the output is
normalised, and its window (max_seq_length). Supports the Transformer -> Pooling -> (Normalize)
pipeline of BERT-like models; anything else is refused with a ValueError naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

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


def read_json(path: Path, what: str) -> Any:
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
        modules = read_json(modules_path, "modules.json")
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
                config = read_json(pooling_path, "pooling config")
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
        st_config = read_json(st_config_path, "sentence_bert_config.json")
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


# Read by the sentence-transformers embedder too: the window, the width and the tokenizer of a model
# folder, each with a safe default when the file is missing.
def _model_file(path: str, name: str) -> Path | None:
    candidate = Path(path) / name
    return candidate if candidate.is_file() else None


def _config_number(path: str, name: str, *keys: str) -> int | None:
    """A positive integer setting of one of the model's JSON configs, the first of `keys` it has; None
    when the file or keys are missing or unreadable (any sentence-transformers model loads, unlike
    `read_model_layout`, which refuses what the ONNX export cannot run)."""
    config = _model_file(path, name)
    if config is None:
        return None
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    if not isinstance(data, dict):
        return None
    for key in keys:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _pooling_dir(path: str) -> str:
    """Where the model's Pooling module keeps its config (modules.json says; "1_Pooling" by default)."""
    modules = _model_file(path, "modules.json")
    if modules is not None:
        try:
            for module in json.loads(modules.read_text(encoding="utf-8")):
                if str(module.get("type", "")).endswith("Pooling"):
                    return str(module.get("path", "1_Pooling"))
        except (ValueError, OSError, AttributeError, TypeError):
            pass
    return "1_Pooling"


NO_TOKENIZER_LIMIT = 1_000_000
"""Tokenizers that set no limit report a huge `model_max_length` (1e30): that is not a window."""


def model_max_tokens(path: str) -> int:
    """The model's window in word pieces, as sentence-transformers finds it: sentence_bert_config.json's
    max_seq_length; for a folder saved without one (sentence-transformers 6 writes none), the
    tokenizer's model_max_length, capped by the transformer's max_position_embeddings; else 256."""
    configured = _config_number(path, "sentence_bert_config.json", "max_seq_length")
    if configured is not None:
        return configured
    tokenizer = _config_number(path, "tokenizer_config.json", "model_max_length")
    positions = _config_number(path, "config.json", "max_position_embeddings")
    limits = [n for n in (tokenizer, positions) if n is not None and n < NO_TOKENIZER_LIMIT]
    return min(limits) if limits else 256


def model_dimension(path: str) -> int:
    """The model's vector width: its Pooling config's (`word_embedding_dimension`, or
    `embedding_dimension` as sentence-transformers 6 writes it), else the transformer's hidden size;
    0 when unknown (the loaded model says then)."""
    pooling = f"{_pooling_dir(path)}/config.json"
    pooled = _config_number(path, pooling, "word_embedding_dimension", "embedding_dimension")
    return pooled or _config_number(path, "config.json", "hidden_size") or 0


@lru_cache(maxsize=4)
def token_counter(path: str) -> Callable[[str], int]:
    """Count word pieces with the model's own fast tokenizer, so chunks are sized to its real window."""
    from assistant.notes.chunk import approximate_token_count

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


def require_usable_model(name: str, path: str) -> None:
    """Refuse, in one line naming it and why, a model that cannot be loaded, before anything is
    built with it: a folder that is not a sentence-transformers or transformers model, a path that
    does not exist, or a model name that is not in this machine's Hugging Face cache (nothing is
    ever downloaded). Cheap: a few small JSON files, no torch."""
    from assistant.errors import ModelUnusable

    fix = "give --model (or NOTES_MODEL) a sentence-transformers model folder, or leave it out for the default"
    folder = Path(path)
    if folder.is_dir():
        problem = _folder_problem(folder)
        if problem:
            raise ModelUnusable(f"model {name!r} cannot be used: {problem}", fix)
        return
    if folder.exists():
        raise ModelUnusable(f"model {name!r} cannot be used: {folder} is a file, not a model folder", fix)
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1:
        raise ModelUnusable(f"model folder not found: {name}", fix)
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid repository id
        cached = None
    if not isinstance(cached, str):
        raise ModelUnusable(
            f"model {name!r} is neither a folder nor in this machine's Hugging Face cache (nothing is downloaded)",
            fix,
        )


def _folder_problem(folder: Path) -> str:
    """Why a folder is not a model sentence-transformers could load ("" when it looks like one)."""
    transformer = folder
    modules_path = folder / "modules.json"
    if modules_path.is_file():
        try:
            modules = json.loads(modules_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            return f"{modules_path} is not readable JSON ({exc})"
        if not isinstance(modules, list) or not all(isinstance(module, dict) for module in modules):
            return f"{modules_path} is not a list of modules"
        first = next((m for m in modules if str(m.get("type", "")).endswith("Transformer")), None)
        if first is not None:
            transformer = folder / str(first.get("path", ""))
    config_path = transformer / "config.json"
    if not config_path.is_file():
        return f"{folder} holds no config.json (not a sentence-transformers or transformers model folder)"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        return f"{config_path} is not readable JSON ({exc})"
    if not isinstance(config, dict) or "model_type" not in config:
        return f"{config_path} names no model_type (not a transformers model configuration)"
    if not any((transformer / weights).is_file() for weights in ("model.safetensors", "pytorch_model.bin")):
        return f"{transformer} holds no weights (model.safetensors or pytorch_model.bin)"
    return ""
