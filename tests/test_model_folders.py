"""Any model folder: one saved by the installed sentence-transformers builds and answers; one that cannot
be used is refused in one line naming it and why, exit 2, before anything is built with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.model.layout import model_dimension, model_max_tokens
from assistant.store.build import build_index
from tests.messy import FakeEmbedder, run_notes, write_notes

NOTES = {
    "lambda.md": "# Lambda\n\n## Limits\n\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes max\n",
    "vpc.md": "# VPC\n\n## NACL\n\nA stateless firewall at the subnet level.\n",
}


def _unusable_folders(root: Path) -> dict[str, tuple[Path, str]]:
    """Model folders a user might point --model at by mistake, and what the refusal must name."""
    empty = root / "empty"
    empty.mkdir(parents=True)
    garbage = root / "garbage"
    garbage.mkdir()
    (garbage / "modules.json").write_text("not json", encoding="utf-8")
    no_weights = root / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    a_file = root / "notes.md"
    a_file.write_text("# not a model\n", encoding="utf-8")
    return {
        "empty": (empty, "holds no config.json"),
        "garbage": (garbage, "modules.json is not readable JSON"),
        "no weights": (no_weights, "holds no weights"),
        "a file": (a_file, "is a file, not a model folder"),
        "missing": (root / "missing", "model folder not found"),
    }


@pytest.mark.parametrize("case", ["empty", "garbage", "no weights", "a file", "missing"])
def test_an_unusable_model_folder_is_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = write_notes(tmp_path / "notes", NOTES)
    folder, reason = _unusable_folders(tmp_path / "models")[case]
    code, out, err = run_notes(
        capsys, "index", "--corpus", str(notes), "--index", str(tmp_path / "ix"), "--model", str(folder)
    )
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("notes: error:")]
    assert len(errors) == 1 and reason in errors[0] and str(folder) in errors[0]
    assert "Traceback" not in err
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_a_model_name_not_on_this_machine_is_refused_without_a_download(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = write_notes(tmp_path / "notes", NOTES)
    code, _out, err = run_notes(
        capsys, "index", "--corpus", str(notes), "--index", str(tmp_path / "ix"), "--model", "nobody/no-such-model"
    )
    assert code == 2
    assert "nor in this machine's Hugging Face cache" in err and "Traceback" not in err


def test_an_index_whose_model_is_not_on_this_machine_still_answers_keyword_questions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal is for builds: an index whose model is not on this machine (and which holds no
    export of it) still opens, says that its questions take the slow path, and answers a BM25
    question, which needs no model (as the bench's stand-in indexes are asked)."""
    notes = write_notes(tmp_path / "notes", NOTES)
    build_index(notes, tmp_path / "ix", FakeEmbedder(name="nobody/no-such-model"))
    where = ["--corpus", str(notes), "--index", str(tmp_path / "ix"), "--model", "nobody/no-such-model"]
    code, out, err = run_notes(capsys, "ask", "stateless firewall", "--mode", "bm25", "-k", "1", *where)
    assert code == 0, err
    assert "vpc.md" in out and "slow path" in err
    (notes / "vpc.md").write_text("# VPC\n\n## NACL\n\nNow stateful.\n", encoding="utf-8")
    code, _out, err = run_notes(capsys, "ask", "stateless firewall", "--mode", "bm25", *where)
    assert code == 2 and "nor in this machine's Hugging Face cache" in err, "refreshing it is a build: refused"


def test_the_window_and_width_of_a_sentence_transformers_6_save(tmp_path: Path) -> None:
    """sentence-transformers 6 writes `embedding_dimension` (not `word_embedding_dimension`) in the
    Pooling config and no max_seq_length: both are still read, from the files it does write."""
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"embedding_dimension": 384}), encoding="utf-8")
    (folder / "sentence_bert_config.json").write_text(json.dumps({"transformer_task": "feature-extraction"}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 256}), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 512, "hidden_size": 384}))
    assert model_dimension(str(folder)) == 384
    assert model_max_tokens(str(folder)) == 256


@pytest.mark.slow
def test_a_model_saved_by_the_installed_sentence_transformers_builds_and_answers(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from assistant.config import resolve_model_path

    saved = tmp_path / "fine-tuned"
    SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu", local_files_only=True).save(str(saved))
    assert "embedding_dimension" in (saved / "1_Pooling" / "config.json").read_text(encoding="utf-8")
    notes = write_notes(tmp_path / "notes", NOTES)
    engine = Engine(Settings(corpus_dir=notes, index_dir=tmp_path / "ix", model=str(saved)))
    report = engine.build()
    assert report.chunks >= 2
    status = engine.status()
    assert status.state == "ready", status.problems
    response = engine.search("how much memory can a lambda function have", k=2)
    assert response.hits[0].chunk.file == "lambda.md"
    assert "10 GB" in response.hits[0].answer.text
