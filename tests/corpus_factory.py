"""A small valid corpus as plain records, written to disk for tests to break one rule at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from stancebank.corpus import read_corpus
from stancebank.failures import Failure
from stancebank.validate import validate_corpus

# Emoji (astral plane), CRLF, accents and CJK before the spans, so code-point offsets matter.
TEXT = "😀😀 Café news.\r\nThe minister said 東京 may host the talks."
#       0123456789...


def _span(span_id: str, label: str, text: str, **attrs: str) -> dict[str, Any]:
    start = TEXT.index(text)
    return {"id": span_id, "label": label, "start": start, "end": start + len(text), "text": text, **attrs}


def base_records() -> dict[str, list[dict[str, Any]]]:
    """articles / targets / annotations records of one valid task with every span label and relation."""
    article = {
        "article_id": "a1",
        "title": "Talks may move to Tokyo",
        "text": TEXT,
        "outlet": "Test Wire",
        "url": "https://example.org/a1",
        "published": "2025-03-01",
        "language": "en",
        "outlet_reliability": "high",
        "synthetic": True,
        "licence": "CC-BY-4.0",
        "provenance": "tests",
        "metadata": {},
    }
    second = {**article, "article_id": "a2", "text": "Plain text here.", "url": None, "published": None}
    targets = [
        {"target_id": "a1:t1", "article_id": "a1", "text": "Tokyo will host the talks."},
        {"target_id": "a2:t1", "article_id": "a2", "text": "Something."},
    ]
    annotation = {
        "annotation_id": "a1:t1:amira",
        "article_id": "a1",
        "target_id": "a1:t1",
        "annotator": "amira",
        "created_at": "2025-03-02T10:00:00Z",
        "updated_at": "2025-03-02T10:05:00Z",
        "guideline_version": "1.0",
        "config_hash": None,
        "ls_task_id": 7,
        "ls_annotation_id": 11,
        "spans": [
            _span(
                "s1",
                "SOURCE",
                "The minister",
                identified="named",
                source_type="government",
                reliability="high",
            ),
            _span("q1", "CUE", "said", cue_type="attribution"),
            _span("q2", "CUE", "may", cue_type="hedge"),
            _span(
                "c1",
                "CLAIM",
                "東京 may host the talks",
                stance="support",
                certainty="possible",
                polarity="positive",
            ),
        ],
        "relations": [
            {"type": "source_of", "from_id": "s1", "to_id": "c1"},
            {"type": "cue_of", "from_id": "q1", "to_id": "c1"},
            {"type": "cue_of", "from_id": "q2", "to_id": "c1"},
        ],
    }
    return {"articles": [article, second], "targets": targets, "annotations": [annotation]}


def write_records(root: Path, records: dict[str, list[dict[str, Any]]]) -> Path:
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    paths = {
        "articles": root / "articles.jsonl",
        "targets": root / "targets.jsonl",
        "annotations": root / "annotations" / "amira.jsonl",
    }
    for table, path in paths.items():
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[table]), encoding="utf-8"
        )
    return root


def failures_of(root: Path, records: dict[str, list[dict[str, Any]]]) -> list[Failure]:
    write_records(root, records)
    return validate_corpus(read_corpus([root]))


def mutated(change: Any) -> dict[str, list[dict[str, Any]]]:
    records = copy.deepcopy(base_records())
    change(records)
    return records
