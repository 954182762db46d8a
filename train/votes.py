"""Every annotator's judgement on a claim or source: vote lists, label distributions, and the account of
which annotation reached which config (used for the row, a vote on it, or only the ``annotations`` config).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import vocabulary as V
from train.policy import choose, matches, member, votes

#: Span labels that have a row of their own (claims, sources), hence votes.
VOTED_LABELS = (V.SpanLabel.CLAIM.value, V.SpanLabel.SOURCE.value)


@dataclass(frozen=True)
class Selection:
    """The annotation chosen per task (with ``chosen_by``) and every vote on its claims and sources."""

    policy: tuple[str, ...]
    chosen: pd.DataFrame
    votes: pd.DataFrame


def select(tables: dict[str, pd.DataFrame], policy: tuple[str, ...]) -> Selection:
    annotations, spans = tables["annotations"], tables["spans"]
    found = matches(annotations, spans)  # once for the policy and the votes
    chosen = choose(annotations, spans, policy, found)
    return Selection(tuple(policy), chosen, votes(chosen, annotations, spans, VOTED_LABELS, found))


def vote_columns(
    rows: pd.DataFrame, selection: Selection, attributes: dict[str, type[StrEnum]]
) -> dict[str, pa.Array]:
    """``<attr>_votes`` (list of {annotator, value}) and ``<attr>_distribution`` (share of each label in
    vocabulary order among the votes that give a value) for ``rows`` (columns annotation_id, span_id)."""
    votes = selection.votes
    found = pc.index_in(_span_keys(votes), value_set=_span_keys(rows))
    position = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    voting = np.flatnonzero(position >= 0)
    voters = _strings(votes["annotator"].astype(str))
    order = pc.sort_indices(  # stable: a row's votes by annotator, then in the votes' order
        pa.table({"position": position[voting], "annotator": voters.take(voting)}),
        sort_keys=[("position", "ascending"), ("annotator", "ascending")],
    )
    taken = voting[order.to_numpy(zero_copy_only=False)]
    positions = position[taken]
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(np.bincount(positions, minlength=len(rows)), out=offsets[1:])
    columns: dict[str, pa.Array] = {}
    annotators = _strings(votes["annotator"].take(taken).astype(str))
    for name, enum in attributes.items():
        values = _strings(votes[name].take(taken))
        struct = pa.StructArray.from_arrays([annotators, values], names=["annotator", "value"])
        columns[f"{name}_votes"] = pa.ListArray.from_arrays(pa.array(offsets), struct)
        labels = V.values(enum)
        found = pc.index_in(values, value_set=pa.array(labels, pa.string()))
        codes = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        valued = codes >= 0
        counts = np.bincount(
            positions[valued] * len(labels) + codes[valued], minlength=len(rows) * len(labels)
        ).reshape(len(rows), len(labels))
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        steps = pa.array(np.arange(0, shares.size + 1, len(labels), dtype=np.int32))
        columns[f"{name}_distribution"] = pa.ListArray.from_arrays(steps, pa.array(shares.ravel()))
    return columns


def _span_keys(frame: pd.DataFrame) -> pa.Array:
    """``<annotation_id>\x1f<span_id>`` of each row: one text key per span (ids never hold the unit
    separator: see the id patterns of :mod:`schemas.models`)."""
    parts = [_strings(frame[name].astype(str)) for name in ("annotation_id", "span_id")]
    return pc.binary_join_element_wise(*parts, "\x1f")


def _strings(column: pd.Series) -> pa.Array:
    """A column of text values (missing: null) as an Arrow string array, taken as it is when it is
    Arrow-backed already."""
    if column.dtype == object:  # an attribute no span of these tables has, or values read the careful way
        missing = column.isna().tolist()
        return pa.array([None if m else str(v) for v, m in zip(column, missing, strict=True)], pa.string())
    array = pa.array(column, from_pandas=True)
    array = (array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array).cast(pa.string())
    if array.null_count == 0 and array.buffers()[0] is not None:  # no validity bitmap when all are valid:
        # the export sizes its row groups by the Arrow bytes, which must not depend on how a column was made
        array = pa.Array.from_buffers(array.type, len(array), [None, *array.buffers()[1:]], 0, array.offset)
    return array


#: Statuses of an annotation in the account, in table order.
USED, VOTES, PARTLY, ONLY = "used", "votes", "partly votes", "annotations only"


def account(tables: dict[str, pd.DataFrame], selection: Selection) -> pd.DataFrame:
    """One row per annotation: annotator, status (see the constants), why it was not used, and the
    number of its CLAIM/SOURCE spans and of those that reached claims/sources (as row or vote)."""
    annotations = tables["annotations"][["annotation_id", "article_id", "target_id", "annotator"]]
    spans = tables["spans"]
    own = spans["annotation_id"].loc[member(spans["label"], VOTED_LABELS)].value_counts()  # one column
    reached = selection.votes.drop_duplicates(["voter_annotation_id", "voter_span_id"])
    reached_n = reached.groupby("voter_annotation_id").size()
    chosen = selection.chosen
    task_rule = dict(
        zip(
            zip(chosen["article_id"].tolist(), chosen["target_id"].tolist(), strict=True),
            chosen["chosen_by"].tolist(),
            strict=True,
        )
    )
    chosen_ids = set(selection.chosen["annotation_id"].astype(str))
    frame = annotations.copy()
    used = member(frame["annotation_id"], chosen_ids)
    own_n = frame["annotation_id"].map(own).fillna(0).to_numpy(dtype=np.int64)
    frame["spans"] = own_n
    frame["reached"] = np.where(
        used, own_n, frame["annotation_id"].map(reached_n).fillna(0).to_numpy(dtype=np.int64)
    )
    keys = zip(frame["article_id"].tolist(), frame["target_id"].tolist(), strict=True)
    rule = [task_rule.get(key) for key in keys]
    frame["reason"] = [
        "" if u else f"its task's row is the {r} annotation" for u, r in zip(used, rule, strict=True)
    ]
    frame["status"] = np.select(
        [used, frame["reached"] >= frame["spans"], frame["reached"] > 0],
        [USED, VOTES, PARTLY],
        default=ONLY,
    )
    return frame.sort_values(["annotator", "annotation_id"]).reset_index(drop=True)
