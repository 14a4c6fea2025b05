"""The `get` tool's side of the notes folder: a path as an agent hands it back → the note's lines.

An agent names a note as a search result gave it: its `file` (relative to the notes folder) or its
`path` (as it opens from the server's working folder, or absolute). Anything else is refused before
a byte of it is read: `..` anywhere in the path, a path outside the notes folder, a symlink whose
target leaves the folder, and any file `notes/ingest.py` would not index (another suffix, a hidden
file or folder such as `.git/` or `.env.md`). A refusal names only the path the agent gave.

Lines are read through ingest's own decoding and repair (`note_lines`), so line N here is line N of
every citation, and at most `MAX_LINES` lines or `MAX_CHARS` characters come back at once (the
answer says where it stopped and how to ask for the rest).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from assistant.errors import UsageProblem
from assistant.notes.ingest import MAX_FILE_BYTES, is_note_path, note_lines
from assistant.present.render import openable_path

MAX_LINES = 400
"""Lines one `get` returns at most (a whole chapter of notes; ask again from where it stopped)."""
MAX_CHARS = 200_000
"""Characters one `get` returns at most (a note's line can be 100,000 characters long)."""
_SHOWN_PATH = 200


class NoteRefused(UsageProblem):
    """A path that does not name a note of the notes folder (the file itself is never read)."""


def _shown(given: str) -> str:
    text = given if len(given) <= _SHOWN_PATH else given[:_SHOWN_PATH] + "…"
    return repr(text)


def _inside(path: Path, root: Path) -> Path | None:
    """`path` relative to `root` when it lies under it (lexically; both absolute), else None."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return None
    return relative if relative.parts else None


def resolve_note(notes_dir: Path, given: str, cwd: Path | None = None) -> tuple[Path, str]:
    """The note `given` names, as (its real path, its path relative to the notes folder), or
    NoteRefused. `given` is a search result's `file` (tried against the notes folder first) or its
    `path` (against `cwd`, the server's working folder, or absolute)."""
    refused = NoteRefused(
        f"refused: {_shown(given)} is not a note of the notes folder",
        "pass a result's `file` or `path` from the search tool",
    )
    if not given.strip() or "\x00" in given:
        raise NoteRefused("the path is empty", "pass a result's `file` or `path` from the search tool")
    named = Path(given)
    if ".." in named.parts:
        raise NoteRefused(f"refused: {_shown(given)} climbs out with `..`", "pass a path inside the notes folder")
    base = Path(os.path.abspath(cwd or Path.cwd()))
    root = Path(os.path.abspath(notes_dir))
    real_root = root.resolve()
    candidates = [named] if named.is_absolute() else [root / named, base / named]
    inside: list[tuple[Path, Path]] = []
    for candidate in candidates:
        lexical = Path(os.path.normpath(candidate))
        relative = _inside(lexical, root) or _inside(lexical, real_root)
        if relative is not None:
            inside.append((lexical, relative))
    if not inside:
        raise refused
    # The notes folder's own reading first (a result's `file`); else the working folder's (its `path`).
    lexical, relative = next(((path, rel) for path, rel in inside if os.path.lexists(path)), inside[0])
    if not os.path.lexists(lexical):
        raise NoteRefused(
            f"no note {_shown(given)} in the notes folder", "pass a result's `file` or `path` from the search tool"
        )
    real = lexical.resolve()
    real_relative = _inside(real, real_root)
    if real_relative is None:  # a symlink, or a folder on the way, whose target leaves the notes folder
        raise refused
    if not (is_note_path(real_root / relative, real_root) and is_note_path(real, real_root)):
        raise refused
    return real, relative.as_posix()


def read_note(
    notes_dir: Path, given: str, start_line: int | None = None, end_line: int | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """The `get` tool's answer: the note's lines `start_line`..`end_line` (1-based, inclusive; the
    whole note by default), each with its number, cut at MAX_LINES / MAX_CHARS with a `cut` line
    saying how to ask for the rest."""
    real, relative = resolve_note(notes_dir, given, cwd)
    try:
        info = real.stat()
    except OSError as exc:
        raise NoteRefused(f"cannot read {_shown(given)} ({exc.strerror or type(exc).__name__})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise NoteRefused(f"refused: {_shown(given)} is not a note file", "pass a note's path, not a folder")
    if info.st_size > MAX_FILE_BYTES:
        raise NoteRefused(f"{_shown(given)} is too large to be a note ({info.st_size // (1024 * 1024)} MB)")
    try:
        lines = note_lines(real)
    except OSError as exc:
        raise NoteRefused(f"cannot read {_shown(given)} ({exc.strerror or type(exc).__name__})") from exc
    total = len(lines)
    first = start_line or 1
    if first > total:
        raise UsageProblem(f"start_line {first} is past the end of {relative} ({total} lines)")
    last = min(end_line or total, total)
    if last < first:
        raise UsageProblem(f"end_line {end_line} is before start_line {first}")
    wanted = last
    last = min(last, first + MAX_LINES - 1)
    shown: list[dict[str, Any]] = []
    characters = 0
    for number in range(first, last + 1):
        text = lines[number - 1]
        if shown and characters + len(text) > MAX_CHARS:
            last = number - 1
            break
        shown.append({"line": number, "text": text})
        characters += len(text)
    record: dict[str, Any] = {
        "file": relative,
        "path": openable_path(notes_dir, relative),
        "start_line": first,
        "end_line": last,
        "line_count": total,
        "lines": shown,
    }
    if last < wanted:
        record["cut"] = (
            f"lines {first}-{last} of {first}-{wanted} shown (at most {MAX_LINES} lines or "
            f"{MAX_CHARS:,} characters at a time); ask again with start_line={last + 1} for the rest"
        )
    return record
