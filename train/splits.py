"""Train/validation/test by article: no story in two splits, stratified by stance where grouping allows."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.errors import StanceBankError

if TYPE_CHECKING:
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

#: What splitting imports when it is first asked to (≈ 0.8 s with SciPy's statistics): not with this
#: module, which every export imports; ``export`` loads it while the validation's workers run.
SPLITTER_MODULES = ("sklearn.model_selection",)


class SplitError(StanceBankError, ValueError):
    """Bad split proportions."""


SPLITS = ("train", "validation", "test")
#: Split names of imported corpora -> ours.
SPLIT_ALIASES = {"val": "validation", "dev": "validation", "valid": "validation", "hold_out": "test"}


def predefined_splits(article_ids: list[str], metadata: list[object]) -> dict[str, str] | None:
    """Article id -> split from each article's ``metadata.split`` (imported corpora), if every article
    has one; None otherwise. Names outside train/validation/test (e.g. ``ext``) are kept as they are."""
    split_of: dict[str, str] = {}
    for article_id, meta in zip(article_ids, metadata, strict=True):
        split = meta.get("split") if isinstance(meta, dict) else None
        if not isinstance(split, str) or not split.isidentifier():
            return None
        split_of[str(article_id)] = SPLIT_ALIASES.get(split, split)
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


#: Above this many articles, splits stratify articles by their majority stance (StratifiedShuffleSplit):
#: StratifiedGroupKFold weighs every article against every fold in a Python loop (8 s at 10k articles).
GROUPED_LIMIT = 2_000


def _hold_out(labels: Sequence[str], groups: Sequence[str], fraction: float, seed: int) -> set[str]:
    """Groups of one StratifiedGroupKFold fold of size ≈ fraction; none when fewer than two groups are
    left (a tiny corpus: the split stays empty rather than take the last article from train)."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = max(2, round(1 / fraction))
    unique_groups = len(set(groups))
    if unique_groups < 2:
        return set()
    n_splits = min(n_splits, unique_groups)
    if max(Counter(labels).values()) < n_splits:  # every label too rare to stratify (a small project)
        labels = ["-"] * len(labels)
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # "the least populated class has only 1 member": expected when small
        warnings.simplefilter("ignore", UserWarning)
        _, held = next(folds.split(np.zeros(len(labels)), labels, groups))
    return {groups[i] for i in held}


def _majority_labels(
    labels: Sequence[str] | pa.Array, groups: Sequence[str] | pa.Array
) -> tuple[list[str], list[str]]:
    """(groups sorted, each group's most frequent label; ties go to the label first in sort order),
    with labels held by fewer than 20 groups pooled (and a pool of fewer than 20 put with the largest
    stratum) so that every stratum can be split. Column-wise: groups and labels are ranked in code point
    order with Arrow, and each (group, label) pair counted by its integer key."""
    group_names, group_rank = _ranked(groups)
    label_names, label_rank = _ranked(labels)
    keys, counts = np.unique(group_rank * len(label_names) + label_rank, return_counts=True)
    pair_group, pair_label = np.divmod(keys, len(label_names))
    order = np.lexsort((pair_label, -counts, pair_group))  # by group, then count down, then label
    first = order[np.r_[True, pair_group[order][1:] != pair_group[order][:-1]]]
    label_of_group = pair_label[first]
    groups_of_label = np.bincount(label_of_group, minlength=len(label_names))
    strata = np.where(groups_of_label[label_of_group] >= 20, label_names[label_of_group], "(rare)")
    if (strata == "(rare)").sum() < 20:  # too few to be a stratum of their own: join the largest
        largest = pd.Series(strata.tolist()).astype(str).value_counts().index[0]
        strata[strata == "(rare)"] = str(largest)
    return group_names[pair_group[first]].tolist(), [str(label) for label in strata.tolist()]


def _ranked(values: Sequence[str] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct values sorted by code point, each value's position among them)."""
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    distinct = pc.unique(array)
    distinct = distinct.take(pc.sort_indices(distinct))
    rank = pc.index_in(array, value_set=distinct).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.array(distinct.to_pylist(), dtype=object), rank


def _hold_out_articles(groups: list[str], strata: list[str], fraction: float, seed: int) -> set[str]:
    """Groups of a StratifiedShuffleSplit test part of size ≈ fraction, stratified by ``strata``."""
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    pooled = strata if len(set(strata)) > 1 else None
    splitter: StratifiedShuffleSplit | ShuffleSplit = (
        StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        if pooled is not None
        else ShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    )
    _, held = next(splitter.split(np.zeros(len(groups)), pooled))
    return {groups[i] for i in held}


def assign_splits(
    labels: Sequence[str] | pa.Array,
    groups: Sequence[str] | pa.Array,
    *,
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
) -> dict[str, str]:
    """Group (article id) -> split, in the groups' code point order. ``labels`` stratify (one per
    item), ``groups`` keep items together; both as lists or Arrow string arrays.

    Up to :data:`GROUPED_LIMIT` groups: StratifiedGroupKFold over the items (balances the item-level
    label distribution). Above: each group is labelled by its majority label and the groups are split
    with StratifiedShuffleSplit (linear time; the card says which method was used).
    """
    _, validation, test = proportions
    validation_fraction = validation / (1 - test)
    if _distinct(groups) > GROUPED_LIMIT:
        names, strata = _majority_labels(labels, groups)
        test_groups = _hold_out_articles(names, strata, test, seed)
        rest = [(n, s) for n, s in zip(names, strata, strict=True) if n not in test_groups]
        validation_groups = _hold_out_articles(
            [r[0] for r in rest], [r[1] for r in rest], validation_fraction, seed
        )
    else:
        labels, groups = _listed(labels), _listed(groups)
        test_groups = _hold_out(labels, groups, test, seed)
        rest = [
            (label, group) for label, group in zip(labels, groups, strict=True) if group not in test_groups
        ]
        validation_groups = _hold_out([r[0] for r in rest], [r[1] for r in rest], validation_fraction, seed)
        names = sorted(set(groups))
    return {
        group: "test" if group in test_groups else "validation" if group in validation_groups else "train"
        for group in names
    }


def _distinct(values: Sequence[str] | pa.Array) -> int:
    return len(pc.unique(values)) if isinstance(values, pa.Array) else len(set(values))


def _listed(values: Sequence[str] | pa.Array) -> list[str]:
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)
