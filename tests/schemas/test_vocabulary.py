"""The one vocabulary: mappings are complete, and no other module spells a label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas import vocabulary as V

ROOT = Path(__file__).resolve().parents[2]


def test_attribute_names_are_unique_across_labels() -> None:
    names = [name for attrs in V.SPAN_ATTRIBUTES.values() for name in attrs]
    assert len(names) == len(set(names)) == len(V.ATTRIBUTE_VALUES)


def test_attribute_values_do_not_overlap_within_a_label() -> None:
    for attrs in V.SPAN_ATTRIBUTES.values():
        values = [v for enum in attrs.values() for v in V.values(enum)]
        assert len(values) == len(set(values))


@pytest.mark.parametrize(
    ("certainty", "polarity", "code", "score"),
    [
        ("certain", "positive", "CT+", 3.0),
        ("probable", "positive", "PR+", 2.0),
        ("possible", "positive", "PS+", 1.0),
        ("underspecified", "positive", "Uu", 0.0),
        ("underspecified", "negative", "Uu", 0.0),
        ("possible", "negative", "PS-", -1.0),
        ("probable", "negative", "PR-", -2.0),
        ("certain", "negative", "CT-", -3.0),
    ],
)
def test_factbank_mapping(certainty: str, polarity: str, code: str, score: float) -> None:
    assert V.factbank_code(certainty, polarity) == code
    assert V.factuality_score(certainty, polarity) == score


def test_factbank_mapping_refuses_unknown_values() -> None:
    with pytest.raises(ValueError, match="certainty must be one of"):
        V.factbank_code("sure", "positive")


def test_every_relation_ends_in_a_claim() -> None:
    assert {tail for _head, tail in V.RELATION_ENDPOINTS.values()} == {V.SpanLabel.CLAIM}


def test_no_module_spells_a_label_literally() -> None:
    """Only schemas/vocabulary.py may contain a vocabulary value as a string literal.

    A line whose literal is an English word rather than a label says so with ``# not a label``.
    """
    literals = {v for enum in (V.SpanLabel, V.RelationType, V.FactBank) for v in V.values(enum)}
    literals |= {v for values in V.ATTRIBUTE_VALUES.values() for v in V.values(values)}
    alternatives = "|".join(map(re.escape, literals))
    pattern = re.compile(rf"""["']({alternatives})["']""")
    offenders = []
    for package in ("schemas", "annotate", "train", "stancebank"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "vocabulary.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line) and "# not a label" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
