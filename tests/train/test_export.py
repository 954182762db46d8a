"""The Hugging Face export: typed features, leak-free splits, determinism, the card, verification."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from schemas import vocabulary as V
from stancebank.cli import main
from stancebank.corpus import read_corpus
from stancebank.project import POLICIES, load_project
from tests.shipped import DATA, shipped_files
from train import card as card_module
from train import export as export_module
from train import splits as splits_module
from train.export import ExportError, export, export_files, load, push_to_hub
from train.features import FEATURES, OPTIONAL_CONFIGS
from train.splits import assign_splits, parse_proportions

#: Configs of an export of our own corpus (it has no document-level labels, so no ``pairs``).
OWN_CONFIGS = [c for c in FEATURES if c not in OPTIONAL_CONFIGS]

ENUM_OF_COLUMN = {
    "label": V.SpanLabel,
    "type": V.RelationType,
    "factbank": V.FactBank,
    "outlet_reliability": V.Reliability,
    "source_identified": V.Identified,
    "source_type": V.SourceType,
    "source_reliability": V.Reliability,
    "cue_types": V.CueType,
    "claim_stances": V.Stance,
    "claim_certainties": V.Certainty,
    "doc_stance": V.Stance,
    "doc_label": V.DocumentStance,
    **{name: values for name, values in V.ATTRIBUTE_VALUES.items()},
    **{f"{name}_votes.value": values for name, values in V.ATTRIBUTE_VALUES.items()},
}


#: The shipped corpus's project and its agreement report (what `stancebank export` in the checkout uses).
SHIPPED = load_project(DATA.parent)
AGREEMENT = SHIPPED.reports_dir / "agreement" / "agreement.json"


def shipped_export(tables: dict[str, Any], out: Path) -> export_module.ExportReport:
    return export(tables, out, project=SHIPPED, agreement_path=AGREEMENT)


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    return read_corpus(shipped_files()).tables


@pytest.fixture(scope="module")
def exported(tables: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hf") / "hf"
    shipped_export(tables, out)
    return out


def _class_labels(feature: Any, name: str = "") -> list[tuple[str, datasets.ClassLabel]]:
    if isinstance(feature, datasets.ClassLabel):
        return [(name, feature)]
    if isinstance(feature, datasets.List):
        return _class_labels(feature.feature, name)
    if isinstance(feature, dict):
        return [
            found
            for key, sub in feature.items()
            for found in _class_labels(sub, f"{name}.{key}" if key == "value" else key)
        ]
    return []


@pytest.mark.parametrize("config", list(FEATURES))
def test_class_labels_are_the_vocabulary_in_order(config: str) -> None:
    labels = _class_labels(dict(FEATURES[config]()))
    assert labels
    for column, feature in labels:
        if column == "chosen_by":
            assert feature.names == list(POLICIES)
            continue
        assert feature.names == V.values(ENUM_OF_COLUMN[column]), column


def test_offsets_are_int32_and_optional_values_nullable(exported: Path) -> None:
    claims = load(exported, "claims")
    assert claims["train"].features["start"].dtype == "int32"
    outlet_claims = [row for row in claims["train"] if row["source_text"] is None]
    assert outlet_claims and all(row["source_reliability"] is None for row in outlet_claims)


def test_no_article_in_two_splits(exported: Path) -> None:
    for config in OWN_CONFIGS:
        loaded = load(exported, config)
        seen: dict[str, str] = {}
        for split, rows in loaded.items():
            for article_id in rows["article_id"]:
                assert seen.setdefault(article_id, split) == split, (config, article_id)


def test_splits_are_deterministic_and_take_proportions() -> None:
    labels = ["a", "b", "c"] * 40
    groups = [f"g{i // 3}" for i in range(120)]
    first = assign_splits(labels, groups, proportions=(0.5, 0.25, 0.25), seed=1)
    assert first == assign_splits(labels, groups, proportions=(0.5, 0.25, 0.25), seed=1)
    sizes = {s: sum(1 for v in first.values() if v == s) for s in ("train", "validation", "test")}
    assert sizes == {"train": 20, "validation": 10, "test": 10}


@pytest.mark.parametrize("text", ["0.7,0.3", "0.7,0.2,0.2", "a,b,c", "1,0,0"])
def test_bad_proportions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="proportions must be"):
        parse_proportions(text)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_export_is_byte_identical(tables: dict[str, Any], exported: Path, tmp_path: Path) -> None:
    first = shipped_export(tables, tmp_path / "one")
    second = shipped_export(tables, tmp_path / "two")
    assert _hashes(tmp_path / "one") == _hashes(tmp_path / "two") == _hashes(exported)
    assert first.fingerprints == second.fingerprints
    assert first.sha256 == second.sha256


def test_committed_export_is_up_to_date(exported: Path) -> None:
    """CI check: data/hf is exactly what `stancebank export` makes from data/ (run it and commit)."""
    assert _hashes(DATA / "hf") == _hashes(exported)


def test_card_metadata_and_counts(exported: Path, tables: dict[str, Any]) -> None:
    card = (exported / "README.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert {c["config_name"] for c in meta["configs"]} == set(OWN_CONFIGS)
    assert {c["config_name"] for c in meta["dataset_info"]} == set(OWN_CONFIGS)
    assert not (exported / "pairs").exists()
    assert meta["license"] == "other" and set(meta["language"]) == {"en", "pt"}
    assert "text-classification" in meta["task_categories"]
    n_claims = sum(load(exported, "claims").num_rows.values())
    assert "claims.stance | support |" in card
    assert "synthetic" in card and "seed-001" in card and n_claims > 250
    assert "guideline version 1.0 (every annotation records it);" in card


def test_card_snippet_runs(exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = (exported / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", card, re.S)
    assert snippet
    code = snippet.group(1).replace('"data/hf"', repr(str(exported)))
    exec(compile(code, "card-snippet", "exec"), {})
    assert "DatasetDict" in capsys.readouterr().out


def test_two_exports_in_folders_of_one_name_load_as_their_own_rows(
    tables: dict[str, Any], exported: Path, tmp_path: Path
) -> None:
    """``datasets`` (5.2) keys its cache of a local folder by the folder's name and the card's YAML, not
    by the files: without the content hash in the card, a second folder called ``hf`` (or the same folder
    exported again) loaded the first one's rows from the cache."""
    other = tmp_path / "elsewhere" / "hf"
    export(tables, other, project=SHIPPED, seed=99)
    cache = str(tmp_path / "cache")
    for folder in (exported, other):
        loaded = datasets.load_dataset(str(folder), "claims", cache_dir=cache)
        for split, rows in loaded.items():
            written = pq.read_table(sorted((folder / "claims").glob(f"{split}-*.parquet")))
            assert rows["article_id"] == written.column("article_id").to_pylist(), (folder, split)
    assert load(exported, "claims")["train"]["article_id"] != load(other, "claims")["train"]["article_id"]


