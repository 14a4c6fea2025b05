"""One ONNX export per model per machine, kept outside any index.

Why: exporting a model means importing torch and sentence-transformers (~8 s on a 2-core machine),
a third of a full build of the shipped notes. The export depends only on the model's files and on
this package's export format, never on the notes, so a rebuild, a second notes folder or a fresh
index folder can all reuse it: after the first build on a machine no build imports torch.

Where: `$NOTES_CACHE`, else `$XDG_CACHE_HOME/notes-assistant`, else `~/.cache/notes-assistant`;
entries live in `encoders/<key>/`, where the key hashes the model folder's file names, sizes and
modification times with the export's format version and revision, so an updated model gets a new export. An
entry is the same data-only folder an index holds (ONNX graphs, tokenizer JSON, metadata JSON),
checked with `onnx_encoder_available` before use. Entries are installed with one `os.replace` of
a complete folder, so a crash or a concurrent build never leaves a half-written one; the entry of
an older version of the same model folder is removed when a new one is installed. A cache that
cannot be written is not an error: the build just exports into its scratch folder as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from assistant import config
from assistant.files import (
    VERIFIED,
    StoredFile,
    copy_isolated,
    damaged_files,
    digest_text,
    record_files,
    write_json_durably,
)
from assistant.model.onnx_encoder import EXPORT_REVISION, FORMAT_VERSION, onnx_encoder_available, onnx_encoder_current

ENCODER_DIRECTORY = "encoder"
"""Where an index generation keeps its own copy of the export (never a link into the cache)."""
SOURCE_FILE = "source.json"
"""Which model folder an entry was exported from, so a newer export of it replaces the old one."""
RECORDS_FILE = "files.json"
"""Each file of the entry as installed (size, sha256, mtime): checked before the entry is used."""


def cache_root() -> Path:
    """The user's cache folder for this tool (`config.cache_root`, shared with the per-folder indexes)."""
    return config.cache_root()


def model_key(model_path: str) -> str | None:
    """A key that changes whenever the model's files do; None for a model that is not a local folder."""
    folder = Path(model_path)
    if not folder.is_dir():
        return None
    files = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            stat = path.stat()
            files.append([str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns])
    description = {
        "format_version": FORMAT_VERSION,
        "export_revision": EXPORT_REVISION,
        "model": str(folder.resolve()),
        "files": files,
    }
    return digest_text(json.dumps(description, sort_keys=True))[:24]


def cached_encoder(model_path: str) -> Path | None:
    """The cached export of this model, if a complete and undamaged one is there. A damaged entry
    (a file truncated or changed since it was installed) is removed, so the build exports afresh
    rather than spreading the damage into an index."""
    key = _safe_key(model_path)
    if key is None:
        return None
    entry = cache_root() / "encoders" / key
    if not onnx_encoder_current(entry):
        return None
    records = entry_records(entry)
    if records is None or damaged_files(entry, records):
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return entry


def entry_records(entry: Path) -> dict[str, StoredFile] | None:
    """Each file of a cache entry as it was installed (size, sha256, mtime); None when unrecorded."""
    try:
        data = json.loads((entry / RECORDS_FILE).read_text(encoding="utf-8"))
        return {name: StoredFile(int(r["size"]), str(r["sha256"]), int(r["mtime_ns"])) for name, r in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store_encoder(model_path: str, export_dir: Path) -> Path | None:
    """Install a fresh export in the cache; returns the entry, or None if the cache is not writable."""
    key = _safe_key(model_path)
    if key is None or not onnx_encoder_available(export_dir):
        return None
    encoders = cache_root() / "encoders"
    entry = encoders / key
    staging = encoders / f".{key}.partial-{os.getpid()}"
    try:
        encoders.mkdir(parents=True, exist_ok=True)
        if entry.exists() and not onnx_encoder_available(entry):
            shutil.rmtree(entry)  # damaged (a file deleted by hand): replace it
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(export_dir, staging, ignore=shutil.ignore_patterns(VERIFIED, RECORDS_FILE))
        (staging / SOURCE_FILE).write_text(json.dumps({"model": str(Path(model_path).resolve())}), encoding="utf-8")
        records = {name: vars(record) for name, record in record_files(staging).items()}
        write_json_durably(staging / RECORDS_FILE, records)
        try:
            os.replace(staging, entry)
        except OSError:  # another build installed the same export first: theirs is as good
            shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return None
    _remove_older_exports(encoders, keep=key, model=str(Path(model_path).resolve()))
    return entry if onnx_encoder_available(entry) else None


def _safe_key(model_path: str) -> str | None:
    try:
        return model_key(model_path)
    except OSError:
        return None


def _remove_older_exports(encoders: Path, keep: str, model: str) -> None:
    for entry in encoders.iterdir():
        if entry.name == keep or entry.name.startswith("."):
            continue
        with contextlib.suppress(OSError, ValueError):
            source = json.loads((entry / SOURCE_FILE).read_text(encoding="utf-8"))
            if source.get("model") == model:
                shutil.rmtree(entry, ignore_errors=True)


def place_encoder(target: Path, sources: list[Path]) -> None:
    """Copy the first usable export of `sources` into an index generation.

    Exporting is the engine's job (`engine._embedder_for_build`); no usable source means a model that
    could not be exported, and trying again would only fail again: queries then fall back to
    sentence-transformers, and say so. Copies, never links, so damage to one index or to the cache
    never reaches another."""
    for source in sources:
        if onnx_encoder_available(source):
            shutil.copytree(
                source,
                target,
                copy_function=lambda src, dst: copy_isolated(Path(src), Path(dst)),
                ignore=shutil.ignore_patterns(VERIFIED, SOURCE_FILE, RECORDS_FILE),  # the cache's bookkeeping
            )
            return


def known_hashes(export_dir: Path | None) -> dict[str, str]:
    """The hashes of the export a build copies, from the cache entry's records (checked when the
    entry was picked): the 90 MB export is not hashed again at every build."""
    if export_dir is None:
        return {}
    records = entry_records(export_dir) or {}
    return {f"{ENCODER_DIRECTORY}/{name}": record.sha256 for name, record in records.items()}


def remove_orphaned_exports(index_dir: Path) -> None:
    """Scratch exports left by a build that was killed (kill -9 skips cleanup): ~100 MB each.
    Only folders whose process is gone are removed; a concurrent build's scratch is kept."""
    for path in index_dir.glob(".export-*-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
