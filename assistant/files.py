"""Files the tool writes and checks: content digests, durable writes, isolated copies.

One place for these so that every module hashes and syncs the same way:
- `digest_*`: sha256, the one hash of the project (notes' bytes, embedded texts, index files);
- `write_json_durably`, `fsync_*`: data reaches the disk before a rename makes it visible, so a
  crash leaves the old file or the new one, never half of one;
- `copy_isolated`: a copy that shares no storage a later write could damage in both places (a
  reflink on file systems that clone, else a plain copy). Never a hard link: one truncated link
  truncates every other (issue 18 found an index's model export emptied by damage to another's).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
VERIFIED = "verified.json"
"""Size and modification time of each file when its hash last matched its record (a copied folder
moves every mtime: one full check, then checking is cheap again). Losing it costs one full check,
never a wrong answer."""


@dataclass(frozen=True)
class StoredFile:
    """A file as written: damage shows as a different size or hash."""

    size: int
    sha256: str
    mtime_ns: int


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_text(text: str) -> str:
    """sha256 of the text's UTF-8 (lone surrogates kept, so any str hashes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def write_json_durably(path: Path, data: Any, *, indent: int | None = 1) -> None:
    """Write JSON and fsync it (the caller renames it into place when it must appear atomically)."""
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=indent)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (not every file system allows it: ignored then)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fsync_file(path)
    fsync_dir(root)


def copy_isolated(source: Path, target: Path) -> None:
    """Copy a file so that the two never share storage: a copy-on-write clone where the file system
    offers one (instant, no extra space until one side changes), else a full copy."""
    if _clone(source, target):
        shutil.copymode(source, target)
        return
    shutil.copyfile(source, target)
    shutil.copymode(source, target)


def _clone(source: Path, target: Path) -> bool:
    """FICLONE (btrfs, XFS, bcachefs, overlays of them); False where the file system cannot."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        return False
    ficlone = 0x40049409
    try:
        with source.open("rb") as src, target.open("wb") as dst:
            fcntl.ioctl(dst.fileno(), ficlone, src.fileno())
        return True
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink()
        return False


def record_files(root: Path, known: dict[str, str] | None = None) -> dict[str, StoredFile]:
    """Size, sha256 and modification time of every file under root, by relative path. `known`:
    hashes already computed (a copy of files whose source was just checked)."""
    records: dict[str, StoredFile] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == VERIFIED:
            continue
        relative = path.relative_to(root).as_posix()
        info = path.stat()
        digest = (known or {}).get(relative) or digest_file(path)
        records[relative] = StoredFile(info.st_size, digest, info.st_mtime_ns)
    return records


def damaged_files(root: Path, records: dict[str, StoredFile], *, full: bool = False) -> list[str]:
    """The recorded files under root that are missing or no longer hold what was recorded.

    Cheap by default: a stat per file, hashing only where the size or modification time moved
    since it was recorded (or last confirmed, in `verified.json`); `full` hashes every file."""
    seen = _verified(root)
    damaged: list[str] = []
    confirmed: dict[str, list[int]] = {}
    for relative, record in records.items():
        path = root / relative
        try:
            info = path.stat()
        except OSError:
            damaged.append(relative)
            continue
        if info.st_size != record.size:
            damaged.append(relative)
            continue
        stat = [info.st_size, info.st_mtime_ns]
        if not full and (info.st_mtime_ns == record.mtime_ns or seen.get(relative) == stat):
            continue
        try:
            same = digest_file(path) == record.sha256
        except OSError:
            same = False
        if not same:
            damaged.append(relative)
        elif info.st_mtime_ns != record.mtime_ns and seen.get(relative) != stat:
            confirmed[relative] = stat
    if confirmed:
        with contextlib.suppress(OSError):  # a read-only folder is checked again next time: no harm
            write_json_durably(root / VERIFIED, {**seen, **confirmed}, indent=None)
    return damaged


def _verified(root: Path) -> dict[str, list[int]]:
    try:
        data = json.loads((root / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
