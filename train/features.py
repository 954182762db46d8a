"""Typed ``datasets.Features`` of the dataset configs; label columns are a ClassLabel from the vocabulary.

``datasets`` is imported by the functions that build the features, not with this module: an export
starts its work without it (its import takes ≈ 0.4 s) and loads it while the validation runs
(:data:`DATASETS_MODULES`)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from schemas import vocabulary as V
from stancebank.project import POLICIES

if TYPE_CHECKING:
    from datasets import ClassLabel, Features

#: The modules of ``datasets`` that building features, writing parquet and the card import.
DATASETS_MODULES = ("datasets", "datasets.arrow_writer", "datasets.info", "datasets.utils.metadata")


def label(enum: type[StrEnum]) -> ClassLabel:
    from datasets import ClassLabel

    return ClassLabel(names=V.values(enum))


def _article_fields() -> dict[str, object]:
    from datasets import ClassLabel, Value

    return {
        "article_id": Value("string"),
        "target_id": Value("string"),
        "target": Value("string"),
        "title": Value("string"),
        "outlet": Value("string"),
        "url": Value("string"),
        "published": Value("string"),
        "language": Value("string"),
        "outlet_reliability": label(V.Reliability),
        "synthetic": Value("bool"),
        "annotation_id": Value("string"),
        "annotator": Value("string"),
        "chosen_by": ClassLabel(names=list(POLICIES)),  # the export policy's rule that chose the annotation
    }


def votes(enum: type[StrEnum]) -> dict[str, object]:
    """``<name>_votes``: every annotator's value; ``<name>_distribution``: each label's share of them."""
    from datasets import List, Value

    return {
        "votes": List({"annotator": Value("string"), "value": label(enum)}),
        "distribution": List(Value("float32")),
    }


def _voted(attributes: dict[str, type[StrEnum]]) -> dict[str, object]:
    return {f"{name}_{kind}": f for name, enum in attributes.items() for kind, f in votes(enum).items()}


def span_features() -> dict[str, object]:
    from datasets import Value

    return {
        "span_id": Value("string"),
        "label": label(V.SpanLabel),
        "start": Value("int32"),
        "end": Value("int32"),
        "text": Value("string"),
        **{name: label(values) for name, values in V.ATTRIBUTE_VALUES.items()},
        "original_label": Value("string"),
        "original_score": Value("float32"),
    }


def articles_features() -> Features:
    from datasets import Features, List, Value

    return Features(
        {
            **_article_fields(),
            "text": Value("string"),
            "licence": Value("string"),
            "spans": List(span_features()),
            "relations": List(
                {"type": label(V.RelationType), "from_id": Value("string"), "to_id": Value("string")}
            ),
        }
    )


def claims_features() -> Features:
    from datasets import Features, List, Value

    return Features(
        {
            **_article_fields(),
            "claim_id": Value("string"),
            "text": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "context": Value("string"),
            "context_start": Value("int32"),
            "stance": label(V.Stance),
            "certainty": label(V.Certainty),
            "polarity": label(V.Polarity),
            "factbank": label(V.FactBank),
            "factuality": Value("float32"),
            "source_text": Value("string"),
            "source_identified": label(V.Identified),
            "source_type": label(V.SourceType),
            "source_reliability": label(V.Reliability),
            "cue_texts": List(Value("string")),
            "cue_types": List(label(V.CueType)),
            "original_label": Value("string"),
            "original_score": Value("float32"),
            "score_min": Value("float32"),
            "score_max": Value("float32"),
            "score_scale": Value("string"),
            "token_info": Value("string"),
            "group": Value("string"),
            **_voted({"stance": V.Stance, "certainty": V.Certainty, "polarity": V.Polarity}),
        }
    )


def pairs_features() -> Features:
    """One row per (article, target) task with a document-level label (FNC-1 style corpora)."""
    from datasets import Features, Value

    return Features(
        {
            **_article_fields(),
            "text": Value("string"),
            "related": Value("bool"),
            "doc_stance": label(V.Stance),
            "doc_label": label(V.DocumentStance),
            "original_label": Value("string"),
            "group": Value("string"),
        }
    )


def sources_features() -> Features:
    from datasets import Features, List, Value

    return Features(
        {
            **_article_fields(),
            "source_id": Value("string"),
            "text": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "context": Value("string"),
            "identified": label(V.Identified),
            "source_type": label(V.SourceType),
            "reliability": label(V.Reliability),
            "claim_ids": List(Value("string")),
            "claim_texts": List(Value("string")),
            "claim_stances": List(label(V.Stance)),
            "claim_certainties": List(label(V.Certainty)),
            **_voted({"identified": V.Identified, "source_type": V.SourceType, "reliability": V.Reliability}),
        }
    )


def annotations_features() -> Features:
    """One row per annotation (every annotator, gold included): nothing is dropped."""
    from datasets import Features, List, Value

    return Features(
        {
            **_article_fields(),
            "created_at": Value("string"),
            "updated_at": Value("string"),
            "guideline_version": Value("string"),
            "used": Value("bool"),
            "spans": List(span_features()),
            "relations": List(
                {"type": label(V.RelationType), "from_id": Value("string"), "to_id": Value("string")}
            ),
        }
    )


FEATURES = {
    "articles": articles_features,
    "claims": claims_features,
    "sources": sources_features,
    "pairs": pairs_features,
    "annotations": annotations_features,
}
#: Configs written only when they have rows (our own corpus has no document-level labels).
OPTIONAL_CONFIGS = ("pairs",)
