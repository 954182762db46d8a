"""Document-level labels (related, doc_stance): config, round trips, rejects, predictions — no server."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate import convert
from annotate.config import (
    accepted_configs,
    config_hash,
    config_values,
    has_document_choices,
    label_config,
    removed_values,
)
from annotate.document import document_predictions, has_document_labels, with_predictions
from annotate.push import read_predictions
from schemas import vocabulary as V
from schemas.errors import UnreadableInputError
from stancebank.corpus import read_corpus
from tests.annotate.test_convert import _canonical, _convert, _export, _good_results, annotation
from tests.corpus_factory import base_records, write_records

#: SHA-256 of the span-only config before document-level choices existed: annotations pulled under it
#: keep converting, so it must not change when the document-level choices are off.
SPAN_ONLY_HASH = "2428e2d5b8b62cf0df75478880b6b363b98066a8ffaf50bc31a3153c8b45d530"

documents = st.one_of(
    st.just((None, None)),
    st.just((False, None)),
    st.tuples(st.just(True), st.one_of(st.none(), st.sampled_from(V.values(V.Stance)))),
)


def test_span_only_config_is_unchanged() -> None:
    assert config_hash(label_config()) == SPAN_ONLY_HASH
    assert not has_document_choices(label_config())
    assert set(accepted_configs()) == {SPAN_ONLY_HASH, config_hash(label_config(document=True))}


def test_document_config_adds_exactly_the_document_choices() -> None:
    with_doc, without = config_values(label_config(document=True)), config_values(label_config())
    assert {k: v for k, v in with_doc.items() if k not in without} == {
        name: set(V.values(values)) for name, values in V.DOCUMENT_CHOICES.items()
    }
    assert has_document_choices(label_config(document=True))
    # dropping them later would orphan labels: push refuses that without --force
    assert removed_values(label_config(document=True), label_config()) == {
        "related": {"yes", "no"},
        "doc_stance": set(V.values(V.Stance)),
    }


def test_doc_stance_shows_only_when_related_is_yes() -> None:
    root = ET.fromstring(label_config(document=True))
    (panel,) = [v for v in root.iter("View") if v.get("whenTagName")]
    assert (panel.get("visibleWhen"), panel.get("whenTagName"), panel.get("whenChoiceValue")) == (
        "choice-selected",
        "related",
        "yes",
    )
    assert [c.get("name") for c in panel.iter("Choices")] == ["doc_stance"]
    assert all(
        c.get("toName") == "text" and c.get("perRegion") is None
        for c in root.iter("Choices")
        if c.get("name") in V.DOCUMENT_CHOICES
    )


@settings(max_examples=200, deadline=None)
@given(annotation(), documents)
def test_tables_to_results_to_tables_is_identity_with_document_labels(case: Any, doc: Any) -> None:
    text, spans, relations = case
    related, doc_stance = doc
    results = convert.annotation_to_results(spans, relations) + convert.document_to_results(
        related, doc_stance
    )
    back_spans, back_relations = convert.results_to_annotation(results, text)
    assert _canonical(back_spans, back_relations) == _canonical(spans, relations)
    expected = {} if related is None else {"related": related}
    if doc_stance is not None:
        expected["doc_stance"] = doc_stance
    assert convert.results_to_document(results) == expected


@pytest.mark.parametrize(
    ("related", "doc_stance", "fields"),
    [
        (True, "oppose", {"related": True, "doc_stance": "oppose"}),
        (False, None, {"related": False}),
        (True, None, {"related": True}),
    ],
)
def test_export_with_document_labels_converts(related: bool, doc_stance: str | None, fields: Any) -> None:
    records, rejects = _convert(_export(_good_results() + convert.document_to_results(related, doc_stance)))
    assert rejects == []
    (record,) = records
    assert {k: record[k] for k in ("related", "doc_stance") if k in record} == fields
    assert len(record["spans"]) == 4


def test_document_labels_alone_convert_without_spans() -> None:
    records, rejects = _convert(_export(convert.document_to_results(True, "neutral")))
    assert rejects == [] and records[0]["spans"] == [] and records[0]["doc_stance"] == "neutral"


def test_no_document_result_no_document_field() -> None:
    (record,), _ = _convert(_export(_good_results()))
    assert "related" not in record and "doc_stance" not in record


def _doc(name: str, *choices: Any) -> dict[str, Any]:
    return {
        "id": f"d-{name}",
        "from_name": name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": list(choices)},
    }


BAD_DOCUMENT = [
    ([_doc("doc_stance", "support")], "doc_stance 'support' needs related = yes (related is not chosen)"),
    (
        [_doc("related", "no"), _doc("doc_stance", "oppose")],
        "doc_stance 'oppose' needs related = yes (related is no)",
    ),
    ([_doc("related", "maybe")], "document-level related 'maybe' is not one of ['yes', 'no']"),
    ([_doc("related", "yes"), _doc("doc_stance", "agree")], "doc_stance 'agree' is not one of"),
    ([_doc("related", "yes", "no")], "document-level related needs one choice, got ['yes', 'no']"),
    ([_doc("related")], "document-level related needs one choice, got []"),
    ([_doc("related", "yes"), _doc("related", "yes")], "document-level related chosen twice"),
]


@pytest.mark.parametrize(("results", "reason"), BAD_DOCUMENT, ids=[r for _, r in BAD_DOCUMENT])
def test_bad_document_labels_are_rejected_with_reason(results: list[dict[str, Any]], reason: str) -> None:
    records, rejects = _convert(_export(_good_results() + results))
    assert records == []
    (reject,) = rejects
    assert (reject.task_id, reject.annotation_id, reject.annotator) == (5, 9, "bruno")
    assert reason in reject.reason


def _fnc_style(tmp_path: Any) -> Any:
    records = base_records()
    pulled = records["annotations"][0]  # made in Label Studio (ls ids set): not sent back
    imported = {
        **copy.deepcopy(pulled),
        "annotator": "fnc-1",
        "ls_task_id": None,
        "ls_annotation_id": None,
        "guideline_version": V.EXTERNAL_GUIDELINE_VERSION,
        "spans": [],
        "relations": [],
    }
    records["annotations"] = [
        {**pulled, "related": True, "doc_stance": "support"},
        {**imported, "annotation_id": "fnc:1", "related": True, "doc_stance": "oppose"},
        {**imported, "annotation_id": "fnc:2", "article_id": "a2", "target_id": "a2:t1", "related": False},
    ]
    write_records(tmp_path, records)
    return read_corpus([tmp_path])


def test_imported_document_labels_become_predictions_once_per_annotation(tmp_path: Any) -> None:
    corpus = _fnc_style(tmp_path)
    assert has_document_labels(corpus)
    predictions = document_predictions(corpus)
    assert predictions == {
        "a1|a1:t1": [
            {"model_version": "fnc-1", "score": 1.0, "result": convert.document_to_results(True, "oppose")}
        ],
        "a2|a2:t1": [
            {"model_version": "fnc-1", "score": 1.0, "result": convert.document_to_results(False, None)}
        ],
    }
    tasks = convert.tables_to_tasks(
        corpus["articles"].to_dict("records"), corpus["targets"].to_dict("records")
    )
    sent = with_predictions(tasks, predictions)
    assert [t.get("predictions") for t in sent] == [predictions["a1|a1:t1"], predictions["a2|a2:t1"]]
    # the predictions convert back to the labels they came from
    assert convert.results_to_document(predictions["a2|a2:t1"][0]["result"]) == {"related": False}


def test_span_corpus_has_no_document_labels(tmp_path: Any) -> None:
    write_records(tmp_path, base_records())
    corpus = read_corpus([tmp_path])
    assert not has_document_labels(corpus)
    assert document_predictions(corpus) == {}


def _prediction_file(tmp_path: Any, result: list[dict[str, Any]]) -> Any:
    path = tmp_path / "predictions.jsonl"
    record = {"task_key": "a1|a1:t1", "model_version": "m1", "result": result}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_predictions_file_with_document_labels_is_checked(tmp_path: Any) -> None:
    write_records(tmp_path, base_records())
    corpus = read_corpus([tmp_path])
    good = _prediction_file(tmp_path, convert.document_to_results(True, "neutral"))
    assert len(read_predictions(good, corpus, label_config(document=True))) == 1
    with pytest.raises(UnreadableInputError, match="document-level choices, but the project"):
        read_predictions(good, corpus, label_config())
    bad = _prediction_file(tmp_path, convert.document_to_results(False, "neutral"))
    with pytest.raises(UnreadableInputError, match="doc_stance 'neutral' needs related = yes"):
        read_predictions(bad, corpus, label_config(document=True))
