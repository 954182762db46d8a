"""Pre-annotation: sentence regions (code points), least-confident first, accepted by Label Studio."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stancebank.cli import main
from stancebank.validate import load_valid
from tests.shipped import DATA
from train.baselines import TrainingError, model_path
from train.predict import least_confident_first, predict, sentences
from train.spark_predict import _merge


def test_sentences_are_code_point_spans() -> None:
    text = "😀 First one. Second?\r\nThird line “quoted.” x"
    spans = sentences(text)
    assert [text[s:e] for s, e in spans] == ["😀 First one.", "Second?", "Third line “quoted.”"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    for task in ("certainty", "reliability"):
        assert (
            main(
                [
                    "train",
                    "--task",
                    task,
                    "--model",
                    "tfidf-lr",
                    "--dataset",
                    str(DATA / "hf"),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
    return out


@pytest.fixture
def half_annotated(tmp_path: Path) -> Path:
    """data/ with the annotations of two tasks removed."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("hf", "raw"))
    for path in (data / "annotations").glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if json.loads(line)["article_id"] not in ("syn-005", "syn-025")]
        path.write_text("".join(kept), encoding="utf-8")
    return data


def test_predict_only_unannotated_tasks_least_confident_first(models: Path, half_annotated: Path) -> None:
    corpus = load_valid([half_annotated])
    records = predict(model_path(models, "certainty", "tfidf-lr"), corpus)
    assert sorted(r["task_key"] for r in records) == ["syn-005|syn-005:t1", "syn-025|syn-025:t1"]
    assert records[0]["uncertainty"] >= records[1]["uncertainty"]
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    for record in records:
        text = texts[record["task_key"].split("|")[0]]
        for item in record["result"]:
            value = item["value"]
            assert text[value["start"] : value["end"]] == value["text"]
            assert 0 < item["score"] <= 1


def test_predict_refuses_a_source_model(models: Path, half_annotated: Path) -> None:
    with pytest.raises(TrainingError, match="needs a claim model"):
        predict(model_path(models, "reliability", "tfidf-lr"), load_valid([half_annotated]))


@pytest.mark.integration
def test_predictions_are_accepted_by_label_studio(
    models: Path, half_annotated: Path, tmp_path: Path, live_studio
) -> None:
    from annotate.push import existing_tasks, push

    out = tmp_path / "predictions.jsonl"
    assert (
        main(
            [
                "predict",
                "--model",
                str(model_path(models, "certainty", "tfidf-lr")),
                str(half_annotated),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    studio, title = live_studio.client(), live_studio.project_title("model predictions")
    report = push(studio, load_valid([half_annotated]), title=title, predictions=out)
    assert report.predictions == 2
    tasks = json.loads(studio.export(report.project_id))
    with_predictions = {t["data"]["task_key"] for t in tasks if t["predictions"]}
    assert with_predictions == {"syn-005|syn-005:t1", "syn-025|syn-025:t1"}
    assert len(existing_tasks(studio, report.project_id)) == len(tasks)


def test_spark_runs_merge_into_one_order_across_the_shards(tmp_path: Path) -> None:
    """``predict --engine spark``: each partition's run is sorted; the driver's merge gives shards that,
    read in name order, are least confident first overall, of about equal size, every record once."""
    records = [
        {"task_key": f"a{i}\u241ft1", "uncertainty": round((i * 37 % 11) / 10, 4), "result": []}
        for i in range(23)
    ]
    runs = []
    for part, members in enumerate((records[:2], records[2:15], records[15:])):
        run = tmp_path / f"part-{part:05d}.jsonl"
        ordered = sorted(members, key=least_confident_first)
        run.write_text("".join(json.dumps(r) + "\n" for r in ordered), encoding="utf-8")
        runs.append(run)
    _merge(runs, tmp_path, len(records))
    shards = sorted(tmp_path.glob("predictions-*.jsonl"))
    assert [s.name for s in shards] == [f"predictions-0000{i}-of-00003.jsonl" for i in range(3)]
    got = [json.loads(line) for s in shards for line in s.read_text(encoding="utf-8").splitlines()]
    assert got == sorted(records, key=least_confident_first)
    assert [len(s.read_text(encoding="utf-8").splitlines()) for s in shards] == [8, 8, 7]
    assert not list(tmp_path.glob("part-*.jsonl"))
