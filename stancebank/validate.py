"""Run every schema rule over a corpus and turn pandera's failure cases into report rows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pandera.errors

from schemas.crosstable import CROSS_TABLE_MODELS, joined_tables
from schemas.errors import InvalidDataError
from schemas.models import TABLE_MODELS, contradicted_attributes, foreign_attributes, missing_attributes
from schemas.rules import BUILTIN_RULES as _BUILTIN_RULES
from schemas.rules import ROW_RULE_FIELDS as _ROW_RULE_FIELDS
from stancebank.corpus import Corpus, read_corpus
from stancebank.failures import Failure

#: Row-wide attribute rules: which attribute columns are at fault in a row.
_ATTRIBUTE_FAULTS = {
    "attribute_required": missing_attributes,
    "attribute_forbidden": foreign_attributes,
    "unannotated_attribute_set": contradicted_attributes,
}
_ID_COLUMN = {"spans": "span_id", "relations": "from_id"}


def load_valid(paths: Iterable[Path | str]) -> Corpus:
    """Read data files and refuse them unless every rule holds: the entry check of every stage."""
    corpus = read_corpus(paths)
    failures = validate_corpus(corpus)
    if failures:
        raise InvalidDataError([f._asdict() for f in failures])
    return corpus


def rule_name(check: str, column: str | None) -> str:
    """Our rule name for a pandera check name (custom checks are already named as rules)."""
    for pattern, rule in _BUILTIN_RULES:
        if pattern.search(check):
            return rule.format(column=column)
    return check


def validate_corpus(corpus: Corpus) -> list[Failure]:
    """Every failure of every rule, reader failures first; an empty list means valid."""
    failures = list(corpus.failures)
    for table, model in TABLE_MODELS.items():
        failures += _run(model, corpus.tables[table], table, corpus.blanked)
    for family, (table, frame) in joined_tables(corpus.tables).items():
        failures += _run(CROSS_TABLE_MODELS[family], frame, table, set())
    return failures


def _run(model: Any, frame: pd.DataFrame, table: str, blanked: set[tuple[str, int, str]]) -> list[Failure]:
    try:
        model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    failures: list[Failure] = []
    seen: set[tuple[str, int | None]] = set()
    for case in cases.itertuples(index=False):
        column = None if pd.isna(case.column) or case.column == model.__name__ else str(case.column)
        index = None if pd.isna(case.index) else int(case.index)
        rule = rule_name(str(case.check), column)
        if case.check == "not_nullable" and (table, index, column) in blanked:
            continue  # the reader already reported this cell as wrong_type
        if rule in _ROW_RULE_FIELDS:
            if (rule, index) in seen:
                continue
            seen.add((rule, index))
            at_fault = _attribute_columns(frame, index, rule)
            failures.append(_locate(frame, table, index, rule, at_fault, _row_value(frame, index, rule)))
        else:
            failures.append(_locate(frame, table, index, rule, column, _show(case.failure_case)))
    return failures


def _attribute_columns(frame: pd.DataFrame, index: int | None, rule: str) -> str | None:
    if rule not in _ATTRIBUTE_FAULTS or index is None:
        return None
    faults = _ATTRIBUTE_FAULTS[rule](frame.loc[[index]]).iloc[0]
    return ",".join(str(name) for name, bad in faults.items() if bad)


def _show(value: Any) -> str | None:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _row_value(frame: pd.DataFrame, index: int | None, rule: str) -> str | None:
    if index is None:
        return None
    row = cast(pd.Series, frame.loc[index])
    shown = [f"{name}={_plain(row[name])!r}" for name in _ROW_RULE_FIELDS[rule]]
    article = _article_text(frame, row)
    if rule == "span_text_matches_article" and article is not None:
        shown.append(f"article_text={article[int(row['start']) : int(row['end'])]!r}")
    if rule in ("attribute_forbidden", "unannotated_attribute_set"):
        columns = (_attribute_columns(frame, index, rule) or "").split(",")
        shown += [f"{name}={_plain(row[name])!r}" for name in columns if name]
    if rule == "end_within_text" and article is not None:
        shown.append(f"text_length={len(article)}")
    return " ".join(shown)


def _article_text(frame: pd.DataFrame, row: pd.Series) -> str | None:
    """The text of the row's article, on frames joined to the articles (spans ⋈ articles)."""
    texts = frame.attrs.get("article_texts")
    if texts is None or "article_row" not in row or row["article_row"] < 0:
        return None
    text: str | None = texts.text(int(row["article_row"]))
    return text


def _locate(
    frame: pd.DataFrame,
    table: str,
    index: int | None,
    rule: str,
    column: str | None,
    value: str | None,
) -> Failure:
    if index is None or index not in frame.index:
        files = sorted(set(frame["_file"])) if "_file" in frame and len(frame) else []
        return Failure(", ".join(files) or table, None, None, None, rule, column, value)
    row = frame.loc[index]
    article = row.get("article_id")
    span = row.get(_ID_COLUMN[table]) if table in _ID_COLUMN else None
    if table == "relations" and isinstance(span, str):
        span = f"{span}->{row.get('to_id')}"
    return Failure(
        str(row["_file"]),
        int(str(row["_line"])),
        article if isinstance(article, str) else None,
        span if isinstance(span, str) else None,
        rule,
        column,
        value,
    )
