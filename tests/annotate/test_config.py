"""The labelling config is generated from the vocabulary: every value appears, nothing else does."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from annotate.config import SPANS_NAME, config_hash, config_values, label_config, removed_values
from schemas import vocabulary as V


def test_config_offers_exactly_the_vocabulary() -> None:
    expected = {SPANS_NAME: set(V.values(V.SpanLabel)), "relations": set(V.values(V.RelationType))}
    expected |= {name: set(V.values(values)) for name, values in V.ATTRIBUTE_VALUES.items()}
    assert config_values(label_config()) == expected


def test_text_is_shown_as_text_never_html() -> None:
    root = ET.fromstring(label_config())
    assert not list(root.iter("HyperText"))
    assert {t.get("name") for t in root.iter("Text")} == {"text", "target"}


def test_attribute_choices_show_only_for_their_label() -> None:
    root = ET.fromstring(label_config())
    for panel in root.iter("View"):
        label = panel.get("whenLabelValue")
        if label is None:
            continue
        assert panel.get("visibleWhen") == "region-selected"
        names = {c.get("name") for c in panel.iter("Choices")}
        assert names == set(V.SPAN_ATTRIBUTES[V.SpanLabel(label)])
        assert all(c.get("perRegion") == "true" for c in panel.iter("Choices"))


def test_config_is_deterministic_and_hashed() -> None:
    assert label_config() == label_config()
    assert len(config_hash(label_config())) == 64


def test_removed_values_finds_orphans() -> None:
    old = label_config().replace('<Choice value="other" />', '<Choice value="other" /><Choice value="x" />')
    assert removed_values(old, label_config()) == {"source_type": {"x"}}
    assert removed_values(label_config(), label_config()) == {}
