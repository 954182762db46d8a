"""``predict --engine spark``: the local engine's predictions, as JSONL shards that push reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotate.config import label_config
from annotate.push import read_predictions
from stancebank.cli import main
from stancebank.validate import load_valid
from tests.shipped import DATA
from train.baselines import model_path
from train.predict import predict
from train.spark_predict import predict_spark

pytestmark = pytest.mark.spark


def test_spark_predictions_equal_local(spark, tmp_path: Path) -> None:
    models = tmp_path / "models"
    args = ["train", "--task", "certainty", "--model", "tfidf-lr", "--dataset", str(DATA / "hf")]
    assert main([*args, "--out", str(models)]) == 0
    model = model_path(models, "certainty", "tfidf-lr")
    corpus = load_valid([DATA])
    want = predict(model, corpus, include_annotated=True)
    out = tmp_path / "predictions"
    assert predict_spark(model, [DATA], out, include_annotated=True, partitions=3) == len(want)
    shards = sorted(out.glob("predictions-*-of-*.jsonl"))
    assert len(shards) > 1
    got = [json.loads(line) for shard in shards for line in shard.read_text(encoding="utf-8").splitlines()]
    assert got == want  # the shards in name order: least confident first across all of them, as locally
    assert max(len(s.read_text(encoding="utf-8").splitlines()) for s in shards) <= -(-len(want) // 3)
    assert len(read_predictions(out, corpus, label_config())) == len(want)  # push reads the folder


def test_spark_predict_never_replaces_a_users_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.txt").write_text("mine", encoding="utf-8")
    model = tmp_path / "model.skops"
    args = ["predict", "--model", str(model), str(DATA), "--engine", "spark", "--out", str(mine)]
    assert main(args) == 2
    assert "a non-empty folder that stancebank did not write" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["chapter1.txt"]
    assert (mine / "chapter1.txt").read_text(encoding="utf-8") == "mine"


def test_spark_predict_refuses_to_write_over_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "articles.jsonl").write_bytes((DATA / "articles.jsonl").read_bytes())
    before = sorted(p.name for p in data.iterdir())
    model = tmp_path / "model.skops"
    assert main(["predict", "--model", str(model), str(data), "--engine", "spark", "--out", str(data)]) == 2
    assert "stancebank: error:" in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == before
