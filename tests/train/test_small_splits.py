"""A small project's articles split without a crash, whatever the mix of stances (a new user's trial)."""

from __future__ import annotations

import pytest

from train.splits import assign_splits


@pytest.mark.parametrize(
    "labels",
    [
        ["support", "neutral", "neutral"],
        ["support", "oppose", "neutral"],
        ["support", "support", "neutral", "neutral", "oppose", "oppose"],
    ],
)
def test_too_few_claims_per_stance_to_stratify_still_split(labels: list[str]) -> None:
    groups = [f"a{i}" for i in range(len(labels))]
    splits = assign_splits(labels, groups)
    assert set(splits) == set(groups)
    assert set(splits.values()) == {"train", "validation", "test"}
