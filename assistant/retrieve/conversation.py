"""The conversation: what a question searches for given the one before it, and how far to trust an answer.

Input: the typed question and the previous turn's searched query; a SearchResponse. Output: the query
to search (`Question`), and a verdict on the response (`Strength`). Pure: no UI, no retrieval.

Follow-ups. "and the timeout?" after "lambda max memory" means "lambda timeout". The decision rests on
general signals of English, never on words of one subject area:
- a leading connector ("and", "also", "what about", "how about", "as for", "same for");
- a pronoun standing for something said before ("it", "they", "that" with no topic of its own before it);
- a question with no topic of its own: only attribute words ("pricing", "max timeout") or none.
The previous query is split into its topic (what it is about: "lambda") and its aspect (which property:
"max memory", words from the generic ATTRIBUTE_WORDS list). A follow-up keeps the topic and brings its
own aspect; "and for X" or a name-shaped word ("S3", "EC2", "DynamoDB") swaps the topic and keeps the
aspect. A self-contained question ("what is a nacl") starts afresh.

Strength. Ranking scores say how well the retrievers agree, not how good a passage is; the verdict
uses the passages' similarity (`similarity`: the cosine of the question to a passage or its best
line, the one number the chat app's cards show) and the per-list ranks: the keyword list ("bm25")
against the best of the meaning lists ("dense", and "lines" where the index has line vectors). BM25
mode uses the share of the question's words the passage holds. All thresholds are in `STRONG` below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.retrieve.fuse import RRF_K
from assistant.retrieve.highlight import STOPWORDS, WORD, query_terms, term_coverage
from assistant.retrieve.search import Hit, SearchResponse

ATTRIBUTE_WORDS = frozenset(
    """
    max maximum min minimum limit limits limitation limitations quota quotas default defaults
    cost costs price prices pricing priced charge charges charged billing billed fee fees cheap cheaper
    cheapest expensive free
    size sizes length long big large small capacity storage memory ram cpu disk space
    time times timeout timeouts duration latency speed fast slow throughput performance
    number count rate rates retention period frequency
    version versions
    difference differences compare comparison pros cons benefit benefits advantage advantages
    disadvantage disadvantages alternative alternatives example examples
    requirement requirements
    """.split()
)
"""Generic properties a question can ask about any subject (not the words of one field)."""

_CONNECTOR_PHRASES = (
    ("what", "about"),
    ("how", "about"),
    ("what", "of"),
    ("as", "for"),
    ("same", "for"),
    ("same", "question", "for"),
    ("and",),
    ("also",),
    ("but",),
    ("so",),
    ("then",),
    ("plus",),
    ("now",),
    ("ok",),
    ("okay",),
)
_SWAP_PREPOSITIONS = frozenset({"for", "in", "on", "with"})
_PERSONAL = frozenset({"it", "its", "they", "them", "their", "theirs", "itself", "themselves"})
_DEMONSTRATIVE = frozenset({"that", "this", "those", "these"})
_QUESTION_OPENERS = frozenset(
    {"what", "how", "which", "why", "when", "where", "who", "is", "are", "does", "do", "can", "should"}
)


@dataclass(frozen=True)
class Question:
    """One question as asked and as searched."""

    asked: str
    """What the user typed."""
    searched: str
    """What is searched: the question itself, or a follow-up completed from the previous turn."""
    follow_up: bool = False
    context: str | None = None
    """The previous turn's searched query, when this question leans on it."""


