"""Two span taggers over the same token features, one BIO layer per label (SOURCE, CUE, CLAIM):

- :class:`CrfTagger`: a linear-chain CRF per layer (``sklearn-crfsuite``, L-BFGS with L1+L2), the standard
  model of attribution extractors such as Citron. The trained crfsuite models are kept as byte arrays, so
  skops saves them without pickle.
- :class:`TokenTagger`: a logistic-loss linear classifier per layer (``SGDClassifier`` over one shared
  ``DictVectorizer``), each token on its own; runs are repaired on decoding (an I after O starts a span).

Both follow the estimator contract (keyword-only parameters, learned attributes end in ``_``, ``fit``
returns ``self``) and return, per document and layer, the tags and each tag's probability.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.utils.validation import check_is_fitted

from train.attribution.tokens import LABELS

Features = list[list[dict[str, Any]]]
Layers = list[dict[str, list[str]]]
#: Per document, per label: (tags, probability of each tag).
Tagged = list[dict[str, tuple[list[str], list[float]]]]


def _check(X: Features, Y: Layers) -> None:
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} documents and Y has {len(Y)}")
    for i, (x, y) in enumerate(zip(X, Y, strict=True)):
        for label in LABELS:
            if len(y[label]) != len(x):
                raise ValueError(f"document {i}: {len(x)} tokens but {len(y[label])} {label} tags")


def _int32(matrix: Any) -> Any:
    """CSR with 32-bit indices (DictVectorizer over a generator builds 64-bit ones, which SGD refuses)."""
    matrix = matrix.tocsr()
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix


class CrfTagger(BaseEstimator):
    """A linear-chain CRF per label layer (crfsuite, L-BFGS)."""

    def __init__(self, *, c1: float = 0.05, c2: float = 0.01, max_iterations: int = 60) -> None:
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations

    def fit(self, X: Features, Y: Layers) -> CrfTagger:
        import pycrfsuite
        import sklearn_crfsuite

        _check(X, Y)
        sequences = [pycrfsuite.ItemSequence(x) for x in X]  # converted once, shared by the layers
        self.models_: dict[str, np.ndarray] = {}
        for label in LABELS:
            crf = sklearn_crfsuite.CRF(
                algorithm="lbfgs",
                c1=self.c1,
                c2=self.c2,
                max_iterations=self.max_iterations,
                all_possible_transitions=True,
            )
            crf.fit(sequences, [y[label] for y in Y])
            with open(crf.modelfile.name, "rb") as handle:
                self.models_[label] = np.frombuffer(handle.read(), dtype=np.uint8).copy()
        return self

    def tag(self, X: Features) -> Tagged:
        import pycrfsuite

        check_is_fitted(self)
        out: Tagged = [{} for _ in X]
        for label in LABELS:
            tagger = pycrfsuite.Tagger()
            model = self.models_[label].tobytes()  # crfsuite reads this buffer: keep it alive while tagging
            tagger.open_inmemory(model)
            for doc, x in zip(out, X, strict=True):
                if not x:
                    doc[label] = ([], [])
                    continue
                tagger.set(pycrfsuite.ItemSequence(x))
                tags = tagger.tag()
                doc[label] = (tags, [tagger.marginal(t, i) for i, t in enumerate(tags)])
            tagger.close()
            del model
        return out


class TokenTagger(BaseEstimator):
    """A logistic-loss linear classifier per label layer, one token at a time (SGD over DictVectorizer)."""

    def __init__(self, *, alpha: float = 1e-5, max_iter: int = 10, random_state: int = 13) -> None:
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Features, Y: Layers) -> TokenTagger:
        _check(X, Y)
        self.vectorizer_ = DictVectorizer()
        matrix = _int32(self.vectorizer_.fit_transform(f for x in X for f in x))
        self.classifiers_: dict[str, SGDClassifier] = {}
        for label in LABELS:
            target = np.array([t for y in Y for t in y[label]])
            classifier = SGDClassifier(
                loss="log_loss",
                alpha=self.alpha,
                max_iter=self.max_iter,
                tol=1e-4,
                random_state=self.random_state,
            )
            with warnings.catch_warnings():  # a few epochs suffice for ranking tags; no need to say so
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.classifiers_[label] = classifier.fit(matrix, target)
        return self

    def tag(self, X: Features) -> Tagged:
        check_is_fitted(self)
        lengths = [len(x) for x in X]
        out: Tagged = [{} for _ in X]
        if not sum(lengths):
            return [dict.fromkeys(LABELS, ([], [])) for _ in X]
        matrix = _int32(self.vectorizer_.transform(f for x in X for f in x))
        bounds = np.cumsum([0, *lengths])
        for label in LABELS:
            classifier = self.classifiers_[label]
            probabilities = classifier.predict_proba(matrix)
            best = probabilities.argmax(axis=1)
            tags = classifier.classes_[best].tolist()
            scores = probabilities[np.arange(len(best)), best].tolist()
            for k, doc in enumerate(out):
                doc[label] = (tags[bounds[k] : bounds[k + 1]], scores[bounds[k] : bounds[k + 1]])
        return out


#: Model name -> a new, unfitted tagger.
def tagger(name: str) -> CrfTagger | TokenTagger:
    if name == "crf":
        return CrfTagger()
    if name == "token-lr":
        return TokenTagger()
    raise ValueError(f"The 'model' parameter must be one of {list(MODEL_NAMES)}. Got {name!r} instead.")


MODEL_NAMES: tuple[str, ...] = ("crf", "token-lr")