@pytest.mark.parametrize(
    ("rows", "category"),
    [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (2_102_238, "1M<n<10M"), (10**10, "1B<n<10B")],
)
def test_size_category_counts_the_largest_config(rows: int, category: str) -> None:
    assert card_module.size_category(rows) == category


def test_verify_catches_a_changed_file(
    tables: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "hf"
    export(tables, out)
    before = _hashes(out)
    real = export_module._write_shard

    def drop_a_row(pieces: Any, config: str, path: Path, batch: int) -> str:
        rows = pa.concat_tables(list(pieces))
        return real(
            [rows[:-1] if config == "claims" and path.name.startswith("train") else rows], config, path, batch
        )

    monkeypatch.setattr(export_module, "_write_shard", drop_a_row)
    with pytest.raises(ExportError, match=r"claims/train: wrote (\d+) rows, re-loaded (\d+)") as caught:
        export(tables, out)
    wrote, reloaded = map(int, re.findall(r"\d+", str(caught.value))[-2:])
    assert wrote - reloaded == 1
    assert _hashes(out) == before, "a failed export must leave the previous one untouched"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hf")]


def test_push_to_hub_needs_a_token(exported: Path) -> None:
    with pytest.raises(ExportError, match="HF_TOKEN"):
        push_to_hub(exported, "someone/stancebank", token=None)


def test_push_to_hub_calls_datasets(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(
        datasets.DatasetDict, "push_to_hub", lambda self, repo, **kw: calls.append((repo, kw["config_name"]))
    )
    push_to_hub(exported, "someone/stancebank", token="hf_x")
    assert calls == [("someone/stancebank", c) for c in OWN_CONFIGS]


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(DATA), "--out", str(tmp_path / "hf")]) == 0
    assert re.search(r"claims: train \d+, validation \d+, test \d+", capsys.readouterr().out)
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("hf", "raw"))
    (data / "targets.jsonl").write_text('{"target_id": "x", "article_id": "nope", "text": "t"}\n')
    assert main(["export", str(data), "--out", str(tmp_path / "hf2")]) == 1
    assert not (tmp_path / "hf2").exists()


