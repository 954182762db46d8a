"""Validating pulled annotations chunk by chunk against the rest of data/ (read once).

The rest of data/ (articles, targets and any other annotation files) is validated once; then each chunk
of converted annotations (about 5,000, never cutting between two lines with the same annotation id:
the lines come sorted by id, so a duplicate id is always in one chunk) is validated with it: the
annotation, span and relation rules and the cross-table rules that concern them, in the order
:func:`stancebank.validate.validate_corpus` runs them, so a chunk gets exactly the failures the whole
file would get. The article side of the cross-table rules (texts, id indexes) is prepared once. In memory:
the rest of data/ as tables, one chunk, and the rejects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from annotate import convert
from annotate.server import StudioError
from schemas.crosstable import CROSS_TABLE_MODELS, ArticleSide, joined_tables, prepare_articles
from schemas.errors import InvalidDataError
from schemas.models import TABLE_MODELS
from schemas.rules import FIRST_NAMED
from stancebank.corpus import Corpus, corpus_from_records
from stancebank.failures import Failure
from stancebank.fastread import read_tables
from stancebank.validate import _run, original_of, validate_corpus

#: Converted lines validated at a time by one worker (each holds its chunk's tables at its peak: 2,500
#: keep a 100k-task pull's processes under 830 MB together, at about 5 % more time than 5,000).
CHUNK = 2_500
_PULLED = ("annotations", "spans", "relations")  # the tables a pulled file fills


def check_base(base: Corpus) -> ArticleSide:
    """The rest of data/ must be valid on its own (a failure there is not the pull's to reject).
    Returns the article side of the cross-table rules, prepared once for every chunk (:func:`checked`)."""
    failures = validate_corpus(base)
    if failures:
        raise InvalidDataError([f._asdict() for f in failures])
    return prepare_articles(base.tables["articles"], base.tables["targets"])


def chunks(lines: Iterable[bytes], size: int = CHUNK) -> Iterator[list[bytes]]:
    """Lines (sorted by annotation id) in chunks of about ``size``, never splitting equal ids."""
    chunk: list[bytes] = []
    last: bytes | None = None
    for line in lines:
        key = _annotation_id(line)
        if len(chunk) >= size and key != last:
            yield chunk
            chunk = []
        chunk.append(line)
        last = key
    if chunk:
        yield chunk


_KEY = b'{"annotation_id":"'


def _annotation_id(line: bytes) -> bytes:
    """The line's annotation id as UTF-8 (ordered as the strings are), read off the line's start
    (compact orjson output) unless it holds an escape."""
    if line.startswith(_KEY):
        end = line.find(b'"', len(_KEY))
        key = line[len(_KEY) : end]
        if end > 0 and b"\\" not in key:
            return key
    value = orjson.loads(line).get("annotation_id")
    return str(value).encode("utf-8") if value is not None else b""


def checked(
    lines: list[bytes], base: Corpus, target: Path, side: ArticleSide | None = None
) -> tuple[list[bytes], list[convert.Reject]]:
    """One chunk's lines validated with the rest of data/: the lines kept and the rejects (what the
    whole-file validation gives these annotations). ``side``: what :func:`check_base` returned (else
    the article side is prepared again for this chunk)."""
    side = side or prepare_articles(base.tables["articles"], base.tables["targets"])
    rejects: list[convert.Reject] = []
    origin = str(target)
    for _ in range(2):
        new = _corpus(lines, target)
        failures = _failures(base, new, side)
        mine = [f for f in failures if f.file == origin]
        if len(mine) != len(failures):
            raise InvalidDataError([f._asdict() for f in failures if f not in mine])
        if not mine:
            return lines, rejects
        bad = _by_line(mine, origin)
        rejects += [reject(orjson.loads(lines[line - 1]), bad[line]) for line in sorted(bad)]
        lines = [text for i, text in enumerate(lines, start=1) if i not in bad]
    raise StudioError("converted annotations still fail validation after removing the rejects")


def _corpus(lines: list[bytes], target: Path) -> Corpus:
    origin = str(target)
    tables = read_tables([target], {target: b"".join(lines)}) if lines else None
    if tables is not None:
        return Corpus(tables, [], set(), [origin])
    records = [orjson.loads(line) for line in lines]
    return corpus_from_records(
        {"annotations": [(r, (origin, line)) for line, r in enumerate(records, start=1)]}, [origin]
    )


def _failures(base: Corpus, new: Corpus, side: ArticleSide) -> list[Failure]:
    """What :func:`validate_corpus` finds in base + new, less the rules on base's own tables (checked
    once by :func:`check_base`): reader failures, the pulled tables' rules, the cross-table rules."""
    tables = {
        name: frame
        if not len(new.tables[name])
        else pd.concat([frame, new.tables[name]], ignore_index=True)
        if len(frame)
        else new.tables[name]
        for name, frame in base.tables.items()
    }
    offset = {name: len(frame) for name, frame in base.tables.items()}
    blanked = base.blanked | {(t, i + offset[t], c) for t, i, c in new.blanked}
    failures = [*base.failures, *new.failures]
    for table in _PULLED:
        failures += _run(TABLE_MODELS[table], tables[table], table, blanked)
    for family, (table, frame) in joined_tables(tables, side).items():
        if table in _PULLED:
            failures += _run(CROSS_TABLE_MODELS[family], frame, table, set())
    return failures


def reject(record: dict[str, Any], reason: str) -> convert.Reject:
    return convert.Reject(
        record["ls_task_id"],
        record["ls_annotation_id"],
        record["annotator"],
        convert.task_key(record["article_id"], record["target_id"]),
        reason,
    )


def _by_line(failures: list[Failure], origin: str) -> dict[int, str]:
    """Each rejected line's reasons. A repeated id whose original is among the lines being pulled is
    named without its place (a line of a file not written yet); one already in data/ keeps it."""
    reasons: dict[int, list[str]] = {}
    for failure in failures:
        value = failure.value
        if value and failure.rule in FIRST_NAMED:
            own, file = original_of(value)
            value = own if file == origin else value
        text = f"{failure.rule}" + (f" [{failure.column}]" if failure.column else "")
        text += f" on span {failure.span_id}" if failure.span_id else ""
        text += f": {value}" if value else ""
        reasons.setdefault(failure.line or 0, []).append(text)
    return {line: "; ".join(texts) for line, texts in reasons.items()}
