"""Build a chunker or indexing variant into scratch copies of the two eval indexes, re-embedding only the
texts that changed, and evaluate both sets in-process (docs/retrieval-experiments.md, "Quality on
other authors' notes").

    .venv/bin/python docs/measure/variant_build.py LABEL [corpus|external ...]

A chunker change normally rebuilds every passage (a new CHUNKER_VERSION discards the old vectors).
Vectors depend only on the embedded text, so here every note is chunked again with the working
tree's code (each file's recorded hash is salted, so none looks unchanged) and every text whose
embedded form is unchanged keeps its vector. Each scratch index starts as a copy of the base index
(`BASE/<name>`, built with `notes index`), so the reuse is from the unchanged code's vectors.
"""

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import assistant.store.build as index_module
from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluate.run import load_questions, run_eval
from assistant.retrieve.search import Searcher

ROOT = Path(__file__).resolve().parents[2]
BASE = Path("/work/wt-quality-ix")
SETS = {
    "corpus": (ROOT / "corpus", ROOT / "evals/questions.jsonl"),
    "external": (ROOT.parent / "shared/testdata/aws-notes-external", ROOT / "evals/external-questions.jsonl"),
}


def _read_vectors(self, generation, manifest, dimension) -> None:
    """`_Previous._read_vectors`, with the base index's vectors kept under the hash of the text
    that was embedded then (each stored chunk's `content_hash`), not of what the working tree's code
    would embed for it now: a change to what is embedded must not find the old vectors."""
    from assistant.store.chunk_store import ChunkStore
    from assistant.store.token_vectors import DIRECTORY, TokenVectors
    from assistant.store.vectors import LineVectors, load_vectors

    chunks = list(ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store))
    vectors = load_vectors(generation)
    for row, chunk in enumerate(chunks):
        self.chunks.setdefault(chunk.file, []).append(chunk)
        self.vectors.setdefault(chunk.content_hash[:32], vectors[row])
    lines = LineVectors.load(generation, len(chunks), dimension)
    if lines is not None:
        self.vectors.update(lines.by_key())
    stored = TokenVectors.load(generation / DIRECTORY, len(chunks), dimension)
    self.tokens = {chunk.content_hash[:32]: stored.passage(row) for row, chunk in enumerate(chunks)}
    self.projection = stored.projection


def main(label: str, names: list[str]) -> None:
    real = index_module.digest_bytes
    index_module.digest_bytes = lambda raw: real(raw) + "-variant"
    index_module._Previous._read_vectors = _read_vectors
    if os.environ.get("TARGET_TOKENS"):  # a smaller packing target than the model's window
        import functools

        index_module.chunk_document = functools.partial(
            index_module.chunk_document, target_tokens=int(os.environ["TARGET_TOKENS"])
        )
    for name in names:
        corpus, questions = SETS[name]
        scratch = BASE / f"scratch-{name}"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(BASE / name, scratch, symlinks=True)
        started = time.perf_counter()
        report = Engine(Settings(corpus_dir=corpus, index_dir=scratch)).build()
        took = time.perf_counter() - started
        searcher = Searcher.load(scratch)
        asked = load_questions(questions, corpus)
        cells = []
        for mode in ("hybrid", "dense", "bm25"):
            result = run_eval(searcher, asked, mode)
            m = result.metrics
            cells.append(f"{mode} {m['hit@1']:.3f} {m['hit@5']:.3f} {m['mrr@10']:.3f}")
            if mode == "hybrid":
                cells.append(f"answers {result.answers.get('answer', 0):.3f}")
                ranks = {q["id"]: q["rank"] for q in result.per_question}
                (BASE / f"ranks-{label}-{name}.txt").write_text(
                    "\n".join(f"{k} {v}" for k, v in ranks.items()), encoding="utf-8"
                )
        print(
            f"{label} | {name} | {report.chunks} passages, {report.embedded} embedded, {report.lines_embedded} lines "
            f"embedded, {took:.0f} s | " + " | ".join(cells),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["corpus", "external"])