def test_large_corpora_split_articles_by_majority_stance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above GROUPED_LIMIT articles the split is StratifiedShuffleSplit over articles (linear time)."""
    monkeypatch.setattr(splits_module, "GROUPED_LIMIT", 10)
    labels = [("a" if g % 3 else "b") for g in range(400) for _ in range(2)] + ["c", "d", "d"]
    groups = [f"g{g}" for g in range(400) for _ in range(2)] + ["g0", "h1", "h1"]  # h1: a stratum of one
    first = assign_splits(labels, groups, proportions=(0.7, 0.15, 0.15), seed=3)
    assert first == assign_splits(labels, groups, proportions=(0.7, 0.15, 0.15), seed=3)
    assert first != assign_splits(labels, groups, proportions=(0.7, 0.15, 0.15), seed=4)
    first.pop("h1")
    sizes = {s: sum(1 for v in first.values() if v == s) for s in ("train", "validation", "test")}
    assert sizes["test"] == 60 and abs(sizes["validation"] - 60) <= 1  # sklearn rounds the test part up
    # stratified: the 1-in-3 "b" articles are a third of every split, give or take one
    for split, size in sizes.items():
        b = sum(1 for g, s in first.items() if s == split and int(g[1:]) % 3 == 0)
        assert abs(b - size / 3) <= 1, split


def test_large_corpus_export_names_its_split_method(
    tables: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(splits_module, "GROUPED_LIMIT", 5)
    monkeypatch.setattr(card_module, "GROUPED_LIMIT", 5)
    export(tables, tmp_path / "hf")
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "StratifiedShuffleSplit" in card and "StratifiedGroupKFold` is too slow" in card
    seen: dict[str, str] = {}
    for split, rows in load(tmp_path / "hf", "claims").items():
        for article_id in rows["article_id"]:
            assert seen.setdefault(article_id, split) == split
    assert len(set(seen.values())) == 3


def _change_rows(monkeypatch: pytest.MonkeyPatch, change: Any, *, target: str = "build_rows") -> None:
    real = getattr(export_module, target)
    monkeypatch.setattr(export_module, target, lambda *a, **k: change(real(*a, **k), *a))


def test_verify_catches_a_changed_cell(
    tables: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same row count, one cell different on disk: the cell-for-cell comparison refuses it."""
    real = export_module._write_shard

    def change_a_cell(pieces: Any, config: str, path: Path, batch: int) -> str:
        encoded = pa.concat_tables(list(pieces))
        if config == "claims" and path.name.startswith("train"):
            texts = encoded.column("text").to_pylist()
            texts[0] = texts[0] + " (changed)"
            encoded = encoded.set_column(encoded.schema.get_field_index("text"), "text", pa.array(texts))
        return real([encoded], config, path, batch)

    monkeypatch.setattr(export_module, "_write_shard", change_a_cell)
    with pytest.raises(ExportError, match=r"claims/train: the re-loaded rows differ"):
        export(tables, tmp_path / "hf")
    assert not (tmp_path / "hf").exists()


