"""Run every schema rule over a corpus and turn pandera's failure cases into report rows."""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import pandas as pd
import pandera.errors

from schemas.crosstable import CROSS_TABLE_MODELS, annotation_tables, joined_tables, prepare_articles
from schemas.errors import InvalidDataError
from schemas.models import TABLE_MODELS, contradicted_attributes, foreign_attributes, missing_attributes
from schemas.rules import BUILTIN_RULES as _BUILTIN_RULES
from schemas.rules import FIRST_NAMED, UNIQUE_KEYS
from schemas.rules import ROW_RULE_FIELDS as _ROW_RULE_FIELDS
from stancebank import parallel
from stancebank.corpus import (
    CHUNK_LINES,
    ChunkData,
    Corpus,
    Regroup,
    classify,
    parse_chunk,
    read_chunked,
    read_corpus,
)
from stancebank.failures import Failure
from stancebank.scan import data_files, input_bytes

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


def check_valid(
    paths: Iterable[Path | str], sink: ChunkSink | None = None, *, jobs: int | None = None
) -> None:
    """:func:`load_valid` without keeping the corpus: the annotations are read in chunks (memory flat in
    their size), the same failures refuse the data. ``sink``, ``jobs``: see :func:`validate_paths`."""
    failures, _, _ = validate_paths(paths, sink=sink, jobs=jobs)
    if failures:
        raise InvalidDataError([f._asdict() for f in failures])


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
    return [failure for _, _, failure in _ranked(model, frame, table, blanked)]


#: Where a failure of one pandera check sits in the failure table of one model's validation.
Rank = tuple[int, int, int]


def _ranked(
    model: Any, frame: pd.DataFrame, table: str, blanked: set[tuple[str, int, str]]
) -> list[tuple[Rank, int | None, Failure]]:
    """:func:`_run` with each failure's rank (the position of its check in pandera's report: the
    dataframe-wide checks first, then column by column, see :func:`_rank`) and its row index."""
    try:
        model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    columns = {name: i for i, name in enumerate(model.to_schema().columns)}
    failures: list[tuple[Rank, int | None, Failure]] = []
    seen: set[tuple[str, int | None]] = set()
    originals: dict[str, dict[Any, tuple[str, int]]] = {}
    for case in cases.itertuples(index=False):
        column = None if pd.isna(case.column) or case.column == model.__name__ else str(case.column)
        index = None if pd.isna(case.index) else int(case.index)
        rule = rule_name(str(case.check), column)
        rank = _rank(case, columns)
        if case.check == "not_nullable" and (table, index, column) in blanked:
            continue  # the reader already reported this cell as wrong_type
        if rule in _ROW_RULE_FIELDS:
            if (rule, index) in seen:
                continue
            seen.add((rule, index))
            at_fault = _attribute_columns(frame, index, rule)
            failure = _locate(frame, table, index, rule, at_fault, _row_value(frame, index, rule))
        else:
            value = _show(case.failure_case)
            if rule in FIRST_NAMED and index is not None and value is not None:
                if rule not in originals:
                    originals[rule] = _originals(frame, UNIQUE_KEYS[rule][0])
                value = first_at(value, *originals[rule][frame.at[index, UNIQUE_KEYS[rule][0]]])
            failure = _locate(frame, table, index, rule, column, value)
        failures.append((rank, index, failure))
    return failures


def _originals(frame: pd.DataFrame, key: str) -> dict[Any, tuple[str, int]]:
    """Each value of ``key`` -> the file and line of its first row (the original a repeat is flagged
    against)."""
    first = frame.drop_duplicates(key, keep="first")
    places = zip(first["_file"].astype(str).tolist(), first["_line"].astype(int).tolist(), strict=True)
    return dict(zip(first[key].tolist(), places, strict=True))


def first_at(value: str | None, file: str, line: int) -> str:
    """A repeated id's value with where its original is (both engines)."""
    return f"{value} (first at {file}:{line})"


_FIRST_AT = re.compile(r"(?P<value>.*) \(first at (?P<file>.*):(?P<line>\d+)\)", re.S)


