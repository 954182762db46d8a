"""Agreement: known answers computed by hand, a second α implementation, the CI gate."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotate.agreement import Rule, Unit, _figures, agreement, alpha, kappa
from annotate.matching import Span, match
from stancebank.cli import main
from stancebank.corpus import read_corpus
from tests.corpus_factory import base_records, write_records


def two_annotators(change_b: Any = None, *, only_one: bool = False) -> dict[str, Any]:
    records = base_records()
    if not only_one:
        second = copy.deepcopy(records["annotations"][0])
        second.update(annotation_id="a1:t1:bruno", annotator="bruno")
        if change_b:
            change_b(second)
        records["annotations"].append(second)
    return records


def tables_of(tmp_path: Path, records: dict[str, Any]) -> dict[str, Any]:
    write_records(tmp_path, records)
    return read_corpus([tmp_path]).tables


def overall(tmp_path: Path, records: dict[str, Any]) -> dict[str, Any]:
    result = agreement(tables_of(tmp_path, records), n_bootstrap=20)
    return {k: v["value"] for k, v in result["scopes"]["overall"]["figures"].items()}


def test_perfect_agreement(tmp_path: Path) -> None:
    figures = overall(tmp_path, two_annotators())
    assert figures["span/CLAIM/exact"] == figures["span/CUE/overlap"] == figures["relations"] == 1.0
    assert figures["alpha/stance"] == figures["kappa/stance"] == 1.0


def test_one_missing_annotator_gives_no_figures(tmp_path: Path) -> None:
    result = agreement(tables_of(tmp_path, two_annotators(only_one=True)), n_bootstrap=5)
    assert result["scopes"]["overall"]["tasks"] == 0
    assert all(f["value"] is None for f in result["scopes"]["overall"]["figures"].values())


def test_exact_and_overlap_span_f1(tmp_path: Path) -> None:
    def widen(b: dict[str, Any]) -> None:
        claim = b["spans"][
            3
        ]  # "東京 may host the talks" [33, 55) -> [33, 52) drops " talks"? keep overlap ≥ .5
        claim.update(end=claim["end"] - 6, text=claim["text"][:-6])

    figures = overall(tmp_path, two_annotators(widen))
    assert figures["span/CLAIM/exact"] == 0.0  # one CLAIM each, offsets differ
    assert figures["span/CLAIM/overlap"] == 1.0
    assert figures["span/SOURCE/exact"] == 1.0


def test_matching_is_one_to_one_and_greedy() -> None:
    a = [Span("a1", "CLAIM", 0, 10), Span("a2", "CLAIM", 5, 15)]
    b = [Span("b1", "CLAIM", 0, 9)]
    assert [(x.span_id, y.span_id) for x, y in match(a, b)] == [("a1", "b1")]
    assert match(a, [Span("b2", "CUE", 0, 10)]) == []
    assert match([Span("x", "CUE", 0, 4)], [Span("y", "CUE", 2, 6)]) == []  # 2/6 < 0.5


def test_complete_disagreement_by_hand() -> None:
    pairs = [("support", "oppose"), ("oppose", "support")]
    # coincidences o_so = o_os = 2, n = 4: D_o = 1, D_e = 2·2·2/(4·3) = 2/3, α = 1 − 1/(2/3) = −0.5
    assert alpha("stance", pairs) == pytest.approx(-0.5)
    # p_o = 0, p_e = 0.5 → κ = −1
    assert kappa("stance", pairs) == pytest.approx(-1.0)


def test_chance_level_by_hand() -> None:
    pairs = [("support", "support"), ("support", "oppose"), ("oppose", "support"), ("oppose", "oppose")]
    # κ: p_o = 0.5, p_e = 0.5 → 0. α: D_o = 4/8, D_e = 2·4·4/(8·7) = 4/7 → α = 1 − 0.5/(4/7) = 0.125
    assert kappa("stance", pairs) == pytest.approx(0.0)
    assert alpha("stance", pairs) == pytest.approx(0.125)


def test_ordinal_alpha_rewards_near_misses() -> None:
    near = [
        ("certain", "probable"),
        ("probable", "possible"),
        ("certain", "certain"),
        ("possible", "possible"),
    ]
    far = [("certain", "possible"), ("possible", "certain"), ("certain", "certain"), ("possible", "possible")]
    assert alpha("certainty", near) > alpha("certainty", far)
    assert np.isnan(alpha("certainty", [("underspecified", "certain")]))  # off the ordinal scale


def _reference_nominal_alpha(pairs: list[tuple[str, str]]) -> float:
    """Second implementation: Krippendorff's coincidence-matrix formula for two coders, nominal."""
    values = sorted({v for p in pairs for v in p})
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for a, b in pairs:
        o[index[a], index[b]] += 1
        o[index[b], index[a]] += 1
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = (n - np.trace(o)) / n
    d_e = (n * n - (n_c**2).sum()) / (n * (n - 1))
    return float(1 - d_o / d_e)


@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_a_second_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = ["support", "oppose", "neutral"]
    pairs = [(values[rng.integers(3)], values[rng.integers(3)]) for _ in range(60)]
    assert alpha("stance", pairs) == pytest.approx(_reference_nominal_alpha(pairs), abs=1e-9)


def test_relation_f1_counts_only_matched_endpoints() -> None:
    unit = Unit(("a", "t"), ("x", "y"))
    rules: tuple[Rule, ...] = ("exact", "overlap")
    for label, rule in itertools.product(("SOURCE", "CUE", "CLAIM"), rules):
        unit.spans[(label, rule)] = (1, 1, 1)
    unit.relations = (3, 2, 1)
    assert _figures([unit])["relations"] == pytest.approx(2 * 1 / 5)


def test_report_files_and_min_alpha_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def disagree(b: dict[str, Any]) -> None:
        b["spans"][3]["stance"] = "oppose"

    data = tmp_path / "data"
    write_records(data, two_annotators(disagree))
    out = tmp_path / "report"
    args = ["agreement", str(data), "--out", str(out), "--bootstrap", "10"]
    assert main([*args, "--min-alpha", "0.5", "--attributes", "stance"]) == 1
    assert "α below 0.5" in capsys.readouterr().out
    assert main([*args, "--min-alpha", "0.5", "--attributes", "cue_type"]) == 0
    saved = json.loads((out / "agreement.json").read_text())
    assert saved["scopes"]["amira & bruno"]["figures"]["kappa/stance"]["n"] == 1
    assert (out / "alpha_heatmap.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "|a∩b| ≥ 0.5·|a∪b|" in report and "alpha/stance (nominal)" in report


def test_warnings_for_few_items(tmp_path: Path) -> None:
    result = agreement(tables_of(tmp_path, two_annotators()), n_bootstrap=5)
    assert any("rests on 1 matched spans" in w for w in result["warnings"])
