"""Every eval run kept: one JSON file per run, per notes folder and question set, read back for comparing.

A run record is what `report.json` has always held (settings, machine, the index's manifest, the
notes' hashes, each mode's figures and per-question ranks), with what a later comparison needs:
the run's id and time, the index fingerprint (the notes' hashes, the model and the chunker: what the
answers were searched in), the set's fingerprint and counts, and each question's fingerprint
(questions.py). The committed `evals/baseline.json` is such a record; one written before
fingerprints existed is still read (`read_run` matches its questions to today's set by id, text and
spans).

Runs live in `$XDG_DATA_HOME/notes-assistant/runs/<notes folder>/<set>/<id>.json` (plain JSON, never
pickle), with the folder's baseline beside them as `baseline.json` (except for the shipped set,
whose baseline is committed in evals/).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.config import data_root, folder_key
from assistant.errors import EvalSetError
from assistant.evaluate.questions import QuestionSet
from assistant.machine import describe
from assistant.store.manifest import Manifest

RUN_FORMAT = 1
BASELINE_FILE = "baseline.json"
_RUN_NAME = re.compile(r"^\d{8}-\d{6}(-\d+)?$")


def runs_dir(corpus_dir: Path, set_path: Path | None) -> Path:
    """Where the runs of one set over one notes folder are kept (None: the folder's own marked set)."""
    return data_root() / "runs" / folder_key(corpus_dir) / ("marked" if set_path is None else folder_key(set_path))


def index_fingerprint(manifest: Manifest) -> str:
    """What answers were searched in: the notes' contents, the model and the chunker."""
    described = {
        "files": {name: note.hash for name, note in sorted(manifest.files.items())},
        "model": vars(manifest.model),
        "chunker": manifest.chunker_version,
        "format": manifest.format_version,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def run_record(
    results: Sequence[dict[str, Any]],
    settings: dict[str, Any],
    manifest: Manifest,
    questions: QuestionSet,
    *,
    run_id: str = "",
    created: str = "",
) -> dict[str, Any]:
    """The JSON record of one run (also report.json and a baseline): `results` are
    `run.result_record`s, one per mode."""
    described = manifest.to_json()
    return {
        "run": {"format": RUN_FORMAT, "id": run_id, "created": created or datetime.now().isoformat(timespec="seconds")},
        "settings": settings,
        "machine": describe(),
        "manifest": {key: value for key, value in described.items() if key not in ("files", "stored")},
        "files": {name: note.hash for name, note in manifest.files.items()},
        "index_fingerprint": index_fingerprint(manifest),
        "set": {
            "path": str(questions.path),
            "fingerprint": questions.fingerprint,
            "questions": questions.count,
            "scored": len(questions.scored),
            "unanswered": [{"id": q.id, "question": q.question} for q in questions.unanswered],
            "stale": [
                {"id": s.question.id, "question": s.question.question, "reason": s.reason} for s in questions.stale
            ],
            "moved": [
                {"id": q.id, "from": [_cite(s) for s in q.anchored_from], "to": [_cite(s) for s in q.gold]}
                for q in questions.moved
            ],
        },
        "runs": {result["mode"]: result for result in results},
    }


def _cite(span: Any) -> str:
    return f"{span.file}:{span.start_line}-{span.end_line}"


# ---------------------------------------------------------------- reading a record back


@dataclass(frozen=True)
class Outcome:
    """One question in one mode of a run."""

    id: str
    question: str
    kind: str
    rank: int | None
    """1-based rank of the first passage that hits the gold, None: not in the top 10."""
    answer_hits: bool | None
    """Whether the rank-1 passage's answer lines hit the gold (None: rank 1 missed it)."""
    gold: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModeRun:
    mode: str
    metrics: dict[str, float]
    answers: dict[str, Any]
    outcomes: dict[str, Outcome]
    """By question fingerprint, in the set's order."""


@dataclass(frozen=True)
class RunRecord:
    """A run as a comparison reads it."""

    name: str
    """Its id, or the file it was read from."""
    label: str
    """How the output names it: "run 20250601-120003 (last)", "the baseline evals/baseline.json"."""
    notes: str
    """The notes folder it ran over, as recorded."""
    note_files: frozenset[str]
    model: str
    primary_mode: str
    modes: dict[str, ModeRun]
    index_fingerprint: str = ""
    set_fingerprint: str = ""
    set_path: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    """questions, unanswered, stale."""
    created: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False)


def read_run(data: dict[str, Any], name: str, label: str, current: Sequence[dict[str, Any]] = ()) -> RunRecord:
    """A run record (or a report or baseline from before fingerprints: its questions are matched to
    this run's `current` per-question records by id, text and spans) as comparisons read it.
    EvalSetError when it is not one."""
    try:
        settings = data.get("settings", {})
        runs = data["runs"]
        if not isinstance(runs, dict) or not runs:
            raise KeyError("runs")
        known = {str(q["id"]): q for q in current if q.get("fingerprint")}
        modes = {
            mode: ModeRun(
                mode,
                {key: float(value) for key, value in entry["metrics"].items()},
                dict(entry.get("answers") or {}),
                _outcomes(entry.get("per_question", []), known),
            )
            for mode, entry in runs.items()
        }
        manifest = data.get("manifest", {})
        set_info = data.get("set", {})
        listed = settings.get("modes") or list(modes)
        primary = str(settings.get("mode") or listed[0])
        return RunRecord(
            name=name,
            label=label,
            notes=str(manifest.get("corpus") or settings.get("corpus", "")),
            note_files=frozenset(data.get("files", {})),
            model=str(settings.get("model") or manifest.get("model", {}).get("name", "")),
            primary_mode=primary if primary in modes else next(iter(modes)),
            modes=modes,
            index_fingerprint=str(data.get("index_fingerprint", "")),
            set_fingerprint=str(set_info.get("fingerprint", "")),
            set_path=str(set_info.get("path") or settings.get("set", "")),
            counts={
                "questions": int(set_info.get("questions", len(next(iter(modes.values())).outcomes))),
                "unanswered": len(set_info.get("unanswered", [])),
                "stale": len(set_info.get("stale", [])),
            },
            created=str(data.get("run", {}).get("created") or data.get("manifest", {}).get("built_at", "")),
            data=data,
        )
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        raise EvalSetError(f"{name} is not an eval run ({type(exc).__name__}: {exc})") from exc


def _outcomes(per_question: list[dict[str, Any]], known: dict[str, dict[str, Any]]) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    for entry in per_question:
        qid, text, gold = str(entry["id"]), str(entry["question"]), tuple(entry.get("gold", ()))
        fingerprint = entry.get("fingerprint") or _legacy_fingerprint(qid, text, gold, known)
        rank = entry.get("rank")
        found[str(fingerprint)] = Outcome(
            qid,
            text,
            str(entry.get("kind", "")),
            None if rank is None else int(rank),
            entry.get("answer_hits") if "answer_hits" in entry else None,
            gold,
            tuple(entry.get("returned", ())),
        )
    return found


def _legacy_fingerprint(qid: str, text: str, gold: tuple[str, ...], known: dict[str, dict[str, Any]]) -> str:
    same = known.get(qid)
    if same is not None and same["question"] == text and tuple(same.get("gold", ())) == gold:
        return str(same["fingerprint"])
    return "legacy-" + hashlib.sha256(json.dumps([qid, text, list(gold)]).encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- the store


def new_run_id(directory: Path, now: datetime | None = None) -> str:
    """`YYYYMMDD-HHMMSS`, with `-2`, `-3`… when a run of the same second is already kept."""
    stem = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    name, number = stem, 1
    while (directory / f"{name}.json").exists():
        number += 1
        name = f"{stem}-{number}"
    return name


def _order(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in path.stem.split("-"))


def stored_runs(directory: Path) -> list[Path]:
    """The kept runs' files, oldest first."""
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.glob("*.json") if _RUN_NAME.match(p.stem)), key=_order)


