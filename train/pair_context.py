"""Pair features that do not depend on having seen the headline: how the body talks about it.

The body's sentences closest to the target (TF-IDF cosine) are where a body agrees, denies or only
reports; this module measures their similarity to the target at sentence level, and the refuting,
hedging, reporting, negation and question cues in them, next to the same cues in the whole body and in
the target. Lexicons are the toolkit's (train.cues) and the refuting/discussing lists of train.pairs:
nothing is fitted to one corpus.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from train.cues import LEXICONS

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TOKEN = re.compile(r"[a-z0-9']+")
#: Sentences of the body read per pair: the closest ones to the target.
TOP = 3


def _word_set(words: tuple[str, ...] | list[str]) -> frozenset[str]:
    return frozenset(w for w in words if " " not in w)


def cue_sets(refuting: list[str], discussing: list[str]) -> dict[str, frozenset[str]]:
    """Single-word cue lexicons by name (multi-word cues of train.cues are matched as phrases)."""
    return {
        "refuting": frozenset(refuting),
        "discussing": frozenset(discussing),
        **{name: _word_set(words) for name, words in LEXICONS.items()},
    }


def sentences(body: str) -> list[str]:
    """The body's sentences (at least one: the body itself)."""
    found = [s.strip() for s in _SENTENCE.findall(body) if len(s.strip()) > 2]
    return found or [body]


def cue_rates(text: str, sets: dict[str, frozenset[str]]) -> list[float]:
    """Per lexicon: cue words per 100 tokens of ``text``, then question marks per sentence."""
    tokens = _TOKEN.findall(text.lower())
    size = max(len(tokens), 1)
    rates = [100 * sum(t in words for t in tokens) / size for words in sets.values()]
    return [*rates, text.count("?") / max(len(sentences(text)), 1)]


def cue_names(sets: dict[str, Any], prefix: str) -> list[str]:
    return [f"{prefix}_{name}" for name in sets] + [f"{prefix}_questions"]


def char_grams(text: str, n: int = 5) -> set[str]:
    squashed = " ".join(_TOKEN.findall(text.lower()))
    return {squashed[i : i + n] for i in range(max(len(squashed) - n + 1, 0))}


class BodyContext:
    """One body: its sentences' TF-IDF vectors and cue rates, whole-body cue rates and char grams."""

    def __init__(self, body: str, vectorizer: Any, sets: dict[str, frozenset[str]]) -> None:
        self.sentences = sentences(body)
        self.vectors = vectorizer.transform(self.sentences)
        self.cues = np.asarray([cue_rates(s, sets) for s in self.sentences], dtype=np.float32)
        self.body_cues = cue_rates(body, sets)
        self.grams = char_grams(body)


def context_features(
    head_vectors: Any, heads: list[str], body: BodyContext, head_cues: list[list[float]]
) -> np.ndarray:
    """Rows for the heads paired with one body: sentence similarity (max, mean of the top sentences,
    position of the best one), cue rates of the top sentences weighted by similarity, whole-body cue
    rates, the heads' own cue rates and their char 5-gram containment in the body, and agreement of
    refuting cues between head and top sentences."""
    similarity = (head_vectors @ body.vectors.T).toarray()  # heads × sentences, rows L2-normalised
    n = similarity.shape[1]
    k = min(TOP, n)
    order = np.argsort(-similarity, axis=1)[:, :k]
    top = np.take_along_axis(similarity, order, axis=1)
    weights = top / np.maximum(top.sum(axis=1, keepdims=True), 1e-9)
    top_cues = np.einsum("hk,hkc->hc", weights, body.cues[order])
    best_position = order[:, 0] / max(n - 1, 1)
    containment = [len(g & body.grams) / len(g) if (g := char_grams(h)) else 0.0 for h in heads]
    head = np.asarray(head_cues, dtype=np.float32)
    refuting_mismatch = np.abs((head[:, 0] > 0).astype(float) - (top_cues[:, 0] > 0).astype(float))
    return np.column_stack(
        [
            top[:, 0],
            top.mean(axis=1),
            best_position,
            np.asarray(containment),
            top_cues,
            np.tile(np.asarray(body.body_cues, dtype=np.float32), (len(heads), 1)),
            head,
            refuting_mismatch,
        ]
    ).astype(np.float32)


def context_feature_names(sets: dict[str, Any]) -> list[str]:
    return [
        "sent_cos_max",
        "sent_cos_top_mean",
        "sent_best_position",
        "char5_containment",
        *cue_names(sets, "top_sentences"),
        *cue_names(sets, "body"),
        *cue_names(sets, "head"),
        "refuting_mismatch",
    ]
