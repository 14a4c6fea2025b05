"""`notes eval --html FILE` (issue 27): one self-contained page, every string escaped, whose charts render in
a real browser (Debian's headless Chromium, installed by `.ci/setup --tests`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.evaluate.marks import marked_set_path

from .eval_notes import LOWER_DOWN, Notes, mark_the_three, notes_on_three

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Notes:
    return notes_on_three(tmp_path, monkeypatch, capsys)


def page_with_changes(notes: Notes, tmp_path: Path) -> Path:
    """A page comparing bm25 with an earlier hybrid run, in which one question moved (3 → 1)."""
    mark_the_three(notes)
    notes("ask", LOWER_DOWN, "--mark", "3")
    assert notes("eval")[0] == 0
    page = tmp_path / "out" / "eval.html"
    code, _out, err = notes("eval", "--mode", "bm25", "--against", "last", "--html", str(page))
    assert code == 0, err
    assert str(page) in err.replace("~/", str(Path.home()) + "/")
    return page


def test_the_page_is_self_contained(notes: Notes, tmp_path: Path) -> None:
    html = page_with_changes(notes, tmp_path).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None and policy.group(1).startswith("default-src &#x27;none&#x27;")
    assert not re.search(r"(src|href)=", html), "no file is fetched: nothing has a src or an href"
    assert "http://" not in html and "https://" not in html
    assert html.count("<script>") == 1 and html.count('<svg class="chart"') == 3  # by mode, by kind, rank changes
    assert "verdict: better than run" in html and "bm25 (against hybrid)" in html
    assert f"{LOWER_DOWN[:21]}…" in html, "the rank chart names the question that moved"
    assert "<code>kitchen.md:5-5</code> “- Sourdough needs a starter fed daily with flour and water”" in html


def test_every_string_on_the_page_is_escaped(notes: Notes, tmp_path: Path) -> None:
    hostile = notes.folder / "hostile.md"
    hostile.write_text('# <b>Head</b>\n\nThe <script>alert("note")</script> line & "quotes".\n', encoding="utf-8")
    question = "what does <img src=x onerror=alert(1)> the script line say"
    assert notes("ask", question, "--mark", "1")[0] == 0
    record = json.loads(marked_set_path(notes.folder).read_text(encoding="utf-8").splitlines()[0])
    assert record["gold"][0]["file"] == "hostile.md"
    notes("ask", "</td></tr></table><h1>x", "--mark", "none")  # listed among the open questions
    page = tmp_path / "page.html"
    assert notes("eval", "--html", str(page))[0] == 0
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html and 'alert("note")</script>' not in html and "</td></tr></table><h1>x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;x" in html
    assert "The &lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt; line &amp; &quot;quotes&quot;." in html
    assert html.count("<script>") == 1


@pytest.mark.skipif(
    CHROMIUM is None and not IN_CI,
    reason="Chromium is not installed: `bash .ci/setup --tests` installs Debian's (CI always runs this test)",
)
def test_the_charts_render_in_chromium(notes: Notes, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "CI must have Chromium: .ci/run sets up with --tests"
    page = page_with_changes(notes, tmp_path)
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--window-size=1000,2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    charts = re.findall(r'<svg class="chart"[^>]*>', dom)
    assert len(charts) == 3
    marks = [int(m) for chart in charts for m in re.findall(r'data-rendered="(\d+)"', chart)]
    # The page's script counted, in the browser's layout, the bars and dots that have a size.
    assert len(marks) == 3 and all(count > 0 for count in marks), charts
    assert 'data-charts-rendered="3"' in dom
    assert marks[0] == 5, "by mode: one bar per metric for bm25"
    assert marks[2] == 2, "rank changes: the question that moved, before and after"
