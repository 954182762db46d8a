"""Headline ↔ body stance (FNC-1 style pairs): the challenge's metric and a pair-feature transformer.

The FNC-1 score gives each pair 0.25 for getting related vs unrelated right (support, oppose and neutral
all count as related) and a further 0.75 for the exact label of a related pair; the reported figure is
the sum over the best possible sum, in percent.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from schemas import vocabulary as V
from train.pair_context import BodyContext, context_feature_names, context_features, cue_rates, cue_sets

UNRELATED = V.DocumentStance.UNRELATED.value

_TOKEN = re.compile(r"[a-z0-9]+")
#: Words that mark a denial or debunking (the FNC-1 baseline's list, extended).
REFUTING = [
    "fake",
    "fraud",
    "hoax",
    "false",
    "deny",
    "denies",
    "denied",
    "not",
    "despite",
    "nope",
    "doubt",
    "doubts",
    "bogus",
    "debunk",
    "debunked",
    "debunks",
    "pranks",
    "retract",
    "retracts",
    "retracted",
    "untrue",
    "myth",
    "misleading",
    "satire",
    "rumor",
    "rumour",
]
#: Words that mark reporting without commitment (typical of "discuss").
DISCUSSING = [
    "reportedly",
    "allegedly",
    "claims",
    "claimed",
    "claim",
    "according",
    "reports",
    "reported",
    "rumors",
    "rumours",
    "purported",
    "purportedly",
    "unconfirmed",
    "unverified",
    "apparently",
    "appears",
    "may",
    "might",
    "could",
    "suggest",
    "suggests",
    "says",
    "said",
]


def fnc_score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """FNC-1's weighted score: raw sum, best possible sum, and the percentage."""
    true_related = y_true != UNRELATED
    pred_related = y_pred != UNRELATED
    raw = 0.25 * np.sum(true_related == pred_related) + 0.75 * np.sum(true_related & (y_true == y_pred))
    best = 0.25 * len(y_true) + 0.75 * np.sum(true_related)
    return {
        "fnc1_score": round(float(raw), 2),
        "fnc1_max": round(float(best), 2),
        "fnc1_percent": round(100 * float(raw) / float(best), 2) if best else 0.0,
    }


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def hashed_tfidf(n_features: int = 2**18, stop_words: str | None = "english") -> Pipeline:
    """TF-IDF over hashed words: no vocabulary to store, so model files stay small and fast to save
    (a 20k-term vocabulary costs ≈ 20 MB and a minute in skops)."""
    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    n_features=n_features,
                    stop_words=stop_words,
                    alternate_sign=False,
                    norm=None,
                    dtype=np.float32,
                ),
            ),
            ("idf", TfidfTransformer(sublinear_tf=True)),
        ]
    )


def _cosine(a: Any, b: Any) -> np.ndarray:
    """Row-wise cosine of two L2-normalised sparse matrices."""
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


class _Body:
    """What the pair features need of one body, computed once per distinct body."""

    def __init__(self, body: str) -> None:
        tokens = _tokens(body)
        self.set, self.lead = set(tokens), set(tokens[:60])
        self.grams = {n: _ngrams(tokens, n) for n in (2, 3, 4)}
        length = max(len(tokens), 1)
        self.rates = [
            sum(t in REFUTING for t in tokens) / length * 100,
            sum(t in DISCUSSING for t in tokens) / length * 100,
            float(np.log1p(len(tokens))),
        ]


class _Head:
    def __init__(self, headline: str) -> None:
        tokens = _tokens(headline)
        self.set = set(tokens)
        self.grams = {n: _ngrams(tokens, n) for n in (2, 3, 4)}
        self.flags = [float(w in self.set) for w in REFUTING] + [
            sum(t in DISCUSSING for t in tokens) / max(len(tokens), 1),
            float(headline.strip().endswith("?")),
            float(np.log1p(len(tokens))),
        ]


