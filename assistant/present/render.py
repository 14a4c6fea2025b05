"""Stage 6, present: SearchResponses → text for a terminal, or JSON for scripts.

Note text is untrusted: a note can hold ANSI/OSC escape sequences (title changes, OSC 52 clipboard
writes), bidi overrides or zero-width characters. `inert` shows every such character as a visible
escape (`\\x1b`, `\\u202e`) so nothing reaches the terminal as a control, and JSON output escapes them.
Nothing here is ever interpreted as Rich markup.

Plain output may be decorated (`Look`): bold and colour (SGR) and OSC 8 hyperlinks on the citations.
Only this module writes those sequences, always around text that has already been made inert; the
caller decides whether the terminal wants them (`wants_color`, `wants_links`). Citations are shown as
paths that open from the current folder: relative when the notes are under it, else absolute, and
quoted as a shell reads them when they need it (`'notes/RDS Proxy.md':15-22`), so `vim +15 PATH`
takes them as pasted. A result cites its passage's path once; its answer lines follow as line
numbers in the same file (`› 1357`).

Every front end shows a result's `Hit.score` (retrieve/score.py) with the same digits, and says a
weak match (`SearchResponse.strength`): plain text in one line above the passages, JSON as
`"weak_match"` (and `"weak_reason"`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.retrieve.results import Hit, SearchResponse
from assistant.retrieve.score import rounded, shown

if TYPE_CHECKING:
    from assistant.store.partial import Building

_BIDI_AND_INVISIBLE = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\u00ad"
)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI_AND_INVISIBLE + "\ud800-\udfff\ufff9-\ufffb]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """Text safe to print on a terminal: controls and invisible/bidi characters shown as escapes.

    Newlines and tabs stay (tabs become spaces). A zero-width joiner between two symbols is kept,
    since it only glues an emoji sequence (🧑‍💻).
    """

    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        if char == "\u200d":
            start, end = match.start(), match.end()
            before = match.string[start - 1] if start else ""
            after = match.string[end] if end < len(match.string) else ""
            if before and after and unicodedata.category(before) == "So" and unicodedata.category(after) == "So":
                return char
        return _escape(char)

    return _UNSAFE.sub(replace, text.replace("\t", "    "))


# ---------------------------------------------------------------- paths that open, links, colour


@dataclass(frozen=True)
class Look:
    """How plain output may be decorated. The default is the undecorated text of earlier versions."""

    color: bool = False
    """Bold and colour (SGR sequences)."""
    links: bool = False
    """Citations as OSC 8 hyperlinks to the note's file:// URI."""
    notes_dir: Path | None = None
    """The notes folder: with it, citations are paths that open from the current folder."""


