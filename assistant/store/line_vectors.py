"""Line vectors for a build: each line unit embedded alone, each distinct text once.

Each line of a passage gets a vector of its own (`chunk.line_units`: the line under its nearest
heading) for the line list of a search. It is the largest stage of a build (the 408 external notes
have 40,249 units, 1.33M tokens, against 0.85M in their 7,201 passages), and some units repeat (the
same list item under the same heading in several notes: 2 % of them there): a text's vector depends
on the text alone (`embed.OnnxEmbedder`), so each distinct text goes through the model once.

Measured and not adopted (docs/speed.md, "Issue 25, second session"): a long line's vector pooled
from its passage's token vectors instead of embedding it alone (every line: −0.03 Hit@1 on both eval
sets; only lines of more than 48 tokens, 1,737 of 39,227: −0.007 and −0.022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant import reporting
from assistant.notes.abbreviations import Expander
from assistant.notes.chunk import Chunk, line_units
from assistant.reporting import Progress
from assistant.store.vectors import embed_with_reuse

if TYPE_CHECKING:
    import numpy as np

    from assistant.model.embed import Embedder


@dataclass
class LineUnits:
    """Every line unit of a build, in passage order: its text and passage row."""

    texts: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, chunks: Sequence[Chunk], expand: Expander) -> LineUnits:
        units = cls()
        for row, chunk in enumerate(chunks):
            texts = [expand(unit) for unit in line_units(chunk)]
            units.texts.extend(texts)
            units.owner.extend([row] * len(texts))
        return units


def embed_lines(
    embedder: Embedder, units: LineUnits, old: dict[str, np.ndarray], progress: Progress
) -> tuple[np.ndarray, int]:
    """Each unit's vector, each distinct text embedded once (or reused from `old`, by text key);
    returns the vectors and how many texts went through the model."""
    distinct = list(dict.fromkeys(units.texts))
    vectors, embedded = embed_with_reuse(embedder, distinct, old, progress, reporting.LINES_STAGE)
    if len(distinct) == len(units.texts):
        return vectors, embedded
    row = {text: number for number, text in enumerate(distinct)}
    return vectors[[row[text] for text in units.texts]], embedded
