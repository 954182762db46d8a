"""The general pair task, grouping by claim, the refusal to fit on the reported split, predictions,
and regression on the data's own scale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from stancebank.cli import main
from train.pair_dev import disjoint_dev
from train.scales import MostFrequentValue, Scale, grades

FIXTURES = Path(__file__).parents[1] / "fixtures" / "importers"
LABEL_MAP = "agree=support,disagree=oppose,discuss=neutral"


def _ok(*args: str) -> None:
    assert main(list(args)) == 0, args


def _claims_csv(path: Path) -> Path:
    """Claim-grouped headline stance (no unrelated class): one headline under two claims, in two splits."""
    rows = ["id,claim,claim_text,headline,verdict,split"]
    texts = {
        "c1": "The mayor resigned",
        "c2": "The bridge will close",
        "c3": "A comet was seen",
        "c4": "The factory shuts",
    }
    heads = [
        ("Mayor quits after vote", "agree"),
        ("Reports say change is coming", "discuss"),
        ("Officials deny the story", "disagree"),
        ("Confirmed: it happened", "agree"),
        ("Claim is false says spokesman", "disagree"),
        ("Sources suggest it may happen", "discuss"),
    ]
    n = 0
    for claim, split in (("c1", "train"), ("c2", "train"), ("c3", "test"), ("c4", "validation")):
        for head, verdict in heads:
            n += 1
            rows.append(f"r{n},{claim},{texts[claim]},{head},{verdict},{split}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def claims_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("claims")
    _ok("import", "table", str(_claims_csv(work / "claims.csv")), "--out", str(work / "data"), "--quiet",
        "--text-col", "headline", "--target-col", "claim_text", "--label-col", "verdict",
        "--split-group-col", "claim", "--id-col", "id", "--split-col", "split",
        "--label-map", LABEL_MAP)  # fmt: skip
    _ok("export", str(work / "data"), "--out", str(work / "hf"))
    return work / "hf"


def test_identical_headlines_under_two_claims_in_two_splits_are_not_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _claims_csv(tmp_path / "claims.csv")
    common = ["--text-col", "headline", "--target-col", "claim_text", "--label-col", "verdict",
              "--id-col", "id", "--split-col", "split", "--label-map", LABEL_MAP, "--quiet"]  # fmt: skip
    # without the claim grouping the same headline is one article, and its rows sit in three splits
    assert main(["import", "table", str(csv), "--out", str(tmp_path / "a"), *common]) == 1
    assert "split 'test' differs from the first row of group" in capsys.readouterr().out
    _ok("import", "table", str(csv), "--out", str(tmp_path / "b"), *common, "--split-group-col", "claim")
    manifest = json.loads((tmp_path / "b" / "import.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["annotations"] == 24


def test_the_claim_group_is_exported_and_kept_whole(claims_export: Path) -> None:
    from train.export import load

    pairs = load(claims_export, "pairs")
    groups = {split: set(pairs[split]["group"]) for split in pairs}
    assert groups == {"train": {"c1", "c2"}, "test": {"c3"}, "validation": {"c4"}}


def test_pairs_without_unrelated_have_no_fnc_score_and_the_best_is_by_macro_f1(
    claims_export: Path, tmp_path: Path
) -> None:
    _ok("train", "--task", "pairs", "--dataset", str(claims_export), "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "pairs" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["primary"] == "macro_f1"
    assert metrics["fitted_on"] == {"train": 12, "validation": 6}
    assert all("fnc1_percent" not in m and "per_class" in m for m in metrics["models"].values())
    best = max(
        (n for n in metrics["models"] if n != "majority"), key=lambda n: metrics["models"][n]["macro_f1"]
    )
    assert metrics["best"] == best
    report = (tmp_path / "pairs" / "report.md").read_text(encoding="utf-8")
    assert "FNC-1" not in report and "Fitted on train (12 rows) + validation (6 rows)" in report
    _ok("train", "--task", "fnc1", "--metric", "fnc1", "--model", "tfidf-lr", "--dataset", str(claims_export),
        "--out", str(tmp_path / "f"))  # fmt: skip
    named = json.loads((tmp_path / "f" / "pairs" / "metrics.json").read_text(encoding="utf-8"))
    assert named["primary"] == "fnc1_percent" and "fnc1_percent" in named["models"]["tfidf-lr"]
    assert "F1 oppose" in (tmp_path / "f" / "pairs" / "report.md").read_text(encoding="utf-8")


def test_fitting_on_the_reported_split_needs_allow_test_fit(
    claims_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--task", "pairs", "--model", "majority", "--dataset", str(claims_export),
            "--out", str(tmp_path), "--fit-on", "train,test"]  # fmt: skip
    assert main(args) == 2
    assert "--fit-on includes 'test'" in capsys.readouterr().err
    assert not (tmp_path / "pairs").exists()
    _ok(*args, "--allow-test-fit")
    report = (tmp_path / "pairs" / "report.md").read_text(encoding="utf-8")
    assert report.splitlines()[0].startswith("**Fitted on the split it is scored on (--allow-test-fit)")
    assert json.loads((tmp_path / "pairs" / "metrics.json").read_text())["test_fit"] is True


def _train_tfidf_pairs(dataset: Path, out: Path) -> None:
    _ok("train", "--task", "pairs", "--model", "tfidf-lr", "--dataset", str(dataset), "--out", str(out))


def test_evaluate_warns_about_a_split_the_model_was_fitted_on(
    claims_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _train_tfidf_pairs(claims_export, tmp_path)
    capsys.readouterr()
    model = str(tmp_path / "pairs" / "model-tfidf-lr.skops")
    _ok("evaluate", "--model", model, "--dataset", str(claims_export), "--split", "train")
    captured = capsys.readouterr()
    assert json.loads(captured.out)["fitted_on_this_split"] is True
    assert "was fitted on split 'train': not a held-out score" in captured.err


def test_predict_with_a_pair_model_and_a_score_model(
    claims_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _train_tfidf_pairs(claims_export, tmp_path)
    unlabelled = tmp_path / "new.csv"
    unlabelled.write_text("id,claim,headline\nn1,The zoo opens,Zoo opening denied\n", encoding="utf-8")
    _ok("import", "table", str(unlabelled), "--out", str(tmp_path / "new"), "--text-col", "headline",
        "--target-col", "claim", "--id-col", "id", "--quiet")  # fmt: skip
    out = tmp_path / "p.jsonl"
    _ok(
        "predict",
        "--model",
        str(tmp_path / "pairs" / "model-tfidf-lr.skops"),
        str(tmp_path / "new"),
        "--out",
        str(out),
    )
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["predicted"] in {"support", "oppose", "neutral"} and 0 < line["probability"] <= 1
    # a score model on a −3…+3 corpus: every predicted score within the range it was fitted on
    for split in ("train", "test"):
        shutil.copy(FIXTURES / "train.conll", tmp_path / f"{split}.conll")
    _ok("import", "conll-factuality", str(tmp_path / "train.conll"), str(tmp_path / "test.conll"),
        "--out", str(tmp_path / "fact"), "--quiet")  # fmt: skip
    _ok("export", str(tmp_path / "fact"), "--out", str(tmp_path / "fact-hf"))
    _ok("train", "--task", "certainty-score", "--model", "tfidf-ridge",
        "--dataset", str(tmp_path / "fact-hf"), "--out", str(tmp_path / "r"),
        "--fit-on", "train")  # fmt: skip
    score_model = tmp_path / "r" / "certainty-score" / "model-tfidf-ridge.skops"
    _ok(
        "predict",
        "--model",
        str(score_model),
        str(tmp_path / "new"),
        "--out",
        str(out),
        "--include-annotated",
    )
    scores = [json.loads(x)["score"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert scores and all(-3 <= s <= 3 for s in scores)


def test_a_factuality_corpus_is_scored_on_its_own_scale(tmp_path: Path) -> None:
    for split in ("train", "test"):
        shutil.copy(FIXTURES / "train.conll", tmp_path / f"{split}.conll")
    _ok("import", "conll-factuality", str(tmp_path / "train.conll"), str(tmp_path / "test.conll"),
        "--out", str(tmp_path / "fact"), "--quiet")  # fmt: skip
    _ok("export", str(tmp_path / "fact"), "--out", str(tmp_path / "hf"))
    _ok("train", "--task", "certainty-score", "--dataset", str(tmp_path / "hf"), "--out", str(tmp_path / "r"),
        "--fit-on", "train")  # fmt: skip
    metrics = json.loads((tmp_path / "r" / "certainty-score" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["scale"] == {"low": -3.0, "high": 3.0, "mapping": "factbank"}
    assert {"mean", "median", "most-frequent"} <= set(metrics["models"])
    # the fixture's scores: 3, -1.4, -3, 0 → most frequent (ties: the smallest) is -3; mean -0.35
    predicted = [
        json.loads(x)["predicted"]
        for x in (tmp_path / "r" / "certainty-score" / "predictions-most-frequent.jsonl")
        .read_text()
        .splitlines()
    ]
    assert predicted == [-3.0] * 4
    assert metrics["models"]["mean"]["macro_f1"] < 1.0  # the mapped grades are no longer all "certain"
    report = (tmp_path / "r" / "certainty-score" / "report.md").read_text(encoding="utf-8")
    assert "scale -3 … 3" in report and "(factbank)" in report


def test_scale_clips_and_maps_with_the_corpus_mapping() -> None:
    factuality = Scale(-3.0, 3.0, "factbank")
    assert list(factuality.clip(np.asarray([-7.0, 0.2, 4.5]))) == [-3.0, 0.2, 3.0]
    mapped = grades(factuality, np.asarray([3.0, -2.0, 0.2, 9.0]))
    assert mapped is not None and list(mapped[0]) == ["CT+", "PR-", "Uu", "CT+"]
    rating = grades(Scale(1.0, 6.0, "certainty-grade"), np.asarray([0.0, 4.0, 5.5]))
    assert rating is not None and list(rating[0]) == ["possible", "probable", "certain"]  # not a label
    assert grades(Scale(0.0, 10.0), np.asarray([1.0])) is None
    assert MostFrequentValue().fit([[0]] * 4, [3.0, 3.0, -1.0, 2.0]).predict([[0]] * 2).tolist() == [3.0, 3.0]


def test_the_dev_split_is_disjoint_in_texts_and_targets() -> None:
    """Ten stories of 3 headlines × 4 bodies (related), plus unrelated pairs across stories."""
    rows = [(f"h{s}.{h}", f"b{s}.{b}", "support") for s in range(10) for h in range(3) for b in range(4)]
    rows += [(f"h{s}.0", f"b{(s + 1) % 10}.0", "unrelated") for s in range(10)]
    targets, groups, y = (np.asarray(column, dtype=object) for column in zip(*rows, strict=True))
    ((fit_rows, dev_rows),) = disjoint_dev(targets, groups, y)
    assert len(dev_rows) >= 12 and len(fit_rows) >= 12
    assert not set(groups[fit_rows]) & set(groups[dev_rows])
    assert not set(targets[fit_rows]) & set(targets[dev_rows])
    # without labels every pair links (the unrelated ones chain the stories): one component, no split
    assert disjoint_dev(targets, groups) == []
    related = y != "unrelated"
    assert len(disjoint_dev(targets[related], groups[related])) == 1
