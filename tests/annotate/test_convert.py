"""Pure conversions: tables -> Label Studio results -> tables is the identity; bad exports are rejected."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate import convert
from annotate.config import config_hash, label_config
from schemas import vocabulary as V
from stancebank.corpus import read_corpus
from tests.corpus_factory import TEXT, base_records
from tests.shipped import shipped_files

ALPHABET = st.sampled_from(list("ab c\r\n東京😀👍🏽é"))


@st.composite
def annotation(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    text = draw(st.text(alphabet=ALPHABET, min_size=3, max_size=30))
    spans = []
    for index in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        label = draw(st.sampled_from(list(V.SpanLabel)))
        span = {"id": f"r{index}", "label": label.value, "start": start, "end": end, "text": text[start:end]}
        for name, values in V.SPAN_ATTRIBUTES[label].items():
            span[name] = draw(st.sampled_from(V.values(values)))
        spans.append(span)
    relations = []
    claims = [s["id"] for s in spans if s["label"] == V.SpanLabel.CLAIM]
    for span in spans:
        for relation, (head, _tail) in V.RELATION_ENDPOINTS.items():
            if span["label"] == head and claims:
                relations.append(
                    {"type": relation.value, "from_id": span["id"], "to_id": draw(st.sampled_from(claims))}
                )
    return text, spans, relations


def _canonical(spans: list[dict[str, Any]], relations: list[dict[str, Any]]) -> tuple[Any, Any]:
    return (
        sorted(spans, key=lambda s: (s["start"], s["end"], s["label"], s["id"])),
        sorted({(r["from_id"], r["to_id"], r["type"]) for r in relations}),
    )


@settings(max_examples=200, deadline=None)
@given(annotation())
def test_tables_to_results_to_tables_is_identity(case: Any) -> None:
    text, spans, relations = case
    results = convert.annotation_to_results(spans, relations)
    back_spans, back_relations = convert.results_to_annotation(results, text)
    assert _canonical(back_spans, back_relations) == _canonical(spans, relations)


def test_shipped_corpus_round_trips() -> None:
    corpus = read_corpus(shipped_files())
    records = [line for path in shipped_files()[2:] for line in path.read_text(encoding="utf-8").splitlines()]
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    import json

    for raw in records:
        record = json.loads(raw)
        results = convert.annotation_to_results(record["spans"], record["relations"])
        spans, relations = convert.results_to_annotation(results, texts[record["article_id"]])
        assert _canonical(spans, relations) == _canonical(record["spans"], record["relations"])


def _export(result: list[dict[str, Any]], **annotation: Any) -> list[dict[str, Any]]:
    records = base_records()
    task = convert.tables_to_tasks(records["articles"], records["targets"])[0]
    return [
        {
            "id": 5,
            **task,
            "annotations": [
                {
                    "id": 9,
                    "completed_by": 2,
                    "result": result,
                    "was_cancelled": False,
                    "created_at": "2025-01-01T00:00:00Z",
                    "updated_at": "2025-01-01T00:00:00Z",
                    **annotation,
                }
            ],
        }
    ]


def _convert(export: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[convert.Reject]]:
    records = base_records()
    return convert.export_to_records(
        export,
        articles={a["article_id"]: a["text"] for a in records["articles"]},
        tasks={
            convert.task_key(t["article_id"], t["target_id"]): t["article_id"] for t in records["targets"]
        },
        users={2: "bruno"},
        project_id=3,
        config_hash=config_hash(label_config()),
        guideline_version="1.0",
    )


def _good_results() -> list[dict[str, Any]]:
    annotation = base_records()["annotations"][0]
    return convert.annotation_to_results(annotation["spans"], annotation["relations"])


def test_export_converts_with_metadata() -> None:
    records, rejects = _convert(_export(_good_results()))
    assert rejects == []
    (record,) = records
    assert record["annotation_id"] == "ls-3-9"
    assert (record["annotator"], record["ls_task_id"], record["ls_annotation_id"]) == ("bruno", 5, 9)
    assert record["config_hash"] == config_hash(label_config())
    assert [s["text"] for s in record["spans"]] == ["The minister", "said", "東京 may host the talks", "may"]


def _mutate(change: Any) -> list[dict[str, Any]]:
    results = copy.deepcopy(_good_results())
    change(results)
    return results


def _shift_by_utf16(results: list[dict[str, Any]]) -> None:
    # "😀😀 " is 3 code points but 5 UTF-16 units: what an old Label Studio would store.
    for item in results:
        if "value" in item and "start" in item["value"]:
            item["value"]["start"] += 2
            item["value"]["end"] += 2


@pytest.mark.parametrize(
    ("change", "annotation", "reason"),
    [
        (lambda r: r[-1].pop("labels"), {}, "has no label"),
        (lambda r: r[0]["value"].update(text="Th minister"), {}, "!= article text[15:27]"),
        (_shift_by_utf16, {}, "look like UTF-16 code units"),
        (lambda r: r[0]["value"].update(start=-1), {}, "outside the text"),
        (lambda r: r[0]["value"].update(start="15"), {}, "offsets must be integers"),
        (lambda r: r.pop(0), {}, "per-region choice"),
        (
            lambda r: r.append(
                {
                    "id": "x",
                    "from_name": "mood",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["happy"]},
                }
            ),
            {},
            "not in our labelling config",
        ),
        (lambda r: r[0]["value"].update(labels=["SOURCE", "CLAIM"]), {}, "expected one label"),
        (lambda r: r[-1].update(direction="left"), {}, "draw it head"),
        (lambda r: None, {"was_cancelled": True}, "cancelled"),
    ],
    ids=[
        "relation without label",
        "text mismatch",
        "utf-16 offsets",
        "negative offset",
        "string offset",
        "choice without span",
        "unknown control",
        "two labels",
        "left relation",
        "cancelled",
    ],
)
def test_bad_annotation_is_rejected_with_reason(change: Any, annotation: dict[str, Any], reason: str) -> None:
    records, rejects = _convert(_export(_mutate(change), **annotation))
    assert records == []
    (reject,) = rejects
    assert (reject.task_id, reject.annotation_id, reject.annotator) == (5, 9, "bruno")
    assert reason in reject.reason


def test_unknown_task_and_changed_text_are_rejected() -> None:
    unknown = _export(_good_results())
    unknown[0]["data"]["task_key"] = "zz|zz:t1"
    changed = _export(_good_results())
    changed[0]["data"]["text"] = TEXT + " Updated."
    _, rejects = _convert(unknown + changed)
    assert ["was not pushed" in r.reason for r in rejects] == [True, False]
    assert "text changed since it was pushed" in rejects[1].reason


def test_tasks_carry_stable_keys() -> None:
    records = base_records()
    tasks = convert.tables_to_tasks(records["articles"], records["targets"])
    assert [t["data"]["task_key"] for t in tasks] == ["a1|a1:t1", "a2|a2:t1"]
    assert tasks[0]["data"]["text_sha256"] == convert.text_sha256(TEXT)
