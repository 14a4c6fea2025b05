"""A passage's lines as the answer selector sees them, and the unit a chosen line grows into.

Input: a passage's pieces (each chunk-store row's text and end line). Output: `PassageLine`s (each
line's number in the file, its row among the passage's line vectors, its piece), which lines may
answer (`candidates`), and `logical_unit`: the lines a reader needs around a chosen one. Pure text
rules (answer.py scores the lines).

Why grow a line at all: the line with the answer is often half of it. A label ("Consists of:",
"Route 53 supports the following routing policies:") promises the list after it; a list item's few
sub-items are its content; a hard-wrapped sentence goes on on the next line. Each rule is
structural, with at most one constant (`MAX_SUB_ITEMS`, `MAX_LIST_LINES`), and each was measured on
both eval sets (docs/answer-lines.md). A table row stays one row: its header row is shown above it.

Which lines may answer at all: a line with readable words of its own. An image is no answer, even
one with alt text (`![alt text](./Images/image-8.png)` read as "alt text"), nor is a link to an
image; and a list item that only names a topic for the sub-items under it ("- Spread Placement
Group" over its Objective, Behavior, Risks) is a heading written as a list item: its sub-items answer.

Line numbers follow the project's convention: 1-based, inclusive, lines of the file on disk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.notes.chunk import embeds_line
from assistant.notes.outline import LINK, LIST_MARKER, TABLE_RULE, readable, without_markup

MAX_SUB_ITEMS = 3
"""A chosen list item brings its indented sub-items when it has at most this many lines of them.
Measured on the eval set: answers average 1.2 lines with it; every sub-item regardless averaged
1.45 lines with a 13-line tail, for +0.01 accuracy. An item with more of them that only names a
topic (at most `TOPIC_WORDS` words) is a sub-heading, not an answer (`is_topic_item`)."""
MAX_LIST_LINES = 8
"""A chosen label brings the whole list it introduces (items and their sub-items) when the list has
at most this many lines; a longer one, its first line. Route 53's seven routing policies fit; a
30-item list would bury the answer the label leads to."""
TOPIC_WORDS = 4
"""A list item of at most this many words with more than `MAX_SUB_ITEMS` sub-items only names their topic."""
LINKED_SHARE = 0.5
"""A line with at least this share of its words in link text points elsewhere ("Sources: [S3
pricing](…), [S3 SLA](…)", "- Open-source [AWS CLI GitHub](…)"): a reference, not an answer.
"Mostly", not tuned: measured at 0.5, +0.003 here and +0.015 held out (docs/answer-lines.md)."""

_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|")
_EMPHASIS = re.compile(r"[*_`]+")
_CALLOUT = re.compile(r"^\s*>\s*\[!\w+\]\s*$")
_LABEL_END = re.compile(r":(?:\s*\([^()]*\))?$")
"""A label's end: a colon, or a colon and an aside in brackets ("Fargate Launch type: (Serverless)")."""
_IMAGE = re.compile(
    r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>?|\[[^\]]*\]\([^)\s]*\.(?:png|jpe?g|gif|svg|webp|bmp|tiff?)\)",
    re.IGNORECASE,
)
"""An image (Markdown or HTML), or a link to an image file: what it shows is not text to read."""
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hundred|thousand|million|billion)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"\w+")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|cannot|without)\b|n't\b|\b(?:dont|doesnt|cant|wont|isnt|arent)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?:;)\]]$")
_CONTINUES = re.compile(r"^\s*[a-z(]")


@dataclass(frozen=True)
class PassageLine:
    """One line of a (possibly joined) passage."""

    number: int
    """Its line in the file (1-based)."""
    text: str
    unit: int | None
    """Its row among the passage's line vectors (its pieces' rows in order), or None when
    `chunk.line_units` made no unit of it (blank, markup only, very short)."""
    piece: int
    """Which piece of a joined passage it is in (0 for a single chunk; a gap line gets the next piece)."""
    piece_line: int | None
    """Its index among its piece's text lines (None for a blank line between two pieces)."""


def passage_lines(pieces: Sequence[tuple[str, int]]) -> list[PassageLine]:
    """Every line of a passage, from its pieces' (text, end_line) in line order.

    A chunk's text always ends on its `end_line` but may start after its `start_line` (the heading
    line is not in its text), so text line i of a piece is file line end_line - n + 1 + i. Pieces
    joined into one passage are separated by blank file lines, which are given here too."""
    lines: list[PassageLine] = []
    unit = 0
    for index, (text, end_line) in enumerate(pieces):
        rows = text.split("\n")
        first = end_line - len(rows) + 1
        if lines:
            lines.extend(PassageLine(n, "", None, index, None) for n in range(lines[-1].number + 1, first))
        for offset, row in enumerate(rows):
            vector = unit if embeds_line(row) else None
            unit += vector is not None
            lines.append(PassageLine(first + offset, row, vector, index, offset))
    return lines


