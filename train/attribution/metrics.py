"""A model scored like a second annotator: the span and relation rules of ``annotate.agreement``.

Spans: :func:`annotate.matching.match` under ``exact`` and ``overlap`` per label; precision = matched /
predicted, recall = matched / gold, F1 = :func:`annotate.agreement.f1`. Relations: gold spans are matched
to predicted ones under ``overlap`` (any label, one to one), and a predicted relation counts when its type
and both (matched) ends are right — the rule agreement uses between annotators. 95 % percentile intervals
resample articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from annotate.agreement import RULES, f1
from annotate.matching import MATCHING_RULE, Span, match
from train.attribution.tokens import LABELS

#: Count keys per article: (gold, predicted, matched) for each of these.
KEYS: tuple[str, ...] = (*(f"{label}/{rule}" for label in LABELS for rule in RULES), "relations")
RELATION_RULE = "a relation counts when its type is right and both ends match under overlap"


def article_counts(
    gold: Sequence[Span],
    predicted: Sequence[Span],
    gold_relations: set[tuple[str, str, str]],
    predicted_relations: set[tuple[str, str, str]],
) -> np.ndarray:
    """(gold, predicted, matched) for every key of :data:`KEYS`, shape (len(KEYS), 3)."""
    rows = []
    for label in LABELS:
        a = [s for s in gold if s.label == label]
        b = [s for s in predicted if s.label == label]
        for rule in RULES:
            rows.append((len(a), len(b), len(match(a, b, rule))))
    predicted_of = {x.span_id: y.span_id for x, y in match(gold, predicted, "overlap")}
    mapped = {(kind, predicted_of.get(f), predicted_of.get(t)) for kind, f, t in gold_relations}
    rows.append((len(gold_relations), len(predicted_relations), len(mapped & predicted_relations)))
    return np.array(rows, dtype=np.int64)


def _prf(totals: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall, F1 from summed (gold, predicted, matched)."""
    n_gold, n_pred, matched = (int(v) for v in totals)
    precision = matched / n_pred if n_pred else float("nan")
    recall = matched / n_gold if n_gold else float("nan")
    return precision, recall, f1(n_gold, n_pred, matched)


def score(counts: np.ndarray, *, n_bootstrap: int = 1000, seed: int = 13) -> dict[str, Any]:
    """Figures per label and rule and for relations, from per-article counts (articles, keys, 3)."""
    counts = np.asarray(counts).reshape(-1, len(KEYS), 3)
    totals = counts.sum(axis=0)
    rng = np.random.default_rng(seed)
    n = len(counts)
    samples = counts[rng.integers(0, n, (n_bootstrap, n))].sum(axis=1) if n else np.zeros((0, len(KEYS), 3))
    figures: dict[str, dict[str, Any]] = {}
    for k, key in enumerate(KEYS):
        p, r, f = _prf(totals[k])
        boot = np.array([_prf(s) for s in samples[:, k]]) if n else np.zeros((0, 3))
        entry: dict[str, Any] = {"n_gold": int(totals[k][0]), "n_predicted": int(totals[k][1])}
        for name, value, column in (("precision", p, 0), ("recall", r, 1), ("f1", f, 2)):
            values = boot[:, column][~np.isnan(boot[:, column])] if len(boot) else boot
            entry[name] = None if np.isnan(value) else round(value, 4)
            entry[f"{name}_ci95"] = (
                [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]
                if len(values)
                else None
            )
        figures[key] = entry
    spans: dict[str, dict[str, Any]] = {}
    for label in LABELS:
        spans[label] = {"n_gold": figures[f"{label}/exact"]["n_gold"]}
        spans[label]["n_predicted"] = figures[f"{label}/exact"]["n_predicted"]
        for rule in RULES:
            for name, value in figures[f"{label}/{rule}"].items():
                if not name.startswith("n_"):
                    spans[label][f"{rule}_{name}"] = value
    return {"spans": spans, "relations": figures["relations"]}


RULES_NOTE = f"Spans: {MATCHING_RULE}. Relations: {RELATION_RULE}. 95 % intervals: bootstrap over articles."
