"""``export --engine spark`` writes the local engine's rows, as shards that ``load_dataset`` reads."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from stancebank.validate import load_valid
from train.export import export, load
from train.spark_export import export_spark

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[2] / "data"
KEYS = {
    "articles": ["article_id", "target_id"],
    "claims": ["claim_id"],
    "sources": ["source_id"],
    "pairs": ["article_id", "target_id"],
    "annotations": ["annotation_id"],
}


def _sorted(table: pa.Table, config: str) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in KEYS[config]])


def _with_splits(folder: Path) -> Path:
    """The shipped corpus as an imported one whose articles carry their split (``dev`` and ``ext`` too)."""
    import json
    import shutil

    shutil.copytree(DATA, folder, ignore=shutil.ignore_patterns("hf", "raw"))
    lines = (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    for i, record in enumerate(records):
        record["metadata"] = {**(record.get("metadata") or {}), "split": ("train", "dev", "ext")[i % 3]}
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "articles.jsonl").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("corpus", ["shipped", "predefined splits"])
def test_spark_export_equals_local(spark, tmp_path: Path, corpus: str) -> None:
    data = DATA if corpus == "shipped" else _with_splits(tmp_path / "data")
    local = tmp_path / "local" / "hf"
    export(load_valid([data]).tables, local)
    remote = tmp_path / "spark" / "hf"
    report = export_spark([data], remote, partitions=3)
    counts = report.counts
    local_report = export(load_valid([data]).tables, tmp_path / "again" / "hf")
    assert report.account.equals(local_report.account)  # the same account, printed the same way
    if corpus != "shipped":
        assert sorted(counts["articles"]) == ["ext", "train", "validation"]
    configs = sorted(p.name for p in local.iterdir() if p.is_dir())
    assert configs == sorted(p.name for p in remote.iterdir() if p.is_dir())
    assert len(list((remote / "annotations").glob("train-*-of-*.parquet"))) > 1  # many shards per split
    for config in configs:
        want, got = load(local, config), load(remote, config)
        assert list(want) == list(got) == list(counts[config])  # in one order: train, validation, test…
        for split in want:
            assert got[split].features == want[split].features
            assert _sorted(got[split].data.table, config).equals(_sorted(want[split].data.table, config)), (
                f"{config}/{split}"
            )
    assert (remote / "README.md").read_text(encoding="utf-8").startswith("---\n")


def test_a_bad_record_in_a_partition_names_file_and_article() -> None:
    import pandas as pd

    from train.export import ExportError
    from train.spark_export import partition_tables

    lines = pd.DataFrame(
        {
            "kind": ["articles"],
            "file": ["data/articles.jsonl"],
            "line": [0],
            "value": ['{"article_id": "a1", "colour": "red"}'],
        }
    )
    with pytest.raises(ExportError) as caught:
        partition_tables(lines)
    assert str(caught.value) == (
        "data/articles.jsonl: article a1: unknown_field colour=red "
        "(run 'stancebank validate' for every failure with its line)"
    )


@pytest.mark.parametrize("flag", [["--strict"], ["--push-to-hub", "me/corpus"]])
def test_spark_export_refuses_what_it_does_not_do(
    flag: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancebank.cli import main

    assert main(["export", str(DATA), "--out", str(tmp_path / "hf"), "--engine", "spark", *flag]) == 2
    assert f"export --engine spark does not support {flag[0]} yet" in capsys.readouterr().err
    assert not (tmp_path / "hf").exists()


def test_spark_export_validates_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Spark's validation: the local engine (which holds the articles in one process) is not run."""
    import stancebank.validate
    from stancebank.cli import main
    from tests.corpus_factory import base_records, write_records

    def local(*args: object, **kwargs: object) -> None:
        raise AssertionError("the local validation ran")

    monkeypatch.setattr(stancebank.validate, "validate_paths", local)

    records = base_records()
    records["annotations"][0]["spans"] = [dict(s) for s in records["annotations"][0]["spans"]]
    records["annotations"][0]["spans"][0]["end"] += 1
    write_records(tmp_path / "data", records)
    assert main(["export", str(tmp_path / "data"), "--out", str(tmp_path / "hf"), "--engine", "spark"]) == 1
    assert "run 'stancebank validate' for the list" in capsys.readouterr().err
    assert not (tmp_path / "hf").exists()


def test_the_command_prints_what_the_local_engine_prints(
    spark, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows per config and split (train first), the account table, the card's missing agreement."""
    from stancebank.cli import main

    assert main(["export", str(DATA), "--out", str(tmp_path / "hf"), "--engine", "spark"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^claims: train \d+, validation \d+, test \d+$", out, re.M)
    assert "annotations (policy gold → majority → latest)" in out and "│ amira " in out
    assert "agreement: not part of an export with --engine spark" in out
    assert re.search(r"^written .*hf \(content sha256 [0-9a-f]{16}…, engine spark\)$", out, re.M)
