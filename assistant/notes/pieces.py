"""Packing a heading section into pieces that fit the embedding model's window.

A section longer than the window is split at block boundaries (then at list items, then at lines,
then inside a line) into pieces that fit, each keeping the heading path, so nothing is truncated
away. Later pieces carry the section's opening line (`lead`) as context; a piece cut from inside a
table carries the table's header row for display. Code is packed apart from prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.notes.outline import LINK, TABLE_RULE, Unit, has_words, readable

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Piece:
    """A packed piece of a section: its 1-based line span and text (chunk.py makes it a Chunk)."""

    start_line: int
    end_line: int
    text: str
    lead: str = ""
    table_header: str = ""


class SectionPacker:
    """Packs a section's units into pieces that fit the model window."""

    def __init__(
        self,
        lines: list[str],
        max_tokens: int,
        count_tokens: TokenCounter,
        item_starts: list[tuple[int, int]],
        context: Callable[[tuple[str, ...], str], str],
        target_tokens: int | None = None,
    ) -> None:
        self.item_starts = item_starts
        self.target_tokens = target_tokens or max_tokens
        self.context = context
        self.lines = lines
        self.max_tokens = max_tokens
        self.count = count_tokens
        self._sizes: dict[tuple[int, int, str], int] = {}

    def pack(self, path: tuple[str, ...], span_start: int, units: list[Unit]) -> list[Piece]:
        """The section's units as pieces: each fits the window with the section's context, split at
        block, then list-item, then line boundaries (a code block's fences stay with its code)."""
        lead = _lead(self.lines, units)
        context_tokens = self.count(self.context(path, lead))
        budget = max(32, self.max_tokens - context_tokens - 2)
        # Pack blocks up to the target; a single block up to the model window stays whole.
        target = min(budget, self.target_tokens)
        split = sum(self._size(unit) for unit in units if not unit.skip) > target
        headers = {unit.start: header for unit in units if split and (header := _table_header(self.lines, unit))}
        code_blocks = [(unit.start, unit.end) for unit in units if self._is_code(unit)]
        pieces: list[list[Unit]] = []
        current: list[Unit] = []
        used = 0
        for unit in units:
            if unit.skip:
                if current:
                    pieces.append(current)
                current, used = [], 0
                continue
            for part in self._fit(unit, budget):
                if isinstance(part, _LinePart):
                    # Each cut of an over-long line is a piece of its own (see _line_spans).
                    if current:
                        pieces.append(current)
                    pieces.append([part])
                    current, used = [], 0
                    continue
                size = self._size(part)
                # A code block cut into lines stays together with its fences: only a change between
                # prose and code, or from one code block to another, is an edge.
                code_edge = (
                    bool(current) and split and _code_block(part, code_blocks) != _code_block(current[-1], code_blocks)
                )
                if (
                    current
                    and (used + size > target or code_edge)
                    and (self._readable(current) or used + size > budget)
                ):
                    # Code packed with prose blurs both vectors: a split section keeps code on its own.
                    # A piece with nothing to read yet (an image) stays open for the text after it,
                    # while both fit the window.
                    pieces.append(current)
                    current, used = [], 0
                current.append(part)
                used += size
        if current:
            pieces.append(current)
        pieces = self._no_unreadable_pieces(pieces, units, budget)
        packed: list[Piece] = []
        line_span_start: dict[int, int] = {}
        for number, piece in enumerate(pieces):
            start = span_start if number == 0 else piece[0].start
            first = piece[0]
            if isinstance(first, _LinePart):
                # All cuts of one line share one span, so distinct spans stay disjoint.
                start = line_span_start.setdefault(first.start, start)
                text = first.text
            else:
                text = "\n".join(self.lines[first.start : piece[-1].end]).strip("\n")
            table = next((u for u in units if u.start in headers and u.start < first.start < u.end), None)
            header = headers[table.start] if table is not None else ""
            packed.append(Piece(start + 1, piece[-1].end, text, lead if number else "", header))
        return packed

    def _readable(self, piece: list[Unit]) -> bool:
        """Whether any line of the piece has words to read (`outline.readable`)."""
        return any(
            readable(part.text) if isinstance(part, _LinePart) else has_words(self.lines, part) for part in piece
        )

    def _no_unreadable_pieces(self, pieces: list[list[Unit]], units: list[Unit], budget: int) -> list[list[Unit]]:
        """The pieces, each one with nothing to read (an image after the section's text, a bare link)
        joined to the piece before it when both fit the window: such a passage answers nothing and
        shows nothing. Not across a skipped block, nor into the cuts of an over-long line; one left
        alone is not a chunk (`chunk.chunk_with_skips` counts its lines as skipped)."""
        skips = [unit for unit in units if unit.skip]
        kept: list[list[Unit]] = []
        for piece in pieces:
            before = kept[-1] if kept else None
            if (
                before is not None
                and sum(self._size(u) for u in before + piece) <= budget
                and not isinstance(piece[0], _LinePart)
                and not isinstance(before[0], _LinePart)
                and not self._readable(piece)
                and not any(before[-1].end <= skip.start < piece[0].start for skip in skips)
            ):
                before.extend(piece)
            else:
                kept.append(piece)
        return kept

    def _is_code(self, unit: Unit) -> bool:
        return self.lines[unit.start].lstrip().startswith(("```", "~~~"))

    def _text(self, unit: Unit) -> str:
        """The unit as it is embedded (so as it is sized)."""
        if isinstance(unit, _LinePart):
            return unit.text
        return compact_table_rules("\n".join(self.lines[unit.start : unit.end]))

    def _size(self, unit: Unit) -> int:
        """The unit's tokens, counted once: packing asks for a block's size up to four times (is the
        section split, does the block fit, what it adds, can a piece join the one before), and
        counting was 40 % of chunking the 408 external notes (docs/speed.md)."""
        key = (unit.start, unit.end, unit.text if isinstance(unit, _LinePart) else "")
        size = self._sizes.get(key)
        if size is None:
            size = self._sizes[key] = self.count(self._text(unit))
        return size

    def _fit(self, unit: Unit, budget: int) -> list[Unit]:
        """The unit itself if it fits; else its list items (shallowest first), else its lines;
        a single over-long line is cut between words."""
        if self._size(unit) <= budget:
            return [unit]
        inner = [(level, start) for level, start in self.item_starts if unit.start < start < unit.end]
        if inner:
            top = min(level for level, _ in inner)
            cuts = [unit.start, *sorted(start for level, start in inner if level == top), unit.end]
            parts: list[Unit] = []
            for a, b in zip(cuts, cuts[1:], strict=False):
                while b > a and not self.lines[b - 1].strip():
                    b -= 1
                if a < b:
                    parts.extend(self._fit(Unit(a, b), budget))
            return parts
        parts = []
        for line_no in range(unit.start, unit.end):
            line = self.lines[line_no]
            if not line.strip():
                continue
            single = Unit(line_no, line_no + 1)
            if self._size(single) <= budget:
                parts.append(single)
            else:
                parts.extend(_LinePart(line_no, line_no + 1, text=text) for text in self._split_line(line, budget))
        return parts

    def _split_line(self, line: str, budget: int) -> list[str]:
        """Cut an over-long line between words into pieces that fit (halving until they do)."""
        words = line.split()
        pieces: list[str] = []
        current: list[str] = []
        length = 0
        limit = budget * 3  # about 4 characters a word piece in English: start below the limit
        for word in words:
            if current and length + len(word) + 1 > limit:
                pieces.extend(self._halve(" ".join(current), budget))
                current, length = [], 0
            current.append(word)
            length += len(word) + 1
        if current:
            pieces.extend(self._halve(" ".join(current), budget))
        return pieces

    def _halve(self, text: str, budget: int) -> list[str]:
        if len(text) < 2 or self.count(text) <= budget:
            return [text]
        words = text.split(" ")
        if len(words) <= 1:
            # One "word" over the window (a table rule of 300 dashes, a base64 blob): cut it in the middle.
            middle = len(text) // 2
            return self._halve(text[:middle], budget) + self._halve(text[middle:], budget)
        middle = len(words) // 2
        return self._halve(" ".join(words[:middle]), budget) + self._halve(" ".join(words[middle:]), budget)


