"""A dev split for pairs that is disjoint in both targets and texts, and the figures measured on it.

A pair corpus repeats each target (headline, claim) over many texts (bodies): holding out texts alone
leaves every dev headline in the fitting part, and a model chosen there is chosen for memory. Here
targets and texts are joined into components by the pairs that link them (with an ``unrelated`` class,
only by related pairs, which link a story's headlines to its bodies; unrelated pairs are random
pairings); whole components are held out, and pairs that cross between dev and fit are dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import accuracy_score, f1_score

from train.pairs import UNRELATED, fnc_score

SEED = 13


def disjoint_dev(
    targets: np.ndarray, groups: np.ndarray, y: np.ndarray | None = None, *, fraction: float = 0.2
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (fit rows, dev rows) split, disjoint in targets and in groups (texts); [] if impossible."""
    target_codes, target_names = pd.factorize(targets)
    group_codes, _ = pd.factorize(groups)
    linking = np.ones(len(targets), dtype=bool) if y is None else np.asarray(y != UNRELATED)
    if not linking.any():
        linking[:] = True
    n_targets = len(target_names)
    n_nodes = n_targets + int(group_codes.max()) + 1
    edges = coo_matrix(
        (np.ones(int(linking.sum())), (target_codes[linking], n_targets + group_codes[linking])),
        shape=(n_nodes, n_nodes),
    )
    n_components, component = connected_components(edges, directed=False)
    rng = np.random.default_rng(SEED)
    held = np.zeros(n_components, dtype=bool)
    sizes = np.bincount(component[n_targets + group_codes], minlength=n_components)
    budget = fraction * len(targets)
    for c in rng.permutation(n_components):  # whole components until the dev part has its share
        if sizes[c] and held @ sizes < budget and sizes[c] <= budget:
            held[c] = True
    in_dev_target = held[component[target_codes]]
    in_dev_group = held[component[n_targets + group_codes]]
    dev = np.flatnonzero(in_dev_target & in_dev_group)
    fit = np.flatnonzero(~in_dev_target & ~in_dev_group)
    if not len(dev) or not len(fit) or (y is not None and len(set(np.asarray(y)[fit])) < 2):
        return []
    return [(fit, dev)]


def dev_scorers(labels: list[str]) -> dict[str, Any]:
    """Scorers ``(estimator, X, y) -> float`` for GridSearchCV on the dev split: macro-F1 (the refit
    criterion), accuracy, the FNC-1 percentage and each class's F1 (plain callables: make_scorer would
    ask a binary fit part for a positive label)."""

    def scorer(measure: Any) -> Any:
        def score(estimator: Any, X: Any, y: Any) -> float:
            return float(measure(np.asarray(y), np.asarray(estimator.predict(X))))

        return score

    def per_class(label: str) -> Any:
        return scorer(lambda t, p: f1_score(t, p, labels=[label], average="macro", zero_division=0))

    return {
        "macro_f1": scorer(lambda t, p: f1_score(t, p, average="macro", zero_division=0)),
        "accuracy": scorer(accuracy_score),
        "fnc1_percent": scorer(lambda t, p: fnc_score(t, p)["fnc1_percent"]),
        **{f"f1_{label}": per_class(label) for label in labels},
    }


def dev_figures(search: Any, y_dev: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """The chosen candidate's figures on the dev split, from a fitted GridSearchCV, with the dev labels'
    counts."""
    best = search.best_index_
    results = search.cv_results_
    counts = pd.Series(y_dev).value_counts()
    figures: dict[str, Any] = {
        "n": len(y_dev),
        "n_true": {label: int(counts.get(label, 0)) for label in labels},
    }
    for key in ("macro_f1", "accuracy", "fnc1_percent"):
        figures[key] = round(float(results[f"mean_test_{key}"][best]), 4)
    figures["per_class_f1"] = {
        label: round(float(results[f"mean_test_f1_{label}"][best]), 4) for label in labels
    }
    return figures
