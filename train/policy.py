"""Which annotation of a task becomes its row in the one-row-per-claim configs, and every vote.

A policy is an ordered list of rules; the first rule that picks an annotation for a task wins:

- ``gold``: the adjudicated annotation (annotator ``gold``), when the task has one.
- ``majority``: among the task's human annotations (two or more), the one that agrees most with the
  others: for each annotation, the number of its spans that the overlap rule of
  :mod:`annotate.matching` pairs with a span of another annotation with the same attribute values,
  summed over the other annotations. A strict maximum wins; a tie (always the case with two
  annotators, whose agreement is symmetric) leaves the task to the next rule.
- ``latest``: the most recently updated annotation (ties: created, then annotation id).
- ``earliest``: the first created annotation (ties: annotation id).

Votes: every other annotation of the task is matched span by span (overlap rule) against the chosen
one; a matched span's attribute values become that annotator's vote on the chosen claim or source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from annotate.matching import match_table
from schemas import vocabulary as V
from schemas.crosstable import rows_of
from schemas.errors import StanceBankError
from stancebank.project import DEFAULT_POLICY, POLICIES

RULES = POLICIES


class PolicyError(StanceBankError, ValueError):
    """A policy that names an unknown rule or no rule at all."""


def parse_policy(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"gold,majority,latest"`` (or a list) -> a checked tuple of rules."""
    rules = tuple(r.strip() for r in (text.split(",") if isinstance(text, str) else text) if r.strip())
    bad = [r for r in rules if r not in RULES]
    if bad or not rules:
        raise PolicyError(f"the policy must be a comma-separated list of {list(RULES)}; got {text!r}")
    return rules


def member(values: pd.Series, of: Iterable[Any]) -> np.ndarray:
    """``values.isin(of)`` for text (a hash lookup in Arrow; missing values are members of nothing)."""
    array = pa.array(values.astype(str), from_pandas=True)
    found = pc.is_in(array, value_set=pc.unique(pa.array([str(v) for v in of], pa.string())))
    return found.to_numpy(zero_copy_only=False).astype(bool)


@dataclass(frozen=True)
class Matches:
    """Every two annotations of a task matched span by span (overlap rule), computed once for the
    policy and the votes: ``annotations`` (those with a task), ``spans`` (theirs, with ``group``: the
    position of their annotation in ``annotations``) and ``pairs`` (:func:`annotate.matching.match_table`
    of ``spans``: annotation positions ``a``, ``b``, span positions ``x``, ``y``)."""

    annotations: pd.DataFrame
    spans: pd.DataFrame
    pairs: pd.DataFrame


def matches(annotations: pd.DataFrame, spans: pd.DataFrame) -> Matches:
    """:class:`Matches` of the annotations of each task (rows without article or target are left out,
    as a groupby would)."""
    keyed = annotations.loc[annotations["article_id"].notna() & annotations["target_id"].notna()]
    keyed = keyed.reset_index(drop=True)
    task = keyed.groupby(["article_id", "target_id"], sort=False).ngroup().to_numpy()
    group = rows_of(pd.Index(keyed["annotation_id"].astype(str)), spans["annotation_id"].astype(str))
    own = spans.loc[group >= 0].reset_index(drop=True).assign(group=group[group >= 0])
    own["task"] = task[own["group"].to_numpy()]
    if own.empty:  # no spans (or a frame without span columns: the policy without majority)
        return Matches(
            keyed.assign(task=task), own, pd.DataFrame(columns=["a", "b", "x", "y"], dtype="int64")
        )
    return Matches(keyed.assign(task=task), own, match_table(own, "overlap"))


