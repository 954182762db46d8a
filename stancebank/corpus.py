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

import numpy as np
import pandas as pd

from schemas.errors import UnreadableInputError
from schemas.models import ORIGIN_COLUMNS, TABLE_MODELS
from stancebank.failures import Failure
from stancebank.files import dumps_jsonl, parse_json_line, replace_dir, write_atomic
from stancebank.inputs import check_json_bytes, open_input, read_input
from stancebank.scan import (
    BOM,
    BOM_MESSAGE,
    CHUNK_LINES,
    NO_ID,
    NON_BLANK,
    Scan,
    Scans,
    classify,
    data_files,
    empty_message,
)

#: pandera dtype class name -> the JSON types a record may carry for it.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "Text": (str,),  # schemas.dtypes.Text: STRING checked once per column
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
        raise UnreadableInputError(str(path), empty_message(path))
    if data.startswith(BOM):
        raise UnreadableInputError(str(path), BOM_MESSAGE, line=1)
    check_json_bytes(path, data)  # before any parser: depth and 64-bit integers
    yield from _parse_lines(path, data.split(b"\n"), 1)


def _parse_lines(path: Path, lines: Iterable[bytes], first: int) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of the non-blank ``lines`` (numbered from ``first``), the file's
    bounds already checked."""
    for number, raw in enumerate(lines, start=first):
        parsed = _parse_line(path, number, raw)
        if parsed is not _BLANK:
            yield number, parsed


_BLANK = object()


def _parse_line(path: Path, number: int, raw: bytes) -> Any:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(
            str(path), f"not UTF-8 (byte {exc.start + 1} of the line)", line=number
        ) from None
    return parse_json_line(path, number, line, checked=True) if line.strip() else _BLANK


def read_corpus(paths: Iterable[Path | str], *, fast: bool = True) -> Corpus:
    """Read data files (or directories) into a :class:`Corpus`; raises UnreadableInputError.

    Well-formed files are read with Arrow (:mod:`stancebank.fastread`); anything irregular, or
    ``fast=False``, goes through the careful reader below, which reports each problem with its line.
    """
    return _read_files(data_files(Path(p) for p in paths), fast=fast)


def _add_lines(builder: _Builder, table: str, name: str, lines: Iterable[tuple[int, Any]]) -> None:
    for line, record in lines:
        origin = (name, line)
        if not isinstance(record, dict):
            builder._fail(origin, None, None, "wrong_type", "record", record)
            continue
        builder.add(table, record, origin)
        if table == "annotations":
            _add_nested(builder, record, origin)


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


class Regroup(Exception):
    """An annotation line's id as parsed differs from the id its scan read (a key given twice, say):
    the chunks cannot be trusted to keep each id together; the caller reads the corpus whole."""


@dataclass
class ChunkData:
    """One chunk of an annotation file, not parsed yet (:func:`parse_chunk` parses it, here or in a
    worker process): its ``count`` lines numbered from ``first`` at the bytes ``span`` of the file, and
    the line numbers and id keys the scan read for them. ``data``: the chunk's bytes when they differ
    from the file's (lines of repeated ids are blanked there, left out of ``lines``, and read with the
    last chunk), else None: the bytes are read from the file where the chunk is parsed, so a worker
    receives a few numbers instead of the chunk."""

    path: Path
    data: bytes | None
    first: int
    count: int
    lines: np.ndarray
    keys: np.ndarray
    span: tuple[int, int]

    def content(self) -> bytes:
        """The chunk's bytes."""
        if self.data is not None:
            return self.data
        return _read_span(self.path, *self.span)


@dataclass
class ChunkedCorpus:
    """A corpus read in pieces: the articles and targets whole, the annotation files as a stream of
    chunks (:class:`Corpus` objects holding annotations, spans and relations only).

    Every chunk holds all the lines of each of its annotation ids: a line whose id occurs on another
    line too (anywhere in the annotation files; an id repeated is always a failure) is held back and
    read with the others of its id in a last chunk. Rows keep their file and line, so a failure found
    in a chunk is the one the whole corpus gives.
    """

    side: Corpus
    files: list[str]
    #: the chunks before parsing (the last one, of held-back lines, already parsed); read once
    pieces: Iterator[ChunkData | Corpus]

    @property
    def chunks(self) -> Iterator[Corpus]:
        """The chunks, parsed here as they are reached (the pieces are consumed)."""
        return (chunk for chunk in map(parse_chunk, self.pieces) if chunk is not None)


