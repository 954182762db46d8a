"""Adjudication: majority, ties to the adjudicator, unresolved items, every vote kept, gold validates."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from annotate.adjudicate import adjudicate
from annotate.quality import base_files, write_outcome
from stancebank.corpus import read_corpus
from stancebank.validate import validate_corpus
from tests.annotate.test_agreement import tables_of, two_annotators
from tests.shipped import DATA, copy_shipped, shipped_files
from train.rows import chosen_annotations


def three_annotators(stances: tuple[str, str, str]) -> dict[str, Any]:
    records = two_annotators()
    third = copy.deepcopy(records["annotations"][0])
    third.update(annotation_id="a1:t1:chen", annotator="chen")
    records["annotations"].append(third)
    for annotation, stance in zip(records["annotations"], stances, strict=True):
        annotation["spans"][3]["stance"] = stance
    return records


def test_agreement_gives_gold_unanimously(tmp_path: Path) -> None:
    outcome = adjudicate(tables_of(tmp_path, two_annotators()))
    (gold,) = outcome.gold
    original = two_annotators()["annotations"][0]

    def shape(spans: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((s["label"], s["start"], s["end"], s.get("stance"), s.get("cue_type")) for s in spans)

    assert shape(gold["spans"]) == shape(original["spans"])
    assert len(gold["relations"]) == len(original["relations"])
    assert {v["rule"] for v in outcome.votes} == {"unanimous"}
    assert outcome.unresolved == []


def test_majority_of_three(tmp_path: Path) -> None:
    outcome = adjudicate(tables_of(tmp_path, three_annotators(("support", "oppose", "support"))))
    stance = next(v for v in outcome.votes if v["item"] == "stance")
    assert (stance["value"], stance["rule"]) == ("support", "majority")
    assert stance["votes"] == {"amira": "support", "bruno": "oppose", "chen": "support"}
    claim = next(s for s in outcome.gold[0]["spans"] if s["label"] == "CLAIM")
    assert claim["stance"] == "support"


def _tie(b: dict[str, Any]) -> None:
    b["spans"][3]["stance"] = "oppose"


def test_tie_without_adjudicator_is_unresolved(tmp_path: Path) -> None:
    outcome = adjudicate(tables_of(tmp_path, two_annotators(_tie)))
    assert outcome.gold == []
    (item,) = outcome.unresolved
    assert item["item"] == "stance" and item["votes"] == {"amira": "support", "bruno": "oppose"}


def test_tie_goes_to_the_adjudicator(tmp_path: Path) -> None:
    outcome = adjudicate(tables_of(tmp_path, two_annotators(_tie)), adjudicator="bruno")
    stance = next(v for v in outcome.votes if v["item"] == "stance")
    assert (stance["value"], stance["decided_by"], stance["rule"]) == ("oppose", "bruno", "adjudicator")
    claim = next(s for s in outcome.gold[0]["spans"] if s["label"] == "CLAIM")
    assert claim["stance"] == "oppose"


def test_span_only_one_annotator_marked_is_a_presence_vote(tmp_path: Path) -> None:
    def drop_cue(b: dict[str, Any]) -> None:
        b["spans"] = [s for s in b["spans"] if s["id"] != "q2"]
        b["relations"] = [r for r in b["relations"] if r["from_id"] != "q2"]

    outcome = adjudicate(tables_of(tmp_path, two_annotators(drop_cue)), adjudicator="bruno")
    presence = [v for v in outcome.votes if v["item"] == "presence" and v["rule"] == "adjudicator"]
    assert len(presence) == 1 and presence[0]["value"] is False
    assert "may" not in [s["text"] for s in outcome.gold[0]["spans"]]


def test_gold_validates_and_export_prefers_it(tmp_path: Path) -> None:
    data = copy_shipped(tmp_path / "data")
    tables = read_corpus(base_files(data)).tables
    outcome = adjudicate(tables, adjudicator="amira")
    paths = write_outcome(outcome, data)
    corpus = read_corpus([data])
    assert validate_corpus(corpus) == []
    chosen = chosen_annotations(corpus["annotations"])
    assert (chosen["annotator"] == "gold").sum() == len(outcome.gold) > 0
    votes = [json.loads(line) for line in paths["votes"].read_text().splitlines()]
    assert all({"votes", "decided_by", "rule", "value"} <= set(v) for v in votes)


def test_committed_gold_is_up_to_date(tmp_path: Path) -> None:
    """data/annotations/gold.jsonl and data/gold/ are what `make demo` makes (adjudicator amira)."""
    check_committed_gold(DATA, tmp_path)


def check_committed_gold(data: Path, scratch: Path) -> None:
    """Adjudicating the shipped annotations of ``data`` (by name) gives its committed gold files."""
    outcome = adjudicate(read_corpus(shipped_files(data, gold=False)).tables, adjudicator="amira")
    out = copy_shipped(scratch / "data", data)
    write_outcome(outcome, out)
    for rel in ("annotations/gold.jsonl", "gold/votes.jsonl", "gold/unresolved.jsonl"):
        assert (out / rel).read_bytes() == (data / rel).read_bytes(), rel


def test_gold_records_the_guideline_version_it_was_made_under(tmp_path: Path) -> None:
    records = two_annotators()
    records["annotations"][1]["guideline_version"] = "1.10"  # newer than 1.9 (numbers, not strings)
    records["annotations"][0]["guideline_version"] = "1.9"
    (gold,) = adjudicate(tables_of(tmp_path / "a", records)).gold
    assert gold["guideline_version"] == "1.10"  # no project given: the newest its annotators used
    (gold,) = adjudicate(tables_of(tmp_path / "b", records), guideline_version="2.0").gold
    assert gold["guideline_version"] == "2.0"  # the project's, as `stancebank adjudicate` passes it
