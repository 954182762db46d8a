"""Span matching between two annotators: the one rule that agreement and adjudication share.

``exact``: same label, start and end. ``overlap``: same label and |a ∩ b| ≥ 0.5 · |a ∪ b| (Jaccard on
character positions), one-to-one, greedily by the largest overlap (ties by position).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

Rule = Literal["exact", "overlap"]
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
    used_a: set[str] = set()
    used_b: set[str] = set()
    pairs = []
    for *_, x, y in candidates:
        if x.span_id in used_a or y.span_id in used_b:
            continue
        used_a.add(x.span_id)
        used_b.add(y.span_id)
        pairs.append((x, y))
    return pairs