def is_table_row(line: str) -> bool:
    return bool(_TABLE_ROW.match(line))


def is_table_header(texts: Sequence[str], i: int) -> bool:
    """Whether line i is a table's header row: the row right above its rule, and not itself a row of
    a table above it (a body row that happens to stand over a rule-like row is a body row)."""
    if not is_table_row(texts[i]) or i + 1 >= len(texts) or not TABLE_RULE.match(texts[i + 1]):
        return False
    return i == 0 or not is_table_row(texts[i - 1])


def is_label(line: str) -> bool:
    """A line that promises what follows: "Consists of:", "- **High TTL** - e.g. 24 hr:", "> [!WARNING]",
    "Fargate Launch type: (Serverless)"."""
    return bool(_LABEL_END.search(plain_text(line)) or _CALLOUT.match(line))


def has_words(line: str) -> bool:
    """Whether a line has readable words of its own, images (and their alt text) left out."""
    return readable(_IMAGE.sub(" ", line))


def is_reference(line: str) -> bool:
    """A line whose words are mostly link text (`LINKED_SHARE`): it sends the reader elsewhere."""
    if "](" not in line:  # no link at all: most lines, decided without the substitutions
        return False
    words = len(_WORDS.findall(plain_text(line)))
    linked = sum(len(_WORDS.findall(link.group(1))) for link in LINK.finditer(line))
    return words > 0 and linked >= LINKED_SHARE * words


def may_answer(line: PassageLine) -> bool:
    """A line that may be scored: it has a line vector, has readable words besides any image, and
    is no heading or code fence. (A table's header row may be scored, but never answers: see
    `answer.best_line`.)"""
    text = line.text
    return line.unit is not None and not _HEADING.match(text) and not _FENCE.match(text) and has_words(text)


def has_number(line: str) -> bool:
    """Whether a line states a number (digits or a number word), its list marker aside."""
    return bool(_NUMBER.search(plain_text(LIST_MARKER.sub("", line, count=1))))


def has_negation(line: str) -> bool:
    """Whether a line says what is not so: a negation word ("not", "no", "never", "can't", "without")."""
    return bool(_NEGATION.search(plain_text(line)))


def is_topic_item(texts: Sequence[str], i: int) -> bool:
    """A list item that only names the topic of the sub-items under it: at most `TOPIC_WORDS`
    words, no label, more than `MAX_SUB_ITEMS` sub-items. It reads as a heading, and as a heading
    it never answers: one of its sub-items does."""
    text = texts[i]
    return (
        bool(LIST_MARKER.match(text))
        and not is_label(text)
        and len(plain_text(LIST_MARKER.sub("", text, count=1)).split()) <= TOPIC_WORDS
        and len(_sub_items(texts, i)) > MAX_SUB_ITEMS
    )


def introduces_an_image(texts: Sequence[str], i: int) -> bool:
    """A label whose next line is an image ("This figure gives an overview:" over a diagram): what it
    promises is a picture, which a reader of text does not get, so it is no answer either."""
    following = _next_line(texts, i)
    return following is not None and not has_words(texts[following]) and is_label(texts[i])


def candidates(lines: Sequence[PassageLine]) -> list[int]:
    """Indices of the lines that may be scored (`may_answer`), topic items, references
    (`is_reference`) and labels of an image left out unless nothing else may answer."""
    texts = [line.text for line in lines]
    chosen = [i for i, line in enumerate(lines) if may_answer(line)]
    preferred = [
        i
        for i in chosen
        if not is_topic_item(texts, i) and not is_reference(texts[i]) and not introduces_an_image(texts, i)
    ]
    return preferred or chosen


def table_rows(texts: Sequence[str], header: int) -> range:
    """The rows under a table's header row (after its rule), to the table's end."""
    end = header + 2
    while end < len(texts) and is_table_row(texts[end]):
        end += 1
    return range(header + 2, end)


def header_rows(texts: Sequence[str]) -> list[int | None]:
    """Per line: the index of the header row of the table it is a row (or the rule) of, when that
    header row is in the passage: the first of its run of table rows, with a rule right under it.
    None for any other line, a header row itself, rows with no rule under their first (no table,
    to Markdown), and a piece cut from inside a table and joined to nothing above it (its header is
    only `Chunk.table_header`'s text). One pass: several tables in a passage each give their rows
    their own header, and a table split across joined pieces reaches across the join (the pieces'
    lines follow each other)."""
    headers: list[int | None] = [None] * len(texts)
    top: int | None = None
    for i, text in enumerate(texts):
        if not is_table_row(text):
            top = None
        elif top is None:
            top = i
        elif TABLE_RULE.match(texts[top + 1]) and not TABLE_RULE.match(texts[top]):
            headers[i] = top
    return headers


