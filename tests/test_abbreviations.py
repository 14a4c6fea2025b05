"""Abbreviations the notes define: found by the Schwartz–Hearst rule, spelled out in what is indexed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.notes.abbreviations import Expander, find_abbreviations
from assistant.retrieve.search import Searcher
from assistant.store.build import build_index

from .conftest import FakeEmbedder


def test_definitions_are_found_with_their_long_forms() -> None:
    found = find_abbreviations(
        [
            "- Each Region has several Availability Zones (AZs), isolated data centres.",
            "## Identity and Access Management (IAM)\nUsers, groups and roles.",
            "Shield protects against Distributed Denial of Service (DDoS) attacks.",
            "Launch from an Amazon Machine Image (AMI) in EC2.",
            "- __Point-in-Time Recovery__ (PITR): restore to any second",  # taken as written
        ]
    )
    assert found == {
        "AZ": "Availability Zones",
        "IAM": "Identity and Access Management",
        "DDoS": "Distributed Denial of Service",
        "AMI": "Amazon Machine Image",
        "PITR": "Point-in-Time Recovery",
    }


def test_parentheses_that_define_nothing_are_ignored() -> None:
    found = find_abbreviations(
        [
            "Invoking Lambda From RDS (Postgres)",  # a name, not an abbreviation
            "Security (Policies)",
            "Storage classes (S3)",  # the letters do not spell it
            "Pricing (IA)",  # one word cannot spell two letters' worth
            "EC2 Fundamentals Elastic Compute Cloud (EC2)",  # the only fit holds the short form itself
            "see the diagram (ALB)\nApplication Load Balancer",  # the long form is on another line
        ]
    )
    assert found == {}


def test_the_most_frequent_definition_wins() -> None:
    found = find_abbreviations(
        [
            "Network Load Balancer (NLB) works at layer 4.",
            "A Network Load Balancer (NLB) has a static IP per zone.",
            "No Load Balancing (NLB) in this old note.",
        ]
    )
    assert found == {"NLB": "Network Load Balancer"}


def test_first_use_is_spelled_out_and_the_rest_left_alone() -> None:
    expand = Expander({"AZ": "Availability Zones", "IAM": "Identity and Access Management"})
    assert expand("Replicated across 3 AZ, each AZ isolated") == (
        "Replicated across 3 AZ (Availability Zones), each AZ isolated"
    )
    assert expand("spread over AZs") == "spread over AZs (Availability Zones)"
    # whole words, case as written: AZURE, az and maze are not the abbreviation
    assert expand("AZURE az maze") == "AZURE az maze"
    # already spelled out: nothing to add
    assert expand("Availability Zones (AZ) are data centres; pick an AZ") == (
        "Availability Zones (AZ) are data centres; pick an AZ"
    )
    assert Expander({})("any AZ text") == "any AZ text"


class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, keeping every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed_documents(texts)


def test_index_spells_out_lines_and_bm25_but_never_the_notes(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    regions = "# Availability Zones (AZs)\n\nIsolated data centres within a Region.\n"
    dynamo = "# DynamoDB\n\n## Durability\n\nReplicated across 3 AZ.\n\n## Items\n\nItem size up to 400 KB.\n"
    (notes / "regions.md").write_text(regions, encoding="utf-8")
    (notes / "dynamodb.md").write_text(dynamo, encoding="utf-8")
    embedder = RecordingEmbedder()
    build_index(notes, tmp_path / "index", embedder)

    assert any("Replicated across 3 AZ (Availability Zones)." in text for text in embedder.texts)  # a line vector
    passage = next(text for text in embedder.texts if text.startswith("DynamoDB > Durability"))
    assert "Availability" not in passage  # passage vectors embed the notes as written

    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    top = searcher.search("how many availability zones does dynamodb replicate to", mode="bm25").hits[0]
    assert (top.chunk.file, top.chunk.heading_path) == ("dynamodb.md", ("DynamoDB", "Durability"))
    assert top.chunk.text == "Replicated across 3 AZ."  # shown as written
    assert (notes / "regions.md").read_text(encoding="utf-8") == regions
    assert (notes / "dynamodb.md").read_text(encoding="utf-8") == dynamo


def test_a_definition_added_to_one_note_reaches_the_others_at_the_next_build(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "dynamodb.md").write_text("# DynamoDB\n\nReplicated across 3 AZ.\n", encoding="utf-8")
    (notes / "regions.md").write_text("# Regions\n\nIsolated data centres.\n", encoding="utf-8")
    build_index(notes, tmp_path / "index", FakeEmbedder())

    (notes / "regions.md").write_text("# Availability Zones (AZs)\n\nIsolated data centres.\n", encoding="utf-8")
    embedder = RecordingEmbedder()
    report = build_index(notes, tmp_path / "index", embedder)
    assert report.changed_files == ["regions.md"]
    assert "DynamoDB\nReplicated across 3 AZ (Availability Zones)." in embedder.texts  # the unchanged note's line
    searcher = Searcher.load(tmp_path / "index", encoder=FakeEmbedder())
    top = searcher.search("availability zones replication", mode="bm25").hits[0]
    assert top.chunk.file == "dynamodb.md"
