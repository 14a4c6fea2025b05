"""Stage 1, ingest: a notes folder → Documents (relative path, repaired text, content hash).

Why repair here: the notes are the user's and are never edited, so every fix (encoding detection,
mojibake repair with ftfy, line-break normalisation) happens in memory, keeping the line structure
identical so that citations still point at the right lines of the original file.
Problems with single files are collected as `FileProblem`s and reported, never raised.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import NOTE_SUFFIXES
from assistant.errors import CorpusError
from assistant.files import digest_bytes

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are skipped: notes are text, and a 64 MB "note" is an export or a log."""
MAX_LINE_CHARS = 100_000
"""Longer lines are cut to this many characters (see `_cap_long_lines`)."""

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass(frozen=True)
class FileProblem:
    """A file that was skipped or repaired, said once, by name and reason."""

    path: str
    reason: str
    skipped: bool


@dataclass(frozen=True)
class Document:
    path: str
    """Path relative to the corpus folder, with forward slashes: what citations show."""
    text: str
    """Decoded and repaired text; line i here is line i of the file on disk."""
    content_hash: str
    """sha256 of the raw bytes: unchanged files are not re-chunked or re-embedded."""
    notes: tuple[str, ...] = field(default=())
    """What ingest repaired (encoding, mojibake), for the build summary."""


@dataclass(frozen=True)
class SourceFile:
    """A note file found on disk, before it is read."""

    path: str
    absolute: Path


def require_corpus(corpus_dir: Path) -> None:
    """Fail early, with the fix, when the notes folder is missing or not a folder."""
    if not corpus_dir.exists():
        raise CorpusError(f"notes folder not found: {corpus_dir}", "pass --corpus DIR or set NOTES_CORPUS")
    if not corpus_dir.is_dir():
        raise CorpusError(f"not a folder: {corpus_dir}", "pass --corpus DIR with a folder of notes")


def is_note_path(path: Path, root: Path) -> bool:
    """Whether a path under root is one `discover` would index: a .md/.markdown/.txt file outside
    hidden files and folders (.git, .obsidian, an editor's ".#note.md" lock)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    return bool(parts) and path.suffix.lower() in NOTE_SUFFIXES and not any(part.startswith(".") for part in parts)


def note_lines(path: Path) -> list[str]:
    """A note's lines exactly as the index sees them: decoded and repaired as at indexing (so line
    numbers and mojibake repair agree with every citation). Raises OSError when it cannot be read."""
    raw = path.read_bytes()
    document, _problem = decode_document(path.name, raw)
    text = document.text if document is not None else raw.decode("utf-8", errors="replace")
    return text.split("\n")


def discover(corpus_dir: Path) -> tuple[list[SourceFile], list[FileProblem]]:
    """Find note files under corpus_dir, recursively, skipping hidden folders and following each
    folder at most once (so symlink loops end)."""
    require_corpus(corpus_dir)
    found: list[SourceFile] = []
    problems: list[FileProblem] = []
    seen_dirs: set[tuple[int, int]] = set()
    root = corpus_dir.resolve()

    def walk(directory: Path) -> Iterator[tuple[Path, bool]]:
        """(path, is a folder to walk) for the entries of one folder."""
        try:
            info = directory.stat()
        except OSError as exc:
            problems.append(FileProblem(_rel(directory, root), f"unreadable folder ({exc.strerror})", True))
            return
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            problems.append(FileProblem(_rel(directory, root), "folder already visited (symlink loop)", True))
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            problems.append(FileProblem(_rel(directory, root), f"unreadable folder ({exc.strerror})", True))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if (is_dir or path.suffix.lower() in NOTE_SUFFIXES) and not _valid_name(entry.name):
                # The index stores paths as UTF-8 JSON: a name with undecodable bytes cannot be cited.
                shown = _rel(path, root).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(FileProblem(shown, "name is not valid UTF-8 (rename it)", True))
                continue
            if is_dir:
                yield path, True
            elif path.suffix.lower() in NOTE_SUFFIXES:
                yield path, False

    # Depth first with an explicit stack: folders nested thousands deep must not hit the recursion limit.
    stack = [walk(root)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif item[1]:
            stack.append(walk(item[0]))
        else:
            found.append(SourceFile(_rel(item[0], root), item[0]))
    return found, problems


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_bytes(source: SourceFile) -> tuple[bytes | None, FileProblem | None]:
    """Read a note's bytes, or say why not (broken link, unreadable, not a regular file, too large)."""
    try:
        info = source.absolute.stat()
    except OSError as exc:
        return None, FileProblem(source.path, _stat_failure(source.absolute, exc), True)
    if not stat.S_ISREG(info.st_mode):
        return None, FileProblem(source.path, "not a regular file", True)
    if info.st_size > MAX_FILE_BYTES:
        return None, FileProblem(source.path, f"too large ({info.st_size // (1024 * 1024)} MB)", True)
    try:
        return source.absolute.read_bytes(), None
    except FileNotFoundError:
        return None, FileProblem(source.path, "deleted while indexing", True)
    except OSError as exc:
        return None, FileProblem(source.path, f"unreadable ({exc.strerror or exc})", True)


