"""Imported corpora end to end: import → export → train → evaluate a saved model on a fresh import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stancebank.cli import main
from train.pairs import fnc_score

FIXTURES = Path(__file__).parents[1] / "fixtures" / "importers"


def test_fnc_score_known_answers() -> None:
    truth = np.asarray(["support", "oppose", "neutral", "unrelated"], dtype=object)
    assert fnc_score(truth, truth)["fnc1_percent"] == 100.0
    # best = 4 × 0.25 + 3 × 0.75 = 3.25; all "unrelated": only the unrelated pair's 0.25
    assert fnc_score(truth, np.asarray(["unrelated"] * 4, dtype=object)) == {
        "fnc1_score": 0.25,
        "fnc1_max": 3.25,
        "fnc1_percent": 7.69,
    }
    # related but the wrong stance: 0.25 for each related pair, 0 for the unrelated one called related
    wrong = np.asarray(["oppose", "neutral", "support", "support"], dtype=object)
    assert fnc_score(truth, wrong)["fnc1_score"] == 0.75


def _run(*args: str) -> None:
    assert main(list(args)) == 0


def test_a_saved_fnc1_model_scores_a_freshly_imported_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run("import", "fnc1", str(FIXTURES / "fnc1"), "--out", str(tmp_path / "fnc"), "--quiet")
    _run("export", str(tmp_path / "fnc"), "--out", str(tmp_path / "fnc-hf"))
    _run("train", "--task", "fnc1", "--model", "tfidf-lr", "--dataset", str(tmp_path / "fnc-hf"),
         "--out", str(tmp_path / "reports"))  # fmt: skip
    report = (tmp_path / "reports" / "pairs" / "report.md").read_text(encoding="utf-8")
    assert "FNC-1 score" in report and (tmp_path / "reports" / "pairs" / "confusion-tfidf-lr.png").exists()
    _run("import", "table", str(FIXTURES / "pairs-table.csv"), "--out", str(tmp_path / "other"), "--quiet",
         "--text-col", "body", "--target-col", "headline", "--label-col", "verdict", "--group-col", "body_id",
         "--id-col", "pair", "--split-col", "split",
         "--label-map", "agree=support,disagree=oppose,discuss=neutral,unrelated=unrelated")  # fmt: skip
    _run("export", str(tmp_path / "other"), "--out", str(tmp_path / "other-hf"))
    capsys.readouterr()
    _run("evaluate", "--model", str(tmp_path / "reports" / "pairs" / "model-tfidf-lr.skops"),
         "--dataset", str(tmp_path / "other-hf"), "--metric", "fnc1")  # fmt: skip
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] == 4 and scored["fnc1_max"] == 4 * 0.25 + 3 * 0.75
    assert 0 <= scored["fnc1_percent"] <= 100 and set(scored) >= {"accuracy", "macro_f1"}


def test_certainty_score_model_and_the_fnc1_metric_needs_a_pair_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(
        "import",
        "certainty-jsonl",
        str(FIXTURES / "certainty.jsonl"),
        "--out",
        str(tmp_path / "c"),
        "--quiet",
    )
    _run("export", str(tmp_path / "c"), "--out", str(tmp_path / "c-hf"))
    _run("train", "--task", "certainty-score", "--dataset", str(tmp_path / "c-hf"),
         "--out", str(tmp_path / "r"), "--fit-on", "train")  # fmt: skip
    metrics = json.loads((tmp_path / "r" / "certainty-score" / "metrics.json").read_text())
    assert metrics["primary"] == "pearson_r" and set(metrics["models"]) == {
        "mean",
        "median",
        "most-frequent",
        "tfidf-ridge",
        "cues-ridge",
        "context-ridge",
    }
    assert metrics["scale"] == {"low": 1.0, "high": 6.0, "mapping": "certainty-grade"}
    assert (tmp_path / "r" / "certainty-score" / "scatter-cues-ridge.png").exists()
    capsys.readouterr()
    model = str(tmp_path / "r" / "certainty-score" / "model-cues-ridge.skops")
    assert main(["evaluate", "--model", model, "--dataset", str(tmp_path / "c-hf"), "--metric", "fnc1"]) == 2
    assert "--metric fnc1 needs a headline/body model" in capsys.readouterr().err
    _run("evaluate", "--model", model, "--dataset", str(tmp_path / "c-hf"))
    assert "pearson_r" in json.loads(capsys.readouterr().out)


def test_a_task_without_its_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--task", "fnc1", "--dataset", "data/hf", "--out", str(tmp_path)])
    assert code == 2 and "has no 'pairs' config" in capsys.readouterr().err