def test_verify_catches_a_span_that_does_not_match_its_article(
    tables: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows built wrong (written and re-loaded faithfully): the span-text check still refuses them."""

    def shift_a_span(rows: dict[str, pa.Table], *_: Any) -> dict[str, pa.Table]:
        articles = rows["articles"].to_pylist()
        articles[0]["spans"][0]["start"] += 1
        rows["articles"] = pa.Table.from_pylist(articles, schema=rows["articles"].schema)
        return rows

    _change_rows(monkeypatch, shift_a_span)
    with pytest.raises(ExportError, match=r"span text changed"):
        export(tables, tmp_path / "hf")


def test_a_label_outside_the_vocabulary_is_refused(
    tables: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unknown_stance(rows: dict[str, pa.Table], *_: Any) -> dict[str, pa.Table]:
        claims = rows["claims"]
        stances = claims.column("stance").to_pylist()
        stances[0] = "furious"
        rows["claims"] = claims.set_column(
            claims.schema.get_field_index("stance"), "stance", pa.array(stances)
        )
        return rows

    _change_rows(monkeypatch, unknown_stance)
    with pytest.raises(ExportError, match=r"stance: 'furious' is not one of"):
        export(tables, tmp_path / "hf")


def _all_rows(out: Path, config: str) -> dict[str, pa.Table]:
    return {split: rows.data.table for split, rows in load(out, config).items()}


def test_small_shards_load_as_the_same_rows(
    tables: dict[str, Any], exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--shard-size 40: many <split>-<i>-of-<n> files per split; datasets reads them as one split with the
    rows of the one-file export, in the same order."""
    out = tmp_path / "sharded"
    assert main(["export", str(DATA), "--out", str(out), "--shard-size", "40"]) == 0
    capsys.readouterr()
    claims = sorted(p.name for p in (out / "claims").glob("train-*.parquet"))
    assert len(claims) > 2
    assert claims == [export_module.shard_name("train", i, len(claims)) for i in range(len(claims))]
    for config in OWN_CONFIGS:
        sharded, single = _all_rows(out, config), _all_rows(exported, config)
        assert sharded.keys() == single.keys()
        for split, rows in single.items():
            assert sharded[split].equals(rows), (config, split)
        for path in (out / config).glob("*.parquet"):
            assert pq.ParquetFile(path).metadata.num_rows <= 40


def test_partitions_do_not_change_the_export(
    tables: dict[str, Any], exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built in 1, 3 or 7 ranges of articles, by 1 or 2 worker processes (which also write the splits,
    however small): the same bytes (the policy and votes see whole tasks, the splits are drawn over the
    claims in one order)."""
    import train.export

    monkeypatch.setattr(train.export, "PARALLEL_WRITE_BYTES", 0)
    for parts, jobs in ((1, 1), (3, 1), (3, 2), (7, 2)):
        out = tmp_path / f"parts-{parts}-jobs-{jobs}"
        export(tables, out, project=SHIPPED, agreement_path=AGREEMENT, partitions=parts, jobs=jobs)
        assert _hashes(out) == _hashes(exported), (parts, jobs)


@pytest.mark.parametrize(
    ("workers", "regroup"),
    [(1, False), (2, False), (2, True)],
    ids=["read here", "checked and spilled by workers", "workers, then read whole"],
)
def test_the_export_of_files_reads_what_validation_read(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, regroup: bool
) -> None:
    """The command's path: the validation's chunks (here of 7 lines) spilled by range and built by two
    workers give the parquet bytes of the export of the whole tables: spilled here, or by the
    validation's worker processes (as for large files), or read whole after the workers found an id
    the scan read differently (a key given twice: the chunks they spilled are dropped)."""
    import stancebank.scan
    import stancebank.validate
    from stancebank.corpus import read_chunked

    monkeypatch.setattr(
        stancebank.validate, "read_chunked", lambda paths, _, **given: read_chunked(paths, 7, **given)
    )
    if workers > 1:
        monkeypatch.setattr(stancebank.validate, "PARALLEL_BYTES", 0)
        monkeypatch.setattr(stancebank.scan, "SCAN_APART_BYTES", 0)
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("hf"))
    if regroup:
        path = sorted((data / "annotations").glob("*.jsonl"))[0]
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[-1] = lines[-1].replace("{", '{"annotation_id": "read-by-the-scan", ', 1)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "hf"
    export_files([data], out, validate=True, project=SHIPPED, partitions=3, jobs=workers)
    parquet = {k: v for k, v in _hashes(exported).items() if k.endswith(".parquet")}
    assert {k: v for k, v in _hashes(out).items() if k.endswith(".parquet")} == parquet


def test_an_agreement_report_of_the_same_data_reaches_the_card(exported: Path, tmp_path: Path) -> None:
    """The command's path with the project's agreement report: matched (task count from the validation's
    annotation ids, then the data hash over the spilled ranges), the same bytes as the whole-table export,
    card included."""
    if not AGREEMENT.is_file():
        pytest.skip("no agreement report beside the checkout (make demo writes it)")
    out = tmp_path / "hf"
    report = export_files([DATA], out, validate=True, project=SHIPPED, agreement_path=AGREEMENT, partitions=3)
    assert report.agreement
    assert _hashes(out) == _hashes(exported)


def test_a_report_about_other_data_is_not_matched_by_reading_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report whose task count differs is set aside from the annotations' ids alone: the spilled spans
    are never read back whole for a data hash."""
    import json

    report = {"scopes": {"overall": {"tasks": 123456}}, "data_sha256": "0" * 64}
    other = tmp_path / "agreement.json"
    other.write_text(json.dumps(report), encoding="utf-8")

    original = export_module.FilePartitions.load

    def load(self: Any, part: int, *, keep: bool = False) -> dict[str, Any]:
        assert not keep, "the whole corpus was read for the data hash"
        return original(self, part)

    monkeypatch.setattr(export_module.FilePartitions, "load", load)
    result = export_files([DATA], tmp_path / "hf", validate=True, project=SHIPPED, agreement_path=other)
    assert not result.agreement


def test_a_shard_size_below_one_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["export", str(DATA), "--out", str(tmp_path / "hf"), "--shard-size", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_the_command_reads_the_files_range_by_range_into_the_same_files(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stancebank export` re-reads the validated files in chunks (export_files): the parquet files are
    byte for byte those of the in-memory export."""
    out = tmp_path / "cli"
    assert main(["export", str(DATA), "--out", str(out)]) == 0
    capsys.readouterr()
    parquet = {k: v for k, v in _hashes(out).items() if k.endswith(".parquet")}
    assert parquet and parquet == {k: v for k, v in _hashes(exported).items() if k.endswith(".parquet")}


def test_the_splitter_and_datasets_load_between_the_validation_pool_and_the_build_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's path with workers: scikit-learn's splitters (train.splits.SPLITTER_MODULES) and
    ``datasets`` (train.features.DATASETS_MODULES) are imported in a thread once the validation's
    workers are forked, and that thread has ended before the build's workers fork (a fork during an
    import would leave its lock held in the child)."""
    import multiprocessing

    import stancebank.scan
    import stancebank.validate
    from stancebank import parallel
    from train.features import DATASETS_MODULES

    monkeypatch.setattr(stancebank.validate, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(stancebank.scan, "SCAN_APART_BYTES", 0)
    events: list[tuple[Any, ...]] = []
    start, join, pool = parallel.Preload.start, parallel.Preload.join, parallel.OrderedPool.__init__

    def recorded_start(self: parallel.Preload) -> None:
        events.append(("preload", self.modules, len(multiprocessing.active_children())))
        start(self)

    def recorded_join(self: parallel.Preload) -> None:
        join(self)
        events.append(("joined", self.thread is not None and not self.thread.is_alive()))

    def recorded_pool(self: parallel.OrderedPool, jobs: int, shared: dict[str, Any]) -> None:
        threads = [t.name for t in __import__("threading").enumerate()]
        events.append(("pool", tuple(sorted(shared)), "stancebank-preload" in threads))
        pool(self, jobs, shared)

    monkeypatch.setattr(parallel.Preload, "start", recorded_start)
    monkeypatch.setattr(parallel.Preload, "join", recorded_join)
    monkeypatch.setattr(parallel.OrderedPool, "__init__", recorded_pool)
    export_files([DATA], tmp_path / "hf", validate=True, project=SHIPPED, partitions=3, jobs=2)
    distinct = [event for i, event in enumerate(events) if event not in events[:i]]
    assert distinct == [
        ("pool", ("sink", "validation"), False),
        ("preload", (*splits_module.SPLITTER_MODULES, *DATASETS_MODULES), 2),  # the validation's workers run
        ("joined", True),
        ("pool", ("folder", "partitions", "policy"), False),  # the build
        ("pool", ("built", "counts", "size", "splits", "staging"), False),  # the write
    ]


@pytest.mark.parametrize("package", ["sklearn", "datasets", "huggingface_hub"])
def test_importing_the_export_leaves_the_preloaded_packages_for_later(package: str) -> None:
    """The export's modules load without scikit-learn (≈ 0.8 s on one core before any work starts) and
    without ``datasets`` and its Hub client (≈ 0.4 s): the export loads them while it validates."""
    import subprocess
    import sys

    code = (
        "import sys, train.export, train.cli, train.card, train.features, stancebank.cli; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] == {package!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_preload_imports_its_modules_and_leaves_a_failing_one_to_its_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from stancebank import parallel

    names = ("stancebank_probe_loaded", "stancebank_probe_broken", "stancebank_probe_after")
    sources = ("VALUE = 1\n", "raise ImportError('broken here')\n", "VALUE = 2\n")
    for name, source in zip(names, sources, strict=True):
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    preload = parallel.Preload(names)
    preload.join()  # not started: nothing to wait for
    preload.start()
    preload.start()  # once only
    preload.join()
    assert "stancebank_probe_loaded" in sys.modules
    assert "stancebank_probe_broken" not in sys.modules and "stancebank_probe_after" not in sys.modules
    with pytest.raises(ImportError, match="broken here"):
        __import__("stancebank_probe_broken")


def test_each_range_gets_its_rows_of_a_chunk_in_the_chunk_order(tmp_path: Path) -> None:
    """A chunk whose rows interleave the ranges (the annotation lines in reverse): each range's file
    holds exactly its rows, in the order they were read."""
    import numpy as np

    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("hf"))
    for path in (data / "annotations").glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    whole = read_corpus([data]).tables
    parts = export_module.FilePartitions([data], tmp_path / "spill", 3)
    assert parts.count == 3
    for name in ("annotations", "spans", "relations"):
        of = export_module._part_of(whole[name]["article_id"], parts.ids, parts.per)
        assert len(np.unique(of)) == 3 and (np.diff(of) != 0).sum() > 3  # interleaved
    loaded = [parts.load(part, keep=True) for part in range(3)]
    for name in ("annotations", "spans", "relations"):
        of = export_module._part_of(whole[name]["article_id"], parts.ids, parts.per)
        for part in range(3):
            expected = whole[name].loc[of == part].reset_index(drop=True)
            got = loaded[part][name].reset_index(drop=True)
            assert got["_line"].tolist() == expected["_line"].tolist()
            assert got["annotation_id"].tolist() == expected["annotation_id"].tolist()


def test_the_card_counts_the_distinct_articles_with_claims_over_every_split() -> None:
    """The number the split text names: articles with claim rows, each once, whatever the splits'
    chunking; a split without rows has a null-typed column and counts nothing."""
    by_split = {
        "claims": {
            "train": pa.Table.from_batches(
                [
                    pa.record_batch({"article_id": pa.array(["a", "b", "a"])}),
                    pa.record_batch({"article_id": pa.array(["é", "b"])}),
                ]
            ),
            "validation": pa.table({"article_id": pa.array(["c", "c"])}),
            "test": pa.table({"article_id": pa.array([], pa.null())}),
        },
        "sources": {"train": pa.table({"article_id": pa.array(["z"])})},
    }
    assert card_module.claim_articles(by_split) == 4
    assert card_module.claim_articles({"sources": by_split["sources"]}) == 0
    text = card_module._split_text((0.7, 0.15, 0.15), 1, card_module.claim_articles(by_split), ["train"])
    assert "4 article(s) with claims are too few" in text


def test_the_spilled_files_go_before_the_write_and_while_the_card_is_made(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranges' spill is removed while the splits are drawn (gone before the write's workers fork),
    the built rows' spill while the card is made; the parquet bytes are those of a plain export."""
    from stancebank.files import removing

    given: list[list[str]] = []
    seen: dict[str, bool] = {}

    def recording(paths: Any) -> Any:
        paths = list(paths)
        given.append(sorted(p.name for p in paths))
        return removing(paths)

    write_all = export_module._write_all

    def writing(staging: Path, built: Any, *args: Any) -> dict[str, str]:
        seen["ranges at the write"] = any(p.name == "input" for p in (built.folder.parent).iterdir())
        return write_all(staging, built, *args)

    monkeypatch.setattr(export_module, "removing", recording)
    monkeypatch.setattr(export_module, "_write_all", writing)
    out = tmp_path / "hf"
    export_files(shipped_files(), out, project=SHIPPED, partitions=3)
    assert given[0] == ["input"]  # FilePartitions' folder: chunks and ranges
    assert given[1] == sorted(export_module.CONFIGS)  # the built rows, config by config
    assert seen == {"ranges at the write": False}
    parquet = {k: v for k, v in _hashes(exported).items() if k.endswith(".parquet")}
    assert {k: v for k, v in _hashes(out).items() if k.endswith(".parquet")} == parquet


def test_removing_takes_the_folders_away_while_the_block_runs(tmp_path: Path) -> None:
    """Every folder given is gone when the block ends (files, subfolders); a missing one is no error."""
    from stancebank.files import removing

    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "x.arrow").write_bytes(b"x" * 4096)
        (folder / "y.pickle").write_bytes(b"y")
    (tmp_path / "kept").mkdir()
    with removing([*folders, tmp_path / "missing"]):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
