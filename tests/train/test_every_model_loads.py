"""Every model of every task, trained on a tiny export, loads again through ``evaluate`` and ``predict``;
the types its skops file holds are all accepted by the trusted prefixes (derived, not listed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import skops.io as sio

from stancebank.cli import main
from tests.stancebank.test_shipped_data import DATA
from train.baselines import ALL_TASKS, model_names, model_path
from train.evaluation import refused_types

FIXTURES = Path(__file__).parents[1] / "fixtures" / "importers"


def _ok(*args: str) -> None:
    assert main(list(args)) == 0, args


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Dataset per task: the shipped export for our tasks, tiny imports for pairs and scores."""
    work = tmp_path_factory.mktemp("exports")
    _ok("import", "fnc1", str(FIXTURES / "fnc1"), "--out", str(work / "fnc"), "--quiet")
    _ok("export", str(work / "fnc"), "--out", str(work / "fnc-hf"))
    for split in ("train", "test"):  # a factuality corpus on −3…+3 with a train and a test file
        shutil.copy(FIXTURES / "train.conll", work / f"{split}.conll")
    _ok("import", "conll-factuality", str(work / "train.conll"), str(work / "test.conll"),
        "--out", str(work / "fact"), "--quiet")  # fmt: skip
    _ok("export", str(work / "fact"), "--out", str(work / "fact-hf"))
    ours = {name: DATA / "hf" for name in ("certainty", "polarity", "stance", "reliability")}
    return {**ours, "pairs": work / "fnc-hf", "certainty-score": work / "fact-hf"}


@pytest.fixture(scope="module")
def trained(exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    for task in ALL_TASKS:
        fit_on = "train" if task == "certainty-score" else "train,validation"
        _ok("train", "--task", task, "--dataset", str(exports[task]), "--out", str(out), "--fit-on", fit_on)
    return out


def test_the_tasks_here_are_every_task() -> None:
    assert set(ALL_TASKS) == {"certainty", "polarity", "stance", "reliability", "pairs", "certainty-score"}


@pytest.mark.parametrize("task", list(ALL_TASKS))
def test_every_saved_model_loads_through_evaluate(
    task: str, trained: Path, exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in model_names(task):
        path = model_path(trained, task, name)
        assert refused_types(sio.get_untrusted_types(file=path)) == [], (task, name)
        capsys.readouterr()
        out = tmp_path / f"{name}.jsonl"
        _ok("evaluate", "--model", str(path), "--dataset", str(exports[task]), "--predictions", str(out))
        scored = json.loads(capsys.readouterr().out)
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert scored["model"] == name and len(lines) == scored["n"]
        # train wrote the same test predictions next to the model
        written = (trained / task / f"predictions-{name}.jsonl").read_text(encoding="utf-8")
        assert written == out.read_text(encoding="utf-8")


def test_the_char_svm_model_of_the_issue_loads(trained: Path) -> None:
    """`evaluate --model …/model-char-svm.skops` refused sklearn.calibration._CalibratedClassifier."""
    types = sio.get_untrusted_types(file=model_path(trained, "certainty", "char-svm"))
    assert "sklearn.calibration._CalibratedClassifier" in types and not refused_types(types)


def test_types_outside_the_prefixes_are_refused() -> None:
    assert refused_types(["os.system", "builtins.eval", "train.export.push_to_hub", "numpy.load"]) == [
        "os.system",
        "builtins.eval",
        "train.export.push_to_hub",
        "numpy.load",
    ]
