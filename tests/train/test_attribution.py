"""Attribution extraction: tokens and BIO layers, the metric rules, training, saving and pre-annotation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from annotate.config import label_config
from annotate.matching import Span
from annotate.push import read_predictions
from stancebank.cli import main
from stancebank.validate import load_valid
from tests.stancebank.test_shipped_data import DATA
from train.attribution.features import doc_features, lexicon_marks
from train.attribution.metrics import KEYS, article_counts, score
from train.attribution.pipeline import AttributionModel, Example
from train.attribution.run import load, save
from train.attribution.tokens import decode, encode, token_range, tokenize
from train.baselines import TrainingError


def test_tokens_are_code_point_slices_with_sentences_and_quotes() -> None:
    text = "😀 Dr. Holt said “prices may rise.” Officials\r\ndeclined.\nNew 東京 line"
    doc = tokenize(text)
    assert all(text[s:e] == w for s, e, w in zip(doc.starts, doc.ends, doc.words, strict=True))
    sentence = dict(zip(doc.words, doc.sentence, strict=False))
    assert sentence["Dr"] == sentence["said"] == sentence["rise"]  # "Dr." does not end the sentence
    assert sentence["Officials"] == sentence["rise"] + 1  # the break comes after the closing quote
    assert sentence["New"] == sentence["declined"] + 1
    quoted = {w for w, q in zip(doc.words, doc.in_quote, strict=True) if q}
    assert quoted == {"prices", "may", "rise", "."}


def test_a_cue_inside_a_claim_is_kept_on_its_own_layer() -> None:
    text = "A ban was likely within weeks, she said."
    doc = tokenize(text)
    claim, cue = (0, text.index(",")), (text.index("likely"), text.index("likely") + 6)
    twin = (0, 5)  # a second CLAIM sharing tokens with the first cannot be tagged
    layers, dropped = encode(doc, [("CLAIM", *claim), ("CUE", *cue), ("CLAIM", *twin)])
    assert dropped == 1
    assert [doc.starts[a] for a, _ in decode(layers["CUE"])] == [cue[0]]
    ((first, last),) = decode(layers["CLAIM"])
    assert (doc.starts[first], doc.ends[last - 1]) == claim
    assert decode(["O", "I", "I", "O", "B", "B"]) == [(1, 3), (4, 5), (5, 6)]  # I after O starts a run
    assert token_range(doc, 0, 3) == (0, 2) and token_range(doc, 1, 2) is None  # a space covers no token


def test_lexicons_mark_phrases_and_features_stay_in_the_sentence() -> None:
    assert (
        lexicon_marks(["according", "to", "the", "report", "it", "isn't"])[:2] == ["attribution|report"] * 2
    )
    assert "negation" in lexicon_marks(["it", "isn't"])[1]
    features = doc_features(tokenize("He said so. Then “quiet” came."))
    assert features[0]["rep>"] == "1" and features[0]["-1|0"] == "<s>|he"
    assert features[4]["-1:edge"] and features[4]["rep<"] == "none"  # "Then": new sentence
    assert features[6]["q"] is True and features[6]["quote<"] and features[6]["quote>"]


def test_metrics_score_a_model_like_a_second_annotator() -> None:
    gold = [Span("s", "SOURCE", 0, 10), Span("q", "CUE", 11, 15), Span("c", "CLAIM", 16, 40)]
    predicted = [Span("p1", "SOURCE", 0, 10), Span("p2", "CUE", 11, 15), Span("p3", "CLAIM", 16, 35)]
    gold_rel = {("source_of", "s", "c"), ("cue_of", "q", "c")}
    counts = article_counts(gold, predicted, gold_rel, {("source_of", "p1", "p3"), ("source_of", "p2", "p3")})
    by_key = dict(zip(KEYS, counts.tolist(), strict=True))
    assert by_key["CLAIM/exact"] == [1, 1, 0] and by_key["CLAIM/overlap"] == [1, 1, 1]  # 19/24 ≥ 0.5
    assert by_key["relations"] == [2, 2, 1]  # the cue linked as a source does not count
    figures = score(np.array([counts, counts]), n_bootstrap=50)
    assert figures["spans"]["CLAIM"]["exact_f1"] == 0.0 and figures["spans"]["CLAIM"]["overlap_f1"] == 1.0
    assert figures["relations"]["precision"] == 0.5 and figures["relations"]["recall"] == 0.5
    assert figures["relations"]["f1_ci95"] == [0.5, 0.5]


def _corpus() -> list[Example]:
    people = ["The minister", "A spokesperson", "Analyst Mira Holt", "Officials", "The company"]
    claims = ["the plan will go ahead", "talks may resume", "prices could rise", "the bridge will reopen"]
    out = []
    for i in range(12):
        who, what = people[i % 5], claims[i % 4]
        text = f"{who} said {what}. It rained."
        q = len(who) + 1
        c = q + 5
        spans = [
            Span("s1", "SOURCE", 0, len(who)),
            Span("q1", "CUE", q, q + 4),
            Span("c1", "CLAIM", c, c + len(what)),
        ]
        out.append(Example(f"a{i}", text, spans, {("source_of", "s1", "c1"), ("cue_of", "q1", "c1")}))
    return out


@pytest.mark.parametrize("name", ["crf", "token-lr"])
def test_both_models_learn_the_structure_and_survive_skops(tmp_path: Path, name: str) -> None:
    model = AttributionModel(model=name).fit(_corpus())
    text = "The company said talks may resume. It rained."
    save(model, tmp_path / f"model-{name}.skops")
    loaded = load(tmp_path / f"model-{name}.skops")
    (prediction,) = loaded.predict([text])
    found = {(s.label, text[s.start : s.end]) for s, _ in prediction.spans}
    assert found == {("SOURCE", "The company"), ("CUE", "said"), ("CLAIM", "talks may resume")}
    ids = {s.label: s.span_id for s, _ in prediction.spans}
    assert {r[:3] for r in prediction.relations} == {
        ("source_of", ids["SOURCE"], ids["CLAIM"]),
        ("cue_of", ids["CUE"], ids["CLAIM"]),
    }
    assert all(0 < score <= 1 for _, score in prediction.spans)


def test_a_model_file_with_untrusted_types_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model-x.skops"
    sio.dump({"x": Path("a")}, path)  # a pathlib type: not ours, not a skops default
    with pytest.raises(TrainingError, match="refusing to load untrusted types"):
        load(path)
    with pytest.raises(TrainingError, match="no such model file"):
        load(tmp_path / "missing.skops")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    assert main(["train", "--task", "attribution", "--dataset", str(DATA / "hf"), "--out", str(out)]) == 0
    return out / "attribution"


def test_train_writes_metrics_in_the_promised_layout(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    for name in ("crf", "token-lr"):
        model = metrics["models"][name]
        for label in ("SOURCE", "CUE", "CLAIM"):
            spans = model["spans"][label]
            assert {"exact_f1", "overlap_f1", "exact_precision", "overlap_recall", "overlap_f1_ci95"} <= set(
                spans
            )
            assert spans["exact_f1"] <= spans["overlap_f1"]
        assert 0 <= model["relations"]["f1"] <= 1 and len(model["relations"]["f1_ci95"]) == 2
        assert [p["share"] for p in metrics["learning_curve"][name]] == [0.1, 0.25, 0.5, 1.0]
    assert metrics["train"]["splits"] == ["train", "validation"] and metrics["test"]["articles"] >= 1
    assert (trained / "learning-curve.png").stat().st_size > 1000
    assert "## crf" in (trained / "report.md").read_text()


def test_train_refuses_an_unknown_model_and_a_missing_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "train",
        "--task",
        "attribution",
        "--model",
        "svm",
        "--dataset",
        str(DATA / "hf"),
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "has no model 'svm'" in err
    out = tmp_path / "reports"
    code = main(["train", "--task", "attribution", "--dataset", str(tmp_path / "none"), "--out", str(out)])
    assert code == 2 and "no such dataset folder" in capsys.readouterr().err
    assert not (out / "attribution").exists()


def test_predict_proposes_regions_relations_and_claim_values(trained: Path, tmp_path: Path) -> None:
    certainty = tmp_path / "claims"
    assert (
        main(
            [
                "train",
                "--task",
                "certainty",
                "--model",
                "tfidf-lr",
                "--dataset",
                str(DATA / "hf"),
                "--out",
                str(certainty),
            ]
        )
        == 0
    )
    out = tmp_path / "predictions.jsonl"
    code = main(
        ["predict", "--model", str(trained / "model-crf.skops"), "--claim-model",
         str(certainty / "certainty" / "model-tfidf-lr.skops"), "--include-annotated", str(DATA),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    corpus = load_valid([DATA])
    assert len(read_predictions(out, corpus, label_config())) == len(records)  # what push would send
    uncertainty = [r["uncertainty"] for r in records]
    assert uncertainty == sorted(uncertainty, reverse=True)
    results = [x for r in records for x in r["result"]]
    labels = {x["value"]["labels"][0] for x in results if x["type"] == "labels"}
    assert labels == {"SOURCE", "CUE", "CLAIM"}
    assert all(0 < x["score"] <= 1 for x in results if x["type"] == "labels")
    assert {x["labels"][0] for x in results if x["type"] == "relation"} == {"source_of", "cue_of"}
    assert {x["from_name"] for x in results if x["type"] == "choices"} == {"certainty"}
