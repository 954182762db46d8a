"""``stancebank validate --engine spark``: the rules of :mod:`schemas` executed by Apache Spark.

The same failure table as :func:`stancebank.validate.validate_corpus`, computed where the data is:

1. **Lines** (executors): Spark reads every JSONL line with its file and line number (the line numbers
   come from each file block's first row id, counted on the driver from a small aggregate). A pandas UDF
   sorts each line: blank, *regular* (a JSON object whose keys and JSON types are exactly what the tables
   hold), *irregular* (the reader would report ``unknown_field``/``wrong_type``, or the record is no
   object) or *unreadable* (bad JSON, too deep, an integer past 64 bits, bad UTF-8 …).
2. Regular lines become the five tables with ``from_json`` (spans and relations by ``posexplode``).
   Irregular lines — rare — are collected and read on the driver by the local reader
   (:func:`stancebank.corpus.corpus_from_records`), which reports them exactly as ``validate`` does;
   their rows join the tables. A file with an unreadable line is read on the driver by
   :func:`stancebank.corpus.read_jsonl`, which raises the local engine's error.
3. **Rules** (executors), one implementation per kind of declaration in :func:`schemas.rules.local_rules`:
   pandera built-in checks (``isin``, ``str_matches``, ``ge``, ``not_nullable``) compiled from the
   models' check statistics into Spark SQL predicates; custom row checks run as declared (the models'
   own check functions, through pandera's check backend) in ``mapInPandas`` over Arrow batches;
   uniqueness (keep the first row) as a window over the keys ordered by (file, line); cross-table rules
   as joins (foreign keys, span text against the article text with code-point ``substring``).
4. The failing rows (few) are collected and formatted on the driver by the local engine's own
   formatting (:mod:`stancebank.validate`), so values print identically.

Several corpora can be validated in one Spark pass (:func:`validate_many`; every key carries a corpus
number), which is how the parity tests run all their cases in a few Spark jobs.

pandera's own pyspark backend is not used: its checks return one boolean per check and table
(``failure_cases=None``), with no rows to report — the failure table needs file and line — and
``import pandera.pyspark`` fails under pandas 3 (it imports ``pyspark.pandas``: ``ImportError: DateOffset``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlparse

import pandas as pd

from schemas import vocabulary as V
from schemas.errors import UnreadableInputError
from schemas.rules import FIRST_NAMED, ROW_RULE_FIELDS, UNIQUE_KEYS, is_builtin, local_rules
from stancebank.failures import Failure

#: Table order of the local engine (TABLE_MODELS) and the nested tables of an annotation line.
TABLES = ("articles", "targets", "annotations", "spans", "relations")
_NESTED = ("spans", "relations")
#: Columns that place a row: corpus number, file number in the corpus, line, position within the line.
_KEY = ("_corpus", "_fidx", "_line", "_pos")
#: Cross-table families in the local engine's order (CROSS_TABLE_MODELS) and their base tables.
_FAMILIES = {
    "TargetLinks": "targets",
    "AnnotationLinks": "annotations",
    "SpanInArticle": "spans",
    "SpanAttributes": "spans",
    "RelationEnds": "relations",
}
#: Line status computed on the executors.
_REGULAR, _IRREGULAR, _UNREADABLE, _BLANK = 0, 1, 2, 3


@dataclass
class Result:
    """One corpus validated: its failures (the local engine's order), files and table sizes."""

    failures: list[Failure]
    files: list[str]
    counts: dict[str, int] = field(default_factory=dict)


# --- the declarations, as the executors need them ---------------------------------------------------


@functools.cache
def _schema(table: str) -> Any:
    from schemas.models import TABLE_MODELS

    return TABLE_MODELS[table].to_schema()


@functools.cache
def _dtypes(table: str) -> dict[str, str]:
    return {name: str(column.dtype) for name, column in _schema(table).columns.items()}


def _model_columns(table: str) -> list[str]:
    return list(_dtypes(table))


def _spark_type(table: str, column: str) -> str:
    dtype = _dtypes(table)[column]
    return {"Int64": "bigint", "boolean": "boolean"}.get(dtype, "string")


def _java_regex(pattern: str) -> str:
    """A Python ``re`` pattern as Java's ``rlike`` reads it the same way: ``\\Z`` is Java's ``\\z`` (the
    very end), ``\\d`` any Unicode digit as in Python (``(?U)``)."""
    if re.search(r"\\[AbBwWsS]|\(\?P|\(\?<[=!]?[a-zA-Z]", pattern):
        raise NotImplementedError(f"no Spark translation for the pattern {pattern!r}")
    return "(?U)" + pattern.replace("\\Z", "\\z")


def _record_keys(table: str) -> dict[str, tuple[type, ...]]:
    """JSON key -> JSON types a regular record of ``table`` carries (the reader's own table)."""
    from stancebank.corpus import _record_fields

    return _record_fields(table)


@functools.cache
def _regular_keys() -> dict[str, dict[str, tuple[type, ...]]]:
    return {table: _record_keys(table) for table in TABLES}


def _regular(kind: str, record: Any) -> bool:
    """Whether the local reader reads ``record`` without a failure and ``from_json`` gives the exact
    values (every key known, every value of its exact JSON type)."""
    if type(record) is not dict:
        return False
    keys = _regular_keys()[kind]
    for key, value in record.items():
        if key in _NESTED and kind == "annotations":
            if type(value) is not list:
                return False
            keys_of = _regular_keys()[key]
            for item in value:
                if type(item) is not dict:
                    return False
                for k, v in item.items():
                    allowed = keys_of.get(k)
                    if allowed is None or (v is not None and type(v) not in allowed):
                        return False
            continue
        allowed = keys.get(key)
        if allowed is None or (value is not None and type(value) not in allowed):
            return False
    return True


def _line_status(values: pd.Series, kinds: pd.Series) -> pd.Series:
    """Per line: blank, regular, irregular or unreadable (a null value: not UTF-8)."""
    from stancebank.files import parse_json_line

    out = []
    for value, kind in zip(values.tolist(), kinds.tolist(), strict=True):
        if not isinstance(value, str):  # null: not UTF-8
            out.append(_UNREADABLE)
            continue
        if not value.strip():
            out.append(_BLANK)
            continue
        try:
            record = parse_json_line(Path("-"), 1, value)
        except UnreadableInputError:
            out.append(_UNREADABLE)
            continue
        out.append(_REGULAR if _regular(kind, record) else _IRREGULAR)
    return pd.Series(out, dtype="int8")


# --- reading ------------------------------------------------------------------------------------------


def _uri(path: Path) -> str:
    """A local path as a Hadoop path (glob characters escaped)."""
    return re.sub(r"([\\*?\[\]{}])", r"\\\1", os.path.abspath(path))


def _same(spark_path: str) -> str:
    parsed = urlparse(spark_path)
    return os.path.abspath(unquote(parsed.path if parsed.scheme else spark_path))


def _struct(table: str, *, nested: bool) -> str:
    """The DDL of a regular record of ``table`` for ``from_json`` (free JSON kept as its text)."""
    from stancebank.corpus import _DERIVED, _RENAMED

    renamed = {column: key for key, column in _RENAMED.get(table, {}).items()}
    fields = [
        f"`{renamed.get(name, name)}`: {_spark_type(table, name)}"
        for name in _model_columns(table)
        if name not in ("_file", "_line") and not (nested and name in _DERIVED.get(table, set()))
    ]
    if table == "annotations":
        fields += [f"`{key}`: array<struct<{_struct(key, nested=True)}>>" for key in _NESTED]
    return ", ".join(fields)


def _regular_tables(lines: Any) -> dict[str, Any]:
    """The five tables of the regular lines (columns: _KEY, _file, _blanked, the model's columns)."""
    from pyspark.sql import functions as F

    from stancebank.corpus import _RENAMED

    origin = [F.col(c) for c in ("_corpus", "_fidx", "_line")] + [F.col("_file")]
    none = F.array().cast("array<string>").alias("_blanked")
    out: dict[str, Any] = {}
    for kind in ("articles", "targets", "annotations"):
        parsed = lines.where(F.col("kind") == kind).select(
            *origin, F.from_json("value", f"struct<{_struct(kind, nested=False)}>").alias("r")
        )
        columns = [c for c in _model_columns(kind) if c not in ("_file", "_line")]
        out[kind] = parsed.select(
            *origin, F.lit(0).alias("_pos"), none, *[F.col(f"r.`{c}`").alias(c) for c in columns]
        )
        if kind == "annotations":
            for key in _NESTED:
                renamed = _RENAMED.get(key, {})
                items = parsed.select(
                    *origin,
                    F.col("r.annotation_id").alias("p_annotation_id"),
                    F.col("r.article_id").alias("p_article_id"),
                    F.posexplode(f"r.`{key}`").alias("_pos", "item"),
                )
                inner = {column: key_ for key_, column in renamed.items()}
                cols = []
                for c in _model_columns(key):
                    if c in ("_file", "_line"):
                        continue
                    if c in ("annotation_id", "article_id"):
                        cols.append(F.col(f"p_{c}").alias(c))
                    else:
                        cols.append(F.col(f"item.`{inner.get(c, c)}`").alias(c))
                out[key] = items.select(*origin, F.col("_pos").cast("int").alias("_pos"), none, *cols)
    return {t: out[t].select(*_KEY, "_file", "_blanked", *_model_columns_no_origin(t)) for t in TABLES}


def _model_columns_no_origin(table: str) -> list[str]:
    return [c for c in _model_columns(table) if c not in ("_file", "_line")]


def _table_ddl(table: str) -> str:
    fields = [
        "_corpus int",
        "_fidx int",
        "_line bigint",
        "_pos int",
        "_file string",
        "_blanked array<string>",
    ]
    fields += [f"`{c}` {_spark_type(table, c)}" for c in _model_columns_no_origin(table)]
    return ", ".join(fields)


def _cell(value: Any, dtype: str) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if dtype == "Int64":
        return int(value)
    if dtype == "boolean":
        return bool(value)
    return value


def _irregular_rows(
    spark: Any, corpus: int, files: list[str], lines: list[tuple[int, str, int, str]]
) -> tuple[list[Failure], dict[str, Any]]:
    """Irregular lines (file number, kind, line, text) read by the local reader: its failures, and its
    rows as Spark tables."""
    from stancebank.corpus import corpus_from_records

    records: dict[str, list[tuple[dict[str, Any], tuple[str, int]]]] = {}
    for fidx, kind, line, value in sorted(lines, key=lambda x: (x[0], x[2])):
        records.setdefault(kind, []).append((json.loads(value), (files[fidx], line)))
    read = corpus_from_records(records, files)
    index = {name: i for i, name in enumerate(files)}
    tables = {}
    for table in TABLES:
        frame = read.tables[table]
        positions: Any = frame.groupby(["_file", "_line"], sort=False).cumcount() if len(frame) else []
        dtypes = _dtypes(table)
        rows = []
        for i, (position, record) in enumerate(zip(positions, frame.to_dict("records"), strict=True)):
            blanked = [c for (t, row, c) in read.blanked if t == table and row == i]
            cells = (_cell(record[c], dtypes[c]) for c in _model_columns_no_origin(table))
            file = record["_file"]
            rows.append((corpus, index[file], int(record["_line"]), int(position), file, blanked, *cells))
        tables[table] = spark.createDataFrame(rows, _table_ddl(table))
    return read.failures, tables


# --- rules --------------------------------------------------------------------------------------------

_HITS = "table string, rule string, `column` string, _seq int, doc string, unannotated string, first string"


#: One failing (rule, row): its place in the local engine's order, and what the formatting needs.
Condition = tuple[int, str, "str | None", Any, dict[str, Any]]


def _explode(frame: Any, table: str, conditions: list[Condition]) -> Any:
    """One pass over ``frame``: a hit row for every condition that holds on a row."""
    from pyspark.sql import functions as F

    nothing = F.lit(None).cast("string")
    items = [
        F.when(
            bad,
            F.struct(
                F.lit(rule).alias("rule"),
                F.lit(column).cast("string").alias("column"),
                F.lit(seq).alias("_seq"),
                extra.get("doc", nothing).alias("doc"),
                extra.get("unannotated", nothing).alias("unannotated"),
                nothing.alias("first"),
            ),
        )
        for seq, rule, column, bad, extra in conditions
    ]
    found = F.filter(F.array(*items), lambda item: item.isNotNull())
    return frame.select(*_KEY, F.explode(found).alias("h")).select(
        *_KEY,
        F.lit(table).alias("table"),
        "h.rule",
        "h.column",
        "h._seq",
        "h.doc",
        "h.unannotated",
        "h.first",
    )


def _hits(frame: Any, table: str, rule: str, column: str | None, seq: int, first: Any = None) -> Any:
    """``first``: where the row this one repeats is (``"<file index>:<line>"``), for a rule that names it."""
    from pyspark.sql import functions as F

    nothing = F.lit(None).cast("string")
    return frame.select(
        *_KEY,
        F.lit(table).alias("table"),
        F.lit(rule).alias("rule"),
        F.lit(column).cast("string").alias("column"),
        F.lit(seq).alias("_seq"),
        nothing.alias("doc"),
        nothing.alias("unannotated"),
        (nothing if first is None else first).alias("first"),
    )


def _check_order(table: str) -> list[tuple[str, str | None]]:
    """(check name, column) of a table model in about the order pandera reports them: frame checks, then
    each column's (pandera sorts them so, with an unstable sort: compare failure tables sorted)."""
    schema = _schema(table)
    order: list[tuple[str, str | None]] = [(check.name, None) for check in schema.checks]
    for name, column in schema.columns.items():
        if not column.nullable:
            order.append(("not_nullable", name))
        order += [(check.name, name) for check in column.checks]
    return order


def _builtin(table: str, check: Any, column: str, seq: int) -> Condition:
    """A pandera built-in column check as a Spark predicate (true on failing rows), from its statistics."""
    from pyspark.sql import functions as F

    from schemas.rules import rule_name

    value = F.col(f"`{column}`")
    stats = check.statistics
    if check.name == "isin":
        bad = value.isNotNull() & ~value.isin(list(stats["allowed_values"]))
    elif check.name == "str_matches":
        bad = value.isNotNull() & ~value.rlike(_java_regex(str(stats["pattern"])))
    elif check.name == "greater_than_or_equal_to":
        bad = value.isNotNull() & (value < F.lit(stats["min_value"]))
    else:
        raise NotImplementedError(f"{table}.{column}: no Spark implementation of the check {check.name}")
    return seq, rule_name(str(check.error), column), column, bad, {}


def _required(column: str, seq: int) -> Condition:
    """``not_nullable``: null, unless the reader blanked the cell (it reported ``wrong_type``)."""
    from pyspark.sql import functions as F

    bad = F.col(f"`{column}`").isNull() & ~F.array_contains("_blanked", column)
    return seq, "required", column, bad, {}


def _unique(frame: Any, table: str, rule: str, column: str | None, seq: int) -> Any:
    """Keep the first row of each key (file order, line, position), flag the others."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = list(UNIQUE_KEYS[rule])
    rows = frame if column is None else frame.where(F.col(column).isNotNull())  # a column check skips nulls
    window = Window.partitionBy("_corpus", *keys).orderBy("_fidx", "_line", "_pos")
    later = rows.withColumn("_n", F.row_number().over(window))
    first = None
    if rule in FIRST_NAMED:  # the window's first row: where the original is
        place = F.concat_ws(":", *(F.first(c).over(window).cast("string") for c in ("_fidx", "_line")))
        later, first = later.withColumn("_first", place), F.col("_first")
    return _hits(later.where(F.col("_n") > 1), table, rule, column, seq, first)


def _row_checks(table: str, checks: list[tuple[str, str | None, int]]) -> Any:
    """mapInPandas: the declared custom checks of one row, run by pandera's check backend on a batch."""
    from stancebank.validate import rule_name

    dtypes = _dtypes(table)

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        schema = _schema(table)
        by_name = {(c.name, name): c for name, column in schema.columns.items() for c in column.checks}
        by_name |= {(c.name, None): c for c in schema.checks}
        for batch in batches:
            frame = _typed(batch, table, dtypes)
            out = []
            for name, column, seq in checks:
                check = by_name[(name, column)]
                result = check(frame[column] if column else frame).check_output
                failed = result.index[~result.astype(bool).to_numpy()]
                if len(failed):
                    hit = batch.loc[failed, list(_KEY)].assign(
                        table=table, rule=rule_name(name, column), column=column, _seq=seq
                    )
                    out.append(hit)
            if out:
                hits = pd.concat(out, ignore_index=True)
                for name in ("table", "rule", "column"):  # plain objects: Arrow-backed str does not convert
                    hits[name] = hits[name].astype(object)
                nothing = pd.Series(None, index=hits.index, dtype=object)
                yield hits.assign(doc=nothing, unannotated=None, first=nothing)

    return run


def _typed(batch: pd.DataFrame, table: str, dtypes: dict[str, str]) -> pd.DataFrame:
    """A batch of Spark rows as the local engine's frame: its columns, dtypes and parsed free JSON."""
    columns = {}
    for name, dtype in dtypes.items():
        values = batch[name]
        if dtype == "object":
            parsed = [json.loads(v) if isinstance(v, str) else None for v in values.tolist()]
            columns[name] = pd.Series(parsed, dtype=object, index=batch.index)
        elif dtype == "Int64":
            columns[name] = values.astype(object).where(values.notna(), None).astype("Int64")
        else:
            columns[name] = values.astype(cast(Any, dtype))
    return pd.DataFrame(columns, index=batch.index)


def _first(frame: Any, keys: list[str], *, last: bool = False) -> Any:
    """The first (or last) row of each key in (file, line, position) order, nulls a key of their own."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = [F.col(c).desc() if last else F.col(c) for c in ("_fidx", "_line", "_pos")]
    window = Window.partitionBy("_corpus", *keys).orderBy(*order)
    return frame.withColumn("_n", F.row_number().over(window)).where(F.col("_n") == 1).drop("_n")


def _cross(tables: dict[str, Any], seq0: int) -> list[tuple[str, Any]]:
    """Every cross-table rule: one joined frame per family (as :func:`schemas.crosstable.joined_tables`
    builds it), its rules as predicates over the join."""
    from pyspark.sql import functions as F

    articles, targets, annotations = tables["articles"], tables["targets"], tables["annotations"]
    spans, relations = tables["spans"], tables["relations"]
    col = F.col
    found_ids = (
        articles.where(col("article_id").isNotNull())
        .select(col("_corpus").alias("_c"), col("article_id").alias("_aid"))
        .distinct()
        .withColumn("_found", F.lit(True))
    )

    def article_found(frame: Any) -> Any:
        joined = frame.join(
            found_ids,
            (frame["_corpus"] == found_ids["_c"]) & (frame["article_id"] == found_ids["_aid"]),
            "left",
        )
        return joined.withColumn("article_found", col("_found").isNotNull()).drop("_c", "_aid", "_found")

    target_links = article_found(targets)

    first_targets = _first(targets, ["target_id"]).select(
        col("_corpus").alias("_c"),
        col("target_id").alias("_tid"),
        col("article_id").alias("target_article_id"),
    )
    annotation_links = article_found(annotations)
    annotation_links = annotation_links.join(
        first_targets,
        (annotation_links["_corpus"] == first_targets["_c"])
        & annotation_links["target_id"].eqNullSafe(first_targets["_tid"]),
        "left",
    )

    first_articles = _first(articles, ["article_id"]).select(
        col("_corpus").alias("_c"),
        col("article_id").alias("_aid"),
        col("text").alias("doc"),
        F.lit(True).alias("_hit"),
    )
    in_article = spans.join(
        first_articles,
        (spans["_corpus"] == first_articles["_c"]) & spans["article_id"].eqNullSafe(first_articles["_aid"]),
        "left",
    )
    usable = col("_hit").isNotNull() & col("doc").isNotNull()
    length = F.length("doc").cast("bigint")
    start, end = col("start"), col("end")
    s = F.least(start, length)
    e = F.greatest(F.least(end, length), s)
    sliced = col("doc").substr((s + 1).cast("int"), (e - s).cast("int"))  # Python's doc[start:end]
    text_equal = col("text").isNotNull() & (sliced == col("text"))

    def splits(at: Any) -> Any:
        """Offset ``at`` falls between the CR and the LF of a CRLF: doc[at - 1 : at + 1] == "\\r\\n"."""
        inside = at.isNotNull() & (at > 0) & (at < length)
        pair = col("doc").substr(F.least(F.greatest(at, F.lit(1)), length).cast("int"), F.lit(2))
        return inside & (pair == F.lit("\r\n"))

    last_annotations = _first(annotations, ["annotation_id"], last=True).select(
        col("_corpus").alias("_c"), col("annotation_id").alias("_nid"), col("unannotated")
    )
    attributes = spans.join(
        last_annotations,
        (spans["_corpus"] == last_annotations["_c"])
        & spans["annotation_id"].eqNullSafe(last_annotations["_nid"]),
        "left",
    )
    declared_list = F.from_json("unannotated", "array<string>")

    def declared(name: str) -> Any:
        return F.coalesce(F.array_contains(declared_list, name), F.lit(False))

    missing = [
        F.coalesce(col("label") == owner, F.lit(False)) & col(f"`{name}`").isNull() & ~declared(name)
        for name, owner in V.ATTRIBUTE_LABEL.items()
    ]
    contradicted = [col(f"`{name}`").isNotNull() & declared(name) for name in V.ATTRIBUTE_LABEL]

    labels = _first(spans, ["annotation_id", "span_id"]).select(
        col("_corpus").alias("_c"), col("annotation_id").alias("_nid"), col("span_id").alias("_sid"), "label"
    )
    ends = relations
    for side in ("from", "to"):
        named = labels.select(
            col("_c").alias(f"_c_{side}"),
            col("_nid").alias(f"_nid_{side}"),
            col("_sid").alias(f"_sid_{side}"),
            col("label").alias(f"{side}_label"),
        )
        ends = ends.join(
            named,
            (ends["_corpus"] == named[f"_c_{side}"])
            & ends["annotation_id"].eqNullSafe(named[f"_nid_{side}"])
            & ends[f"{side}_id"].eqNullSafe(named[f"_sid_{side}"]),
            "left",
        )
    head = F.create_map(*[F.lit(x) for t, e_ in V.RELATION_ENDPOINTS.items() for x in (t.value, e_[0].value)])
    tail = F.create_map(*[F.lit(x) for t, e_ in V.RELATION_ENDPOINTS.items() for x in (t.value, e_[1].value)])
    head_of, tail_of = head[col("type")], tail[col("type")]
    known = col("from_label").isNotNull() & col("to_label").isNotNull() & head_of.isNotNull()
    right = F.coalesce((col("from_label") == head_of) & (col("to_label") == tail_of), F.lit(False))

    rules: dict[str, tuple[str, Any, dict[str, Any]]] = {
        "target_article_exists": ("TargetLinks", ~col("article_found"), {}),
        "annotation_article_exists": ("AnnotationLinks", ~col("article_found"), {}),
        "annotation_target_exists": (
            "AnnotationLinks",
            col("target_article_id").isNull(),
            {},
        ),
        "target_of_same_article": (
            "AnnotationLinks",
            col("target_article_id").isNotNull()
            & ~F.coalesce(col("target_article_id") == col("article_id"), F.lit(False)),
            {},
        ),
        "span_article_exists": ("SpanInArticle", ~usable, {}),
        "end_within_text": (
            "SpanInArticle",
            usable & end.isNotNull() & (end >= 0) & (end > length),
            {"doc": col("doc")},
        ),
        "span_text_matches_article": (
            "SpanInArticle",
            usable & start.isNotNull() & (start >= 0) & end.isNotNull() & (end >= 0) & ~text_equal,
            {"doc": col("doc")},
        ),
        "span_splits_crlf": ("SpanInArticle", usable & (splits(start) | splits(end)), {}),
        "attribute_required": (
            "SpanAttributes",
            functools.reduce(lambda a, b: a | b, missing),
            {"unannotated": col("unannotated")},
        ),
        "unannotated_attribute_set": (
            "SpanAttributes",
            functools.reduce(lambda a, b: a | b, contradicted),
            {"unannotated": col("unannotated")},
        ),
        "relation_from_exists": ("RelationEnds", col("from_label").isNull(), {}),
        "relation_to_exists": ("RelationEnds", col("to_label").isNull(), {}),
        "relation_direction": ("RelationEnds", known & ~right, {}),
    }
    frames = {
        "TargetLinks": target_links,
        "AnnotationLinks": annotation_links,
        "SpanInArticle": in_article,
        "SpanAttributes": attributes,
        "RelationEnds": ends,
    }
    conditions: dict[str, list[Condition]] = {family: [] for family in frames}
    order = [r.name for r in local_rules().values() if r.kind == "cross"]
    for i, name in enumerate(order):
        if name not in rules:
            raise NotImplementedError(f"no Spark implementation of the cross-table rule {name}")
        family, bad, extra = rules[name]
        conditions[family].append((seq0 + i, name, None, bad, extra))
    return [(_FAMILIES[f], _explode(frames[f], _FAMILIES[f], c)) for f, c in conditions.items() if c]


#: The rules the Spark engine implements, by kind (a test compares them with :func:`local_rules`).
SPARK_CROSS_RULES = (
    "target_article_exists",
    "annotation_article_exists",
    "annotation_target_exists",
    "target_of_same_article",
    "span_article_exists",
    "end_within_text",
    "span_text_matches_article",
    "span_splits_crlf",
    "attribute_required",
    "unannotated_attribute_set",
    "relation_from_exists",
    "relation_to_exists",
    "relation_direction",
)
#: pandera built-in checks compiled to Spark predicates, and the schema-level checks.
SPARK_BUILTIN_CHECKS = ("isin", "str_matches", "greater_than_or_equal_to")
#: Checks of the tables' shape (columns and their types), run on the driver against the models.
SPARK_SCHEMA_RULES = ("unknown_column", "missing_column", "wrong_type")


def spark_rules() -> set[str]:
    """Every rule name the Spark engine can report, from what it implements: the reader's rules, the
    schema-level checks, pandera's built-in checks it compiles, the models' custom row checks (run as
    declared), the uniqueness rules and the cross-table rules it joins."""
    from schemas.rules import READER_RULES, rule_name

    names = {*READER_RULES, *SPARK_SCHEMA_RULES, *SPARK_CROSS_RULES, *UNIQUE_KEYS}
    names.add(rule_name("not_nullable", None))  # _required
    for table in TABLES:
        schema = _schema(table)
        checks = [(c, name) for name, column in schema.columns.items() for c in column.checks]
        checks += [(c, None) for c in schema.checks]
        for check, column in checks:
            if not is_builtin(check):
                names.add(check.name)
            elif check.name in SPARK_BUILTIN_CHECKS:
                names.add(rule_name(str(check.error), column))
    return names


def _table_hits(tables: dict[str, Any]) -> tuple[list[tuple[str, Any]], int]:
    """Every rule of the table models: built-in checks in one pass per table, row checks in one
    ``mapInPandas`` per table, each uniqueness rule as a window."""
    hits: list[tuple[str, Any]] = []
    seq = 0
    for table in TABLES:
        frame = tables[table]
        conditions: list[Condition] = []
        row_checks: list[tuple[str, str | None, int]] = []
        schema = _schema(table)
        for name, column in _check_order(table):
            seq += 1
            if name == "not_nullable":
                assert column is not None
                conditions.append(_required(column, seq))
            elif name in UNIQUE_KEYS:
                hits.append((table, _unique(frame, table, name, column, seq)))
            else:
                checks = schema.columns[column].checks if column else schema.checks
                check = next(c for c in checks if c.name == name)
                if is_builtin(check):
                    assert column is not None
                    conditions.append(_builtin(table, check, column, seq))
                else:
                    row_checks.append((name, column, seq))
        hits.append((table, _explode(frame, table, conditions)))
        if row_checks:
            hits.append((table, _map_rows(frame, table, row_checks)))
    return hits, seq


def _map_rows(frame: Any, table: str, checks: list[tuple[str, str | None, int]]) -> Any:
    from pyspark.sql import functions as F

    # integers as text: Arrow would hand a column with nulls to pandas as float64 (inexact past 2**53)
    cols = [F.col(c) for c in _KEY] + [F.col("_file")]
    cols += [
        F.col(f"`{c}`").cast("string").alias(c) if _dtypes(table)[c] == "Int64" else F.col(f"`{c}`")
        for c in _model_columns_no_origin(table)
    ]
    return frame.select(*cols).mapInPandas(_row_checks(table, checks), _KEY_DDL + ", " + _HITS)


_KEY_DDL = "_corpus int, _fidx int, _line bigint, _pos int"


# --- driver -------------------------------------------------------------------------------------------


def validate_spark(paths: Iterable[Path | str], *, master: str | None = None, spark: Any = None) -> Result:
    """Validate one corpus (data directories or files) with Spark; raises UnreadableInputError as the
    local engine does."""
    result = validate_many([list(paths)], master=master, spark=spark)[0]
    assert isinstance(result, Result)  # an unreadable corpus raised
    return result


def validate_many(
    corpora: Sequence[Iterable[Path | str]], *, master: str | None = None, spark: Any = None
) -> list[Result | UnreadableInputError]:
    """Validate several corpora in one Spark pass. A corpus that cannot be read gives the error the local
    engine raises (in place of its result) when more than one is asked for; with one it is raised."""
    from stancebank.corpus import classify, data_files

    if spark is None:
        from stancebank.spark import session

        spark = session(master, app="stancebank validate")
    files: list[list[Path]] = []
    errors: dict[int, UnreadableInputError] = {}
    for i, paths in enumerate(corpora):
        try:
            files.append(data_files(Path(p) for p in paths))
        except UnreadableInputError as exc:
            files.append([])
            errors[i] = exc
    results = _run(spark, files, errors, classify)
    if len(corpora) == 1 and isinstance(results[0], UnreadableInputError):
        raise results[0]
    return results


def _special(path: Path) -> bool:
    """Not a regular file, or one starting with a byte-order mark (Hadoop's reader would skip it): the
    local reader reads it, and refuses it."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True
        with path.open("rb") as handle:
            return handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return True


def _run(
    spark: Any, files: list[list[Path]], errors: dict[int, UnreadableInputError], classify: Any
) -> list[Any]:
    names = [[str(f) for f in fs] for fs in files]
    bad: dict[int, set[int]] = {i: set() for i in range(len(files))}  # corpus -> files to read locally
    readable: dict[str, list[tuple[int, int, str, str]]] = {}  # absolute path -> (corpus, fidx, kind, name)
    for c, i, f in [(c, i, f) for c, fs in enumerate(files) if c not in errors for i, f in enumerate(fs)]:
        if _special(f):
            bad[c].add(i)
        else:
            readable.setdefault(os.path.abspath(f), []).append((c, i, classify(f), str(f)))
    lines = _lines(spark, readable) if readable else None
    tables: dict[str, Any] = {}
    reader_failures: dict[int, list[Failure]] = {c: [] for c in range(len(files))}
    try:
        if lines is not None:
            _flag(lines, files, errors, bad)
        fallback = _settle(files, bad, errors)
        if lines is not None:
            tables = _tables(spark, lines, list(errors) + list(fallback), names, reader_failures)
        failures, counts = _check(tables, names) if tables else ({}, {})
    finally:  # best effort: a failed job (e.g. out of heap) must surface, not a failed clean-up
        for frame in [*tables.values(), *([lines] if lines is not None else [])]:
            with contextlib.suppress(Exception):
                frame.unpersist()
    results: list[Any] = []
    for c in range(len(files)):
        if c in errors:
            results.append(errors[c])
        elif c in fallback:
            results.append(_local(files[c]))
        else:
            results.append(Result(reader_failures[c] + failures.get(c, []), names[c], counts.get(c, {})))
    return results


def _lines(spark: Any, readable: dict[str, list[tuple[int, int, str, str]]]) -> Any:
    """Every line of the readable files with corpus, file number, line number, kind and status
    (persisted). Line numbers: Spark's text reader keeps none, so each file block's first row id and
    size are counted (a small aggregate), turned into each block's first line on the driver, and joined
    back (broadcast)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    raw = (
        spark.read.option("lineSep", "\n")
        .text([_uri(Path(p)) for p in readable])
        .select(
            "value",
            F.col("_metadata.file_path").alias("_path"),
            F.col("_metadata.file_block_start").alias("_block"),
            F.monotonically_increasing_id().alias("_mono"),
        )
    )
    blocks = raw.groupBy("_path", "_block").agg(F.min("_mono").alias("_first"), F.count("*").alias("_n"))
    by_path: dict[str, list[Any]] = {}
    for row in blocks.collect():
        by_path.setdefault(row["_path"], []).append(row)
    placed = []
    for path, rows in by_path.items():
        offset = 0
        for row in sorted(rows, key=lambda r: r["_block"]):
            for c, i, kind, name in readable.get(_same(path), []):
                placed.append((path, int(row["_block"]), int(row["_first"]) - offset - 1, c, i, kind, name))
            offset += int(row["_n"])
    place = spark.createDataFrame(
        placed, "_path string, _block bigint, _base bigint, _corpus int, _fidx int, kind string, _file string"
    )
    status = pandas_udf(_line_status, "tinyint")  # type: ignore[call-overload]
    return (
        raw.join(F.broadcast(place), ["_path", "_block"])
        .select(
            "_corpus",
            "_fidx",
            (F.col("_mono") - F.col("_base")).alias("_line"),
            "kind",
            "_file",
            F.when(F.is_valid_utf8("value"), F.col("value")).alias("value"),  # null: not UTF-8
        )
        .coalesce(int(spark.conf.get("spark.sql.shuffle.partitions") or 8))  # small files: few tasks
        .withColumn("_status", status("value", "kind"))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def _flag(lines: Any, files: list[list[Path]], errors: dict[int, Any], bad: dict[int, set[int]]) -> None:
    """Flag the files the local reader would refuse: an unreadable line, or nothing but blank lines."""
    seen: dict[tuple[int, int], set[int]] = {}
    for row in lines.groupBy("_corpus", "_fidx", "_status").count().collect():
        seen.setdefault((row["_corpus"], row["_fidx"]), set()).add(int(row["_status"]))
    for c, fs in enumerate(files):
        for i in range(len(fs)):
            statuses = seen.get((c, i), set())
            if c not in errors and (_UNREADABLE in statuses or not statuses - {_BLANK}):
                bad[c].add(i)


def _settle(files: list[list[Path]], bad: dict[int, set[int]], errors: dict[int, Any]) -> set[int]:
    """The local reader's error for each corpus with a flagged file (its first refused file, in order);
    the corpora it reads after all are left to the local engine (returned)."""
    fallback: set[int] = set()
    for c, flagged in bad.items():
        for i in sorted(flagged):
            error = _local_error(files[c][i])
            if error is not None:
                errors[c] = error
                break
            fallback.add(c)
    return fallback


def _tables(
    spark: Any, lines: Any, skip: list[int], names: list[list[str]], reader_failures: dict[int, list[Failure]]
) -> dict[str, Any]:
    """The five tables (persisted): regular lines parsed by Spark, irregular ones read on the driver by
    the local reader (whose failures go to ``reader_failures``)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    good = lines.where(~F.col("_corpus").isin(skip or [-1]))
    regular = _regular_tables(good.where(F.col("_status") == _REGULAR))
    irregular = good.where(F.col("_status") == _IRREGULAR).select(
        "_corpus", "_fidx", "kind", "_line", "value"
    )
    found: dict[int, list[tuple[int, str, int, str]]] = {}
    for row in irregular.collect():
        found.setdefault(row["_corpus"], []).append((row["_fidx"], row["kind"], row["_line"], row["value"]))
    extra: dict[str, list[Any]] = {t: [] for t in TABLES}
    for c, rows in found.items():
        reader_failures[c], more = _irregular_rows(spark, c, names[c], rows)
        for t in TABLES:
            extra[t].append(more[t])
    tables = {}
    for t in TABLES:
        frame = regular[t]
        for more in extra[t]:
            frame = frame.unionByName(more)
        tables[t] = frame.persist(StorageLevel.MEMORY_AND_DISK)
    return tables


def _local(files: list[Path]) -> Result:
    from stancebank.corpus import read_corpus
    from stancebank.validate import validate_corpus

    corpus = read_corpus(files)
    counts = {name: len(frame) for name, frame in corpus.tables.items()}
    return Result(validate_corpus(corpus), corpus.files, counts)


def _local_error(path: Path) -> UnreadableInputError | None:
    from stancebank.corpus import read_jsonl

    try:
        for _ in read_jsonl(path):
            pass
    except UnreadableInputError as exc:
        return exc
    return None


def _check(
    tables: dict[str, Any], names: list[list[str]]
) -> tuple[dict[int, list[Failure]], dict[int, dict[str, int]]]:
    from pyspark.sql import functions as F

    shape = _shape(tables, names)
    hits, seq = _table_hits(tables)
    hits += _cross(tables, seq + 1)
    rows = []
    for table in TABLES:
        frame = tables[table]
        mine = functools.reduce(lambda a, b: a.unionByName(b), [h for t, h in hits if t == table])
        data = F.to_json(F.struct(*[F.col(f"`{c}`") for c in _model_columns_no_origin(table)]))
        joined = mine.join(frame.select(*_KEY, "_file", data.alias("_row")), list(_KEY))
        rows.append(joined)
    collected = functools.reduce(lambda a, b: a.unionByName(b), rows).collect()
    counts_rows = functools.reduce(
        lambda a, b: a.unionByName(b),
        [tables[t].groupBy("_corpus").count().withColumn("table", F.lit(t)) for t in TABLES],
    ).collect()
    counts: dict[int, dict[str, int]] = {}
    for row in counts_rows:
        counts.setdefault(row["_corpus"], {})[row["table"]] = int(row["count"])
    counts = {c: {t: counts.get(c, {}).get(t, 0) for t in TABLES} for c in range(len(names))}
    failures = _format(collected, names)
    return {c: shape.get(c, []) + failures.get(c, []) for c in range(len(names))}, counts


def _shape(tables: dict[str, Any], names: list[list[str]]) -> dict[int, list[Failure]]:
    """The schema-level checks (pandera's ``column_in_dataframe``, ``column_in_schema``, ``dtype``):
    every table has the model's columns, no other, with the model's types. The tables are built from the
    models, so this guards the engine itself; a failure names the corpus's files, as the local one."""
    found: list[tuple[str, str | None]] = []
    for table, frame in tables.items():
        expected = {c: _spark_type(table, c) for c in _model_columns(table)}
        actual = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        actual.pop("_blanked", None)
        for column in ("_corpus", "_fidx", "_pos"):
            actual.pop(column, None)
        actual["_line"] = "bigint" if actual.get("_line") in ("bigint", "int") else str(actual.get("_line"))
        found += [("missing_column", c) for c in expected if c not in actual]
        found += [("unknown_column", c) for c in actual if c not in expected]
        found += [("wrong_type", c) for c in expected if c in actual and actual[c] != expected[c]]
    return {
        c: [Failure(", ".join(sorted(files)), None, None, None, rule, column, None) for rule, column in found]
        for c, files in enumerate(names)
        if found
    }


def _format(rows: list[Any], names: list[list[str]]) -> dict[int, list[Failure]]:
    """Failures from the failing rows, formatted by the local engine, in its order."""
    from schemas.offsets import ArticleTexts
    from stancebank.validate import _attribute_columns, _locate, _row_value, _show, first_at

    out: dict[int, list[tuple[int, int, Failure]]] = {}
    groups: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row["_corpus"], row["table"]), []).append(row)
    for (corpus, table), items in groups.items():
        keys = sorted({(r["_fidx"], r["_line"], r["_pos"]) for r in items})
        index = {key: i for i, key in enumerate(keys)}
        first: dict[tuple[int, int, int], Any] = {}
        docs: dict[tuple[int, int, int], str] = {}
        declared: dict[tuple[int, int, int], str] = {}
        for r in items:
            key = (r["_fidx"], r["_line"], r["_pos"])
            first.setdefault(key, r)
            if r["doc"] is not None:
                docs[key] = r["doc"]
            if r["unannotated"] is not None:
                declared[key] = r["unannotated"]
        records = []
        for key in keys:
            record = json.loads(first[key]["_row"])
            record["_file"] = names[corpus][key[0]]
            record["_line"] = key[1]
            records.append(record)
        frame = _frame_of(table, records)
        doc_list = [docs.get(key) for key in keys]
        frame["article_row"] = [i if docs.get(key) is not None else -1 for i, key in enumerate(keys)]
        if table == "spans":  # the annotation's, joined for the attribute rules
            unannotated = [json.loads(declared[k]) if k in declared else None for k in keys]
            frame["unannotated"] = pd.Series(unannotated, dtype=object)
        frame.attrs["article_texts"] = ArticleTexts(pd.Series(doc_list, dtype="str"))
        for r in items:
            i = index[(r["_fidx"], r["_line"], r["_pos"])]
            rule, column = r["rule"], r["column"]
            if rule in ROW_RULE_FIELDS:
                at_fault = _attribute_columns(frame, i, rule)
                failure = _locate(frame, table, i, rule, at_fault, _row_value(frame, i, rule))
            else:
                value = _show(frame.at[i, column])
                if r["first"] is not None:
                    fidx, line = r["first"].split(":")
                    value = first_at(value, names[corpus][int(fidx)], int(line))
                failure = _locate(frame, table, i, rule, column, value)
            out.setdefault(corpus, []).append((r["_seq"], i, failure))
    return {c: [f for _, _, f in sorted(items, key=lambda x: (x[0], x[1]))] for c, items in out.items()}


def _frame_of(table: str, records: list[dict[str, Any]]) -> pd.DataFrame:
    columns = {}
    for name, dtype in _dtypes(table).items():
        values = [r.get(name) for r in records]
        if dtype == "object":
            columns[name] = pd.Series([None if v is None else json.loads(v) for v in values], dtype=object)
        else:
            columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)
