"""The Label Studio labelling config, generated from the one vocabulary (and read back for checks)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from types import MappingProxyType
from typing import Final

from schemas import vocabulary as V

TEXT_NAME: Final = "text"
SPANS_NAME: Final = "spans"
TARGET_FIELD: Final = "target"

_COLOURS: Final = MappingProxyType(
    {V.SpanLabel.SOURCE: "#1f77b4", V.SpanLabel.CUE: "#ff7f0e", V.SpanLabel.CLAIM: "#2ca02c"}
)
#: Short hints from the guideline, shown as tooltips.
HINTS: Final = MappingProxyType(
    {
        V.SpanLabel.SOURCE: "Who the content comes from: the whole noun phrase "
        "(a diplomatic source in Ankara).",
        V.SpanLabel.CUE: "Words that attribute or grade: said, according to, are expected to, not, "
        "too early.",
        V.SpanLabel.CLAIM: "The content attributed or asserted, without the attribution around it.",
        V.RelationType.SOURCE_OF: "SOURCE → CLAIM",
        V.RelationType.CUE_OF: "CUE → CLAIM",
        "identified": "named if the text names the person or organisation, else anonymous",
        "source_type": "what kind of source",
        "reliability": "how far this source can be trusted on this claim",
        "cue_type": "attribution (said), hedge (may, expected), negation (not, no, too early)",
        "stance": "toward the target shown above the text",
        "certainty": "as the text presents it; underspecified when the text leaves it open",
        "polarity": "negative when the claim is negated",
        "related": "is the text about the target at all?",
        "doc_stance": "the whole text's stance toward the target",
    }
)


def label_config(*, review: bool = False, document: bool = False) -> str:
    """The XML config: target above the text, span labels, relations, per-region attribute choices.

    ``review=True`` adds the disputed item (``$dispute``) above the target, for adjudication projects.
    ``document=True`` adds the document-level choices (``related``, ``doc_stance`` over the whole text)
    under the target; without it the config is byte for byte the span-only one (same hash).
    """
    view = ET.Element("View")
    if review:
        ET.SubElement(view, "Header", value="Disputed:", size="5")
        ET.SubElement(view, "Text", name="dispute", value="$dispute")
    header = ET.SubElement(view, "View", style="padding: 0 0 8px 0")
    ET.SubElement(header, "Header", value="Target:", size="5")
    ET.SubElement(header, "Text", name=TARGET_FIELD, value=f"${TARGET_FIELD}")
    if document:
        _document_choices(header)
    ET.SubElement(view, "Text", name=TEXT_NAME, value=f"${TEXT_NAME}", granularity="symbol")
    labels = ET.SubElement(view, "Labels", name=SPANS_NAME, toName=TEXT_NAME)
    for label in V.SpanLabel:
        ET.SubElement(labels, "Label", value=label.value, background=_COLOURS[label], hint=HINTS[label])
    relations = ET.SubElement(view, "Relations")
    for relation in V.RelationType:
        ET.SubElement(relations, "Relation", value=relation.value, hint=HINTS[relation])
    for label, attributes in V.SPAN_ATTRIBUTES.items():
        panel = ET.SubElement(view, "View", visibleWhen="region-selected", whenLabelValue=label.value)
        for name, values in attributes.items():
            ET.SubElement(panel, "Header", value=f"{name} — {HINTS[name]}", size="6")
            choices = ET.SubElement(
                panel,
                "Choices",
                name=name,
                toName=TEXT_NAME,
                perRegion="true",
                choice="single-radio",
                showInline="true",
            )
            for value in V.values(values):
                ET.SubElement(choices, "Choice", value=value)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _document_choices(parent: ET.Element) -> None:
    """``related`` (yes/no) about the whole text, then ``doc_stance``, shown only once ``related`` is
    yes: Label Studio drops a hidden control's choice on submit, so switching to no clears the stance."""
    related, stance = "related", "doc_stance"
    _single_choice(parent, related)
    panel = ET.SubElement(
        parent,
        "View",
        visibleWhen="choice-selected",
        whenTagName=related,
        whenChoiceValue=V.Related.YES.value,
    )
    _single_choice(panel, stance)


def _single_choice(parent: ET.Element, name: str) -> None:
    ET.SubElement(parent, "Header", value=f"{name} — {HINTS[name]}", size="6")
    choices = ET.SubElement(
        parent, "Choices", name=name, toName=TEXT_NAME, choice="single-radio", showInline="true"
    )
    for value in V.values(V.DOCUMENT_CHOICES[name]):
        ET.SubElement(choices, "Choice", value=value)


def has_document_choices(config: str) -> bool:
    """Whether a config offers the document-level choices."""
    return set(V.DOCUMENT_CHOICES) <= set(config_values(config))


def accepted_configs() -> dict[str, str]:
    """Hash -> config of every config this version generates for annotation projects."""
    configs = (label_config(), label_config(document=True))
    return {config_hash(config): config for config in configs}


def config_hash(config: str) -> str:
    """SHA-256 of a config, stored with every annotation made under it."""
    return hashlib.sha256(config.encode("utf-8")).hexdigest()


def config_values(config: str) -> dict[str, set[str]]:
    """Control name -> the values it offers (labels, choices, relation types under ``Relations``)."""
    root = ET.fromstring(config)
    values: dict[str, set[str]] = {}
    for control in root.iter():
        if control.tag in ("Labels", "Choices"):
            child = "Label" if control.tag == "Labels" else "Choice"
            values[control.get("name", "")] = {c.get("value", "") for c in control.iter(child)}
        elif control.tag == "Relations":
            values["relations"] = {c.get("value", "") for c in control.iter("Relation")}
    return values


def removed_values(old: str, new: str) -> dict[str, set[str]]:
    """Values offered by ``old`` that ``new`` no longer offers: labels it would orphan."""
    before, after = config_values(old), config_values(new)
    return {
        name: missing for name, offered in before.items() if (missing := offered - after.get(name, set()))
    }
