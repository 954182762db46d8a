"""``stancebank predict --model …/attribution/model-crf.skops``: pre-annotations with the real structure.

Each task gets the SOURCE, CUE and CLAIM regions the tagger finds (region score: the mean probability of
its tags), the ``source_of``/``cue_of`` relations the linker draws, and — for every ``--claim-model``
(certainty, polarity, stance) — that attribute's predicted value on each CLAIM, with the claim model's
probability. A task's score is the mean region score; tasks are written least confident first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from annotate import convert
from schemas import vocabulary as V
from stancebank.corpus import Corpus
from train.attribution.run import load
from train.baselines import TASKS, TrainingError
from train.evaluation import load_model, model_meta
from train.predict import least_confident_first
from train.rows import context

CLAIM = V.SpanLabel.CLAIM.value
CUE = V.SpanLabel.CUE.value


def _claim_models(paths: Sequence[Path]) -> list[tuple[str, Any]]:
    from train.predict import CLAIM_TASKS

    models = []
    for path in paths:
        meta = model_meta(path)
        if meta["task"] not in CLAIM_TASKS:
            raise TrainingError(f"{path}: --claim-model needs a claim model ({', '.join(CLAIM_TASKS)})")
        models.append((TASKS[meta["task"]].label, load_model(path)))
    return models


def _claim_values(
    text: str, target: str, spans: list[dict[str, Any]], cues_of: dict[str, list[str]], models: list[Any]
) -> None:
    """Set each claim model's value (and its probability, as ``score:<name>``) on the CLAIM spans."""
    claims = [s for s in spans if s["label"] == CLAIM]
    if not claims or not models:
        return
    inputs = pd.DataFrame(
        {
            "text": [c["text"] for c in claims],
            "context": [context(text, c["start"], c["end"]) for c in claims],
            "target": target,
            "cues": [" ".join(cues_of.get(c["id"], [])) for c in claims],
            "claims": "",
        }
    )
    for attribute, model in models:
        probabilities = model.predict_proba(inputs)
        classes = list(model.classes_)
        for claim, row in zip(claims, probabilities, strict=True):
            best = int(np.argmax(row))
            claim[attribute] = str(classes[best])
            claim[f"score:{attribute}"] = round(float(row[best]), 4)


def predict_attribution(
    model_path: Path,
    corpus: Corpus,
    *,
    include_annotated: bool = False,
    claim_models: Sequence[Path] = (),
) -> list[dict[str, Any]]:
    """Prediction records for ``studio push --predictions``, least confident task first."""
    from train.predict import unannotated_tasks

    model = load(model_path)
    extra = _claim_models(claim_models)
    texts = dict(zip(corpus["articles"]["article_id"], corpus["articles"]["text"], strict=True))
    target_text = dict(zip(corpus["targets"]["target_id"], corpus["targets"]["text"], strict=True))
    tasks = list(zip(corpus["targets"]["article_id"], corpus["targets"]["target_id"], strict=True))
    if not include_annotated:
        tasks = unannotated_tasks(corpus)
    articles = sorted({a for a, _ in tasks})
    predicted = dict(zip(articles, model.predict([texts[a] for a in articles]), strict=True))
    version = f"attribution-{model.model}" + "".join(f"+{a}" for a, _ in extra)
    records: list[dict[str, Any]] = []
    for article_id, target_id in tasks:
        text, prediction = texts[article_id], predicted[article_id]
        if not prediction.spans:
            continue
        spans = [
            {"id": s.span_id, "label": s.label, "start": s.start, "end": s.end, "text": text[s.start : s.end]}
            for s, _ in prediction.spans
        ]
        score_of = {s.span_id: score for s, score in prediction.spans}
        relations = [{"type": t, "from_id": f, "to_id": to} for t, f, to, _ in prediction.relations]
        cue_text = {s["id"]: s["text"] for s in spans if s["label"] == CUE}
        cues_of: dict[str, list[str]] = {}
        for r in relations:
            if r["from_id"] in cue_text:
                cues_of.setdefault(r["to_id"], []).append(cue_text[r["from_id"]])
        _claim_values(text, target_text[target_id], spans, cues_of, extra)
        results = convert.annotation_to_results(spans, relations)
        by_id = {s["id"]: s for s in spans}
        for result in results:
            if result.get("type") == "labels":
                result["score"] = score_of[result["id"]]
            elif result.get("type") == "choices":
                result["score"] = by_id[result["id"]].get(f"score:{result['from_name']}", 0.0)
        confidence = float(np.mean(list(score_of.values())))
        records.append(
            {
                "task_key": convert.task_key(article_id, target_id),
                "model_version": version,
                "score": round(confidence, 4),
                "uncertainty": round(1 - confidence, 4),
                "result": results,
            }
        )
    records.sort(key=least_confident_first)
    return records
