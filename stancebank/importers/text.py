"""Your own articles: a folder of ``.txt`` / ``.md`` files, or a JSONL / CSV table of articles.

A text file is one article: its id is the file name's stem made safe (stable: the same file always gets
the same id), its title the first line (a Markdown heading without its ``#``), its text the whole file
exactly as written (CRLF line ends kept). A table has one article per row with the columns ``id`` and
``text`` and optionally ``title``, ``url``, ``outlet``, ``published`` (YYYY-MM-DD), ``language``,
``outlet_reliability`` and ``target``. Targets come from the ``target`` column, ``--target`` (one for
every article) or ``--targets`` (a JSONL / CSV of ``article_id,target``); an article with none is refused.
No annotation is made: the articles are for labelling in Label Studio.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from schemas import vocabulary as V
from schemas.models import _ISO_639_1
from stancebank.importers.base import CorpusImportError, ImportWriter, article_record, safe_id

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv")
OPTIONAL = ("title", "url", "outlet", "published", "language", "outlet_reliability", "target")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class TextOptions:
    target: str | None = None  # one target for every article
    targets_file: Path | None = None
    language: str = "en"
    licence: str = "not stated: set --licence"


def input_files(paths: list[Path]) -> list[Path]:
    """The files to read: folders expanded into their text files (sorted, so ids and order are stable)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
            if not found:
                raise CorpusImportError(f"{path}: no .txt or .md files in this folder")
            files += found
        elif path.suffix.lower() in (*TEXT_SUFFIXES, *TABLE_SUFFIXES) or not path.exists():
            files.append(path)
        else:
            raise CorpusImportError(
                f"{path}: not a folder, text file ({', '.join(TEXT_SUFFIXES)}) or table "
                f"({', '.join(TABLE_SUFFIXES)})"
            )
    return files


def title_of(text: str, markdown: bool) -> str:
    """The first non-blank line; for Markdown a heading's ``#`` marks are dropped."""
    for line in text.splitlines():
        if line.strip():
            return line.lstrip("#").strip() if markdown else line.strip()
    return ""


def _table_rows(writer: ImportWriter, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if path.suffix.lower() in (".csv", ".tsv"):
        yield from writer.csv_rows(path, ("id", "text"))
        return
    for line, record in writer.jsonl_records(path):
        if not isinstance(record, dict):
            writer.reject(path, line, f"expected a JSON object, got {type(record).__name__}")
            continue
        missing = [c for c in ("id", "text") if c not in record]
        bad = [k for k in ("id", "text", *OPTIONAL) if not isinstance(record.get(k), str | int | type(None))]
        if missing or bad:
            writer.reject(path, line, f"missing field(s) {missing}" if missing else f"{bad} must be strings")
            continue
        yield line, {k: "" if v is None else str(v) for k, v in record.items()}


def row_problem(row: dict[str, str]) -> str | None:
    """Why a table row is not an article we can import (None: it is)."""
    empty = [k for k in ("id", "text") if not row[k].strip()]
    if empty:
        return f"empty {empty[0]!r}"
    published = row.get("published", "").strip()
    if published:
        try:
            date.fromisoformat(published) if _DATE.fullmatch(published) else date.fromisoformat("x")
        except ValueError:
            return f"published {published!r} is not a date YYYY-MM-DD"
    url = row.get("url", "").strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc or " " in url):
        return f"url {url!r} is not an http(s) address"
    language = row.get("language", "").strip()
    if language and language not in _ISO_639_1:
        return f"language {language!r} is not an ISO 639-1 code"
    reliability = row.get("outlet_reliability", "").strip()
    if reliability and reliability not in V.values(V.Reliability):
        return f"outlet_reliability {reliability!r} is not one of {V.values(V.Reliability)}"
    return None


def read_targets(writer: ImportWriter, path: Path) -> dict[str, list[tuple[str, int]]]:
    """article_id -> [(target text, line)] from a ``--targets`` file."""
    rows = _targets_rows(writer, path)
    out: dict[str, list[tuple[str, int]]] = {}
    for line, row in rows:
        if not row["article_id"].strip() or not row["target"].strip():
            writer.reject(path, line, "empty 'article_id' or 'target'")
            continue
        out.setdefault(row["article_id"].strip(), []).append((row["target"].strip(), line))
    return out


