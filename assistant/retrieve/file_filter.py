"""`--file`: which notes a question may be answered from, as a person names them.

The searcher matches one glob against each note's path (relative to the notes folder) and its file
name. People name notes other ways too, so the value is turned into such a glob here, before the
search, against the list of indexed notes:
- a path as the shell completes it, relative to the current folder or absolute
  (`corpus/vpc-endpoints.md`, `~/notes/vpc*`), becomes the path inside the notes folder;
- a name without its suffix (`everything-aws`) matches `everything-aws.txt` (and `.md`, `.markdown`);
- a folder inside the notes folder (`corpus/network`) means the notes in it;
- a glob (`vpc*`, `network/*`) is used as it is; any other exact path or name is escaped, so a note
  called `notes [draft].md` matches only itself.
Nothing matching is an error that names the value and a few of the notes.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from assistant.config import NOTE_SUFFIXES
from assistant.errors import UsageProblem

_GLOB_CHARS = frozenset("*?[")


def note_glob(value: str, files: Sequence[str], notes_dir: Path, *, cwd: Path | None = None) -> str:
    """The glob the searcher should match for `--file VALUE`. Raises UsageProblem when no note matches."""
    if not value.strip():
        raise UsageProblem("--file is empty", "name a note, e.g. --file vpc-endpoints.md or --file 'vpc*'")
    wanted = _inside_notes(value.strip(), notes_dir, cwd or Path.cwd())
    if wanted in ("", "."):  # the notes folder itself
        return "*"
    if _GLOB_CHARS & set(wanted) and _matching(wanted, files):
        return wanted
    literal = glob.escape(wanted)
    if _matching(literal, files):
        return literal
    stems = [file for file in files if _without_suffix(file) == wanted or _without_suffix(_name(file)) == wanted]
    if len(stems) == 1:
        return glob.escape(stems[0])
    if stems:  # `lambda` with lambda.md and lambda.txt: both
        return literal + ".*"
    if any(file.startswith(wanted + "/") for file in files):  # a folder of notes
        return literal + "/*"
    raise _no_match(value, files)


def _inside_notes(value: str, notes_dir: Path, cwd: Path) -> str:
    """The value as a path inside the notes folder when it names one from here; else as given."""
    path = Path(value).expanduser()
    absolute = Path(os.path.normpath(path if path.is_absolute() else cwd / path))
    for root in _roots(notes_dir, cwd):
        try:
            inside = absolute.relative_to(root)
        except ValueError:
            continue
        return inside.as_posix() if inside.parts else ""
    return PurePosixPath(value.replace(os.sep, "/")).as_posix()


def _roots(notes_dir: Path, cwd: Path) -> list[Path]:
    folder = notes_dir.expanduser()
    given = Path(os.path.normpath(folder if folder.is_absolute() else cwd / folder))
    roots = [given]
    try:
        resolved = given.resolve()
    except OSError:
        return roots
    return roots if resolved == given else [*roots, resolved]


def _matching(pattern: str, files: Sequence[str]) -> list[str]:
    return [file for file in files if fnmatch.fnmatchcase(file, pattern) or fnmatch.fnmatchcase(_name(file), pattern)]


def _name(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _without_suffix(file: str) -> str:
    for suffix in NOTE_SUFFIXES:
        if file.lower().endswith(suffix):
            return file[: -len(suffix)]
    return file


def _no_match(value: str, files: Sequence[str]) -> UsageProblem:
    shown = ", ".join(files[:5]) + (", …" if len(files) > 5 else "")
    return UsageProblem(f"no notes match --file {value!r}", f"notes: {shown}" if files else "the index holds no notes")
