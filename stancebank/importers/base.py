"""What every importer shares: streaming input, a staging folder, rejects, validation, an atomic swap.

An importer reads its input row by row and hands records to an :class:`ImportWriter`, which appends
them to JSONL files in a staging folder next to ``--out``. Rows that cannot be imported go to
``rejects.jsonl`` with the file, line and reason. Every :data:`CHUNK` targets the records written since
the last check are validated with every StanceBank schema rule, together with the articles they point
at (the writer keeps the articles and the ids it has written, nothing else), so memory stays flat
however long the input. Ids must be unique across chunks too (checked against the kept ids). Only when
the input is exhausted and every chunk passed is the staging folder renamed into place; a failure
leaves ``--out`` as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from schemas import vocabulary as V
from schemas.errors import StanceBankError, UnreadableInputError
from stancebank.files import open_input, parse_json_line, replace_dir, staging_dir
from stancebank.outputs import MARKER, check_output_dir, marker_text

#: Files an import writes into ``--out``.
REJECTS = "rejects.jsonl"
#: Targets per validated chunk: bounds the memory of an import (≈ 6 KiB a row while validating).
CHUNK = 5000


def chunk_size() -> int:
    """:data:`CHUNK`, or ``STANCEBANK_IMPORT_CHUNK`` (tests use tiny chunks to cross chunk borders)."""
    return int(os.environ.get("STANCEBANK_IMPORT_CHUNK", CHUNK))


MANIFEST = "import.json"
_SAFE = re.compile(r"[^A-Za-z0-9._:\-]+")
#: csv's default field limit (128 KiB) is below a long news body; 16 MiB keeps one row bounded.
csv.field_size_limit(16 * 1024 * 1024)


class CorpusImportError(StanceBankError, ValueError):
    """The input cannot be imported at all (wrong format, missing columns, output folder in use)."""


def safe_id(*parts: object) -> str:
    """An id that matches the schemas' id pattern, built from arbitrary original ids."""
    text = "-".join(_SAFE.sub("_", str(p)).strip("_") or "_" for p in parts)
    return text if text[0].isalnum() or text[0] == "_" else f"_{text}"


