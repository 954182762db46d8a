"""Read the project's JSONL data files into the five tables (and write them back, atomically).

Layout of a data directory::

    articles.jsonl            one article per line
    targets.jsonl             one target per line
    annotations/*.jsonl       one annotation (annotator x task) per line, spans and relations nested

A file given on its own is classified by name: ``articles*.jsonl``, ``targets*.jsonl``, anything else
is an annotation file. Structural problems that JSON can express but the tables cannot (unknown field,
wrong JSON type) become :class:`Failure` rows here; every other rule is the schemas' job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from schemas.errors import UnreadableInputError
from schemas.models import ORIGIN_COLUMNS, TABLE_MODELS
from stancebank.failures import Failure
from stancebank.files import dumps_jsonl, parse_json_line, replace_dir, write_atomic
from stancebank.inputs import check_json_bytes, read_input

#: pandera dtype class name -> the JSON types a record may carry for it.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "INT64": (int,),
    "BOOL": (bool,),
    "Object": (dict,),
}
#: Fields a record may not carry because the reader derives them from its position.
_DERIVED = {"spans": {"annotation_id", "article_id"}, "relations": {"annotation_id", "article_id"}}
#: Record key -> column, where they differ.
_RENAMED = {"spans": {"id": "span_id"}}


def _dtypes(table: str) -> dict[str, Any]:
    schema = TABLE_MODELS[table].to_schema()
    return {name: column.dtype for name, column in schema.columns.items()}


#: Object columns that hold a JSON list rather than an object.
_LISTS = {("annotations", "unannotated")}


def _record_fields(table: str) -> dict[str, tuple[type, ...]]:
    """JSON key -> the JSON types allowed for it in the records of ``table``."""
    renamed = {column: key for key, column in _RENAMED.get(table, {}).items()}
    return {
        renamed.get(name, name): (list,) if (table, name) in _LISTS else _JSON_TYPES[type(dtype).__name__]
        for name, dtype in _dtypes(table).items()
        if name not in ORIGIN_COLUMNS and name not in _DERIVED.get(table, set())
    }


@dataclass
class Corpus:
    """The five tables plus the reader's own failures."""

    tables: dict[str, pd.DataFrame]
    failures: list[Failure] = field(default_factory=list)
    #: (table, row index, column) of cells blanked because their JSON type was wrong.
    blanked: set[tuple[str, int, str]] = field(default_factory=set)
    files: list[str] = field(default_factory=list)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


class _Builder:
    """Collects records per table; checks keys as it goes and JSON types column by column at the end.

    Rows are kept as the parsed records (no copy per row); :meth:`frames` builds each column with one
    list comprehension and checks its types with ``type(value) in allowed`` (exact JSON types: ``true``
    is not an integer offset), so reading costs little more than parsing.
    """

    def __init__(self) -> None:
        # per table: the records, where each came from, and the fields derived from its position
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_MODELS}
        self.origins: dict[str, list[tuple[str, int]]] = {name: [] for name in TABLE_MODELS}
        self.derived: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_MODELS}
        self.fields = {name: _record_fields(name) for name in TABLE_MODELS}
        nested = {"annotations": {"spans", "relations"}}
        self.keys = {name: set(fields) | nested.get(name, set()) for name, fields in self.fields.items()}
        self.failures: list[Failure] = []
        self.blanked: set[tuple[str, int, str]] = set()

    def add(self, table: str, record: dict[str, Any], origin: tuple[str, int], **derived: Any) -> None:
        self.add_many(table, [record], origin, derived)

    def add_many(
        self, table: str, records: list[dict[str, Any]], origin: tuple[str, int], derived: dict[str, Any]
    ) -> None:
        """Records of one line (an annotation's spans, say): one key check for all of them."""
        allowed = self.keys[table]
        if records and not allowed.issuperset(set().union(*(r.keys() for r in records))):
            for record in records:
                article_id = derived.get("article_id", record.get("article_id"))
                span_id = record.get("id") if table == "spans" else None
                for key, value in record.items():
                    if key not in allowed:
                        self._fail(origin, article_id, span_id, "unknown_field", key, value)
        self.records[table] += records
        self.origins[table] += [origin] * len(records)
        self.derived[table] += [derived] * len(records)

    def _fail(
        self,
        origin: tuple[str, int],
        article_id: Any,
        span_id: Any,
        rule: str,
        column: str,
        value: Any,
    ) -> None:
        self.failures.append(
            Failure(
                origin[0],
                origin[1],
                article_id if isinstance(article_id, str) else None,
                span_id if isinstance(span_id, str) else None,
                rule,
                column,
                shorten(value),
            )
        )

    def frames(self, files: list[str]) -> dict[str, pd.DataFrame]:
        frames = {name: self._frame(name) for name in self.records}
        order = {name: i for i, name in enumerate(files)}
        self.failures.sort(key=lambda f: (order.get(f.file, len(order)), f.line or 0))
        return frames

    def _frame(self, table: str) -> pd.DataFrame:
        records, origins, derived = self.records[table], self.origins[table], self.derived[table]
        keys = {column: key for key, column in _RENAMED.get(table, {}).items()}
        columns = {}
        for name, dtype in _dtypes(table).items():
            if name == "_file":
                values: list[Any] = [origin[0] for origin in origins]
            elif name == "_line":
                values = [origin[1] for origin in origins]
            elif name in _DERIVED.get(table, set()):
                values = [given[name] for given in derived]
            else:
                key = keys.get(name, name)
                values = [record.get(key) for record in records]
                allowed = {*self.fields[table][key], type(None)}
                if not allowed.issuperset(map(type, values)):  # the rare slow path: find and blank them
                    for index in [i for i, v in enumerate(values) if type(v) not in allowed]:
                        record = records[index]
                        article_id = derived[index].get("article_id", record.get("article_id"))
                        span_id = record.get("id") if table == "spans" else None
                        self._fail(origins[index], article_id, span_id, "wrong_type", key, values[index])
                        self.blanked.add((table, index, name))
                        values[index] = None
            columns[name] = pd.Series(values, dtype=str(dtype))
        return pd.DataFrame(columns)


