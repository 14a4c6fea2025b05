"""Follow-up questions: what a question searches for, given the one before it.

"and the timeout?" after "lambda max memory" means "lambda timeout". The decision rests on general
signals of English, never on words of one subject area:
- a leading connector ("and", "also", "what about", "how about", "as for", "same for");
- a pronoun standing for something said before ("it", "they", "that" with no topic of its own before it);
- a question with no topic of its own: only attribute words ("pricing", "max timeout") or none.
The previous query is split into its topic (what it is about: "lambda") and its aspect (which property:
"max memory", words from the generic ATTRIBUTE_WORDS list). A follow-up keeps the topic and brings its
own aspect; "and for X" or a name-shaped word ("S3", "EC2", "DynamoDB") swaps the topic and keeps the
aspect. A self-contained question ("what is a nacl") starts afresh. Pure: no UI, no retrieval; the
searcher applies it when a front end hands it the previous turn (`Searcher.search(context=…)`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.retrieve.highlight import STOPWORDS, WORD

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
