"""The fast way to read well-formed data files: Arrow's multithreaded JSON reader builds the columns.

:func:`read_tables` reads every file with :func:`pyarrow.json.read_json` against an explicit schema
derived from the pandera models (so ``true`` is no offset and ``1.0`` no integer: Arrow refuses both),
flattens the nested spans and relations without a Python object per span, and returns the same five
tables as :class:`stancebank.corpus._Builder` would. It never reports a problem itself: whenever a file is
anything but plain well-typed JSONL (a blank or non-object line in the wrong place, an unknown field, a
wrong JSON type, a span list that is ``null``, a BOM, bad UTF-8 …) it returns ``None`` and the caller
reads the files the careful way, which names file, line and field. A test reads every fixture both ways
and requires equal tables or a fallback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from schemas.models import TABLE_MODELS
from stancebank.inputs import check_json_bytes, read_input

#: pandera dtype class name -> the Arrow type a JSON value of that column is read as.
_ARROW = {"STRING": pa.string(), "Text": pa.string(), "INT64": pa.int64(), "BOOL": pa.bool_()}
#: Columns the reader derives (origin, parent annotation) rather than reads.
_DERIVED = {"_file", "_line", "annotation_id", "article_id"}
_RENAMED = {"spans": {"span_id": "id"}}
#: Columns of free JSON (an object of anything): Arrow infers them, and only the trivial cases
#: (null or ``{}`` everywhere) are taken from Arrow; anything else is re-read with :mod:`json`.
_FREE = "metadata"
_LISTS = {("annotations", "unannotated"): pa.list_(pa.string())}
#: Arrow -> pandas dtypes, built from the Arrow buffers (strings stay Arrow strings: no copy).
_TO_PANDAS = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
}.get


class _Irregular(Exception):
    """The files need the careful reader."""


def _dtypes(table: str) -> dict[str, Any]:
    schema = TABLE_MODELS[table].to_schema()
    return {name: column.dtype for name, column in schema.columns.items()}


def _fields(table: str, nested: bool) -> list[pa.Field]:
    """The Arrow fields of a record of ``table`` (free-JSON columns left to inference)."""
    fields = []
    for name, dtype in _dtypes(table).items():
        if name == _FREE or name in ("_file", "_line") or (nested and name in _DERIVED):
            continue
        kind = _LISTS.get((table, name)) or _ARROW.get(type(dtype).__name__)
        if kind is None:
            raise _Irregular(f"no Arrow type for {table}.{name}")
        fields.append(pa.field(_RENAMED.get(table, {}).get(name, name), kind))
    return fields


def _schema(table: str) -> pa.Schema:
    fields = _fields(table, nested=False)
    if table == "annotations":
        fields += [
            pa.field("spans", pa.list_(pa.struct(_fields("spans", nested=True)))),
            pa.field("relations", pa.list_(pa.struct(_fields("relations", nested=True)))),
        ]
    return pa.schema(fields)


def _line_numbers(data: bytes) -> list[int]:
    """1-based numbers of the non-blank lines; every one must start an object (the caller checks that
    Arrow found as many values as lines, so none holds two)."""
    numbers, start, number, size = [], 0, 1, len(data)
    while start < size and data[start] == 0x7B:  # the usual file: every line starts with "{"
        numbers.append(number)
        start, number = data.find(b"\n", start) + 1, number + 1
        if start == 0:
            return numbers
    if start >= size:
        return numbers
    numbers = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw[:1] == b"{" and (raw[-1:] == b"}" or raw[-2:] == b"}\r"):
            numbers.append(number)
        elif raw.strip():
            stripped = raw.strip()
            if stripped[:1] != b"{" or stripped[-1:] != b"}":
                raise _Irregular("a line that is not one JSON object")
            numbers.append(number)
    return numbers


def _read_file(
    path: Path, schema: pa.Schema, given: bytes | None, first_line: int = 1, checked: bool = False
) -> tuple[pa.Table, list[int], bytes]:
    data = read_input(path, "a .jsonl file") if given is None else given  # special files refused
    if data.isspace() or not data or data.startswith(b"\xef\xbb\xbf"):
        raise _Irregular("empty or BOM")
    if not checked:  # Arrow's parser crashes on deep nesting: bounded before it runs
        check_json_bytes(path, data, first_line=first_line)
    numbers = _line_numbers(data)
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=options)
        table.validate(full=True)  # UTF-8 of every string
    except (pa.ArrowException, ValueError) as exc:
        raise _Irregular(str(exc)) from None
    if table.num_rows != len(numbers):
        raise _Irregular("more JSON values than lines")
    _known_columns(table.schema, schema)
    return table, numbers, data


def _known_columns(found: pa.Schema | pa.StructType, expected: pa.Schema | pa.StructType) -> None:
    names = {f.name for f in expected} | {_FREE}
    for item in found:
        if item.name not in names:
            raise _Irregular(f"unknown field {item.name}")
        if item.name == _FREE:
            continue  # free JSON (an object, else the careful reader reports it): nothing to look into
        if pa.types.is_list(item.type) and pa.types.is_struct(item.type.value_type):
            _known_columns(item.type.value_type, expected.field(item.name).type.value_type)


def _free_values(column: pa.ChunkedArray | pa.Array | None, length: int) -> list[Any] | None:
    """The trivial free-JSON columns: missing/null everywhere, or ``{}`` where not null."""
    if column is None or pa.types.is_null(column.type):
        return [None] * length
    if pa.types.is_struct(column.type) and column.type.num_fields == 0:
        valid = pc.is_valid(column).to_pylist()
        return [{} if ok else None for ok in valid]
    return None


def _constant(value: str | None, length: int) -> pa.Array:
    if value is None:
        return pa.nulls(length, pa.string())
    return pa.array([value]).take(pa.array(np.zeros(length, dtype=np.int64)))


def _frame(table: str, columns: dict[str, Any], length: int) -> pd.DataFrame:
    out = {}
    for name, dtype in _dtypes(table).items():
        value = columns[name]
        if isinstance(value, list):
            out[name] = pd.Series(value, dtype=object if str(dtype) == "object" else str(dtype))
        elif isinstance(value, pa.ChunkedArray | pa.Array) and (table, name) in _LISTS:
            out[name] = pd.Series(value.to_pylist(), dtype=object)
        elif isinstance(value, pa.ChunkedArray | pa.Array):
            series = value.to_pandas(types_mapper=_TO_PANDAS)
            out[name] = series if str(series.dtype) == str(dtype) else series.astype(str(dtype))
        else:
            raise TypeError(f"{table}.{name}: {type(value).__name__}")
    return pd.DataFrame(out, index=pd.RangeIndex(length))


def _objects(values: list[Any]) -> list[Any]:
    """Free-JSON values, which must be objects (or null): anything else needs the careful reader."""
    if not all(value is None or type(value) is dict for value in values):
        raise _Irregular("a free-JSON field that is not an object")
    return values


def _nested_free(data: bytes, numbers: list[int], key: str) -> list[Any]:
    """Free-JSON values of nested records, re-read exactly (rare: imported corpora)."""
    lines = data.split(b"\n")
    return [item.get(_FREE) for n in numbers for item in json.loads(lines[n - 1]).get(key) or []]


def read_tables(
    files: list[Path],
    given: Mapping[Path, bytes] | None = None,
    *,
    first_line: int = 1,
    checked: bool = False,
) -> dict[str, pd.DataFrame] | None:
    """The five tables read with Arrow, or ``None`` if any file needs the careful reader. ``given``
    holds the contents of files not (yet) on disk: ``pull`` validates what it is about to write.
    A part of a file (a chunk of its lines) is given with the number of its ``first_line``, and
    ``checked=True`` when :func:`~stancebank.inputs.check_json_bytes` already ran over the file."""
    try:
        return _read_tables(files, given or {}, first_line, checked)
    except _Irregular:
        return None


def _read_tables(
    files: list[Path], given: Mapping[Path, bytes], first_line: int = 1, checked: bool = False
) -> dict[str, pd.DataFrame]:
    from stancebank.corpus import classify

    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLE_MODELS}
    for path in files:
        kind = classify(path)
        schema = _schema(kind)
        table, numbers, data = _read_file(path, schema, given.get(path), first_line, checked)
        name, length = str(path), table.num_rows
        lines = pa.array(np.asarray(numbers, dtype=np.int64) + (first_line - 1))
        columns: dict[str, Any] = {"_file": _constant(name, length), "_line": lines}
        for field_ in schema:
            if field_.name not in ("spans", "relations"):
                columns[field_.name] = table.column(field_.name)
        free = _free_values(table.column(_FREE) if _FREE in table.column_names else None, length)
        if free is None:
            lines_of = data.split(b"\n")
            free = _objects([json.loads(lines_of[n - 1]).get(_FREE) for n in numbers])
        columns[_FREE] = free
        parts[kind].append(_frame(kind, columns, length))
        if kind == "annotations":
            for key in ("spans", "relations"):
                parts[key].append(_nested(key, table, lines, name, data, numbers))
    return {
        name: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for name, frames in parts.items()
        if frames
    } | {name: _empty(name) for name, frames in parts.items() if not frames}


def _nested(
    key: str, table: pa.Table, lines: pa.Array, name: str, data: bytes, numbers: list[int]
) -> pd.DataFrame:
    lists = table.column(key).combine_chunks()
    if lists.null_count:
        raise _Irregular(f"{key}: null instead of a list")
    items = pc.list_flatten(lists)
    if items.null_count:
        raise _Irregular(f"{key}: null item")
    parents = pc.list_parent_indices(lists)
    columns: dict[str, Any] = {
        "_file": _constant(name, len(items)),
        "_line": pc.take(lines, parents),
        "annotation_id": pc.take(table.column("annotation_id"), parents),
        "article_id": pc.take(table.column("article_id"), parents),
    }
    children = dict(zip([str(f.name) for f in items.type], items.flatten(), strict=True))  # offsets applied
    renamed = {v: k for k, v in _RENAMED.get(key, {}).items()}
    for field_name, column in children.items():
        if field_name != _FREE:
            columns[renamed.get(field_name, field_name)] = column
    if _FREE in _dtypes(key):
        free = _free_values(children.get(_FREE), len(items))
        columns[_FREE] = free if free is not None else _objects(_nested_free(data, numbers, key))
    for column_name, dtype in _dtypes(key).items():
        if column_name not in columns:
            columns[column_name] = (
                [None] * len(items) if str(dtype) == "object" else _constant(None, len(items))
            )
    return _frame(key, columns, len(items))


def empty_table(table: str) -> pd.DataFrame:
    """A table without rows, with its model's columns and types."""
    return _empty(table)


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=str(dtype)) for name, dtype in _dtypes(table).items()})
