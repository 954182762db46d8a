"""Pure conversions between our tables and Label Studio's JSON (no network, no files).

Tasks carry a stable ``task_key`` (article id | target id) and the SHA-256 of the article text, so a
re-push finds what is already there and a changed text is noticed. An annotation converts whole or
not at all: anything that cannot be converted becomes a :class:`Reject` with the reason.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from annotate.config import SPANS_NAME, TARGET_FIELD, TEXT_NAME
from schemas import vocabulary as V
from schemas.errors import StanceBankError
from stancebank.corpus import shorten

KEY_SEPARATOR = "|"  # not allowed in ids, so keys never collide


class ConversionError(StanceBankError, ValueError):
    """One annotation from Label Studio cannot become rows of our tables."""


class Reject(NamedTuple):
    """An exported annotation that was not converted, and why."""

    task_id: int | None
    annotation_id: int | None
    annotator: str | None
    task_key: str | None
    reason: str


def task_key(article_id: str, target_id: str) -> str:
    return f"{article_id}{KEY_SEPARATOR}{target_id}"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tables_to_tasks(
    articles: Iterable[Mapping[Any, Any]], targets: Iterable[Mapping[Any, Any]]
) -> list[dict[str, Any]]:
    """One Label Studio task per (article, target), in target order."""
    by_id = {a["article_id"]: a for a in articles}
    tasks = []
    for target in targets:
        article = by_id[target["article_id"]]
        tasks.append(
            {
                "data": {
                    TEXT_NAME: article["text"],
                    TARGET_FIELD: target["text"],
                    "title": article["title"],
                    "task_key": task_key(article["article_id"], target["target_id"]),
                    "article_id": article["article_id"],
                    "target_id": target["target_id"],
                    "text_sha256": text_sha256(article["text"]),
                }
            }
        )
    return tasks


def _region_value(span: Mapping[str, Any]) -> dict[str, Any]:
    return {"start": int(span["start"]), "end": int(span["end"]), "text": span["text"]}


def annotation_to_results(
    spans: Iterable[Mapping[str, Any]], relations: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Our spans/relations (record shape) -> a Label Studio ``result`` list."""
    results: list[dict[str, Any]] = []
    for span in spans:
        label = V.SpanLabel(span["label"])
        common = {"id": span["id"], "to_name": TEXT_NAME}
        results.append(
            {
                **common,
                "from_name": SPANS_NAME,
                "type": "labels",
                "value": {**_region_value(span), "labels": [label.value]},
            }
        )
        for name in V.SPAN_ATTRIBUTES[label]:
            if span.get(name) is not None:
                results.append(
                    {
                        **common,
                        "from_name": name,
                        "type": "choices",
                        "value": {**_region_value(span), "choices": [span[name]]},
                    }
                )
    for relation in relations:
        results.append(
            {
                "from_id": relation["from_id"],
                "to_id": relation["to_id"],
                "type": "relation",
                "direction": "right",
                "labels": [relation["type"]],
            }
        )
    return results


def document_to_results(related: bool | None, doc_stance: str | None) -> list[dict[str, Any]]:
    """Document-level labels -> Label Studio ``choices`` results over the whole text (none if unset)."""
    picked = {
        "related": None if related is None else (V.Related.YES if related else V.Related.NO).value,
        "doc_stance": doc_stance,
    }
    return [
        {
            "id": f"doc-{name}",
            "from_name": name,
            "to_name": TEXT_NAME,
            "type": "choices",
            "value": {"choices": [value]},
        }
        for name, value in picked.items()
        if value is not None
    ]


def is_document_result(item: Mapping[str, Any]) -> bool:
    return item.get("type") == "choices" and item.get("from_name") in V.DOCUMENT_CHOICES


