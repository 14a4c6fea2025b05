"""Stage 2, chunk: Document → Chunks, one per heading section, with heading path and exact line span.

Structure comes from markdown-it-py's block tokens and their line maps (not regexes over lines), so
`#` inside fences is not a heading, setext headings are, and YAML front matter is metadata. Plain-text
notes with no Markdown headings get headings from layout instead (`_layout_headings`).

A section longer than the embedding model's window is split at block boundaries (then at line
boundaries, then inside a line) into pieces that fit, each keeping the heading path, so nothing is
truncated away. Lists or tables of in-page links (a table of contents) and <script>/<style> blocks are skipped:
they never answer anything.

Invariant (tested with hypothesis): every non-blank line outside a skipped block lies in
exactly one distinct chunk span; spans never cross files. Pieces of one over-long line share its span.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.token import Token

    from assistant.ingest import Document

CHUNKER_VERSION = 22
"""Bump when chunk boundaries or chunk text change, or what is indexed of them (22: table rules are
embedded short): every index is then rebuilt."""

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Chunk:
    """A passage of one note: what is indexed, ranked and shown."""

    file: str
    heading_path: tuple[str, ...]
    start_line: int
    """1-based, inclusive, into the original file."""
    end_line: int
    text: str
    """The passage (repaired), without its heading line: the heading is in heading_path."""
    lead: str = field(default="")
    """For the second and later pieces of a split section: the section's opening line, which often
    names the topic that later pieces only continue ("* Lambda responds to events" → "Limit per region")."""
    table_header: str = field(default="")
    """For a piece that starts inside a split table: the table's header row, shown above its rows so
    they still say which column is which ("| Feature | EBS | EFS |" above "| Cross-AZ | … | … |").
    Display only: embedding it measured no better (hybrid Hit@1 −0.014, dense +0.012, within noise)."""
    id: str = field(default="")
    content_hash: str = field(default="")
    """Hash of the text that is embedded: a chunk whose hash is unchanged keeps its vector."""

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", _sha(self.embedding_text))
        if not self.id:
            object.__setattr__(
                self, "id", _sha(f"{self.file}\0{self.start_line}\0{self.end_line}\0{self.content_hash}")[:16]
            )

    @property
    def citation(self) -> str:
        return f"{self.file}:{self.start_line}-{self.end_line}"

    @property
    def embedding_text(self) -> str:
        """Heading path + text: the heading context is what lets a bare list item match its topic.
        Table rules are embedded short (see `compact_table_rules`)."""
        return f"{self.context}\n{compact_table_rules(self.text)}"

    @property
    def display_text(self) -> str:
        """The passage as shown: its lines, under the header of the table it continues (with a rule
        row, so Markdown renders it as a table again)."""
        if not self.table_header:
            return self.text
        if _TABLE_RULE.match(self.text.split("\n", 1)[0]):  # the piece starts at the table's own rule
            return f"{self.table_header}\n{self.text}"
        columns = max(1, self.table_header.strip().strip("|").count("|") + 1)
        return f"{self.table_header}\n|{'---|' * columns}\n{self.text}"

    @property
    def context(self) -> str:
        """Where the passage sits: heading path (or the file's name), and the section lead if any."""
        context = " > ".join(self.heading_path) if self.heading_path else _file_title(self.file)
        return f"{context} > {self.lead}" if self.lead else context


JOIN_GAP = 1
"""Blank lines two pieces of one section may have between them and still read as one passage."""


def continues(first: Chunk, second: Chunk) -> bool:
    """Whether `second` is the piece of `first`'s section right after it: same file and heading path,
    starting after `first` ends with at most a blank line between (pieces of one over-long line
    share that line, so they never join)."""
    return (
        first.file == second.file
        and first.heading_path == second.heading_path
        and 0 <= second.start_line - first.end_line - 1 <= JOIN_GAP
    )


def join_pieces(pieces: Sequence[Chunk]) -> Chunk:
    """Consecutive pieces of one section (each `continues` the one before) as one passage: their
    lines in order, the gaps between them blank again, cited as one range."""
    first = pieces[0]
    text = first.text
    for before, piece in zip(pieces, pieces[1:], strict=False):
        text += "\n" * (piece.start_line - before.end_line) + piece.text
    return Chunk(
        first.file, first.heading_path, first.start_line, pieces[-1].end_line, text, first.lead, first.table_header
    )


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes: the heading path counts twice, since a topic named only in a heading
    ("Lambda > Limits") is exactly what a short keyword look-up asks for."""
    return f"{chunk.context}\n{chunk.embedding_text}"


_TRIVIAL_LINE = re.compile(r"^[\s|:\-=*_`>#~+.]*$")


def line_units(chunk: Chunk) -> list[str]:
    """One short text per line of the passage, for fine-grained dense matching.

    A chunk vector blurs a dozen statements together; a question usually targets one of them. Each
    line keeps its nearest heading and, for a nested list item, its parent item, so it still says
    what it is about ("Limits\n- Limit per region: / - Memory: 128 MB to 10 GB"). Only the nearest
    heading: the whole path (file title > chapter > section) drowned the line's own words in a
    short text; the chunk vector carries the full path. Measured on the eval set: Hit@1 0.671 →
    0.690, MRR@10 0.766 → 0.783, and 29% fewer tokens to embed (README, "What each change added").
    """
    context = chunk.heading_path[-1] if chunk.heading_path else _file_title(chunk.file)
    lines = [line for line in chunk.text.split("\n") if len(line.strip()) > 3 and not _TRIVIAL_LINE.match(line)]
    units = []
    for i, line in enumerate(lines):
        depth = len(line) - len(line.lstrip())
        parent = next(
            (lines[j].strip() for j in range(i - 1, -1, -1) if len(lines[j]) - len(lines[j].lstrip()) < depth), ""
        )
        units.append(f"{context}\n{parent} / {line.strip()}" if parent else f"{context}\n{line.strip()}")
    return units


def _file_title(file: str) -> str:
    stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[-_]+", " ", stem).strip()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _Heading:
    line: int
    """0-based first line of the heading."""
    end: int
    """0-based exclusive end (setext headings take two lines)."""
    level: int
    title: str


@dataclass
class _Unit:
    """A run of lines [start, end) that is never cut unless it alone is over the limit."""

    start: int
    end: int
    skip: bool = False
    """A table of contents, or a <script>/<style> block: nothing a question is answered by."""


def approximate_token_count(text: str) -> int:
    """Word-piece estimate for models without a fast tokenizer: errs on the long side."""
    return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.3) + 1


def chunk_document(
    document: Document,
    *,
    max_tokens: int = 256,
    count_tokens: TokenCounter = approximate_token_count,
    target_tokens: int | None = None,
) -> list[Chunk]:
    """Split one document into heading-section chunks that each fit `max_tokens` word pieces."""
    return chunk_with_skips(document, max_tokens=max_tokens, count_tokens=count_tokens, target_tokens=target_tokens)[0]


def chunk_with_skips(
    document: Document,
    *,
    max_tokens: int = 256,
    count_tokens: TokenCounter = approximate_token_count,
    target_tokens: int | None = None,
) -> tuple[list[Chunk], list[tuple[int, int]]]:
    """Chunks, plus the 1-based inclusive line ranges skipped (tables of contents, scripts, styles)."""
    lines = document.text.split("\n")
    skipped: list[tuple[int, int]] = []
    if not document.text.strip():
        return [], skipped
    tokens = _parse(document.text)
    headings, blocks, front_matter_end = _structure(tokens, lines)
    if not headings:
        headings = _layout_headings(lines, front_matter_end)
    builder = _SectionBuilder(document.path, lines, max_tokens, count_tokens, _item_starts(tokens), target_tokens)
    starts = [h.line for h in headings]
    boundaries = sorted(set(blocks) | set(starts) | {h.end for h in headings})
    stack: list[_Heading] = []
    pending_start: int | None = None
    chunks: list[Chunk] = []
    sections = [(None, front_matter_end, starts[0] if starts else len(lines))]
    sections += [(h, h.line, starts[i + 1] if i + 1 < len(starts) else len(lines)) for i, h in enumerate(headings)]
    for index, (heading, start, end) in enumerate(sections):
        if heading is not None:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        body_start = heading.end if heading else start
        path = tuple(h.title for h in stack if h.title)
        units = _units(boundaries, body_start, end, lines, tokens)
        skipped.extend((unit.start + 1, unit.end) for unit in units if unit.skip)
        if not any(not unit.skip for unit in units):
            has_skipped = any(unit.skip for unit in units)
            next_heading = sections[index + 1][0] if index + 1 < len(sections) else None
            if has_skipped:
                # A table of contents (or a page's script) answers nothing: its heading is skipped with it.
                if heading is not None:
                    skipped.append((heading.line + 1, heading.end))
                elif front_matter_end and _has_text(lines, 0, front_matter_end):
                    pending_start = 0
                continue
            if heading is None:
                # Only front matter or blank lines before the first heading: hand the span on.
                if front_matter_end and _has_text(lines, 0, front_matter_end):
                    pending_start = 0
                continue
            if next_heading is not None and next_heading.level > heading.level:
                # An empty parent heading belongs to its first child's chunk, not a chunk of its own.
                pending_start = start if pending_start is None else pending_start
                continue
            span_start = pending_start if pending_start is not None else start
            chunks.append(builder.heading_only(path, span_start, heading))
            pending_start = None
            continue
        span_start = pending_start if pending_start is not None else (0 if heading is None else start)
        pending_start = None
        chunks.extend(builder.build(path, span_start, units))
    if pending_start is not None:
        # Lines still waiting for a chunk at the end (front matter with nothing after it): their own chunk.
        end = len(lines)
        while end > pending_start and not lines[end - 1].strip():
            end -= 1
        if end > pending_start:
            text = "\n".join(lines[pending_start:end]).strip("\n")
            chunks.append(Chunk(document.path, tuple(h.title for h in stack if h.title), pending_start + 1, end, text))
    return chunks, skipped


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin)


def _parse(text: str) -> list[Token]:
    return list(_markdown().parse(text))


def _structure(tokens: list[Token], lines: list[str]) -> tuple[list[_Heading], list[int], int]:
    """Headings, top-level block start lines, and the end of front matter, from the token stream."""
    headings: list[_Heading] = []
    blocks: list[int] = []
    front_matter_end = 0
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.type == "front_matter":
            front_matter_end = end
            continue
        blocks.append(start)
        if token.type == "heading_open":
            title = clean_heading(_inline_text(tokens[i + 1]) if i + 1 < len(tokens) else "")
            headings.append(_Heading(start, max(end, start + 1), int(token.tag[1:]), title))
    return headings, blocks, front_matter_end


def _item_starts(tokens: list[Token]) -> list[tuple[int, int]]:
    """(nesting level, first line) of every list item: the cut points for an over-long list."""
    return [(t.level, t.map[0]) for t in tokens if t.type == "list_item_open" and t.map is not None]


def _inline_text(token: Token) -> str:
    if token.type != "inline":
        return ""
    if not token.children:
        return token.content
    return "".join(child.content for child in token.children if child.type in ("text", "code_inline"))


_EMOJI_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn", "Mn", "Me", "Cf"}


def clean_heading(title: str) -> str:
    """Heading text for the path: no emphasis markers, no emoji, no link syntax, single spaces."""
    title = re.sub(r"[*_`]+", "", title)
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    title = "".join(ch for ch in title if unicodedata.category(ch) not in _EMOJI_CATEGORIES)
    title = re.sub(r"\s+", " ", title).strip()
    return title.strip(" #:-")


_LIST_MARKER = re.compile(r"^\s*([-*+•]|\d+[.)])\s")
_TOPIC_LINE = re.compile(r"^([^:\s][^:]{1,58}?)\s*:(\s+\S.*)?$")


def _layout_headings(lines: list[str], first: int) -> list[_Heading]:
    """Headings of a plain-text note from its layout.

    Level 1: a short line indented by tabs (or 8+ spaces) standing alone between blank lines.
    Level 2: an unindented short "Topic:" or "Topic: definition" line after a blank line.
    Level 3: a level-2 candidate that is the first line under a bare "Topic:" line. The bare line
    promised a body, so what opens that body is its child ("EC2 Sizing:" then "Configuration options:
    …"), and the empty parent joins its chunk rather than standing alone as a passage of one heading.
    """
    headings: list[_Heading] = []
    count = len(lines)
    for i in range(first, count):
        raw = lines[i]
        text = raw.strip()
        if not text or _LIST_MARKER.match(raw):
            continue
        blank_before = i == first or not lines[i - 1].strip()
        if not blank_before:
            continue
        blank_after = i + 1 >= count or not lines[i + 1].strip()
        indented = raw.startswith("\t\t") or raw.startswith(" " * 8)
        words = len(text.split())
        if indented and blank_after and "\t" not in text and words <= 8 and len(text) <= 70:
            headings.append(_Heading(i, i + 1, 1, clean_heading(text)))
            continue
        if raw[:1].isspace():
            continue
        level = 3 if headings and _opens_bare_topic(headings[-1], lines, i) else 2
        match = _TOPIC_LINE.match(text)
        if match and len(match.group(1).split()) <= 6 and _is_topic(match.group(1)):
            # "Topic: definition" keeps its line in the body; a bare "Topic:" line is only a heading.
            body_start = i + 1 if not match.group(2) else i
            headings.append(_Heading(i, body_start, level, clean_heading(match.group(1))))
        elif blank_after and words <= 6 and not text.endswith((".", ",", ";")) and _next_is_body(lines, i):
            headings.append(_Heading(i, i + 1, level, clean_heading(text)))
    return headings


def _opens_bare_topic(previous: _Heading, lines: list[str], i: int) -> bool:
    """Whether line `i` is the first text under `previous`, a bare "Topic:" heading of level 2."""
    bare = previous.level == 2 and previous.end == previous.line + 1 and lines[previous.line].rstrip().endswith(":")
    return bare and not any(line.strip() for line in lines[previous.end : i])


def _is_topic(head: str) -> bool:
    return "http" not in head and any(ch.isalpha() for ch in head)


def _next_is_body(lines: list[str], i: int) -> bool:
    for line in lines[i + 1 : i + 6]:
        if line.strip():
            return bool(_LIST_MARKER.match(line))
    return False


def _units(boundaries: list[int], start: int, end: int, lines: list[str], tokens: list[Token]) -> list[_Unit]:
    """The blocks of a section body, trimmed of blank lines, with the ones to skip marked."""
    cuts = boundaries[bisect.bisect_right(boundaries, start) : bisect.bisect_left(boundaries, end)]
    edges = [start, *cuts, end]
    units: list[_Unit] = []
    for a, b in zip(edges, edges[1:], strict=False):
        while a < b and not lines[a].strip():
            a += 1
        while b > a and not lines[b - 1].strip():
            b -= 1
        if a < b:
            units.append(_Unit(a, b, _is_toc(lines[a:b]) or _is_script_or_style(lines[a])))
    return units


_TOC_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[^\]]*\]\(#[^)]*\)\s*$")
_ANCHOR_LINK = re.compile(r"^\[[^\]]*\]\(#[^)]*\)$")


def _is_toc(block: list[str]) -> bool:
    """A list whose items, or a table whose rows, are (almost) all links to anchors in the same page.

    The table form is a README's index ("| [EBS](#ebs) | [Tips](#ebs-tips) | [Gotchas](#ebs-gotchas) |"):
    indexed, its rows named every service, and "elastic beanstalk gotchas" found the index row
    before the section it links to."""
    items = [line for line in block if line.strip()]
    if items and items[0].lstrip().startswith("|"):
        items = [line for line in items if not _TABLE_RULE.match(line)]
        if len(block) > 1 and _TABLE_RULE.match(block[1]):
            items = items[1:]  # the header row names the columns, never a link
        linked = sum(1 for line in items if _is_anchor_row(line))
    else:
        linked = sum(1 for line in items if _TOC_ITEM.match(line))
    return len(items) >= 3 and linked / len(items) >= 0.8


def _is_anchor_row(line: str) -> bool:
    """A table row whose filled cells are all links to anchors in the same page."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    filled = [cell for cell in cells if cell]
    return bool(filled) and all(_ANCHOR_LINK.match(cell) for cell in filled)


_SCRIPT_OR_STYLE = re.compile(r"^ {0,3}<(?:script|style)(?:[\s>]|$)", re.IGNORECASE)


def _is_script_or_style(first_line: str) -> bool:
    """A block that opens with <script> or <style>: code the page runs, which a Markdown reader never
    sees (a published note's mind map is a 75 KB line of it, which made 220 passages of script)."""
    return bool(_SCRIPT_OR_STYLE.match(first_line))


def _has_text(lines: list[str], start: int, end: int) -> bool:
    return any(line.strip() for line in lines[start:end])


class _SectionBuilder:
    """Packs a section's units into chunks that fit the model window."""

    def __init__(
        self,
        file: str,
        lines: list[str],
        max_tokens: int,
        count_tokens: TokenCounter,
        item_starts: list[tuple[int, int]],
        target_tokens: int | None = None,
    ) -> None:
        self.item_starts = item_starts
        self.target_tokens = target_tokens or max_tokens
        self.file = file
        self.lines = lines
        self.max_tokens = max_tokens
        self.count = count_tokens

    def heading_only(self, path: tuple[str, ...], span_start: int, heading: _Heading) -> Chunk:
        text = "\n".join(self.lines[heading.line : heading.end]).strip()
        return Chunk(self.file, path, span_start + 1, heading.end, text)

    def build(self, path: tuple[str, ...], span_start: int, units: list[_Unit]) -> list[Chunk]:
        lead = _lead(self.lines, units)
        context_tokens = self.count(Chunk(self.file, path, 1, 1, "", lead).embedding_text)
        budget = max(32, self.max_tokens - context_tokens - 2)
        # Pack blocks up to the target; a single block up to the model window stays whole.
        target = min(budget, self.target_tokens)
        split = sum(self._size(unit) for unit in units if not unit.skip) > target
        headers = {unit.start: header for unit in units if split and (header := _table_header(self.lines, unit))}
        code_blocks = [(unit.start, unit.end) for unit in units if self._is_code(unit)]
        pieces: list[list[_Unit]] = []
        current: list[_Unit] = []
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
                if current and (used + size > target or code_edge):
                    # Code packed with prose blurs both vectors: a split section keeps code on its own.
                    pieces.append(current)
                    current, used = [], 0
                current.append(part)
                used += size
        if current:
            pieces.append(current)
        chunks: list[Chunk] = []
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
            chunks.append(Chunk(self.file, path, start + 1, piece[-1].end, text, lead if number else "", header))
        return chunks

    def _is_code(self, unit: _Unit) -> bool:
        return self.lines[unit.start].lstrip().startswith(("```", "~~~"))

    def _text(self, unit: _Unit) -> str:
        """The unit as it is embedded (so as it is sized)."""
        if isinstance(unit, _LinePart):
            return unit.text
        return compact_table_rules("\n".join(self.lines[unit.start : unit.end]))

    def _size(self, unit: _Unit) -> int:
        return self.count(self._text(unit))

    def _fit(self, unit: _Unit, budget: int) -> list[_Unit]:
        """The unit itself if it fits; else its list items (shallowest first), else its lines;
        a single over-long line is cut between words."""
        if self._size(unit) <= budget:
            return [unit]
        inner = [(level, start) for level, start in self.item_starts if unit.start < start < unit.end]
        if inner:
            top = min(level for level, _ in inner)
            cuts = [unit.start, *sorted(start for level, start in inner if level == top), unit.end]
            parts: list[_Unit] = []
            for a, b in zip(cuts, cuts[1:], strict=False):
                while b > a and not self.lines[b - 1].strip():
                    b -= 1
                if a < b:
                    parts.extend(self._fit(_Unit(a, b), budget))
            return parts
        parts = []
        for line_no in range(unit.start, unit.end):
            line = self.lines[line_no]
            if not line.strip():
                continue
            single = _Unit(line_no, line_no + 1)
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


def _code_block(unit: _Unit, code_blocks: list[tuple[int, int]]) -> int | None:
    """The first line of the fenced code block the unit is (part of), or None for prose."""
    return next((start for start, end in code_blocks if start <= unit.start < end), None)


_MARKUP = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+|[*_`#>]+")


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
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
        _SPACES.sub(" ", _DASHES.sub("---", line)) if _TABLE_RULE.match(line) else line for line in text.split("\n")
    )


def _table_header(lines: list[str], unit: _Unit) -> str:
    """A table block's header row ("| a | b |"), or "" for any other block."""
    if unit.end - unit.start < 3 or not lines[unit.start].lstrip().startswith("|"):
        return ""
    rule = lines[unit.start + 1]
    return lines[unit.start].strip() if "-" in rule and _TABLE_RULE.match(rule) else ""


def _lead(lines: list[str], units: list[_Unit]) -> str:
    """The section's opening line, without list or emphasis markup or link addresses, at most 12 words.

    Without its addresses: a lead is context for every later piece, and one link to a launch
    template ("[AWS CloudFormation Stack](https://console…?templateURL=…)") was 150 word pieces of
    it, which left the pieces so little room that a 300-character line was cut into four."""
    for unit in units:
        if unit.skip or lines[unit.start].lstrip().startswith(("```", "~~~")):
            continue
        for line in lines[unit.start : unit.end]:
            words = [word for word in _MARKUP.sub("", _LINK.sub(r"\1", line)).split() if "://" not in word]
            if words and not line.lstrip().startswith(("```", "~~~", "|", "<")):
                return " ".join(words[:12])
    return ""


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
"""A Markdown link or image: its text stays, its address goes."""


@dataclass
class _LinePart(_Unit):
    """A cut of one over-long line; its span is the whole line."""

    text: str = ""
