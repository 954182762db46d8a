"""Every rule name a validation report can carry, derived from the declarations (one registry for all
engines).

The rules are declared once: the pandera models (:mod:`schemas.models`, :mod:`schemas.crosstable`) name
their custom checks after the rule, pandera's built-in checks are given our names by
:data:`BUILTIN_RULES`, and the corpus reader adds :data:`READER_RULES`. :func:`local_rules` enumerates
them all from the models; an engine (the local pandas one in :mod:`stancebank.validate`, the Spark one in
:mod:`stancebank.engines.spark_validate`) is a backend that executes these declarations, and a test
requires every engine to implement every rule listed here.

Rules that compare rows of one table with each other (keep the first row, flag the later ones) are
declared with their keys in :data:`UNIQUE_KEYS`; every other custom check of a table model must look at
one row at a time, so an engine may run it on any batch of rows.

This module imports neither pandas nor pandera at import time (the models import it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: pandera built-in check name (a pattern) -> our rule name.
BUILTIN_RULES = (
    (re.compile(r"^field_uniqueness$"), "unique_{column}"),
    (re.compile(r"^not_nullable$"), "required"),
    (re.compile(r"^isin\("), "not_in_vocabulary"),
    (re.compile(r"^str_matches\("), "bad_format"),
    (re.compile(r"^greater_than_or_equal_to\("), "out_of_range"),
    (re.compile(r"^column_in_schema$"), "unknown_column"),
    (re.compile(r"^column_in_dataframe$"), "missing_column"),
    (re.compile(r"^dtype\("), "wrong_type"),
)
#: Row-wide rules (pandera reports them once per column): the fields that show what is wrong.
ROW_RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "start_before_end": ("start", "end"),
    "text_length_matches_offsets": ("start", "end", "text"),
    "span_text_matches_article": ("start", "end", "text"),
    "span_splits_crlf": ("start", "end"),
    "end_within_text": ("end",),
    "duplicate_span": ("label", "start", "end"),
    "unique_span_id": ("span_id",),
    "duplicate_relation": ("type", "from_id", "to_id"),
    "relation_from_exists": ("from_id",),
    "relation_to_exists": ("to_id",),
    "relation_direction": ("type", "from_id", "to_id"),
    "target_article_exists": ("article_id",),
    "annotation_article_exists": ("article_id",),
    "annotation_target_exists": ("target_id",),
    "target_of_same_article": ("target_id",),
    "span_article_exists": ("article_id",),
    "updated_not_before_created": ("created_at", "updated_at"),
    "attribute_required": ("label",),
    "attribute_forbidden": ("label",),
    "unannotated_attribute_set": ("label",),
    "doc_stance_requires_related": ("related", "doc_stance"),
}
#: Rules the corpus reader reports itself (:mod:`stancebank.corpus`): a record key no table has, and a
#: JSON value of the wrong type (the cell is then blanked, so ``required`` is not reported for it too).
READER_RULES = ("unknown_field", "wrong_type")
#: Rules that flag every row repeating an earlier row's keys (the first row is kept as the original),
#: with those keys. A column check (one key) ignores rows whose key is null; a frame check compares
#: null as a value (``DataFrame.duplicated``). Spans and relations are compared within their annotation
#: record (its file and line): an annotation given twice is one ``unique_annotation_id`` failure, not
#: one more per span and relation of the copy.
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "unique_article_id": ("article_id",),
    "unique_target_id": ("target_id",),
    "unique_annotation_id": ("annotation_id",),
    "unique_span_id": ("_file", "_line", "span_id"),
    "duplicate_span": ("_file", "_line", "label", "start", "end"),
    "duplicate_relation": ("_file", "_line", "type", "from_id", "to_id"),
}
#: Unique rules whose original may be on another line or in another file: a failure's value names where
#: the original is (:func:`stancebank.validate.first_at`).
FIRST_NAMED = ("unique_article_id", "unique_target_id", "unique_annotation_id")


@dataclass(frozen=True)
class Rule:
    """One rule name and where it is declared."""

    name: str
    #: "reader", "builtin" (a pandera built-in check), "row" (a custom check of one row),
    #: "unique" (keep-first over :data:`UNIQUE_KEYS`) or "cross" (a cross-table model's check).
    kind: str
    #: (table or cross-table family, pandera check name) pairs that report the rule.
    sources: tuple[tuple[str, str], ...]


def rule_name(check: str, column: str | None) -> str:
    """Our rule name for a pandera check name (custom checks are already named as rules)."""
    for pattern, rule in BUILTIN_RULES:
        if pattern.search(check):
            return rule.format(column=column)
    return check


def is_builtin(check: Any) -> bool:
    """A pandera built-in check (``isin``, ``str_matches``…), reported as ``name(statistics)``."""
    return bool(check.error) and check.error != check.name


def _builtin_check_names(schema: Any) -> list[tuple[str, str | None]]:
    """(pandera error name, column) of every built-in check a pandas DataFrameSchema runs."""
    names: list[tuple[str, str | None]] = []
    if getattr(schema, "strict", False):
        names.append(("column_in_schema", None))
    for column_name, column in schema.columns.items():
        if column.required:
            names.append(("column_in_dataframe", column_name))
        if column.dtype is not None:
            names.append((f"dtype({column.dtype})", column_name))
        if not column.nullable:
            names.append(("not_nullable", column_name))
        if column.unique:
            names.append(("field_uniqueness", column_name))
        for check in column.checks:
            if is_builtin(check):
                names.append((str(check.error), column_name))
    return names


def local_rules() -> dict[str, Rule]:
    """Every rule the local engine can report, from the models (reader rules first, then each table's,
    then the cross-table families'), in declaration order."""
    from schemas.crosstable import CROSS_TABLE_MODELS
    from schemas.models import TABLE_MODELS

    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}

    def add(name: str, kind: str, source: tuple[str, str]) -> None:
        found.setdefault(name, (kind, []))[1].append(source)

    for name in READER_RULES:
        add(name, "reader", ("reader", name))
    for table, model in TABLE_MODELS.items():
        schema = model.to_schema()
        for check, column in _builtin_check_names(schema):
            add(rule_name(check, column), "builtin", (table, check))
        checks = [check for column in schema.columns.values() for check in column.checks]
        for check in checks + list(schema.checks):
            if not is_builtin(check):
                add(check.name, "unique" if check.name in UNIQUE_KEYS else "row", (table, check.name))
    for family, cross_model in CROSS_TABLE_MODELS.items():
        for check in cross_model.to_schema().checks:
            add(check.name, "cross", (family, check.name))
    return {name: Rule(name, kind, tuple(sources)) for name, (kind, sources) in found.items()}
