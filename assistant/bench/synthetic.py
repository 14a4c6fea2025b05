"""Synthetic notes, for `notes bench --scale N`.

Input: the shipped notes (or any folder of .md/.txt), a seed and a section count. Output: Markdown
files that look like real study notes (nested headings, paragraphs, bullet lists, some tables, code
fences in sections of their own), made by recombining the sentences, list items, fences, tables and
headings found in the sources, with numbers varied, deterministically from the seed.

Every section gets one body of 60-100 words sized so that, with its heading path, it fits the model
window: the chunker makes exactly one chunk per section, so "N sections" means N chunks.
`synthetic_notes` also yields those chunks with each file (tests/test_bench.py checks they equal the
chunker's), which lets a million-chunk build skip decoding and Markdown parsing (pure Python, ~15
minutes for 1M chunks on a small CPU) and still write the index a real build would.

The vectors for such an index come from `stand_in.StandInEmbedder`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.notes.chunk import Chunk, approximate_token_count
from assistant.notes.ingest import decode_document, discover, read_bytes
from assistant.notes.outline import clean_heading
from assistant.notes.pieces import lead_of

SECTIONS_PER_FILE = 200
BODY_WORDS = (60, 100)
MAX_TOKENS = 256
MAX_BODY_TOKENS = 200
"""Heading path + body stay inside the 256-token window (counted like the chunker's fallback counter),
so no section is split."""

_FALLBACK_SENTENCES = (
    "Lambda functions can use between 128 MB and 10240 MB of memory and run for at most 15 minutes.",
    "S3 offers eleven nines of durability and stores objects of up to 5 TB in buckets.",
    "A NAT gateway lets instances in a private subnet reach the internet without being reachable.",
    "Security groups are stateful and only have allow rules, network ACLs are stateless.",
    "DynamoDB tables scale by partition key, so pick a key with many distinct values.",
    "CloudFront caches content at edge locations close to the users.",
    "RDS Multi-AZ keeps a synchronous standby in another availability zone for failover.",
    "Read replicas scale reads and replicate asynchronously.",
    "SQS visibility timeout hides a message from other consumers while it is processed.",
    "Route 53 supports simple, weighted, latency, failover and geolocation routing policies.",
    "An IAM policy is a JSON document with Effect, Action, Resource and Condition.",
    "EBS volumes live in one availability zone; EFS is shared across zones.",
    "Auto Scaling groups keep the desired number of EC2 instances running.",
    "Kinesis Data Streams keeps records for 24 hours by default and up to 365 days.",
)
_FALLBACK_HEADINGS = (
    "Lambda",
    "S3 storage classes",
    "VPC networking",
    "IAM policies",
    "DynamoDB",
    "CloudFront",
    "RDS and Aurora",
    "SQS and SNS",
    "Route 53",
    "EC2 instance types",
    "Kinesis",
    "Exam tips",
)
_QUALIFIERS = (
    "limits",
    "pricing",
    "exam tips",
    "best practices",
    "quotas",
    "troubleshooting",
    "security",
    "monitoring",
    "use cases",
    "gotchas",
    "summary",
    "deep dive",
    "lab notes",
    "FAQ",
    "vs alternatives",
)
_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class TextPool:
    """Pieces of real notes to recombine."""

    sentences: tuple[str, ...]
    bullets: tuple[str, ...]
    headings: tuple[str, ...]
    fences: tuple[str, ...]
    tables: tuple[str, ...]


def harvest(sources: Sequence[Path]) -> TextPool:
    """Sentences, list items, headings, code fences and tables from the note files under sources."""
    sentences: list[str] = []
    bullets: list[str] = []
    headings: list[str] = []
    fences: list[str] = []
    tables: list[str] = []
    for source in sources:
        if not source.is_dir():
            continue
        files, _problems = discover(source)
        for file in files:
            raw, _problem = read_bytes(file)
            document, _problem = decode_document(file.path, raw) if raw is not None else (None, None)
            if document is not None:
                _harvest_text(document.text, sentences, bullets, headings, fences, tables)
    return TextPool(
        sentences=_unique(sentences) or _FALLBACK_SENTENCES,
        bullets=_unique(bullets) or _FALLBACK_SENTENCES,
        headings=_unique(headings) or _FALLBACK_HEADINGS,
        fences=_unique(fences),
        tables=_unique(tables),
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _harvest_text(
    text: str, sentences: list[str], bullets: list[str], headings: list[str], fences: list[str], tables: list[str]
) -> None:
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            body = [row for row in lines[i + 1 : end] if row.strip()][:6]
            if body and all(len(row) < 100 for row in body):
                fences.append("```\n" + "\n".join(body) + "\n```")
            i = end + 1
            continue
        if stripped.startswith("|"):
            end = i
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            rows = [row.strip() for row in lines[i:end]]
            if len(rows) >= 3 and set(rows[1]) <= set("|-: ") and all(len(row) < 100 for row in rows):
                tables.append("\n".join(rows[:6]))
            i = end
            continue
        i += 1
        if stripped.startswith("#"):
            title = clean_heading(stripped.lstrip("#"))
            if 3 <= len(title) <= 60 and "](" not in title:
                headings.append(title)
            continue
        words = stripped.split()
        if len(words) < 5 or "](" in stripped or stripped.startswith(("<", "!", ">")):
            continue
        if re.match(r"^([-*+•]|\d+[.)])\s", stripped):
            item = re.sub(r"^([-*+•]|\d+[.)])\s+", "", stripped)
            if len(item) < 200:
                bullets.append(item)
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", stripped):
            if 5 <= len(sentence.split()) <= 40:
                sentences.append(sentence)


@dataclass(frozen=True)
class Section:
    """One heading and its body: becomes one chunk."""

    file: str
    level: int
    heading: str
    body: str


class _Composer:
    def __init__(self, pool: TextPool, seed: int) -> None:
        self.pool = pool
        self.rng = random.Random(seed)

    def number(self, match: re.Match[str]) -> str:
        value = int(match.group(0)) if len(match.group(0)) < 7 else 1000
        return str(max(1, int(value * self.rng.choice((0.5, 1, 1, 2, 4))) + self.rng.randint(0, 9)))

    def vary(self, text: str) -> str:
        return _NUMBER.sub(self.number, text) if self.rng.random() < 0.4 else text

    def heading(self) -> str:
        base = self.rng.choice(self.pool.headings)
        roll = self.rng.random()
        if roll < 0.3:
            return f"{base}: {self.rng.choice(_QUALIFIERS)}"
        if roll < 0.45:
            return f"{base} ({self.rng.choice(_REGIONS)})"
        if roll < 0.6:
            return f"{base} part {self.rng.randint(1, 12)}"
        return base

    def body(self, context: str) -> str:
        """60-100 words that, with the heading path and section lead the chunker adds, fit one chunk."""
        target = self.rng.randint(*BODY_WORDS)
        blocks: list[str] = []
        words = used = 0
        budget = MAX_BODY_TOKENS
        if self.pool.fences and self.rng.random() < 0.06:
            # Code gets a section of its own, as in real notes ("### Example"); the chunker keeps
            # code and prose in separate chunks anyway.
            return self.rng.choice(self.pool.fences)
        while words < target:
            roll = self.rng.random()
            # Never a table first: the chunker takes the section's lead from its first text line.
            if roll < 0.05 and self.pool.tables and blocks:
                block = self.rng.choice(self.pool.tables)
            elif roll < 0.4:
                items = [self.vary(self.rng.choice(self.pool.bullets)) for _ in range(self.rng.randint(2, 5))]
                block = "\n".join(f"- {item}" for item in items)
            else:
                count = self.rng.randint(1, 4)
                block = " ".join(self.vary(self.rng.choice(self.pool.sentences)) for _ in range(count))
            # The chunker packs blocks by the sum of their own counts, so count them one by one.
            cost = approximate_token_count(block)
            if used + cost > budget:
                if blocks:
                    break
                continue
            if not blocks:
                # The chunker sizes every piece as if it carried the section's lead line.
                lead = lead_of(block.split("\n"))
                heading = f"{context} > {lead}" if lead else context
                budget = min(MAX_BODY_TOKENS, MAX_TOKENS - 4 - approximate_token_count(heading + "\n"))
                if cost > budget:
                    continue
            blocks.append(block)
            words += len(block.split())
            used += cost
        return "\n\n".join(blocks)


def synthetic_sections(pool: TextPool, count: int, seed: int = 0) -> Iterator[Section]:
    """`count` sections in files of SECTIONS_PER_FILE: a title, then ## sections with ### and #### children."""
    composer = _Composer(pool, seed)
    rng = composer.rng
    made = 0
    file_number = 0
    while made < count:
        file = f"notes-{file_number // 100:04d}/note-{file_number:06d}.md"
        file_number += 1
        level = 1
        in_file = 0
        stack: list[tuple[int, str]] = []
        while made < count and in_file < SECTIONS_PER_FILE:
            if in_file == 0:
                level = 1
            elif level == 1:
                level = 2
            else:
                roll = rng.random()
                level = min(level + 1, 4) if roll < 0.35 else (level if roll < 0.75 else max(2, level - 1))
            heading = composer.heading()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, clean_heading(heading)))
            yield Section(file, level, heading, composer.body(" > ".join(title for _, title in stack if title)))
            made += 1
            in_file += 1


