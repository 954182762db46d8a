"""A small project's articles split without a crash, whatever the mix of stances (a new user's trial)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _majority_reference(labels: list[str], groups: list[str]) -> tuple[list[str], list[str]]:
    """The rule of train.splits._majority_labels, row by row in pandas (as it was first written)."""
    import pandas as pd

    items = pd.DataFrame({"group": list(groups), "label": list(labels)})
    counts = items.groupby(["group", "label"]).size().reset_index(name="n")
    top = counts.sort_values(["group", "n", "label"], ascending=[True, False, True]).drop_duplicates("group")
    majority = top["label"].astype(str)
    sizes = majority.value_counts()
    majority = majority.where(majority.map(sizes).to_numpy() >= 20, other="(rare)")
    if (majority == "(rare)").sum() < 20:
        majority = majority.replace("(rare)", str(majority.value_counts().index[0]))
    return top["group"].astype(str).tolist(), majority.astype(str).tolist()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "B", "é", "😀", "a1", "a10", "a2", "z", "Ω", "a\u0301"]),
            st.sampled_from(["support", "oppose", "neutral", "none", "Ä", "😀x"]),
        ),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=1, max_value=30),
)
@settings(max_examples=200, deadline=None)
def test_majority_labels_follow_the_rule_row_by_row(pairs: list[tuple[str, str]], spread: int) -> None:
    """Each group's majority label (ties to the first label in code point order), groups in code
    point order, rare labels pooled: as the row-by-row rule gives, for any mix of groups and labels."""
    from train.splits import _majority_labels

    groups = [f"{g}{i % spread}" for i, (g, _) in enumerate(pairs)]
    labels = [label for _, label in pairs]
    assert _majority_labels(labels, groups) == _majority_reference(labels, groups)


def test_many_groups_pool_their_rare_labels_as_the_rule_says() -> None:
    """Enough groups for strata of their own (20 and more) and a pool of rare labels (with 20 and more
    groups) beside a pool of fewer than 20 joined to the largest stratum."""
    from train.splits import _majority_labels

    labels = ["support"] * 60 + ["oppose"] * 25 + ["neutral"] * 12 + [f"rare{i}" for i in range(21)]
    groups = [f"g{i:03d}" for i in range(len(labels))]
    assert _majority_labels(labels, groups) == _majority_reference(labels, groups)
    got = _majority_labels(labels[:-10], groups[:-10])
    assert got == _majority_reference(labels[:-10], groups[:-10])
    assert set(got[1]) == {"support", "oppose", "(rare)"}
    few = labels[:90]  # five neutral groups: too few for a pool, they join the largest stratum
    assert _majority_labels(few, groups[:90]) == _majority_reference(few, groups[:90])
    assert set(_majority_labels(few, groups[:90])[1]) == {"support", "oppose"}


def test_a_tie_goes_to_the_label_first_in_code_point_order() -> None:
    """Forty groups with one claim of each of two stances take the first ('oppose'), twenty-five with
    'support' only keep it: both strata are large enough to stand."""
    from train.splits import _majority_labels

    labels = ["support", "oppose"] * 40 + ["support"] * 25
    groups = [f"t{i // 2:02d}" for i in range(80)] + [f"u{i:02d}" for i in range(25)]
    names, majority = _majority_labels(labels, groups)
    assert names == sorted(set(groups))
    assert majority == ["oppose"] * 40 + ["support"] * 25
    assert (names, majority) == _majority_reference(labels, groups)


def test_the_most_frequent_label_of_a_group_is_its_majority() -> None:
    """Thirty groups of two 'support' claims and one 'oppose' are 'support'; twenty-five of one
    'oppose' claim are 'oppose'."""
    from train.splits import _majority_labels

    labels = ["oppose", "support", "support"] * 30 + ["oppose"] * 25
    groups = [f"m{i // 3:02d}" for i in range(90)] + [f"o{i:02d}" for i in range(25)]
    assert _majority_labels(labels, groups)[1] == ["support"] * 30 + ["oppose"] * 25
    assert _majority_labels(labels, groups) == _majority_reference(labels, groups)


def _split_map_reference(
    claims: list[tuple[str, str | None, str]], proportions: tuple[float, float, float], seed: int
) -> dict[str, str]:
    """train.export.split_map's rule row by row (as it was first written): each claim's stance
    (missing or empty: "none"), its group's split; an article takes the split of its last claim, in
    the order of its first; an article without claims goes to train."""
    ids = [article for article, _, _ in claims]
    stances = [stance or "none" for _, stance, _ in claims]
    groups = [group for _, _, group in claims]
    by_group = (
        assign_splits(stances, groups, proportions=proportions, seed=seed) if len(set(groups)) >= 2 else {}
    )
    assert list(by_group) == sorted(set(groups)) or not by_group  # groups in code point order
    return {a: by_group[g] for a, g in zip(ids, groups, strict=True) if g in by_group}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "é", "😀", "a1", "a10", "z", "Ω", "a\u0301"]),
            st.sampled_from(["support", "oppose", "neutral", "", None]),
            st.sampled_from(["", "g1", "g2", "Ä"]),
        ),
        min_size=0,
        max_size=120,
    ),
    st.integers(min_value=1, max_value=40),
    st.booleans(),
    st.sampled_from([3, 10, 2_000]),
    st.integers(min_value=0, max_value=3),
)
@settings(max_examples=150, deadline=None)
def test_split_map_follows_the_rule_row_by_row(
    rows: list[tuple[str, str | None, str]], spread: int, grouped: bool, limit: int, seed: int
) -> None:
    """Column-wise split_map against the row-by-row rule, with and without importer groups, on both
    sides of GROUPED_LIMIT, for any article ids, stances (missing, empty) and order of claims."""
    import pyarrow as pa

    from train import splits as splits_module
    from train.export import split_map

    claims = [
        (f"{a}{i % spread}", s, f"{g}{i % spread}" if grouped else f"{a}{i % spread}")
        for i, (a, s, g) in enumerate(rows)
    ]
    table = {
        "article_id": pa.array([c[0] for c in claims], pa.string()),
        "stance": pa.array([c[1] for c in claims], pa.string()),
    }
    if grouped:
        table["group"] = pa.array([c[2] for c in claims], pa.string())
    keys = {"claims": pa.table(table), "pairs": pa.table({"article_id": pa.array([], pa.string())})}
    articles = sorted({c[0] for c in claims} | {"lonely"})
    proportions = (0.6, 0.2, 0.2)
    original = splits_module.GROUPED_LIMIT
    splits_module.GROUPED_LIMIT = limit
    try:
        got = split_map(keys, articles, proportions=proportions, seed=seed)
        expected = _split_map_reference(claims, proportions, seed)
    finally:
        splits_module.GROUPED_LIMIT = original
    for article in articles:
        expected.setdefault(article, "train")
    assert list(got.items()) == list(expected.items())
