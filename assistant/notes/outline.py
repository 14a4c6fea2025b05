"""A note's outline: headings and block boundaries from markdown-it-py, or from layout for plain text.

Structure comes from markdown-it-py's block tokens and their line maps (not regexes over lines), so
`#` inside fences is not a heading, setext headings are, and YAML front matter is metadata. Plain-text
notes with no Markdown headings get headings from layout instead (`layout_headings`). A section's body
is cut into `Unit`s (blocks) that the packer (pieces.py) never splits unless one alone is too long;
lists or tables of in-page links (a table of contents) and <script>/<style> blocks are marked skipped:
they never answer anything.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.token import Token

TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
"""A Markdown table's rule row ("| --- | :---: |")."""


@dataclass
class Heading:
    line: int
    """0-based first line of the heading."""
    end: int
    """0-based exclusive end (setext headings take two lines)."""
    level: int
    title: str


@dataclass
class Unit:
    """A run of lines [start, end) that is never cut unless it alone is over the limit."""

    start: int
    end: int
    skip: bool = False
    """A table of contents, or a <script>/<style> block: nothing a question is answered by."""


@dataclass(frozen=True)
class Outline:
    headings: list[Heading]
    blocks: list[int]
    """First line of every top-level block."""
    front_matter_end: int
    item_starts: list[tuple[int, int]]
    """(nesting level, first line) of every list item: the cut points for an over-long list."""


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin)


def outline(text: str, lines: list[str]) -> Outline:
    """Headings (from Markdown, else from layout), block starts, front matter and list items."""
    tokens: list[Token] = list(_markdown().parse(text))
    headings: list[Heading] = []
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
            headings.append(Heading(start, max(end, start + 1), int(token.tag[1:]), title))
    if not headings:
        headings = layout_headings(lines, front_matter_end)
    items = [(t.level, t.map[0]) for t in tokens if t.type == "list_item_open" and t.map is not None]
    return Outline(headings, blocks, front_matter_end, items)


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


LIST_MARKER = re.compile(r"^\s*([-*+•]|\d+[.)])\s")
_TOPIC_LINE = re.compile(r"^([^:\s][^:]{1,58}?)\s*:(\s+\S.*)?$")


def layout_headings(lines: list[str], first: int) -> list[Heading]:
    """Headings of a plain-text note from its layout.

    Level 1: a short line indented by tabs (or 8+ spaces) standing alone between blank lines.
    Level 2: an unindented short "Topic:" or "Topic: definition" line after a blank line.
    Level 3: a level-2 candidate that is the first line under a bare "Topic:" line. The bare line
    promised a body, so what opens that body is its child ("EC2 Sizing:" then "Configuration options:
    …"), and the empty parent joins its chunk rather than standing alone as a passage of one heading.
    """
    headings: list[Heading] = []
    count = len(lines)
    for i in range(first, count):
        raw = lines[i]
        text = raw.strip()
        if not text or LIST_MARKER.match(raw):
            continue
        blank_before = i == first or not lines[i - 1].strip()
        if not blank_before:
            continue
        blank_after = i + 1 >= count or not lines[i + 1].strip()
        indented = raw.startswith("\t\t") or raw.startswith(" " * 8)
        words = len(text.split())
        if indented and blank_after and "\t" not in text and words <= 8 and len(text) <= 70:
            headings.append(Heading(i, i + 1, 1, clean_heading(text)))
            continue
        if raw[:1].isspace():
            continue
        level = 3 if headings and _opens_bare_topic(headings[-1], lines, i) else 2
        match = _TOPIC_LINE.match(text)
        if match and len(match.group(1).split()) <= 6 and _is_topic(match.group(1)):
            # "Topic: definition" keeps its line in the body; a bare "Topic:" line is only a heading.
            body_start = i + 1 if not match.group(2) else i
            headings.append(Heading(i, body_start, level, clean_heading(match.group(1))))
        elif blank_after and words <= 6 and not text.endswith((".", ",", ";")) and _next_is_body(lines, i):
            headings.append(Heading(i, i + 1, level, clean_heading(text)))
    return headings


def _opens_bare_topic(previous: Heading, lines: list[str], i: int) -> bool:
    """Whether line `i` is the first text under `previous`, a bare "Topic:" heading of level 2."""
    bare = previous.level == 2 and previous.end == previous.line + 1 and lines[previous.line].rstrip().endswith(":")
    return bare and not any(line.strip() for line in lines[previous.end : i])


def _is_topic(head: str) -> bool:
    return "http" not in head and any(ch.isalpha() for ch in head)


def _next_is_body(lines: list[str], i: int) -> bool:
    for line in lines[i + 1 : i + 6]:
        if line.strip():
            return bool(LIST_MARKER.match(line))
    return False


def units(boundaries: list[int], start: int, end: int, lines: list[str]) -> list[Unit]:
    """The blocks of a section body, trimmed of blank lines, with the ones to skip marked."""
    cuts = boundaries[bisect.bisect_right(boundaries, start) : bisect.bisect_left(boundaries, end)]
    edges = [start, *cuts, end]
    units: list[Unit] = []
    for a, b in zip(edges, edges[1:], strict=False):
        while a < b and not lines[a].strip():
            a += 1
        while b > a and not lines[b - 1].strip():
            b -= 1
        if a < b:
            units.append(Unit(a, b, _is_toc(lines[a:b]) or _is_script_or_style(lines[a])))
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
        items = [line for line in items if not TABLE_RULE.match(line)]
        if len(block) > 1 and TABLE_RULE.match(block[1]):
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


def has_text(lines: list[str], start: int, end: int) -> bool:
    return any(line.strip() for line in lines[start:end])


def has_words(lines: list[str], unit: Unit) -> bool:
    """Whether any line of the unit has words to read (`readable`)."""
    return any(readable(line) for line in lines[unit.start : unit.end])


LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
"""A Markdown link or image: its text stays, its address goes."""
_TAG = re.compile(r"<[^>]*>")
_ADDRESS = re.compile(r"\b\w+://\S+")
_WORD = re.compile(r"[^\W\d_][^\W_]|[^\W_][^\W\d_]")
"""Two letters or digits in a row, one a letter: a word of two or more with a letter in it ("S3",
"t2", "TB"; not "42", nor the "a" of "| a |")."""
_MARKUP_SIGNS = ("<", "](", "://", "`")
_ALNUM = re.compile(r"[^\W_]")
_CODE = re.compile(r"`([^`]+)`")


def without_markup(line: str) -> str:
    """The line with HTML tags gone and links reduced to their text."""
    return LINK.sub(r"\1", _TAG.sub(" ", line))


def readable(line: str) -> bool:
    """Whether a line has words a reader can read once HTML tags, link addresses and bare URLs are
    gone: an `<img …>` line, `[https://…](https://…)`, `</details>` or an ASCII-art rule has none.
    Inline code counts whatever it holds (`http://169.254.169.254/latest/meta-data/` answers a question)."""
    if not any(sign in line for sign in _MARKUP_SIGNS):
        return _WORD.search(line) is not None  # the common case, without the substitutions
    text = without_markup(line)
    if any(_ALNUM.search(code) for code in _CODE.findall(text)):
        return True
    return _WORD.search(_ADDRESS.sub(" ", text)) is not None
