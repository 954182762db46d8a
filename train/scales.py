"""Score scales of regression tasks: the range comes from the data, the grade mapping from its importer.

An importer that keeps a numeric score writes the scale next to it (span metadata ``scale_min``,
``scale_max`` and ``scale``, the name of its mapping); the export carries them as the claims columns
``score_min``, ``score_max`` and ``score_scale``. A dataset without them gets the range of the scores
it was fitted on and no mapped grades. Nothing here knows a corpus's range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted


@dataclass(frozen=True)
class Scale:
    """A score range and the name of the mapping of its scores onto grades ("" when there is none)."""

    low: float
    high: float
    mapping: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "mapping": self.mapping}  # not a label

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scale:
        return cls(float(data["low"]), float(data["high"]), str(data.get("mapping") or ""))  # not a label

    def clip(self, values: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(values, dtype=float), self.low, self.high)


def scale_of(data: pd.DataFrame) -> Scale | None:
    """The scale the rows declare (the widest range if they differ), or None if they declare none."""
    if "score_min" not in data or not data["score_min"].notna().any():
        return None
    names = [n for n in data.get("score_scale", pd.Series(dtype=object)).dropna().unique() if n]
    return Scale(
        float(data["score_min"].min()),
        float(data["score_max"].max()),
        str(names[0]) if len(names) == 1 else "",
    )


def observed_scale(y: np.ndarray) -> Scale:
    """The range of the scores a model was fitted on: the fallback when the data declares none."""
    return Scale(float(np.min(y)), float(np.max(y)))


def _certainty_1_6() -> tuple[Callable[[float], str], list[str]]:
    from stancebank.importers.certainty import THRESHOLDS, certainty_of_score

    return (lambda v: certainty_of_score(v).value), [grade.value for _, grade in THRESHOLDS]


def _factuality() -> tuple[Callable[[float], str], list[str]]:
    from schemas import vocabulary as V
    from stancebank.importers.conll import factbank_of_score

    return factbank_of_score, V.values(V.FactBank)


#: Mapping name (written by the importer) -> (score -> grade, the grades in order).
MAPPINGS: dict[str, Callable[[], tuple[Callable[[float], str], list[str]]]] = {
    "certainty-grade": _certainty_1_6,
    "factbank": _factuality,
}


def grades(scale: Scale, scores: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """Scores (clipped to the scale) as the grades of the scale's own mapping, or None without one."""
    if scale.mapping not in MAPPINGS:
        return None
    mapping, labels = MAPPINGS[scale.mapping]()
    return np.asarray([mapping(float(v)) for v in scale.clip(scores)], dtype=object), labels


class MostFrequentValue(RegressorMixin, BaseEstimator):
    """A floor: always the most frequent score of the fitting data (ties: the smallest), e.g. +3 on a
    factuality corpus where most events are stated as facts."""

    def fit(self, X: Any, y: Any) -> MostFrequentValue:
        values, counts = np.unique(np.asarray(y, dtype=float), return_counts=True)
        self.value_ = float(values[int(np.argmax(counts))])
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "value_")
        return np.full(len(X), self.value_)
