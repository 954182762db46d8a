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

from collections.abc import Sequence
from typing import Any

import pandas as pd

from annotate.matching import Span, match
from schemas import vocabulary as V
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


def _columns(frame: pd.DataFrame, names: Sequence[str]) -> list[list[Any]]:
    return [frame[name].tolist() for name in names]


#: Span fields the policy and the votes read.
_SPAN_FIELDS = ("span_id", "label", "start", "end", *V.ATTRIBUTE_VALUES)


def spans_by_annotation(spans: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Annotation id -> its spans as records (file order), built column-wise in one pass: a groupby
    with a record conversion per annotation costs a pandas call per annotation."""
    names = [name for name in _SPAN_FIELDS if name in spans]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for annotation_id, *values in zip(*_columns(spans, ["annotation_id", *names]), strict=True):
        grouped.setdefault(str(annotation_id), []).append(dict(zip(names, values, strict=True)))
    return grouped


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _span(row: dict[str, Any]) -> Span:
    return Span(str(row["span_id"]), str(row["label"]), int(row["start"]), int(row["end"]))


#: Span label -> the names of its attributes.
_ATTRIBUTE_NAMES = {label.value: tuple(attributes) for label, attributes in V.SPAN_ATTRIBUTES.items()}


def _attributes(row: dict[str, Any]) -> tuple[Any, ...]:
    names = _ATTRIBUTE_NAMES.get(row["label"]) or V.SPAN_ATTRIBUTES[V.SpanLabel(row["label"])]
    return tuple(None if _missing(row.get(n)) else row.get(n) for n in names)


#: An annotation's spans for matching, and each span id's attribute values.
_Prepared = tuple[list[Span], dict[str, tuple[Any, ...]]]


def _prepare(rows: list[dict[str, Any]]) -> _Prepared:
    return [_span(s) for s in rows], {str(s["span_id"]): _attributes(s) for s in rows}


def _agreement(a: _Prepared, b: _Prepared) -> int:
    """Spans of ``a`` and ``b`` paired by the overlap rule that also carry the same attribute values."""
    pairs = match(a[0], b[0], "overlap")
    return sum(a[1][x.span_id] == b[1][y.span_id] for x, y in pairs)


#: A task's annotation as the policy reads it.
_MEMBER = ("annotation_id", "annotator", "created_at", "updated_at")


def _majority(members: list[dict[str, Any]], spans_of: dict[str, list[dict[str, Any]]]) -> str | None:
    humans = [str(m["annotation_id"]) for m in members if m["annotator"] != V.GOLD_ANNOTATOR]
    if len(humans) < 2:
        return None
    prepared = {a: _prepare(spans_of.get(a, [])) for a in humans}
    scores = {a: sum(_agreement(prepared[a], prepared[b]) for b in humans if b != a) for a in humans}
    best = max(scores.values())
    winners = [a for a, s in scores.items() if s == best]
    return winners[0] if len(winners) == 1 else None


def choose(
    annotations: pd.DataFrame,
    spans: pd.DataFrame,
    policy: Sequence[str] = DEFAULT_POLICY,
    spans_of: dict[str, list[dict[str, Any]]] | None = None,
) -> pd.DataFrame:
    """One annotation per task with the rule that chose it (column ``chosen_by``). ``spans_of``:
    :func:`spans_by_annotation` of ``spans`` when the caller has it already."""
    policy = parse_policy(policy)
    if "majority" not in policy:
        spans_of = {}
    elif spans_of is None:
        spans_of = spans_by_annotation(spans)
    tasks: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    names = [name for name in _MEMBER if name in annotations]
    columns = _columns(annotations, ["article_id", "target_id", *names])
    for article_id, target_id, *values in zip(*columns, strict=True):
        if _missing(article_id) or _missing(target_id):
            continue  # groupby leaves such rows out
        tasks.setdefault((article_id, target_id), []).append(dict(zip(names, values, strict=True)))
    chosen: list[tuple[str, str]] = []
    for members in tasks.values():
        pick = _pick(members, policy, spans_of)
        if pick is not None:
            chosen.append(pick)
    ids = pd.DataFrame(chosen, columns=["annotation_id", "chosen_by"])
    return annotations.merge(ids, on="annotation_id", how="inner")


def _key(member: dict[str, Any], names: Sequence[str], missing: int) -> tuple[tuple[int, Any], ...]:
    """A sort key where a missing value sorts before (``missing=0``) or after (``missing=1``) any value."""
    return tuple(
        (missing, "") if _missing(member.get(name)) else (1 - missing, member[name]) for name in names
    )


def _pick(
    members: list[dict[str, Any]], policy: Sequence[str], spans_of: dict[str, list[dict[str, Any]]]
) -> tuple[str, str] | None:
    for rule in policy:
        if rule == "gold":
            gold = [str(m["annotation_id"]) for m in members if m["annotator"] == V.GOLD_ANNOTATOR]
            if gold:
                return min(gold), rule
        elif rule == "majority":
            winner = _majority(members, spans_of)
            if winner is not None:
                return winner, rule
        elif rule == "latest":  # sorted with missing times first: the last one
            latest = max(members, key=lambda m: _key(m, ("updated_at", "created_at", "annotation_id"), 0))
            return str(latest["annotation_id"]), rule
        elif rule == "earliest":  # sorted with missing times last: the first one
            earliest = min(members, key=lambda m: _key(m, ("created_at", "annotation_id"), 1))
            return str(earliest["annotation_id"]), rule
    return None


def votes(
    chosen: pd.DataFrame,
    annotations: pd.DataFrame,
    spans: pd.DataFrame,
    labels: Sequence[str],
    spans_of: dict[str, list[dict[str, Any]]] | None = None,
) -> pd.DataFrame:
    """(chosen annotation id, chosen span id, annotator, voter annotation id, voter span id, attributes…):
    every human annotation's span matched (overlap rule) to a CLAIM/SOURCE span of its task's chosen
    annotation. The chosen annotation votes for itself unless it is the gold."""
    if spans_of is None:
        by_annotation = spans_by_annotation(spans.loc[spans["label"].isin(list(labels))])
    else:
        kept = set(labels)
        by_annotation = {
            a: own for a, rows in spans_of.items() if (own := [r for r in rows if r["label"] in kept])
        }
    humans = annotations.loc[annotations["annotator"] != V.GOLD_ANNOTATOR]
    voters: dict[tuple[Any, Any], list[tuple[str, str]]] = {}
    cells = _columns(humans, ["article_id", "target_id", "annotation_id", "annotator"])
    for article_id, target_id, annotation_id, annotator in zip(*cells, strict=True):
        if not (_missing(article_id) or _missing(target_id)):
            voters.setdefault((article_id, target_id), []).append((str(annotation_id), str(annotator)))
    rows: list[dict[str, Any]] = []
    names = ["annotation_id", "article_id", "target_id"]
    for values in zip(*_columns(chosen, names), strict=True):
        record = dict(zip(names, values, strict=True))
        own = by_annotation.get(str(record["annotation_id"]), [])
        if not own:
            continue
        own_by_id = {str(s["span_id"]): s for s in own}
        for voter_id, annotator in voters.get((record["article_id"], record["target_id"]), []):
            theirs = {str(s["span_id"]): s for s in by_annotation.get(voter_id, [])}
            if voter_id == record["annotation_id"]:
                pairs = [(s, s) for s in own_by_id.values()]
            else:
                matched = match([_span(s) for s in own], [_span(s) for s in theirs.values()], "overlap")
                pairs = [(own_by_id[x.span_id], theirs[y.span_id]) for x, y in matched]
            for mine, vote in pairs:
                rows.append(
                    {
                        "annotation_id": str(record["annotation_id"]),
                        "span_id": str(mine["span_id"]),
                        "annotator": annotator,
                        "voter_annotation_id": voter_id,
                        "voter_span_id": str(vote["span_id"]),
                        **{name: vote.get(name) for name in V.ATTRIBUTE_VALUES},
                    }
                )
    columns = [
        "annotation_id",
        "span_id",
        "annotator",
        "voter_annotation_id",
        "voter_span_id",
        *V.ATTRIBUTE_VALUES,
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["annotation_id", "span_id", "annotator"], kind="stable").reset_index(drop=True)