def original_of(value: str) -> tuple[str, str | None]:
    """(the repeated value, the file its original is in) of a :func:`first_at` value (no file: not one)."""
    found = _FIRST_AT.fullmatch(value)
    return (found["value"], found["file"]) if found else (value, None)


#: Column checks pandera runs before a column's own checks, in its order.
_CORE_CHECKS = {"not_nullable": 0, "field_uniqueness": 1}


def _rank(case: Any, columns: dict[str, int]) -> Rank:
    """The order pandera reports a check's failures in: it runs the container's checks, each column's
    (nullable, unique, dtype, then its checks by number) in the schema's column order, then the
    dataframe-wide checks by number, and lists the dataframe-level ones first (a stable sort on the
    schema context). Within a check, failures are in row order."""
    number = -1 if pd.isna(case.check_number) else int(case.check_number)
    if case.schema_context != "Column":
        return (0, 0, number)
    check = str(case.check)
    core = _CORE_CHECKS.get(check, 2 if check.startswith("dtype(") else 3)
    return (1, columns.get(str(case.column), len(columns)), core + 1 + number if core == 3 else core)


@dataclass
class Checked:
    """What the rules found in one chunk: rows per table, the reader's failures, and each rule failure
    with its section, rank and position (see :class:`Validation`)."""

    rows: dict[str, int]
    reader: list[Failure]
    found: list[tuple[str, Rank, tuple[int, int, int], Failure]]


class Validation:
    """Every rule over a corpus given in pieces: the articles and targets once (their rules run, the
    article side of the cross-table rules is prepared), then chunks of annotations, each holding every
    row of its annotation ids (see :func:`stancebank.corpus.read_chunked`). :meth:`failures` is the
    failure table :func:`validate_corpus` gives the whole corpus, in the same order.

    In memory: the articles and targets with their prepared side, the failures, one chunk at a time.
    """

    def __init__(self, side: Corpus, files: list[str]) -> None:
        self.order = {name: i for i, name in enumerate(files)}
        self.side = prepare_articles(side.tables["articles"], side.tables["targets"])
        self.reader = list(side.failures)
        self.head: list[Failure] = []
        for table in ("articles", "targets"):
            self.head += _run(TABLE_MODELS[table], side.tables[table], table, side.blanked)
        self.target_links = _run(CROSS_TABLE_MODELS["TargetLinks"], self.side.target_links, "targets", set())
        self.sections: dict[str, list[tuple[Rank, tuple[int, int, int], Failure]]] = {
            name: [] for name in _CHUNKED
        }
        self.rows = {name: len(frame) for name, frame in side.tables.items()}

    def add(self, chunk: Corpus) -> list[Failure]:
        """Run the rules over one chunk of annotations; returns its failures (reader's, then in the
        order of the table)."""
        return self.take(self.check(chunk))

    def check(self, chunk: Corpus | None) -> Checked:
        """The rules over one chunk, without adding their failures yet (see :meth:`take`): what a worker
        process computes and hands back."""
        if chunk is None:
            return Checked({}, [], [])
        tables = chunk.tables
        runs: list[tuple[str, Any, pd.DataFrame, str, set[tuple[str, int, str]]]] = [
            (name, TABLE_MODELS[name], tables[name], name, chunk.blanked) for name in _CHUNK_TABLES
        ]
        joined = annotation_tables(self.side, tables["annotations"], tables["spans"], tables["relations"])
        runs += [
            (family, CROSS_TABLE_MODELS[family], frame, table, set())
            for family, (table, frame) in joined.items()
        ]
        found = [
            (section, rank, self._position(failure, index), failure)
            for section, model, frame, table, blanked in runs
            for rank, index, failure in _ranked(model, frame, table, blanked)
        ]
        return Checked({name: len(tables[name]) for name in _CHUNK_TABLES}, list(chunk.failures), found)

    def take(self, checked: Checked) -> list[Failure]:
        """Add one checked chunk's rows and failures; returns its failures (reader's, then in the order
        of the table)."""
        for name, n in checked.rows.items():
            self.rows[name] += n
        self.reader += checked.reader
        for section, rank, position, failure in checked.found:
            self.sections[section].append((rank, position, failure))
        return [*checked.reader, *(failure for *_, failure in checked.found)]

    def _position(self, failure: Failure, index: int | None) -> tuple[int, int, int]:
        """Where the failure's row sits in the whole table: (file, line, row in the chunk), as every
        row of a line is in one chunk and a chunk keeps its rows in file order."""
        if index is None or failure.line is None:
            return (-1, -1, -1)
        return (self.order.get(failure.file, len(self.order)), failure.line, index)

    def failures(self) -> list[Failure]:
        """The failure table of the corpus so far: reader failures, then every rule's, as
        :func:`validate_corpus` orders them."""
        order = self.order
        reader = sorted(self.reader, key=lambda f: (order.get(f.file, len(order)), f.line or 0))
        out = [*reader, *self.head]
        for name in _CHUNKED:
            if name == "AnnotationLinks":
                out += self.target_links
            out += _merged(self.sections[name])
        return out


