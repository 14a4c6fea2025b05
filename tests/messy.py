"""Test helpers: a deterministic fake embedder, engines over it, and a messy notes folder.

`engine_maker(model)` is the one way a test replaces the model: it makes `Engine(settings,
embedder=fake, encoder=fake)` for the front ends' engine makers (`cli.main(make_engine=…)`,
`Notes`, `run_notes`); nothing patches how the engine chooses a model.

`make_messy_corpus(root)` writes a notes folder with everything a real one collects over a few
years: images renamed to .md, NUL-filled files, legacy encodings, UTF-16, an empty note, a 20 MB
one-line export, 10,000 headings, lists nested 1,000 deep, a symlink loop, a dangling link, a FIFO,
a folder named like a note, hidden .git/.obsidian folders, and hostile text (terminal escapes, bidi
overrides). Next to them sit a few good notes with facts only they contain, so a test can check that
the index built from the mess still answers from the good files.

`EXPECTED` says, for every file the build must report, whether it is skipped or repaired and a word
its reason contains. Files not in it must be indexed silently; hidden folders are never reported.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from assistant.notes.chunk import approximate_token_count

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.engine import Engine


def write_notes(root: Path, notes: dict[str, str]) -> Path:
    """Write each note (name → text, UTF-8) under `root`, folders included; returns `root`."""
    for name, text in notes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Hashed bag of words → 32-d L2-normalised vectors: deterministic, instant, no model.

    Satisfies both the Embedder protocol (build) and the QueryEncoder protocol (`encode`, search).
    """

    kind = "fake"

    def __init__(self, name: str = "fake-hash-32", dimension: int = 32, max_tokens: int = 128) -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(text) for text in texts]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def _tokens(self, text: str) -> np.ndarray:
        """One vector per word (its hashed bag of one): a real model's token vectors, minus context."""
        words = _WORD.findall(text.lower())
        if not words:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(word) for word in words]).astype(np.float32)

    def embed_documents_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.embed_documents(texts), [self._tokens(text) for text in texts]

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode(texts), [self._tokens(text) for text in texts]

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Where each word `_tokens` makes a vector of lies in the text."""
        return [[match.span() for match in _WORD.finditer(text)] for text in texts]

    def token_projection(self) -> np.ndarray:
        """No projection (as for a real model no wider than the projected dimension)."""
        return np.eye(self.dimension, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return approximate_token_count(text)

    def knows_word(self, word: str) -> bool:
        return False


class InterruptingEmbedder(FakeEmbedder):
    """Embeds the first `after` batches, then raises (KeyboardInterrupt by default): Ctrl-C mid-build."""

    def __init__(self, after: int = 0, exc: BaseException | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.after = after
        self.exc = exc if exc is not None else KeyboardInterrupt()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls >= self.after:
            self.calls += 1
            raise self.exc
        return super().embed_documents(texts)


# ---------------------------------------------------------------- file contents

GOOD_NOTES = {
    "good/networking.md": (
        "# Networking\n\n"
        "## NAT gateway\n\n"
        "A NAT gateway lets private subnets reach the internet; it lives in a public subnet and\n"
        "costs money per hour and per gigabyte processed. The quokka mnemonic: NAT is one way.\n\n"
        "## Security groups\n\n"
        "Security groups are stateful firewalls attached to network interfaces.\n"
    ),
    "good/storage.txt": (
        "Storage notes\n\n"
        "Glacier Deep Archive is the cheapest storage class; retrieval takes up to twelve hours.\n"
        "Remember the zebrafish rule: restore before you need it.\n"
    ),
    "good/compute.markdown": (
        "# Compute\n\nLambda functions can use up to 10240 MB of memory and run for at most fifteen minutes.\n"
    ),
}
"""Good notes, each with a nonsense word (quokka, zebrafish) that only it contains."""

HOSTILE_NOTE = (
    "# Terminal \x1b[31mred\x1b[0m title\n\n"
    "The pangolin passage: [bold red]markup[/bold red] [link=https://evil.example]click[/link]\n"
    "\x1b]0;pwned\x07 sets the window title, \x1b]52;c;cm0gLXJmIH4=\x07 writes the clipboard.\n"
    "\x1b[2J\x1b[H clears the screen; \x9b31m is an 8-bit CSI; \x1bP+q\x1b\\ is a DCS.\n"
    "Bidi: \u202eevil\u202c and \u2067isolate\u2069; "
    "zero width: a\u200bb\u200cc\ufeffd\u2060e; bell \x07 backspace \x08.\n"
)
"""A note written to attack the terminal that shows it; 'pangolin' finds it."""

HOSTILE_CHARS = (
    "\x1b",
    "\x07",
    "\x08",
    "\x9b",
    "\u202e",
    "\u202c",
    "\u2067",
    "\u2069",
    "\u200b",
    "\u200c",
    "\ufeff",
    "\u2060",
)
"""Characters that must never reach a terminal raw from `notes ask`."""


def png_bytes() -> bytes:
    """A real 1x1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def many_headings(count: int = 10_000) -> str:
    return "".join(f"## Heading {i}\n\nBody text of section {i}.\n\n" for i in range(count))


