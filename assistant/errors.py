"""The error hierarchy. Pipeline code raises these; only the CLI and the TUI turn them into messages."""

from __future__ import annotations


class AssistantError(Exception):
    """A problem the user can act on: `message` says what, `hint` the one command or change that fixes it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageProblem(AssistantError):
    """Bad input from the user: an empty question, an unknown mode, a bad glob."""


class CorpusError(AssistantError):
    """The notes folder is missing or unusable as a whole."""


class ModelUnusable(AssistantError):
    """The model named by --model (or NOTES_MODEL, or the config) cannot be loaded from this machine."""


class IndexMissing(AssistantError):
    """No index has been built for this corpus yet."""


class IndexCorrupt(AssistantError):
    """The index on disk cannot be read or disagrees with itself."""


class IndexStale(AssistantError):
    """The index was built by another model, chunker or format version."""


class IndexTooNew(IndexStale):
    """The index was written by a newer notes: it is refused, never silently rebuilt over."""


class IndexLocked(AssistantError):
    """Another `notes index` holds the build lock."""


class EvalSetError(AssistantError):
    """The eval question file is malformed or disagrees with the corpus."""


class IndexMismatch(AssistantError):
    """The index belongs to another notes folder: refused, never silently rebuilt over."""


class IndexDamaged(IndexCorrupt):
    """Files of the index no longer hold what its manifest recorded (the engine repairs them)."""

    def __init__(self, message: str, hint: str | None = None, *, files: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.files = files
