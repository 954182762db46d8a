"""``stancebank export --engine spark``: the same rows as :mod:`train.export`, built by Spark.

Spark reads the JSONL lines and shuffles them by ``article_id`` (an article, its targets and its
annotations land in one partition); each partition runs the local engine's own code on its articles
(:func:`train.votes.select`, :func:`train.rows.build_rows`). The split map is computed on the driver by
:func:`train.export.split_rows` from the claims' keys (small) and broadcast; each partition then encodes
its rows (:func:`train.export.encode`) and writes one parquet shard per config and split with the
``datasets`` Features metadata, so ``datasets.load_dataset`` gives ClassLabels.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stancebank.project import DEFAULT_POLICY, Project, load_project

if TYPE_CHECKING:
    from train.export import ExportReport

#: Columns of the claims/pairs rows the driver needs to assign splits exactly as the local engine.
_KEYS = {
    "claims": ("article_id", "target_id", "stance", "group"),
    "pairs": ("article_id", "target_id", "doc_label", "group"),
}
#: Columns the dataset card counts (string labels, before encoding).
_CARD = {
    "claims": ("article_id", "stance", "certainty", "polarity", "factbank"),
    "sources": ("article_id", "reliability", "source_type"),
    "pairs": ("article_id", "doc_label"),
}


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _unipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(io.BytesIO(data)).read_all()


def partition_tables(lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The five tables of one partition's JSONL lines (columns kind, file, line, value), read by the
    local engine's reader."""
    from stancebank.corpus import corpus_from_records

    records: dict[str, list[tuple[dict[str, Any], tuple[str, int]]]] = {}
    for kind, file, line, value in lines[["kind", "file", "line", "value"]].itertuples(index=False):
        records.setdefault(kind, []).append((json.loads(value), (file, int(line))))
    corpus = corpus_from_records(records, sorted(set(lines["file"])))
    if corpus.failures:
        from train.export import ExportError

        first = corpus.failures[0]
        raise ExportError(
            f"{first.file}: article {first.article_id}: {first.rule} {first.column}={first.value} "
            "(run 'stancebank validate' for every failure with its line)"
        )
    return corpus.tables


