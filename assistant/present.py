"""Stage 6, present: SearchResponses → text for a terminal, or JSON for scripts.

Note text is untrusted: a note can hold ANSI/OSC escape sequences (title changes, OSC 52 clipboard
writes), bidi overrides or zero-width characters. `inert` shows every such character as a visible
escape (`\\x1b`, `\\u202e`) so nothing reaches the terminal as a control, and JSON output escapes them.
Nothing here is ever interpreted as Rich markup.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from assistant.search import Hit, SearchResponse

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


def hit_record(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "file": chunk.file,
        "heading_path": list(chunk.heading_path),
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "text": chunk.text,
        "table_header": chunk.table_header,
    }


def response_record(response: SearchResponse, explain: bool = False) -> dict[str, Any]:
    results = []
    for hit in response.hits:
        record = hit_record(hit)
        if explain:
            record["ranks"] = dict(hit.ranks)
            record["scores"] = {name: None if value is None else round(value, 6) for name, value in hit.scores.items()}
            if hit.fused_rank is not None:
                record["ranks"]["fused"] = hit.fused_rank
            record["pieces"] = hit.pieces
        results.append(record)
    answer: dict[str, Any] = {"query": response.query, "results": results}
    if response.searched != response.query:
        answer["searched"] = response.searched
    return answer


def to_json(data: Any) -> str:
    """One line of JSON in which no character can act on a terminal."""
    text = json.dumps(data, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def format_response(response: SearchResponse, *, explain: bool = False, width: int = 100) -> str:
    """The plain-text answer of `notes ask`: rank, score, citation, heading path, passage."""
    if not response.hits:
        return "No passages found."
    blocks = []
    for hit in response.hits:
        chunk = hit.chunk
        path = " > ".join(chunk.heading_path) or "(top of file)"
        head = f"{hit.rank}. [{hit.score:.3f}] {chunk.citation}  {path}"
        if explain:
            ranks = ", ".join(f"{name} #{rank}" if rank else f"{name} –" for name, rank in hit.ranks.items())
            if hit.fused_rank is not None:
                ranks += f"; fused #{hit.fused_rank}, then token rerank (MaxSim with best line {hit.score:.3f})"
            if hit.pieces > 1:
                ranks += f"; {hit.pieces} neighbouring pieces of this section, shown as one"
            head += f"  ({ranks})"
        # A piece cut from inside a table is shown under that table's header row, as in the chat app.
        body = "\n".join("   " + line for line in chunk.display_text.splitlines() if line.strip())
        blocks.append(inert(head) + "\n" + inert(body))
    rule = "\n" + "-" * min(width, 60) + "\n"
    return rule.join(blocks)
