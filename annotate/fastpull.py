"""Converting a large Label Studio export column-wise: Arrow reads it, numpy checks every region at once.

The export (one JSON array of tasks) is cut into tasks with msgspec (no object per result), read by
Arrow's JSON reader against the shape of our labelling config, and flattened: tasks → annotations →
results. An annotation is *plain* when every result is a well-formed span label, per-region choice or
relation, its offsets reproduce its text in the task's article, the task is one we pushed, the text is
unchanged and the annotation was not cancelled. Plain annotations become records here; every other one
goes through :func:`annotate.convert.export_to_records` (its own task re-parsed), which converts it or
rejects it with the precise reason. A test converts fuzzed exports both ways and requires equal results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from annotate import convert
from annotate.config import SPANS_NAME, TEXT_NAME
from annotate.fastdoc import documents, plain_document_results
from schemas import vocabulary as V
from schemas.offsets import ArticleTexts

_STRINGS = pa.list_(pa.string())
_RESULT = pa.struct(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("from_name", pa.string()),
        (
            "value",
            pa.struct(
                [
                    ("start", pa.int64()),
                    ("end", pa.int64()),
                    ("text", pa.string()),
                    ("labels", _STRINGS),
                    ("choices", _STRINGS),
                ]
            ),
        ),
        ("from_id", pa.string()),
        ("to_id", pa.string()),
        ("labels", _STRINGS),
        ("direction", pa.string()),
    ]
)
_ANNOTATION = pa.struct(
    [
        ("id", pa.int64()),
        ("completed_by", pa.int64()),
        ("was_cancelled", pa.bool_()),
        ("created_at", pa.string()),
        ("updated_at", pa.string()),
        ("result", pa.list_(_RESULT)),
    ]
)
_TASK = pa.schema(
    [
        ("id", pa.int64()),
        ("data", pa.struct([(TEXT_NAME, pa.string()), ("task_key", pa.string())])),
        ("annotations", pa.list_(_ANNOTATION)),
    ]
)


class ArticleTextMap(Mapping[str, str]):
    """article id -> text over the article texts as Arrow keeps them (one UTF-8 buffer) and an index of
    their ids: no Python string per article (a dict of 100,000 texts is about 60 MB more, and its
    strings are copied into every forked worker that reads them). The first row of an id wins."""

    def __init__(self, ids: pd.Index, texts: pa.Array) -> None:
        if len(ids) != len(texts):
            raise ValueError("one id per text")
        self.ids, self.texts = ids, texts

    def _row(self, key: object) -> int:
        try:
            row = self.ids.get_loc(key)
        except (KeyError, TypeError, pd.errors.InvalidIndexError):
            raise KeyError(key) from None
        if not isinstance(row, int | np.integer):  # a repeated id: its first row
            row = int(np.flatnonzero(np.asarray(self.ids == key))[0])
        return int(row)

    def __getitem__(self, key: str) -> str:
        value: str = self.texts[self._row(key)].as_py()
        return value

    def __contains__(self, key: object) -> bool:
        try:
            self._row(key)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def texts_of(self, keys: list[str | None]) -> pa.Array:
        """The texts of ``keys`` as one Arrow array (null where a key is None or not an article)."""
        if not self.ids.is_unique:
            return pa.array([self.get(k) if k is not None else None for k in keys], pa.string())
        rows = self.ids.get_indexer(pd.Index(keys, dtype=object))
        found = rows >= 0
        taken = pc.take(self.texts, pa.array(np.where(found, rows, 0)))
        return pc.if_else(pa.array(found), taken, pa.scalar(None, taken.type)).cast(pa.string())


class Converted(msgspec.Struct):
    exported: int
    records: list[dict[str, Any]]
    rejects: list[convert.Reject]


def _tasks(raw: bytes) -> list[msgspec.Raw] | None:
    """The export's tasks as raw JSON, one line each (a newline in JSON is whitespace between tokens:
    strings cannot hold one), or None if it is not a JSON array."""
    if b"\n" in raw or b"\r" in raw:  # pretty-printed: one copy without line breaks
        raw = raw.replace(b"\n", b" ").replace(b"\r", b" ")
    try:
        return msgspec.json.decode(raw, type=list[msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _flat(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Items of a list array and the position of the list each came from."""
    return pc.list_flatten(array), pc.list_parent_indices(array).to_numpy()


