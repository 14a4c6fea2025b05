"""Line vectors: each line unit embedded alone, each distinct text once."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.store.build import build_index
from assistant.store.chunk_store import read_chunks
from assistant.store.generation import current_generation
from assistant.store.vectors import LineVectors, text_key

from . import messy
from .conftest import FakeEmbedder

NOTES = {
    "vpc.md": "# VPC\n\n## Limits\n\n- Short line one\n- Memory: 128 MB to 10 GB\n",
    "lambda.md": "# Lambda\n\n## Limits\n\n- Memory: 128 MB to 10 GB\n- Timeout: 15 minutes\n",
}


def test_identical_line_texts_are_embedded_once_and_each_line_keeps_its_vector(tmp_path: Path) -> None:
    notes = messy.write_notes(tmp_path / "notes", NOTES)
    embedder = FakeEmbedder()
    report = build_index(notes, tmp_path / "index", embedder)
    generation = current_generation(tmp_path / "index")
    assert generation is not None
    chunks = read_chunks(generation)
    stored = LineVectors.load(generation, len(chunks), embedder.dimension)
    assert stored is not None
    units = ["Limits\n- Short line one", "Limits\n- Memory: 128 MB to 10 GB", "Limits\n- Timeout: 15 minutes"]
    assert report.lines_embedded == 3 and len(stored.keys) == 4  # "Memory" twice, embedded once
    expected = dict(zip(units, embedder.embed_documents(units), strict=True))
    for key, owner, vector in zip(stored.keys, stored.owner, stored.vectors, strict=True):
        (text,) = [unit for unit in units if text_key(unit) == key.decode()]
        assert text.split("\n")[1][2:] in chunks[owner].text
        np.testing.assert_array_equal(vector, expected[text])