_CHUNK_TABLES = ("annotations", "spans", "relations")
#: Sections of the failure table filled chunk by chunk, in the table's order (TargetLinks, run once,
#: comes before AnnotationLinks).
_CHUNKED = (*_CHUNK_TABLES, "AnnotationLinks", "SpanInArticle", "SpanAttributes", "RelationEnds")


def _merged(found: list[tuple[Rank, tuple[int, int, int], Failure]]) -> list[Failure]:
    """One section's failures from every chunk in the order of one validation: by check, then row;
    a failure without a row (about the table, not a row) once."""
    out: list[Failure] = []
    once: set[tuple[Rank, Failure]] = set()
    for rank, position, failure in sorted(found, key=lambda item: (item[0], item[1])):
        if position[0] < 0:
            if (rank, failure) in once:
                continue
            once.add((rank, failure))
        out.append(failure)
    return out


class ChunkSink(Protocol):
    """What a validation hands on as it reads, so that a caller (the export) needs not read again."""

    def side(self, tables: dict[str, pd.DataFrame]) -> None:
        """The articles and targets, before any chunk."""

    def chunk(self, tables: dict[str, pd.DataFrame] | None) -> None:
        """The annotations, spans and relations of one chunk, once checked (``None``: forget every chunk
        so far; the whole corpus follows as one chunk)."""

    def spill(self, number: int, tables: dict[str, pd.DataFrame]) -> Any:
        """:meth:`chunk` in a worker process (the sink as it was when the workers were forked): keep
        chunk ``number``'s tables where this process can read them (a file), and return what it needs
        to know of them now (small: it is sent back)."""

    def spilled(self, number: int, kept: Any) -> None:
        """In this process, in chunk order: what :meth:`spill` returned for chunk ``number``."""


#: Annotation bytes from which ``validate`` parses and checks its chunks in worker processes (below,
#: forking costs more than it saves).
PARALLEL_BYTES = 32 << 20


def validate_paths(
    paths: Iterable[Path | str],
    chunk_lines: int = CHUNK_LINES,
    *,
    ahead: bool = True,
    sink: ChunkSink | None = None,
    jobs: int | None = None,
) -> tuple[list[Failure], dict[str, int], list[str]]:
    """Validate data files (or directories) reading the annotations in chunks of ``chunk_lines``
    lines: the failure table of :func:`validate_corpus` on the whole corpus, the rows read per table,
    and the files. Memory stays flat in the annotation files' size (see :class:`Validation`).
    ``sink``: handed the articles and targets, then each chunk's annotations, spans and relations after
    its check, so that a caller (the export) needs not read the files again. ``jobs``: processes that
    parse and check chunks side by side (default: the cores this process may use, for annotation files
    of :data:`PARALLEL_BYTES` or more; a sink then keeps each chunk from the worker, see
    :meth:`ChunkSink.spill`); the result is the same for any number."""
    paths = list(paths)
    try:
        files = data_files(Path(p) for p in paths)  # listed once: the read takes the list as it is
        workers = _workers(jobs, files) if ahead else 1
        read = read_chunked(files, chunk_lines, spread=workers)
        if sink is not None:
            sink.side({name: read.side.tables[name] for name in ("articles", "targets")})
        if workers > 1:
            validation = Validation(read.side, read.files)
            with parallel.OrderedPool(workers, {"validation": validation, "sink": sink}) as pool:
                for number, done in enumerate(pool.map(_check_in_worker, _in_order(read.pieces))):
                    if isinstance(done, _Raise):
                        raise done.error
                    validation.take(done.checked)
                    if sink is not None and done.kept is not None:
                        sink.spilled(number, done.kept[0])
            return validation.failures(), validation.rows, read.files
        with _ReadAhead(read.chunks) if ahead else nullcontext(read.chunks) as chunks:
            validation = Validation(read.side, read.files)  # while the scan and first chunk are read
            for chunk in chunks:
                validation.add(chunk)
                if sink is not None:
                    sink.chunk({name: chunk.tables[name] for name in _CHUNK_TABLES})
    except Regroup:  # an id read two ways (a key given twice): the whole corpus at once
        corpus = read_corpus(paths)
        if sink is not None:
            sink.chunk(None)
            sink.chunk({name: corpus.tables[name] for name in _CHUNK_TABLES})
        return validate_corpus(corpus), {n: len(f) for n, f in corpus.tables.items()}, corpus.files
    return validation.failures(), validation.rows, read.files


