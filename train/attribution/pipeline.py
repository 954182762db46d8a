"""An attribution model: a span tagger and a linker, fitted together and saved as one skops file.

Also reads the examples from the exported dataset: the ``articles`` config has one row per task; spans
do not depend on the target, so an article with several targets counts once (its row with the most
spans, ties by target id), and nothing of one article reaches two splits (the export splits by article).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator

from train.attribution.features import doc_features
from train.attribution.linker import Linker, Span
from train.attribution.models import CrfTagger, TokenTagger, tagger
from train.attribution.tokens import LABELS, Doc, char_span, decode, encode, tokenize


@dataclass
class Example:
    """One article with its spans and relations (type, from_id, to_id)."""

    article_id: str
    text: str
    spans: list[Span] = field(default_factory=list)
    relations: set[tuple[str, str, str]] = field(default_factory=set)


@dataclass
class Prediction:
    spans: list[tuple[Span, float]]
    relations: list[tuple[str, str, str, float]]


def examples_of(split: Any) -> list[Example]:
    """Examples of a ``datasets`` split of the ``articles`` config (ClassLabel ints decoded)."""
    label_names = split.features["spans"].feature["label"].names
    relation_names = split.features["relations"].feature["type"].names
    chosen: dict[str, tuple[tuple[int, str], dict[str, Any]]] = {}
    for row in split:
        key = (-len(row["spans"]), row["target_id"])
        if row["article_id"] not in chosen or key < chosen[row["article_id"]][0]:
            chosen[row["article_id"]] = (key, row)
    out = []
    for article_id in sorted(chosen):
        row = chosen[article_id][1]
        spans = [Span(s["span_id"], label_names[s["label"]], s["start"], s["end"]) for s in row["spans"]]
        relations = {(relation_names[r["type"]], r["from_id"], r["to_id"]) for r in row["relations"]}
        out.append(Example(article_id, row["text"], spans, relations))
    return out


class AttributionModel(BaseEstimator):
    """Tag SOURCE/CUE/CLAIM spans (``model``: crf or token-lr), then link them."""

    def __init__(self, *, model: str = "crf") -> None:
        self.model = model

    def fit(self, examples: Sequence[Example]) -> AttributionModel:
        docs = [tokenize(e.text) for e in examples]
        layers, dropped = [], 0
        for doc, example in zip(docs, examples, strict=True):
            tags, lost = encode(doc, [(s.label, s.start, s.end) for s in example.spans])
            layers.append(tags)
            dropped += lost
        self.tagger_: CrfTagger | TokenTagger = tagger(self.model).fit(
            [doc_features(d) for d in docs], layers
        )
        self.linker_ = Linker().fit(docs, [e.spans for e in examples], [e.relations for e in examples])
        self.n_tokens_ = sum(len(d) for d in docs)
        self.n_dropped_spans_ = dropped
        return self

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        docs = [tokenize(t) for t in texts]
        tagged = self.tagger_.tag([doc_features(d) for d in docs])
        out = []
        for doc, layers in zip(docs, tagged, strict=True):
            spans = spans_of(doc, layers)
            relations = self.linker_.link(doc, [s for s, _ in spans])
            out.append(Prediction(spans, relations))
        return out


def spans_of(doc: Doc, layers: dict[str, tuple[list[str], list[float]]]) -> list[tuple[Span, float]]:
    """The tagged runs of every layer as spans ``p1``, ``p2``… (by position), each with the mean
    probability of its tags."""
    found = []
    for label in LABELS:
        tags, probabilities = layers[label]
        for first, last in decode(tags):
            start, end = char_span(doc, first, last)
            score = sum(probabilities[first:last]) / (last - first)
            found.append((start, end, label, score))
    found.sort()
    return [(Span(f"p{i}", label, s, e), round(score, 4)) for i, (s, e, label, score) in enumerate(found, 1)]
