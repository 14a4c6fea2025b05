"""An index folder on disk: immutable generations, the CURRENT pointer, the build lock, integrity.

    index/CURRENT                 {"generation": "gen-…"}: replaced atomically when a build finishes
    index/gen-…/manifest.json     written last (manifest.py), with every other file's size and hash
    index/gen-…/…                 vectors, FAISS, BM25, chunk store, token vectors, the model export
    index/.lock                   one build at a time

A build writes a new generation into a hidden staging folder and only then points CURRENT at it, so
a crash, Ctrl-C or kill -9 mid-build leaves the previous index in use. Nothing in a generation is
written after it is published; `verify` says which of its files no longer match the manifest.
Checking a file's bytes costs about 0.4 s for the shipped notes' index (most of it the model export),
too much for every one-shot question, so opening compares each file's size and modification time
with the manifest (or with the last check, kept in `verified.json`) and hashes only what moved;
`notes status` hashes everything.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from assistant.errors import IndexCorrupt, IndexLocked, IndexMissing
from assistant.files import damaged_files, fsync_dir, fsync_tree, write_json_durably
from assistant.store.manifest import MANIFEST_FILE, REBUILD, Manifest

POINTER = "CURRENT"


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / POINTER
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
        name = str(data["generation"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"unreadable index pointer {pointer}: {exc}", REBUILD) from exc
    if "/" in name or name.startswith("."):
        raise IndexCorrupt(f"index pointer {pointer} names a bad folder", REBUILD)
    path = index_dir / name
    return path if path.is_dir() else None


def require_index(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissing(f"no index in {index_dir}", "run `notes index`")
    return generation


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: Callable[[], None] | None = None, timeout: float = 600.0) -> Iterator[None]:
    """One build at a time per index folder; the second waits (saying so once) or gives up."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if wait is None:
                raise IndexLocked(f"another `notes index` is building {index_dir}", "wait for it to finish") from exc
            wait()
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise IndexLocked(
                            f"another `notes index` has held {index_dir} for {timeout:.0f} s", "try again later"
                        ) from None
                    time.sleep(0.2)
        yield
    finally:
        handle.close()


def new_staging(index_dir: Path) -> tuple[Path, Path]:
    """A fresh hidden folder to write a generation into, and the name it will be published under."""
    generation = index_dir / f"gen-{time.time_ns()}-{os.getpid()}"
    staging = index_dir / f".{generation.name}.partial"
    staging.mkdir(parents=True)
    return staging, generation


def publish(index_dir: Path, staging: Path, generation: Path, manifest: Manifest) -> None:
    """Write the manifest, make everything durable, then swap CURRENT to the new generation."""
    write_json_durably(staging / MANIFEST_FILE, manifest.to_json())
    fsync_tree(staging)
    os.replace(staging, generation)
    write_json_durably(index_dir / f"{POINTER}.tmp", {"generation": generation.name})
    os.replace(index_dir / f"{POINTER}.tmp", index_dir / POINTER)
    fsync_dir(index_dir)
    for path in index_dir.iterdir():
        if path.name != generation.name and (path.name.startswith("gen-") or path.name.endswith(".partial")):
            shutil.rmtree(path, ignore_errors=True)


def verify(generation: Path, manifest: Manifest, *, full: bool = False) -> list[str]:
    """The generation's files that are missing or no longer hold what the manifest recorded (see
    `files.damaged_files`: a stat per file, a hash only where one moved; `full` hashes all)."""
    return damaged_files(generation, manifest.stored, full=full)
