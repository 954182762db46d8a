"""The column-wise converter (annotate.fastpull) gives exactly what the careful converter gives.

For any export — well-formed, subtly broken, or junk — ``convert_export`` either steps aside (None) or
returns the same records and the same rejects (reasons included) as ``convert.export_to_records``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate import convert
from annotate.fastpull import convert_export
from tests.annotate.test_convert_fuzz import _json, _task
from tests.annotate.test_document import BAD_DOCUMENT
from tests.corpus_factory import TEXT, base_records

OPTIONS: dict[str, Any] = {
    "articles": {a["article_id"]: a["text"] for a in base_records()["articles"]},
    "tasks": {"a1|a1:t1": "a1", "a2|a2:t1": "a2"},
    "users": {1: "amira", 2: "bruno"},
    "project_id": 3,
    "config_hash": "0" * 64,
    "guideline_version": "1.0",
}


def _both(export: Any) -> tuple[Any, Any]:
    raw = json.dumps(export, ensure_ascii=False).encode("utf-8")
    fast = convert_export(raw, **OPTIONS)
    tasks = export if isinstance(export, list) else [export]
    try:
        careful = convert.export_to_records(orjson.loads(json.dumps(tasks)), **OPTIONS)
    except convert.ConversionError:
        assert fast is None, "the fast path converted what the careful one refuses"
        return fast, None
    if fast is not None:
        records, rejects = careful
        assert fast.records == records
        key = lambda r: (r.task_id or 0, r.annotation_id or 0, r.reason)  # noqa: E731
        assert sorted(fast.rejects, key=key) == sorted(rejects, key=key)
        assert fast.exported == sum(len(t.get("annotations") or []) for t in tasks)
    return fast, careful


def _results() -> list[dict[str, Any]]:
    annotation = base_records()["annotations"][0]
    return convert.annotation_to_results(annotation["spans"], annotation["relations"])


def _with_document(related: bool | None = True, doc_stance: str | None = "support") -> list[dict[str, Any]]:
    return _results() + convert.document_to_results(related, doc_stance)


def _export(results: list[list[dict[str, Any]]], **task: Any) -> list[dict[str, Any]]:
    annotations = [
        {
            "id": 10 + i,
            "completed_by": 1 + i % 2,
            "was_cancelled": False,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:01:00Z",
            "result": r,
        }
        for i, r in enumerate(results)
    ]
    return [{"id": 7, "data": {"text": TEXT, "task_key": "a1|a1:t1", **task}, "annotations": annotations}]


def test_a_clean_export_takes_the_fast_path() -> None:
    fast, (records, rejects) = _both(_export([_results(), _results()]))
    assert fast is not None and len(records) == 2 and rejects == []
    assert records[0]["spans"][0]["text"] == "The minister"


def test_a_pretty_printed_export_takes_the_fast_path(tmp_path: Path) -> None:
    raw = json.dumps(_export([_results()]), indent=2, ensure_ascii=False).encode()
    fast = convert_export(raw, **OPTIONS)
    assert fast is not None and len(fast.records) == 1 and b"\n" in raw


def test_a_broken_annotation_is_rejected_with_the_careful_reason() -> None:
    broken = _results()
    broken[0]["value"]["start"] += 1  # offsets no longer reproduce the text
    fast, (_, rejects) = _both(_export([_results(), broken]))
    assert fast is not None and len(fast.records) == 1
    assert len(rejects) == 1 and "!= article text" in rejects[0].reason


def test_document_labels_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    export = _export([_with_document(), _with_document(False, None), _with_document(None, None)])
    _both(export)

    def careful(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a plain annotation went to the careful converter")

    monkeypatch.setattr(convert, "export_to_records", careful)
    fast = convert_export(json.dumps(export).encode(), **OPTIONS)
    assert fast is not None and fast.rejects == []
    documents = [{k: r[k] for k in ("related", "doc_stance") if k in r} for r in fast.records]
    assert documents == [{"related": True, "doc_stance": "support"}, {"related": False}, {}]


@pytest.mark.parametrize(("results", "reason"), BAD_DOCUMENT, ids=[r for _, r in BAD_DOCUMENT])
def test_bad_document_labels_get_the_careful_reject(results: list[dict[str, Any]], reason: str) -> None:
    fast, (records, _) = _both(_export([_results() + results, _with_document()]))
    assert fast is not None and len(fast.records) == 1 and records == fast.records
    (reject,) = fast.rejects
    assert reason in reject.reason


def _set_choice(result: dict[str, Any], name: str, *choices: Any) -> None:
    if result.get("from_name") == name:
        result["value"] = {"choices": list(choices)}


def test_not_an_array_steps_aside() -> None:
    assert convert_export(b'{"id": 1}', **OPTIONS) is None
    assert convert_export(b"[1, 2]", **OPTIONS) is None


MUTATIONS = [
    (
        "start",
        lambda r: r["value"].update(start=r["value"]["start"] + 1) if "start" in r.get("value", {}) else None,
    ),
    ("end past text", lambda r: r["value"].update(end=999) if "value" in r else None),
    ("text", lambda r: r["value"].update(text="x") if "value" in r else None),
    ("two labels", lambda r: r["value"].update(labels=["CUE", "CLAIM"]) if r["type"] == "labels" else None),
    ("no choice", lambda r: r["value"].update(choices=[]) if r["type"] == "choices" else None),
    ("direction left", lambda r: r.update(direction="left") if r["type"] == "relation" else None),
    ("direction null", lambda r: r.update(direction=None) if r["type"] == "relation" else None),
    ("no direction", lambda r: r.pop("direction", None)),
    ("unknown type", lambda r: r.update(type="rectanglelabels")),
    ("no id", lambda r: r.update(id=None) if "id" in r else None),
    ("unknown choice", lambda r: r.update(from_name="mood") if r["type"] == "choices" else None),
    ("relation label", lambda r: r.update(labels=[]) if r["type"] == "relation" else None),
    ("related no", lambda r: _set_choice(r, "related", "no")),
    ("related unknown", lambda r: _set_choice(r, "related", "maybe")),
    ("doc_stance unknown", lambda r: _set_choice(r, "doc_stance", "agree")),
    ("doc_stance two", lambda r: _set_choice(r, "doc_stance", "support", "oppose")),
    ("doc_stance none", lambda r: _set_choice(r, "doc_stance")),
    ("doc_stance null", lambda r: _set_choice(r, "doc_stance", None)),
    ("to related", lambda r: r.update(from_name="related") if r["type"] == "choices" else None),
]


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 20), st.sampled_from(range(len(MUTATIONS)))), max_size=3
    ),
    drop=st.lists(st.integers(0, 20), max_size=2),
    duplicate=st.lists(st.integers(0, 20), max_size=1),
    task=st.sampled_from([{}, {"task_key": "nope|x"}, {"text": "changed"}, {"task_key": "a2|a2:t1"}]),
    cancelled=st.booleans(),
    document=st.sampled_from(
        [(None, None), (False, None), (True, None), (True, "oppose"), (False, "oppose"), (None, "neutral")]
    ),
)
def test_mutated_exports_convert_the_same_both_ways(
    edits: list[tuple[int, int, int]],
    drop: list[int],
    duplicate: list[int],
    task: dict[str, str],
    cancelled: bool,
    document: tuple[bool | None, str | None],
) -> None:
    results = [_with_document(), _with_document(*document)]
    for which, index, mutation in edits:
        items = results[which]
        MUTATIONS[mutation][1](items[index % len(items)])
    for index in drop:
        if results[1]:
            results[1].pop(index % len(results[1]))
    for index in duplicate:
        results[0].append(copy.deepcopy(results[0][index % len(results[0])]))
    export = _export(results, **task)
    export[0]["annotations"][1]["was_cancelled"] = cancelled
    _both(export)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(_task, max_size=3), _json))
def test_junk_converts_the_same_or_steps_aside(export: Any) -> None:
    _both(export)
