"""``validate --engine spark`` gives the local engine's failure table: on the shipped corpus, on every
bad-input case of ``tests/test_bad_input.py`` and every rule case of ``tests/schemas/test_rules.py``
(all validated in one Spark pass), and implements every rule the local engine can report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from schemas.errors import UnreadableInputError
from schemas.rules import local_rules
from stancebank.engines.spark_validate import spark_rules
from stancebank.failures import Failure
from stancebank.validate import validate_paths
from tests.corpus_factory import base_records, mutated, write_records
from tests.schemas.test_rules import CASES as RULE_CASES
from tests.test_bad_input import VALIDATE_CASES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
NAMES = (
    ["shipped corpus", "files split into many blocks"]
    + [f"bad input: {case[0]}" for case in VALIDATE_CASES]
    + [f"rule: {case[0]}" for case in RULE_CASES]
)


def test_every_rule_has_a_spark_implementation() -> None:
    """A rule added to the models (or the reader) later cannot exist in one engine only."""
    local, spark = set(local_rules()), spark_rules()
    assert local - spark == set(), "rules without a Spark implementation"
    assert spark - local == set(), "Spark rules no model declares"


def test_local_validate_never_imports_pyspark() -> None:
    code = (
        "import sys; from stancebank.cli import main; "
        f"code = main(['validate', {str(DATA)!r}]); "
        "assert 'pyspark' not in sys.modules, 'pyspark imported'; sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("valid:")


def _corpora(root: Path) -> dict[str, Path]:
    corpora = {"shipped corpus": DATA}
    for i, (name, write, _code, _message) in enumerate(VALIDATE_CASES):
        folder = root / f"bad{i:02d}"
        write_records(folder, base_records())
        write(folder)
        corpora[f"bad input: {name}"] = folder
    for i, (name, change, *_rest) in enumerate(RULE_CASES):
        folder = root / f"rule{i:02d}"
        write_records(folder, mutated(change))
        corpora[f"rule: {name}"] = folder
    return corpora


def _big(folder: Path) -> Path:
    """Files of a few hundred kB (read as many blocks, see ``maxPartitionBytes`` below), with failures
    and blank lines far into them: line numbers count across blocks."""
    records = base_records()
    article, target = records["articles"][1], records["targets"][1]
    articles = [article] + [{**article, "article_id": f"b{i}", "title": f"T {i}"} for i in range(3000)]
    articles[1500] = {**articles[1500], "language": "xx"}
    articles[2999] = {**articles[2999], "url": "ftp:/nowhere"}
    targets = [{**target, "target_id": f"b{i}:t1", "article_id": f"b{i}"} for i in range(3000)]
    targets[2500] = {**targets[2500], "article_id": "gone"}
    records = {
        "articles": records["articles"][:1] + articles,
        "targets": records["targets"] + targets,
        "annotations": records["annotations"],
    }
    write_records(folder, records)
    path = folder / "articles.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\n", 700), encoding="utf-8")
    return folder


def _local(folder: Path) -> list[Failure] | str:
    try:
        return validate_paths([folder])[0]  # what the local `validate` prints
    except UnreadableInputError as exc:
        return f"UnreadableInputError: {exc}"


@pytest.fixture(scope="module")
def both_engines(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    """name -> (local result, Spark result): every corpus validated by Spark in one pass."""
    from stancebank.engines.spark_validate import validate_many

    corpora = _corpora(tmp_path_factory.mktemp("parity"))
    local = {name: _local(folder) for name, folder in corpora.items()}
    results = validate_many([[folder] for folder in corpora.values()], spark=spark)
    # a second pass, its files read in blocks of 64 kB (the 50 MB line above would be scanned by each)
    corpora["files split into many blocks"] = big = _big(tmp_path_factory.mktemp("big"))
    local["files split into many blocks"] = _local(big)
    spark.conf.set("spark.sql.files.maxPartitionBytes", "64k")
    try:
        results += validate_many([[big]], spark=spark)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    remote = {
        name: f"UnreadableInputError: {result}"
        if isinstance(result, UnreadableInputError)
        else result.failures
        for name, result in zip(corpora, results, strict=True)
    }
    return {name: (local[name], remote[name]) for name in corpora}


@pytest.mark.spark
@pytest.mark.parametrize("name", NAMES)
def test_spark_failure_table_equals_local(both_engines: dict[str, tuple[Any, Any]], name: str) -> None:
    local, remote = both_engines[name]
    assert _table(remote) == _table(local)


def _table(result: list[Failure] | str) -> list[tuple[str, ...]] | str:
    """The failure table in one canonical order: the local engine's order within a model is pandera's
    (an unstable sort of its failure cases), so both tables are compared sorted."""
    if isinstance(result, str):
        return result
    return sorted(tuple("" if value is None else str(value) for value in failure) for failure in result)
