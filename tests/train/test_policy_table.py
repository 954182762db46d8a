"""The column-wise matching, majority and votes equal the span-by-span rule of annotate.matching.match
on random tasks (overlapping spans that compete for one partner, ties, gold, missing attributes)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.matching import Span, match
from schemas import vocabulary as V
from train.policy import choose, matches, votes
from train.votes import VOTED_LABELS

LABELS = [label.value for label in V.SPAN_ATTRIBUTES]
ANNOTATORS = ["ann1", "ann2", "ann3", V.GOLD_ANNOTATOR]


@st.composite
def corpora(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tasks of 1-4 annotations with short spans on a short text, so that many overlap."""
    annotations, spans = [], []
    for task in range(draw(st.integers(1, 4))):
        for n in range(draw(st.integers(1, 4))):
            annotation_id = f"a{task}:{n}"
            annotations.append(
                {
                    "annotation_id": annotation_id,
                    "article_id": f"art{task}",
                    "target_id": f"art{task}:t",
                    "annotator": draw(st.sampled_from(ANNOTATORS)),
                    "created_at": draw(st.sampled_from(["2026-01-01", "2026-01-02", None])),
                    "updated_at": draw(st.sampled_from(["2026-02-01", "2026-02-02", None])),
                }
            )
            seen = set()
            for k in range(draw(st.integers(0, 6))):
                label = draw(st.sampled_from(LABELS))
                start = draw(st.integers(0, 12))
                end = start + draw(st.integers(1, 8))
                if (label, start, end) in seen:
                    continue
                seen.add((label, start, end))
                values = {
                    name: draw(st.sampled_from(["p", "q", None]))
                    for name in V.SPAN_ATTRIBUTES[V.SpanLabel(label)]
                }
                spans.append(
                    {
                        "annotation_id": annotation_id,
                        "span_id": f"s{k}",
                        "label": label,
                        "start": start,
                        "end": end,
                        **values,
                    }
                )
    columns = ["annotation_id", "span_id", "label", "start", "end", *V.ATTRIBUTE_VALUES]
    return pd.DataFrame(annotations), pd.DataFrame(spans, columns=columns)


def _spans(spans: pd.DataFrame, annotation_id: str, labels: list[str] = LABELS) -> list[dict[str, Any]]:
    own = spans.loc[(spans["annotation_id"] == annotation_id) & spans["label"].isin(labels)]
    return own.to_dict("records")


