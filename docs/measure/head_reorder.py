"""Reorderings of the first few results (after the rerank and the joining of pieces) aimed at the held-out
misses' shapes, scored in-process on both sets (docs/retrieval-experiments.md, "Held-out misses at 1,
one by one").

    .venv/bin/python docs/measure/head_reorder.py gather CORPUS INDEX SET OUT.json
    .venv/bin/python docs/measure/head_reorder.py score HERE.json HELDOUT.json

`gather` asks each question once (k 15, hybrid, what users get) and keeps, per result, what the
variants read: its span, heading path, rerank score, answer line, the passage vector of its first
row, and the question's BM25 terms with their IDF. `score` replays every variant on both sets.
A variant only reorders results: each result keeps its span, so a figure moves exactly when the
order puts a gold passage higher or lower.
"""

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from assistant.evaluate.metrics import Span, mean_metrics, question_metrics, relevance
from assistant.evaluate.run import load_questions
from assistant.retrieve.search import Searcher
from assistant.store.lexical import tokenize

K = 15
OPTION = re.compile(r"^\s*(?:[-*+]\s+)?[A-E][.)]\s", re.M)
"""A multiple-choice option line ("- A. …", "B) …")."""


def gather(corpus: Path, index: Path, set_path: Path, out: Path) -> None:
    searcher = Searcher.load(index)
    chunks = searcher.chunks
    row_of = {(chunks[i].file, chunks[i].start_line): i for i in range(len(chunks))}
    records = []
    for question in load_questions(set_path, corpus):
        response = searcher.search(question.question, k=K, mode="hybrid")
        terms = sorted(set(tokenize(response.searched)))
        hits = []
        for hit in response.hits:
            chunk = hit.chunk
            row = row_of[(chunk.file, chunk.start_line)]
            hits.append(
                {
                    "file": chunk.file,
                    "start": chunk.start_line,
                    "end": chunk.end_line,
                    "path": list(chunk.heading_path),
                    "score": hit.rank_score,
                    "answer": hit.answer.text,
                    "options": len(OPTION.findall(chunk.text)),
                    "procedural": procedural_share(chunk.text),
                    "vector": [round(float(v), 5) for v in searcher.index.dense_index.reconstruct(row)],
                }
            )
        heads = [h["path"][-1] if h["path"] else "" for h in hits]
        if hits:
            encoded = searcher.encoder.encode([response.searched, *heads])
            for hit, cosine in zip(hits, encoded[1:] @ encoded[0], strict=True):
                hit["heading_cosine"] = float(cosine)
        records.append(
            {
                "id": question.id,
                "question": question.question,
                "searched": response.searched,
                "terms": searcher.index.lexical.idf(terms),
                "gold": [[s.file, s.start_line, s.end_line] for s in question.gold],
                "hits": hits,
            }
        )
    out.write_text(json.dumps(records), encoding="utf-8")


# ------------------------------------------------------------------ features

STEP = re.compile(r"^\s*\d+[.)]\s")


def procedural_share(text: str) -> float:
    """The share of a passage's non-blank lines that are code (inside a fence) or numbered steps."""
    inside, counted, procedural = False, 0, 0
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
            continue
        if not line.strip():
            continue
        counted += 1
        procedural += inside or bool(STEP.match(line))
    return procedural / counted if counted else 0.0


def coverage(text: str, terms: dict[str, float]) -> float:
    """The IDF-weighted share of the question's terms found in `text`'s terms."""
    if not terms:
        return 0.0
    have = set(tokenize(text))
    total = sum(terms.values())
    return sum(w for t, w in terms.items() if t in have) / total if total else 0.0


def nearest(hit: dict) -> str:
    return hit["path"][-1] if hit["path"] else ""


def whole_path(hit: dict) -> str:
    return " ".join(hit["path"])


# ------------------------------------------------------------------ variants: a record → its hits reordered

Variant = Callable[[dict], list[dict]]


def baseline(record: dict) -> list[dict]:
    return record["hits"]


def head(hits: list[dict], depth: int, delta: float) -> tuple[list[dict], list[dict]]:
    """The first `depth` results scoring within `delta` of the first (the group a variant may
    reorder), and the rest in their order; both empty for no results."""
    top = hits[0]["score"] if hits else 0.0
    group = [h for h in hits[:depth] if top - h["score"] <= delta]
    return group, [h for h in hits if h not in group]


def heading_tiebreak(depth: int, delta: float, heading: Callable[[dict], str], strict_all: bool = False) -> Variant:
    """Within the first `depth` results scoring within `delta` of the first, the one whose heading
    covers more of the question's terms goes first (ties keep the rerank's order). `strict_all`: a
    result moves up only if its heading holds every question term the others' headings hold, and more."""

    def reorder(record: dict) -> list[dict]:
        group, rest = head(record["hits"], depth, delta)
        terms = record["terms"]
        if strict_all and group:
            have = [set(tokenize(heading(h))) & set(terms) for h in group]
            best = max(range(len(group)), key=lambda i: (len(have[i]), -i))
            if best and all(have[j] < have[best] for j in range(best)):
                group = [group[best]] + [h for i, h in enumerate(group) if i != best]
            return group + rest
        keyed = sorted(enumerate(group), key=lambda item: (-coverage(heading(item[1]), terms), item[0]))
        return [h for _i, h in keyed] + rest

    return reorder