def _workers(jobs: int | None, files: list[Path]) -> int:
    jobs = jobs or parallel.usable_cores()
    size = input_bytes([f for f in files if classify(f) == "annotations"])
    return jobs if jobs > 1 and size >= PARALLEL_BYTES else 1


@dataclass
class _Raise:
    """An error the chunks raised while being cut (a file's turn, a held-back line): raised by the caller
    when its turn comes, after every chunk before it, as reading them one by one would."""

    error: BaseException


def _in_order(pieces: Iterator[ChunkData | Corpus]) -> Iterator[tuple[int, ChunkData | Corpus] | _Raise]:
    """The pieces with their numbers; an error raised while they are cut ends them, in its turn."""
    try:
        yield from enumerate(pieces)
    except Exception as exc:
        yield _Raise(exc)


@dataclass
class _Done:
    """A chunk checked in a worker: its failures, and what the sink kept of it (None: no rows)."""

    checked: Checked
    kept: tuple[Any] | None = None


def _check_in_worker(item: tuple[int, ChunkData | Corpus] | _Raise) -> _Done | _Raise:
    """Parse and check one chunk in a worker (the validation with its article side, and the sink, are
    inherited); the sink keeps the chunk's tables."""
    if isinstance(item, _Raise):
        return item
    number, piece = item
    shared = parallel.state()
    validation: Validation = shared["validation"]
    sink: ChunkSink | None = shared["sink"]
    # No trim of the heap between chunks: chunks are bounded (CHUNK_LINES lines), so a worker holds its
    # largest chunk's memory at most, and the next chunk reuses those pages instead of faulting fresh ones
    # in (trimming after each chunk cost the 100k benchmark ≈ 0.3 s of validate, ≈ 80 MiB less).
    chunk = parse_chunk(piece)
    done = _Done(validation.check(chunk))
    if sink is not None and chunk is not None:
        done.kept = (sink.spill(number, {name: chunk.tables[name] for name in _CHUNK_TABLES}),)
    return done


class _ReadAhead:
    """The chunks, read in a thread from the moment this is made (the scan of the annotation files and
    the first chunks while the caller prepares the articles; the next chunk while the current one is
    checked: Arrow's parser and the numpy work release the GIL, so reading and checking overlap on two
    cores). At most two chunks wait at once. A context manager: leaving it stops and joins the thread."""

    _END = object()

    def __init__(self, chunks: Iterator[Corpus]) -> None:
        self.chunks = chunks
        self.tokens = threading.Semaphore(2)
        self.handoff: queue.Queue[Any] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, name="stancebank-read-ahead", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                while not self.tokens.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if self.stop.is_set():
                    return
                item = next(self.chunks, self._END)
                self.handoff.put(item)
                if item is self._END:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self.handoff.put(exc)

    def __iter__(self) -> Iterator[Corpus]:
        while True:
            item = self.handoff.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            self.tokens.release()

    def __enter__(self) -> _ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


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
