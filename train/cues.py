"""A scikit-learn transformer of certainty cues: the toolkit's knowledge of hedging, as features."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from schemas import vocabulary as V

#: Lexicons (lower case, matched on word boundaries).
LEXICONS: dict[str, tuple[str, ...]] = {
    V.CueType.HEDGE.value: (
        "may",
        "might",
        "could",
        "possible",  # not a label
        "possibly",
        "likely",
        "unlikely",
        "probably",
        "expected",
        "expect",
        "considering",
        "appears",
        "appeared",
        "suggest",
        "suggests",
        "suggested",
        "fear",
        "hoped",
        "hope",
        "aim",
        "chance",
        "tend",
        "rarely",
        "almost",
    ),
    V.CueType.NEGATION.value: (
        "not",
        "no",
        "never",
        "nobody",
        "none",
        "neither",
        "nor",
        "without",
        "too early",
        "declined",
        "denied",
        "cannot",
        "n't",
    ),
    V.CueType.ATTRIBUTION.value: (
        "said",
        "says",
        "told",
        "according to",
        "claimed",
        "reported",
        "announced",
        "confirmed",
        "warned",
        "added",
        "argued",
    ),
    "modal": ("will", "would", "should", "must", "can", "shall"),
    "uncertain_frame": (
        "whether",
        "unclear",
        "not known",
        "unknown",  # not a label
        "uncertain",
        "not clear",
    ),  # not a label
}
FEATURE_NAMES = (*(f"{name}_count" for name in LEXICONS), "question_mark", "quote", "length_words")


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


_PATTERNS = {name: _pattern(words) for name, words in LEXICONS.items()}


class CueFeatures(TransformerMixin, BaseEstimator):
    """Counts of hedge, negation, attribution, modal and open-question cues in each text.

    Input: a 2-D array or frame of texts, shape (n_samples, n_columns); a row's columns are joined with a
    space. Output: float counts, divided by ``1 + words`` when ``normalize``.
    """

    def __init__(self, *, normalize: bool = False) -> None:
        self.normalize = normalize

    def fit(self, X: Any, y: Any = None) -> CueFeatures:
        texts = self._texts(X, reset=True)
        self.n_texts_seen_ = len(texts)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        texts = self._texts(X, reset=False)
        rows = []
        for text in texts:
            words = len(text.split())
            counts = [len(p.findall(text)) for p in _PATTERNS.values()]
            row = [*counts, text.count("?"), text.count("“") + text.count('"'), words]
            if self.normalize:
                row = [v / (1 + words) for v in row[:-1]] + [np.log1p(words)]
            rows.append(row)
        return np.asarray(rows, dtype=float).reshape(len(texts), len(FEATURE_NAMES))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(FEATURE_NAMES, dtype=object)

    def _texts(self, X: Any, *, reset: bool) -> list[str]:
        if sp.issparse(X):
            raise TypeError(
                "Sparse data was passed, but CueFeatures needs dense texts: sparse input is not supported"
            )
        array = np.asarray(X, dtype=object)
        if array.ndim != 2:
            raise ValueError(
                f"Expected a 2D array of texts, got {array.ndim}D instead. Reshape your data with "
                "X.reshape(-1, 1) for a single column of texts."
            )
        for value in array.flat:
            if isinstance(value, complex | np.complexfloating):
                raise ValueError("Complex data not supported")
            if isinstance(value, float | np.floating) and not np.isfinite(value):
                raise ValueError("Input contains NaN or infinity")
        array = validate_data(self, array, dtype=None, ensure_all_finite=False, reset=reset)
        return [" ".join(str(v) for v in row) for row in array]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