def _agreeing(found: Matches, pairs: pd.DataFrame) -> np.ndarray:
    """Whether each matched pair of spans carries the same attribute values (those of its label;
    missing equals missing)."""
    x, y = pairs["x"].to_numpy(), pairs["y"].to_numpy()
    same = np.ones(len(pairs), dtype=bool)
    labels: pd.Series | None = None
    of_label: dict[str, np.ndarray] = {}  # the pairs whose span has the label (one test per label)
    for name in V.ATTRIBUTE_VALUES:
        if name not in found.spans:
            continue
        if labels is None:
            labels = found.spans["label"]
        label = V.ATTRIBUTE_LABEL[name].value
        if label not in of_label:
            of_label[label] = (labels == label).fillna(False).to_numpy(dtype=bool)[x]
        # equal codes: equal values, or both missing (the code -1)
        codes, _ = pd.factorize(found.spans[name], use_na_sentinel=True)
        same &= ~of_label[label] | (codes[x] == codes[y])
    return same


def majority_winners(found: Matches) -> dict[tuple[Any, Any], str]:
    """Task (article id, target id) -> the human annotation that agrees most with the others, for tasks
    with two or more human annotations and a strict maximum."""
    frame = found.annotations
    human = (frame["annotator"] != V.GOLD_ANNOTATOR).to_numpy()
    pairs = found.pairs
    both = human[pairs["a"].to_numpy()] & human[pairs["b"].to_numpy()]
    agreeing = pairs.loc[both].loc[_agreeing(found, pairs.loc[both])]
    scores = np.bincount(agreeing["a"].to_numpy(), minlength=len(frame))
    humans = frame.loc[human].assign(score=scores[human])
    sized = humans.groupby("task")["score"].transform("size")
    humans = humans.loc[sized >= 2]
    best = humans.groupby("task")["score"].transform("max")
    top = humans.loc[humans["score"] == best]
    alone = top.loc[top.groupby("task")["task"].transform("size") == 1]
    keys = zip(alone["article_id"].tolist(), alone["target_id"].tolist(), strict=True)
    return dict(zip(keys, alone["annotation_id"].astype(str).tolist(), strict=True))


def choose(
    annotations: pd.DataFrame,
    spans: pd.DataFrame,
    policy: Sequence[str] = DEFAULT_POLICY,
    found: Matches | None = None,
) -> pd.DataFrame:
    """One annotation per task with the rule that chose it (column ``chosen_by``). ``found``:
    :func:`matches` of the tables when the caller has it already."""
    policy = parse_policy(policy)
    winners: dict[tuple[Any, Any], str] = {}
    if "majority" in policy:
        winners = majority_winners(found or matches(annotations, spans))
    keyed = annotations.loc[annotations["article_id"].notna() & annotations["target_id"].notna()]
    empty = pd.DataFrame({"annotation_id": pd.Series([], dtype=object), "chosen_by": []})
    if keyed.empty:
        return annotations.merge(empty, on="annotation_id", how="inner")
    task = keyed.groupby(["article_id", "target_id"], sort=False).ngroup().to_numpy()
    count = int(task.max()) + 1
    ids = keyed["annotation_id"].astype(str).to_numpy(object)
    pick, by = np.full(count, None, dtype=object), np.full(count, None, dtype=object)
    done = np.zeros(count, dtype=bool)
    for rule in policy:
        tasks, chosen = _candidates(rule, keyed, task, ids, winners)
        free = ~done[tasks]
        pick[tasks[free]], by[tasks[free]] = chosen[free], rule
        done[tasks[free]] = True
    ids_by = pd.DataFrame({"annotation_id": pick[done], "chosen_by": by[done]})
    return annotations.merge(ids_by if len(ids_by) else empty, on="annotation_id", how="inner")


