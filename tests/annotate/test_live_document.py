"""Integration: an FNC-1-style import pushed with its document labels as pre-annotations, annotated through
the SDK, pulled back into related/doc_stance — against a real Label Studio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio

from annotate import convert
from annotate.config import config_hash, has_document_choices, label_config
from annotate.pull import pull
from annotate.push import existing_tasks, push
from stancebank.cli import main
from stancebank.corpus import read_corpus
from stancebank.validate import load_valid, validate_corpus
from tests.annotate.conftest import LiveStudio
from tests.corpus_factory import base_records, write_records

pytestmark = pytest.mark.integration
FNC1 = Path(__file__).parents[1] / "fixtures" / "importers" / "fnc1"


@pytest.fixture
def fnc1_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert main(["import", "fnc1", str(FNC1), "--out", str(data), "--quiet"]) == 0
    return data


def _imported(data: Path) -> dict[str, tuple[bool, str | None]]:
    """task_key -> (related, doc_stance) of the imported annotations."""
    found = {}
    for path in (data / "annotations").glob("*.jsonl"):
        for record in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
            key = convert.task_key(record["article_id"], record["target_id"])
            found[key] = (record["related"], record["doc_stance"])
    return found


def test_push_sends_document_labels_once_and_pull_brings_them_back(
    live_studio: LiveStudio, fnc1_data: Path, tmp_path: Path
) -> None:
    studio, title = live_studio.client(), live_studio.project_title("fnc1")
    imported = _imported(fnc1_data)
    first = push(studio, load_valid([fnc1_data]), title=title, batch_size=4)
    assert (first.created, first.document_labels) == (len(imported), len(imported))
    config = studio.project(first.project_id)["label_config"]
    assert config == label_config(document=True)
    second = push(studio, load_valid([fnc1_data]), title=title)
    assert (second.created, second.existing, second.document_labels) == (0, len(imported), 0)
    tasks = existing_tasks(studio, first.project_id)
    assert {key: task["predictions"] for key, task in tasks.items()} == dict.fromkeys(imported, 1)

    sdk = LabelStudio(base_url=live_studio.url, api_key=live_studio.token)
    predicted = {}
    for key, task in tasks.items():
        (prediction,) = sdk.predictions.list(task=task["id"])
        assert prediction.model_version == "fnc-1"
        predicted[key] = convert.results_to_document(prediction.result)
    assert predicted == {
        key: {"related": related, **({"doc_stance": stance} if stance else {})}
        for key, (related, stance) in imported.items()
    }

    # annotators: accept three pre-annotations, overrule one, make one invalid (stance without related)
    keys = sorted(imported)
    accepted, overruled, invalid = keys[:3], keys[3], keys[4]
    for key in accepted:
        studio.create_annotation(tasks[key]["id"], convert.document_to_results(*imported[key]))
    studio.create_annotation(tasks[overruled]["id"], convert.document_to_results(True, "oppose"))
    studio.create_annotation(tasks[invalid]["id"], convert.document_to_results(None, "support"))

    pulled = pull(studio, title=title, data_dir=fnc1_data)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (5, 4, 1)
    (reject,) = pulled.rejects
    assert reject.task_key == invalid and "needs related = yes" in reject.reason
    got = {
        convert.task_key(r["article_id"], r["target_id"]): r
        for r in map(json.loads, pulled.written.read_text(encoding="utf-8").splitlines())
    }
    assert {k: (r.get("related"), r.get("doc_stance")) for k, r in got.items()} == {
        **{key: imported[key] for key in accepted},
        overruled: (True, "oppose"),
    }
    assert {r["config_hash"] for r in got.values()} == {config_hash(label_config(document=True))}
    assert validate_corpus(read_corpus([fnc1_data])) == []
    again = pull(studio, title=title, data_dir=fnc1_data)
    assert again.written.read_bytes() == pulled.written.read_bytes()

    # a later push of data without document labels keeps the choices (nothing orphaned)
    spans = write_records(tmp_path / "spans", base_records())
    push(studio, load_valid([spans]), title=title)
    assert has_document_choices(studio.project(first.project_id)["label_config"])


def test_a_span_project_keeps_its_config(live_studio: LiveStudio, tmp_path: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("spans")
    data = write_records(tmp_path / "data", base_records())
    report = push(studio, load_valid([data]), title=title)
    assert studio.project(report.project_id)["label_config"] == label_config()
    assert report.document_labels == 0


def test_document_labels_on_request(live_studio: LiveStudio, tmp_path: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("asked")
    data = write_records(tmp_path / "data", base_records())
    report = push(studio, load_valid([data]), title=title, document_labels=True)
    assert studio.project(report.project_id)["label_config"] == label_config(document=True)
