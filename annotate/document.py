"""Document-level labels (``related``, ``doc_stance``) on their way to Label Studio.

A project gets the document-level choices in its config when its data carries document-level labels
(``stancebank import fnc1`` / ``import table``), when asked (``studio push --document-labels``), or when
its Label Studio project already offers them (never dropped again). Labels that did not come from Label
Studio (imported ones) are sent once, as predictions (pre-annotations) of their task, named after their
annotator (``model_version``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import Progress

from annotate import convert
from annotate.client import Studio
from annotate.config import has_document_choices, label_config
from stancebank.corpus import Corpus


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NA


def has_document_labels(corpus: Corpus) -> bool:
    """Whether any annotation of the data carries a document-level label."""
    annotations = corpus["annotations"]
    return "related" in annotations and bool(annotations["related"].notna().any())


def project_config(studio: Studio, title: str, corpus: Corpus, *, document: bool = False) -> str:
    """The config to push: with the document-level choices when asked, when the data has document-level
    labels, or when the existing project already offers them (so a push never drops them)."""
    document = document or has_document_labels(corpus)
    if not document:
        project = studio.find_project(title)
        document = project is not None and has_document_choices(str(project["label_config"]))
    return label_config(document=document)


def document_predictions(corpus: Corpus) -> dict[str, list[dict[str, Any]]]:
    """task_key -> predictions (``model_version`` = annotator, ``score`` 1: a label, not a guess) of the
    document-level labels of annotations not made in Label Studio, in annotation id order."""
    annotations = corpus["annotations"]
    if not has_document_labels(corpus):
        return {}
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = annotations.sort_values("annotation_id", kind="stable")
    for record in rows.to_dict("records"):
        if _known(record.get("ls_annotation_id")) or not _known(record.get("related")):
            continue
        stance = record.get("doc_stance")
        result = convert.document_to_results(bool(record["related"]), stance if _known(stance) else None)
        key = convert.task_key(record["article_id"], record["target_id"])
        found[key].append({"model_version": str(record["annotator"]), "score": 1.0, "result": result})
    return dict(found)


def with_predictions(
    tasks: list[dict[str, Any]], predictions: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """New tasks with their document-level predictions inline: imported with the task, so exactly once."""
    return [
        {**task, "predictions": predictions[task["data"]["task_key"]]}
        if task["data"]["task_key"] in predictions
        else task
        for task in tasks
    ]


def send_to_existing(
    studio: Studio,
    present: dict[str, dict[str, Any]],
    predictions: dict[str, list[dict[str, Any]]],
    console: Console,
) -> int:
    """Predictions for tasks already in the project that have none yet (pushed before their labels were
    imported); a task with any prediction is left alone, so pushing again sends nothing twice."""
    due = [
        (present[key]["id"], prediction)
        for key, items in predictions.items()
        if key in present and not present[key].get("predictions")
        for prediction in items
    ]
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("sending document labels", total=len(due))
        for task_id, prediction in due:
            studio.create_prediction(
                task_id, prediction["result"], prediction["model_version"], prediction["score"]
            )
            progress.advance(bar)
    return len(due)
