"""Rows of the dataset configs, built from validated tables as Arrow tables (pure functions, no files).

Column-wise throughout: joins and sorts in pandas, nested lists (an article's spans, a claim's cues)
assembled from sorted child rows and offsets with Arrow, so a million spans never become a million
Python dicts. Labels stay strings here; :mod:`train.export` turns them into ClassLabel integers.
Row order is deterministic: articles and pairs by (article_id, target_id), claims and sources by
(article_id, target_id, start, end, id).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import vocabulary as V
from stancebank.project import DEFAULT_POLICY
from train.policy import choose
from train.votes import Selection, select, vote_columns

CONTEXT_LIMIT = 600
#: Columns every config repeats from the task (article + target + annotation).
BASE = (
    "article_id",
    "target_id",
    "target",
    "title",
    "outlet",
    "url",
    "published",
    "language",
    "outlet_reliability",
    "synthetic",
    "annotation_id",
    "annotator",
    "chosen_by",
)
_SPAN_FIELDS = (
    "span_id",
    "label",
    "start",
    "end",
    "text",
    *V.ATTRIBUTE_VALUES,
    "original_label",
    "original_score",
)


def chosen_annotations(
    annotations: pd.DataFrame, spans: pd.DataFrame | None = None, policy: tuple[str, ...] = DEFAULT_POLICY
) -> pd.DataFrame:
    """One annotation per task, chosen by ``policy`` (see :mod:`train.policy`)."""
    return choose(annotations, annotations.iloc[0:0] if spans is None else spans, policy)


def context(text: str, start: int, end: int) -> str:
    """The line(s) of the article that hold the span, at most CONTEXT_LIMIT characters around it."""
    left = max(text.rfind("\n", 0, start) + 1, start - CONTEXT_LIMIT // 2)
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    right = min(right, end + CONTEXT_LIMIT // 2)
    return text[left:right].strip()


def _arrow(values: Any) -> pa.Array:
    """A pandas column (or list) as an Arrow array; pandas' missing values become nulls."""
    if isinstance(values, pd.Series):
        if values.dtype == object:
            return pa.array([None if isinstance(v, float) and math.isnan(v) else v for v in values.tolist()])
        array = pa.array(values, from_pandas=True)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return pa.array(values)


#: Metadata keys kept as text (the others are numbers).
_TEXT_KEYS = ("label", "scale", "split_group", "rest")


def _original(metadata: pd.Series, key: str) -> pa.Array:
    """An original label, scale name or group (as text) or a score or bound (as a number) kept in
    imported records' metadata."""
    if not metadata.notna().any():
        return pa.nulls(len(metadata), pa.string() if key in _TEXT_KEYS else pa.float64())
    values: list[Any] = [m.get(key) if isinstance(m, dict) else None for m in metadata.tolist()]
    if key in _TEXT_KEYS:
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    numbers = [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values]
    return pa.array(numbers, pa.float64())