def read_chunked(
    paths: Iterable[Path | str], chunk_lines: int = CHUNK_LINES, *, spread: int = 1
) -> ChunkedCorpus:
    """Read data files (or directories) as a :class:`ChunkedCorpus` of at most ``chunk_lines``
    annotation lines per chunk (``spread``: the workers that will take the chunks, see
    :meth:`Scan.chunks`). Raises UnreadableInputError as :func:`read_corpus` would (the chunks raise it when
    they reach the file), :class:`Regroup` while iterating if the ids cannot be grouped."""
    if chunk_lines < 1:
        raise ValueError("chunk_lines must be at least 1")
    files = data_files(Path(p) for p in paths)
    names = [str(f) for f in files]
    side_files = [f for f in files if classify(f) != "annotations"]
    annotation_files = [f for f in files if classify(f) == "annotations"]
    # in a forked process while the articles are read, when large
    scans = Scans.of(annotation_files, chunk_lines)
    try:
        side = _read_files(side_files)
    except BaseException as exc:
        scans.close()
        if isinstance(exc, UnreadableInputError):
            _raise_earlier(files, annotation_files, exc)
        raise
    side.files = names
    return ChunkedCorpus(side, names, _pieces(annotation_files, chunk_lines, names, scans, spread))


def _read_files(files: list[Path], *, fast: bool = True) -> Corpus:
    """:func:`read_corpus` of exactly these files (none added)."""
    if fast:
        from stancebank.fastread import read_tables

        tables = read_tables(files)
        if tables is not None:
            return Corpus(tables, [], set(), [str(f) for f in files])
    builder = _Builder()
    for path in files:
        _add_lines(builder, classify(path), str(path), read_jsonl(path))
    names = [str(f) for f in files]
    return Corpus(builder.frames(names), builder.failures, builder.blanked, names)


def _raise_earlier(files: list[Path], annotation_files: list[Path], exc: UnreadableInputError) -> None:
    """An annotation file listed before the unreadable article or target file raises first, as in
    :func:`read_corpus`, which reads the files in their order."""
    where = next((i for i, f in enumerate(files) if str(f) == exc.path), len(files))
    for path in annotation_files:
        if files.index(path) < where:
            for _ in read_jsonl(path):
                pass


def _split(block: bytes) -> list[bytes]:
    """The lines of a block (a final line break ends the last line, it starts no new one)."""
    return (block[:-1] if block.endswith(b"\n") else block).split(b"\n")