def keep_run(directory: Path, record: dict[str, Any]) -> Path:
    """Write the record as `<id>.json` in one `os.replace` (a crash never leaves half a run)."""
    return write_json(directory / f"{record['run']['id']}.json", record)


def write_json(path: Path, record: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalSetError(f"cannot read eval run {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(data, dict):
        raise EvalSetError(f"{path} is not an eval run")
    return data


def find_run(directory: Path, name: str) -> Path:
    """A kept run by `last`, its id, a unique start of its id, or a path to a run file."""
    runs = stored_runs(directory)
    if name == "last":
        if not runs:
            raise EvalSetError("no earlier run of this set on these notes", "run `notes eval` once first")
        return runs[-1]
    exact = [p for p in runs if p.stem == name]
    starting = exact or [p for p in runs if p.stem.startswith(name)]
    if len(starting) == 1:
        return starting[0]
    if len(starting) > 1:
        raise EvalSetError(
            f"run {name!r} is ambiguous: {', '.join(p.stem for p in starting[:5])}", "give more of its id"
        )
    path = Path(name).expanduser()
    if path.is_file():
        return path
    known = ", ".join(p.stem for p in runs[-3:]) or "none yet"
    raise EvalSetError(
        f"no run {name!r} among this set's runs (latest: {known})",
        "name one that `notes eval --runs` lists, `last`, `baseline`, or a run's file",
    )
