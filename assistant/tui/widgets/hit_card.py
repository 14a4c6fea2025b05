"""One ranked passage: rank, score bar, citation, heading path, and the passage itself.

Collapsed it shows two lines of the passage from its answer lines (a table row under its header row),
Markdown read rather than shown as source; it expands when selected (focused). The top result starts
expanded and stays so. Expanded, the answer lines are emphasised and scrolled into view with the card's
citation and heading: a card taller than the view keeps them stuck at the view's top while its top is
scrolled away, as a sticky heading does. A table too wide for the card reads as one `header: value`
record per row. The passage body is built on first expansion, so a long conversation of collapsed
cards stays cheap.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.events import Resize
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Markdown, Static

from assistant.present.render import inert, shown_passage
from assistant.retrieve.results import Hit
from assistant.retrieve.score import shown
from assistant.tui.widgets.passage import ANSWER_CLASS, PassageMarkdown, plain_passage, preview
from assistant.tui.widgets.table_records import tables_as_records

BAR_CELLS = 8
CARD_MARGINS = 10
"""Columns around a card's passage: the conversation's padding and scrollbar, the answer's indent,
the card's border and padding."""
_EIGHTHS = " ▏▎▍▌▋▊▉"
MARKDOWN_SUFFIXES = (".md", ".markdown")
ANSWER_LEAD_IN = 0
"""Rows of the passage kept between a stuck header and the answer lines below it."""


def score_bar(fraction: float, cells: int = BAR_CELLS) -> Content:
    """A small horizontal bar, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * cells * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_EIGHTHS[part] if part else "")
    empty = " " * (cells - len(filled))
    return Content.assemble((filled, ".hit-card--bar"), (empty, ".hit-card--bar-empty"))


def row_in(widget: Widget, scroller: Widget) -> int:
    """The widget's top row in the scroller's content, where scrolling does not move it (the containers
    between them, result and answer cards, have no top border or padding)."""
    row = 0
    node: Widget | None = widget
    while node is not None and node is not scroller:
        row += node.virtual_region.y
        node = node.parent if isinstance(node.parent, Widget) else None
    return row


def card_score(hit: Hit) -> tuple[float, str]:
    """The bar's fraction and the number beside it: the result's one score (retrieve/score.py), the
    same number `notes ask`, its JSON and the MCP server show, never higher than the card above's."""
    return max(0.0, min(1.0, hit.score)), shown(hit.score)


