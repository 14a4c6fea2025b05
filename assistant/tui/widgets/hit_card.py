"""One ranked passage: rank, score bar, citation, heading path, and the passage itself.

Collapsed it shows two lines of the passage, Markdown read rather than shown as source; it expands
when selected (focused). The top result starts expanded and stays so. The passage body is built on first
expansion, so a long conversation of collapsed cards stays cheap.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from assistant.conversation import score_fraction
from assistant.present import inert
from assistant.search import Hit
from assistant.tui.widgets.passage import PassageMarkdown, best_fragment, plain_passage, preview

BAR_CELLS = 8
_EIGHTHS = " ▏▎▍▌▋▊▉"
MARKDOWN_SUFFIXES = (".md", ".markdown")


def score_bar(fraction: float, cells: int = BAR_CELLS) -> Content:
    """A small horizontal bar, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * cells * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_EIGHTHS[part] if part else "")
    empty = " " * (cells - len(filled))
    return Content.assemble((filled, ".hit-card--bar"), (empty, ".hit-card--bar-empty"))


def format_score(score: float, mode: str) -> str:
    if mode == "hybrid":
        return f"{score:.3f}"
    if mode == "dense":
        return f"{score:.2f}"
    return f"{score:.1f}"


class HitCard(Vertical, can_focus=True):
    """A result card. Focus selects (and expands) it."""

    COMPONENT_CLASSES = {
        "hit-card--rank",
        "hit-card--score",
        "hit-card--citation",
        "hit-card--bar",
        "hit-card--bar-empty",
        "hit-card--term",
        "hit-card--best",
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

    @property
    def citation(self) -> str:
        return self.hit.chunk.citation

    @property
    def is_markdown(self) -> bool:
        return self.hit.chunk.file.lower().endswith(MARKDOWN_SUFFIXES)

    def compose(self) -> ComposeResult:
        hit = self.hit
        chunk = hit.chunk
        fraction = score_fraction(
            hit.score, self.mode, self.top_score, lists=len(hit.ranks) or 2, reranked=hit.fused_rank is not None
        )
        title = Content.assemble(
            (f"{hit.rank:>2} ", ".hit-card--rank"),
            score_bar(fraction),
            (f" {format_score(hit.score, self.mode)}  ", ".hit-card--score"),
            (inert(chunk.citation), ".hit-card--citation"),
        )
        yield Static(title, classes="hit-title")
        path = " › ".join(chunk.heading_path) if chunk.heading_path else "(top of the note)"
        yield Static(Content(inert(path)), classes="hit-path")
        yield Static(preview(chunk.display_text, self.terms, markdown=self.is_markdown), classes="hit-preview")
        yield Vertical(classes="hit-body")

    def on_mount(self) -> None:
        self.expanded = self.pinned

    def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")
        if expanded and not self._body_built:
            self._body_built = True
            self.query_one(".hit-body", Vertical).mount(self._build_body())

    def _build_body(self) -> Static | PassageMarkdown:
        chunk = self.hit.chunk
        if self.is_markdown:
            # display_text: a piece of a split table is shown under its table's header row again.
            # dedent: a piece cut from inside a nested list starts indented, and Markdown would read
            # four leading spaces as a code block rather than as the list it is.
            text = textwrap.dedent(chunk.display_text)
            return PassageMarkdown(
                inert(text), terms=self.terms, best=best_fragment(text, self.terms), classes="hit-passage"
            )
        return Static(plain_passage(chunk.text, self.terms), classes="hit-passage")

    def on_focus(self) -> None:
        self.expanded = True
        self.post_message(self.Selected(self))
        self.call_after_refresh(self.scroll_visible, animate=False)

    def on_blur(self) -> None:
        self.expanded = self.pinned

    def action_toggle_pin(self) -> None:
        self.pinned = not self.pinned
        self.expanded = self.pinned or self.has_focus
