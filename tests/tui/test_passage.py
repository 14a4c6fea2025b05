"""The expanded passage (assistant/tui/widgets/passage.py) on Textual's public Markdown API: every kind of
block shows the answer emphasised and the question's words highlighted.

These tests are the alarm for a Textual upgrade: the passage widget relies on `Markdown.BLOCKS` naming
the block classes, on each block being built with its document and handed its inline token by
`build_from_token`, and on a code block's `highlight`, `code` and `lexer`. When one of those changes,
a test here fails and says which.
"""

from __future__ import annotations

import inspect

import pytest
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static
from textual.widgets.markdown import Markdown, MarkdownBlock, MarkdownFence

from assistant.tui.widgets.passage import (
    ANSWER_CLASS,
    ANSWER_STYLE,
    CODE_BLOCKS,
    INLINE_BLOCKS,
    TERM_STYLE,
    PassageMarkdown,
)

PASSAGE = "\n".join(
    [
        "## Limits of Lambda",  # 0
        "",
        "Memory: up to **10 GB** per function.",  # 2
        "",
        "- Timeout: 15 minutes at most",  # 4
        "",
        "| Item | Price |",  # 6
        "|---|---|",
        "| Requests | $0.20 per 1M |",  # 8
        "",
        "```bash",  # 10
        "aws lambda invoke --function-name f",  # 11
        "```",
    ]
)

UPGRADE = (
    "Textual's Markdown changed how it builds blocks (Markdown.BLOCKS, MarkdownBlock.build_from_token / "
    "set_content, MarkdownFence.highlight): rebuild assistant/tui/widgets/passage.py on the new API"
)


class PassageApp(App[None]):
    def __init__(self, answer: range, terms: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.passage = PassageMarkdown(PASSAGE, terms=terms, answer=answer)

    def compose(self) -> ComposeResult:
        yield self.passage


def styled(app: PassageApp, style: str) -> list[str]:
    """The texts shown with a style, in every Static of the passage (blocks, table cells, code)."""
    found = []
    for widget in app.passage.query(Static):
        content = widget.content
        if isinstance(content, Content):
            found += [content.plain[span.start : span.end] for span in content.spans if span.style == style]
    return found


def test_the_textual_api_the_passage_relies_on() -> None:
    missing = [name for name in (*INLINE_BLOCKS, *CODE_BLOCKS) if name not in Markdown.BLOCKS]
    assert not missing, f"{UPGRADE}: Markdown.BLOCKS has no {missing}"
    for name in INLINE_BLOCKS:
        assert issubclass(Markdown.BLOCKS[name], MarkdownBlock), f"{UPGRADE}: BLOCKS[{name!r}]"
    assert list(inspect.signature(MarkdownBlock.build_from_token).parameters) == ["self", "token"], UPGRADE
    assert list(inspect.signature(MarkdownBlock.set_content).parameters) == ["self", "content"], UPGRADE
    fence = inspect.signature(MarkdownFence.__init__).parameters
    assert list(fence)[:4] == ["self", "markdown", "token", "code"], f"{UPGRADE}: MarkdownFence(markdown, token, code)"
    assert list(inspect.signature(MarkdownFence.highlight).parameters)[:2] == ["code", "language"], UPGRADE


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (range(0, 1), "Limits of Lambda"),
        (range(2, 3), "Memory: up to 10 GB per function."),
        (range(4, 5), "Timeout: 15 minutes at most"),
        (range(8, 9), "Requests"),
        (range(11, 12), "aws lambda invoke --function-name f"),
    ],
    ids=["heading", "paragraph", "list-item", "table-row", "code"],
)
async def test_each_kind_of_block_emphasises_its_answer_line(answer: range, shown: str) -> None:
    app = PassageApp(answer)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        emphasised = styled(app, ANSWER_STYLE)
        assert shown in emphasised, f"{UPGRADE}: the answer ({shown!r}) is not emphasised; emphasised: {emphasised}"
        assert all(text in PASSAGE.replace("**", "") for text in emphasised), "only the answer's own words"
        if answer.start != 8:  # a table's cells are not widgets of their own: the table scrolls as one
            assert app.passage.query(f".{ANSWER_CLASS}"), "the card scrolls the answer into view by this class"


async def test_the_answer_row_of_a_table_is_emphasised_cell_by_cell_under_its_header() -> None:
    app = PassageApp(range(8, 9))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert styled(app, ANSWER_STYLE) == ["Requests", "$0.20 per 1M"]
        cells = [w.content.plain for w in app.passage.query(Static) if isinstance(w.content, Content)]
        assert "Item" in cells and "Price" in cells, "the header row is kept"


async def test_the_questions_words_are_highlighted_and_nothing_else_is_emphasised() -> None:
    app = PassageApp(range(0), terms=("lambda", "requests", "invoke"))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert styled(app, ANSWER_STYLE) == []
        assert not app.passage.query(f".{ANSWER_CLASS}")
        assert sorted(styled(app, TERM_STYLE)) == ["Lambda", "Requests"], "words in headings, text and cells"
