"""Integration: push, annotate as annotators would, pull — against a real Label Studio."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from annotate import convert
from annotate.config import config_hash, config_values, label_config
from annotate.pull import convert_snapshot, pull
from annotate.push import existing_tasks, push
from annotate.server import StudioError
from stancebank.corpus import read_corpus
from stancebank.validate import load_valid
from tests.annotate.conftest import LiveStudio
from tests.shipped import DATA

pytestmark = pytest.mark.integration

# Stories with emoji (syn-005), CRLF (syn-025) and CJK (syn-010) before their spans.
STORIES = ("syn-005", "syn-025", "syn-010")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("raw"))
    return target


def _authored(data: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(article_id, annotator) -> shipped annotation record, for the test stories."""
    found = {}
    for path in (data / "annotations").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["article_id"] in STORIES and record["annotator"] != "gold":
                found[(record["article_id"], record["annotator"])] = record
    return found


def test_config_is_accepted_by_the_server(live_studio: LiveStudio) -> None:
    studio = live_studio.client()
    project_id = studio.create_project(live_studio.project_title("config"), label_config())
    assert studio.project(project_id)["label_config"] == label_config()


def test_push_twice_imports_nothing_twice(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("idempotent")
    corpus = load_valid([data_copy])
    first = push(studio, corpus, title=title, batch_size=7)
    second = push(studio, corpus, title=title)
    assert (first.created, first.existing) == (len(corpus["targets"]), 0)
    assert (second.created, second.existing, second.changed) == (0, len(corpus["targets"]), [])
    assert len(existing_tasks(studio, first.project_id)) == len(corpus["targets"])


def test_changed_article_text_is_reported_not_duplicated(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("changed")
    push(studio, load_valid([data_copy]), title=title)
    corpus = read_corpus([data_copy])
    corpus["articles"].loc[corpus["articles"]["article_id"] == "syn-001", "text"] += " Update."
    report = push(studio, corpus, title=title)
    assert report.changed == ["syn-001|syn-001:t1"]
    assert report.created == 0
    assert len(existing_tasks(studio, report.project_id)) == len(corpus["targets"])


def test_config_change_that_orphans_labels_is_refused(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("orphan")
    old = label_config().replace('<Label value="CUE"', '<Label value="QUOTE" /><Label value="CUE"')
    studio.create_project(title, old)
    with pytest.raises(StudioError, match=r"spans: \['QUOTE'\].*--force"):
        push(studio, load_valid([data_copy]), title=title)
    report = push(studio, load_valid([data_copy]), title=title, force=True)
    assert studio.project(report.project_id)["label_config"] == label_config()


def test_annotate_then_pull_gives_the_expected_tables(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("roundtrip")
    report = push(studio, load_valid([data_copy]), title=title)
    tasks = existing_tasks(studio, report.project_id)
    users = {
        name: studio.create_user(f"{name}-{report.project_id}", f"{name}{report.project_id}@example.org")
        for name in ("amira", "bruno", "chen")
    }
    expected = _authored(data_copy)
    ls_ids = {}
    for (article_id, annotator), record in sorted(expected.items()):
        results = convert.annotation_to_results(record["spans"], record["relations"])
        task_id = tasks[convert.task_key(article_id, record["target_id"])]["id"]
        ls_ids[(article_id, annotator)] = studio.create_annotation(
            task_id, results, completed_by=users[annotator]
        )
    pulled = pull(studio, title=title, data_dir=data_copy)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (len(expected), len(expected), 0)
    got = {
        (r["article_id"], r["annotator"].split("-")[0]): r
        for r in map(json.loads, pulled.written.read_text(encoding="utf-8").splitlines())
    }
    assert set(got) == set(expected)
    for key, record in expected.items():
        assert got[key]["spans"] == sorted(
            record["spans"], key=lambda s: (s["start"], s["end"], s["label"], s["id"])
        )
        assert {(r["from_id"], r["to_id"], r["type"]) for r in got[key]["relations"]} == {
            (r["from_id"], r["to_id"], r["type"]) for r in record["relations"]
        }
        assert got[key]["ls_annotation_id"] == ls_ids[key]
        assert got[key]["config_hash"] == config_hash(label_config())
    assert read_corpus([data_copy]) is not None
    again = pull(studio, title=title, data_dir=data_copy)
    assert again.snapshot == pulled.snapshot
    assert again.written.read_bytes() == pulled.written.read_bytes()


def test_bad_annotations_land_in_rejects_and_counts_add_up(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("rejects")
    report = push(studio, load_valid([data_copy]), title=title)
    tasks = existing_tasks(studio, report.project_id)
    record = _authored(data_copy)[("syn-005", "amira")]
    task_id = tasks[convert.task_key("syn-005", record["target_id"])]["id"]
    good = convert.annotation_to_results(record["spans"], record["relations"])
    no_label = [dict(r) for r in good]
    no_label[-1] = {k: v for k, v in no_label[-1].items() if k != "labels"}
    shifted = json.loads(json.dumps(good))
    for item in shifted:
        if "value" in item:
            item["value"]["start"] += 1
            item["value"]["end"] += 1
    wrong_value = json.loads(json.dumps(good))
    next(r for r in wrong_value if r["from_name"] == "stance")["value"]["choices"] = ["maybe"]
    studio.create_annotation(task_id, good)
    studio.create_annotation(task_id, no_label)
    studio.create_annotation(task_id, shifted)
    studio.create_annotation(task_id, wrong_value)
    studio.create_annotation(task_id, good, was_cancelled=True)
    pulled = pull(studio, title=title, data_dir=data_copy)
    assert (pulled.exported, pulled.converted, pulled.rejected) == (5, 1, 4)
    reasons = [r.reason for r in pulled.rejects]
    assert any("has no label" in r for r in reasons)
    assert any("!= article text" in r for r in reasons)
    assert any("not_in_vocabulary [stance]" in r for r in reasons)
    assert any("cancelled" in r for r in reasons)
    lines = pulled.rejects_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(json.loads(line)["task_id"] == task_id for line in lines)


def test_predictions_round_trip(live_studio: LiveStudio, data_copy: Path, tmp_path: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("predictions")
    record = _authored(data_copy)[("syn-010", "chen")]
    key = convert.task_key("syn-010", record["target_id"])
    result = convert.annotation_to_results(record["spans"], record["relations"])
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(
        json.dumps(
            {"task_key": key, "model_version": "tfidf-lr-1", "score": 0.42, "result": result},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    report = push(studio, load_valid([data_copy]), title=title, predictions=predictions)
    assert report.predictions == 1
    export = json.loads(studio.export(report.project_id))
    task = next(t for t in export if t["data"]["task_key"] == key)
    assert len(task["predictions"]) == 1
    prediction_ids = task["predictions"]
    assert prediction_ids


def test_predictions_folder_of_shards(live_studio: LiveStudio, data_copy: Path, tmp_path: Path) -> None:
    """``predict --engine spark`` writes a folder of JSONL shards; push sends every shard's records."""
    studio, title = live_studio.client(), live_studio.project_title("prediction-shards")
    authored = _authored(data_copy)
    folder = tmp_path / "predictions"
    folder.mkdir()
    for i, (article, annotator) in enumerate(sorted(authored)[:2]):
        record = authored[(article, annotator)]
        key = convert.task_key(article, record["target_id"])
        result = convert.annotation_to_results(record["spans"], record["relations"])
        line = {"task_key": key, "model_version": "tfidf-lr-1", "score": 0.5, "result": result}
        (folder / f"predictions-{i:05d}-of-00002.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    report = push(studio, load_valid([data_copy]), title=title, predictions=folder)
    assert report.predictions == 2


def test_predictions_outside_the_config_are_refused(
    live_studio: LiveStudio, data_copy: Path, tmp_path: Path
) -> None:
    from schemas.errors import UnreadableInputError

    studio, title = live_studio.client(), live_studio.project_title("bad predictions")
    record = _authored(data_copy)[("syn-010", "chen")]
    result = convert.annotation_to_results(record["spans"], record["relations"])
    next(r for r in result if r["from_name"] == "certainty")["value"]["choices"] = ["sure"]
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(
        json.dumps(
            {
                "task_key": convert.task_key("syn-010", record["target_id"]),
                "model_version": "m",
                "score": 0.5,
                "result": result,
            }
        )
        + "\n"
    )
    with pytest.raises(UnreadableInputError, match="certainty 'sure' is not in the config"):
        push(studio, load_valid([data_copy]), title=title, predictions=predictions)
    assert "sure" not in config_values(label_config())["certainty"]


def test_pull_from_a_saved_snapshot_is_offline(live_studio: LiveStudio, data_copy: Path) -> None:
    studio, title = live_studio.client(), live_studio.project_title("snapshot")
    push(studio, load_valid([data_copy]), title=title)
    first = pull(studio, title=title, data_dir=data_copy)
    again = convert_snapshot(first.snapshot, data_dir=data_copy)
    assert (again.exported, again.converted, again.rejected) == (
        first.exported,
        first.converted,
        first.rejected,
    )


def test_unresolved_items_become_a_review_project(live_studio: LiveStudio, data_copy: Path) -> None:
    from annotate.adjudicate import adjudicate
    from annotate.quality import push_review

    studio, title = live_studio.client(), live_studio.project_title("review")
    corpus = load_valid([data_copy])
    outcome = adjudicate(corpus.tables)
    outcome.unresolved = outcome.unresolved[:3]
    project_id, created = push_review(studio, corpus, outcome, title=title)
    assert created == 3
    export = json.loads(studio.export(project_id))
    assert len(export) == 3
    first = export[0]
    assert first["data"]["dispute"].startswith("#1 ")
    voters = set(outcome.unresolved[0]["votes"])
    assert len(first["predictions"]) == len(voters)
    config = studio.project(project_id)["label_config"]
    assert "$dispute" in config