def shorten(value: Any, limit: int = 80) -> str:
    """A value as text for a message, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for every non-blank line; unreadable input raises."""
    data = read_input(path, "a .jsonl file")
    if not data.strip():
        raise UnreadableInputError(str(path), "file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        raise UnreadableInputError(str(path), "starts with a UTF-8 byte-order mark; save without BOM", line=1)
    check_json_bytes(path, data)  # before any parser: depth and 64-bit integers
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableInputError(
                str(path), f"not UTF-8 (byte {exc.start + 1} of the line)", line=number
            ) from None
        if line.strip():
            yield number, parse_json_line(path, number, line, checked=True)


def classify(path: Path) -> str:
    """Which table a file holds, from its name."""
    name = path.name
    if name.startswith("articles"):
        return "articles"
    if name.startswith("targets"):
        return "targets"
    return "annotations"


def data_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their data files; add the article/target files a lone file needs."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = [path / "articles.jsonl", path / "targets.jsonl"]
            found += sorted((path / "annotations").glob("**/*.jsonl"))
            present = [f for f in found if f.exists()]
            if not present:
                raise UnreadableInputError(
                    str(path), "no data files (articles.jsonl, targets.jsonl, annotations/*.jsonl)"
                )
            files += present
        else:
            files.append(path)
    kinds = {classify(f) for f in files}
    for needed in ("articles", "targets"):
        if needed not in kinds:
            files += _nearest(files, f"{needed}.jsonl")
    return list(dict.fromkeys(files))


def _nearest(files: list[Path], name: str) -> list[Path]:
    for file in files:
        for folder in file.resolve().parents:
            if (folder / name).exists():
                return [folder / name]
    return []


def read_corpus(paths: Iterable[Path | str], *, fast: bool = True) -> Corpus:
    """Read data files (or directories) into a :class:`Corpus`; raises UnreadableInputError.

    Well-formed files are read with Arrow (:mod:`stancebank.fastread`); anything irregular, or
    ``fast=False``, goes through the careful reader below, which reports each problem with its line.
    """
    files = data_files(Path(p) for p in paths)
    if fast:
        from stancebank.fastread import read_tables

        tables = read_tables(files)
        if tables is not None:
            return Corpus(tables, [], set(), [str(f) for f in files])
    builder = _Builder()
    for path in files:
        table = classify(path)
        name = str(path)
        for line, record in read_jsonl(path):
            origin = (name, line)
            if not isinstance(record, dict):
                builder._fail(origin, None, None, "wrong_type", "record", record)
                continue
            builder.add(table, record, origin)
            if table == "annotations":
                _add_nested(builder, record, origin)
    names = [str(f) for f in files]
    return Corpus(builder.frames(names), builder.failures, builder.blanked, names)


def corpus_from_records(
    records: dict[str, list[tuple[dict[str, Any], tuple[str, int]]]], files: list[str]
) -> Corpus:
    """A :class:`Corpus` from records already in memory (table -> (record, (file, line))), read exactly
    as :func:`read_corpus` reads them from files: an importer validates its output chunk by chunk."""
    builder = _Builder()
    for table in ("articles", "targets", "annotations"):
        for record, origin in records.get(table, []):
            builder.add(table, record, origin)
            if table == "annotations":
                _add_nested(builder, record, origin)
    return Corpus(builder.frames(files), builder.failures, builder.blanked, files)


def _add_nested(builder: _Builder, record: dict[str, Any], origin: tuple[str, int]) -> None:
    derived = {
        key: value if isinstance(value, str) else None
        for key in ("annotation_id", "article_id")
        for value in [record.get(key)]
    }
    for key, table in (("spans", "spans"), ("relations", "relations")):
        items = record.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            builder._fail(origin, derived["article_id"], None, "wrong_type", key, items)
            continue
        builder.add_many(table, items, origin, derived)


__all__ = ["Corpus", "dumps_jsonl", "read_corpus", "read_jsonl", "replace_dir", "shorten", "write_atomic"]
