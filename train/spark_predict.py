"""``stancebank predict --engine spark``: a saved claim model over an unlabelled corpus, with Spark.

The JSONL lines are shuffled by ``article_id`` (an article with its targets and annotations in one
partition); the model file and its metadata are broadcast as bytes and loaded once per partition with
the trusted types (:func:`train.evaluation.load_model`, through :func:`train.predict.predict`); each
partition writes its prediction records, least confident first; the driver then merges these runs into
the shards ``studio push --predictions FOLDER`` reads, in the local engine's order across the shards
(streaming: one record per run in memory).
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from stancebank.files import dumps_jsonl, replace_dir, staging_dir, write_atomic
from stancebank.outputs import write_marker


def _predict(
    batches: Iterator[pd.DataFrame], model: Any, name: str, staging: str, include_annotated: bool
) -> Iterator[pd.DataFrame]:
    from pyspark import TaskContext

    from stancebank.corpus import Corpus
    from train.predict import predict
    from train.spark_export import partition_tables

    lines = pd.concat(list(batches), ignore_index=True)
    context = TaskContext.get()
    part = context.partitionId() if context is not None else 0
    records: list[dict[str, Any]] = []
    if len(lines):
        with tempfile.TemporaryDirectory() as folder:
            model_bytes, meta_bytes = model.value
            path = Path(folder) / name
            path.write_bytes(model_bytes)
            path.with_suffix(".json").write_bytes(meta_bytes)
            records = predict(path, Corpus(partition_tables(lines)), include_annotated=include_annotated)
    if records:
        write_atomic(Path(staging) / f"part-{part:05d}.jsonl", dumps_jsonl(records))
    yield pd.DataFrame({"part": [part], "records": [len(records)]})


def predict_spark(
    model_path: Path,
    data: list[Path],
    out: Path,
    *,
    master: str | None = None,
    include_annotated: bool = False,
    partitions: int | None = None,
) -> int:
    """Write ``out``/predictions-<i>-of-<n>.jsonl (a folder); return the number of records."""
    from pyspark.sql import functions as F

    from stancebank.spark import session
    from train.spark_export import read_lines

    spark = session(master, app="stancebank predict")
    model = spark.sparkContext.broadcast(
        (model_path.read_bytes(), model_path.with_suffix(".json").read_bytes())
    )
    lines = read_lines(spark, data)
    n = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 8)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(out)
    try:
        written = (
            lines.repartition(n, "article_id")
            .mapInPandas(
                lambda b: _predict(b, model, model_path.name, str(staging), include_annotated),
                "part int, records long",
            )
            .where(F.col("records") > 0)
            .collect()
        )
        runs = sorted(staging.glob("part-*.jsonl"))
        _merge(runs, staging, sum(int(row["records"]) for row in written))
        write_marker(staging, "predict")  # a later `predict --engine spark` may replace this folder
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sum(int(row["records"]) for row in written)


def _merge(runs: list[Path], folder: Path, total: int) -> None:
    """The partitions' runs (each least confident first) as ``len(runs)`` shards of about equal size in
    one order across the shards (:func:`train.predict.least_confident_first`); the runs are removed."""
    from train.export import shard_name
    from train.predict import least_confident_first

    if not runs:
        return
    per = math.ceil(total / len(runs))

    def lines(run: Path) -> Iterator[tuple[tuple[float, str], bytes]]:
        with run.open("rb") as handle:
            for line in handle:
                if line.strip():
                    yield least_confident_first(json.loads(line)), line

    merged = heapq.merge(*(lines(run) for run in runs), key=lambda item: item[0])
    count = math.ceil(total / per)
    for i in range(count):
        path = folder / shard_name("predictions", i, count, "jsonl")
        with path.open("wb") as out:
            for _, line in itertools.islice(merged, per):
                out.write(line if line.endswith(b"\n") else line + b"\n")
    for run in runs:
        run.unlink()