def _lists(parents: np.ndarray, count: int, values: pa.Array) -> pa.ListArray:
    """Child values (sorted by parent position) as one list per parent, empty where it has none."""
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum(np.bincount(parents, minlength=count), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _struct(frame: pd.DataFrame, names: tuple[str, ...], extra: dict[str, pa.Array]) -> pa.StructArray:
    arrays = [extra[name] if name in extra else _arrow(frame[name]) for name in names]
    return pa.StructArray.from_arrays(arrays, names=list(names))


def _table(columns: dict[str, Any]) -> pa.Table:
    return pa.table({name: v if isinstance(v, pa.Array) else _arrow(v) for name, v in columns.items()})


def _base(tables: dict[str, pd.DataFrame], chosen: pd.DataFrame) -> pd.DataFrame:
    """One row per annotation of ``chosen`` with its target and article fields."""
    articles = tables["articles"].drop_duplicates("article_id")
    targets = tables["targets"].drop_duplicates("target_id")[["target_id", "text"]]
    extra = [c for c in ("chosen_by", "created_at", "updated_at", "guideline_version") if c in chosen]
    base = (
        chosen[
            [
                "article_id",
                "target_id",
                "annotation_id",
                "annotator",
                "related",
                "doc_stance",
                "metadata",
                *extra,
            ]
        ]
        .merge(targets.rename(columns={"text": "target"}), on="target_id", how="left")
        .merge(
            articles.drop(columns=["metadata", "_file", "_line"]).rename(columns={"text": "article_text"}),
            on="article_id",
            how="left",
        )
        .reset_index(drop=True)
    )
    base["synthetic"] = base["synthetic"].astype(bool)
    return base


def _nested(tables: dict[str, pd.DataFrame], base: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    row_of = pd.Series(np.arange(len(base)), index=pd.Index(base["annotation_id"]))
    spans = _children(tables["spans"], row_of, ["start", "end", "label", "span_id"])
    spans["start"], spans["end"] = spans["start"].astype("int64"), spans["end"].astype("int64")
    relations = _children(tables["relations"], row_of, ["from_id", "to_id", "type"])
    return spans, relations


def _span_lists(base: pd.DataFrame, spans: pd.DataFrame, relations: pd.DataFrame) -> dict[str, pa.Array]:
    span_structs = _struct(
        spans,
        _SPAN_FIELDS,
        {
            "original_label": _original(spans["metadata"], "label"),
            "original_score": _original(spans["metadata"], "score"),
        },
    )
    return {
        "spans": _lists(spans["row"].to_numpy(), len(base), span_structs),
        "relations": _lists(
            relations["row"].to_numpy(), len(base), _struct(relations, ("type", "from_id", "to_id"), {})
        ),
    }


def build_rows(tables: dict[str, pd.DataFrame], selection: Selection | None = None) -> dict[str, pa.Table]:
    """articles / claims / sources / pairs (one row per task's chosen annotation, with every annotator's
    votes) and annotations (one row per annotation) as Arrow tables with string labels, deterministic.

    Every annotation is joined to its task and its spans and relations once: the chosen ones are those
    rows (``chosen_by`` set), in the same order, since a task has one chosen annotation."""
    selection = selection or select(tables, DEFAULT_POLICY)
    rule = selection.chosen.set_index("annotation_id")["chosen_by"]
    everything = tables["annotations"].sort_values(
        ["article_id", "target_id", "annotation_id"], kind="stable"
    )
    every = _base(tables, everything.assign(chosen_by=everything["annotation_id"].map(rule)))
    every_spans, every_relations = _nested(tables, every)
    used = every["chosen_by"].notna().to_numpy(dtype=bool)
    base = every.loc[used].reset_index(drop=True)
    spans, relations = _of_rows(every_spans, used), _of_rows(every_relations, used)
    texts = base["article_text"].tolist()
    ends = _ends(spans, relations)  # each relation's head and tail span, for claims and sources
    base_columns = {name: base[name] for name in BASE}
    return {
        "articles": _table(
            {
                **base_columns,
                "text": base["article_text"],
                "licence": base["licence"],
                **_span_lists(base, spans, relations),
            }
        ),
        "claims": _claims(base, texts, spans, relations, selection, ends),
        "sources": _sources(base, texts, spans, relations, selection, ends),
        "pairs": _pairs(base),
        "annotations": _annotations(every, every_spans, every_relations),
    }


def _of_rows(children: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    """The spans or relations (sorted row by row) of the rows ``kept``, renumbered as those rows are
    once the others are left out (the order stays sorted)."""
    rows = children["row"].to_numpy()
    mine = kept[rows]
    renumbered = np.cumsum(kept) - 1
    return children.loc[mine].assign(row=renumbered[rows[mine]]).reset_index(drop=True)


def _annotations(base: pd.DataFrame, spans: pd.DataFrame, relations: pd.DataFrame) -> pa.Table:
    """Every annotation, with whether (and by which policy rule) it is its task's row."""
    return _table(
        {
            **{name: base[name] for name in BASE},
            "created_at": base["created_at"].astype(str),
            "updated_at": base["updated_at"].astype(str),
            "guideline_version": base["guideline_version"],
            "used": base["chosen_by"].notna(),
            **_span_lists(base, spans, relations),
        }
    )


def _children(frame: pd.DataFrame, row_of: pd.Series, order: list[str]) -> pd.DataFrame:
    """Spans or relations of the chosen annotations, with their task's row, sorted row by row."""
    ids = pa.array(row_of.index.astype(str), from_pandas=True)
    found = pc.index_in(pa.array(frame["annotation_id"].astype(str), from_pandas=True), value_set=ids)
    rows = found.fill_null(-1).to_numpy(zero_copy_only=False)
    frame = frame.drop(columns=["_file", "_line", "article_id"])
    kept = frame if (rows >= 0).all() else frame.loc[rows >= 0]
    kept = kept.assign(row=row_of.to_numpy()[rows[rows >= 0]])
    return _sorted(kept, ["row", *order])


def _joined(annotation_ids: pd.Series, span_ids: pd.Series) -> pd.Series:
    """``<annotation_id>/<span_id>`` row by row (as text even when there are no rows: an empty column
    has no type of its own)."""
    return annotation_ids.astype(str) + "/" + span_ids.astype(str)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame.sort_values(keys, kind="stable")`` by Arrow's stable sort (text by code point, as Python
    compares it; missing values last)."""
    table = pa.table({key: pa.array(frame[key], from_pandas=True) for key in keys})
    order = pc.sort_indices(table, sort_keys=[(key, "ascending", "at_end") for key in keys])
    return frame.iloc[order.to_numpy()].reset_index(drop=True)


def _pairs(base: pd.DataFrame) -> pa.Table:
    labels = [
        None if label is None else label.value
        for label in (
            V.document_stance(
                None if pd.isna(related) else bool(related), None if pd.isna(stance) else stance
            )
            for related, stance in zip(base["related"].tolist(), base["doc_stance"].tolist(), strict=True)
        )
    ]
    keep = np.array([label is not None for label in labels], dtype=bool)
    pairs = base.loc[keep]
    return _table(
        {
            **{name: pairs[name] for name in BASE},
            "text": pairs["article_text"],
            "related": pairs["related"].astype(bool),
            "doc_stance": pairs["doc_stance"],
            "doc_label": pa.array([label for label in labels if label is not None], pa.string()),
            "original_label": _original(pairs["metadata"], "label"),
            "group": _group(pairs),
        }
    )


def _group(task: pd.DataFrame) -> pa.Array:
    """The group splits and cross-validation keep together: the importer's ``split_group`` (a claim,
    topic or event) from the annotation's metadata, else the article."""
    named = _original(task["metadata"], "split_group").to_pylist()
    return pa.array(
        [g if g else a for g, a in zip(named, task["article_id"].tolist(), strict=True)], pa.string()
    )


#: Position in the spans of each relation's head and tail span (-1: none), see :func:`_ends`.
Ends = tuple[np.ndarray, np.ndarray]


def _ends(spans: pd.DataFrame, relations: pd.DataFrame) -> Ends:
    """Position in ``spans`` of each relation's head (``from_id``) and tail (``to_id``) span in its row
    (-1: none), by one sorted lookup of (row, span id) pairs; a row's span ids are unique (validated)."""
    ids = pd.concat([spans["span_id"], relations["from_id"], relations["to_id"]], ignore_index=True)
    codes = pd.factorize(ids)[0].astype(np.int64) + 1  # 0: a missing id
    width, n, m = int(codes.max(initial=0)) + 1, len(spans), len(relations)
    if not n:
        return np.full(m, -1, dtype=np.int64), np.full(m, -1, dtype=np.int64)
    keys = spans["row"].to_numpy(np.int64) * width + codes[:n]
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    rows = relations["row"].to_numpy(np.int64) * width

    def find(wanted: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(ordered, wanted), n - 1)
        return np.where(ordered[at] == wanted, order[at], -1)

    return find(rows + codes[n : n + m]), find(rows + codes[n + m :])


def _contexts(texts: list[str], spans: pd.DataFrame) -> tuple[list[str], list[int]]:
    """:func:`context` of every span, and where each starts in its article (so ``start - context_start``
    is the span's offset inside its context); one-line texts only need the character window."""
    half = CONTEXT_LIMIT // 2
    one_line = ["\n" not in text for text in texts]
    contexts, starts = [], []
    for row, start, end in zip(
        spans["row"].tolist(), spans["start"].tolist(), spans["end"].tolist(), strict=True
    ):
        text = texts[row]
        if one_line[row]:
            left, right = max(start - half, 0), end + half
        else:
            left = max(text.rfind("\n", 0, start) + 1, start - half)
            right = text.find("\n", end)
            right = min(len(text) if right < 0 else right, end + half)
        window = text[left:right]
        lead = len(window) - len(window.lstrip())  # the context's own start, never past the span's
        contexts.append(window.strip())
        starts.append(left + min(lead, start - left))
    return contexts, starts


def _task_rows(base: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The task columns (:data:`BASE` and the annotation's metadata) of each claim or source's row; not
    the article text, which would be copied once per claim."""
    return base[[*BASE, "metadata"]].iloc[rows].reset_index(drop=True)


def _through(mapping: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``mapping[positions]``, -1 where a position is -1."""
    out = np.full(len(positions), -1, dtype=np.int64)
    found = positions >= 0
    out[found] = mapping[positions[found]]
    return out


def claim_links(
    spans: pd.DataFrame, relations: pd.DataFrame, is_claim: np.ndarray, ends: Ends | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(each claim's source: the head span of its ``source_of`` relation with the smallest head id, -1
    for none; the claim of each ``cue_of`` relation into a claim and its head span, by claim, then
    head start, then head id, then as listed), claims numbered in ``spans`` order (``is_claim``)."""
    claim_of = np.full(len(spans), -1, dtype=np.int64)  # span position -> claim position
    claim_of[is_claim] = np.arange(int(is_claim.sum()))
    head, tail = ends or _ends(spans, relations)
    kind = relations["type"].fillna("")
    from_rank = pd.factorize(relations["from_id"], sort=True)[0]  # the ids' order, as a sort reads it
    of_claim = _through(claim_of, tail)
    found = (head >= 0) & (of_claim >= 0)
    linked = np.flatnonzero((kind == V.RelationType.SOURCE_OF).to_numpy(dtype=bool) & found)
    linked = linked[np.lexsort((from_rank[linked], of_claim[linked]))]
    first = linked[np.r_[True, of_claim[linked][1:] != of_claim[linked][:-1]]] if len(linked) else linked
    source_of_claim = np.full(int(is_claim.sum()), -1, dtype=np.int64)
    source_of_claim[of_claim[first]] = head[first]
    cued = np.flatnonzero((kind == V.RelationType.CUE_OF).to_numpy(dtype=bool) & found)
    head_start = spans["start"].to_numpy(np.int64)[head[cued]]
    cued = cued[np.lexsort((from_rank[cued], head_start, of_claim[cued]))]
    return source_of_claim, of_claim[cued], head[cued]


def source_links(
    spans: pd.DataFrame, relations: pd.DataFrame, is_source: np.ndarray, ends: Ends | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the ``source_of`` relations from a source to a span found, the source of each and its tail
    span) by source, then tail start, then tail id, then as listed; sources numbered in ``spans`` order
    (``is_source``)."""
    source_of = np.full(len(spans), -1, dtype=np.int64)  # span position -> source position
    source_of[is_source] = np.arange(int(is_source.sum()))
    head, tail = ends or _ends(spans, relations)
    of_source = _through(source_of, head)
    kind = relations["type"].fillna("")
    linked = np.flatnonzero(
        (kind == V.RelationType.SOURCE_OF).to_numpy(dtype=bool) & (of_source >= 0) & (tail >= 0)
    )
    id_rank = pd.factorize(spans["span_id"], sort=True)[0]
    starts = spans["start"].to_numpy(np.int64)
    linked = linked[np.lexsort((id_rank[tail[linked]], starts[tail[linked]], of_source[linked]))]
    return linked, of_source[linked], tail[linked]


def _claims(
    base: pd.DataFrame,
    texts: list[str],
    spans: pd.DataFrame,
    relations: pd.DataFrame,
    selection: Selection,
    ends: Ends,
) -> pa.Table:
    is_claim = (spans["label"] == V.SpanLabel.CLAIM).fillna(False).to_numpy(dtype=bool)
    claims = spans.loc[is_claim].reset_index(drop=True)
    source_of_claim, cue_claims, cue_heads = claim_links(spans, relations, is_claim, ends)
    for field in ("text", "identified", "source_type", "reliability"):
        claims[f"head_{field}"] = spans[field].array.take(source_of_claim, allow_fill=True)
    cues = pd.DataFrame(
        {
            "position": cue_claims,
            "head_text": spans["text"].array.take(cue_heads),
            "head_cue_type": spans["cue_type"].array.take(cue_heads),
        }
    )
    certainty, polarity = claims["certainty"].tolist(), claims["polarity"].tolist()
    graded = {(c, p): V.factbank_code(c, p) for c in V.values(V.Certainty) for p in V.values(V.Polarity)}
    values = {pair: code.value for pair, code in graded.items()}
    scores = {pair: V.FACTUALITY_SCORE[code] for pair, code in graded.items()}
    pairs = list(zip(certainty, polarity, strict=True))
    task = _task_rows(base, claims["row"].to_numpy())
    contexts, context_starts = _contexts(texts, claims)
    positions = cues["position"].to_numpy()
    return _table(
        {
            **{name: task[name] for name in BASE},
            "claim_id": _joined(task["annotation_id"], claims["span_id"].reset_index(drop=True)),
            "text": claims["text"],
            "start": claims["start"],
            "end": claims["end"],
            "context": contexts,
            "context_start": pa.array(context_starts, pa.int64()),
            "stance": claims["stance"],
            "certainty": claims["certainty"],
            "polarity": claims["polarity"],
            "factbank": pa.array([values.get(pair) for pair in pairs], pa.string()),
            "factuality": pa.array([scores.get(pair) for pair in pairs], pa.float64()),
            "source_text": claims["head_text"],
            "source_identified": claims["head_identified"],
            "source_type": claims["head_source_type"],
            "source_reliability": claims["head_reliability"],
            "cue_texts": _lists(positions, len(claims), _arrow(cues["head_text"])),
            "cue_types": _lists(positions, len(claims), _arrow(cues["head_cue_type"])),
            "original_label": _original(claims["metadata"], "label"),
            "original_score": _original(claims["metadata"], "score"),
            "score_min": _original(claims["metadata"], "scale_min"),
            "score_max": _original(claims["metadata"], "scale_max"),
            "score_scale": _original(claims["metadata"], "scale"),
            "token_info": _original(claims["metadata"], "rest"),
            "group": _group(task),
            **vote_columns(
                pd.DataFrame(
                    {"annotation_id": task["annotation_id"], "span_id": claims["span_id"].to_numpy()}
                ),
                selection,
                {"stance": V.Stance, "certainty": V.Certainty, "polarity": V.Polarity},
            ),
        }
    )


def _sources(
    base: pd.DataFrame,
    texts: list[str],
    spans: pd.DataFrame,
    relations: pd.DataFrame,
    selection: Selection,
    ends: Ends,
) -> pa.Table:
    is_source = (spans["label"] == V.SpanLabel.SOURCE).fillna(False).to_numpy(dtype=bool)
    sources = spans.loc[is_source].reset_index(drop=True)
    linked, positions, tails = source_links(spans, relations, is_source, ends)
    owner = base["annotation_id"].iloc[relations["row"].to_numpy()[linked]].reset_index(drop=True)
    own = {
        name: spans[name].iloc[tails].reset_index(drop=True)
        for name in ("span_id", "text", "stance", "certainty")
    }
    task = _task_rows(base, sources["row"].to_numpy())
    return _table(
        {
            **{name: task[name] for name in BASE},
            "source_id": _joined(task["annotation_id"], sources["span_id"]),
            "text": sources["text"],
            "start": sources["start"],
            "end": sources["end"],
            "context": _contexts(texts, sources)[0],
            "identified": sources["identified"],
            "source_type": sources["source_type"],
            "reliability": sources["reliability"],
            "claim_ids": _lists(positions, len(sources), _arrow(_joined(owner, own["span_id"]))),
            "claim_texts": _lists(positions, len(sources), _arrow(own["text"])),
            "claim_stances": _lists(positions, len(sources), _arrow(own["stance"])),
            "claim_certainties": _lists(positions, len(sources), _arrow(own["certainty"])),
            **vote_columns(
                pd.DataFrame(
                    {"annotation_id": task["annotation_id"], "span_id": sources["span_id"].to_numpy()}
                ),
                selection,
                {"identified": V.Identified, "source_type": V.SourceType, "reliability": V.Reliability},
            ),
        }
    )