#: Flattened children of the struct arrays of one conversion, by id (cleared when it ends): flattening
#: a struct copies all its children, so each struct is flattened once.
_CHILDREN: dict[int, tuple[pa.StructArray, dict[str, pa.Array]]] = {}


def _field(struct: pa.StructArray, name: str) -> pa.Array:
    kept = _CHILDREN.get(id(struct))
    if kept is None or kept[0] is not struct:
        kept = struct, dict(zip([str(f.name) for f in struct.type], struct.flatten(), strict=True))
        _CHILDREN[id(struct)] = kept
    return kept[1][name]


def _first(lists: pa.Array) -> pd.Series:
    """The first item of every (non-empty) list."""
    return pc.list_element(lists, 0).to_pandas()


def _np(array: pa.Array, fill: Any) -> np.ndarray:
    return array.fill_null(fill).to_numpy(zero_copy_only=False)


def convert_export(
    raw: bytes,
    *,
    articles: Mapping[str, str],
    tasks: Mapping[str, str],
    users: Mapping[int, str],
    project_id: int,
    config_hash: str,
    guideline_version: str,
) -> Converted | None:
    """The export's annotations as records and rejects (what ``export_to_records`` returns), or None
    if the export is not shaped like ours at all (the caller then converts it the careful way)."""
    options: dict[str, Any] = {
        "articles": articles,
        "tasks": tasks,
        "users": users,
        "project_id": project_id,
        "config_hash": config_hash,
        "guideline_version": guideline_version,
    }
    try:
        return _convert_export(raw, options)
    finally:
        _CHILDREN.clear()