def _candidates(
    rule: str, keyed: pd.DataFrame, task: np.ndarray, ids: np.ndarray, winners: dict[tuple[Any, Any], str]
) -> tuple[np.ndarray, np.ndarray]:
    """(tasks, the annotation id the rule picks for each): ``gold``, the smallest id of a gold annotation;
    ``majority``, the winner; ``latest``, the last by updated, created time and id with a missing value
    before any; ``earliest``, the first by created time and id with a missing value after any."""
    if rule == "gold":
        gold = (keyed["annotator"] == V.GOLD_ANNOTATOR).fillna(False).to_numpy(dtype=bool)
        smallest = pd.Series(ids[gold], dtype=object).groupby(task[gold]).min()
        return smallest.index.to_numpy(), smallest.to_numpy(object)
    if rule == "majority":
        first = pd.DataFrame(
            {"task": task, "a": keyed["article_id"].tolist(), "t": keyed["target_id"].tolist()}
        )
        first = first.drop_duplicates("task")
        found = [winners.get(key) for key in zip(first["a"].tolist(), first["t"].tolist(), strict=True)]
        given = np.array([w is not None for w in found], dtype=bool)
        return first["task"].to_numpy()[given], np.array(found, dtype=object)[given]
    names, missing = (
        (("updated_at", "created_at", "annotation_id"), 0)
        if rule == "latest"
        else (("created_at", "annotation_id"), 1)
    )
    order: dict[str, Any] = {"task": task}
    for i, name in enumerate(names):
        column = keyed[name] if name in keyed else pd.Series([None] * len(keyed), dtype=object)
        absent = column.isna().to_numpy(dtype=bool)  # None, NaN or NaT (text is never missing)
        order[f"f{i}"] = np.where(absent, missing, 1 - missing)
        order[f"v{i}"] = column.where(~absent, "").reset_index(drop=True)
    ranked = pd.DataFrame(order).assign(row=np.arange(len(keyed)))
    ranked = ranked.sort_values(list(order), kind="stable")
    ends = ranked.drop_duplicates("task", keep="last" if rule == "latest" else "first")
    return ends["task"].to_numpy(), ids[ends["row"].to_numpy()]


#: The columns of :func:`votes`.
VOTE_COLUMNS = [
    "annotation_id",
    "span_id",
    "annotator",
    "voter_annotation_id",
    "voter_span_id",
    *V.ATTRIBUTE_VALUES,
]


def votes(
    chosen: pd.DataFrame,
    annotations: pd.DataFrame,
    spans: pd.DataFrame,
    labels: Sequence[str],
    found: Matches | None = None,
) -> pd.DataFrame:
    """(chosen annotation id, chosen span id, annotator, voter annotation id, voter span id, attributes…):
    every human annotation's span matched (overlap rule) to a CLAIM/SOURCE span of its task's chosen
    annotation. The chosen annotation votes for itself unless it is the gold."""
    found = found or matches(annotations, spans)
    frame, own = found.annotations, found.spans
    ids = frame["annotation_id"].astype(str).array
    is_chosen = member(frame["annotation_id"], chosen["annotation_id"].astype(str).tolist())
    human = (frame["annotator"] != V.GOLD_ANNOTATOR).to_numpy()
    voted = member(own["label"], labels)
    pairs = found.pairs
    a, b, x = (pairs[name].to_numpy() for name in ("a", "b", "x"))
    others = pairs.loc[is_chosen[a] & human[b] & voted[x]]
    mine = np.flatnonzero(voted & is_chosen[own["group"].to_numpy()] & human[own["group"].to_numpy()])
    group = own["group"].to_numpy()[mine]
    itself = pd.DataFrame({"a": group, "b": group, "x": mine, "y": mine})
    every = pd.concat([others, itself], ignore_index=True)
    x, y, b = every["x"].to_numpy(), every["y"].to_numpy(), every["b"].to_numpy()
    span_ids = own["span_id"].astype(str).array
    # columns taken from Arrow-backed arrays as they are (no object array to infer a type from again)
    rows = pd.DataFrame(
        {
            "annotation_id": ids.take(every["a"].to_numpy()),
            "span_id": span_ids.take(x),
            "annotator": frame["annotator"].astype(str).array.take(b),
            "voter_annotation_id": ids.take(b),
            "voter_span_id": span_ids.take(y),
            **{
                name: own[name].array.take(y) if name in own else np.full(len(y), None, object)
                for name in V.ATTRIBUTE_VALUES
            },
            "_voter": b,
        }
    )
    rows = rows.sort_values(["annotation_id", "span_id", "annotator", "_voter"], kind="stable")
    return rows[VOTE_COLUMNS].reset_index(drop=True)
