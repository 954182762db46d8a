"""Span matching between two annotators: the one rule that agreement and adjudication share.

``exact``: same label, start and end. ``overlap``: same label and |a ∩ b| ≥ 0.5 · |a ∪ b| (Jaccard on
character positions), one-to-one, greedily by the largest overlap (ties by position).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Literal, NamedTuple, TypeVar

import numpy as np
import pandas as pd

Rule = Literal["exact", "overlap"]
T = TypeVar("T")
OVERLAP_THRESHOLD = 0.5
MATCHING_RULE = (
    "exact = same label, start and end; overlap = same label and |a∩b| ≥ 0.5·|a∪b| "
    "(character positions), one-to-one, greedy by largest overlap"
)


class Span(NamedTuple):
    span_id: str
    label: str
    start: int
    end: int


def jaccard(a: Span, b: Span) -> float:
    inter = min(a.end, b.end) - max(a.start, b.start)
    if inter <= 0:
        return 0.0
    return inter / (max(a.end, b.end) - min(a.start, b.start))


def match(a: Sequence[Span], b: Sequence[Span], rule: Rule = "overlap") -> list[tuple[Span, Span]]:
    """One-to-one pairs of spans that match under ``rule``."""
    candidates = []
    for x in a:
        for y in b:
            if x.label != y.label:
                continue
            score = 1.0 if (x.start, x.end) == (y.start, y.end) else jaccard(x, y)
            if (rule == "exact" and score == 1.0) or (rule == "overlap" and score >= OVERLAP_THRESHOLD):
                candidates.append((-score, x.start, y.start, x.span_id, y.span_id, x, y))
    candidates.sort(key=lambda c: c[:5])
    return list(greedy((c[3], c[4], (c[5], c[6])) for c in candidates))


def greedy(candidates: Iterable[tuple[Hashable, Hashable, T]]) -> Iterator[T]:
    """The one-to-one part of ``candidates`` (``(a key, b key, item)``, best first): each item whose
    keys no earlier kept item used."""
    used_a: set[Hashable] = set()
    used_b: set[Hashable] = set()
    for x, y, item in candidates:
        if x in used_a or y in used_b:
            continue
        used_a.add(x)
        used_b.add(y)
        yield item


def _equal_key_pairs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of different positions with equal keys, as positions ``x``, ``y``: the keys
    are sorted once and each position is paired with those after it in its run (no hash join)."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    after = np.repeat(starts + sizes, sizes) - np.arange(len(ordered)) - 1  # partners after each
    first = np.repeat(np.arange(len(ordered)), after)
    step = np.arange(len(first)) - np.repeat(np.cumsum(after) - after, after)
    return order[first], order[first + 1 + step]


def match_table(spans: pd.DataFrame, rule: Rule = "overlap") -> pd.DataFrame:
    """:func:`match` between every two groups of spans of the same task at once, column-wise.

    ``spans``: one row per span with integer columns ``task`` and ``group`` (e.g. its annotation),
    ``start``, ``end``, ``label`` and ``span_id``. Returns the matched pairs of every ordered pair of
    different groups of a task: columns ``a``, ``b`` (the groups) and ``x``, ``y`` (row positions in
    ``spans`` of the span of ``a`` and of ``b``), in no particular order. Pairs of groups whose
    candidates compete (a span that could pair with two) go through :func:`greedy` in :func:`match`'s
    order; the others keep every candidate, which is what the greedy pass would keep. The score is
    symmetric: each unordered pair of spans is scored once and kept in both orders."""
    label = pd.factorize(spans["label"])[0].astype(np.int64)
    task = spans["task"].to_numpy(np.int64)
    x, y = _equal_key_pairs(task * (int(label.max(initial=0)) + 1) + label)
    group = spans["group"].to_numpy(np.int64)
    other = group[x] != group[y]
    x, y = x[other], y[other]
    start, end = spans["start"].to_numpy(np.int64), spans["end"].to_numpy(np.int64)
    x_start, y_start, x_end, y_end = start[x], start[y], end[x], end[y]
    exact = (x_start == y_start) & (x_end == y_end)
    score = np.ones(len(x))
    if rule == "overlap":
        inter = np.minimum(x_end, y_end) - np.maximum(x_start, y_start)
        union = np.maximum(x_end, y_end) - np.minimum(x_start, y_start)
        score = np.zeros(len(x))
        np.divide(inter, union, out=score, where=inter > 0)
        score[exact] = 1.0
    keep = exact if rule == "exact" else score >= OVERLAP_THRESHOLD
    x, y, kept = x[keep], y[keep], score[keep]
    x, y, score = np.concatenate([x, y]), np.concatenate([y, x]), np.concatenate([kept, kept])
    a, b = group[x], group[y]
    found = pd.DataFrame({"a": a, "b": b, "x": x, "y": y})
    # a span of a with two candidates in b, or of b with two in a (x fixes a, y fixes b)
    n = len(spans)
    competing = (
        pd.Series(b * n + x).duplicated(keep=False).to_numpy()
        | pd.Series(a * n + y).duplicated(keep=False).to_numpy()
    )
    if not competing.any():
        return found
    contested = found.loc[competing, ["a", "b"]].drop_duplicates()
    within = pd.MultiIndex.from_frame(found[["a", "b"]]).isin(pd.MultiIndex.from_frame(contested))
    ids = spans["span_id"].astype(str).to_numpy(object)
    rows = found.loc[within]
    rows = rows.assign(
        by_score=-score[within],
        x_start=start[rows["x"].to_numpy()],
        y_start=start[rows["y"].to_numpy()],
        x_id=ids[rows["x"].to_numpy()],
        y_id=ids[rows["y"].to_numpy()],
    ).sort_values(["a", "b", "by_score", "x_start", "y_start", "x_id", "y_id"], kind="stable")
    ordered = rows[["a", "b", "x", "y"]].itertuples(index=False, name=None)
    kept = list(greedy(((a, b, x), (a, b, y), (a, b, x, y)) for a, b, x, y in ordered))
    settled = pd.DataFrame(kept, columns=["a", "b", "x", "y"], dtype=np.int64)
    return pd.concat([found.loc[~within], settled], ignore_index=True)