class HitCard(Vertical, can_focus=True):
    """A result card. Focus selects (and expands) it."""

    COMPONENT_CLASSES = {
        "hit-card--rank",
        "hit-card--score",
        "hit-card--citation",
        "hit-card--bar",
        "hit-card--bar-empty",
        "hit-card--term",
        "hit-card--answer",
        "hit-card--code",
        "hit-card--link",
    }

    BINDINGS = [("enter,space", "toggle_pin", "Pin open")]

    expanded: reactive[bool] = reactive(False, init=False)

    class Selected(Message):
        """The card got focus: it is now the selected passage."""

        def __init__(self, card: HitCard) -> None:
            super().__init__()
            self.card = card

        @property
        def control(self) -> HitCard:
            return self.card

    def __init__(self, hit: Hit, *, mode: str, top_score: float, terms: Sequence[str]) -> None:
        super().__init__(classes="hit-card")
        self.hit = hit
        self.mode = mode
        self.top_score = top_score
        self.terms = tuple(terms)
        self.pinned = hit.rank == 1
        self._body_built = False
        self._records_at: int | None = None
        """The passage width its tables were laid out as records for (None: as tables)."""
        self._stuck_rows = 0
        """How far the header is drawn below its place, to stay in view (see `stick_header`)."""

    @property
    def citation(self) -> str:
        return self.hit.chunk.citation

    @property
    def is_markdown(self) -> bool:
        return self.hit.chunk.file.lower().endswith(MARKDOWN_SUFFIXES)

    def compose(self) -> ComposeResult:
        hit = self.hit
        chunk = hit.chunk
        fraction, number = card_score(hit)
        title = Content.assemble(
            (f"{hit.rank:>2} ", ".hit-card--rank"),
            score_bar(fraction),
            (f" {number}  ", ".hit-card--score"),
            (inert(chunk.citation), ".hit-card--citation"),
        )
        path = " › ".join(chunk.heading_path) if chunk.heading_path else "(top of the note)"
        with Vertical(classes="hit-header"):
            yield Static(title, classes="hit-title")
            yield Static(Content(inert(path)), classes="hit-path")
        shown = shown_passage(hit)
        text = "\n".join(shown.lines)
        yield Static(preview(text, self.terms, answer=shown.answer, markdown=self.is_markdown), classes="hit-preview")
        yield Vertical(classes="hit-body")

    def on_mount(self) -> None:
        self.expanded = self.pinned

    def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")
        self.call_after_refresh(self.keep_headers_in_view)  # the cards below it moved
        if expanded and not self._body_built:
            self._body_built = True
            self.query_one(".hit-body", Vertical).mount(self._build_body())
            if not self.is_markdown:  # (a Markdown passage says when it is rendered: _passage_shown)
                self.call_after_refresh(self.reveal_answer)

    def _passage_width(self) -> int:
        """Columns the passage has: the card's, less its border and padding (before the card is laid
        out, the screen's less the conversation's margins)."""
        if self.size.width:
            return max(20, self.size.width - 3)
        return max(20, self.app.size.width - CARD_MARGINS)

    def _build_body(self) -> Static | PassageMarkdown:
        shown = shown_passage(self.hit)
        if not self.is_markdown:
            return Static(plain_passage("\n".join(shown.lines), self.terms, shown.answer), classes="hit-passage")
        # dedent: a piece cut from inside a nested list starts indented, and Markdown would read four
        # leading spaces as a code block rather than as the list it is (dedent keeps the line count).
        lines = textwrap.dedent("\n".join(shown.lines)).split("\n")
        width = self._passage_width()
        records, answer = tables_as_records(lines, shown.answer, width)
        self._records_at = width if records != lines else None
        return PassageMarkdown(inert("\n".join(records)), terms=self.terms, answer=answer, classes="hit-passage")

    def on_resize(self, event: Resize) -> None:
        """Rebuild the passage when a table now fits, or no longer does."""
        if not self._body_built or not self.is_markdown:
            return
        lines = textwrap.dedent("\n".join(shown_passage(self.hit).lines)).split("\n")
        if (tables_as_records(lines, range(0), self._passage_width())[0] != lines) != (self._records_at is not None):
            body = self.query_one(".hit-body", Vertical)
            body.remove_children()
            body.mount(self._build_body())

    @on(Markdown.TableOfContentsUpdated)
    def _passage_shown(self, event: Markdown.TableOfContentsUpdated) -> None:
        event.stop()
        self.call_after_refresh(self.keep_headers_in_view)  # the passage's height changed
        if self.expanded:
            self.call_after_refresh(self.reveal_answer)

    def reveal_answer(self, attempts: int = 3) -> None:
        """Scroll the answer lines into view with the card's citation and heading: all of the card from
        its top when that fits in the view, else only as far as puts the answer just under the header,
        which then stays stuck at the view's top (`stick_header`). Before the passage is laid out (or
        with no answer lines), the card's top."""
        scroller = self._scroller()
        answer = None if scroller is None else self._answer_rows(scroller)
        if scroller is None or answer is None:
            self.scroll_visible(animate=False, immediate=True)
            if answer is None and self.expanded and attempts > 0:
                self.call_after_refresh(self.reveal_answer, attempts - 1)
            return
        top = row_in(self, scroller)
        answer_top, answer_bottom = answer
        if answer_bottom - top <= scroller.scrollable_content_region.height:
            scroller.scroll_to_region(Region(0, top, 1, answer_bottom - top), animate=False, immediate=True)
        else:
            header = self.header.outer_size.height + ANSWER_LEAD_IN
            scroller.scroll_to(y=answer_top - header, animate=False, immediate=True)
        self.call_after_refresh(self.keep_headers_in_view)

    def _answer_rows(self, scroller: Widget) -> tuple[int, int] | None:
        """The rows of the scroller's content the answer lines span (first, end): the first Markdown
        block showing them, or in a plain-text passage its answer lines, counted as the passage wraps
        them. None until the passage is laid out."""
        block = next(iter(self.query(f".{ANSWER_CLASS}")), None)
        if block is not None:
            return (row_in(block, scroller), row_in(block, scroller) + block.size.height) if block.size else None
        passage = next(iter(self.query(".hit-passage")), None)
        if passage is None or self.is_markdown or not passage.size:
            return None
        shown = shown_passage(self.hit)
        width = passage.content_size.width
        rows = [len(Content(inert(line)).wrap(width)) for line in shown.lines]
        start, end = (shown.answer.start, shown.answer.stop) if shown.answer else (0, 1)
        first = row_in(passage, scroller) + passage.styles.gutter.top + sum(rows[:start])
        return first, first + max(1, sum(rows[start:end]))

    @property
    def header(self) -> Vertical:
        return self.query_one(".hit-header", Vertical)

    def _scroller(self) -> Widget | None:
        """The conversation this card scrolls in."""
        return next((node for node in self.ancestors if isinstance(node, ScrollableContainer)), None)

    def keep_headers_in_view(self) -> None:
        """Re-stick every card's header in this card's conversation: a change in this card's height
        moves the cards below it without a scroll."""
        scroller = self._scroller()
        if scroller is not None:
            for card in scroller.query(HitCard):
                card.stick_header(scroller)

    def stick_header(self, scroller: Widget) -> None:
        """While the card's top is above the scroller's view and some of it below, draw the header at the
        view's top, over the passage's first rows, as a sticky heading is drawn.

        Worked out in the scroller's content rows (which scrolling does not move), against its scroll
        offset now: screen regions lag a scroll that the layout clamps (a card below collapsing)."""
        header = self.header
        top = row_in(self, scroller) + self.styles.gutter.top
        room = self.size.height - self.styles.gutter.height - header.outer_size.height
        rows = max(0, min(round(scroller.scroll_y) - top, room))
        if rows != self._stuck_rows:
            self._stuck_rows = rows
            header.styles.offset = (0, rows)
            header.set_class(rows > 0, "-stuck")

    def on_focus(self) -> None:
        self.expanded = True
        self.post_message(self.Selected(self))
        self.call_after_refresh(self.reveal_answer)

    def on_blur(self) -> None:
        self.expanded = self.pinned

    def action_toggle_pin(self) -> None:
        self.pinned = not self.pinned
        self.expanded = self.pinned or self.has_focus
