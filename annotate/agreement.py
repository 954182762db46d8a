"""Inter-annotator agreement: span F1 (exact and overlap), attribute α and κ on matched spans, relation F1,
each with a bootstrap 95 % interval over tasks. Pure computation; ``agreement_report`` writes the files.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from annotate.matching import MATCHING_RULE, Rule, Span, match
from schemas import vocabulary as V

RULES: tuple[Rule, ...] = ("exact", "overlap")
MIN_ITEMS = 20
SKEW = 0.8
Task = tuple[str, str]


@dataclass
class Unit:
    """What one pair of annotators did on one shared task."""

    task: Task
    pair: tuple[str, str]
    spans: dict[tuple[str, Rule], tuple[int, int, int]] = field(default_factory=dict)  # n_a, n_b, matched
    values: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    relations: tuple[int, int, int] = (0, 0, 0)


def level(attribute: str) -> Literal["nominal", "ordinal"]:
    return "ordinal" if attribute in V.ORDINAL_ATTRIBUTES else "nominal"


def _codes(attribute: str, values: Sequence[str]) -> list[float]:
    """Numeric codes for α/κ: ordinal ranks (off-scale values, e.g. ``unknown``, become NaN)."""
    if attribute in V.ORDINAL_ATTRIBUTES:
        scale = [v.value for v in V.ORDINAL_ATTRIBUTES[attribute]]
        return [float(scale.index(v)) if v in scale else np.nan for v in values]
    domain = V.values(V.ATTRIBUTE_VALUES[attribute])
    return [float(domain.index(v)) for v in values]


def _domain(attribute: str) -> list[float]:
    if attribute in V.ORDINAL_ATTRIBUTES:
        return [float(i) for i in range(len(V.ORDINAL_ATTRIBUTES[attribute]))]
    return [float(i) for i in range(len(V.ATTRIBUTE_VALUES[attribute]))]


def alpha(attribute: str, pairs: Sequence[tuple[str, str]]) -> float:
    """Krippendorff's α over matched units (two coders per unit), nominal or ordinal by attribute."""
    if not pairs:
        return float("nan")
    data = np.array([_codes(attribute, [a for a, _ in pairs]), _codes(attribute, [b for _, b in pairs])])
    data = data[:, ~np.isnan(data).any(axis=0)]
    if data.shape[1] == 0 or len(np.unique(data)) < 2:
        return float("nan") if data.shape[1] == 0 or not (data[0] == data[1]).all() else 1.0
    with np.errstate(all="ignore"):
        return float(
            krippendorff.alpha(
                reliability_data=data, value_domain=_domain(attribute), level_of_measurement=level(attribute)
            )
        )