def deep_list(depth: int = 1_000) -> str:
    """A list nested `depth` levels deep (each item indented two more spaces than its parent)."""
    return "# Deep list\n\n" + "".join("  " * level + f"- level {level} item\n" for level in range(depth))


def one_line(size: int = 20 * 1024 * 1024) -> bytes:
    """`size` bytes on one line, with no newline: a minified export."""
    unit = b"lorem ipsum dolor sit amet consectetur "
    return (unit * (size // len(unit) + 1))[:size]


# The files that must be reported: path → (skipped?, a word the reason contains).
EXPECTED: dict[str, tuple[bool, str]] = {
    "image.md": (True, "binary"),
    "nuls.txt": (True, "binary"),
    "latin1.txt": (False, "not UTF-8"),
    "cp1252.md": (False, "cp1252"),
    "utf16-le.md": (False, "UTF-16"),
    "utf16-be.md": (False, "UTF-16"),
    "invalid-utf8.md": (False, "invalid UTF-8"),
    "empty.md": (True, "empty"),
    "hostile.md": (False, "mojibake"),
    "pipe.md": (True, "not a regular file"),
    "dangling.md": (True, "broken symlink"),
    "loop/again": (True, "symlink loop"),
}
HUGE_EXPECTED = {"huge-one-line.txt": (False, "characters long")}

# Files that must be indexed (and searchable) despite their shape.
INDEXED = [
    *GOOD_NOTES,
    "latin1.txt",
    "cp1252.md",
    "utf16-le.md",
    "utf16-be.md",
    "invalid-utf8.md",
    "many-headings.md",
    "deep-list.md",
    "hostile.md",
    "folder.md/inside.md",
]

# Facts in the repaired files, to check they were decoded right: path → text the chunks contain.
DECODED = {
    "latin1.txt": "café crème brûlée",
    "cp1252.md": "\u201csmart quotes\u201d cost 5 \u20ac",
    "utf16-le.md": "UTF-16 little endian note about the okapi",
    "utf16-be.md": "UTF-16 big endian note about the narwhal",
    "invalid-utf8.md": "naïve résumé façade — Ünïcödé ñandú",
}


def make_messy_corpus(root: Path, *, huge: bool = True, fifo: bool = True, headings: int = 10_000) -> Path:
    """Write the messy notes folder into root (created) and return it.

    huge: include the 20 MB one-line file.
    fifo: include a named pipe called pipe.md (reading it would block forever).
    headings: how many headings many-headings.md has (10,000 chunks take minutes to embed with
    the real model on a laptop CPU; the real-model test uses fewer).
    """
    root.mkdir(parents=True, exist_ok=True)
    write_notes(root, GOOD_NOTES)
    (root / "image.md").write_bytes(png_bytes())
    (root / "nuls.txt").write_bytes(b"\x00" * 4096)
    (root / "latin1.txt").write_bytes("Desserts\n\ncafé crème brûlée, the wombat's favourite.\n".encode("latin-1"))
    (root / "cp1252.md").write_bytes(
        "# Prices\n\n\u201csmart quotes\u201d cost 5 \u20ac \u2014 said the capybara.\n".encode("cp1252")
    )
    little = "# LE\n\nUTF-16 little endian note about the okapi.\n"
    big = "# BE\n\nUTF-16 big endian note about the narwhal.\n"
    (root / "utf16-le.md").write_bytes(b"\xff\xfe" + little.encode("utf-16-le"))
    (root / "utf16-be.md").write_bytes(b"\xfe\xff" + big.encode("utf-16-be"))
    (root / "invalid-utf8.md").write_bytes(
        "# Words\n\nnaïve résumé façade — Ünïcödé ñandú, the axolotl\n".encode() + b"broken byte here: \xff end\n"
    )
    (root / "empty.md").write_bytes(b"")
    (root / "many-headings.md").write_text(many_headings(headings), encoding="utf-8")
    (root / "deep-list.md").write_text(deep_list(), encoding="utf-8")
    (root / "hostile.md").write_text(HOSTILE_NOTE, encoding="utf-8")
    if huge:
        (root / "huge-one-line.txt").write_bytes(one_line())
    # A symlink loop: loop/again points back at loop.
    (root / "loop").mkdir()
    (root / "loop" / "inside-loop.md").write_text("# Loop\n\nThe loop folder holds the ibex note.\n", encoding="utf-8")
    os.symlink("..", root / "loop" / "again")
    os.symlink("does-not-exist.md", root / "dangling.md")
    # A folder whose name looks like a note: it is walked, not read.
    (root / "folder.md").mkdir()
    (root / "folder.md" / "inside.md").write_text(
        "# Inside\n\nA note inside folder.md about the tapir.\n", encoding="utf-8"
    )
    if fifo:
        os.mkfifo(root / "pipe.md")
    # Hidden folders: never read, never reported.
    for hidden in (".git", ".obsidian"):
        (root / hidden).mkdir()
        (root / hidden / "config.md").write_text("# Hidden\n\nsecret hidden yeti text\n", encoding="utf-8")
    (root / ".hidden-note.md").write_text("hidden yeti note\n", encoding="utf-8")
    return root


def expected_problems(*, huge: bool = True, fifo: bool = True) -> dict[str, tuple[bool, str]]:
    expected = dict(EXPECTED)
    if huge:
        expected.update(HUGE_EXPECTED)
    if not fifo:
        expected.pop("pipe.md")
    return expected


# ---------------------------------------------------------------- an engine over a stand-in model

EngineMaker = Callable[["Settings"], "Engine"]
"""How a front end makes its engine from settings (`cli.main(make_engine=…)`, `Invocation`)."""


def engine_maker(model: FakeEmbedder | None = None, *, questions: bool = True) -> EngineMaker:
    """Engines over a stand-in model: the one way tests replace the model, through the Engine's
    constructor. `model` embeds the notes of every build (default: a new 32-d FakeEmbedder) and, with
    `questions`, the questions too; without, questions take the index's own model export, as they do
    for a user (the slow path when it has none). The settings' model must name the stand-in
    (`--model`, NOTES_MODEL or Settings.model) for the index it builds to count as fresh."""
    stand_in = model if model is not None else FakeEmbedder()

    def make(settings: Settings) -> Engine:
        from assistant.engine import Engine

        return Engine(settings, embedder=stand_in, encoder=stand_in if questions else None)

    return make


def stand_in_engine(settings: Settings, model: FakeEmbedder | None = None, *, questions: bool = True) -> Engine:
    """An engine over a stand-in model (`engine_maker`), for tests that call the Engine directly."""
    return engine_maker(model, questions=questions)(settings)


@dataclass(frozen=True)
class Notes:
    """`notes ARGS` run in-process through click's test runner, each command's engine made by
    `make_engine` (None: the real one, as a user's `notes` makes it)."""

    make_engine: EngineMaker | None = None

    def __call__(self, args: Sequence[str], stdin: str | None = None) -> tuple[int, str, str]:
        """Exit code, stdout and stderr; an unexpected exception propagates (no error handling of `main`)."""
        from click.testing import CliRunner

        from assistant.cli import cli
        from assistant.cli.common import Invocation

        invocation = Invocation() if self.make_engine is None else Invocation(make_engine=self.make_engine)
        result = CliRunner().invoke(
            cli, list(args), input=stdin, catch_exceptions=False, standalone_mode=False, obj=invocation
        )
        return result.exit_code, result.stdout, result.stderr

    def main(self, args: Sequence[str]) -> None:
        """`cli.main`, with its error handling (SystemExit with the exit code)."""
        from assistant import cli

        cli.main(list(args), make_engine=self.make_engine)


def run_notes(
    capsys: pytest.CaptureFixture[str], *argv: str, make_engine: EngineMaker | None = None
) -> tuple[int, str, str]:
    """Run `notes ARGV` in-process through cli.main (its error handling included), each command's
    engine made by `make_engine` (None: the real one)."""
    code = 0
    try:
        Notes(make_engine).main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def reseal(generation: Path) -> None:
    """Make the manifest's file records match the files as they now are: an index whose parts are
    malformed but were written that way (planted, or by a faulty build), so that the loaders' own
    checks meet them rather than the integrity check of generation.verify."""
    import json

    from assistant.files import record_files

    path = generation / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["stored"] = {name: vars(record) for name, record in record_files(generation).items() if name != path.name}
    path.write_text(json.dumps(data), encoding="utf-8")