def results_to_document(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The document-level choices of a ``result`` list -> ``related`` (bool) and ``doc_stance``, each
    only when chosen; raises ConversionError on an unknown or repeated choice, or a stance without
    ``related: yes``."""
    picked: dict[str, Any] = {}
    for item in results:
        if not is_document_result(item):
            continue
        name = str(item["from_name"])
        chosen = (item.get("value") or {}).get("choices") or []
        if len(chosen) != 1:
            raise ConversionError(f"document-level {name} needs one choice, got {chosen}")
        allowed = V.values(V.DOCUMENT_CHOICES[name])
        if chosen[0] not in allowed:
            raise ConversionError(f"document-level {name} {chosen[0]!r} is not one of {allowed}")
        if name in picked:
            raise ConversionError(f"document-level {name} chosen twice")
        picked[name] = chosen[0]
    if "doc_stance" in picked and picked.get("related") != V.Related.YES:
        raise ConversionError(
            f"document-level doc_stance {picked['doc_stance']!r} needs related = yes "
            f"(related is {picked.get('related', 'not chosen')})"
        )
    document: dict[str, Any] = {}
    if "related" in picked:
        document["related"] = picked["related"] == V.Related.YES
    if "doc_stance" in picked:
        document["doc_stance"] = picked["doc_stance"]
    return document


def _utf16_index(text: str, index: int) -> int | None:
    """The code-point index whose UTF-16 offset is ``index`` (None if it cuts a surrogate pair)."""
    units = 0
    for position, char in enumerate(text):
        if units == index:
            return position
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text) if units == index else None


def check_offsets(text: str, region_id: str, start: Any, end: Any, quoted: Any) -> None:
    """Raise unless ``text[start:end] == quoted`` with code-point offsets."""
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
        raise ConversionError(f"region {region_id}: offsets must be integers, got {start!r}, {end!r}")
    if not 0 <= start < end <= len(text):
        raise ConversionError(
            f"region {region_id}: offsets [{start}, {end}) outside the text (length {len(text)})"
        )
    if text[start:end] == quoted:
        return
    hint = ""
    u_start, u_end = _utf16_index(text, start), _utf16_index(text, end)
    if u_start is not None and u_end is not None and text[u_start:u_end] == quoted:
        hint = " (the offsets look like UTF-16 code units, not code points)"
    raise ConversionError(
        f"region {region_id}: text {quoted!r} != article text[{start}:{end}] {text[start:end]!r}{hint}"
    )


def results_to_annotation(
    results: Iterable[Mapping[str, Any]], text: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A Label Studio ``result`` list -> our spans and relations (record shape); raises ConversionError."""
    regions: dict[str, dict[str, Any]] = {}
    choices: dict[str, dict[str, Any]] = defaultdict(dict)
    relations: list[dict[str, Any]] = []
    for item in results:
        kind = item.get("type")
        if is_document_result(item):
            continue  # read by results_to_document
        if kind == "relation":
            relations.append(_relation(item))
        elif kind == "labels" and item.get("from_name") == SPANS_NAME:
            region_id, value = str(item.get("id")), item.get("value") or {}
            labels = value.get("labels") or []
            if len(labels) != 1:
                raise ConversionError(f"region {region_id}: expected one label, got {labels}")
            check_offsets(text, region_id, value.get("start"), value.get("end"), value.get("text"))
            if region_id in regions:
                raise ConversionError(f"region {region_id}: labelled twice")
            regions[region_id] = {
                "id": region_id,
                "label": labels[0],
                "start": value["start"],
                "end": value["end"],
                "text": value["text"],
            }
        elif kind == "choices" and item.get("from_name") in V.ATTRIBUTE_VALUES:
            region_id, value = str(item.get("id")), item.get("value") or {}
            picked = value.get("choices") or []
            if len(picked) != 1:
                raise ConversionError(
                    f"region {region_id}: {item['from_name']} needs one choice, got {picked}"
                )
            choices[region_id][str(item["from_name"])] = picked[0]
        else:
            raise ConversionError(
                f"result of type {kind!r} from {item.get('from_name')!r} is not in our labelling config"
            )
    for region_id, attributes in choices.items():
        if region_id not in regions:
            raise ConversionError(
                f"region {region_id}: per-region choice {sorted(attributes)} without its span"
            )
        regions[region_id].update(attributes)
    spans = sorted(regions.values(), key=lambda s: (s["start"], s["end"], s["label"], s["id"]))
    relations.sort(key=lambda r: (r["from_id"], r["to_id"], r["type"]))
    return spans, relations


def _relation(item: Mapping[str, Any]) -> dict[str, Any]:
    labels = item.get("labels") or []
    ends = f"{item.get('from_id')} -> {item.get('to_id')}"
    if not labels:
        raise ConversionError(f"relation {ends} has no label (pick source_of or cue_of)")
    if len(labels) != 1:
        raise ConversionError(f"relation {ends} has several labels {labels}")
    if item.get("direction", "right") != "right":
        raise ConversionError(f"relation {ends} is drawn {item.get('direction')!r}; draw it head → claim")
    return {"type": labels[0], "from_id": str(item.get("from_id")), "to_id": str(item.get("to_id"))}


LEGACY_ANNOTATIONS = "completions"  # what Label Studio < 1.0 called annotations (same shape)


def task_annotations(task: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """The annotations of an exported task, or the reason the task as a whole is malformed.

    A full export always has an ``annotations`` list. Pre-1.0 exports call it ``completions``: those
    are accepted as annotations (same shape). ``annotations`` null, not a list, or missing without
    ``completions`` is malformed; both keys at once is ambiguous. A malformed task counts as one
    exported item (see ``exported_count``) and becomes one reject."""
    has_new, has_old = "annotations" in task, LEGACY_ANNOTATIONS in task
    if has_new and has_old:
        return [], "task has both 'annotations' and legacy 'completions': refusing to guess"
    key = "annotations" if has_new or not has_old else LEGACY_ANNOTATIONS
    if key not in task:
        return [], "task has no 'annotations' list"
    value = task[key]
    if value is None:
        return [], f"task {key!r} is null, not a list"
    if not isinstance(value, list):
        return [], f"task {key!r} is not a list: {shorten(value, 60)}"
    return value, None


def exported_count(export: Iterable[Any]) -> int:
    """How many items the export holds for the count exported = converted + rejected: each annotation
    of a well-formed task, and 1 for each malformed task (it becomes one reject)."""
    total = 0
    for task in export:
        if not isinstance(task, Mapping):
            total += 1
            continue
        annotations, problem = task_annotations(task)
        total += 1 if problem is not None else len(annotations)
    return total


def predictions_only(export: Iterable[Any]) -> int:
    """Tasks with predictions but no annotation: not annotations, so not pulled, but reported."""
    return sum(
        1
        for task in export
        if isinstance(task, Mapping) and task.get("predictions") and not task_annotations(task)[0]
    )


def export_to_records(
    export: Iterable[Mapping[str, Any]],
    *,
    articles: Mapping[str, str],
    tasks: Mapping[str, str],
    users: Mapping[int, str],
    project_id: int,
    config_hash: str,
    guideline_version: str,
) -> tuple[list[dict[str, Any]], list[Reject]]:
    """A full JSON export -> annotation records (our JSONL shape) and rejects.

    ``articles`` maps article id -> text and ``tasks`` task key -> article id: what we pushed.
    """
    records: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for task in export:
        if not isinstance(task, Mapping):
            rejects.append(Reject(None, None, None, None, f"task is not a JSON object: {shorten(task, 60)}"))
            continue
        raw_data = task.get("data")
        data: Mapping[str, Any] = raw_data if isinstance(raw_data, Mapping) else {}
        key = data.get("task_key") if isinstance(data.get("task_key"), str) else None
        raw_id = task.get("id")
        task_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        annotations, problem = task_annotations(task)
        if problem is not None:
            rejects.append(Reject(task_id, None, None, key, problem))
            continue
        for annotation in annotations:
            if not isinstance(annotation, Mapping):
                reason = f"annotation is not a JSON object: {shorten(annotation, 60)}"
                rejects.append(Reject(task_id, None, None, key, reason))
                continue
            author = annotation.get("completed_by")
            annotator = users.get(author, f"user-{author}") if isinstance(author, int) else f"user-{author}"
            annotation_id = annotation.get("id") if isinstance(annotation.get("id"), int) else None
            if task_id is None:
                reason = f"task has no integer id ({shorten(raw_id, 40)}): cannot trace the annotation"
                rejects.append(Reject(None, annotation_id, annotator, key, reason))
                continue
            if not isinstance(annotation.get("result", []), list):
                reason = f"annotation result is not a list: {shorten(annotation.get('result'), 60)}"
                rejects.append(Reject(task_id, annotation_id, annotator, key, reason))
                continue
            try:
                records.append(
                    _annotation_record(
                        task,
                        annotation,
                        annotator,
                        articles,
                        tasks,
                        project_id,
                        config_hash,
                        guideline_version,
                    )
                )
            except ConversionError as exc:
                rejects.append(Reject(task_id, annotation_id, annotator, key, str(exc)))
            except (TypeError, AttributeError, KeyError, ValueError) as exc:  # malformed shapes
                reason = f"malformed annotation ({type(exc).__name__}: {exc})"
                rejects.append(Reject(task_id, annotation_id, annotator, key, reason))
    records.sort(key=lambda r: r["annotation_id"])
    return records, rejects


def _annotation_record(
    task: Mapping[str, Any],
    annotation: Mapping[str, Any],
    annotator: str,
    articles: Mapping[str, str],
    tasks: Mapping[str, str],
    project_id: int,
    config_hash: str,
    guideline_version: str,
) -> dict[str, Any]:
    data = task.get("data") or {}
    key = data.get("task_key")
    if key not in tasks:
        raise ConversionError(f"task {task.get('id')} ({key!r}) was not pushed from this data")
    article_id, target_id = str(key).split(KEY_SEPARATOR, 1)
    text = articles[article_id]
    if data.get(TEXT_NAME) != text:
        raise ConversionError(f"article {article_id} text changed since it was pushed")
    if annotation.get("was_cancelled"):
        raise ConversionError("annotation was cancelled (skipped) in Label Studio")
    results = annotation.get("result") or []
    spans, relations = results_to_annotation(results, text)
    document = results_to_document(results)
    return {
        "annotation_id": f"ls-{project_id}-{annotation.get('id')}",
        "article_id": article_id,
        "target_id": target_id,
        "annotator": annotator,
        "created_at": annotation.get("created_at"),
        "updated_at": annotation.get("updated_at"),
        "guideline_version": guideline_version,
        "config_hash": config_hash,
        "ls_task_id": task.get("id"),
        "ls_annotation_id": annotation.get("id"),
        **document,
        "spans": spans,
        "relations": relations,
    }