@dataclass(frozen=True)
class SyntheticNote:
    """One generated Markdown file and the chunks the chunker makes of it (checked in tests)."""

    path: str
    text: str
    chunks: list[Chunk]


def synthetic_notes(pool: TextPool, count: int, seed: int = 0) -> Iterator[SyntheticNote]:
    """The sections of `synthetic_sections`, grouped into files, with their chunks."""
    current: str | None = None
    parts: list[str] = []
    chunks: list[Chunk] = []
    stack: list[tuple[int, str]] = []
    line = 1
    for section in synthetic_sections(pool, count, seed):
        if section.file != current:
            if current is not None:
                yield SyntheticNote(current, "\n\n".join(parts) + "\n", chunks)
            current, parts, chunks, stack, line = section.file, [], [], [], 1
        parts.append(f"{'#' * section.level} {section.heading}\n\n{section.body}")
        while stack and stack[-1][0] >= section.level:
            stack.pop()
        stack.append((section.level, clean_heading(section.heading)))
        end = line + 2 + section.body.count("\n")
        path = tuple(title for _, title in stack if title)
        chunks.append(Chunk(section.file, path, line, end, section.body))
        line = end + 2
    if current is not None:
        yield SyntheticNote(current, "\n\n".join(parts) + "\n", chunks)


def write_synthetic_corpus(directory: Path, count: int, pool: TextPool, seed: int = 0) -> tuple[int, int]:
    """Write `count` sections as Markdown files under directory; returns (files, bytes)."""
    files = size = 0
    for note in synthetic_notes(pool, count, seed):
        path = directory / note.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = note.text.encode("utf-8")
        path.write_bytes(data)
        files += 1
        size += len(data)
    return files, size


def synthetic_chunks(pool: TextPool, count: int, seed: int = 0) -> Iterator[Chunk]:
    """The chunks of `synthetic_notes`, in order."""
    for note in synthetic_notes(pool, count, seed):
        yield from note.chunks


def sample_texts(pool: TextPool, count: int, seed: int) -> list[str]:
    """Chunk-like texts that are not in the index (another seed): extra queries for recall checks."""
    return [section.body for section in synthetic_sections(pool, count, seed)]