def _convert_export(raw: bytes, options: dict[str, Any]) -> Converted | None:
    articles, tasks = options["articles"], options["tasks"]
    raws = _tasks(raw)
    if raws is None:
        return None
    if not all(memoryview(r)[:1] == b"{" for r in raws):  # Arrow may crash on a task that is null
        return None
    try:
        table = pj.read_json(
            pa.BufferReader(b"\n".join(raws)),
            parse_options=pj.ParseOptions(explicit_schema=_TASK, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(raws) or _irregular(table, raw):
        return None
    if not table.num_rows:
        return Converted(0, [], [])
    table = table.combine_chunks()
    annotations, task_of = _flat(table.column("annotations").chunk(0))
    plain = _plain(table, annotations, task_of, articles, tasks)
    records = _records(table, annotations, task_of, plain, options)
    careful_tasks = sorted(set(task_of[~plain].tolist()) | _null_annotation_tasks(table))
    rejects: list[convert.Reject] = []
    kept = set(np.flatnonzero(plain).tolist())
    for index in careful_tasks:
        task = orjson.loads(bytes(raws[index]))
        if isinstance(task, dict) and isinstance(task.get("annotations"), list):
            first = int(np.searchsorted(task_of, index))  # annotations of this task, in order
            task["annotations"] = [
                a for offset, a in enumerate(task["annotations"]) if first + offset not in kept
            ]
        more, more_rejects = convert.export_to_records([task], **options)
        records += more
        rejects += more_rejects
    records.sort(key=lambda r: r["annotation_id"])
    return Converted(len(annotations), records, rejects)


def _irregular(table: pa.Table, raw: bytes) -> bool:
    """A task without an annotations list (null, missing, legacy 'completions') or without an id, or a
    legacy key anywhere: the careful path decides, task by task."""
    return bool(
        table.column("annotations").null_count or table.column("id").null_count or b'"completions"' in raw
    )


class _Counted(msgspec.Struct):
    annotations: msgspec.Raw = msgspec.Raw(b"null")
    completions: msgspec.Raw = msgspec.Raw(b"null")
    predictions: msgspec.Raw = msgspec.Raw(b"null")


def predictions_only(raw: bytes) -> int:
    """Tasks holding predictions but no annotation (they are not pulled, but reported)."""
    empty = (b"null", b"[]")
    try:
        tasks = msgspec.json.decode(raw, type=list[_Counted])
    except (msgspec.DecodeError, msgspec.ValidationError):
        try:
            export = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return 0
        return convert.predictions_only(export) if isinstance(export, list) else 0
    return sum(
        1
        for t in tasks
        if bytes(t.predictions).strip() not in empty
        and bytes(t.annotations).strip() in empty
        and bytes(t.completions).strip() in empty
    )


def _null_annotation_tasks(table: pa.Table) -> set[int]:
    """Tasks holding a null annotation (not a JSON object): the careful path rejects it."""
    lists = table.column("annotations").chunk(0)
    items, parents = _flat(lists)
    return set(parents[_np(items.is_null(), True)].tolist())


def _plain(
    table: pa.Table,
    annotations: pa.StructArray,
    task_of: np.ndarray,
    articles: Mapping[str, str],
    tasks: Mapping[str, str],
) -> np.ndarray:
    """Per annotation: can it be converted here (True) or does it need the careful path?"""
    data = table.column("data").chunk(0)
    keys = _field(data, "task_key").to_pylist()
    texts = _field(data, TEXT_NAME)
    if isinstance(articles, ArticleTextMap):
        expected = articles.texts_of([tasks.get(k) if k is not None else None for k in keys])
    else:
        expected = pa.array([articles.get(tasks[k]) if k in tasks else None for k in keys], pa.string())
    task_ok = _np(pc.equal(texts, expected), False)
    ok = task_ok[task_of] & ~_np(annotations.is_null(), True)
    ok &= ~_np(_field(annotations, "was_cancelled"), True)
    ok &= _np(_field(annotations, "id").is_valid(), False) & _np(
        _field(annotations, "completed_by").is_valid(), False
    )
    results_lists = _field(annotations, "result")
    results, annotation_of = _flat(results_lists)
    if not len(results):
        return ok
    kind, name = _np(_field(results, "type"), ""), _np(_field(results, "from_name"), "")
    region = _field(results, "id")
    value = _field(results, "value")
    has_id = _np(region.is_valid(), False)
    labels_result = (kind == "labels") & (name == SPANS_NAME) & has_id
    labels_result &= _np(pc.list_value_length(_field(value, "labels")), 0) == 1
    starts, ends = _np(_field(value, "start"), -1), _np(_field(value, "end"), -1)
    docs = task_of[annotation_of]
    lengths = ArticleTexts(texts)
    in_text = (starts >= 0) & (starts < ends) & (ends <= lengths.lengths[docs])
    labels_result &= in_text
    labels_result &= lengths.slices_equal(docs, starts, ends, _field(value, "text"))
    choice = (kind == "choices") & np.isin(name, list(V.ATTRIBUTE_VALUES)) & has_id
    choice &= _np(pc.list_value_length(_field(value, "choices")), 0) == 1
    relation = (kind == "relation") & (_np(pc.list_value_length(_field(results, "labels")), 0) == 1)
    relation &= _np(_field(results, "direction"), "") == "right"  # missing or null: the careful path
    relation &= _np(_field(results, "from_id").is_valid(), False) & _np(
        _field(results, "to_id").is_valid(), False
    )
    frame = pd.DataFrame({"annotation": annotation_of, "region": region.to_pandas(), "label": labels_result})
    regions = frame[labels_result]
    twice = regions.duplicated(["annotation", "region"], keep=False).to_numpy()
    known = pd.MultiIndex.from_frame(regions[["annotation", "region"]])
    choice &= pd.MultiIndex.from_frame(frame[["annotation", "region"]]).isin(known)
    document, inconsistent = plain_document_results(
        kind, name, _field(value, "choices"), annotation_of, len(annotations)
    )
    bad = ~(labels_result | choice | relation | document)
    bad[np.flatnonzero(labels_result)[twice]] = True
    ok[np.unique(annotation_of[bad])] = False
    ok &= ~inconsistent
    return ok


def _records(
    table: pa.Table,
    annotations: pa.StructArray,
    task_of: np.ndarray,
    plain: np.ndarray,
    options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Records (our JSONL shape) of the plain annotations."""
    data = table.column("data").chunk(0)
    keys = _field(data, "task_key").to_pylist()
    task_ids = table.column("id").to_pylist()
    results, annotation_of = _flat(_field(annotations, "result"))
    keep = plain[annotation_of] if len(results) else np.zeros(0, dtype=bool)
    value = _field(results, "value") if len(results) else None
    frame = pd.DataFrame(
        {
            "annotation": annotation_of,
            "type": _field(results, "type").to_pandas() if len(results) else [],
            "from_name": _field(results, "from_name").to_pandas() if len(results) else [],
            "region": _field(results, "id").to_pandas() if len(results) else [],
        }
    )[keep]
    spans = frame[frame["type"] == "labels"]
    rows = spans.index.to_numpy()
    span_table = pd.DataFrame(
        {
            "annotation": spans["annotation"].to_numpy(),
            "id": spans["region"].to_numpy(),
            "label": _first(pc.take(_field(value, "labels"), rows)) if value else [],
            "start": pc.take(_field(value, "start"), rows).to_numpy() if value else [],
            "end": pc.take(_field(value, "end"), rows).to_numpy() if value else [],
            "text": pc.take(_field(value, "text"), rows).to_pandas() if value else [],
        }
    )
    choices = frame[frame["type"] == "choices"]
    picked = pd.DataFrame(
        {
            "annotation": choices["annotation"].to_numpy(),
            "id": choices["region"].to_numpy(),
            "name": choices["from_name"].to_numpy(),
            "choice": _first(pc.take(_field(value, "choices"), choices.index.to_numpy())) if value else [],
        }
    ).drop_duplicates(["annotation", "id", "name"], keep="last")
    document_of = documents(picked)
    for name in V.ATTRIBUTE_VALUES:
        mine = picked[picked["name"] == name][["annotation", "id", "choice"]].rename(columns={"choice": name})
        span_table = span_table.merge(mine, on=["annotation", "id"], how="left")
    span_table = span_table.sort_values(["annotation", "start", "end", "label", "id"], kind="stable")
    links = frame[frame["type"] == "relation"]
    relation_table = pd.DataFrame(
        {
            "annotation": links["annotation"].to_numpy(),
            "type": _first(pc.take(_field(results, "labels"), links.index.to_numpy())),
            "from_id": pc.take(_field(results, "from_id"), links.index.to_numpy()).to_pandas(),
            "to_id": pc.take(_field(results, "to_id"), links.index.to_numpy()).to_pandas(),
        }
    ).sort_values(["annotation", "from_id", "to_id", "type"], kind="stable")
    spans_of = _grouped(span_table["annotation"].to_numpy(), _span_dicts(span_table))
    relations_of = _grouped(
        relation_table["annotation"].to_numpy(),
        [
            {"type": t, "from_id": f, "to_id": o}
            for t, f, o in zip(
                relation_table["type"].tolist(),
                relation_table["from_id"].tolist(),
                relation_table["to_id"].tolist(),
                strict=True,
            )
        ],
    )
    columns = {
        name: _field(annotations, name).to_pylist()
        for name in ("id", "completed_by", "created_at", "updated_at")
    }
    records = []
    users, project = options["users"], options["project_id"]
    for index in np.flatnonzero(plain).tolist():
        task = int(task_of[index])
        article_id, target_id = str(keys[task]).split(convert.KEY_SEPARATOR, 1)
        author = columns["completed_by"][index]
        records.append(
            {
                "annotation_id": f"ls-{project}-{columns['id'][index]}",
                "article_id": article_id,
                "target_id": target_id,
                "annotator": users.get(author, f"user-{author}"),
                "created_at": columns["created_at"][index],
                "updated_at": columns["updated_at"][index],
                "guideline_version": options["guideline_version"],
                "config_hash": options["config_hash"],
                "ls_task_id": task_ids[task],
                "ls_annotation_id": columns["id"][index],
                **document_of.get(index, {}),
                "spans": spans_of.get(index, []),
                "relations": relations_of.get(index, []),
            }
        )
    return records


def _span_dicts(spans: pd.DataFrame) -> list[dict[str, Any]]:
    """Span records in our key order; an attribute appears only where it was chosen."""
    dicts = [
        {"id": i, "label": label, "start": start, "end": end, "text": text}
        for i, label, start, end, text in zip(
            spans["id"].tolist(),
            spans["label"].tolist(),
            spans["start"].astype("int64").tolist(),
            spans["end"].astype("int64").tolist(),
            spans["text"].tolist(),
            strict=True,
        )
    ]
    for name in V.ATTRIBUTE_VALUES:
        values = spans[name]
        chosen = values.tolist()
        for position in np.flatnonzero(values.notna().to_numpy()).tolist():
            dicts[position][name] = chosen[position]
    return dicts


def _grouped(owners: np.ndarray, items: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Items (sorted by owner) as owner -> list, sliced at the owner boundaries."""
    if not len(owners):
        return {}
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    ends = np.r_[starts[1:], len(owners)]
    return {int(owners[a]): items[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}