def _targets_rows(writer: ImportWriter, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if path.suffix.lower() in (".csv", ".tsv"):
        yield from writer.csv_rows(path, ("article_id", "target"))
        return
    for line, record in writer.jsonl_records(path):
        if not isinstance(record, dict) or not all(
            isinstance(record.get(k), str) for k in ("article_id", "target")
        ):
            writer.reject(path, line, "expected an object with string fields 'article_id' and 'target'")
            continue
        yield line, record


def import_text(writer: ImportWriter, paths: list[Path], options: TextOptions) -> None:
    """Write one article per text file or table row, with its targets (no annotations)."""
    targets = read_targets(writer, options.targets_file) if options.targets_file else {}
    seen: dict[str, str] = {}  # article id -> where it came from
    for path in input_files(paths):
        if path.suffix.lower() in TEXT_SUFFIXES:
            _text_file(writer, path, options, targets, seen)
        else:
            for line, row in _table_rows(writer, path):
                _table_row(writer, path, line, row, options, targets, seen)
    unknown = sorted(set(targets) - set(seen))
    if unknown and options.targets_file is not None:
        for article_id in unknown:
            for _, line in targets[article_id]:
                writer.reject(options.targets_file, line, f"no article {article_id!r} in the input")


def _text_file(
    writer: ImportWriter,
    path: Path,
    options: TextOptions,
    targets: dict[str, list[tuple[str, int]]],
    seen: dict[str, str],
) -> None:
    from stancebank.files import read_text

    text = read_text(path)
    if not text.strip():
        writer.reject(path, None, "empty file")
        return
    title = title_of(text, path.suffix.lower() == ".md")
    record = article_record(
        safe_id(path.stem),
        text,
        title=title,
        licence=options.licence,
        provenance=path.name,
        metadata={"file": path.name},
        language=options.language,
    )
    _article(writer, path, None, record, None, options, targets, seen)


def _table_row(
    writer: ImportWriter,
    path: Path,
    line: int,
    row: dict[str, str],
    options: TextOptions,
    targets: dict[str, list[tuple[str, int]]],
    seen: dict[str, str],
) -> None:
    problem = row_problem(row)
    if problem:
        writer.reject(path, line, problem, row.get("id") or None)
        return
    article_id = safe_id(row["id"].strip())
    record = article_record(
        article_id,
        row["text"],
        title=row.get("title", "").strip() or title_of(row["text"], markdown=False),
        licence=options.licence,
        provenance=f"{path.name}, line {line}",
        metadata={"file": path.name, "line": line, "id": row["id"]},
        language=row.get("language", "").strip() or options.language,
    )
    for key in ("url", "outlet", "published"):
        record[key] = row.get(key, "").strip() or None
    record["outlet_reliability"] = row.get("outlet_reliability", "").strip() or V.Reliability.UNKNOWN.value
    _article(writer, path, line, record, row.get("target", "").strip() or None, options, targets, seen)


def _article(
    writer: ImportWriter,
    path: Path,
    line: int | None,
    record: dict[str, Any],
    own_target: str | None,
    options: TextOptions,
    targets: dict[str, list[tuple[str, int]]],
    seen: dict[str, str],
) -> None:
    article_id = record["article_id"]
    where = f"{path.name}" + (f", line {line}" if line else "")
    if article_id in seen:
        writer.reject(
            path, line, f"article id {article_id!r} already given by {seen[article_id]}", article_id
        )
        return
    texts = [t for t in (own_target, options.target) if t] + [t for t, _ in targets.get(article_id, [])]
    texts = list(dict.fromkeys(texts))
    if not texts:
        writer.reject(path, line, "no target: give a 'target' column, --target or --targets", article_id)
        return
    seen[article_id] = where
    writer.article(record)
    for number, target in enumerate(texts, start=1):
        writer.target({"target_id": f"{article_id}:t{number}", "article_id": article_id, "text": target})
