"""`notes eval --html FILE`: one self-contained page with the run's figures drawn.

Figures by mode and by kind of question as bar charts, the rank changes against the run compared
with as a dumbbell chart (each changed question: its rank before → after, a miss at the right), the
p-values, and the misses with their citations and the gold's evidence. Inline SVG and CSS only: no
network, no external file, a Content-Security-Policy that forbids fetching anything, and one tiny
inline script (allowed by its hash) that marks each chart with how many of its marks have a size,
so a test in a real browser can tell the charts rendered. Note text and questions are untrusted:
every string goes through `html.escape`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from assistant.evaluate.compare import Comparison, ModeComparison
from assistant.evaluate.metrics import METRICS
from assistant.evaluate.questions import QuestionSet
from assistant.evaluate.report import missed
from assistant.evaluate.run import RunResult

MODE_COLOURS = {"hybrid": "#3b6fb6", "dense": "#d9822b", "bm25": "#4d9a4a"}
METRIC_COLOURS = {"hit@1": "#3b6fb6", "hit@5": "#8fb0dc", "mrr@10": "#d9822b"}
MAX_CHANGED = 60
"""Questions drawn in a rank-change chart (the most moved first; the report lists all)."""

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.verdict{font-weight:600;padding:.6em .8em;border-radius:4px;background:#f2f2f2}
.verdict.worse{background:#fbe3e1}.verdict.better{background:#e2f2df}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.chart text{font:12px system-ui,sans-serif;fill:#333}.muted{color:#777}
code{font-size:.92em;background:#f6f6f6;padding:0 .2em}
"""

SCRIPT = (
    "(function(){var n=0;document.querySelectorAll('svg.chart').forEach(function(svg){var m=0;"
    "svg.querySelectorAll('[data-mark]').forEach(function(e){var b=e.getBoundingClientRect();"
    "if(b.width>0&&b.height>0){m++;}});svg.setAttribute('data-rendered',String(m));if(m>0){n++;}});"
    "document.documentElement.setAttribute('data-charts-rendered',String(n));})();"
)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def write_html(
    path: Path,
    results: Sequence[RunResult],
    questions: QuestionSet,
    comparison: Comparison | None,
    *,
    verdict: str,
    word: str,
    about: dict[str, str],
) -> Path:
    """Write the page; `about` names the notes folder, the set, the run, the model (shown as given)."""
    page = render_page(results, questions, comparison, verdict=verdict, word=word, about=about)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def render_page(
    results: Sequence[RunResult],
    questions: QuestionSet,
    comparison: Comparison | None,
    *,
    verdict: str,
    word: str,
    about: dict[str, str],
) -> str:
    policy = f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}"
    facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in about.items())
    counts = (
        f"{questions.count} questions: {len(questions.scored)} scored, {len(questions.unanswered)} unanswered, "
        f"{len(questions.stale)} stale"
    )
    body = [
        "<h1>Retrieval eval</h1>",
        f'<p class="verdict {_e(word)}">{_e(verdict)}</p>',
        f"<table>{facts}<tr><th>questions</th><td>{_e(counts)}</td></tr></table>",
        "<h2>Figures by mode</h2>",
        _mode_chart(results),
        _mode_table(results),
        "<h2>By kind of question</h2>",
    ]
    for result in results:
        body += [f"<h3>{_e(result.mode)}</h3>", _kind_chart(result), _kind_table(result)]
    body.append("<h2>Rank changes</h2>")
    if comparison is None:
        body.append('<p class="muted">No earlier run to compare with: the next run will be compared with this one.</p>')
    else:
        notes = " The notes changed between the two runs." if comparison.notes_changed else ""
        body.append(f"<p>Against {_e(comparison.reference.label)}, on {_e(comparison.scope)}.{_e(notes)}</p>")
        for mode in comparison.modes:
            body += [f"<h3>{_e(mode.label)}</h3>", _significance_table(mode), _rank_chart(mode)]
    body.append("<h2>Misses (not in the top 5)</h2>")
    evidence = {q.id: q for q in questions.scored}
    for result in results:
        body += [f"<h3>{_e(result.mode)}</h3>", _misses(result, evidence)]
    if questions.stale:
        items = "".join(
            f"<li><code>{_e(s.question.id)}</code> {_e(s.question.question)}: {_e(s.reason)}</li>"
            for s in questions.stale
        )
        body.append(f"<h2>Stale marks (not scored)</h2><ul>{items}</ul>")
    if questions.unanswered:
        items = "".join(f"<li><code>{_e(q.id)}</code> {_e(q.question)}</li>" for q in questions.unanswered)
        body.append(f"<h2>Open questions (no answer marked yet)</h2><ul>{items}</ul>")
    body.append(_every_question(results, evidence))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Retrieval eval</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


