"""Settings resolution: flags > environment > config file > defaults, strict config validation, and the
default index of a notes folder (./index for ./corpus, else the folder's own index in the cache)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant.config import (
    Settings,
    cache_root,
    config_file,
    default_index_dir,
    folder_key,
    resolve_settings,
    state_root,
)
from assistant.errors import UsageProblem
from assistant.model import encoder_cache


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NOTES_* settings from the autouse fixture; the config folder and cache under tmp."""
    monkeypatch.delenv("NOTES_INDEX", raising=False)
    monkeypatch.setenv("NOTES_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "xdg-config" / "notes-assistant" / "config.toml"


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_defaults_with_nothing_set(no_env: Path) -> None:
    resolved = resolve_settings({})
    assert resolved.settings == Settings()
    assert resolved.settings.index_dir == Path("index")
    assert resolved.sources["corpus_dir"] == "default"
    assert resolved.sources["index_dir"] == "default: ./index belongs to ./corpus"
    assert resolved.config_file == no_env and not resolved.config_found


def test_precedence_is_flag_then_env_then_config_then_default(
    no_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_config(no_env, 'corpus = "from-config"\nmodel = "config-model"\nk = 7\nmode = "bm25"\n')
    resolved = resolve_settings({})
    assert (resolved.settings.corpus_dir, resolved.settings.k, resolved.settings.mode) == (
        Path("from-config"),
        7,
        "bm25",
    )
    assert resolved.sources["k"].startswith("config ") and resolved.config_found
    monkeypatch.setenv("NOTES_CORPUS", "from-env")
    resolved = resolve_settings({})
    assert resolved.settings.corpus_dir == Path("from-env") and resolved.sources["corpus_dir"] == "env NOTES_CORPUS"
    assert resolved.settings.model == "config-model"
    resolved = resolve_settings({"corpus_dir": Path("from-flag"), "k": 3, "mode": None})
    assert resolved.settings.corpus_dir == Path("from-flag") and resolved.sources["corpus_dir"] == "flag --corpus"
    assert resolved.settings.k == 3 and resolved.sources["k"] == "flag -k"
    assert resolved.settings.mode == "bm25", "a flag left out (None) does not override"


def test_editor_follows_git_order(no_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "nano")
    assert resolve_settings({}).settings.editor == "nano"
    monkeypatch.setenv("VISUAL", "nvim")
    resolved = resolve_settings({})
    assert resolved.settings.editor == "nvim" and resolved.sources["editor"] == "env VISUAL"
    write_config(no_env, 'editor = "hx"\n')
    assert resolve_settings({}).settings.editor == "hx"
    assert resolve_settings({"editor": "code -w"}).settings.editor == "code -w"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k = true\n", "k must be a whole number from 1 to 100, not True"),
        ("k = 0\n", "k must be a whole number"),
        ('k = "five"\n', "k must be a whole number"),
        ('mode = "fuzzy"\n', "mode must be one of hybrid, dense, bm25"),
        ("corpus = 3\n", "corpus must be a non-empty string"),
        ('korpus = "notes"\n', "unknown setting 'korpus'"),
        ("corpus = \n", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_file(no_env: Path, text: str, message: str) -> None:
    write_config(no_env, text)
    with pytest.raises(UsageProblem) as raised:
        resolve_settings({})
    assert message in str(raised.value)
    assert "notes-assistant/config.toml" in str(raised.value)


def test_config_paths_expand_home(no_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_config(no_env, 'corpus = "~/notes"\nindex = "~/notes-index"\n')
    settings = resolve_settings({}).settings
    assert settings.corpus_dir == tmp_path / "home" / "notes"
    assert settings.index_dir == tmp_path / "home" / "notes-index"


def test_another_notes_folder_gets_its_own_index_in_the_cache(no_env: Path, tmp_path: Path) -> None:
    notes = tmp_path / "my notes"
    resolved = resolve_settings({"corpus_dir": notes})
    digest = hashlib.sha256(str(notes.resolve()).encode()).hexdigest()[:12]
    assert resolved.settings.index_dir == tmp_path / "cache" / "indexes" / f"my_notes-{digest}"
    assert resolved.sources["index_dir"] == "default: this notes folder's own index in the cache"
    other = resolve_settings({"corpus_dir": tmp_path / "other"}).settings.index_dir
    assert other != resolved.settings.index_dir
    # The same folder named another way (relative, trailing slash) gets the same index.
    assert resolve_settings({"corpus_dir": Path("my notes/")}).settings.index_dir == resolved.settings.index_dir


def test_corpus_in_the_current_folder_keeps_dot_index(no_env: Path, tmp_path: Path) -> None:
    for given in (Path("corpus"), Path("./corpus/"), tmp_path / "corpus"):
        assert resolve_settings({"corpus_dir": given}).settings.index_dir == Path("index")
    assert default_index_dir(tmp_path / "corpus", cwd=tmp_path / "elsewhere") != Path("index")


def test_an_index_chosen_anywhere_is_used_as_given(no_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(no_env, 'index = "/srv/config-index"\n')
    resolved = resolve_settings({"corpus_dir": Path("/elsewhere/notes")})
    assert resolved.settings.index_dir == Path("/srv/config-index") and resolved.sources["index_dir"].startswith(
        "config"
    )
    monkeypatch.setenv("NOTES_INDEX", "/srv/env-index")
    assert resolve_settings({}).settings.index_dir == Path("/srv/env-index")


def test_per_user_folders_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOTES_CACHE", raising=False)
    env = {"XDG_CACHE_HOME": str(tmp_path / "c"), "XDG_CONFIG_HOME": str(tmp_path / "k"), "XDG_STATE_HOME": "/s"}
    assert cache_root(env) == tmp_path / "c" / "notes-assistant"
    assert config_file(env) == tmp_path / "k" / "notes-assistant" / "config.toml"
    assert state_root(env) == Path("/s/notes-assistant")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root({}) == tmp_path / "home" / ".cache" / "notes-assistant"
    assert config_file({}) == tmp_path / "home" / ".config" / "notes-assistant" / "config.toml"
    assert state_root({}) == tmp_path / "home" / ".local" / "state" / "notes-assistant"
    assert cache_root({"NOTES_CACHE": "/mine"}) == Path("/mine")
    monkeypatch.setenv("NOTES_CACHE", str(tmp_path / "mine"))
    assert encoder_cache.cache_root() == tmp_path / "mine", "the model cache uses the same root"


def test_folder_key_is_a_safe_file_name(tmp_path: Path) -> None:
    key = folder_key(tmp_path / "a b\x1b;c")
    assert key.startswith("a_b_c-") and len(key.rsplit("-", 1)[1]) == 12
    assert folder_key(tmp_path / "x") == folder_key(tmp_path / "y" / ".." / "x")