def resolve(asked: str, previous: str | None) -> Question:
    """The query to search for `asked`, given the previous turn's searched query (None at the start)."""
    asked = " ".join(asked.split())
    if not previous:
        return Question(asked, asked)
    tokens = [match.group(0) for match in WORD.finditer(asked)]
    lowered = [token.lower() for token in tokens]
    rest, connected, swap = _strip_connectors(lowered)
    offset = len(lowered) - len(rest)
    anaphor = _has_anaphor(rest)
    content = [tokens[offset + i] for i, word in enumerate(rest) if _is_content(word)]
    new_topic = [word for word in content if word.lower() not in ATTRIBUTE_WORDS]
    new_aspect = [word for word in content if word.lower() in ATTRIBUTE_WORDS]
    if not (connected or anaphor or not new_topic):
        return Question(asked, asked)
    if connected and not anaphor and new_topic and rest and rest[0] in _QUESTION_OPENERS:
        # "and what is a nacl?": a whole question after the connector stands on its own.
        return Question(asked, asked)
    old_topic, old_aspect = _split(previous)
    if anaphor:
        topic, aspect = old_topic, content or old_aspect
    elif new_topic and (swap or any(_looks_like_name(word) for word in new_topic)):
        topic, aspect = new_topic, new_aspect or old_aspect
    elif new_topic:
        topic, aspect = old_topic + new_topic, new_aspect
    else:
        topic, aspect = old_topic, new_aspect or old_aspect
    searched = " ".join(_unique(topic + aspect)) or previous
    return Question(asked, searched, follow_up=True, context=previous)


def _strip_connectors(words: list[str]) -> tuple[list[str], bool, bool]:
    """The words after any leading connectors; whether there were any; whether one ended in "for"/"in"."""
    rest = list(words)
    connected = swap = False
    changed = True
    while changed and rest:
        changed = False
        for phrase in _CONNECTOR_PHRASES:
            if tuple(rest[: len(phrase)]) == phrase:
                rest = rest[len(phrase) :]
                connected = changed = True
                swap = swap or phrase[-1] in _SWAP_PREPOSITIONS
                break
        if connected and rest and rest[0] in _SWAP_PREPOSITIONS:
            rest = rest[1:]
            swap = changed = True
    return rest, connected, swap


def _has_anaphor(words: list[str]) -> bool:
    """A pronoun that points back to the previous question: "it", "they", or "that"/"this" used alone,
    with no topic of this question before it to point to ("how much does that cost", "is it free",
    but not "what is a nacl and how is it different" nor "services that scale")."""
    for i, word in enumerate(words):
        if word not in _PERSONAL and word not in _DEMONSTRATIVE:
            continue
        before = [w for w in words[:i] if _is_content(w) and w not in ATTRIBUTE_WORDS]
        if not before:
            return True
    return False


def _is_content(word: str) -> bool:
    word = word.lower()
    return len(word) >= 2 and word not in STOPWORDS and word not in _DEMONSTRATIVE


def _looks_like_name(word: str) -> bool:
    """A word shaped like a product or service name: with a digit, or capitals past its first letter."""
    return any(ch.isdigit() for ch in word) or any(ch.isupper() for ch in word[1:])


def _split(query: str) -> tuple[list[str], list[str]]:
    """A query's topic words and its aspect (attribute) words, in order."""
    content = [token for token in WORD.findall(query) if _is_content(token)]
    topic = [word for word in content if word.lower() not in ATTRIBUTE_WORDS]
    aspect = [word for word in content if word.lower() in ATTRIBUTE_WORDS]
    if not topic:
        return aspect, []
    return topic, aspect


def _unique(words: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.lower(), word)
    return list(seen.values())


# ---------------------------------------------------------------- how far to trust an answer


@dataclass(frozen=True)
class Thresholds:
    """When the top passage counts as a strong match; one place for every number."""

    top_rank: int = 3
    """Hybrid: at least one retriever ranks the top passage this high..."""
    agree_rank: int = 10
    """...and the other ranks it at least this high (the keyword and meaning searches agree)."""
    min_cosine: float = 0.30
    """Dense: the top passage's cosine similarity (all-MiniLM-L6-v2 puts unrelated text below ~0.25)."""
    min_coverage: float = 0.6
    """BM25: the share of the question's words that the top passage (with its headings) contains."""


STRONG = Thresholds()


@dataclass(frozen=True)
class Strength:
    strong: bool
    reason: str = ""
    """Why the match is weak, in words a reader can check."""