TABLE_ROW = re.compile(r"^\s*\|")


def table_row_demotion(depth: int, heading: Callable[[dict], str]) -> Variant:
    """When the first result's answer line is a table row and a result within `depth` has a heading that
    covers more of the question's terms than the first's heading does, that result goes first."""

    def reorder(record: dict) -> list[dict]:
        hits = record["hits"]
        if not hits or not TABLE_ROW.match(hits[0]["answer"] or ""):
            return hits
        terms = record["terms"]
        first = coverage(heading(hits[0]), terms)
        for i, hit in enumerate(hits[1:depth], 1):
            if coverage(heading(hit), terms) > first:
                return [hit] + [h for j, h in enumerate(hits) if j != i]
        return hits

    return reorder


def dedup(threshold: float, depth: int = 10) -> Variant:
    """MMR-like: a result whose passage vector is within `threshold` cosine of a result ranked above it
    goes below the first `depth` (a near-duplicate adds nothing a reader has not seen)."""

    def reorder(record: dict) -> list[dict]:
        kept: list[dict] = []
        moved: list[dict] = []
        for hit in record["hits"]:
            v = np.asarray(hit["vector"])
            if len(kept) < depth and any(float(v @ np.asarray(k["vector"])) >= threshold for k in kept):
                moved.append(hit)
            else:
                kept.append(hit)
        return kept[:depth] + moved + kept[depth:]

    return reorder


COMPARISON = re.compile(r"\b(?:vs\.?|versus|compared? (?:to|with)|difference between)\b", re.I)


def comparison(depth: int) -> Variant:
    """A question that compares ("x vs y", "difference between x and y"): within `depth`, the first
    result whose heading path holds terms of both sides goes first."""

    def reorder(record: dict) -> list[dict]:
        text = record["searched"]
        match = COMPARISON.search(text)
        if not match:
            return record["hits"]
        left = set(tokenize(text[: match.start()]))
        right_text = text[match.end() :]
        if match.group(0).lower().startswith("difference"):
            parts = re.split(r"\band\b", right_text, maxsplit=1)
            if len(parts) < 2:
                return record["hits"]
            left, right_text = set(tokenize(parts[0])), parts[1]
        right = set(tokenize(right_text))
        left, right = left - right, right - left
        hits = record["hits"]
        for i, hit in enumerate(hits[:depth]):
            have = set(tokenize(whole_path(hit)))
            if have & left and have & right:
                return [hit] + [h for j, h in enumerate(hits) if j != i]
        return hits

    return reorder


def earlier_section(depth: int, delta: float) -> Variant:
    """Within the first `depth` results scoring within `delta` of the first, a result from the same note
    as one above it but earlier in the note goes above it (a note's overview before its demo steps)."""

    def reorder(record: dict) -> list[dict]:
        hits = list(record["hits"])
        if not hits:
            return hits
        top = hits[0]["score"]
        for i in range(1, min(depth, len(hits))):
            if top - hits[i]["score"] > delta:
                break
            for j in range(i):
                if hits[j]["file"] == hits[i]["file"] and hits[i]["start"] < hits[j]["start"]:
                    hits.insert(j, hits.pop(i))
                    break
        return hits

    return reorder


def quiz_demotion(depth: int, delta: float, least: int = 3) -> Variant:
    """A passage of multiple-choice questions (at least `least` option lines) asks, it does not state:
    within the first `depth` results scoring within `delta` of the first, it goes below the ones that
    are not quizzes."""

    def reorder(record: dict) -> list[dict]:
        group, rest = head(record["hits"], depth, delta)
        return [h for h in group if h["options"] < least] + [h for h in group if h["options"] >= least] + rest

    return reorder


def consensus(weight: float, among: int, depth: int = 10) -> Variant:
    """Pseudo-relevance feedback: each of the first `depth` results scored by its rerank score plus
    `weight` times its passage vector's cosine to the mean of the first `among` results' vectors (both
    as z-scores among the `depth`): what several results agree on is more likely what was asked."""

    def reorder(record: dict) -> list[dict]:
        hits = record["hits"]
        head = hits[:depth]
        if len(head) < 3:
            return hits
        vectors = np.asarray([h["vector"] for h in head])
        centre = vectors[:among].mean(axis=0)
        agree = vectors @ centre
        scores = np.asarray([h["score"] for h in head])

        def z(values: np.ndarray) -> np.ndarray:
            spread = values.std()
            return (values - values.mean()) / spread if spread > 1e-9 else values * 0

        keyed = z(scores) + weight * z(agree)
        order = sorted(range(len(head)), key=lambda i: (-keyed[i], i))
        return [head[i] for i in order] + hits[depth:]

    return reorder