def _id_key(value: Any) -> int:
    return hash(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else NO_ID


def _repeated(scans: list[Scan]) -> set[int]:
    keys = np.concatenate([scan.keys for scan in scans]) if scans else np.zeros(0, np.int64)
    found, counts = np.unique(keys, return_counts=True)
    return set(found[counts > 1].tolist())


def _pieces(
    files: list[Path], size: int, names: list[str], found: Scans, spread: int = 1
) -> Iterator[ChunkData | Corpus]:
    """The chunks of the annotation files (where their bytes are, see :class:`ChunkData`; cut for
    ``spread`` workers, see :meth:`Scan.chunks`), after a first
    pass over them (:func:`_scan`: here, when the first chunk is asked for, or in a process forked
    beforehand) that found each chunk's lines; last, the lines of repeated ids, parsed."""
    scans = found.result()
    repeated = _repeated(scans)
    held: list[tuple[dict[str, Any], tuple[str, int]]] = []  # lines of repeated ids, parsed, in order
    keys: dict[tuple[str, int], int] = {}  # their keys as the scan read them
    for path, scan in zip(files, scans, strict=True):
        if scan.error is not None:
            raise scan.error
        for first, lines, *span in scan.chunks(size, spread):
            data = None
            if repeated:
                given = _read_span(path, *span)
                data = _hold(path, scan, repeated, given, first, (held, keys))
                data = None if data is given else data
            yield _data(path, data, first, lines, scan, repeated, (span[0], span[1]))
    if held:
        chunk = corpus_from_records({"annotations": held}, names)
        _verify(chunk, keys)
        yield chunk


def _read_span(path: Path, start: int, end: int) -> bytes:
    """The bytes ``start:end`` of a file the scan read (refused if it has changed size since)."""
    with open_input(path, "a .jsonl file") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    if len(data) != end - start:
        raise UnreadableInputError(str(path), "the file changed while it was read")
    return data


def _hold(
    path: Path,
    scan: Scan,
    repeated: set[int],
    block: bytes,
    start: int,
    into: tuple[list[tuple[dict[str, Any], tuple[str, int]]], dict[tuple[str, int], int]],
) -> bytes:
    """The block with the lines of repeated ids blanked; those lines parsed now (an unreadable one
    raises in its turn) and added to ``held``."""
    found = _split(block)
    at, upto = np.searchsorted(scan.lines, [start, start + len(found)])
    chosen = np.isin(scan.keys[at:upto], list(repeated))
    if not chosen.any():
        return block
    held, keys = into
    for number, key in zip(
        scan.lines[at:upto][chosen].tolist(), scan.keys[at:upto][chosen].tolist(), strict=True
    ):
        parsed = _parse_line(path, number, found[number - start])
        if parsed is not _BLANK:
            held.append((parsed, (str(path), number)))
            keys[str(path), number] = key
        found[number - start] = b""
    return b"\n".join(found) + (b"\n" if block.endswith(b"\n") else b"")


def _data(
    path: Path,
    data: bytes | None,
    first: int,
    count: int,
    scan: Scan,
    repeated: set[int],
    span: tuple[int, int],
) -> ChunkData:
    at, upto = np.searchsorted(scan.lines, [first, first + count])
    lines, keys = scan.lines[at:upto], scan.keys[at:upto]
    if repeated:
        kept = ~np.isin(keys, list(repeated))
        lines, keys = lines[kept], keys[kept]
    return ChunkData(path, data, first, count, lines, keys, span)


def parse_chunk(item: ChunkData | Corpus) -> Corpus | None:
    """A chunk's rows (held-back lines blanked), if it holds a line; raises :class:`Regroup` when an id
    reads differently than the scan read it."""
    from stancebank.fastread import read_tables

    if isinstance(item, Corpus):
        return item
    data = item.content()
    if NON_BLANK.search(data) is None:  # data.strip() would copy it
        return None
    path, name = item.path, str(item.path)
    tables = read_tables([path], {path: data}, first_line=item.first, checked=True)
    if tables is not None:
        chunk = Corpus(tables, [], set(), [name])
    else:
        builder = _Builder()
        _add_lines(builder, "annotations", name, _parse_lines(path, _split(data), item.first))
        chunk = Corpus(builder.frames([name]), builder.failures, builder.blanked, [name])
    _verify_lines(chunk, name, item.lines, item.keys)
    return chunk


def _verify_lines(chunk: Corpus, name: str, lines: np.ndarray, keys: np.ndarray) -> None:
    """:func:`_verify` of a chunk of one file, column-wise: ``lines`` (sorted) and their ``keys`` as the
    scan read them."""
    frame = chunk.tables["annotations"]
    if not len(frame):
        return
    at = frame["_line"].to_numpy(dtype=np.int64)
    found = np.minimum(np.searchsorted(lines, at), max(len(lines) - 1, 0))
    values = frame["annotation_id"].tolist()
    got = np.fromiter((_id_key(value) for value in values), dtype=np.int64, count=len(values))
    same = (lines[found] == at) & (keys[found] == got) if len(lines) else np.zeros(len(at), dtype=bool)
    if not same.all() or (frame["_file"] != name).any():
        _verify(chunk, {(name, line): key for line, key in zip(lines.tolist(), keys.tolist(), strict=True)})


def _verify(chunk: Corpus, expected: dict[tuple[str, int], int]) -> None:
    """Each annotation row's id has the key its line was grouped by."""
    frame = chunk.tables["annotations"]
    columns = (frame["_file"].tolist(), frame["_line"].tolist(), frame["annotation_id"].tolist())
    for file, line, value in zip(*columns, strict=True):
        if expected.get((str(file), int(line))) != _id_key(value):
            raise Regroup(f"{file}:{line}: annotation id read differently by the scan")


__all__ = [
    "CHUNK_LINES",
    "ChunkData",
    "ChunkedCorpus",
    "Corpus",
    "Regroup",
    "dumps_jsonl",
    "parse_chunk",
    "read_chunked",
    "read_corpus",
    "read_jsonl",
    "replace_dir",
    "shorten",
    "write_atomic",
]