# ---------------------------------------------------------------- charts


def _bars(groups: Sequence[tuple[str, Sequence[tuple[str, float, str]]]], legend: Sequence[tuple[str, str]]) -> str:
    """A grouped vertical bar chart on a 0-1 scale: groups of (label, value, colour) bars."""
    bar, gap, height, left, top = 16, 22, 180, 40, 12
    most_bars = max((len(bars) for _, bars in groups), default=1)
    longest_label = max((len(label) for label, _ in groups), default=1)
    group = max(bar * most_bars, 7 * longest_label)  # room for the group's label under it
    width = left + len(groups) * (group + gap) + 10
    width = max(width, left + 130 * len(legend))
    parts = [f'<svg class="chart" width="{width}" height="{height + top + 60}" role="img">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + height * (1 - tick)
        parts.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    for index, (label, bars) in enumerate(groups):
        start = left + gap / 2 + index * (group + gap)
        x = start + (group - bar * len(bars)) / 2
        for name, value, colour in bars:
            h = max(1.0, height * max(0.0, min(1.0, value)))
            parts.append(
                f'<rect data-mark="1" x="{x:.1f}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" '
                f'fill="{colour}"><title>{_e(label)}, {_e(name)}: {value:.3f}</title></rect>'
            )
            x += bar
        middle = start + group / 2
        parts.append(f'<text x="{middle:.1f}" y="{top + height + 16}" text-anchor="middle">{_e(label)}</text>')
    for index, (name, colour) in enumerate(legend):
        lx = left + index * 130
        parts.append(f'<rect x="{lx}" y="{top + height + 34}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 16}" y="{top + height + 44}">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _mode_chart(results: Sequence[RunResult]) -> str:
    colour = {r.mode: MODE_COLOURS.get(r.mode, "#777") for r in results}
    groups = [(metric, [(r.mode, r.metrics[metric], colour[r.mode]) for r in results]) for metric in METRICS]
    return _bars(groups, [(r.mode, colour[r.mode]) for r in results])


def _kind_chart(result: RunResult) -> str:
    groups = [
        (f"{kind} ({int(figures['n'])})", [(m, figures[m], METRIC_COLOURS[m]) for m in METRIC_COLOURS])
        for kind, figures in result.by_kind.items()
    ]
    return _bars(groups, list(METRIC_COLOURS.items()))


def _rank_chart(mode: ModeComparison) -> str:
    """Each changed question a row: a line from its rank before to its rank after (– at the right)."""
    changed = (mode.lost + mode.gained + mode.moved)[:MAX_CHANGED]
    if not changed:
        return '<p class="muted">No question changed rank.</p>'
    left, step, row, top = 150, 34, 20, 28
    miss = 11
    width = left + step * miss + 40
    height = top + row * len(changed) + 10
    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for rank in range(1, miss + 1):
        x = left + step * rank
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top - 8}" y2="{height - 6}" stroke="#eee"/>')
        parts.append(f'<text x="{x}" y="{top - 12}" text-anchor="middle">{rank if rank < miss else "miss"}</text>')
    for index, change in enumerate(changed):
        y = top + row * index + row / 2
        before = left + step * (change.before or miss)
        after = left + step * (change.after or miss)
        better = (change.after or miss) < (change.before or miss)
        colour = "#2e8b3a" if better else "#c0392b"
        title = f"{change.question} — rank {change.before or '–'} → {change.after or '–'}"
        label = change.question if len(change.question) <= 22 else change.question[:21] + "…"
        parts.append(
            f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">{_e(label)}<title>{_e(change.id)}</title></text>'
        )
        parts.append(f'<line x1="{before}" x2="{after}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<circle data-mark="1" cx="{before}" cy="{y:.1f}" r="4" fill="#fff" stroke="{colour}"/>')
        parts.append(
            f'<circle data-mark="1" cx="{after}" cy="{y:.1f}" r="5" fill="{colour}"><title>{_e(title)}</title></circle>'
        )
    parts.append("</svg>")
    note = "" if len(changed) == len(mode.lost + mode.gained + mode.moved) else f" (the first {MAX_CHANGED})"
    legend = f'<p class="muted">○ before, ● after{_e(note)}; green: ranked higher now, red: lower.</p>'
    return "".join(parts) + legend


# ---------------------------------------------------------------- tables


def _mode_table(results: Sequence[RunResult]) -> str:
    head = "".join(f"<th>{_e(m)}</th>" for m in METRICS)
    rows = "".join(
        f"<tr><td>{_e(r.mode)}</td><td class=n>{len(r.per_question)}</td>"
        + "".join(f"<td class=n>{r.metrics[m]:.3f}</td>" for m in METRICS)
        + "</tr>"
        for r in results
    )
    return f"<table><tr><th>mode</th><th>n</th>{head}</tr>{rows}</table>"


def _kind_table(result: RunResult) -> str:
    head = "".join(f"<th>{_e(m)}</th>" for m in METRICS)
    rows = "".join(
        f"<tr><td>{_e(kind)}</td><td class=n>{int(f['n'])}</td>"
        + "".join(f"<td class=n>{f[m]:.3f}</td>" for m in METRICS)
        + "</tr>"
        for kind, f in result.by_kind.items()
    )
    return f"<table><tr><th>kind</th><th>n</th>{head}</tr>{rows}</table>"


def _significance_table(mode: ModeComparison) -> str:
    rows = []
    for change in mode.metrics:
        p = "" if change.p_value is None else f"{change.p_value:.3f}"
        wtl = "" if change.p_value is None else f"{change.wins}/{change.ties}/{change.losses}"
        rows.append(
            f"<tr><td>{_e(change.name)}</td><td class=n>{change.before:.3f}</td><td class=n>{change.after:.3f}</td>"
            f"<td class=n>{change.delta:+.3f}</td><td class=n>{wtl}</td><td class=n>{p}</td></tr>"
        )
    counts = f"{len(mode.gained)} gained, {len(mode.lost)} lost, {len(mode.moved)} moved of {mode.questions}"
    return (
        "<table><tr><th>metric</th><th>before</th><th>after</th><th>change</th><th>win/tie/loss</th>"
        f"<th>p (paired randomization)</th></tr>{''.join(rows)}</table><p>{_e(counts)}</p>"
    )


def _gold(cited: Sequence[str], known: Any) -> str:
    """Each gold citation with its evidence text."""
    gold = []
    for index, where in enumerate(cited):
        said = known.evidence[index] if known is not None and index < len(known.evidence) else ""
        gold.append(f"<code>{_e(where)}</code>" + (f" “{_e(said)}”" if said else ""))
    return "<br>".join(gold)


def _every_question(results: Sequence[RunResult], questions: dict[str, Any]) -> str:
    """Every scored question with its first-hit rank in each mode, folded away (a set may be long)."""
    heads = "".join(f"<th>{_e(r.mode)}</th>" for r in results)
    ranks = {r.mode: {q["id"]: q["rank"] for q in r.per_question} for r in results}
    rows = []
    for q in results[0].per_question:
        cells = "".join(f"<td class=n>{_e(ranks[r.mode].get(q['id']) or '–')}</td>" for r in results)
        rows.append(
            f"<tr><td>{_e(q['question'])}<br><span class=muted>{_e(q['id'])}, {_e(q['kind'])}</span></td>"
            f"<td>{_gold(q['gold'], questions.get(q['id']))}</td>{cells}</tr>"
        )
    return (
        f"<h2>Every question</h2><details><summary>{len(rows)} scored questions, the rank of their first hit "
        f"(– : not in the top 10)</summary><table><tr><th>question</th><th>gold (evidence)</th>{heads}</tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _misses(result: RunResult, questions: dict[str, Any]) -> str:
    misses = missed(result)
    if not misses:
        return '<p class="muted">None: every answer is in the top 5.</p>'
    rows = []
    for q in misses:
        got = ", ".join(f"<code>{_e(c)}</code>" for c in q["returned"])
        first = q["rank"] if q["rank"] else "–"
        rows.append(
            f"<tr><td>{_e(q['question'])}<br><span class=muted>{_e(q['id'])}, {_e(q['kind'])}</span></td>"
            f"<td class=n>{_e(first)}</td><td>{_gold(q['gold'], questions.get(q['id']))}</td><td>{got}</td></tr>"
        )
    return (
        "<table><tr><th>question</th><th>first hit</th><th>gold (evidence)</th><th>returned (top 5)</th></tr>"
        + "".join(rows)
        + "</table>"
    )
