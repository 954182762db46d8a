"""``studio push``: create or update the project, import (article, target) tasks once, add predictions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from annotate import convert, document
from annotate.client import Studio
from annotate.config import config_values, removed_values
from annotate.server import StudioError
from schemas import vocabulary as V
from schemas.errors import UnreadableInputError
from stancebank.corpus import Corpus, read_jsonl


@dataclass
class PushReport:
    project_id: int
    created: int = 0
    existing: int = 0
    changed: list[str] = field(default_factory=list)
    predictions: int = 0
    document_labels: int = 0
    removed: int = 0


def remove_duplicates(studio: Studio, project_id: int) -> int:
    """Delete the later copies of a task key that a retried import created twice (only copies nobody
    has annotated: they are fresh from this push, and their inline pre-annotations are on the kept copy)."""
    tasks = json.loads(studio.export(project_id))
    by_key: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        key = (task.get("data") or {}).get("task_key")
        if isinstance(key, str):
            by_key.setdefault(key, []).append(task)
    removed = 0
    for copies in by_key.values():
        copies.sort(key=lambda t: int(t["id"]))
        for extra in copies[1:]:
            if not extra.get("annotations"):
                studio.delete_task(int(extra["id"]))
                removed += 1
    return removed


def ensure_project(studio: Studio, title: str, config: str, *, force: bool) -> int:
    """Find the project by title (updating its config) or create it; refuse to orphan labels."""
    project = studio.find_project(title)
    if project is None:
        return studio.create_project(title, config)
    if project["label_config"] != config:
        orphaned = removed_values(project["label_config"], config)
        if orphaned and not force:
            listing = "; ".join(f"{name}: {sorted(values)}" for name, values in orphaned.items())
            raise StudioError(
                f"the new config drops values the project offers ({listing}); existing labels would be "
                "orphaned. Re-run with --force to update anyway."
            )
        studio.update_config(project["id"], config)
    return int(project["id"])


def existing_tasks(studio: Studio, project_id: int) -> dict[str, dict[str, Any]]:
    """task_key -> {id, text_sha256, annotations} for every task already in the project."""
    tasks = json.loads(studio.export(project_id))
    found: dict[str, dict[str, Any]] = {}
    for task in tasks:
        data = task.get("data") or {}
        if "task_key" in data:
            found[data["task_key"]] = {
                "id": task["id"],
                "text_sha256": data.get("text_sha256"),
                "annotations": len(task.get("annotations") or []),
                "predictions": len(task.get("predictions") or []),
            }
    return found


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def push(
    studio: Studio,
    corpus: Corpus,
    *,
    title: str,
    force: bool = False,
    batch_size: int = 500,
    predictions: Path | None = None,
    console: Console | None = None,
    document_labels: bool = False,
) -> PushReport:
    console = console or Console(stderr=True)
    config = document.project_config(studio, title, corpus, document=document_labels)
    project_id = ensure_project(studio, title, config, force=force)
    report = PushReport(project_id)
    tasks = convert.tables_to_tasks(
        corpus["articles"].to_dict("records"), corpus["targets"].to_dict("records")
    )
    present = existing_tasks(studio, project_id)
    new = []
    for task in tasks:
        data = task["data"]
        known = present.get(data["task_key"])
        if known is None:
            new.append(task)
        elif known["text_sha256"] != data["text_sha256"]:
            report.changed.append(data["task_key"])
        else:
            report.existing += 1
    labels = document.document_predictions(corpus)
    new = document.with_predictions(new, labels)
    resent = studio.resent
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("importing tasks", total=len(new))
        for batch in _batches(new, batch_size):
            ids = studio.import_tasks(project_id, batch)
            report.created += len(ids)
            report.document_labels += sum(len(task.get("predictions", [])) for task in batch)
            progress.advance(bar, len(batch))
    unchanged = {key: task for key, task in present.items() if key not in report.changed}
    report.document_labels += document.send_to_existing(studio, unchanged, labels, console)
    if studio.resent != resent:  # a request that timed out may have landed after we looked
        report.removed = remove_duplicates(studio, project_id)
    if predictions is not None:
        report.predictions = push_predictions(studio, project_id, corpus, predictions, config, console)
    return report


def read_predictions(path: Path, corpus: Corpus, config: str) -> list[dict[str, Any]]:
    """Prediction records, each checked against the config and the article text before sending.
    ``path``: a JSONL file, or a folder of JSONL shards (``predict --engine spark``)."""
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    allowed = config_values(config)
    records = []
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for file, line, record in ((f, n, r) for f in files for n, r in read_jsonl(f)):
        where = f"{file}:{line}"
        if not isinstance(record, dict) or not {"task_key", "model_version", "result"} <= set(record):
            raise UnreadableInputError(
                str(file), "a prediction needs task_key, model_version and result", line=line
            )
        article_id = str(record["task_key"]).split(convert.KEY_SEPARATOR, 1)[0]
        if article_id not in texts:
            raise UnreadableInputError(str(file), f"unknown task {record['task_key']!r}", line=line)
        try:
            spans, relations = convert.results_to_annotation(record["result"], texts[article_id])
            if convert.results_to_document(record["result"]) and "related" not in allowed:
                raise convert.ConversionError("document-level choices, but the project's config has none")
        except convert.ConversionError as exc:
            raise UnreadableInputError(
                str(file), f"prediction does not fit the config: {exc}", line=line
            ) from None
        _check_values(spans, relations, allowed, where)
        score = record.get("score")
        if score is not None and not (isinstance(score, int | float) and 0 <= score <= 1):
            raise UnreadableInputError(str(file), f"score must be in [0, 1], got {score!r}", line=line)
        records.append(record)
    return records


def _check_values(
    spans: list[dict[str, Any]], relations: list[dict[str, Any]], allowed: dict[str, set[str]], where: str
) -> None:
    from annotate.config import SPANS_NAME

    for span in spans:
        if span["label"] not in allowed[SPANS_NAME]:
            raise UnreadableInputError(where, f"label {span['label']!r} is not in the config")
        for name in V.ATTRIBUTE_VALUES:
            if span.get(name) is not None and span[name] not in allowed[name]:
                raise UnreadableInputError(where, f"{name} {span[name]!r} is not in the config")
    for relation in relations:
        if relation["type"] not in allowed["relations"]:
            raise UnreadableInputError(where, f"relation {relation['type']!r} is not in the config")


def push_predictions(
    studio: Studio, project_id: int, corpus: Corpus, path: Path, config: str, console: Console
) -> int:
    records = read_predictions(path, corpus, config)
    present = existing_tasks(studio, project_id)
    sent = 0
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("sending predictions", total=len(records))
        for record in records:
            task = present.get(record["task_key"])
            if task is None:
                raise StudioError(f"{path}: task {record['task_key']!r} is not in the project; push it first")
            studio.create_prediction(
                task["id"], record["result"], str(record["model_version"]), float(record.get("score") or 0.0)
            )
            sent += 1
            progress.advance(bar)
    if records:  # annotators see the newest model's proposals pre-filled (the last record's version)
        studio.set_model_version(project_id, str(records[-1]["model_version"]))
    return sent