def heading_cosine_tiebreak(depth: int, delta: float) -> Variant:
    """Within the first `depth` results scoring within `delta` of the first, the one whose nearest
    heading's embedding is closest to the question's goes first."""

    def reorder(record: dict) -> list[dict]:
        group, rest = head(record["hits"], depth, delta)
        return sorted(group, key=lambda h: -h["heading_cosine"]) + rest

    return reorder


def procedural_demotion(depth: int, delta: float, least: float) -> Variant:
    """A passage mostly of code or numbered steps (a share of at least `least` of its lines) shows how
    to do something in one setting; within the first `depth` results scoring within `delta` of the
    first, it goes below those that are not."""

    def reorder(record: dict) -> list[dict]:
        group, rest = head(record["hits"], depth, delta)
        return [h for h in group if h["procedural"] < least] + [h for h in group if h["procedural"] >= least] + rest

    return reorder


def variants() -> dict[str, Variant]:
    found: dict[str, Variant] = {"baseline": baseline}
    for depth in (2, 3):
        for delta in (0.005, 0.01, 0.02, 0.05, 9.0):
            found[f"nearest-heading coverage, top {depth}, within {delta}"] = heading_tiebreak(depth, delta, nearest)
            found[f"heading-path coverage, top {depth}, within {delta}"] = heading_tiebreak(depth, delta, whole_path)
        for delta in (0.01, 0.02, 0.05):
            found[f"nearest-heading cosine, top {depth}, within {delta}"] = heading_cosine_tiebreak(depth, delta)
        found[f"nearest heading holds strictly more terms, top {depth}"] = heading_tiebreak(
            depth, 9.0, nearest, strict_all=True
        )
        found[f"table-row first demoted for a better nearest heading, top {depth}"] = table_row_demotion(depth, nearest)
        found[f"table-row first demoted for a better heading path, top {depth}"] = table_row_demotion(depth, whole_path)
        found[f"comparison: heading path names both sides, top {depth}"] = comparison(depth)
        for delta in (0.01, 0.02, 0.05, 9.0):
            found[f"same note: earlier section first, top {depth}, within {delta}"] = earlier_section(depth, delta)
    for depth in (2, 3, 5):
        for delta in (0.02, 0.05, 9.0):
            found[f"quiz passages below the others, top {depth}, within {delta}"] = quiz_demotion(depth, delta)
    for depth in (2, 3):
        for delta in (0.02, 0.05):
            for least in (0.3, 0.5, 0.7):
                found[
                    f"code/numbered-step passages below the others (share >= {least}), top {depth}, within {delta}"
                ] = procedural_demotion(depth, delta, least)
    for among in (3, 5, 10):
        for weight in (0.1, 0.2, 0.3, 0.5):
            found[f"consensus: + {weight} z(cosine to the mean of the first {among})"] = consensus(weight, among)
    for threshold in (0.85, 0.9, 0.95, 0.98):
        found[f"near-duplicates (cosine >= {threshold}) below the top 10"] = dedup(threshold)
    return found


def figures(records: list[dict], variant: Variant) -> tuple[dict[str, float], list[int]]:
    rows, firsts = [], []
    for record in records:
        gold = [Span(*g) for g in record["gold"]]
        hits = variant(record)[:10]
        matched = relevance([Span(h["file"], h["start"], h["end"]) for h in hits], gold)
        rows.append(question_metrics(matched, len(gold)))
        firsts.append(int(bool(matched) and matched[0] >= 0))
    return mean_metrics(rows), firsts


def score(here_path: Path, held_path: Path) -> None:
    here = json.loads(here_path.read_text(encoding="utf-8"))
    held = json.loads(held_path.read_text(encoding="utf-8"))
    base_here, base_here_first = figures(here, baseline)
    base_held, base_held_first = figures(held, baseline)
    columns = ["variant", "here Hit@1 / Hit@5 / MRR@10", "held-out Hit@1 / Hit@5 / MRR@10"]
    print("| " + " | ".join([*columns, "held-out at 1 +/-", "here at 1 +/-"]) + " |")
    print("|---|---|---|---|---|")
    for name, variant in variants().items():
        m_here, first_here = figures(here, variant)
        m_held, first_held = figures(held, variant)
        gained = [r["id"] for r, a, b in zip(held, base_held_first, first_held, strict=True) if b > a]
        lost = [r["id"] for r, a, b in zip(held, base_held_first, first_held, strict=True) if b < a]
        here_gained = sum(b > a for a, b in zip(base_here_first, first_here, strict=True))
        here_lost = sum(b < a for a, b in zip(base_here_first, first_here, strict=True))

        def fmt(m: dict[str, float]) -> str:
            return f"{m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['mrr@10']:.3f}"

        print(
            f"| {name} | {fmt(m_here)} | {fmt(m_held)} | +{','.join(gained) or '0'} −{','.join(lost) or '0'} "
            f"| +{here_gained} −{here_lost} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "gather":
        gather(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        score(Path(sys.argv[2]), Path(sys.argv[3]))
