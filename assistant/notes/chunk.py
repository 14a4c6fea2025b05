"""Stage 2, chunk: Document → Chunks, one per heading section, with heading path and exact line span.

This module holds the record (`Chunk`, what is indexed, ranked and shown, and the texts made from it)
and `chunk_document`, which walks the note's outline (outline.py: headings from markdown-it-py or
from a plain-text note's layout, block boundaries, tables of contents and scripts to skip) and packs
each section into pieces that fit the model's window (pieces.py).

Invariant (tested with hypothesis): every non-blank line outside a skipped block lies in
exactly one distinct chunk span; spans never cross files. Pieces of one over-long line share its span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.files import digest_text
from assistant.notes.outline import TABLE_RULE, Heading, clean_heading, has_text, has_words, outline, readable, units
from assistant.notes.pieces import SectionPacker, TokenCounter, compact_table_rules

if TYPE_CHECKING:
    from assistant.notes.ingest import Document

CHUNKER_VERSION = 24
"""Bump when chunk boundaries or chunk text change, or what is indexed of them (24: a note without a
level-1 heading has its front-matter title or file name at the root of its heading paths; 23: no passage
without readable text, an empty section's heading joins the next passage; 22: table rules are
embedded short): every index is then rebuilt."""


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
            object.__setattr__(self, "content_hash", digest_text(self.embedding_text))
        if not self.id:
            object.__setattr__(
                self, "id", digest_text(f"{self.file}\0{self.start_line}\0{self.end_line}\0{self.content_hash}")[:16]
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
        if TABLE_RULE.match(self.text.split("\n", 1)[0]):  # the piece starts at the table's own rule
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


def touches(first: Chunk, second: Chunk) -> bool:
    """Whether two chunks are pieces of one section (same file and heading path) whose spans touch,
    at most `JOIN_GAP` blank lines apart, or overlap (the cuts of one over-long line share its span)."""
    return same_section(first, second) and spans_touch(
        (first.start_line, first.end_line), (second.start_line, second.end_line)
    )


def same_section(first: Chunk, second: Chunk) -> bool:
    return first.file == second.file and first.heading_path == second.heading_path


def spans_touch(first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether two line spans (start, end) overlap or are at most `JOIN_GAP` blank lines apart."""
    return second[0] - first[1] - 1 <= JOIN_GAP and first[0] - second[1] - 1 <= JOIN_GAP