def kappa(attribute: str, pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's κ (linearly weighted for ordinal attributes) over matched units."""
    kept = [(a, b) for a, b in pairs if not np.isnan(_codes(attribute, [a, b])).any()]
    if not kept:
        return float("nan")
    a, b = (list(x) for x in zip(*kept, strict=True))
    if len(set(a) | set(b)) < 2:
        return 1.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        weights = "linear" if attribute in V.ORDINAL_ATTRIBUTES else None
        return float(cohen_kappa_score(_codes(attribute, a), _codes(attribute, b), weights=weights))


def f1(n_a: int, n_b: int, matched: int) -> float:
    return 2 * matched / (n_a + n_b) if n_a + n_b else float("nan")


def _spans_by_annotation(spans: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(k): g for k, g in spans.groupby("annotation_id")}


def build_units(tables: dict[str, pd.DataFrame]) -> list[Unit]:
    """One Unit per (pair of annotators, shared task); gold annotations are not annotators."""
    annotations = tables["annotations"]
    annotations = annotations[annotations["annotator"] != V.GOLD_ANNOTATOR]
    spans = _spans_by_annotation(tables["spans"])
    relations = {str(k): g for k, g in tables["relations"].groupby("annotation_id")}
    empty_spans, empty_relations = tables["spans"].iloc[0:0], tables["relations"].iloc[0:0]
    units = []
    for (article_id, target_id), group in annotations.groupby(["article_id", "target_id"]):
        by_annotator = dict(zip(group["annotator"], group["annotation_id"], strict=True))
        for a, b in itertools.combinations(sorted(by_annotator), 2):
            units.append(
                _unit(
                    (str(article_id), str(target_id)),
                    (a, b),
                    spans.get(by_annotator[a], empty_spans),
                    spans.get(by_annotator[b], empty_spans),
                    relations.get(by_annotator[a], empty_relations),
                    relations.get(by_annotator[b], empty_relations),
                )
            )
    return units


def _as_spans(frame: pd.DataFrame) -> list[Span]:
    columns = (frame["span_id"], frame["label"], frame["start"], frame["end"])
    return [Span(str(i), str(label), int(s), int(e)) for i, label, s, e in zip(*columns, strict=True)]


def _unit(
    task: Task,
    pair: tuple[str, str],
    spans_a: pd.DataFrame,
    spans_b: pd.DataFrame,
    rel_a: pd.DataFrame,
    rel_b: pd.DataFrame,
) -> Unit:
    unit = Unit(task, pair)
    a_all, b_all = _as_spans(spans_a), _as_spans(spans_b)
    for label in V.values(V.SpanLabel):
        a = [s for s in a_all if s.label == label]
        b = [s for s in b_all if s.label == label]
        for rule in RULES:
            unit.spans[(label, rule)] = (len(a), len(b), len(match(a, b, rule)))
    matched = match(a_all, b_all, "overlap")
    attrs_a, attrs_b = spans_a.set_index("span_id"), spans_b.set_index("span_id")
    for x, y in matched:
        for name in V.SPAN_ATTRIBUTES[V.SpanLabel(x.label)]:
            unit.values[name].append((str(attrs_a.at[x.span_id, name]), str(attrs_b.at[y.span_id, name])))
    b_of = {x.span_id: y.span_id for x, y in matched}
    edges_a = {(b_of.get(str(f)), b_of.get(str(t)), str(k)) for f, t, k in _edges(rel_a)}
    edges_b = {(str(f), str(t), str(k)) for f, t, k in _edges(rel_b)}
    unit.relations = (len(rel_a), len(rel_b), len(edges_a & edges_b))
    return unit


def _edges(relations: pd.DataFrame) -> list[tuple[Any, Any, Any]]:
    return list(zip(relations["from_id"], relations["to_id"], relations["type"], strict=True))


def _figures(units: Sequence[Unit]) -> dict[str, float]:
    """Every figure over a set of units, keyed like 'span/CLAIM/overlap', 'alpha/stance', 'relations'."""
    out: dict[str, float] = {}
    for label in V.values(V.SpanLabel):
        for rule in RULES:
            totals = np.sum([u.spans[(label, rule)] for u in units], axis=0) if units else (0, 0, 0)
            out[f"span/{label}/{rule}"] = f1(*map(int, totals))
    for name in V.ATTRIBUTE_VALUES:
        pairs = [p for u in units for p in u.values.get(name, [])]
        out[f"alpha/{name}"] = alpha(name, pairs)
        out[f"kappa/{name}"] = kappa(name, pairs)
    rel = np.sum([u.relations for u in units], axis=0) if units else (0, 0, 0)
    out["relations"] = f1(*map(int, rel))
    return out


def bootstrap(units: Sequence[Unit], *, n: int, seed: int) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals, resampling tasks (all of a task's units together)."""
    by_task: dict[Task, list[Unit]] = defaultdict(list)
    for unit in units:
        by_task[unit.task].append(unit)
    tasks = sorted(by_task)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(n):
        picked: list[int] = list(rng.integers(0, len(tasks), len(tasks))) if tasks else []
        figures = _figures([u for i in picked for u in by_task[tasks[i]]])
        for key, value in figures.items():
            if not np.isnan(value):
                samples[key].append(value)
    return {
        key: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for key, v in samples.items() if v
    }


def _warnings(scope: str, units: Sequence[Unit]) -> list[str]:
    found = []
    for name in V.ATTRIBUTE_VALUES:
        values = [v for u in units for pair in u.values.get(name, []) for v in pair]
        items = len(values) // 2
        if items and items < MIN_ITEMS:
            found.append(f"{scope}: {name} rests on {items} matched spans (< {MIN_ITEMS})")
        if values:
            top, count = Counter(values).most_common(1)[0]
            if count / len(values) > SKEW:
                found.append(f"{scope}: {name} is skewed ({top!r} is {count / len(values):.0%} of values)")
    return found


def agreement(
    tables: dict[str, pd.DataFrame],
    *,
    n_bootstrap: int = 300,
    seed: int = 13,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Agreement per pair of annotators and overall, with intervals, counts and warnings."""
    units = build_units(tables)
    scopes: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        scopes[" & ".join(unit.pair)].append(unit)
    scopes["overall"] = units
    result: dict[str, Any] = {
        "matching": MATCHING_RULE,
        "bootstrap": {"resamples": n_bootstrap, "seed": seed},
        "scopes": {},
        "warnings": [],
    }
    for scope, scoped in scopes.items():
        if progress:
            progress(scope)
        figures = _figures(scoped)
        intervals = bootstrap(scoped, n=n_bootstrap, seed=seed)
        counts = _counts(scoped)
        result["scopes"][scope] = {
            "tasks": len({u.task for u in scoped}),
            "figures": {
                key: {
                    "value": None if np.isnan(v) else round(v, 4),
                    "ci95": [round(x, 4) for x in intervals[key]] if key in intervals else None,
                    "n": counts.get(key, 0),
                }
                for key, v in figures.items()
            },
        }
        result["warnings"] += _warnings(scope, scoped)
    return result


def _counts(units: Sequence[Unit]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in V.values(V.SpanLabel):
        for rule in RULES:
            counts[f"span/{label}/{rule}"] = int(
                sum(u.spans[(label, rule)][0] + u.spans[(label, rule)][1] for u in units)
            )
    for name in V.ATTRIBUTE_VALUES:
        n = sum(len(u.values.get(name, [])) for u in units)
        counts[f"alpha/{name}"] = counts[f"kappa/{name}"] = n
    counts["relations"] = int(sum(u.relations[0] + u.relations[1] for u in units))
    return counts
