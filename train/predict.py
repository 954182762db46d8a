"""``stancebank predict``: pre-annotations for unannotated tasks, most uncertain first (active learning).

A claim model needs claims; an unannotated task has none yet, so every sentence of the article is a
candidate CLAIM region. The model's predicted value becomes that region's choice, with the model's
probability as the region score; the task's score is the mean, and tasks are written least-confident
first so annotators label where the model is least sure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from annotate import convert
from schemas import vocabulary as V
from stancebank.corpus import Corpus, dumps_jsonl, write_atomic
from train.baselines import TASKS, TrainingError, task_of
from train.evaluation import load_model, model_meta
from train.scales import Scale

_SENTENCE = re.compile(r"[^\n.!?]+(?:[.!?]+[”\"’)]*|$)")
CLAIM_TASKS = ("certainty", "polarity", "stance")


def sentences(text: str) -> list[tuple[int, int]]:
    """Half-open code-point spans of the sentences (and lines) of ``text``, without outer whitespace."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        chunk = text[start:end]
        stripped = chunk.strip()
        if len(stripped) < 3:
            continue
        start += len(chunk) - len(chunk.lstrip())
        spans.append((start, start + len(stripped)))
    return spans


def unannotated_tasks(corpus: Corpus) -> list[tuple[str, str]]:
    done = set(zip(corpus["annotations"]["article_id"], corpus["annotations"]["target_id"], strict=True))
    pairs = zip(corpus["targets"]["article_id"], corpus["targets"]["target_id"], strict=True)
    return [(a, t) for a, t in pairs if (a, t) not in done]


def predict(
    model_path: Path, corpus: Corpus, *, include_annotated: bool = False, claim_models: Sequence[Path] = ()
) -> list[dict[str, Any]]:
    """Prediction records for ``studio push --predictions``, least confident task first."""
    meta = model_meta(model_path)
    if meta["task"] == "attribution":  # not a label (the task of train.attribution: regions + relations)
        from train.attribution.preannotate import predict_attribution

        return predict_attribution(
            model_path, corpus, include_annotated=include_annotated, claim_models=claim_models
        )
    if claim_models:
        raise TrainingError(
            "--claim-model goes with an attribution model (--model …/attribution/model-*.skops)"
        )
    if meta["task"] not in CLAIM_TASKS:
        raise TrainingError(f"predict needs a claim model ({', '.join(CLAIM_TASKS)}); got {meta['task']!r}")
    attribute = TASKS[meta["task"]].label
    model = load_model(model_path)
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    target_text = dict(zip(corpus["targets"]["target_id"], corpus["targets"]["text"], strict=True))
    tasks = list(zip(corpus["targets"]["article_id"], corpus["targets"]["target_id"], strict=True))
    if not include_annotated:
        tasks = unannotated_tasks(corpus)
    records: list[dict[str, Any]] = []
    for article_id, target_id in tasks:
        text = texts[article_id]
        regions = sentences(text)
        if not regions:
            continue
        inputs = pd.DataFrame(
            {
                "text": [text[s:e] for s, e in regions],
                "context": [text[s:e] for s, e in regions],
                "target": target_text[target_id],
                "cues": "",
                "claims": "",
            }
        )
        probabilities = model.predict_proba(inputs)
        classes = list(model.classes_)
        results = []
        for number, ((start, end), row) in enumerate(zip(regions, probabilities, strict=True), start=1):
            best = int(np.argmax(row))
            region = {"start": start, "end": end, "text": text[start:end]}
            region_id = f"p{number}"
            results.append(
                {
                    "id": region_id,
                    "from_name": "spans",
                    "to_name": "text",
                    "type": "labels",
                    "score": round(float(row[best]), 4),
                    "value": {**region, "labels": [V.SpanLabel.CLAIM.value]},
                }
            )
            results.append(
                {
                    "id": region_id,
                    "from_name": attribute,
                    "to_name": "text",
                    "type": "choices",
                    "score": round(float(row[best]), 4),
                    "value": {**region, "choices": [str(classes[best])]},
                }
            )
        confidence = float(np.mean(probabilities.max(axis=1)))
        records.append(
            {
                "task_key": convert.task_key(article_id, target_id),
                "model_version": f"{meta['task']}-{meta['model']}",
                "score": round(confidence, 4),
                "uncertainty": round(1 - confidence, 4),
                "result": results,
            }
        )
    records.sort(key=least_confident_first)
    return records


def least_confident_first(record: dict[str, Any]) -> tuple[float, str]:
    """The order of prediction records: the task the model is least sure of first (ties: task key)."""
    return -float(record["uncertainty"]), str(record["task_key"])


def predict_items(
    model_path: Path, corpus: Corpus, *, include_annotated: bool = False
) -> list[dict[str, Any]]:
    """Pair and score models on unlabelled data: one record per (article, target) task (pairs: ``id``,
    ``predicted``, ``probability``) or per sentence (scores: ``id``, ``start``, ``end``, ``score``,
    clipped to the scale the model was fitted on)."""
    meta = model_meta(model_path)
    task = task_of(meta["task"])
    if task.kind not in ("pairs", "regression"):
        raise TrainingError(
            f"predict works with claim, pair and score models; {meta['task']!r} needs SOURCE spans, "
            "which unlabelled data does not have"
        )
    model = load_model(model_path)
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    target_text = dict(zip(corpus["targets"]["target_id"], corpus["targets"]["text"], strict=True))
    tasks = list(zip(corpus["targets"]["article_id"], corpus["targets"]["target_id"], strict=True))
    if not include_annotated:
        tasks = unannotated_tasks(corpus)
    if task.kind == "pairs":
        keys = [convert.task_key(a, t) for a, t in tasks]
        inputs = _inputs([texts[a] for a, _ in tasks], [target_text[t] for _, t in tasks])
        if not len(inputs):
            return []
        probabilities, classes = model.predict_proba(inputs), list(model.classes_)
        return [
            {
                "id": key,
                "predicted": str(classes[int(np.argmax(row))]),
                "probability": round(float(max(row)), 4),
            }
            for key, row in zip(keys, probabilities, strict=True)
        ]
    scale = Scale.from_json(meta["scale"])
    rows = [(a, t, s, e) for a, t in tasks for s, e in sentences(texts[a])]
    if not rows:
        return []
    inputs = _inputs([texts[a][s:e] for a, _, s, e in rows], [target_text[t] for _, t, _, _ in rows])
    scores = scale.clip(model.predict(inputs))
    return [
        {"id": convert.task_key(a, t), "start": s, "end": e, "score": round(float(v), 4)}
        for (a, t, s, e), v in zip(rows, scores, strict=True)
    ]


def _inputs(texts: list[str], targets: list[str]) -> pd.DataFrame:
    from train.context import window_text

    return pd.DataFrame(
        {
            "text": texts,
            "context": texts,
            "target": targets,
            "cues": "",
            "claims": "",
            "left": "",
            "right": "",
            "window": [window_text("", t, "") for t in texts],
            "token_info": "",
        }
    )


def write_predictions(records: list[dict[str, Any]], out: Path) -> None:
    write_atomic(out, dumps_jsonl(records))
