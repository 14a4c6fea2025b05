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
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


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
