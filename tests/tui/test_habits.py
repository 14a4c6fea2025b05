"""The chat app behaves as terminal users expect (issue 20): `?` opens help from an empty box, the note
picker filters as you type, questions are remembered per notes folder across runs, `c` copies for
real or says it could not, and a missing notes folder gets a screen that says how to fix it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import CorpusError
from assistant.tui.app import NotesApp
from assistant.tui.history import HistoryFile, history_path
from assistant.tui.screens.file_picker import FilePicker, filter_notes
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.no_notes import NoNotesScreen
from tests.tui.conftest import FakeBackend, FakeSearcher
from tests.tui.helpers import ask, screen_text, wait_until

SIZE = (100, 32)


def make_app(settings: Settings, backend: Any) -> NotesApp:
    return NotesApp(settings, backend, watch_notes=False)


def notifications(app: NotesApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# ---------------------------------------------------------------- ? opens help


async def test_question_mark_in_an_empty_box_opens_help(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
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


async def test_picker_filters_as_you_type(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
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


async def test_picker_arrows_move_while_typing(settings: Settings, backend: FakeBackend) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda")
        await pilot.press("tab", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        await pilot.press(*".md", "down", "enter")
        await wait_until(pilot, lambda: app.file_filter == "s3.md")


# ---------------------------------------------------------------- history outlives the app


async def test_questions_are_recalled_after_a_restart(settings: Settings, backend: FakeBackend) -> None:
    first = make_app(settings, backend)
    async with first.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
    path = history_path(settings.corpus_dir)
    assert path.is_relative_to(Path(os.environ["XDG_STATE_HOME"]) / "notes-assistant" / "history")
    assert path.read_text().splitlines() == ['{"question": "lambda max memory"}', '{"question": "what is a nacl"}']
    second = make_app(settings, backend)
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: second.searcher is not None)
        await pilot.press("up")
        assert second.chat.question_input.value == "what is a nacl"
        await pilot.press("up")
        assert second.chat.question_input.value == "lambda max memory"


async def test_each_notes_folder_has_its_own_history(settings: Settings, backend: FakeBackend, tmp_path: Path) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
    other = Settings(corpus_dir=tmp_path / "other-notes", index_dir=tmp_path / "ix", model="fake-model")
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


async def test_an_unwritable_history_never_stops_the_app(
    settings: Settings, backend: FakeBackend, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the history folder should be")
    app = NotesApp(settings, backend, watch_notes=False, history=HistoryFile(blocker / "history.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await ask(pilot, "what is a nacl")
        warnings = [text for text in notifications(app) if "not being saved" in text]
        assert len(warnings) == 1, "said once"
        await pilot.press("up")
        assert app.chat.question_input.value == "what is a nacl", "recall still works in this run"


# ---------------------------------------------------------------- c copies, or says it could not


@pytest.fixture
def clipboard(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"tool": None, "blocked": None, "copied": []}

    def copy(text: str) -> str | None:
        state["copied"].append(text)
        tool: str | None = state["tool"]
        return tool

    monkeypatch.setattr("assistant.tui.passages.copy_with_tool", copy)
    monkeypatch.setattr("assistant.tui.passages.osc52_blocked", lambda: state["blocked"])
    yield state


async def test_c_uses_the_clipboard_tool(settings: Settings, backend: FakeBackend, clipboard: dict[str, Any]) -> None:
    clipboard["tool"] = "xclip"
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "j", "c")
        assert clipboard["copied"] == ["lambda.md:11-16"]
        assert "Copied lambda.md:11-16 (with xclip)" in notifications(app)


async def test_c_says_plainly_when_nothing_was_copied(
    settings: Settings, backend: FakeBackend, clipboard: dict[str, Any]
) -> None:
    clipboard["blocked"] = "tmux's set-clipboard is off"
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "c")
        [message] = [text for text in notifications(app) if "lambda.md:5-7" in text]
        assert message.startswith("Nothing was copied: no clipboard tool (wl-copy, xclip, xsel, pbcopy, clip.exe)")
        assert "tmux's set-clipboard is off. The citation: lambda.md:5-7" in message
        assert "Copied" not in message


async def test_c_without_a_tool_does_not_claim_success(
    settings: Settings, backend: FakeBackend, clipboard: dict[str, Any]
) -> None:
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda max memory")
        await pilot.press("tab", "c")
        assert app.clipboard == "lambda.md:5-7", "OSC 52 is still sent, for terminals that take it"
        [message] = [text for text in notifications(app) if "lambda.md:5-7" in text]
        assert message.startswith("Asked the terminal to copy lambda.md:5-7 (OSC 52)")
        assert "if your terminal ignores OSC 52 nothing was copied" in message


def test_copy_with_tool_tries_tools_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.tui import clipboard

    runs: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        runs.append(argv)
        assert kwargs["input"] == b"a.md:1-2" and kwargs["stdout"] == subprocess.DEVNULL
        return subprocess.CompletedProcess(argv, 1 if argv[0].endswith("xclip") else 0)

    monkeypatch.setattr("assistant.tui.clipboard.subprocess.run", fake_run)

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

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert argv[1:] == ["show-options", "-gv", "set-clipboard"]
        return subprocess.CompletedProcess(argv, 0, stdout=setting["value"])

    monkeypatch.setattr("assistant.tui.clipboard.subprocess.run", fake_run)

    def tmux(name: str) -> str | None:
        return "/bin/tmux" if name == "tmux" else None

    assert clipboard.osc52_blocked({"TMUX": "/tmp/t,1,0"}, tmux) == "tmux's set-clipboard is off"
    setting["value"] = "external\n"
    assert clipboard.osc52_blocked({"TMUX": "/tmp/t,1,0"}, tmux) is None
    assert clipboard.osc52_blocked({}, tmux) is None


# ---------------------------------------------------------------- o: the editor from the settings


async def test_o_uses_the_configured_editor_and_says_when_it_cannot_take_a_line(
    corpus: Path, tmp_path: Path, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[list[str]] = []

    def fake_run(argv: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr("assistant.present.editor.subprocess.run", fake_run)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "ix", model="fake-model", editor="ed")
    app = make_app(settings, backend)

    @contextlib.contextmanager
    def no_suspend() -> Iterator[None]:
        yield

    monkeypatch.setattr(app, "suspend", no_suspend)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "lambda pricing")
        await pilot.press("tab", "o")
        await pilot.pause()
        assert runs == [["ed", str(corpus / "lambda.md")]]
        assert "ed can't be told a line: the answer is at line 15" in notifications(app)


# ---------------------------------------------------------------- no notes folder


class MissingNotes(FakeBackend):
    """No notes folder until `present` is set."""

    def __init__(self, searcher: FakeSearcher) -> None:
        super().__init__(searcher)
        self.present = False

    def open(self) -> FakeSearcher:
        if not self.present:
            raise CorpusError("notes folder not found: corpus", "pass --corpus DIR or set NOTES_CORPUS")
        return self.searcher

    def freshness(self) -> Any:
        if not self.present:
            raise CorpusError("notes folder not found: corpus")
        return super().freshness()


async def test_a_missing_notes_folder_gets_a_screen_not_a_toast(settings: Settings, searcher: FakeSearcher) -> None:
    backend = MissingNotes(searcher)
    app = make_app(settings, backend)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, NoNotesScreen))
        text = screen_text(app)
        assert "No notes to search: notes folder not found: corpus" in text
        assert "notes --corpus ~/notes" in text and "export NOTES_CORPUS=~/notes" in text
        assert 'corpus = "~/notes"' in text and "config.toml" in text
        assert str(settings.corpus_dir) in text
        assert not notifications(app), "the screen says it; no toast"
        assert app.chat.status_line.state == "no notes folder"
        backend.present = True  # the user made the folder
        await pilot.press("r")
        await wait_until(pilot, lambda: app.searcher is not None)
        assert not isinstance(app.screen, NoNotesScreen)
        await ask(pilot, "lambda")


async def test_a_failed_index_is_explained_on_the_card(settings: Settings, searcher: FakeSearcher) -> None:
    class Broken(FakeBackend):
        def open(self) -> FakeSearcher:
            from assistant.errors import IndexCorrupt

            raise IndexCorrupt("index manifest unreadable: ix/g1/manifest.json", "run `notes index --rebuild`")

        def refresh(self, progress: Any, notify: Any) -> str:
            self.open()
            return ""

    app = make_app(settings, Broken(searcher))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app._index_busy)
        await pilot.press(*"lambda", "enter")
        await pilot.pause()
        meta = str(app.chat.log_view.answer_cards()[-1]._meta_line.render())
        assert "Can't answer yet: index manifest unreadable: ix/g1/manifest.json" in meta
        assert "notification" not in meta


async def test_problem_notifications_are_never_markup(settings: Settings, searcher: FakeSearcher) -> None:
    class Hostile(FakeBackend):
        def open(self) -> FakeSearcher:
            from assistant.errors import IndexCorrupt

            raise IndexCorrupt("unreadable [bold]notes[/bold]/\x1b]0;x\x07.md")

        def refresh(self, progress: Any, notify: Any) -> str:
            self.open()
            return ""

    app = make_app(settings, Hostile(searcher))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app._notifications))
        [shown] = list(app._notifications)
        assert shown.markup is False
        assert shown.message == "unreadable [bold]notes[/bold]/\\x1b]0;x\\x07.md"