def join_pieces(pieces: Sequence[Chunk]) -> Chunk:
    """Consecutive pieces of one section as one passage: their lines in order, the gaps between
    them blank again (cuts of one over-long line joined by a space), cited as one range."""
    first = pieces[0]
    text = first.text
    for before, piece in zip(pieces, pieces[1:], strict=False):
        gap = piece.start_line - before.end_line
        text += (" " if gap <= 0 else "\n" * gap) + piece.text
    return Chunk(
        first.file, first.heading_path, first.start_line, pieces[-1].end_line, text, first.lead, first.table_header
    )


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes: the heading path counts twice, since a topic named only in a heading
    ("Lambda > Limits") is exactly what a short keyword look-up asks for."""
    return f"{chunk.context}\n{chunk.embedding_text}"


_TRIVIAL_LINE = re.compile(r"^[\s|:\-=*_`>#~+.]*$")


def embeds_line(line: str) -> bool:
    """Whether `line_units` gives this line of a passage a unit (so the index a line vector): not
    blank, longer than three characters, and more than markup (a table rule, `***`, a fence)."""
    return len(line.strip()) > 3 and not _TRIVIAL_LINE.match(line)


def line_units(chunk: Chunk) -> list[str]:
    """One short text per line of the passage, for fine-grained dense matching.

    A chunk vector blurs a dozen statements together; a question usually targets one of them. Each
    line keeps its nearest heading and, for a nested list item, its parent item, so it still says
    what it is about ("Limits\n- Limit per region: / - Memory: 128 MB to 10 GB"). Only the nearest
    heading: the whole path (file title > chapter > section) drowned the line's own words in a
    short text; the chunk vector carries the full path. Measured on the eval set: Hit@1 0.671 →
    0.690, MRR@10 0.766 → 0.783, and 29% fewer tokens to embed (docs/retrieval-experiments.md, "What
    each change added").
    """
    context = chunk.heading_path[-1] if chunk.heading_path else _file_title(chunk.file)
    lines = [line for line in chunk.text.split("\n") if embeds_line(line)]
    units = []
    for i, line in enumerate(lines):
        depth = len(line) - len(line.lstrip())
        parent = next(
            (lines[j].strip() for j in range(i - 1, -1, -1) if len(lines[j]) - len(lines[j].lstrip()) < depth), ""
        )
        units.append(f"{context}\n{parent} / {line.strip()}" if parent else f"{context}\n{line.strip()}")
    return units


def _file_title(file: str) -> str:
    """A note's file name as a title: no folder, suffix or leading number ("XI. Network Access
    Control Lists (NACLs).md" → "Network Access Control Lists (NACLs)", "03_vpc-peering.md" → "vpc
    peering"), dashes and underscores read as spaces."""
    stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = _ORDINAL.sub("", stem) or stem
    return re.sub(r"[-_\s]+", " ", stem).strip()


_ORDINAL = re.compile(r"^\s*(?:[IVXLC]+\.|\d+(?:\.\d+)*[.)]?)(?:\s+|[-_]+)(?!\d)")
"""A numbering that opens a file name: "XI. ", "03_", "1.2 - " (not a name that merely starts with a
digit, such as "3tier.md" or "2fa-setup.md", nor a date)."""
_FRONT_MATTER_TITLE = re.compile(r"""^title\s*:\s*(?P<q>["']?)(?P<title>.*?)(?P=q)\s*$""", re.IGNORECASE)


def titled(headings: Sequence[Heading]) -> bool:
    """Whether a note names its own topic in a heading of level 1 (a layout heading of a plain-text
    note counts). A note without one (its sections start at "##" or "###", or it has no heading at
    all) gets its title (`note_title`) at the root of every passage's heading path: otherwise a
    sibling section such as "### Summary" after "### VPC Endpoint: Overview" carried no topic at
    all. Notes with several "#" headings keep their paths as they are: rooting those in the file's
    name too lost on the shipped notes (docs/retrieval-experiments.md, "Quality on other authors'
    notes")."""
    return any(h.level == 1 for h in headings)


def note_title(file: str, front_matter: Sequence[str]) -> str:
    """A note's title: the `title:` of its front matter ("title: VPC Peering"), else its file name
    (`_file_title`)."""
    for line in front_matter:
        match = _FRONT_MATTER_TITLE.match(line.strip())
        title = clean_heading(match.group("title")) if match else ""
        if any(ch.isalnum() for ch in title):
            return title
    return _file_title(file)


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


def _context(file: str) -> Callable[[tuple[str, ...], str], str]:
    """What a piece of `file` under a heading path and lead is embedded with, before its text."""
    return lambda path, lead: Chunk(file, path, 1, 1, "", lead).embedding_text


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
    shape = outline(document.text, lines)
    headings, front_matter_end = shape.headings, shape.front_matter_end
    root = () if titled(headings) else (note_title(document.path, lines[:front_matter_end]),)
    packer = SectionPacker(lines, max_tokens, count_tokens, shape.item_starts, _context(document.path), target_tokens)
    starts = [h.line for h in headings]
    boundaries = sorted(set(shape.blocks) | set(starts) | {h.end for h in headings})
    stack: list[Heading] = []
    pending_start: int | None = None
    chunks: list[Chunk] = []
    sections: list[tuple[Heading | None, int, int]] = [(None, front_matter_end, starts[0] if starts else len(lines))]
    sections += [(h, h.line, starts[i + 1] if i + 1 < len(starts) else len(lines)) for i, h in enumerate(headings)]
    for index, (heading, start, end) in enumerate(sections):
        if heading is not None:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        body_start = heading.end if heading else start
        path = root + tuple(h.title for h in stack if h.title)
        section = units(boundaries, body_start, end, lines)
        skipped.extend((unit.start + 1, unit.end) for unit in section if unit.skip)
        body = [unit for unit in section if not unit.skip]
        if not any(has_words(lines, unit) for unit in body):
            # Nothing to read here (no body, or only images, HTML, rules or bare links): never a
            # passage of its own, which would be an empty card.
            has_skipped = len(body) < len(section)
            next_heading = sections[index + 1][0] if index + 1 < len(sections) else None
            if has_skipped:
                # A table of contents (or a page's script) answers nothing: its heading is skipped with it.
                skipped.extend((unit.start + 1, unit.end) for unit in body)
                if heading is not None:
                    skipped.append((heading.line + 1, heading.end))
                elif front_matter_end and has_text(lines, 0, front_matter_end):
                    pending_start = 0
                continue
            if heading is None:
                # Only front matter, blank lines or images before the first heading: hand the span on.
                if body or (front_matter_end and has_text(lines, 0, front_matter_end)):
                    pending_start = 0
                continue
            if next_heading is not None:
                # The heading joins the next passage's span: a parent's first child's passage, which
                # keeps it in its heading path ("NAT Gateway > What is a NAT Gateway"), or the next
                # section's ("## TODO 3" before "## Useful AWS Resources").
                pending_start = start if pending_start is None else pending_start
                continue
            # The note ends on it: nothing a question could be answered by.
            skipped.append((start + 1 if pending_start is None else pending_start + 1, _last_text(lines, end)))
            pending_start = None
            continue
        span_start = pending_start if pending_start is not None else (0 if heading is None else start)
        pending_start = None
        for piece in packer.pack(path, span_start, section):
            if not any(readable(line) for line in piece.text.split("\n")):
                # Left alone by the packer (between a skipped block and a cut line): nothing to show.
                skipped.append((piece.start_line, piece.end_line))
                continue
            chunks.append(
                Chunk(document.path, path, piece.start_line, piece.end_line, piece.text, piece.lead, piece.table_header)
            )
    if pending_start is not None:
        # Lines still waiting for a chunk at the end (front matter with nothing after it): their own
        # chunk, unless there is nothing to read in them.
        end = _last_text(lines, len(lines))
        if any(readable(line) for line in lines[pending_start:end]):
            text = "\n".join(lines[pending_start:end]).strip("\n")
            chunks.append(
                Chunk(document.path, root + tuple(h.title for h in stack if h.title), pending_start + 1, end, text)
            )
        elif end > pending_start:
            skipped.append((pending_start + 1, end))
    return chunks, skipped


def _last_text(lines: list[str], end: int) -> int:
    """`end` moved back past blank lines."""
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end
