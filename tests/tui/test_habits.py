"""The chat app behaves as terminal users expect (issue 20): `?` opens help from an empty box, the note
picker filters as you type, questions are remembered per notes folder across runs, `c` copies for
real or says it could not, and a missing notes folder gets a screen that says how to fix it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.present.render import openable_path
from assistant.tui.app import NotesApp
from assistant.tui.history import HistoryFile, history_path
from assistant.tui.screens.file_picker import FilePicker, filter_notes
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.no_notes import NoNotesScreen
from tests.messy import write_notes
from tests.tui.conftest import FAKE_MODEL, NOTES, chat_app, engine_for, indexed
from tests.tui.helpers import (
    ask,
    index_settled,
    latest_card,
    meta_text,
    notices,
    notifications,
    screen_text,
    wait_until,
)

SIZE = (100, 32)


# ---------------------------------------------------------------- ? opens help


async def test_question_mark_in_an_empty_box_opens_help(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        assert app.chat.question_input.has_focus
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.chat.question_input.value == ""
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press(*"is it", "question_mark")
        assert app.chat.question_input.value == "is it?"
        assert not isinstance(app.screen, HelpScreen)


# ---------------------------------------------------------------- the picker filters


def test_filter_notes_keeps_paths_with_every_word() -> None:
    files = ["network/vpc-endpoints.md", "network/vpc.md", "lambda.md", "VPC peering.txt"]
    assert filter_notes(files, "vpc end") == ["network/vpc-endpoints.md"]
    assert filter_notes(files, "VPC") == ["network/vpc-endpoints.md", "network/vpc.md", "VPC peering.txt"]
    assert filter_notes(files, "") == files
    assert filter_notes(files, "nothing") == []


async def test_picker_filters_as_you_type(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        picker = app.screen
        assert isinstance(picker, FilePicker)
        await pilot.press(*"zzz")
        assert picker.shown == [] and picker.option_list.option_count == 1
        await pilot.press("enter")
        assert isinstance(app.screen, FilePicker), "nothing to choose: Enter does nothing"
        await pilot.press("backspace", "backspace", "backspace", *"TXT")
        assert picker.shown == ["networking.txt"]
        assert "networking.txt" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.file_filter == "networking.txt")


async def test_picker_arrows_move_while_typing(app: NotesApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        await pilot.press(*".md", "down", "enter")
        await wait_until(pilot, lambda: app.file_filter == "s3.md")


# ---------------------------------------------------------------- history outlives the app


async def test_questions_are_recalled_after_a_restart(settings: Settings, engine: Engine) -> None:
    first = chat_app(settings, engine)
    async with first.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
    path = history_path(settings.corpus_dir)
    assert path.is_relative_to(Path(os.environ["XDG_STATE_HOME"]) / "notes-assistant" / "history")
    assert path.read_text().splitlines() == ['{"question": "lambda max memory"}', '{"question": "what is a nacl"}']
    second = chat_app(settings, engine)
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: second.searcher is not None)
        await pilot.press("up")
        assert second.chat.question_input.value == "what is a nacl"
        await pilot.press("up")
        assert second.chat.question_input.value == "lambda max memory"


async def test_each_notes_folder_has_its_own_history(settings: Settings, app: NotesApp, tmp_path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
    other = Settings(corpus_dir=tmp_path / "other-notes", index_dir=tmp_path / "ix", model=FAKE_MODEL)
    assert history_path(other.corpus_dir) != history_path(settings.corpus_dir)
    assert HistoryFile(history_path(other.corpus_dir)).load() == []


def test_history_is_capped_and_skips_damaged_lines(tmp_path: Path) -> None:
    history = HistoryFile(tmp_path / "h.jsonl", limit=3)
    for question in ("a", "b", "b", "c", "d"):
        history.add(question)
    assert history.load() == ["b", "c", "d"]
    with (tmp_path / "h.jsonl").open("a") as out:
        out.write('not json\n{"question": 3}\n["x"]\n{"question": "e"}\n')
    assert history.load() == ["b", "c", "d", "e"][-3:]
    assert not list(tmp_path.glob(".history-*")), "no scratch file left behind"


async def test_an_unwritable_history_never_stops_the_app(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the history folder should be")
    app = NotesApp(settings, engine, watch_notes=False, history=HistoryFile(blocker / "history.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
        warnings = [text for text in notifications(app) if "not being saved" in text]
        assert len(warnings) == 1, "said once"
        await pilot.press("up")
        assert app.chat.question_input.value == "what is a nacl", "recall still works in this run"


# ---------------------------------------------------------------- c copies, or says it could not


@dataclass
class Clipboard:
    """The clipboard tools as `c` finds them: which tool copies (None: none), why OSC 52 cannot arrive."""

    tool: str | None = None
    blocked: str | None = None
    copied: list[str] = field(default_factory=list)

    def copy(self, text: str) -> str | None:
        self.copied.append(text)
        return self.tool

    def osc52_blocked(self) -> str | None:
        return self.blocked


@pytest.fixture
def clipboard(monkeypatch: pytest.MonkeyPatch) -> Clipboard:
    state = Clipboard()
    monkeypatch.setattr("assistant.tui.passages.copy_with_tool", state.copy)
    monkeypatch.setattr("assistant.tui.passages.osc52_blocked", state.osc52_blocked)
    return state


def copied_citation(app: NotesApp, index: int) -> str:
    """What `c` copies for the latest answer's card `index`: its answer as `path:LINE` from here."""
    hit = latest_card(app).cards()[index].hit
    return f"{openable_path(app.settings.corpus_dir, hit.chunk.file)}:{hit.answer.start_line}"