def file_timestamp(path: Path) -> str:
    """The file's modification time as an ISO 8601 UTC timestamp (deterministic for a given file)."""
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise UnreadableInputError(
            str(path), "no such file" if exc.errno == 2 else exc.strerror or ""
        ) from None
    moment = datetime.fromtimestamp(mtime, tz=UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Reject:
    file: str
    line: int | None
    reason: str
    original_id: str | None = None


class _ByteCounter:
    """Iterates over a binary file's lines, decoding UTF-8, advancing a progress bar by bytes."""

    def __init__(
        self, path: Path, handle: IO[bytes], progress: Progress, task: Any, *, strip_bom: bool
    ) -> None:
        self.path, self.handle, self.progress, self.task = path, handle, progress, task
        self.strip_bom = strip_bom
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.line += 1
            self.progress.advance(self.task, len(raw))
            bom = self.strip_bom and self.line == 1 and raw.startswith(b"\xef\xbb\xbf")  # spreadsheet CSV
            try:
                yield (raw[3:] if bom else raw).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableInputError(
                    str(self.path), f"not UTF-8 (byte {exc.start + 1} of the line)", line=self.line
                ) from None


@dataclass
class ImportWriter:
    """Streams records of one import into a staging folder; :meth:`commit` validates and swaps it in."""

    out: Path
    fmt: str
    inputs: list[Path]
    force: bool = False
    quiet: bool = False
    #: the project root and the current folder, which --out may not be or contain
    roots: list[Path] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out = check_output_dir(self.out, "import", inputs=self.inputs, roots=self.roots)
        if self.out.exists() and any(self.out.iterdir()) and not self.force:
            raise CorpusImportError(
                f"{self.out}: not empty; refusing to replace earlier data (pass --force to replace it)"
            )
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.staging = staging_dir(self.out)
        self._outputs: dict[str, IO[str]] = {}
        self._inputs: list[IO[bytes]] = []
        self._lines: Counter[str] = Counter()  # output file -> lines written
        #: every article written (the chunks' targets point at them), and every id written
        self._articles: dict[str, tuple[dict[str, Any], tuple[str, int]]] = {}
        self._ids: dict[str, set[str]] = {"targets": set(), "annotations": set()}
        self._chunk: dict[str, list[tuple[dict[str, Any], tuple[str, int]]]] = {
            "articles": [],
            "targets": [],
            "annotations": [],
        }
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=self.quiet or not sys.stderr.isatty(),
        )

    def __enter__(self) -> ImportWriter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        for output in self._outputs.values():
            output.close()
        for source in self._inputs:
            source.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    # -- input ---------------------------------------------------------------------------------------

    def lines(self, path: Path, *, strip_bom: bool = True) -> _ByteCounter:
        """The decoded lines of ``path``, with a progress bar; ``.line`` is the current line number.

        A UTF-8 byte-order mark is dropped (spreadsheets write one into CSV files) unless ``strip_bom``
        is false: JSONL input is refused with one, as ``stancebank validate`` does."""
        handle = open_input(path)
        if path.stat().st_size == 0:
            handle.close()
            raise UnreadableInputError(str(path), "file is empty")
        self._inputs.append(handle)  # closed on exit
        task = self.progress.add_task(f"import {path.name}", total=path.stat().st_size)
        return _ByteCounter(path, handle, self.progress, task, strip_bom=strip_bom)

    def csv_rows(self, path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, row) for every data row of a CSV/TSV file whose header has the ``required`` columns."""
        lines = self.lines(path)
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        reader = csv.DictReader(lines, delimiter=delimiter, strict=True)
        try:
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise UnreadableInputError(
                    str(path), f"missing column(s) {missing}; the header has {header}", line=1
                )
            start = lines.line + 1
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    self.reject(path, start, f"row has {_fields_in(row)} fields, header has {len(header)}")
                else:
                    yield start, row
                start = lines.line + 1
        except csv.Error as exc:
            raise UnreadableInputError(str(path), f"malformed CSV: {exc}", line=lines.line) from None

    def jsonl_records(self, path: Path) -> Iterator[tuple[int, Any]]:
        """(line, value) for every non-blank line of a JSONL file; malformed JSON stops the import."""
        lines = self.lines(path, strip_bom=False)
        for text in lines:
            if lines.line == 1 and text.startswith("\ufeff"):
                raise UnreadableInputError(
                    str(path), "starts with a UTF-8 byte-order mark; save without BOM", line=1
                )
            if not text.strip():
                continue
            yield lines.line, parse_json_line(path, lines.line, text)

    # -- output --------------------------------------------------------------------------------------

    def _write(self, name: str, record: dict[str, Any]) -> tuple[str, int]:
        """Append ``record`` to the staged file ``name``; return (file, line) for validation reports."""
        handle = self._outputs.get(name)
        if handle is None:
            path = self.staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._outputs[name] = path.open("w", encoding="utf-8", newline="")
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._lines[name] += 1
        return str(self.staging / name), self._lines[name]

    def _unique(self, kind: str, key: str, value: str) -> None:
        if value in self._ids[kind]:
            raise CorpusImportError(
                f"two {kind} with {key} {value!r}: the input's ids collide once made safe"
            )
        self._ids[kind].add(value)

    def article(self, record: dict[str, Any]) -> None:
        if record["article_id"] in self._articles:
            raise CorpusImportError(f"two articles with article_id {record['article_id']!r}")
        origin = self._write("articles.jsonl", record)
        self._articles[record["article_id"]] = (record, origin)
        self._chunk["articles"].append((record, origin))
        self.counts["articles"] += 1

    def target(self, record: dict[str, Any]) -> None:
        if len(self._chunk["targets"]) >= chunk_size():  # first: a target and its annotation share a chunk
            self._check_chunk()
        self._unique("targets", "target_id", record["target_id"])
        self._chunk["targets"].append((record, self._write("targets.jsonl", record)))
        self.counts["targets"] += 1

    def annotation(self, record: dict[str, Any]) -> None:
        """Write an annotation; its target must have been written since the last check (importers write
        a task's target and then its annotation)."""
        self._unique("annotations", "annotation_id", record["annotation_id"])
        origin = self._write(f"annotations/{safe_id(record['annotator'])}.jsonl", record)
        self._chunk["annotations"].append((record, origin))
        self.counts["annotations"] += 1
        self.counts["spans"] += len(record.get("spans", []))

    def _check_chunk(self) -> None:
        """Validate what was written since the last check, with the articles it points at."""
        from stancebank.corpus import corpus_from_records
        from stancebank.validate import validate_corpus

        chunk = self._chunk
        new = {record["article_id"] for record, _ in chunk["articles"]}
        referenced = {r["article_id"] for table in ("targets", "annotations") for r, _ in chunk[table]}
        older = [self._articles[a] for a in sorted(referenced - new) if a in self._articles]
        records = {**chunk, "articles": [*chunk["articles"], *older]}
        failures = validate_corpus(
            corpus_from_records(records, sorted({o[0] for t in records.values() for _, o in t}))
        )
        self._chunk = {"articles": [], "targets": [], "annotations": []}
        if failures:  # an importer bug: say what failed; the staging folder goes away
            first = failures[0]
            raise CorpusImportError(
                f"the imported rows fail {len(failures)} schema rule(s), nothing written; first: "
                f"{first.rule} on {first.article_id}/{first.span_id} {first.column}={first.value}"
            )

    def reject(self, path: Path, line: int | None, reason: str, original_id: object = None) -> None:
        self.rejects.append(
            Reject(str(path), line, reason, None if original_id is None else str(original_id))
        )

    # -- finish --------------------------------------------------------------------------------------

    def commit(self, *, options: dict[str, Any] | None = None) -> ImportReport:
        """Validate the last chunk, write rejects and manifest, swap the staging folder into ``out``."""
        if self.counts["articles"]:
            self._check_chunk()
        for handle in self._outputs.values():
            handle.close()
        if not self.counts["articles"]:
            raise CorpusImportError(
                f"nothing imported from {', '.join(map(str, self.inputs))}: "
                f"{len(self.rejects)} row(s) rejected"
                + (f", first: {self._first_reject()}" if self.rejects else "")
            )
        rejects = [r.__dict__ for r in self.rejects]
        (self.staging / REJECTS).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects), encoding="utf-8"
        )
        # imported annotations record the external corpus's guideline version; articles alone have none
        version: dict[str, Any] = (
            {"stancebank_guideline_version": V.EXTERNAL_GUIDELINE_VERSION}
            if self.counts["annotations"]
            else {}
        )
        manifest: dict[str, Any] = {
            "format": self.fmt,
            **version,
            "inputs": [{"path": str(p), "sha256": sha256_file(p)} for p in self.inputs],
            "options": options or {},
            "counts": {**dict(self.counts), "rejected": len(self.rejects)},
        }
        (self.staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        (self.staging / MARKER).write_text(marker_text("import"), encoding="utf-8")
        replace_dir(self.staging, self.out)
        return ImportReport(self.out, dict(self.counts), self.rejects)

    def _first_reject(self) -> str:
        r = self.rejects[0]
        return f"{r.file}:{r.line}: {r.reason}"


def _fields_in(row: dict[str | None, Any]) -> int:
    """Cells of a CSV row read by DictReader: extra cells sit in a list under the key None, missing
    ones are None."""
    extra = row.get(None)
    present = sum(1 for key, value in row.items() if key is not None and value is not None)
    return present + (len(extra) if isinstance(extra, list) else 0)


@dataclass(frozen=True)
class ImportReport:
    out: Path
    counts: dict[str, int]
    rejects: list[Reject]


def article_record(
    article_id: str,
    text: str,
    *,
    title: str,
    licence: str,
    provenance: str,
    metadata: dict[str, Any],
    language: str = "en",
) -> dict[str, Any]:
    """An article as our schema wants it, for text whose outlet and reliability are unknown."""
    return {
        "article_id": article_id,
        "title": title,
        "text": text,
        "outlet": None,
        "url": None,
        "published": None,
        "language": language,
        "outlet_reliability": V.Reliability.UNKNOWN.value,
        "synthetic": False,
        "licence": licence,
        "provenance": provenance,
        "metadata": metadata,
    }


def annotation_record(
    annotation_id: str,
    article_id: str,
    target_id: str,
    *,
    annotator: str,
    timestamp: str,
    metadata: dict[str, Any],
    spans: list[dict[str, Any]] | None = None,
    unannotated: list[str] | None = None,
    related: bool | None = None,
    doc_stance: str | None = None,
) -> dict[str, Any]:
    """An imported annotation: made under the corpus's own guidelines (version 0.0), outside Label Studio."""
    return {
        "annotation_id": annotation_id,
        "article_id": article_id,
        "target_id": target_id,
        "annotator": annotator,
        "created_at": timestamp,
        "updated_at": timestamp,
        "guideline_version": V.EXTERNAL_GUIDELINE_VERSION,
        "config_hash": None,
        "ls_task_id": None,
        "ls_annotation_id": None,
        "related": related,
        "doc_stance": doc_stance,
        "unannotated": unannotated,
        "metadata": metadata,
        "spans": spans or [],
        "relations": [],
    }


def whole_text_span(text: str) -> tuple[int, int] | None:
    """Offsets of ``text`` without surrounding white space (None for blank text)."""
    stripped = text.strip()
    if not stripped:
        return None
    start = len(text) - len(text.lstrip())
    return start, start + len(stripped)