def wants_color(stream: TextIO, environ: Mapping[str, str] | None = None, *, no_color: bool = False) -> bool:
    """Colour only on a terminal, never with --no-color, NO_COLOR (any non-empty value) or TERM=dumb."""
    env = os.environ if environ is None else environ
    if no_color or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def wants_links(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """OSC 8 links on a terminal that plausibly shows them; FORCE_HYPERLINK=1 / 0 overrides."""
    env = os.environ if environ is None else environ
    forced = env.get("FORCE_HYPERLINK")
    if forced:
        return forced not in ("0", "false", "no")
    # The Linux console and dumb terminals (Emacs shell, CI logs) print the sequence instead of using it.
    if env.get("TERM", "") in ("dumb", "linux"):
        return False
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def note_path(notes_dir: Path, file: str) -> Path:
    """The note's absolute path (not resolved through symlinks, so it reads as the user named it)."""
    return Path(os.path.normpath(Path.cwd() / notes_dir.expanduser() / file))


def openable_path(notes_dir: Path, file: str) -> str:
    """A path to the note that works from the current folder: relative when under it, else absolute."""
    absolute = note_path(notes_dir, file)
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(absolute)


def _sgr(text: str, code: str, look: Look) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if look.color and text else text


def _link(text: str, target: Path, look: Look) -> str:
    if not look.links:
        return text
    # as_uri percent-encodes every byte outside the URI alphabet, controls included.
    return f"\x1b]8;;{target.as_uri()}\x1b\\{text}\x1b]8;;\x1b\\"


def shell_path(path: str) -> str:
    """A path as a shell reads it: unchanged when it needs no quoting, else in single quotes
    (`shlex.quote`), so a pasted citation opens a note whose name has spaces."""
    return shlex.quote(path)


def citation(hit: Hit, look: Look = Look()) -> str:
    """`path:START-END`, inert; with a notes folder, the path opens from here and `path:START` is a link."""
    chunk = hit.chunk
    return _sgr(_cite(chunk.file, chunk.start_line, chunk.end_line, look), "1", look)


def answer_lines_label(hit: Hit) -> str:
    """The answer's line numbers in its passage's file: `1357`, or `1357-1359` for a few lines."""
    start, end = hit.answer.start_line, hit.answer.end_line
    return f"{start}-{end}" if end != start else str(start)


def _cite(file: str, start: int, end: int, look: Look) -> str:
    tail = f"-{end}" if end != start else ""
    if look.notes_dir is None:
        return inert(f"{shell_path(file)}:{start}{tail}")
    where = inert(f"{shell_path(openable_path(look.notes_dir, file))}:{start}")
    return _link(where, note_path(look.notes_dir, file), look) + tail


# ---------------------------------------------------------------- JSON


def hit_record(hit: Hit, notes_dir: Path | None = None) -> dict[str, Any]:
    """One result for JSON; with the notes folder, `path` is the note's path as it opens from here."""
    chunk = hit.chunk
    record = {
        "rank": hit.rank,
        "score": rounded(hit.score),
        "file": chunk.file,
        "heading_path": list(chunk.heading_path),
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "text": chunk.text,
        "table_header": chunk.table_header,
        "answer": {"start_line": hit.answer.start_line, "end_line": hit.answer.end_line, "text": hit.answer.text},
    }
    if notes_dir is not None:
        record["path"] = openable_path(notes_dir, chunk.file)
    return record


def response_record(response: SearchResponse, explain: bool = False, notes_dir: Path | None = None) -> dict[str, Any]:
    results = []
    for hit in response.hits:
        result = hit_record(hit, notes_dir)
        if explain:
            result["ranks"] = dict(hit.ranks)
            result["scores"] = {name: None if value is None else round(value, 6) for name, value in hit.scores.items()}
            if hit.fused_rank is not None:
                result["ranks"]["fused"] = hit.fused_rank
            result["rank_score"] = None if hit.rank_score is None else round(hit.rank_score, 6)
            result["similarity"] = None if hit.similarity is None else round(hit.similarity, 6)
            result["pieces"] = hit.pieces
        results.append(result)
    record: dict[str, Any] = {"query": response.query, "results": results}
    if response.rewritten:
        record["searched"] = response.searched
    record["weak_match"] = not response.strength.strong
    if not response.strength.strong:
        record["weak_reason"] = response.strength.reason
    if response.building is not None:
        record["index"] = building_record(response.building)
    return record


def building_record(building: Building) -> dict[str, Any]:
    """JSON's (and MCP's) `"index"` of an answer from an index still being built; absent when complete."""
    return {
        "complete": False,
        "passages": building.passages,
        "passages_embedded": building.embedded,
        "note": building.describe(),
    }


EMPTY_QUESTION = "the question is empty"


def empty_record(question: str) -> dict[str, Any]:
    """The JSON answer to a blank line of a batch: no results, so output lines stay aligned with
    input lines; weak, as nothing was asked."""
    return {"query": question, "results": [], "weak_match": True, "weak_reason": EMPTY_QUESTION}


def to_json(data: Any) -> str:
    """One line of JSON in which no character can act on a terminal."""
    text = json.dumps(data, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


# ---------------------------------------------------------------- plain text


ANSWER_GUTTER = " › "
"""What marks an answer line of a passage in plain output (other lines are indented as wide)."""


def format_hit(hit: Hit, *, explain: bool = False, look: Look = Look()) -> str:
    """One result: `RANK. [SCORE] PATH:START-END › ANSWER LINES  HEADING PATH`, then the passage
    indented, its answer lines marked with `›` (and bold, in colour). The path is given once: the
    answer lines are numbers in the same file. Everything a note supplies goes through `inert`
    before any decoration is added."""
    chunk = hit.chunk
    path = " > ".join(chunk.heading_path) or "(top of file)"
    head = (
        _sgr(f"{hit.rank}.", "1", look)
        + " "
        + _sgr(f"[{shown(hit.score)}]", "2", look)
        + " "
        + citation(hit, look)
        + _sgr(ANSWER_GUTTER, "36", look)
        + answer_lines_label(hit)
        + "  "
        + _sgr(inert(path), "36", look)
    )
    if explain:
        head += "  " + _sgr(inert(f"({explanation(hit)})"), "2", look)
    return head + "\n" + "\n".join(_body(hit, look))


def explanation(hit: Hit) -> str:
    """How a result came to its place and its number, for --explain: its rank in each list (the
    passage vectors "dense", the line vectors "lines", the keyword list "bm25"), its fused rank and
    the token rerank's score that ordered it, the cosine its score was capped from, and the pieces
    it joins."""
    parts = [", ".join(f"{name} #{rank}" if rank else f"{name} –" for name, rank in hit.ranks.items())]
    if hit.fused_rank is not None and hit.rank_score is not None:
        parts.append(f"fused #{hit.fused_rank}, then token rerank {hit.rank_score:.3f} (MaxSim with best line)")
    elif hit.rank_score is not None:
        parts.append(f"ranked by {hit.rank_score:.3f}")
    if hit.similarity is not None and shown(max(0.0, hit.similarity)) != shown(hit.score):
        parts.append(f"cosine {hit.similarity:.2f}, shown as {shown(hit.score)}: no more than the result above")
    if hit.pieces > 1:
        parts.append(f"{hit.pieces} neighbouring pieces of this section, shown as one")
    return "; ".join(parts)


@dataclass(frozen=True)
class ShownPassage:
    """A hit's passage as it is shown, and where its answer is in it."""

    lines: list[str]
    """`Chunk.display_text`'s lines: the passage, under its table's header row for a piece cut from
    inside a table."""
    answer: range
    """Which of those lines are the answer lines."""


def shown_passage(hit: Hit) -> ShownPassage:
    """The lines every front end shows for a hit, with its answer lines among them: text line i of a
    passage is file line end_line - n + 1 + i, below the header lines display_text may add."""
    chunk, answer = hit.chunk, hit.answer
    lines = chunk.display_text.split("\n")
    own = chunk.text.count("\n") + 1
    above = len(lines) - own  # the table header lines display_text adds
    first = chunk.end_line - own + 1
    start = max(0, answer.start_line - first) + above
    return ShownPassage(lines, range(start, min(own, answer.end_line - first + 1) + above))


def _body(hit: Hit, look: Look) -> list[str]:
    """The passage's non-blank lines, indented, the answer's behind the gutter. A piece cut from
    inside a table is shown under that table's header row, as in the chat app."""
    shown = shown_passage(hit)
    lines = []
    for index, line in enumerate(shown.lines):
        if not line.strip():
            continue
        if index in shown.answer:
            lines.append(_sgr(ANSWER_GUTTER, "36", look) + _sgr(inert(line), "1", look))
        else:
            lines.append(" " * len(ANSWER_GUTTER) + inert(line))
    return lines


def searched_line(response: SearchResponse, look: Look = Look()) -> str | None:
    """`searched: …` when the question was rewritten before it was searched (a typo corrected, a
    follow-up completed), else None: the same rule as JSON's "searched" (`SearchResponse.rewritten`)."""
    if not response.rewritten:
        return None
    return _sgr("searched:", "2", look) + " " + _sgr(inert(response.searched), "3", look)


def weak_line(response: SearchResponse, look: Look = Look()) -> str | None:
    """`No strong match in your notes (why). The closest passages:` when the best match is weak
    (`SearchResponse.strength`, the rule every front end uses), else None."""
    strength = response.strength
    if strength.strong or not response.hits:
        return None
    return _sgr(inert(f"No strong match in your notes ({strength.reason}). The closest passages:"), "33", look)


def building_line(response: SearchResponse, look: Look = Look()) -> str | None:
    """`Answered from an index still being built: …` when the answer came from a partial index."""
    if response.building is None:
        return None
    return _sgr(inert(response.building.sentence()), "33", look)


def question_line(question: str, look: Look = Look()) -> str:
    """`❯ question`: what a batch answer answers, above its passages."""
    return _sgr("❯", "36", look) + " " + _sgr(inert(question), "1", look)


def format_response(response: SearchResponse, *, explain: bool = False, width: int = 100, look: Look = Look()) -> str:
    """The plain-text answer of `notes ask`: what was searched if it differs, a weak match said in
    one line, then one block per hit."""
    said = (searched_line(response, look), building_line(response, look), weak_line(response, look))
    lead = "".join(line + "\n" for line in said if line)
    if not response.hits:
        return lead + "No passages found."
    rule = "\n" + _sgr("-" * min(width, 60), "2", look) + "\n"
    return lead + rule.join(format_hit(hit, explain=explain, look=look) for hit in response.hits)
