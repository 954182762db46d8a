"""Baselines: the cue transformer keeps the estimator contract, metrics match hand computation,
models train on the shipped export, skops files round-trip and untrusted ones are refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from stancebank.cli import main
from tests.shipped import DATA
from train.baselines import TASKS, TrainingError, model_path
from train.cues import CueFeatures
from train.evaluation import load_model, metrics


@parametrize_with_checks([CueFeatures(), CueFeatures(normalize=True)])
def test_cue_features_follow_the_estimator_contract(estimator: Any, check: Any) -> None:
    check(estimator)


def test_cue_features_count_what_the_guideline_names() -> None:
    features = CueFeatures().fit_transform(np.array([["It is unclear whether talks may not resume?"]]))
    names = [
        "hedge_count",
        "negation_count",
        "attribution_count",
        "modal_count",
        "uncertain_frame_count",
        "question_mark",
        "quote",
        "length_words",
    ]
    assert dict(zip(names, features[0], strict=True)) == {
        "hedge_count": 1.0,
        "negation_count": 1.0,
        "attribution_count": 0.0,
        "modal_count": 0.0,
        "uncertain_frame_count": 2.0,
        "question_mark": 1.0,
        "quote": 0.0,
        "length_words": 8.0,
    }


def test_metrics_by_hand() -> None:
    y_true = np.array(["a", "a", "b", "b"], dtype=object)
    y_pred = np.array(["a", "b", "b", "b"], dtype=object)
    result = metrics(y_true, y_pred, ["a", "b"], n_bootstrap=50)
    # a: P=1, R=.5, F1=2/3; b: P=2/3, R=1, F1=.8; macro = (2/3 + .8)/2 = 0.7333
    assert result["accuracy"] == 0.75
    assert result["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "n_true": 2}
    assert result["per_class"]["b"]["f1"] == 0.8
    assert result["macro_f1"] == pytest.approx(0.7333, abs=1e-4)
    low, high = result["macro_f1_ci95"]
    assert 0 <= low <= high <= 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    for model in ("majority", "stratified", "tfidf-lr", "char-svm", "cues-lr"):
        assert (
            main(
                [
                    "train",
                    "--task",
                    "certainty",
                    "--model",
                    model,
                    "--dataset",
                    str(DATA / "hf"),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
    return out


def test_every_baseline_trains_and_reports(trained: Path) -> None:
    folder = trained / "certainty"
    metrics_json = json.loads((folder / "metrics.json").read_text())
    assert metrics_json["task"] == "certainty"
    assert (folder / "report.md").read_text().startswith("# Baselines: certainty")
    assert (folder / "confusion-cues-lr.png").read_bytes()[:4] == b"\x89PNG"
    assert model_path(trained, "certainty", "cues-lr").exists()


def test_learned_models_beat_the_floor(tmp_path: Path) -> None:
    out = tmp_path / "r"
    for model in ("majority", "tfidf-lr"):
        main(
            [
                "train",
                "--task",
                "polarity",
                "--model",
                model,
                "--dataset",
                str(DATA / "hf"),
                "--out",
                str(out),
            ]
        )
    results = json.loads((out / "polarity" / "metrics.json").read_text())["models"]
    assert results["tfidf-lr"]["macro_f1"] > results["majority"]["macro_f1"]


def test_training_is_deterministic(trained: Path, tmp_path: Path) -> None:
    main(
        [
            "train",
            "--task",
            "certainty",
            "--model",
            "cues-lr",
            "--dataset",
            str(DATA / "hf"),
            "--out",
            str(tmp_path),
        ]
    )
    again = json.loads((tmp_path / "certainty" / "metrics.json").read_text())["models"]["cues-lr"]
    first = json.loads((trained / "certainty" / "metrics.json").read_text())["models"]["cues-lr"]
    assert again == first


def test_skops_round_trip_and_evaluate(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = model_path(trained, "certainty", "cues-lr")
    model = load_model(path)
    assert hasattr(model, "predict")
    capsys.readouterr()
    assert (
        main(["evaluate", "--model", str(path), "--dataset", str(DATA / "hf"), "--split", "validation"]) == 0
    )
    scored = json.loads(capsys.readouterr().out)
    assert scored["task"] == "certainty" and scored["split"] == "validation" and 0 <= scored["macro_f1"] <= 1


def test_tampered_model_with_untrusted_type_is_refused(trained: Path, tmp_path: Path) -> None:
    source = model_path(trained, "certainty", "cues-lr")
    tampered = tmp_path / "model-cues-lr.skops"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "schema.json":
                data = data.replace(b'"train.cues"', b'"os"').replace(b'"CueFeatures"', b'"system"')
            zout.writestr(item, data)
    with pytest.raises(TrainingError, match="refusing to load untrusted types"):
        load_model(tampered)
    (tmp_path / "garbage.skops").write_bytes(b"not a zip")
    with pytest.raises(TrainingError, match="not a skops model file"):
        load_model(tmp_path / "garbage.skops")


def test_tasks_cover_the_brief() -> None:
    assert set(TASKS) == {"certainty", "polarity", "stance", "reliability"}


def test_the_parser_knows_every_task_without_importing_sklearn() -> None:
    from train.baselines import ALL_TASKS
    from train.cli_train import TASK_NAMES

    assert tuple(ALL_TASKS) == TASK_NAMES


def test_the_model_help_names_every_model() -> None:
    """``train --help`` lists the models by hand (the parser is built without sklearn): none is left out."""
    import re

    from stancebank.cli import build_parser
    from train.baselines import all_model_names

    parser = build_parser()
    train = next(a for a in parser._actions if a.dest == "command").choices["train"]  # type: ignore[union-attr]
    shown = next(a.help for a in train._actions if a.dest == "model")
    assert set(all_model_names()) <= set(re.findall(r"[a-z][a-z0-9-]*", shown or ""))
