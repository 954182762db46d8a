"""Train/validation/test by article: no story in two splits, stratified by stance where grouping allows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from schemas.errors import StanceBankError


class SplitError(StanceBankError, ValueError):
    """Bad split proportions."""


SPLITS = ("train", "validation", "test")
#: Split names of imported corpora -> ours.
SPLIT_ALIASES = {"val": "validation", "dev": "validation", "valid": "validation", "hold_out": "test"}


def predefined_splits(articles: list[dict[str, object]]) -> dict[str, str] | None:
    """Article id -> split from each article's ``metadata.split`` (imported corpora), if every article
    has one; None otherwise. Names outside train/validation/test (e.g. ``ext``) are kept as they are."""
    split_of: dict[str, str] = {}
    for article in articles:
        metadata = article.get("metadata")
        split = metadata.get("split") if isinstance(metadata, dict) else None
        if not isinstance(split, str) or not split.isidentifier():
            return None
        split_of[str(article["article_id"])] = SPLIT_ALIASES.get(split, split)
    return split_of or None


def parse_proportions(text: str) -> tuple[float, float, float]:
    """'0.7,0.15,0.15' -> (0.7, 0.15, 0.15); they must be positive and sum to 1."""
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise ValueError(
            f"proportions must be three numbers like 0.7,0.15,0.15. Got {text!r} instead."
        ) from None
    if len(parts) != 3 or any(p <= 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise SplitError(f"proportions must be three positive numbers summing to 1. Got {text!r} instead.")
    return parts[0], parts[1], parts[2]


def _hold_out(labels: Sequence[str], groups: Sequence[str], fraction: float, seed: int) -> set[str]:
    """Groups of one StratifiedGroupKFold fold of size ≈ fraction."""
    n_splits = max(2, round(1 / fraction))
    unique_groups = len(set(groups))
    n_splits = min(n_splits, unique_groups)
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, held = next(folds.split(np.zeros(len(labels)), labels, groups))
    return {groups[i] for i in held}


def assign_splits(
    labels: Sequence[str],
    groups: Sequence[str],
    *,
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
) -> dict[str, str]:
    """Group (article id) -> split. ``labels`` stratify (one per item), ``groups`` keep items together."""
    _, validation, test = proportions
    test_groups = _hold_out(labels, groups, test, seed)
    rest = [(label, group) for label, group in zip(labels, groups, strict=True) if group not in test_groups]
    validation_fraction = validation / (1 - test)
    validation_groups = _hold_out([r[0] for r in rest], [r[1] for r in rest], validation_fraction, seed)
    return {
        group: "test" if group in test_groups else "validation" if group in validation_groups else "train"
        for group in sorted(set(groups))
    }
