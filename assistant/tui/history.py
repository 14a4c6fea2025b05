"""Question history that outlives the app: one file per notes folder, JSON lines, capped.

Where: `<state root>/history/<folder key>.jsonl` (`config.state_root()`: `$XDG_STATE_HOME/notes-assistant`,
default `~/.local/state/notes-assistant`), keyed by the notes folder's resolved path, so each folder
recalls its own questions. Each line is `{"question": "…"}`; the newest MAX_ENTRIES are kept. Adding a
question re-reads the file, so two apps open on one folder both keep theirs, and replaces it in one
`os.replace`, so a crash never leaves half a file. History is a convenience: a file that cannot be read
starts empty, and one that cannot be written is reported by the caller, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import MAX_K, MODES, Mode, folder_key, state_root

MAX_ENTRIES = 500


def history_path(corpus_dir: Path) -> Path:
    """The history file of one notes folder."""
    return state_root() / "history" / f"{folder_key(corpus_dir)}.jsonl"


class HistoryFile:
    """The saved questions of one notes folder, oldest first."""

    def __init__(self, path: Path, limit: int = MAX_ENTRIES) -> None:
        self.path = path
        self.limit = limit
        self._failed = False

    def load(self) -> list[str]:
        """The saved questions; lines that are not a question are skipped, a missing file is empty."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            question = record.get("question") if isinstance(record, dict) else None
            if isinstance(question, str) and question.strip():
                entries.append(question)
        return entries[-self.limit :]

    def add(self, question: str) -> None:
        """Append a question (not twice in a row) and keep the newest `limit`. Raises OSError."""
        entries = self.load()
        if not entries or entries[-1] != question:
            entries.append(question)
        self._write(entries[-self.limit :])

    def keep(self, question: str) -> str | None:
        """`add`, for the app: the first failure's warning to show (the app works on without
        history), then None for every later one."""
        try:
            self.add(question)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                return f"Questions are not being saved for next time: {self.path}: {exc.strerror or exc}"
        return None

    def _write(self, entries: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=".history-", suffix=".partial", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                for question in entries:
                    out.write(json.dumps({"question": question}, ensure_ascii=False) + "\n")
            os.replace(scratch, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise


@dataclass
class History:
    """Earlier questions for Up/Down recall, like a shell: Up goes back, Down comes forward to the draft."""

    entries: list[str] = field(default_factory=list)
    position: int | None = None
    draft: str = ""
    limit: int = 500
    """The most questions kept; the oldest go first."""

    def add(self, text: str) -> None:
        text = text.strip()
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.limit]
        self.position = None
        self.draft = ""

    def back(self, current: str) -> str | None:
        """The question before the one shown (None when there is none)."""
        if not self.entries:
            return None
        if self.position is None:
            self.draft = current
            self.position = len(self.entries) - 1
        elif self.position > 0:
            self.position -= 1
        else:
            return None
        return self.entries[self.position]

    def forward(self) -> str | None:
        """The question after the one shown, or the draft past the newest (None when not recalling)."""
        if self.position is None:
            return None
        if self.position < len(self.entries) - 1:
            self.position += 1
            return self.entries[self.position]
        self.position = None
        return self.draft


def choices_path(corpus_dir: Path) -> Path:
    """Where the app remembers a notes folder's search mode and result count."""
    return state_root() / "choices" / f"{folder_key(corpus_dir)}.json"


@dataclass
class Choices:
    """The search mode and result count last chosen in the app for one notes folder, kept across runs
    (a convenience, like the history: unreadable means none, unwritable is reported by the caller)."""

    path: Path

    def load(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def restore(self, mode: Mode, k: int) -> tuple[Mode, int]:
        """The remembered mode and count, each where it is a valid one, else the given one."""
        remembered = self.load()
        chosen_mode, chosen_k = remembered.get("mode"), remembered.get("k")
        if isinstance(chosen_k, int) and not isinstance(chosen_k, bool) and 1 <= chosen_k <= MAX_K:
            k = chosen_k
        return next((known for known in MODES if known == chosen_mode), mode), k

    def save(self, mode: str, k: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".choices-", dir=self.path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({"mode": mode, "k": k}, file)
        os.replace(name, self.path)
