"""Model folders for the tests of the model export and its cache, where a stand-in embedder would
skip the very code under test: the engine then chooses the model's way itself (`Engine(settings)`),
and the model is chosen the way a user chooses it, by `--model` / `Settings.model` naming a folder.

- `exported_stand_in`: a folder that passes the usable-model check but holds no real weights, with
  its export (the tiny hand-made ONNX encoder of tests/test_onnx_encoder.py) already in this
  machine's cache, as a machine that has built with it before holds it. Builds run the real cache,
  the real copy into the index and the real ONNX question path, in milliseconds and without torch;
  anything that would export it again fails, as exporting a folder without weights does.
- `tiny_real_model`: a real sentence-transformers model (one layer, 8 wide, random weights) that
  torch exports in a couple of seconds: for the export itself (slow tests: it imports torch).
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.model.encoder_cache import store_encoder
from tests.test_onnx_encoder import _write_tiny_encoder

WORDS = "a b c d e lambda memory nacl stateless firewall subnet storage network drive instance the is what".split()
"""The tiny real model's vocabulary (besides BERT's special tokens)."""


def exported_stand_in(folder: Path, scratch: Path) -> Path:
    """A model folder without real weights whose export is in the cache (NOTES_CACHE must point at a
    test's own folder: the entry is keyed by the folder's files). Returns the folder."""
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 4}), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 4}), encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"not weights")
    entry = store_encoder(str(folder), _write_tiny_encoder(scratch, ["mean"]))
    assert entry is not None, "the cache could not be written"
    return folder


def tiny_real_model(folder: Path, *, prompt_outside_pooling: bool = False) -> Path:
    """A real sentence-transformers model folder, small enough to export in seconds.

    `prompt_outside_pooling`: give it a default prompt that pooling leaves out, which
    sentence-transformers runs but the ONNX export refuses: a model that cannot be exported."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    transformer_dir = folder.parent / f".{folder.name}-transformer"
    transformer_dir.mkdir(parents=True)
    vocabulary = transformer_dir / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(transformer_dir)
    BertTokenizer(vocab_file=str(vocabulary)).save_pretrained(transformer_dir)
    modules = [
        Transformer(str(transformer_dir), max_seq_length=32),
        Pooling(8, "mean", include_prompt=not prompt_outside_pooling),
        Normalize(),
    ]
    prompts = {"query": "what is "} if prompt_outside_pooling else None
    model = SentenceTransformer(
        modules=modules, device="cpu", prompts=prompts, default_prompt_name="query" if prompts else None
    )
    model.save(str(folder))
    return folder
