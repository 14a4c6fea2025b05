"""The status line: notes folder, files and chunks, model, index state, and the search settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from assistant.present.render import inert

if TYPE_CHECKING:
    from assistant.store.manifest import Manifest


def short_path(path: str, limit: int = 28) -> str:
    """A folder as short as it can be said: relative to the working folder or home, else its tail."""
    if not path:
        return "–"
    folder = Path(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            folder = Path(prefix + str(Path(path).resolve().relative_to(base.resolve())))
            break
        except (ValueError, OSError):
            continue
    text = str(folder)
    for keep in (2, 1):
        if len(text) <= limit or len(folder.parts) <= keep:
            break
        text = "…/" + "/".join(folder.parts[-keep:])
    return text


class StatusLine(Static):
    """One line of facts about what is being searched. Set its attributes; it redraws itself."""

    COMPONENT_CLASSES = {"status-line--label", "status-line--value", "status-line--busy", "status-line--problem"}

    corpus: reactive[str] = reactive("")
    files: reactive[int | None] = reactive(None)
    skipped: reactive[int] = reactive(0)
    """Notes the index skipped (unreadable, binary, empty): counted as `notes index` counts them."""
    chunks: reactive[int | None] = reactive(None)
    model: reactive[str] = reactive("")
    state: reactive[str] = reactive("")
    tone: reactive[str] = reactive("busy")
    """"ok", "busy" or "problem": how the index state is coloured."""
    mode: reactive[str] = reactive("hybrid")
    k: reactive[int] = reactive(5)
    file_filter: reactive[str | None] = reactive(None)

    def count(self, manifest: Manifest, passages: int, model: str) -> None:
        """Show what an opened index holds: its notes as `notes index` counts them, passages, model."""
        self.files, self.skipped = len(manifest.files), len(manifest.skipped)
        self.chunks, self.model = passages, model

    def render(self) -> Content:
        label = ".status-line--label"
        value = ".status-line--value"
        tone = {"busy": ".status-line--busy", "problem": ".status-line--problem"}.get(self.tone, value)
        files = "–" if self.files is None else str(self.files)
        chunks = "–" if self.chunks is None else str(self.chunks)
        model = self.model.rsplit("/", 1)[-1] if self.model else "–"
        parts: list[tuple[str, str]] = [
            ("notes ", label),
            (inert(short_path(self.corpus)), value),
            ("  ", label),
            (files, value),
            (" files ", label),
            *([(f"({self.skipped} skipped) ", label)] if self.skipped else []),
            (chunks, value),
            (" chunks  ", label),
            ("model ", label),
            (inert(model), value),
            ("  index ", label),
            (inert(self.state), tone),
            ("  ", label),
            (f"{self.mode} k={self.k}", value),
        ]
        if self.file_filter:
            parts += [("  only ", label), (inert(self.file_filter), value)]
        return Content.assemble(*parts)