async def test_c_uses_the_clipboard_tool(app: NotesApp, clipboard: Clipboard) -> None:
    clipboard.tool = "xclip"
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "j", "c")
        await pilot.pause()
        citation = copied_citation(app, 1)
        assert citation.endswith("s3.md:13") and clipboard.copied == [citation]
        assert f"Copied {citation} (with xclip)" in notifications(app)


async def test_c_says_plainly_when_nothing_was_copied(app: NotesApp, clipboard: Clipboard) -> None:
    clipboard.blocked = "tmux's set-clipboard is off"
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "c")
        await pilot.pause()
        citation = copied_citation(app, 0)
        [message] = [text for text in notifications(app) if citation in text]
        assert message.startswith("Nothing was copied: no clipboard tool (wl-copy, xclip, xsel, pbcopy, clip.exe)")
        assert f"tmux's set-clipboard is off. The citation: {citation}" in message
        assert "Copied" not in message


async def test_c_without_a_tool_does_not_claim_success(app: NotesApp, clipboard: Clipboard) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "c")
        await pilot.pause()
        citation = copied_citation(app, 0)
        assert app.clipboard == citation, "OSC 52 is still sent, for terminals that take it"
        [message] = [text for text in notifications(app) if citation in text]
        assert message.startswith(f"Asked the terminal to copy {citation} (OSC 52)")
        assert "if your terminal ignores OSC 52 nothing was copied" in message


