"""Per-item predictions as JSON lines: what ``train`` writes per model and ``evaluate --predictions``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from stancebank.files import write_atomic


def prediction_lines(
    ids: np.ndarray, gold: np.ndarray, predicted: np.ndarray, confidence: np.ndarray | None, kind: str
) -> list[dict[str, Any]]:
    """One record per item: ``id``, ``gold``, ``predicted`` and ``probability`` (of the predicted class;
    null for a model without probabilities) or, for scores, ``score`` (the prediction, clipped)."""
    lines = []
    for i, (item, true, guess) in enumerate(
        zip(ids.tolist(), gold.tolist(), predicted.tolist(), strict=True)
    ):
        if kind == "regression":
            lines.append({"id": item, "gold": round(float(true), 4), "predicted": round(float(guess), 4)})
            lines[-1]["score"] = lines[-1]["predicted"]
            continue
        probability = None if confidence is None else round(float(confidence[i]), 4)
        lines.append({"id": item, "gold": str(true), "predicted": str(guess), "probability": probability})
    return lines


def write_item_predictions(
    path: Path, data: Any, predicted: np.ndarray, confidence: np.ndarray | None, kind: str
) -> None:
    """Write :func:`prediction_lines` of a :class:`train.baselines.Frame` atomically."""
    records = prediction_lines(data.ids, data.y, predicted, confidence, kind)
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
