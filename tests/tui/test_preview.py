"""A collapsed card's preview reads like the rendered passage (assistant/tui/widgets/markdown_lines.py,
`preview` in passage.py): small hand-written Markdown cases, plain text untouched, hostile text inert."""

from __future__ import annotations

from textual.content import Content

from assistant.tui.widgets.markdown_lines import CODE_STYLE, LINK_STYLE, markdown_lines
from assistant.tui.widgets.passage import ANSWER_STYLE, TERM_STYLE, inert_content, preview


def styled(content: Content, style: str) -> list[str]:
    """The pieces of text that carry a style."""
    return [content.plain[span.start : span.end] for span in content.spans if span.style == style]


def lines(text: str) -> list[str]:
    return [line.content.plain for line in markdown_lines(text)]


def test_bold_is_bold_without_its_stars() -> None:
    content = preview("The **Least Privilege Principle** applies.", [], markdown=True)
    assert content.plain == "The Least Privilege Principle applies."
    assert styled(content, "bold") == ["Least Privilege Principle"]


def test_inline_code_and_emphasis() -> None:
    content = preview("Run `aws s3 ls` *now* or ~~never~~.", [], markdown=True)
    assert content.plain == "Run aws s3 ls now or never."
    assert styled(content, CODE_STYLE) == ["aws s3 ls"]
    assert styled(content, "italic") == ["now"]
    assert styled(content, "strike") == ["never"]


def test_link_shows_its_text_only() -> None:
    content = preview("See [the FAQ](https://aws.amazon.com/faq) and <https://x.io>.", [], markdown=True)
    assert content.plain == "See the FAQ and https://x.io."
    assert styled(content, LINK_STYLE) == ["the FAQ", "https://x.io"]


def test_nested_list_keeps_bullets_and_indent() -> None:
    text = "- Compute\n  - EC2 *instances*\n    1. On-Demand\n    2. Spot\n- Storage"
    assert lines(text) == ["• Compute", "  ▪ EC2 instances", "    1. On-Demand", "    2. Spot", "• Storage"]


def test_a_passage_cut_from_a_nested_list_is_still_a_list() -> None:
    assert lines("    * deep item\n      more of it\n    * next") == ["• deep item", "  more of it", "• next"]


def test_list_item_continuation_lines_are_indented() -> None:
    assert lines("* first line\n  second line\n+ next") == ["• first line", "  second line", "• next"]


def test_table_rows_read_as_cells() -> None:
    text = "| Item | Price |\n|------|-------|\n| Requests | $0.20 per 1M |\n| **Duration** | `GB-s` |"
    assert lines(text) == ["Item │ Price", "Requests │ $0.20 per 1M", "Duration │ GB-s"]
    header, _, last = (line.content for line in markdown_lines(text))
    assert styled(header, "bold") == ["Item │ Price"]
    assert styled(last, CODE_STYLE) == ["GB-s"]


def test_table_rows_cut_off_from_their_header_read_as_cells() -> None:
    # Long tables are chunked: a passage may start at a delimiter or a body row, so markdown-it sees no table.
    text = "| --- | --- |\n| **CIDR** | IP range, `a|b` |\n| VPC | Virtual network |"
    assert lines(text) == ["CIDR │ IP range, a|b", "VPC │ Virtual network"]
    assert lines("|x| is the absolute value") == ["|x| is the absolute value"]


def test_heading_loses_its_marks_and_is_bold() -> None:
    content = preview("## Limits of `Lambda`\nMemory: up to 10 GB.", [], markdown=True)
    assert content.plain == "Limits of Lambda\nMemory: up to 10 GB."
    assert styled(content, "bold") == ["Limits of Lambda"]


def test_code_block_and_quote() -> None:
    assert lines("> quoted **text**\n\n```bash\naws s3 cp a b\n```") == ["│ quoted text", "aws s3 cp a b"]


def test_preview_starts_at_the_answer_line_with_relative_indent() -> None:
    text = "# Lambda\n\n- Runtime: many languages\n  - Timeout: **900 seconds** max\n  - Memory: 10 GB"
    content = preview(text, ["timeout", "max"], answer=range(3, 4), markdown=True)
    assert content.plain == "… ▪ Timeout: 900 seconds max\n▪ Memory: 10 GB"
    assert styled(content, TERM_STYLE) == ["Timeout", "max"]
    assert styled(content, ANSWER_STYLE) == ["▪ Timeout: 900 seconds max"]
    assert styled(content, "bold") == ["900 seconds"]


def test_a_collapsed_table_row_shows_under_its_header_row() -> None:
    """Collapsed cards showed a row alone ("… Max Memory │ 2 MB │ 128MB - 10GB"): which column is which?"""
    rows = "| Timeout | 5 s | 15 min |\n| Max Memory | 2 MB | 10 GB |"
    text = f"Limits:\n\n| Limit | Lambda@Edge | Lambda |\n|---|---|---|\n{rows}"
    content = preview(text, [], answer=range(5, 6), markdown=True)
    assert content.plain == "… Limit │ Lambda@Edge │ Lambda\nMax Memory │ 2 MB │ 10 GB"
    assert styled(content, ANSWER_STYLE) == ["Max Memory │ 2 MB │ 10 GB"]
    assert styled(content, "bold") == ["Limit │ Lambda@Edge │ Lambda"]


def test_a_plain_text_preview_starts_at_its_answer_too() -> None:
    content = preview("Networking\nNACL: stateless.\nSecurity groups: stateful.", [], answer=range(2, 3))
    assert content.plain == "… Security groups: stateful."
    assert styled(content, ANSWER_STYLE) == ["Security groups: stateful."]


def test_plain_text_notes_are_unchanged() -> None:
    text = "- not a list **really**\n# not a heading"
    assert preview(text, []).plain == "- not a list **really**\n# not a heading"


def test_hostile_text_in_spans_stays_literal_and_inert() -> None:
    text = "**[bold red]x[/] \x1b[31m** `[@click=app.quit]` [\u202e &#x202e; &rlm;](http://e) [link=x]y[/link]"
    content = preview(text, [], markdown=True)
    assert content.plain == "[bold red]x[/] \\x1b[31m [@click=app.quit] \\u202e \\u202e \\u200f [link=x]y[/link]"
    assert styled(content, "bold") == ["[bold red]x[/] \\x1b[31m"]
    assert styled(content, CODE_STYLE) == ["[@click=app.quit]"]
    assert {span.style for span in content.spans} <= {"bold", CODE_STYLE, LINK_STYLE}  # no @click meta


def test_inert_content_escapes_decoded_controls_and_keeps_styles() -> None:
    content = Content("ab\u202ecd 🧑\u200d💻", []).stylize("bold", 1, 4)
    safe = inert_content(content)
    assert safe.plain == "ab\\u202ecd 🧑\u200d💻"
    assert styled(safe, "bold") == ["b", "\\u202e", "c"]
    assert inert_content(Content("plain")) == Content("plain")
