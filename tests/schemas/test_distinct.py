"""schemas.crosstable.by_distinct and the relation_direction rule judged once per distinct combination."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from schemas import vocabulary as V
from schemas.crosstable import RelationEnds, by_distinct


def _row_by_row(df: pd.DataFrame) -> pd.Series:
    """relation_direction as the rule reads, column by column over the whole table."""
    ends = V.RELATION_ENDPOINTS.items()
    head = df["type"].map({t.value: e[0].value for t, e in ends})
    tail = df["type"].map({t.value: e[1].value for t, e in ends})
    known = df["from_label"].notna() & df["to_label"].notna() & head.notna()
    right = (df["from_label"] == head) & (df["to_label"] == tail)
    return (~known | right.fillna(False)).astype(bool)


_kinds = st.one_of(st.none(), st.sampled_from(["source_of", "cue_of", "SOURCE_OF", "other", ""]))
_labels = st.one_of(st.none(), st.sampled_from(["SOURCE", "CLAIM", "CUE", "claim", "X"]))


@given(st.lists(st.tuples(_kinds, _labels, _labels), max_size=40), st.booleans())
def test_relation_direction_is_the_row_by_row_rule(rows: list[tuple[str | None, ...]], text: bool) -> None:
    frame = pd.DataFrame(rows, columns=["type", "from_label", "to_label"], dtype="str" if text else object)
    frame.index = pd.RangeIndex(5, 5 + len(frame))  # a chunk's rows: not numbered from 0
    rule = RelationEnds.__dict__["relation_direction"].__func__
    pd.testing.assert_series_equal(rule(RelationEnds, frame), _row_by_row(frame))


def test_each_distinct_combination_is_judged_once() -> None:
    seen: list[tuple[object, ...]] = []

    def judge(*values: object) -> bool:
        seen.append(values)
        return values[0] == "a"

    frame = pd.DataFrame({"x": ["a", "b", "a", None, "a"], "y": ["p", "p", "p", "q", None]})
    verdicts = by_distinct(frame, ["x", "y"], judge)
    assert verdicts.tolist() == [True, False, True, False, True]
    assert sorted(seen, key=repr) == sorted([("a", "p"), ("b", "p"), (None, "q"), ("a", None)], key=repr)
