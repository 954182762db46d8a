"""The one label vocabulary of StanceBank.

Every label, attribute value, relation type and mapping is declared here and nowhere else; the Pandera
schemas, the Label Studio config and the Hugging Face ``ClassLabel``s are all generated from it.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class SpanLabel(StrEnum):
    """What a span marks."""

    SOURCE = "SOURCE"
    CUE = "CUE"
    CLAIM = "CLAIM"


class Identified(StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonymous"


class SourceType(StrEnum):
    GOVERNMENT = "government"
    MILITARY = "military"
    DIPLOMATIC = "diplomatic"
    INDUSTRY = "industry"
    EXPERT = "expert"
    MEDIA = "media"
    OTHER = "other"


class Reliability(StrEnum):
    """Ordinal, most reliable first; ``unknown`` is not on the scale."""

    HIGH = "high"
    MIXED = "mixed"
    LOW = "low"
    UNKNOWN = "unknown"


class CueType(StrEnum):
    ATTRIBUTION = "attribution"
    HEDGE = "hedge"
    NEGATION = "negation"


class Stance(StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"
    NEUTRAL = "neutral"


class DocumentStance(StrEnum):
    """Stance of a whole article toward a target (document-level corpora such as FNC-1).

    Stored as two annotation fields: ``related`` (bool) and ``doc_stance`` (a :class:`Stance`, set only
    when related); ``unrelated`` is ``related: false``. :func:`document_stance` combines them.
    """

    SUPPORT = "support"
    OPPOSE = "oppose"
    NEUTRAL = "neutral"
    UNRELATED = "unrelated"


class Related(StrEnum):
    """Is the article about the target at all (the ``related`` choice of a document-level task)?"""

    YES = "yes"
    NO = "no"


class Certainty(StrEnum):
    """Ordinal, most certain first; ``underspecified`` is FactBank's Uu."""

    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    UNDERSPECIFIED = "underspecified"


class Polarity(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class RelationType(StrEnum):
    SOURCE_OF = "source_of"
    CUE_OF = "cue_of"


class FactBank(StrEnum):
    """FactBank factuality values (Saurí & Pustejovsky 2009)."""

    CT_POS = "CT+"
    PR_POS = "PR+"
    PS_POS = "PS+"
    CT_NEG = "CT-"
    PR_NEG = "PR-"
    PS_NEG = "PS-"
    UU = "Uu"


#: Span attributes by label: attribute name -> its value set. Each is required on its label and
#: forbidden on every other label.
SPAN_ATTRIBUTES: Final = MappingProxyType(
    {
        SpanLabel.SOURCE: MappingProxyType(
            {"identified": Identified, "source_type": SourceType, "reliability": Reliability}
        ),
        SpanLabel.CUE: MappingProxyType({"cue_type": CueType}),
        SpanLabel.CLAIM: MappingProxyType({"stance": Stance, "certainty": Certainty, "polarity": Polarity}),
    }
)

#: Every attribute name -> its value set (attribute names are unique across labels).
ATTRIBUTE_VALUES: Final = MappingProxyType(
    {name: values for attrs in SPAN_ATTRIBUTES.values() for name, values in attrs.items()}
)

#: The label that owns each attribute.
ATTRIBUTE_LABEL: Final = MappingProxyType(
    {name: label for label, attrs in SPAN_ATTRIBUTES.items() for name in attrs}
)

#: Document-level choices of a task (one per annotation, over the whole text): control name -> values.
#: ``related`` is stored as a bool (``yes`` is true); ``doc_stance`` only with ``related: yes``.
DOCUMENT_CHOICES: Final = MappingProxyType({"related": Related, "doc_stance": Stance})

#: Relation type -> (label of the head span, label of the tail span).
RELATION_ENDPOINTS: Final = MappingProxyType(
    {
        RelationType.SOURCE_OF: (SpanLabel.SOURCE, SpanLabel.CLAIM),
        RelationType.CUE_OF: (SpanLabel.CUE, SpanLabel.CLAIM),
    }
)

#: Attributes whose values are ordered (for ordinal agreement); values listed high to low.
ORDINAL_ATTRIBUTES: Final = MappingProxyType(
    {
        "certainty": (Certainty.CERTAIN, Certainty.PROBABLE, Certainty.POSSIBLE),
        "reliability": (Reliability.HIGH, Reliability.MIXED, Reliability.LOW),
    }
)

#: Article-level reliability of the outlet uses the same scale as sources.
OUTLET_RELIABILITY: Final = Reliability

_FACTBANK: Final = MappingProxyType(
    {
        (Certainty.CERTAIN, Polarity.POSITIVE): FactBank.CT_POS,
        (Certainty.PROBABLE, Polarity.POSITIVE): FactBank.PR_POS,
        (Certainty.POSSIBLE, Polarity.POSITIVE): FactBank.PS_POS,
        (Certainty.CERTAIN, Polarity.NEGATIVE): FactBank.CT_NEG,
        (Certainty.PROBABLE, Polarity.NEGATIVE): FactBank.PR_NEG,
        (Certainty.POSSIBLE, Polarity.NEGATIVE): FactBank.PS_NEG,
        (Certainty.UNDERSPECIFIED, Polarity.POSITIVE): FactBank.UU,
        (Certainty.UNDERSPECIFIED, Polarity.NEGATIVE): FactBank.UU,
    }
)

#: FactBank code -> score on the unified -3..+3 factuality scale (Stanovsky et al. 2017).
FACTUALITY_SCORE: Final = MappingProxyType(
    {
        FactBank.CT_POS: 3.0,
        FactBank.PR_POS: 2.0,
        FactBank.PS_POS: 1.0,
        FactBank.UU: 0.0,
        FactBank.PS_NEG: -1.0,
        FactBank.PR_NEG: -2.0,
        FactBank.CT_NEG: -3.0,
    }
)


def factbank_code(certainty: str, polarity: str) -> FactBank:
    """Map a CLAIM's certainty and polarity onto its FactBank value (``Uu`` ignores polarity)."""
    try:
        return _FACTBANK[(Certainty(certainty), Polarity(polarity))]
    except ValueError as exc:
        raise ValueError(
            f"certainty must be one of {[c.value for c in Certainty]} and polarity one of "
            f"{[p.value for p in Polarity]}. Got {certainty!r}, {polarity!r} instead."
        ) from exc


def factuality_score(certainty: str, polarity: str) -> float:
    """Map a CLAIM's certainty and polarity onto the unified -3..+3 scale."""
    return FACTUALITY_SCORE[factbank_code(certainty, polarity)]


def document_stance(related: bool | None, doc_stance: str | None) -> DocumentStance | None:
    """The one document-level label of an annotation; None when it carries no document-level stance."""
    if related is None:
        return None
    if not related:
        return DocumentStance.UNRELATED
    return None if doc_stance is None else DocumentStance(doc_stance)


def values(enum: type[StrEnum]) -> list[str]:
    """The plain string values of a vocabulary enum, in declaration order."""
    return [member.value for member in enum]


#: Guideline version of annotations imported from an external corpus (not made under our guidelines).
EXTERNAL_GUIDELINE_VERSION: Final = "0.0"

#: Reserved annotator name of adjudicated annotations (``stancebank adjudicate``).
GOLD_ANNOTATOR: Final = "gold"