def _match(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_a = {s["span_id"]: s for s in a}
    by_b = {s["span_id"]: s for s in b}
    span = lambda s: Span(s["span_id"], s["label"], s["start"], s["end"])  # noqa: E731
    return [(by_a[x.span_id], by_b[y.span_id]) for x, y in match([span(s) for s in a], [span(s) for s in b])]


def _values(s: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(None if pd.isna(s[n]) else s[n] for n in V.SPAN_ATTRIBUTES[V.SpanLabel(s["label"])])


def _oracle_majority(annotations: pd.DataFrame, spans: pd.DataFrame) -> dict[tuple[str, str], str]:
    winners = {}
    for key, task in annotations.groupby(["article_id", "target_id"]):
        humans = task.loc[task["annotator"] != V.GOLD_ANNOTATOR, "annotation_id"].tolist()
        if len(humans) < 2:
            continue
        scores = {
            a: sum(
                _values(x) == _values(y)
                for b in humans
                if b != a
                for x, y in _match(_spans(spans, a), _spans(spans, b))
            )
            for a in humans
        }
        top = [a for a, s in scores.items() if s == max(scores.values())]
        if len(top) == 1:
            winners[key] = top[0]
    return winners


@settings(max_examples=150, deadline=None)
@given(corpora())
def test_match_table_equals_match_for_every_pair(corpus: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    annotations, spans = corpus
    found = matches(annotations, spans)
    got_pairs: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for a, b, x, y in found.pairs.itertuples(index=False, name=None):
        got_pairs.setdefault((a, b), set()).add((x, y))
    flat = set()
    for (a, b), pairs in got_pairs.items():
        for x, y in pairs:
            flat.add(
                (
                    found.annotations["annotation_id"][a],
                    found.annotations["annotation_id"][b],
                    found.spans["span_id"][x],
                    found.spans["span_id"][y],
                )
            )
    want = set()
    for _, task in annotations.groupby(["article_id", "target_id"]):
        for a in task["annotation_id"]:
            for b in task["annotation_id"]:
                if a != b:
                    want |= {
                        (a, b, x["span_id"], y["span_id"])
                        for x, y in _match(_spans(spans, a), _spans(spans, b))
                    }
    assert flat == want


@settings(max_examples=150, deadline=None)
@given(corpora(), st.sampled_from([("gold", "majority", "latest"), ("majority", "earliest"), ("latest",)]))
def test_choose_and_votes_equal_the_span_by_span_rule(
    corpus: tuple[pd.DataFrame, pd.DataFrame], policy: tuple[str, ...]
) -> None:
    annotations, spans = corpus
    chosen = choose(annotations, spans, policy)
    winners = _oracle_majority(annotations, spans)
    for row in chosen.itertuples():
        if row.chosen_by == "majority":
            assert winners[row.article_id, row.target_id] == row.annotation_id
        elif "majority" in policy[: policy.index(row.chosen_by)]:
            assert (row.article_id, row.target_id) not in winners
    expected = []
    for row in chosen.itertuples():
        own = _spans(spans, row.annotation_id, list(VOTED_LABELS))
        task = annotations.loc[(annotations["article_id"] == row.article_id)]
        for voter in task.loc[task["annotator"] != V.GOLD_ANNOTATOR].itertuples():
            if voter.annotation_id == row.annotation_id:
                pairs = [(s, s) for s in own]
            else:
                pairs = _match(own, _spans(spans, voter.annotation_id, list(VOTED_LABELS)))
            expected += [
                (
                    row.annotation_id,
                    x["span_id"],
                    voter.annotator,
                    voter.annotation_id,
                    y["span_id"],
                    *(None if pd.isna(y[n]) else y[n] for n in V.ATTRIBUTE_VALUES),
                )
                for x, y in pairs
            ]
    got = votes(chosen, annotations, spans, VOTED_LABELS)
    rows = [
        tuple(None if not isinstance(v, str) and pd.isna(v) else v for v in r)
        for r in got.itertuples(index=False, name=None)
    ]
    assert sorted(rows, key=str) == sorted(expected, key=str)
    assert rows == sorted(rows, key=lambda r: (r[0], r[1], r[2]))


def test_competing_spans_go_to_the_largest_overlap_first() -> None:
    """One span of ``a`` overlaps two of ``b`` by exactly half: the greedy pass pairs it with the first
    by position, and the other stays unmatched (both would pass the threshold)."""
    annotations = pd.DataFrame(
        {
            "annotation_id": ["a", "b"],
            "article_id": ["art", "art"],
            "target_id": ["t", "t"],
            "annotator": ["ann1", "ann2"],
        }
    )
    spans = pd.DataFrame(
        {
            "annotation_id": ["a", "b", "b"],
            "span_id": ["x", "y1", "y2"],
            "label": ["CLAIM"] * 3,
            "start": [0, 0, 5],
            "end": [10, 5, 10],
        }
    )
    found = matches(annotations, spans)
    pairs = {
        (found.spans["span_id"][x], found.spans["span_id"][y])
        for x, y in found.pairs[["x", "y"]].itertuples(index=False, name=None)
    }
    assert pairs == {("x", "y1"), ("y1", "x")}


def test_majority_picks_the_annotation_the_others_agree_with() -> None:
    """``a`` shares one claim with ``b`` and another with ``c``; ``b`` and ``c`` share nothing."""
    annotations = pd.DataFrame(
        {
            "annotation_id": ["a", "b", "c"],
            "article_id": ["art"] * 3,
            "target_id": ["t"] * 3,
            "annotator": ["ann1", "ann2", "ann3"],
            "created_at": ["2026-01-01"] * 3,
            "updated_at": ["2026-01-01"] * 3,
        }
    )
    spans = pd.DataFrame(
        {
            "annotation_id": ["a", "a", "b", "c"],
            "span_id": ["s1", "s2", "s1", "s1"],
            "label": ["CLAIM"] * 4,
            "start": [0, 20, 0, 21],
            "end": [10, 30, 10, 30],
            "stance": ["support", "deny", "support", "deny"],
            "certainty": ["probable"] * 4,
            "polarity": ["positive"] * 4,
        }
    )
    chosen = choose(annotations, spans, ("majority", "earliest"))
    assert chosen[["annotation_id", "chosen_by"]].values.tolist() == [["a", "majority"]]


def _one_by_one(
    annotations: pd.DataFrame, policy: tuple[str, ...], winners: dict[tuple[str, str], str]
) -> dict[str, str]:
    """The policy read task by task (the rules as train.policy documents them): annotation id -> rule."""

    def key(member: dict[str, Any], names: tuple[str, ...], missing: int) -> tuple[Any, ...]:
        absent = lambda v: v is None or (not isinstance(v, str) and pd.isna(v))  # noqa: E731
        return tuple((missing, "") if absent(member[n]) else (1 - missing, member[n]) for n in names)

    chosen = {}
    for (article_id, target_id), task in annotations.groupby(["article_id", "target_id"], sort=False):
        members = task.to_dict("records")
        for rule in policy:
            if rule == "gold":
                gold = [m["annotation_id"] for m in members if m["annotator"] == V.GOLD_ANNOTATOR]
                if gold:
                    chosen[min(gold)] = rule
                    break
            elif rule == "majority" and (article_id, target_id) in winners:
                chosen[winners[article_id, target_id]] = rule
                break
            elif rule == "latest":
                latest = max(members, key=lambda m: key(m, ("updated_at", "created_at", "annotation_id"), 0))
                chosen[latest["annotation_id"]] = rule
                break
            elif rule == "earliest":
                earliest = min(members, key=lambda m: key(m, ("created_at", "annotation_id"), 1))
                chosen[earliest["annotation_id"]] = rule
                break
    return chosen


@settings(max_examples=200, deadline=None)
@given(
    corpora(),
    st.sampled_from(
        [
            ("gold", "majority", "latest"),
            ("majority", "earliest"),
            ("latest",),
            ("gold",),
            ("gold", "earliest"),
        ]
    ),
)
def test_choose_equals_the_policy_read_task_by_task(
    corpus: tuple[pd.DataFrame, pd.DataFrame], policy: tuple[str, ...]
) -> None:
    """The column-wise choice: gold (smallest id), majority, latest (missing times first), earliest
    (missing times last); the first rule that picks wins; a task no rule picks has no row."""
    annotations, spans = corpus
    winners = _oracle_majority(annotations, spans) if "majority" in policy else {}
    chosen = choose(annotations, spans, policy)
    got = dict(zip(chosen["annotation_id"], chosen["chosen_by"], strict=True))
    assert got == _one_by_one(annotations, policy, winners)
    assert len(got) == len(chosen)