def table_header(texts: Sequence[str], i: int, fallback: str = "") -> str:
    """The header row of the table row i is in, searched upward in the passage; else `fallback`
    (a piece cut from inside a table carries its header as `Chunk.table_header`)."""
    if not is_table_row(texts[i]):
        return ""
    header = header_rows(texts[: i + 1])[i]
    return fallback.strip() if header is None else texts[header].strip()


def logical_unit(texts: Sequence[str], i: int) -> tuple[int, int]:
    """The (first, last) indices of the answer grown from line i: its hard-wrapped paragraph; then,
    for a label, the list or code block it introduces when it has at most `MAX_LIST_LINES` lines
    (else the first line it introduces); for a list item, its sub-items when there are at most `MAX_SUB_ITEMS`. A
    table row stays itself."""
    start, end = _wrapped_start(texts, i), _wrapped_end(texts, i)
    if is_table_row(texts[end]):
        return start, end
    subs = _sub_items(texts, end)
    if is_label(texts[end]):
        introduced = subs or _list_after(texts, end) or _code_after(texts, end)
        if introduced and len(introduced) <= MAX_LIST_LINES:
            return start, introduced[-1]
        following = subs[0] if subs else _next_line(texts, end)
        if following is not None:
            return start, following
        return start, end
    if subs and len(subs) <= MAX_SUB_ITEMS:
        return start, subs[-1]
    return start, end


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def plain_text(line: str) -> str:
    """The line's words without link addresses, tags or emphasis markers."""
    return _EMPHASIS.sub("", without_markup(line)).strip()


def _structural(line: str) -> bool:
    """A line no paragraph wraps across: a table row, heading, fence, HTML, or one without words."""
    return bool(_TABLE_ROW.match(line) or _HEADING.match(line) or _FENCE.match(line)) or (
        line.lstrip().startswith("<") or not readable(line)
    )


def _wraps(line: str, after: str) -> bool:
    """Whether `after` continues `line`'s sentence: no sentence end, then a lower-case start."""
    if not after.strip() or _structural(line) or _structural(after) or LIST_MARKER.match(after):
        return False
    return not _SENTENCE_END.search(plain_text(line)) and bool(_CONTINUES.match(after))


def _wrapped_start(texts: Sequence[str], i: int) -> int:
    while i > 0 and texts[i - 1].strip() and _wraps(texts[i - 1], texts[i]):
        i -= 1
    return i


def _wrapped_end(texts: Sequence[str], i: int) -> int:
    while i + 1 < len(texts) and _wraps(texts[i], texts[i + 1]):
        i += 1
    return i


def _sub_items(texts: Sequence[str], i: int) -> list[int]:
    """The lines right after line i indented deeper than it (blank lines inside allowed)."""
    depth = _indent(texts[i])
    found: list[int] = []
    for j in range(i + 1, len(texts)):
        if not texts[j].strip():
            continue
        if _indent(texts[j]) <= depth or _HEADING.match(texts[j]):
            break
        found.append(j)
    return found


def _list_after(texts: Sequence[str], i: int) -> list[int]:
    """The non-blank lines of the list that starts on the line after i (blank lines between allowed):
    its items at the first item's indent and anything indented under them; empty when no list follows."""
    first = _next_line(texts, i)
    if first is None or not LIST_MARKER.match(texts[first]):
        return []
    depth = _indent(texts[first])
    found = [first]
    for j in range(first + 1, len(texts)):
        text = texts[j]
        if not text.strip():
            continue
        indent = _indent(text)
        if indent < depth or _HEADING.match(text) or (indent == depth and not LIST_MARKER.match(text)):
            break
        found.append(j)
    return found


def _code_after(texts: Sequence[str], i: int) -> list[int]:
    """The lines of the fenced code block that starts on the line after i (blank lines between
    allowed), its fences included; empty when none follows or it does not close in the passage."""
    first = next((j for j in range(i + 1, len(texts)) if texts[j].strip()), None)
    if first is None or not _FENCE.match(texts[first]):
        return []
    close = next((j for j in range(first + 1, len(texts)) if _FENCE.match(texts[j])), None)
    return [] if close is None else list(range(first, close + 1))


def _next_line(texts: Sequence[str], i: int) -> int | None:
    """The next non-blank line after i, unless it is a heading, a fence or a table rule."""
    for j in range(i + 1, len(texts)):
        if texts[j].strip():
            if _HEADING.match(texts[j]) or _FENCE.match(texts[j]) or TABLE_RULE.match(texts[j]):
                return None
            return j
    return None
