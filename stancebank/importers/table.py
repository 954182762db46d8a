"""Any CSV / TSV / JSONL table of (text, target, label) rows, with a column mapping given by the user.

One row is one task: the text column holds the article, the target column the proposition, the label
column the document-level stance (mapped with ``--label-map`` onto support / oppose / neutral /
unrelated). Rows sharing a ``--group-col`` value (or, without it, the same text) share one article; a
group whose rows disagree on the text or the split is refused row by row. ``--split-group-col`` names a
different grouping: the claim, topic or event that splits and cross-validation keep together (the
export's ``group`` column). With it, rows share an article only within one such group, so one headline
under two claims is two articles and never a conflict between splits. An empty label gives a task
without an annotation. Original ids and labels stay in metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import vocabulary as V
from stancebank.importers.base import (
    CorpusImportError,
    ImportWriter,
    annotation_record,
    article_record,
    file_timestamp,
    safe_id,
)

_JSONL = (".jsonl", ".ndjson")


def parse_label_map(text: str | None) -> dict[str, str]:
    """'a=support,b=oppose' -> {'a': 'support', …}; every value must be a document stance."""  # not a label
    if not text:
        return {}
    mapping: dict[str, str] = {}
    allowed = V.values(V.DocumentStance)
    for item in text.split(","):
        original, sep, ours = item.partition("=")
        if not sep or not original.strip():
            raise CorpusImportError(f"--label-map items look like 'original=ours'. Got {item!r} instead.")
        if ours.strip() not in allowed:
            raise CorpusImportError(f"--label-map value {ours.strip()!r} is not one of {allowed}")
        mapping[original.strip()] = ours.strip()
    return mapping


@dataclass
class Columns:
    text: str
    target: str
    label: str | None = None
    group: str | None = None
    split_group: str | None = None
    id: str | None = None
    split: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    corpus: str | None = None
    language: str = "en"
    licence: str = "not stated: set --licence"

    def required(self) -> tuple[str, ...]:
        named = (self.text, self.target, self.label, self.group, self.split_group, self.id, self.split)
        return tuple(dict.fromkeys(c for c in named if c))


def _rows(writer: ImportWriter, path: Path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() not in _JSONL:
        yield from writer.csv_rows(path, columns.required())
        return
    for line, record in writer.jsonl_records(path):
        if not isinstance(record, dict):
            writer.reject(path, line, f"expected a JSON object, got {type(record).__name__}")
            continue
        missing = [c for c in columns.required() if c not in record]
        if missing:
            writer.reject(path, line, f"missing field(s) {missing}")
            continue
        bad = [c for c in columns.required() if not isinstance(record[c], str | int | float | type(None))]
        if bad:
            writer.reject(path, line, f"field(s) {bad} must be strings or numbers")
            continue
        yield line, {k: "" if v is None else str(v) for k, v in record.items() if k in columns.required()}


def _problems(
    row: dict[str, Any],
    columns: Columns,
    raw_label: str,
    label: str,
    task_id: str,
    ids: set[str],
    split: str | None,
) -> Iterator[str]:
    """Why a row cannot be imported, first reason first."""
    if not row[columns.text].strip():
        yield f"empty {columns.text!r}"
    if not row[columns.target].strip():
        yield f"empty {columns.target!r}"
    if raw_label and label not in V.values(V.DocumentStance):
        yield f"label {raw_label!r} is not in --label-map and not one of {V.values(V.DocumentStance)}"
    if task_id in ids:
        yield f"duplicate id {task_id!r}"
    if split is not None and not split.isidentifier():
        yield f"split {split!r} is not a name like 'train'"


def import_table(writer: ImportWriter, paths: list[Path], columns: Columns) -> None:
    groups: dict[str, tuple[str, str | None, int]] = {}  # group -> (text sha1, split, first line)
    ids: set[str] = set()
    for path in paths:
        corpus = columns.corpus or safe_id(path.stem)
        timestamp = file_timestamp(path)
        for number, (line, row) in enumerate(_rows(writer, path, columns), start=1):
            _row(writer, path, line, number, row, columns, corpus, timestamp, groups, ids)


def _row(
    writer: ImportWriter,
    path: Path,
    line: int,
    number: int,
    row: dict[str, Any],
    columns: Columns,
    corpus: str,
    timestamp: str,
    groups: dict[str, tuple[str, str | None, int]],
    ids: set[str],
) -> None:
    text = row[columns.text]
    original_id = row[columns.id].strip() if columns.id else str(number)
    split = row[columns.split].strip() or None if columns.split else None
    raw_label = row[columns.label].strip() if columns.label else ""
    label = columns.label_map.get(raw_label, raw_label)
    task_id = safe_id(corpus, original_id)
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    split_group = row[columns.split_group].strip() or None if columns.split_group else None
    if columns.split_group and split_group is None:
        writer.reject(path, line, f"empty {columns.split_group!r}", original_id)
        return
    group = row[columns.group].strip() if columns.group else digest[:16]
    if split_group is not None and not columns.group:  # the same text shares an article within its group
        group = f"{split_group}/{group}"
    problem = next(_problems(row, columns, raw_label, label, task_id, ids, split), None)
    if problem is None and group in groups:
        first_digest, first_split, first_line = groups[group]
        if first_digest != digest:
            problem = f"text differs from the first row of group {group!r} (line {first_line})"
        elif first_split != split:
            problem = (
                f"split {split!r} differs from the first row of group {group!r} "
                f"(line {first_line}: {first_split!r})"
            )
    if problem:
        writer.reject(path, line, problem, original_id)
        return
    article_id = safe_id(corpus, "g", group)
    if group not in groups:
        groups[group] = (digest, split, line)
        metadata: dict[str, Any] = {"corpus": corpus, "file": path.name, "line": line, "group": group}
        if split:
            metadata["split"] = split
        if split_group is not None:
            metadata["split_group"] = split_group
        writer.article(
            article_record(
                article_id,
                text,
                title=f"{corpus} {group}" if columns.group else f"{corpus} text {len(groups)}",
                licence=columns.licence,
                provenance=f"{path.name}, line {line}",
                metadata=metadata,
                language=columns.language,
            )
        )
    ids.add(task_id)
    writer.target({"target_id": task_id, "article_id": article_id, "text": row[columns.target].strip()})
    if not raw_label:
        return
    stance = V.DocumentStance(label)
    writer.annotation(
        annotation_record(
            task_id,
            article_id,
            task_id,
            annotator=corpus,
            timestamp=timestamp,
            related=stance != V.DocumentStance.UNRELATED,
            doc_stance=None if stance == V.DocumentStance.UNRELATED else stance.value,
            metadata={
                "corpus": corpus,
                "file": path.name,
                "line": line,
                "id": original_id,
                "label": raw_label,
                **({} if split_group is None else {"split_group": split_group}),
            },
        )
    )