def test_copy_with_tool_tries_tools_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.tui import clipboard

    runs: list[list[str]] = []

    def tool_process(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        runs.append(argv)
        assert kwargs["input"] == b"a.md:1-2" and kwargs["stdout"] == subprocess.DEVNULL
        return subprocess.CompletedProcess(argv, 1 if argv[0].endswith("xclip") else 0)

    monkeypatch.setattr("assistant.tui.clipboard.subprocess.run", tool_process)

    def everything(name: str) -> str | None:
        return f"/bin/{name}"

    def nothing(name: str) -> str | None:
        return None

    assert clipboard.copy_with_tool("a.md:1-2", {"DISPLAY": ":0"}, everything) == "xsel"
    assert runs == [["/bin/xclip", "-selection", "clipboard"], ["/bin/xsel", "--clipboard", "--input"]]
    assert clipboard.copy_with_tool("a.md:1-2", {"WAYLAND_DISPLAY": "w"}, everything) == "wl-copy"
    assert clipboard.copy_with_tool("a.md:1-2", {}, nothing) is None


def test_osc52_is_known_blocked_in_tmux_without_set_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.tui import clipboard

    setting = {"value": "off\n"}

    def tmux_process(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert argv[1:] == ["show-options", "-gv", "set-clipboard"]
        return subprocess.CompletedProcess(argv, 0, stdout=setting["value"])

    monkeypatch.setattr("assistant.tui.clipboard.subprocess.run", tmux_process)

    def tmux(name: str) -> str | None:
        return "/bin/tmux" if name == "tmux" else None

    assert clipboard.osc52_blocked({"TMUX": "/tmp/t,1,0"}, tmux) == "tmux's set-clipboard is off"
    setting["value"] = "external\n"
    assert clipboard.osc52_blocked({"TMUX": "/tmp/t,1,0"}, tmux) is None
    assert clipboard.osc52_blocked({}, tmux) is None


# ---------------------------------------------------------------- o: the editor from the settings


async def test_o_uses_the_configured_editor_and_says_when_it_cannot_take_a_line(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[list[str]] = []

    def editor_process(argv: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr("assistant.present.editor.subprocess.run", editor_process)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "ix", model=FAKE_MODEL, editor="ed")
    app = chat_app(settings, indexed(settings))

    @contextlib.contextmanager
    def no_suspend() -> Iterator[None]:
        yield

    monkeypatch.setattr(app, "suspend", no_suspend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await pilot.pause()
        assert runs == [["ed", str(corpus / "lambda.md")]]
        assert "ed can't be told a line: the answer is at line 16" in notifications(app)


# ---------------------------------------------------------------- no notes folder, a failed index


async def test_a_missing_notes_folder_gets_a_screen_not_a_toast(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", model=FAKE_MODEL)
    app = chat_app(settings, engine_for(settings))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, NoNotesScreen))
        screen = app.screen
        assert isinstance(screen, NoNotesScreen)
        assert screen.problem == f"notes folder not found: {settings.corpus_dir}"
        text = screen_text(app)
        assert "No notes to search: notes folder not found:" in text
        assert "notes --corpus ~/notes" in text and "export NOTES_CORPUS=~/notes" in text
        assert 'corpus = "~/notes"' in text and "config.toml" in text
        assert str(settings.corpus_dir) in text
        assert not notifications(app), "the screen says it; no toast"
        assert app.chat.status_line.state == "no notes folder"
        write_notes(settings.corpus_dir, NOTES)  # the user made the folder
        await pilot.press("r")
        await wait_until(pilot, lambda: index_settled(app))
        assert not isinstance(app.screen, NoNotesScreen)
        await ask(pilot, "lambda")
        assert latest_card(app).cards()[0].citation == "lambda.md:1-7"


@pytest.fixture
def someone_elses_index(tmp_path: Path) -> Settings:
    """Settings whose index belongs to another notes folder, which still exists: the engine refuses it
    (`IndexMismatch`), and the app can neither open nor refresh it."""
    other = Settings(corpus_dir=write_notes(tmp_path / "theirs", NOTES), index_dir=tmp_path / "ix", model=FAKE_MODEL)
    indexed(other)
    return Settings(corpus_dir=write_notes(tmp_path / "mine", NOTES), index_dir=other.index_dir, model=FAKE_MODEL)


async def test_a_failed_index_is_explained_on_the_card(someone_elses_index: Settings) -> None:
    settings = someone_elses_index
    app = chat_app(settings, engine_for(settings))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.chat.status_line.state == "unavailable")
        await pilot.press(*"lambda", "enter")
        await pilot.pause()
        meta = meta_text(latest_card(app))
        mine, theirs = settings.corpus_dir.resolve(), settings.corpus_dir.parent.resolve() / "theirs"
        assert meta.startswith(f"Can't answer yet: {settings.index_dir} is the index of {theirs}, not of {mine}")
        assert "(leave out --index" in meta
        assert meta.endswith("Fix that, then press Ctrl+P → Re-index notes to try again.")


async def test_problem_notifications_are_never_markup(tmp_path: Path) -> None:
    """A folder name is the user's text: markup and escapes in it reach the notification inert."""
    hostile = "[bold]notes[/bold]\x1b]0;x\x07"
    other = Settings(corpus_dir=write_notes(tmp_path / hostile, NOTES), index_dir=tmp_path / "ix", model=FAKE_MODEL)
    indexed(other)
    settings = Settings(corpus_dir=write_notes(tmp_path / "mine", NOTES), index_dir=other.index_dir, model=FAKE_MODEL)
    app = chat_app(settings, engine_for(settings))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.chat.status_line.state == "unavailable")
        [shown] = notices(app)
        assert shown.markup is False
        assert f"{tmp_path.resolve()}/[bold]notes[/bold]\\x1b]0;x\\x07, not of" in shown.message
        assert "\x1b" not in shown.message and "\x07" not in shown.message
