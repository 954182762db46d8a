"""Baseline tasks and models: scikit-learn Pipelines trained on the exported Hugging Face dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from schemas.errors import StanceBankError
from train.context import TokenContext, window_text
from train.cues import CueFeatures
from train.pair_dev import dev_figures, dev_scorers, disjoint_dev
from train.pairs import PairFeatures, hashed_tfidf
from train.scales import MostFrequentValue, Scale, scale_of

SEED = 13


class TrainingError(StanceBankError, ValueError):
    """A task, model or dataset cannot be used for training or evaluation."""


@dataclass(frozen=True)
class Task:
    """What to predict, from which config, and which columns form the input.

    ``kind`` is ``classification`` (a ClassLabel column), ``regression`` (a float column; rows without
    a value are left out) or ``pairs`` (headline ↔ body classification).
    """

    name: str
    config: str
    label: str
    text_columns: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    kind: str = "classification"
    #: Token-context text columns (``window``, ``token_info``) of the context model, when they have text.
    context_columns: tuple[str, ...] = ()


class Frame(NamedTuple):
    """One split of a task: inputs, labels (names, or floats for regression), the CV/split group of each
    row (the export's ``group`` column, else the article), each row's id, and the data's score range."""

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    ids: np.ndarray
    scale: Scale | None = None


TASKS: dict[str, Task] = {
    "certainty": Task("certainty", "claims", "certainty", ("text", "context", "cues")),
    "polarity": Task("polarity", "claims", "polarity", ("text", "context", "cues")),
    "stance": Task("stance", "claims", "stance", ("text", "target", "context")),
    "reliability": Task(
        "reliability", "sources", "reliability", ("text", "claims", "context"), ("identified", "source_type")
    ),
}


#: Tasks on imported corpora (not part of ``--task all``, which covers our own corpus).
CORPUS_TASKS: dict[str, Task] = {
    "pairs": Task("pairs", "pairs", "doc_label", ("target", "text"), kind="pairs"),
    "certainty-score": Task(
        "certainty-score",
        "claims",
        "original_score",
        ("text", "context", "cues"),
        kind="regression",
        context_columns=("window", "token_info"),
    ),
}
ALL_TASKS: dict[str, Task] = {**TASKS, **CORPUS_TASKS}
#: Older names still accepted: ``fnc1`` was the pair task's name when FNC-1 was its only corpus.
TASK_ALIASES = {"fnc1": "pairs"}
#: The id column of each config (written into predictions).
ID_COLUMNS = {"claims": "claim_id", "sources": "source_id", "pairs": "annotation_id"}


def task_of(name: str) -> Task:
    """A task by name or alias."""
    name = TASK_ALIASES.get(name, name)
    if name not in ALL_TASKS:
        raise TrainingError(f"unknown task {name!r} (has {list(ALL_TASKS)})")
    return ALL_TASKS[name]


def frame(split: Any, task: Task) -> Frame:
    """Inputs, labels, groups, ids and score range of one split (see :class:`Frame`)."""
    features = split.features
    data = split.to_pandas()
    if task.label not in data:
        raise TrainingError(f"the dataset has no column {task.label!r} for task {task.name!r}")
    if task.kind == "regression":
        data = data[data[task.label].notna()].reset_index(drop=True)
        labels = data[task.label].to_numpy(dtype=float)
    else:
        data = data[data[task.label].notna()].reset_index(drop=True)
        names = features[task.label].names
        labels = np.asarray([names[int(i)] for i in data[task.label]], dtype=object)
    inputs = pd.DataFrame(index=data.index)
    inputs["text"] = data["text"].fillna("")
    inputs["context"] = data.get("context", pd.Series("", index=data.index)).fillna("")
    inputs["target"] = data.get("target", pd.Series("", index=data.index)).fillna("")
    inputs["cues"] = data["cue_texts"].map(" ".join) if "cue_texts" in data else ""
    inputs["claims"] = data["claim_texts"].map(" ".join) if "claim_texts" in data else ""
    inputs["left"], inputs["right"] = _sides(data)
    inputs["window"] = [
        window_text(a, b, c) for a, b, c in zip(inputs["left"], inputs["text"], inputs["right"], strict=True)
    ]
    inputs["token_info"] = data["token_info"].fillna("") if "token_info" in data else ""
    for column in task.categorical:
        values = data[column]
        inputs[column] = [
            "none" if v is None or (isinstance(v, float) and np.isnan(v)) else features[column].names[int(v)]
            for v in values
        ]
    groups = data["article_id"].astype(str)
    if "group" in data:  # the export's split/CV group (claim, topic, event) when the importer named one
        groups = data["group"].where(data["group"].notna() & (data["group"] != ""), groups).astype(str)
    id_column = ID_COLUMNS.get(task.config, "article_id")
    ids = data[id_column if id_column in data else "article_id"].astype(str).to_numpy()
    scale = scale_of(data) if task.kind == "regression" else None
    return Frame(inputs, labels, groups.to_numpy(), ids, scale)


def _sides(data: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The context left and right of each span (empty without ``context_start``)."""
    if "context_start" not in data or "context" not in data:
        return [""] * len(data), [""] * len(data)
    left, right = [], []
    for context, offset, start, end in zip(
        data["context"].fillna("").tolist(),
        data["context_start"].tolist(),
        data["start"].tolist(),
        data["end"].tolist(),
        strict=True,
    ):
        left.append(context[: max(int(start) - int(offset), 0)])
        right.append(context[max(int(end) - int(offset), 0) :])
    return left, right


def _joined(columns: tuple[str, ...]) -> Callable[[pd.DataFrame], pd.Series]:
    def join(X: pd.DataFrame) -> pd.Series:
        return X[list(columns)].astype(str).agg(" | ".join, axis=1)

    return join


def _text_union(task: Task, vectorizer: Any, *, with_cues: bool = False) -> ColumnTransformer:
    parts: list[tuple[str, Any, Any]] = [
        (f"tfidf_{c}", TfidfVectorizer(**vectorizer), c) for c in task.text_columns
    ]
    if with_cues:
        cues = Pipeline([("count", CueFeatures(normalize=True)), ("scale", StandardScaler())])
        parts.append(("cues", cues, list(task.text_columns[:2])))
    if task.categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), list(task.categorical)))
    return ColumnTransformer(parts)


def pair_models(task: Task) -> dict[str, tuple[Pipeline, dict[str, list[Any]]]]:
    """Target ↔ text models: TF-IDF words plus pair features (memorises targets), and pair features
    alone (overlap, sentence similarity, cues near the target) with class weights so that rare classes
    such as ``oppose`` are predicted; pair-gbdt's weighting is chosen on the disjoint dev split."""
    scaled = Pipeline([("pair", PairFeatures()), ("scale", StandardScaler())])
    return {
        "majority": (Pipeline([("model", DummyClassifier(strategy="most_frequent"))]), {}),
        "tfidf-lr": (
            Pipeline(
                [
                    (
                        "features",
                        ColumnTransformer(
                            [
                                ("tfidf_target", hashed_tfidf(2**16, stop_words=None), "target"),
                                ("tfidf_text", hashed_tfidf(2**16, stop_words=None), "text"),
                                ("pair", scaled, ["target", "text"]),
                            ]
                        ),
                    ),
                    ("model", LogisticRegression(max_iter=2000, C=1.0, random_state=SEED)),
                ]
            ),
            {},
        ),
        "pair-lr": (
            Pipeline(
                [
                    ("features", PairFeatures()),
                    ("scale", StandardScaler()),
                    ("model", LogisticRegression(max_iter=3000, class_weight="balanced", random_state=SEED)),
                ]
            ),
            {},
        ),
        "pair-gbdt": (
            Pipeline(
                [
                    ("features", PairFeatures()),
                    ("model", HistGradientBoostingClassifier(max_iter=300, random_state=SEED)),
                ]
            ),
            {"model__class_weight": [None, "balanced"]},
        ),
    }


def regression_models(task: Task) -> dict[str, tuple[Pipeline, dict[str, list[Any]]]]:
    """Score regressors: the mean, TF-IDF ridge, and ridge on TF-IDF plus cue features."""
    word = {"ngram_range": (1, 2), "min_df": 1, "sublinear_tf": True}
    return {
        "mean": (Pipeline([("model", DummyRegressor(strategy="mean"))]), {}),
        "median": (Pipeline([("model", DummyRegressor(strategy="median"))]), {}),
        "most-frequent": (Pipeline([("model", MostFrequentValue())]), {}),
        "tfidf-ridge": (
            Pipeline([("features", _text_union(task, word)), ("model", Ridge())]),
            {"model__alpha": [0.3, 1.0, 3.0, 10.0]},
        ),
        "cues-ridge": (
            Pipeline([("features", _text_union(task, word, with_cues=True)), ("model", Ridge())]),
            {"model__alpha": [0.3, 1.0, 3.0, 10.0]},
        ),
        "context-ridge": (
            Pipeline([("features", _context_union(task, word)), ("model", Ridge())]),
            {"model__alpha": [1.0, 3.0, 10.0]},
        ),
    }


def _context_union(task: Task, word: dict[str, Any]) -> ColumnTransformer:
    """The cue model's inputs plus the token's context: its window, TokenContext features and any
    POS/lemma/dependency columns (``token_info``) the corpus carries."""
    union = _text_union(task, word, with_cues=True)
    marked = {"token_pattern": r"\S+", "lowercase": False, "sublinear_tf": True}
    parts = list(union.transformers)
    parts += [(f"tfidf_{c}", TfidfVectorizer(**marked), c) for c in task.context_columns]
    parts.append(
        (
            "context",
            Pipeline([("count", TokenContext()), ("scale", StandardScaler())]),
            ["left", "text", "right"],
        )
    )
    return ColumnTransformer(parts)


def models(task: Task) -> dict[str, tuple[Pipeline, dict[str, list[Any]]]]:
    """Model name -> (pipeline, parameter grid for grouped cross-validation)."""
    if task.kind == "pairs":
        return pair_models(task)
    if task.kind == "regression":
        return regression_models(task)
    word = {"ngram_range": (1, 2), "min_df": 1, "sublinear_tf": True}
    char = {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True}
    logistic = {"max_iter": 2000, "class_weight": "balanced", "random_state": SEED}
    return {
        "majority": (Pipeline([("model", DummyClassifier(strategy="most_frequent"))]), {}),
        "stratified": (Pipeline([("model", DummyClassifier(strategy="stratified", random_state=SEED))]), {}),
        "tfidf-lr": (
            Pipeline([("features", _text_union(task, word)), ("model", LogisticRegression(**logistic))]),
            {"model__C": [0.3, 1.0, 3.0]},
        ),
        "char-svm": (
            Pipeline(
                [
                    ("features", _text_union(task, char)),
                    (
                        "model",
                        CalibratedClassifierCV(LinearSVC(class_weight="balanced", random_state=SEED), cv=3),
                    ),
                ]
            ),
            {"model__estimator__C": [0.1, 0.3, 1.0]},
        ),
        "cues-lr": (
            Pipeline(
                [
                    ("features", _text_union(task, word, with_cues=True)),
                    ("model", LogisticRegression(**logistic)),
                ]
            ),
            {"model__C": [0.3, 1.0, 3.0]},
        ),
    }


def fit(
    pipeline: Pipeline,
    grid: dict[str, list[Any]],
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    kind: str = "classification",
) -> tuple[Pipeline, dict[str, Any] | None]:
    """Choose hyper-parameters by grouped cross-validation, then refit on all of X.

    Pairs: every model (also one without a grid) is scored on a dev split disjoint in targets and
    texts (:mod:`train.pair_dev`), which also picks its hyper-parameters; those dev figures are
    returned with the model (None for other kinds, or when the corpus is too small for such a split).
    """
    if kind == "pairs":
        split = disjoint_dev(X["target"].to_numpy(), groups, y)
        if split:
            labels = sorted(set(y))
            search = GridSearchCV(
                pipeline,
                grid or [{}],
                cv=split,
                scoring=dev_scorers(labels),
                refit="macro_f1",
                n_jobs=1,
                error_score="raise",
            )
            search.fit(X, y)
            best: Pipeline = search.best_estimator_
            return best, dev_figures(search, y[split[0][1]], labels)
    if not grid:
        return pipeline.fit(X, y), None
    classifier = not isinstance(pipeline[-1], RegressorMixin)
    search = GridSearchCV(
        pipeline,
        grid,
        cv=GroupKFold(n_splits=min(5, len(set(groups)))),
        scoring="f1_macro" if classifier else "r2",
        n_jobs=1,
        error_score="raise",
    )
    search.fit(X, y, groups=groups)
    chosen: Pipeline = search.best_estimator_
    return chosen, None


def model_names(task: str = "certainty") -> list[str]:
    return list(models(task_of(task)))


def all_model_names() -> list[str]:
    """Every model name of every task (for ``--model``)."""
    return list(dict.fromkeys(n for task in ALL_TASKS for n in model_names(task)))


def model_path(out: Path, task: str, model: str) -> Path:
    return out / task / f"model-{model}.skops"
