"""Sentence-level certainty data in the shape of Pei & Jurgens (2021): one finding per JSON line.

Fields: ``id``, ``finding`` (the sentence), optionally ``sentence-level-certainty`` (a mean rating from
1, uncertain, to 6, certain), ``split`` and ``aspect-level-certainty`` (aspect → Certain / Uncertain /
NotPresent). Each finding becomes an article and a target holding the same sentence, and one annotation
with a CLAIM over the whole sentence. The score is kept as the span's ``metadata.score`` and mapped onto
our certainty scale by :func:`certainty_of_score`; stance and polarity were never annotated and are
declared so (``unannotated``); aspect labels stay in the annotation's metadata.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from schemas import vocabulary as V
from stancebank.importers.base import (
    ImportWriter,
    annotation_record,
    article_record,
    file_timestamp,
    safe_id,
    whole_text_span,
)

CORPUS = "pei-jurgens-2021"
ANNOTATOR = "pei-jurgens-2021"
LICENCE = "MIT (Pei & Jurgens 2021, Certainty-in-Science-Communication repository)"
SCORE_FIELD = "sentence-level-certainty"
ASPECT_FIELD = "aspect-level-certainty"
ASPECT_VALUES = ("Certain", "Uncertain", "NotPresent")
#: Lowest score of each grade on the 1–6 scale, most certain first (see certainty_of_score).
THRESHOLDS = ((5.0, V.Certainty.CERTAIN), (3.5, V.Certainty.PROBABLE), (1.0, V.Certainty.POSSIBLE))
#: The rating form's range (1 uncertain … 6 certain) and the name of its grade mapping, kept with each
#: score so that training reads the scale from the data (train.scales).
SCALE = {"scale_min": 1.0, "scale_max": 6.0, "scale": "certainty-grade"}


def certainty_of_score(score: float) -> V.Certainty:
    """Pei & Jurgens' 1–6 rating on our scale: ≥ 5 certain, ≥ 3.5 probable, below that possible.

    5 and above (the certain end of their form) is a finding stated as known; 3.5 is the midpoint,
    so ratings above it lean certain without being stated as known (probable), ratings below it lean
    uncertain (possible). ``underspecified`` is never produced: every rated finding has a grade.
    """
    for lowest, grade in THRESHOLDS:
        if score >= lowest:
            return grade
    raise ValueError(f"a certainty score must be between 1 and 6. Got {score!r} instead.")


def import_certainty(writer: ImportWriter, paths: list[Path]) -> None:
    for path in paths:
        timestamp = file_timestamp(path)
        prefix = safe_id(path.stem)
        seen: set[str] = set()
        for line, record in writer.jsonl_records(path):
            problem = _problem(record, seen)
            if problem:
                original = record.get("id") if isinstance(record, dict) else None
                writer.reject(path, line, problem, original)
                continue
            seen.add(str(record["id"]))
            _finding(writer, path, line, prefix, timestamp, record)


def _problem(record: Any, seen: set[str]) -> str | None:
    """Why a line cannot be imported (the first reason), or None."""
    return next(_problems(record, seen), None)


def _problems(record: Any, seen: set[str]) -> Iterator[str]:
    if not isinstance(record, dict):
        yield f"expected a JSON object, got {type(record).__name__}"
        return
    if not isinstance(record.get("id"), int | str) or isinstance(record.get("id"), bool):
        yield "missing or non-scalar 'id'"
    elif str(record["id"]) in seen:
        yield f"duplicate id {record['id']!r}"
    finding = record.get("finding")
    if not isinstance(finding, str) or not finding.strip():
        yield "missing or empty 'finding'"
    score = record.get(SCORE_FIELD)
    if score is not None and not _valid_score(score):
        yield f"{SCORE_FIELD} must be a number from 1 to 6, got {score!r}"
    aspects = record.get(ASPECT_FIELD)
    if aspects is not None and (
        not isinstance(aspects, dict) or any(v not in ASPECT_VALUES for v in aspects.values())
    ):
        yield f"{ASPECT_FIELD} must map aspects to one of {list(ASPECT_VALUES)}"
    if score is None and aspects is None:
        yield f"neither {SCORE_FIELD!r} nor {ASPECT_FIELD!r}: nothing to import"
    split = record.get("split")
    if split is not None and (not isinstance(split, str) or not split.isidentifier()):
        yield f"split must be a name like 'train', got {split!r}"


def _valid_score(score: object) -> bool:
    return (
        isinstance(score, int | float)
        and not isinstance(score, bool)
        and math.isfinite(score)
        and 1 <= score <= 6
    )


def _finding(
    writer: ImportWriter, path: Path, line: int, prefix: str, timestamp: str, record: dict[str, Any]
) -> None:
    original_id = record["id"]
    finding: str = record["finding"]
    article_id = safe_id(prefix, original_id)
    metadata: dict[str, Any] = {"corpus": CORPUS, "id": original_id, "file": path.name, "line": line}
    if record.get("split") is not None:
        metadata["split"] = record["split"]
    writer.article(
        article_record(
            article_id,
            finding,
            title=f"Pei & Jurgens finding {original_id}",
            licence=LICENCE,
            provenance=f"{path.name}, id {original_id}",
            metadata=metadata,
        )
    )
    writer.target({"target_id": article_id, "article_id": article_id, "text": finding.strip()})
    start, end = whole_text_span(finding) or (0, len(finding))
    score = record.get(SCORE_FIELD)
    span: dict[str, Any] = {
        "id": "finding",
        "label": V.SpanLabel.CLAIM.value,
        "start": start,
        "end": end,
        "text": finding[start:end],
        "certainty": None if score is None else certainty_of_score(float(score)).value,
        "metadata": None if score is None else {"score": float(score), **SCALE},
    }
    unannotated = ["stance", "polarity"] + ([] if score is not None else ["certainty"])
    annotation_meta: dict[str, Any] = {"corpus": CORPUS, "id": original_id, "file": path.name, "line": line}
    if record.get(ASPECT_FIELD) is not None:
        annotation_meta["aspects"] = record[ASPECT_FIELD]
    writer.annotation(
        annotation_record(
            f"{article_id}-{ANNOTATOR}",
            article_id,
            article_id,
            annotator=ANNOTATOR,
            timestamp=timestamp,
            spans=[span],
            unannotated=unannotated,
            metadata=annotation_meta,
        )
    )
