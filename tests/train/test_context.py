"""Token-level certainty: the event token's context and the CoNLL file's extra columns reach the model."""

from __future__ import annotations

from pathlib import Path

from stancebank.cli import main
from train.baselines import frame, task_of
from train.context import context_names, context_row, window_text
from train.export import load

CONLL = (
    "1\tOfficials\t_\tNNS\tofficial\n"
    "2\tsaid\t3.0\tVBD\tsay\n"
    "3\tthe\t_\tDT\tthe\n"
    "4\tbridge\t_\tNN\tbridge\n"
    "5\tmight\t_\tMD\tmight\n"
    "6\tclose\t-1.0\tVB\tclose\n"
    "7\t.\t_\t.\t.\n"
)


def test_the_window_and_cue_distances_of_a_token() -> None:
    assert (
        window_text("Officials said the bridge might", "close", " .")
        == "L3_the L2_bridge L1_might T_close R1_"
    )
    row = dict(
        zip(context_names(), context_row("Officials said the bridge might", "close", " ."), strict=True)
    )
    assert row["hedge_left"] == 1 and row["hedge_distance"] == 1 and row["hedge_token"] == 0
    assert row["attribution_sentence"] == 1 and row["attribution_distance"] == 4
    assert row["negation_distance"] == 20 and row["position"] == 5 / 7


def test_conll_extra_columns_and_the_context_reach_the_export(tmp_path: Path) -> None:
    for split in ("train", "test"):
        (tmp_path / f"{split}.conll").write_text(CONLL, encoding="utf-8")
    assert main(["import", "conll-factuality", str(tmp_path / "train.conll"), str(tmp_path / "test.conll"),
                 "--out", str(tmp_path / "data"), "--quiet"]) == 0  # fmt: skip
    assert main(["export", str(tmp_path / "data"), "--out", str(tmp_path / "hf")]) == 0
    data = frame(load(tmp_path / "hf", "claims")["test"], task_of("certainty-score"))
    assert list(data.X["token_info"]) == ["VBD\tsay", "VB\tclose"]
    assert list(data.X["left"]) == ["Officials ", "Officials said the bridge might "]
    assert list(data.X["right"]) == [" the bridge might close .", " ."]
    assert data.scale is not None and (data.scale.low, data.scale.high) == (-3.0, 3.0)
