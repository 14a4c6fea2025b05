"""What ranks first for each question missed at 1, beside the best-ranked gold passage, for sorting the
misses by hand (docs/retrieval-experiments.md, "Held-out misses at 1, one by one").

    .venv/bin/python docs/measure/miss_diagnosis.py CORPUS INDEX SET [OUT.md]

For each question whose first hybrid result does not overlap a gold span: the question and its kind,
each gold span with its evidence, and then for the first result and the first gold result (within the
top 10): the file, heading path, lines, each list's rank, the fused rank and the passage text (cut).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.evaluate.metrics import Span, first_hit_rank, relevance
from assistant.evaluate.run import load_questions
from assistant.retrieve.search import Searcher


def describe(hit, label: str) -> list[str]:
    chunk = hit.chunk
    path = " > ".join(chunk.heading_path)
    ranks = ", ".join(f"{name} {rank}" for name, rank in hit.ranks.items())
    text = " ".join(chunk.display_text.split())[:700]
    return [
        f"- **{label}** (#{hit.rank}) `{chunk.file}:{chunk.start_line}-{chunk.end_line}` — {path}",
        f"  - lists: {ranks}; fused {hit.fused_rank}; answer {hit.answer.start_line}-{hit.answer.end_line}",
        f"  - text: {text}",
    ]


def main(corpus: Path, index: Path, set_path: Path, out: Path | None) -> None:
    searcher = Searcher.load(index)
    lines: list[str] = []
    misses = 0
    for question in load_questions(set_path, corpus):
        response = searcher.search(question.question, k=10, mode="hybrid")
        returned = [Span(h.chunk.file, h.chunk.start_line, h.chunk.end_line) for h in response.hits]
        matched = relevance(returned, list(question.gold))
        rank = first_hit_rank(matched)
        if rank == 1:
            continue
        misses += 1
        lines.append(f"### {question.id} ({question.kind}) {question.question!r} — first gold at {rank}")
        if response.searched != question.question:
            lines.append(f"searched: {response.searched!r}")
        for span, evidence in zip(question.gold, question.evidence, strict=True):
            lines.append(f"- gold `{span.file}:{span.start_line}-{span.end_line}`: {evidence!r}")
        lines += describe(response.hits[0], "first")
        if rank is not None:
            lines += describe(response.hits[rank - 1], "gold")
        lines.append("")
    lines.insert(0, f"{misses} questions missed at 1\n")
    text = "\n".join(lines) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]) if len(sys.argv) > 4 else None)