def _hand_features(head: _Head, body: _Body) -> list[float]:
    """Overlap, n-gram hits, refuting/discussing words and lengths of one pair."""
    shared, union = len(head.set & body.set), len(head.set | body.set)
    size = max(len(head.set), 1)
    features = [shared / union if union else 0.0, shared / size, len(head.set & body.lead) / size]
    features += [len(g & body.grams[n]) / len(g) if g else 0.0 for n, g in head.grams.items()]
    return features + head.flags + body.rates


def feature_names() -> list[str]:
    names = ["cos_body", "cos_lead", "jaccard", "head_in_body", "head_in_lead"]
    names += [f"{n}gram_hits" for n in (2, 3, 4)]
    names += [f"head_has_{w}" for w in REFUTING] + ["head_discussing", "head_question", "head_len"]
    return [*names, "body_refuting", "body_discussing", "body_len"]


class PairFeatures(TransformerMixin, BaseEstimator):
    """Dense features of (headline, body) pairs from columns ``target`` and ``text``.

    TF-IDF cosine of headline vs body and vs the body's opening (vectoriser fitted on the training
    headlines and bodies), plus :func:`_hand_features`; with ``context`` also the sentence-level
    features of :mod:`train.pair_context` (similarity to the closest sentences and the cues in them).
    Bodies repeat across pairs, so each distinct body is processed once.
    """

    def __init__(self, n_features: int = 2**18, lead_chars: int = 400, context: bool = True) -> None:
        self.n_features = n_features
        self.lead_chars = lead_chars
        self.context = context

    def fit(self, X: pd.DataFrame, y: Any = None) -> PairFeatures:
        bodies = pd.unique(X["text"].to_numpy())
        heads = pd.unique(X["target"].to_numpy())
        self.vectorizer_ = hashed_tfidf(self.n_features).fit(np.concatenate([bodies, heads]))
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "vectorizer_")
        body_codes, bodies = pd.factorize(X["text"].to_numpy())
        head_codes, heads = pd.factorize(X["target"].to_numpy())
        body_matrix = self.vectorizer_.transform(bodies)
        head_matrix = self.vectorizer_.transform(heads)
        body_vectors = body_matrix[body_codes]
        lead_vectors = self.vectorizer_.transform([b[: self.lead_chars] for b in bodies])[body_codes]
        head_vectors = head_matrix[head_codes]
        cosines = np.column_stack([_cosine(head_vectors, body_vectors), _cosine(head_vectors, lead_vectors)])
        body_info = [_Body(b) for b in bodies]
        head_info = [_Head(h) for h in heads]
        hand = np.asarray(
            [_hand_features(head_info[h], body_info[b]) for h, b in zip(head_codes, body_codes, strict=True)],
            dtype=np.float32,
        )
        parts = [cosines, hand]
        if self.context:
            parts.append(self._context(bodies, heads, body_codes, head_codes, head_matrix))
        return np.column_stack(parts).astype(np.float32)

    def _context(
        self, bodies: Any, heads: Any, body_codes: np.ndarray, head_codes: np.ndarray, head_matrix: Any
    ) -> np.ndarray:
        sets = cue_sets(REFUTING, DISCUSSING)
        head_cues = [cue_rates(h, sets) for h in heads]
        out = np.zeros((len(body_codes), len(context_feature_names(sets))), dtype=np.float32)
        order = np.argsort(body_codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(body_codes[order]) != 0])
        for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
            rows = order[start:end]
            body = BodyContext(bodies[body_codes[rows[0]]], self.vectorizer_, sets)
            codes = head_codes[rows]
            out[rows] = context_features(
                head_matrix[codes], [heads[c] for c in codes], body, [head_cues[c] for c in codes]
            )
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = feature_names()
        if self.context:
            names += context_feature_names(cue_sets(REFUTING, DISCUSSING))
        return np.asarray(names, dtype=object)
