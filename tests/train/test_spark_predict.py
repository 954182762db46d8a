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
    key = lambda r: r["task_key"]  # noqa: E731
    assert sorted(got, key=key) == sorted(want, key=key)
    assert len(read_predictions(out, corpus, label_config())) == len(want)  # push reads the folder
