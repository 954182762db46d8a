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
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from schemas.errors import UnreadableInputError
from schemas.models import ORIGIN_COLUMNS, TABLE_MODELS
from stancebank.failures import Failure

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
    """Collects rows per table, checking keys and JSON types as it goes."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_MODELS}
        self.fields = {name: _record_fields(name) for name in TABLE_MODELS}
        self.failures: list[Failure] = []
        self.blanked: set[tuple[str, int, str]] = set()

    def add(
        self, table: str, record: dict[str, Any], origin: tuple[str, int], **derived: Any
    ) -> dict[str, Any]:
        fields = self.fields[table]
        renames = _RENAMED.get(table, {})
        row: dict[str, Any] = {"_file": origin[0], "_line": origin[1], **derived}
        index = len(self.rows[table])
        article_id = derived.get("article_id", record.get("article_id"))
        span_id = record.get("id") if table == "spans" else None
        for key, value in record.items():
            if key in ("spans", "relations") and table == "annotations":
                continue
            column = renames.get(key, key)
            if key not in fields:
                self._fail(origin, article_id, span_id, "unknown_field", key, value)
                continue
            if not _has_type(value, fields[key]):
                self._fail(origin, article_id, span_id, "wrong_type", key, value)
                self.blanked.add((table, index, column))
            row[column] = value if _has_type(value, fields[key]) else None
        self.rows[table].append(row)
        return row

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

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: _frame(name, rows) for name, rows in self.rows.items()}


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    if value is None:
        return True  # missing values are the schemas' business (required or nullable)
    if isinstance(value, bool) and bool not in types:
        return False  # JSON true is not an integer offset
    return isinstance(value, types)


def shorten(value: Any, limit: int = 80) -> str:
    """A value as text for a message, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = {}
    for name, dtype in _dtypes(table).items():
        values = [row.get(name) for row in rows]
        columns[name] = pd.Series(values, dtype=str(dtype))
    return pd.DataFrame(columns)


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for every non-blank line; unreadable input raises."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableInputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise UnreadableInputError(str(path), "is a directory, expected a .jsonl file") from None
    except OSError as exc:
        raise UnreadableInputError(str(path), f"cannot read: {exc.strerror}") from None
    if not data.strip():
        raise UnreadableInputError(str(path), "file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        raise UnreadableInputError(str(path), "starts with a UTF-8 byte-order mark; save without BOM", line=1)
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableInputError(
                str(path), f"not UTF-8 (byte {exc.start + 1} of the line)", line=number
            ) from None
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableInputError(
                str(path), f"invalid JSON: {exc.msg} at column {exc.colno}", line=number
            ) from None
        except RecursionError:
            raise UnreadableInputError(str(path), "JSON nested too deeply", line=number) from None


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


def read_corpus(paths: Iterable[Path | str]) -> Corpus:
    """Read data files (or directories) into a :class:`Corpus`; raises UnreadableInputError."""
    files = data_files(Path(p) for p in paths)
    builder = _Builder()
    for path in files:
        table = classify(path)
        name = str(path)
        for line, record in read_jsonl(path):
            origin = (name, line)
            if not isinstance(record, dict):
                builder._fail(origin, None, None, "wrong_type", "record", record)
                continue
            row = builder.add(table, record, origin)
            if table == "annotations":
                _add_nested(builder, record, row, origin)
    return Corpus(builder.frames(), builder.failures, builder.blanked, [str(f) for f in files])


def _add_nested(
    builder: _Builder, record: dict[str, Any], row: dict[str, Any], origin: tuple[str, int]
) -> None:
    derived = {"annotation_id": row.get("annotation_id"), "article_id": row.get("article_id")}
    for key, table in (("spans", "spans"), ("relations", "relations")):
        items = record.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            builder._fail(origin, row.get("article_id"), None, "wrong_type", key, items)
            continue
        for item in items:
            builder.add(table, item, origin, **derived)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(staging: Path, out: Path) -> None:
    """Replace the folder ``out`` by ``staging`` with renames only (the old copy is removed last)."""
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def dumps_jsonl(records: Iterable[dict[str, Any]]) -> str:
    """One compact JSON object per line, keys in the given order, non-ASCII kept readable."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