def match_strength(response: SearchResponse, thresholds: Thresholds = STRONG) -> Strength:
    """Whether the response's top passage is a strong match for what was searched."""
    if not response.hits:
        return Strength(False, "nothing in your notes matched")
    # The token rerank reorders passages but does not make the notes hold a better match: judge the
    # shown passage fusion ranked highest. Eval questions called weak: 31 before the rerank, 77 judging
    # the reranked first, 42 this way (the rest: fusion's first was reranked out of the top k).
    top = min(response.hits, key=lambda hit: hit.fused_rank or hit.rank)
    similar = [value for hit in response.hits if (value := similarity(hit)) is not None]
    cosine = max(similar) if similar else (top.score if response.mode == "dense" else None)
    if cosine is not None and cosine < thresholds.min_cosine:
        # The same number as the closest passage's card shows.
        return Strength(False, f"the closest passage is only {cosine:.2f} similar")
    if response.mode == "dense":
        return Strength(True)
    if response.mode == "bm25":
        terms = query_terms(response.searched)
        text = " ".join(top.chunk.heading_path) + "\n" + top.chunk.text
        coverage = term_coverage(text, terms)
        if coverage < thresholds.min_coverage:
            return Strength(False, f"the closest passage has only {round(coverage * len(terms))} of {len(terms)} words")
        return Strength(True)
    lexical = top.ranks.get("bm25")
    semantic = min((rank for name, rank in top.ranks.items() if name != "bm25" and rank is not None), default=None)
    if lexical is None:
        return Strength(False, "it was found by meaning alone, not by your words")
    if semantic is None:
        return Strength(False, "its meaning is far from the question")
    if min(lexical, semantic) > thresholds.top_rank:
        return Strength(False, f"neither keyword nor meaning search ranks it in its top {thresholds.top_rank}")
    if max(lexical, semantic) > thresholds.agree_rank:
        return Strength(False, "the keyword and meaning searches disagree about it")
    return Strength(True)


def similarity(hit: Hit) -> float | None:
    """How close in meaning a passage is to the question, as cards show it: `Hit.similarity` (the
    cosine of the question to the passage or its best line), else the best cosine among its lists'
    own scores; None when nothing measured it (a BM25-only search)."""
    if hit.similarity is not None:
        return hit.similarity
    cosines = [score for name, score in hit.scores.items() if name != "bm25" and score is not None]
    return max(cosines) if cosines else None


def score_fraction(score: float, mode: str, top_score: float, lists: int = 2, reranked: bool = False) -> float:
    """A score as a share of a full bar: a token-reranked passage's score (a similarity on MaxSim's
    scale) as is; a fused (RRF) score against its maximum (first in each of the `lists` fused lists:
    lists/(k+1)) — hybrid, dense when it fuses passage and line vectors —; a lone dense cosine as is;
    BM25 (unbounded) against the response's top score."""
    if reranked:
        full = 1.0
    elif mode == "hybrid" or (mode == "dense" and lists > 1):
        full = max(1, lists) / (RRF_K + 1)
    elif mode == "dense":
        full = 1.0
    else:
        full = top_score
    if full <= 0:
        return 0.0
    return max(0.0, min(1.0, score / full))


# ---------------------------------------------------------------- the conversation itself


@dataclass
class Conversation:
    """The questions asked so far: what a new one searches for, and recall of earlier ones."""

    questions: list[Question] = field(default_factory=list)

    def ask(self, asked: str) -> Question:
        previous = self.questions[-1].searched if self.questions else None
        question = resolve(asked, previous)
        self.questions.append(question)
        return question

    def clear(self) -> None:
        """Forget the context (the recall history is the input's, and survives)."""
        self.questions.clear()


@dataclass
class History:
    """Earlier questions for Up/Down recall, like a shell: Up goes back, Down comes forward to the draft."""

    entries: list[str] = field(default_factory=list)
    position: int | None = None
    draft: str = ""
    limit: int = 500
    """The most questions kept; the oldest go first."""

    def add(self, text: str) -> None:
        text = text.strip()
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.limit]
        self.position = None
        self.draft = ""

    def back(self, current: str) -> str | None:
        """The question before the one shown (None when there is none)."""
        if not self.entries:
            return None
        if self.position is None:
            self.draft = current
            self.position = len(self.entries) - 1
        elif self.position > 0:
            self.position -= 1
        else:
            return None
        return self.entries[self.position]

    def forward(self) -> str | None:
        """The question after the one shown, or the draft past the newest (None when not recalling)."""
        if self.position is None:
            return None
        if self.position < len(self.entries) - 1:
            self.position += 1
            return self.entries[self.position]
        self.position = None
        return self.draft