def _build(batches: Iterator[pd.DataFrame], policy: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    """Stage 1, per partition: rows of every config (Arrow IPC), the split keys and the card's columns."""
    from train.card import recorded
    from train.rows import build_rows
    from train.votes import account, select

    lines = pd.concat(list(batches), ignore_index=True)
    if not len(lines):
        return
    tables = partition_tables(lines)
    if not len(tables["articles"]):
        return
    selection = select(tables, policy)
    rows = build_rows(tables, selection)
    out = [(config, _ipc(table)) for config, table in rows.items()]
    # the split keys alone go to the driver (the rows stay on the executors)
    out += [(f"_keys:{c}", _ipc(rows[c].select(list(_KEYS[c])))) for c in _KEYS if c in rows]
    metadata = tables["articles"]["metadata"]
    articles = tables["articles"][["article_id", "language", "licence", "synthetic"]].assign(
        split=pd.Series([m.get("split") if isinstance(m, dict) else None for m in metadata], dtype=object),
        corpus=pd.Series([m.get("corpus") if isinstance(m, dict) else None for m in metadata], dtype=object),
    )
    out.append(("_articles", _ipc(pa.Table.from_pandas(articles, preserve_index=False))))
    chosen = selection.chosen["chosen_by"].value_counts()
    out.append(("_chosen", json.dumps({str(k): int(v) for k, v in chosen.items()}).encode()))
    out.append(("_recorded", json.dumps(recorded(tables["annotations"])).encode()))
    out.append(("_account", _ipc(pa.Table.from_pandas(account(tables, selection), preserve_index=False))))
    yield pd.DataFrame({"config": [c for c, _ in out], "payload": [p for _, p in out]})


def _write(batches: Iterator[pd.DataFrame], staging: str, split_of: Any) -> Iterator[pd.DataFrame]:
    """Stage 2, per partition: split, encode and write each config's rows as parquet shards."""
    from train.export import encode

    mapping = split_of.value
    written = []
    for batch in batches:
        for config, payload, part in batch[["config", "payload", "part"]].itertuples(index=False):
            table = _unipc(payload)
            of_row = pd.Series(table.column("article_id").to_pylist()).map(mapping).fillna("train")
            for split in sorted(set(of_row)):
                rows = table.filter(pa.array((of_row == split).to_numpy()))
                path = Path(staging) / config / "_parts" / f"{split}-{int(part):05d}.parquet"
                _write_shard(encode(rows, config), config, path)
                card = rows.select([c for c in _CARD.get(config, ("article_id",))])
                written.append((config, split, str(path), rows.num_rows, _ipc(card)))
    yield pd.DataFrame(written, columns=["config", "split", "path", "rows", "card"])


def _write_shard(encoded: pa.Table, config: str, path: Path) -> None:
    """One shard with the schema and ``huggingface`` metadata that ``Dataset.to_parquet`` writes."""
    from datasets.features.features import Features

    from train.features import FEATURES

    features: Features = FEATURES[config]()
    metadata = {b"huggingface": json.dumps({"info": {"features": features.to_dict()}}).encode()}
    schema = features.arrow_schema.with_metadata(metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(encoded.cast(schema), path)


def read_lines(spark: Any, data: list[Path]) -> Any:
    """Every non-blank JSONL line of the data files with its table (kind), file and ``article_id``."""
    from pyspark.sql import functions as F

    from stancebank.corpus import classify, data_files

    files = data_files(data)
    frames = [
        spark.read.text(str(f))
        .withColumn("kind", F.lit(classify(f)))
        .withColumn("file", F.lit(str(f)))
        .withColumn("line", F.lit(0))  # Spark's text reader keeps no line numbers
        for f in files
    ]
    lines = frames[0]
    for frame in frames[1:]:
        lines = lines.unionByName(frame)
    return lines.where(F.trim("value") != "").withColumn(
        "article_id", F.get_json_object("value", "$.article_id")
    )


def export_spark(
    data: list[Path],
    out: Path,
    *,
    master: str | None = None,
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
    policy: tuple[str, ...] = DEFAULT_POLICY,
    project: Project | None = None,
    card_path: str = "data/hf",
    partitions: int | None = None,
) -> ExportReport:
    """Write ``out`` as :func:`train.export.export` does, with Spark; the same report (without the
    fingerprints and the agreement section, which the Spark engine does not compute)."""
    from pyspark.sql import functions as F

    from stancebank.files import replace_dir, staging_dir
    from stancebank.outputs import check_output_dir, write_marker
    from stancebank.spark import session
    from train.card import add_counts, add_recorded, dataset_card
    from train.export import ExportReport, _digest, _empty_splits, card_context, copy_guideline

    project = project or load_project(out.parent, found=False)
    spark = session(master, app="stancebank export")
    lines = read_lines(spark, data)
    n = partitions or _partitions(data, int(spark.conf.get("spark.sql.shuffle.partitions") or 8))
    built = (
        lines.repartition(n, "article_id")
        .mapInPandas(lambda b: _build(b, tuple(policy)), "config string, payload binary")
        .withColumn("part", F.spark_partition_id())
        .persist()
    )
    try:
        small = built.where(F.col("config").startswith("_")).collect()
        articles, split_of, predefined = _split_map(small, proportions=proportions, seed=seed)
        out = check_output_dir(out, "export")
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(out)
        try:
            mapping = spark.sparkContext.broadcast(split_of)
            shards = (
                built.where(~F.col("config").startswith("_"))
                .mapInPandas(
                    lambda b: _write(b, str(staging), mapping),
                    "config string, split string, path string, rows long, card binary",
                )
                .collect()
            )
            by_split = _rename(staging, shards)
            digest = _digest(staging)
            copy_guideline(project, staging)
            accounted = pd.concat(
                [_unipc(r["payload"]).to_pandas() for r in small if r["config"] == "_account"]
            )
            chosen: dict[str, int] = {}
            made: dict[str, dict[str, int]] = {}
            for r in small:
                if r["config"] == "_chosen":
                    add_counts(chosen, json.loads(r["payload"]))
                elif r["config"] == "_recorded":
                    add_recorded(made, json.loads(r["payload"]))
            warnings = _empty_splits(by_split, predefined is None)
            context = card_context(project, tuple(policy), chosen, accounted, None, warnings, made)
            meta = articles.assign(
                metadata=pd.Series(
                    [{"corpus": c} if isinstance(c, str) else None for c in articles["corpus"]], dtype=object
                )
            )
            card = dataset_card(
                by_split,
                {"articles": meta},
                sha256=digest,
                proportions=None if predefined else proportions,
                seed=seed,
                context=context,
                path=card_path,
            )
            (staging / "README.md").write_text(card, encoding="utf-8")
            write_marker(staging, "export")
            replace_dir(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        built.unpersist()
    counts = {c: {s: t.num_rows for s, t in splits.items()} for c, splits in by_split.items()}
    account = accounted.sort_values(["annotator", "annotation_id"]).reset_index(drop=True)
    return ExportReport(out, counts, digest, {}, account, tuple(policy), tuple(warnings))


#: Input bytes per partition: each partition's tables are built in one Python worker's memory.
PARTITION_BYTES = 64 * 2**20


def _partitions(data: list[Path], configured: int) -> int:
    """Enough partitions that each holds about :data:`PARTITION_BYTES` of JSONL, at least ``configured``."""
    from stancebank.corpus import data_files

    size = sum(f.stat().st_size for f in data_files(data))
    return max(configured, -(-size // PARTITION_BYTES))


def _split_map(
    small: list[Any], *, proportions: tuple[float, float, float], seed: int
) -> tuple[pd.DataFrame, dict[str, str], dict[str, str] | None]:
    """The articles (without texts), article -> split computed by :func:`train.export.split_rows` from
    the claims' keys in the local engine's row order, and the corpus's own splits if it has them."""

    from train.export import split_rows
    from train.splits import predefined_splits

    keys: dict[str, list[pa.Table]] = {c: [] for c in _KEYS}
    for row in small:
        if row["config"].startswith("_keys:"):
            keys[row["config"].removeprefix("_keys:")].append(_unipc(row["payload"]))
    articles = pd.concat([_unipc(r["payload"]).to_pandas() for r in small if r["config"] == "_articles"])
    articles = articles.sort_values("article_id", kind="stable").reset_index(drop=True)
    # the local engine's order: (article_id, target_id), then each task's own rows (a stable sort)
    claims = pa.concat_tables(keys["claims"]).sort_by(
        [("article_id", "ascending"), ("target_id", "ascending")]
    )
    pairs = (
        pa.concat_tables(keys["pairs"]).sort_by([("article_id", "ascending"), ("target_id", "ascending")])
        if keys["pairs"]
        else pa.table({"article_id": pa.array([], pa.string())})
    )
    predefined = predefined_splits(
        articles["article_id"].tolist(),
        [{"split": s} if isinstance(s, str) else None for s in articles["split"]],
    )
    minimal = {"claims": claims, "pairs": pairs, "articles": pa.table({"article_id": articles["article_id"]})}
    _, split_of = split_rows(minimal, proportions=proportions, seed=seed, predefined=predefined)
    return articles, split_of, predefined


def _rename(staging: Path, shards: list[Any]) -> dict[str, dict[str, pa.Table]]:
    """Number each config's and split's shards 0..n-1 (``<split>-<i>-of-<n>.parquet``); the card's
    columns of each config and split."""
    from train.export import CONFIGS, shard_name
    from train.splits import SPLITS

    groups: dict[tuple[str, str], list[Any]] = {}
    for shard in shards:
        if shard["rows"]:
            groups.setdefault((shard["config"], shard["split"]), []).append(shard)

    def order(unit: tuple[str, str]) -> tuple[int, str, int, str]:
        """The local engine's order: configs as declared, our splits first (train, validation, test)."""
        config, split = unit
        rank = SPLITS.index(split) if split in SPLITS else len(SPLITS)
        return (CONFIGS.index(config) if config in CONFIGS else len(CONFIGS), config, rank, split)

    by_split: dict[str, dict[str, pa.Table]] = {}
    for (config, split), items in sorted(groups.items(), key=lambda item: order(item[0])):
        items.sort(key=lambda s: s["path"])
        for i, item in enumerate(items):
            Path(item["path"]).rename(staging / config / shard_name(split, i, len(items)))
        by_split.setdefault(config, {})[split] = pa.concat_tables(_unipc(s["card"]) for s in items)
    for config in list(by_split):
        shutil.rmtree(staging / config / "_parts", ignore_errors=True)
    for folder in staging.iterdir():
        shutil.rmtree(folder / "_parts", ignore_errors=True) if folder.is_dir() else None
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return by_split