def _code_block(unit: Unit, code_blocks: list[tuple[int, int]]) -> int | None:
    """The first line of the fenced code block the unit is (part of), or None for prose."""
    return next((start for start, end in code_blocks if start <= unit.start < end), None)


_MARKUP = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+|[*_`#>]+")


_DASHES = re.compile(r"-{3,}")
_SPACES = re.compile(r"[ \t]+")


def compact_table_rules(text: str) -> str:
    """Text with each table rule row written short ("| ------------ | ---- |" → "| --- | --- |").

    A tidied table's rule is as wide as its columns, and the model reads each dash as a word piece:
    a 300-dash rule filled a passage's whole window with dashes, and was itself cut into passages of
    nothing but dashes. The notes and what is shown keep their rules as written."""
    if "---" not in text:
        return text
    return "\n".join(
        _SPACES.sub(" ", _DASHES.sub("---", line)) if TABLE_RULE.match(line) else line for line in text.split("\n")
    )


def _table_header(lines: list[str], unit: Unit) -> str:
    """A table block's header row ("| a | b |"), or "" for any other block."""
    if unit.end - unit.start < 3 or not lines[unit.start].lstrip().startswith("|"):
        return ""
    rule = lines[unit.start + 1]
    return lines[unit.start].strip() if "-" in rule and TABLE_RULE.match(rule) else ""


def _lead(lines: list[str], units: list[Unit]) -> str:
    """The section's opening line, without list or emphasis markup or link addresses, at most 12 words.

    Without its addresses: a lead is context for every later piece, and one link to a launch
    template ("[AWS CloudFormation Stack](https://console…?templateURL=…)") was 150 word pieces of
    it, which left the pieces so little room that a 300-character line was cut into four."""
    for unit in units:
        if unit.skip or lines[unit.start].lstrip().startswith(("```", "~~~")):
            continue
        lead = lead_of(lines[unit.start : unit.end])
        if lead:
            return lead
    return ""


def lead_of(lines: Iterable[str]) -> str:
    """The first line with words, as a lead: markup and link addresses gone, at most 12 words
    (code fences, table rows and HTML are never a lead)."""
    for line in lines:
        if line.lstrip().startswith(("```", "~~~", "|", "<")):
            continue
        words = [word for word in _MARKUP.sub("", LINK.sub(r"\1", line)).split() if "://" not in word]
        if words:
            return " ".join(words[:12])
    return ""


@dataclass
class _LinePart(Unit):
    """A cut of one over-long line; its span is the whole line."""

    text: str = ""
