"""The chunk store of an index generation: every passage's citation and text, read one at a time.

Why: a question shows a handful of passages, but parsing every record of `chunks.jsonl` into a
Chunk at start-up cost 1.2 s at 100K passages and 16 s at 1M (`notes bench --scale`), most of a
one-shot `notes ask`. The store is read where it is needed instead:
- `chunks.jsonl`: one JSON object a line, row i is vector i and BM25 document i (plain data);
- `chunk_offsets.npy`: int64 [passages + 1], where each line starts, the last being the file's size;
- `chunk_files.npy`: int32 [passages], each passage's note as an index into `chunk_files.json` (the
  notes' paths), so `--file` picks rows without reading passages.
The manifest keeps the store's size and CRC-32, checked when the store is opened (14 ms for 84 MiB):
a damaged store is still caught at load, with the rebuild hint, not in the middle of a question.
"""

from __future__ import annotations

import json
import mmap
import zlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from assistant.errors import IndexCorrupt
from assistant.notes.chunk import Chunk
from assistant.store.manifest import REBUILD

if TYPE_CHECKING:
    import numpy as np

RECORDS = "chunks.jsonl"
OFFSETS = "chunk_offsets.npy"
FILE_IDS = "chunk_files.npy"
FILE_NAMES = "chunk_files.json"
CACHED = 4096
"""Parsed passages kept per store: a question reads a few dozen (candidates and their neighbours)."""


def write_chunk_store(directory: Path, chunks: Sequence[Chunk]) -> dict[str, int]:
    """Write the store's files into directory; returns what the manifest keeps to check it by."""
    import numpy as np

    names = sorted({chunk.file for chunk in chunks})
    number = {name: i for i, name in enumerate(names)}
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    crc = 0
    with (directory / RECORDS).open("wb") as handle:
        for row, chunk in enumerate(chunks):
            record = asdict(chunk)
            record["heading_path"] = list(chunk.heading_path)
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
            handle.write(line)
            crc = zlib.crc32(line, crc)
            offsets[row + 1] = offsets[row] + len(line)
    np.save(directory / OFFSETS, offsets, allow_pickle=False)
    np.save(directory / FILE_IDS, np.array([number[c.file] for c in chunks], dtype=np.int32), allow_pickle=False)
    (directory / FILE_NAMES).write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
    return {"bytes": int(offsets[-1]), "crc32": crc}


class ChunkStore(Sequence[Chunk]):
    """An opened, checked chunk store; `store[row]` parses one passage on first use."""

    def __init__(
        self, path: Path, data: bytes | mmap.mmap, offsets: np.ndarray, file_ids: np.ndarray, names: list[str]
    ) -> None:
        self.path = path
        self._data = data
        self._offsets = offsets
        self._file_ids = file_ids
        self._names = names
        self._parsed: dict[int, Chunk] = {}

    @classmethod
    def open(cls, generation: Path, count: int, check: dict[str, int]) -> ChunkStore:
        """Open a generation's store and check it against what its manifest says: `count` chunks,
        and `check` ({"bytes", "crc32"}); IndexCorrupt when anything disagrees."""
        import numpy as np

        path = generation / RECORDS
        size, crc = _whole(check.get("bytes")), _whole(check.get("crc32"))
        if size is None or crc is None:
            raise IndexCorrupt(f"index manifest does not describe the chunk store: {generation}", REBUILD)
        try:
            with path.open("rb") as handle:
                data: bytes | mmap.mmap = b""
                if size:
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            offsets = np.load(generation / OFFSETS, allow_pickle=False)
            file_ids = np.load(generation / FILE_IDS, allow_pickle=False)
            names = json.loads((generation / FILE_NAMES).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"chunk store missing: {exc.filename}", REBUILD) from exc
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"chunk store unreadable: {path}: {exc}", REBUILD) from exc
        problem = _disagreement(data, size, crc, count, offsets, file_ids, names)
        if problem:
            raise IndexCorrupt(f"chunk store unreadable: {path}: {problem}", REBUILD)
        return cls(path, data, offsets, file_ids, names)

    def __len__(self) -> int:
        return len(self._file_ids)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...

    @overload
    def __getitem__(self, row: slice) -> list[Chunk]: ...

    def __getitem__(self, row: int | slice) -> Chunk | list[Chunk]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        chunk = self._parsed.get(row)
        if chunk is None:
            chunk = self._parse(row)
            if len(self._parsed) >= CACHED:
                self._parsed.clear()
            self._parsed[row] = chunk
        return chunk

    @property
    def files(self) -> list[str]:
        """The notes that have passages, sorted."""
        return list(self._names)

    def rows_of(self, files: Sequence[str]) -> np.ndarray:
        """The rows of these notes' passages, ascending."""
        import numpy as np

        chosen = set(files)
        wanted = [i for i, name in enumerate(self._names) if name in chosen]
        return np.flatnonzero(np.isin(self._file_ids, wanted)).astype(np.int64)

    def _parse(self, row: int) -> Chunk:
        line = self._data[int(self._offsets[row]) : int(self._offsets[row + 1])]
        try:
            record = json.loads(line)
            record["heading_path"] = tuple(record["heading_path"])
            chunk = Chunk(**record)
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorrupt(f"chunk store unreadable: {self.path}: line {row + 1}: {exc}", REBUILD) from exc
        if not _well_formed(chunk) or chunk.file != self._names[int(self._file_ids[row])]:
            raise IndexCorrupt(f"chunk store unreadable: {self.path}: line {row + 1} is not a chunk", REBUILD)
        return chunk


def _whole(value: Any) -> int | None:
    """The value when it is a JSON integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _disagreement(
    data: bytes | mmap.mmap, size: int, crc: int, count: int, offsets: np.ndarray, file_ids: np.ndarray, names: Any
) -> str:
    """What is wrong with an opened store's parts, or "" when they agree with each other and the manifest."""
    import numpy as np

    if len(data) != size:
        return f"{len(data)} bytes, the manifest says {size}"
    if zlib.crc32(data) != crc:
        return "its checksum differs from the manifest's (the file was changed)"
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) != count + 1:
        return f"{len(offsets) - 1 if offsets.ndim == 1 else '?'} line offsets for {count} chunks"
    if int(offsets[0]) != 0 or int(offsets[-1]) != size or bool(np.any(np.diff(offsets) <= 0)):
        return "line offsets are inconsistent"
    if count and bool(np.any(np.frombuffer(data, dtype=np.uint8)[offsets[1:] - 1] != ord("\n"))):
        return "line offsets do not fall on line ends"
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return "its file list is not a list of paths"
    if file_ids.ndim != 1 or file_ids.dtype.kind not in "iu" or len(file_ids) != count:
        return "its file numbers disagree with its chunks"
    if count and (int(file_ids.min()) < 0 or int(file_ids.max()) >= len(names)):
        return "its file numbers point past its file list"
    return ""


def _well_formed(chunk: Chunk) -> bool:
    return (
        isinstance(chunk.file, str)
        and isinstance(chunk.text, str)
        and isinstance(chunk.id, str)
        and isinstance(chunk.content_hash, str)
        and all(isinstance(title, str) for title in chunk.heading_path)
        and isinstance(chunk.start_line, int)
        and isinstance(chunk.end_line, int)
        and 1 <= chunk.start_line <= chunk.end_line
    )


def read_chunks(generation: Path) -> list[Chunk]:
    """Every chunk of a generation, parsed and checked (search reads them one at a time instead)."""
    from assistant.store.manifest import read_manifest

    manifest = read_manifest(generation)
    return list(ChunkStore.open(generation, manifest.chunk_count, manifest.chunk_store))
