"""One turn of the conversation: the question as asked, then its answer card (ranked passages)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from assistant.present.render import inert
from assistant.retrieve.highlight import query_terms
from assistant.retrieve.results import SearchResponse
from assistant.tui.widgets.hit_card import HitCard


class QuestionEntry(Static):
    """The question line of a turn."""

    def __init__(self, turn: int, asked: str) -> None:
        super().__init__(Content.assemble(("❯ ", ".question-entry--prompt"), inert(asked)))
        self.turn = turn
        self.asked = asked

    COMPONENT_CLASSES = {"question-entry--prompt"}


class AnswerCard(Vertical):
    """The answer to one question: a status line while it is pending, then the passages."""

    COMPONENT_CLASSES = {"answer-card--searched", "answer-card--meta"}

    def __init__(self, turn: int, asked: str, *, waiting: str) -> None:
        super().__init__(classes="answer-card -pending")
        self.turn = turn
        self.asked = asked
        self.response: SearchResponse | None = None
        self.file_filter: str | None = None
        self._meta_line = Static(Content(waiting), classes="answer-meta")
        self._shown = False

    def compose(self) -> ComposeResult:
        yield self._meta_line

    def on_mount(self) -> None:
        if self.response is not None and not self._shown:
            self._show_hits()

    @property
    def answered(self) -> bool:
        return self.response is not None or self.has_class("-failed")

    def show_waiting(self, waiting: str) -> None:
        """Say why the answer is not here yet (searching, waiting for the index)."""
        if not self.answered:
            self._meta_line.update(Content(waiting))

    def show_response(self, response: SearchResponse, file_filter: str | None = None) -> None:
        self.response = response
        self.file_filter = file_filter
        self.remove_class("-pending")
        self.set_class(not response.strength.strong, "-weak")
        self._meta_line.update(self._meta(response, file_filter))
        if self.is_mounted:
            self._show_hits()

    def _show_hits(self) -> None:
        response = self.response
        assert response is not None
        strength = response.strength
        self._shown = True
        widgets: list[Static | HitCard] = []
        if response.building is not None:
            widgets.append(
                Static(
                    Content(f"{response.building.sentence()} Asked again once the index is complete."),
                    classes="answer-warning answer-building",
                )
            )
        if not response.hits:
            widgets.append(Static(Content("No passages found."), classes="answer-warning"))
        elif not strength.strong:
            widgets.append(
                Static(
                    Content(f"No strong match in your notes ({strength.reason}). The closest passages:"),
                    classes="answer-warning",
                )
            )
        terms = query_terms(response.searched)
        top = response.hits[0].score if response.hits else 0.0
        widgets.extend(HitCard(hit, mode=response.mode, top_score=top, terms=terms) for hit in response.hits)
        self.mount_all(widgets)

    def show_failure(self, message: str, hint: str | None) -> None:
        self.remove_class("-pending")
        self.add_class("-failed")
        text = message + (f" ({hint})" if hint else "")
        self._meta_line.update(Content(inert(text)))

    def _meta(self, response: SearchResponse, file_filter: str | None) -> Content:
        parts: list[tuple[str, str] | str | Content] = []
        if response.rewritten:
            parts += [("searched: ", ".answer-card--meta"), (inert(response.searched), ".answer-card--searched")]
            parts.append(("  ·  ", ".answer-card--meta"))
        count = len(response.hits)
        meta = f"{response.mode} · {count} passage{'s' if count != 1 else ''} · {response.seconds * 1000:.0f} ms"
        if file_filter:
            meta += f" · in {inert(file_filter)}"
        parts.append((meta, ".answer-card--meta"))
        return Content.assemble(*parts)

    def cards(self) -> list[HitCard]:
        return list(self.query(HitCard))
