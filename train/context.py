"""Features of a token's context for token-level certainty (event factuality): the words around the
event token, the sentence's cues and how far they are from it, and any POS / lemma / dependency columns
the CoNLL file carried (the export's ``token_info``). Lexicons are the toolkit's (train.cues)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from train.cues import LEXICONS

_TOKEN = re.compile(r"\S+")
#: Tokens on each side that form the window, and the distance reported when a sentence has no such cue.
WINDOW = 3
FAR = 20
_SINGLE = {name: frozenset(w for w in words if " " not in w) for name, words in LEXICONS.items()}


def _words(text: str) -> list[str]:
    return [w.lower().strip(".,;:!?\"'()") for w in _TOKEN.findall(text)]


def window_text(left: str, token: str, right: str) -> str:
    """Position-marked words around the token: ``L1_said T_fail R1_.`` (for a TF-IDF of the window)."""
    before, after = _words(left)[-WINDOW:], _words(right)[:WINDOW]
    marked = [f"L{len(before) - i}_{w}" for i, w in enumerate(before)]
    marked += [f"T_{w}" for w in _words(token)] + [f"R{i + 1}_{w}" for i, w in enumerate(after)]
    return " ".join(marked)


def context_row(left: str, token: str, right: str) -> list[float]:
    """Per lexicon: cues in the left window, in the right window, in the sentence, the distance in words
    to the nearest one before the token and whether the token is one; then the token's relative
    position and a question mark in the sentence."""
    before, after, own = _words(left), _words(right), _words(token)
    row: list[float] = []
    for words in _SINGLE.values():
        left_hits = [i for i, w in enumerate(reversed(before)) if w in words]
        row += [
            sum(w in words for w in before[-WINDOW:]),
            sum(w in words for w in after[:WINDOW]),
            sum(w in words for w in before + after),
            float(min(left_hits[0] + 1, FAR)) if left_hits else float(FAR),
            float(any(w in words for w in own)),
        ]
    size = len(before) + len(own) + len(after)
    return [*row, len(before) / max(size, 1), float("?" in left + right)]


def context_names() -> list[str]:
    names = []
    for name in _SINGLE:
        names += [f"{name}_left", f"{name}_right", f"{name}_sentence", f"{name}_distance", f"{name}_token"]
    return [*names, "position", "question"]


class TokenContext(TransformerMixin, BaseEstimator):
    """Dense :func:`context_row` features from the columns ``left``, ``text`` and ``right``."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> TokenContext:
        self.n_features_out_ = len(context_names())
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        rows = [
            context_row(str(a), str(b), str(c))
            for a, b, c in zip(X["left"].tolist(), X["text"].tolist(), X["right"].tolist(), strict=True)
        ]
        return np.asarray(rows, dtype=float).reshape(len(rows), len(context_names()))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(context_names(), dtype=object)
