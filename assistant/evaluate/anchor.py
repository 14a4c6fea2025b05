"""Re-anchoring a marked answer: the gold follows the note when lines are added or removed above it.

A marked answer records its lines (`start_line`-`end_line`) and an evidence string: the text of its
first line (marks.py). When the note changes, the evidence is looked for on the span's first line;
if it is no longer there, the line of the note that holds it nearest to where it was becomes the
first line, and the span moves by the same offset, keeping its length (less any blank lines that
would end it). Evidence found nowhere means the
answer is gone: the question is stale, reported and left out of the scores, never guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.evaluate.metrics import Span


@dataclass(frozen=True)
class Anchored:
    """Where a marked answer is now: its span (None: stale) and why it is stale."""

    span: Span | None
    reason: str = ""

    @property
    def stale(self) -> bool:
        return self.span is None


def anchor(span: Span, evidence: str, lines: Sequence[str] | None) -> Anchored:
    """The span that holds `evidence` in the note's current `lines` (None: the note is gone)."""
    where = f"{span.file}:{span.start_line}"
    if lines is None:
        return Anchored(None, f"{span.file} is no longer in the notes")
    if not evidence.strip():
        return Anchored(None, f"{where} has no evidence text to find it by")
    if 1 <= span.start_line <= span.end_line <= len(lines) and evidence in lines[span.start_line - 1]:
        return Anchored(span)
    found = [number for number, line in enumerate(lines, 1) if evidence in line]
    if not found:
        return Anchored(None, f"{where}: the marked lines are gone (no line holds {_short(evidence)!r})")
    # Nearest to where the evidence was; on a tie the later line (lines inserted above are the common edit).
    nearest = min(found, key=lambda number: (abs(number - span.start_line), -number))
    shift = nearest - span.start_line
    end = min(span.end_line + shift, len(lines))
    while end > nearest and not lines[end - 1].strip():
        end -= 1
    return Anchored(Span(span.file, nearest, end))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