def _stat_failure(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if path.is_symlink():
        return "broken symlink"
    if isinstance(exc, FileNotFoundError):
        return "deleted while indexing"
    return f"cannot stat ({exc.strerror or exc})"


def decode_document(path: str, raw: bytes) -> tuple[Document | None, FileProblem | None]:
    """Bytes → repaired Document, or a skip reason for binary data."""
    notes: list[str] = []
    text: str | None = None
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                return None, FileProblem(path, f"broken {encoding} text", True)
            if encoding != "utf-8-sig":
                notes.append("decoded as UTF-16")
            break
    if text is None:
        if _looks_binary(raw):
            return None, FileProblem(path, "binary file, not text", True)
        text, note = _decode_bytes(raw)
        if note:
            notes.append(note)
    if "\x00" in text:
        return None, FileProblem(path, "binary file, not text", True)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text, note = _cap_long_lines(text)
    if note:
        notes.append(note)
    repaired = repair_text(text)
    if repaired != text:
        notes.append("repaired mojibake")
    problem = FileProblem(path, "; ".join(notes), False) if notes else None
    return Document(path, repaired, digest_bytes(raw), tuple(notes)), problem


def _cap_long_lines(text: str) -> tuple[str, str | None]:
    """Cut lines over MAX_LINE_CHARS (a minified export, a pasted base64 image) to their start.

    The line count is unchanged, so citations still match the file; chunking a 20 MB line would
    otherwise take minutes and fill the index with tens of thousands of passages of one line.
    """
    if len(text) <= MAX_LINE_CHARS:
        return text, None
    lines = text.split("\n")
    long = [number for number, line in enumerate(lines) if len(line) > MAX_LINE_CHARS]
    if not long:
        return text, None
    first = len(lines[long[0]])
    for number in long:
        line = lines[number]
        cut = line.rfind(" ", MAX_LINE_CHARS // 2, MAX_LINE_CHARS)
        lines[number] = line[: cut if cut > 0 else MAX_LINE_CHARS]
    more = f" (and {len(long) - 1} more line(s))" if len(long) > 1 else ""
    note = (
        f"line {long[0] + 1} is {first:,} characters long{more}; "
        f"only its first {MAX_LINE_CHARS:,} characters are indexed"
    )
    return "\n".join(lines), note


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return controls / len(head) > 0.10


def _decode_bytes(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    lossy = raw.decode("utf-8", errors="replace")
    bad = lossy.count("\ufffd")
    multibyte = sum(1 for char in lossy if ord(char) > 0x7F and char != "\ufffd")
    if multibyte > bad * 4:
        return lossy, f"{bad} invalid UTF-8 byte(s) replaced"
    try:
        return raw.decode("cp1252"), "not UTF-8; decoded as cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "not UTF-8; decoded as latin-1"


def repair_text(text: str) -> str:
    """Repair mojibake without changing the number of lines.

    UTF-8 read as Mac Roman (the seed notes' `‚Äô`, `üåç`) is undone run by run first, since ftfy
    does not recognise runs that start with Mac Roman's Apple logo; ftfy then fixes the rest.
    """
    if text.isascii():
        return text
    import ftfy

    def undo(match: re.Match[str]) -> str:
        run = match.group(0)
        for encoding in ("mac_roman", "cp1252"):
            try:
                return run.encode(encoding).decode("utf-8")
            except UnicodeError:
                continue
        return run

    fixed = _NON_ASCII_RUN.sub(undo, text)
    # Only mojibake is repaired: control characters and terminal escapes stay as the note has them
    # (ftfy would strip some of them, and only in non-ASCII files); `present.inert` makes them safe.
    fixed = ftfy.fix_text(
        fixed,
        uncurl_quotes=False,
        unescape_html=False,
        fix_line_breaks=False,
        remove_terminal_escapes=False,
        remove_control_chars=False,
    )
    if fixed.count("\n") != text.count("\n"):
        return text
    return fixed


def load_documents(corpus_dir: Path) -> tuple[list[Document], list[FileProblem]]:
    """Read and repair every note under corpus_dir (no caching; the index module reuses unchanged files)."""
    sources, problems = discover(corpus_dir)
    documents: list[Document] = []
    for source in sources:
        raw, problem = read_bytes(source)
        if raw is None:
            problems.append(problem)  # type: ignore[arg-type]
            continue
        document, problem = decode_document(source.path, raw)
        if problem:
            problems.append(problem)
        if document:
            documents.append(document)
    return documents, problems
