"""Metrics with bootstrap intervals, confusion-matrix plots, the Markdown report, and skops files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.pipeline import Pipeline

from stancebank.corpus import write_atomic
from stancebank.plots import save_png
from train.baselines import TrainingError
from train.reports import fit_note, markdown, regression_markdown
from train.scales import Scale, grades

#: Where the types a StanceBank model file may hold beyond skops' defaults come from: scikit-learn and
#: numpy/scipy internals, and the feature and floor estimators of this package. What ``train`` saves is
#: derived with ``skops.io.get_untrusted_types`` and checked against these prefixes (a test trains every
#: model of every task and loads it again), so the list cannot drift from the models; anything else
#: (``os.system``, ``builtins.eval``, another package's class) is refused.
TRUSTED_PREFIXES = (
    "sklearn.",
    "numpy.dtypes.",
    "scipy.sparse.",
    "train.cues.",
    "train.pairs.",
    "train.scales.",
    "train.context.",
)


def refused_types(types: list[str]) -> list[str]:
    """The types of a model file outside :data:`TRUSTED_PREFIXES`."""
    return [t for t in types if not t.startswith(TRUSTED_PREFIXES)]


def bootstrap_accuracy_f1(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], *, n_bootstrap: int, seed: int
) -> tuple[list[float], list[float]]:
    """Accuracy and macro-F1 (zero_division=0, as scikit-learn) of ``n_bootstrap`` resamples of rows.

    Each resample is a confusion matrix from one ``np.bincount``: the same numbers as calling
    ``f1_score`` per resample (a test compares them), 100× faster on the 9,622 FNC-1 test pairs.
    """
    k = len(labels) + 1  # last code: a value outside ``labels``
    code = {label: i for i, label in enumerate(labels)}
    t = np.asarray([code.get(v, k - 1) for v in y_true])
    p = np.asarray([code.get(v, k - 1) for v in y_pred])
    same = np.asarray(y_true == y_pred, dtype=bool)
    rng = np.random.default_rng(seed)
    accs, f1s = [], []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(t), len(t))
        cm = np.bincount(t[idx] * k + p[idx], minlength=k * k).reshape(k, k)[: k - 1, : k - 1]
        accs.append(float(np.mean(same[idx])))
        tp = np.diag(cm)
        denominator = 2 * tp + (cm.sum(axis=0) - tp) + (cm.sum(axis=1) - tp)
        # labels outside ``labels`` are neither true nor predicted positives of any listed label
        fp_extra = np.bincount(p[idx][t[idx] == k - 1], minlength=k)[: k - 1]
        fn_extra = np.bincount(t[idx][p[idx] == k - 1], minlength=k)[: k - 1]
        denominator = denominator + fp_extra + fn_extra
        f1 = np.divide(2 * tp, denominator, out=np.zeros(k - 1), where=denominator > 0)
        f1s.append(float(f1.mean()))
    return accs, f1s


def metrics(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], *, n_bootstrap: int = 1000, seed: int = 13
) -> dict[str, Any]:
    """Accuracy, macro-F1 (95 % bootstrap intervals over rows) and per-class precision/recall/F1.

    Macro-F1 averages over the labels that occur in the test data or the predictions (scikit-learn's
    default): a grade a corpus never uses (e.g. ``underspecified`` in Pei & Jurgens) does not count as 0.
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    seen = set(y_true) | set(y_pred)
    averaged = [label for label in labels if label in seen] or labels
    accs, f1s = bootstrap_accuracy_f1(y_true, y_pred, averaged, n_bootstrap=n_bootstrap, seed=seed)

    def ci(values: list[float]) -> list[float]:
        return [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]

    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "accuracy_ci95": ci(accs),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=averaged, average="macro", zero_division=0)), 4
        ),
        "macro_f1_ci95": ci(f1s),
        "macro_over": averaged,
        "confusion": {  # true label -> predicted label -> count
            true: {pred: int(n) for pred, n in zip(labels, row, strict=True)}
            for true, row in zip(labels, confusion_matrix(y_true, y_pred, labels=labels), strict=True)
        },
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "n_true": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
    }


def confusion_png(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2.5, 1.1 * len(labels) + 2))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, ax=ax, colorbar=False, xticks_rotation=30
    )
    ax.set_title(title)
    fig.tight_layout()
    save_png(fig, path, dpi=100)


def _drop_stop_words(pipeline: Pipeline) -> None:
    """Text vectorisers keep every term cut by min_df/max_features in ``stop_words_``; only for
    introspection, and on FNC-1 hundreds of thousands of terms that make skops files slow and large."""
    for part in _fitted_parts(pipeline):
        if isinstance(part, CountVectorizer):
            part.__dict__.pop("stop_words_", None)


def _fitted_parts(estimator: Any) -> list[Any]:
    """The estimator and every fitted estimator inside it (pipeline steps, column transformers)."""
    parts = [estimator]
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            parts += _fitted_parts(step)
    for _, transformer, _ in getattr(estimator, "transformers_", []):
        parts += _fitted_parts(transformer)
    return parts


def save_model(pipeline: Pipeline, path: Path) -> None:
    _drop_stop_words(pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sio.dump(pipeline, tmp)
    tmp.replace(path)


def model_meta(path: Path) -> dict[str, Any]:
    """The task, model name and labels written next to a model by ``stancebank train``."""
    meta_path = path.with_suffix(".json")
    if not meta_path.exists():
        raise TrainingError(f"{meta_path}: missing (written next to every model by 'stancebank train')")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    return meta


def load_trusted(path: Path, refused: Callable[[list[str]], list[str]]) -> Any:
    """Load a skops file, refusing it (one clear error) when ``refused`` finds any of its types outside
    what the caller trusts; a missing or foreign file is a clear error too."""
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except FileNotFoundError:
        raise TrainingError(f"{path}: no such model file") from None
    except Exception as exc:
        raise TrainingError(f"{path}: not a skops model file ({type(exc).__name__})") from None
    bad = refused(untrusted)
    if bad:
        raise TrainingError(f"{path}: refusing to load untrusted types {bad}")
    return sio.load(path, trusted=list(untrusted))


def load_model(path: Path) -> Pipeline:
    """Load a model with skops, refusing any type outside skops' defaults and TRUSTED_PREFIXES."""
    model: Pipeline = load_trusted(path, refused_types)
    return model


#: The figure each kind of task is ranked by unless ``--metric`` names another.
PRIMARY = {"classification": "macro_f1", "pairs": "macro_f1", "regression": "pearson_r"}
#: Models that are floors, never "best".
FLOORS = ("majority", "stratified", "mean", "median", "most-frequent")
#: Metrics where lower is better.
LOWER_IS_BETTER = ("mae",)


def best_model(results: dict[str, dict[str, Any]], primary: str) -> str:
    """The best non-floor model by ``primary``: on the dev split when every candidate has dev figures
    (pairs), so that the test split is never used to choose; else on test (the only split scored)."""
    sign = -1 if primary in LOWER_IS_BETTER else 1
    candidates = [n for n in results if n not in FLOORS and primary in results[n]]
    on_dev = bool(candidates) and all(primary in (results[n].get("dev") or {}) for n in candidates)
    return max(
        candidates,
        key=lambda n: sign * (results[n]["dev"][primary] if on_dev else results[n][primary]),
        default=next(iter(results)),
    )


def chosen_on(results: dict[str, dict[str, Any]]) -> str:
    """Where :func:`best_model` ranked the models."""
    candidates = [m for n, m in results.items() if n not in FLOORS]
    return "dev" if candidates and all(m.get("dev") for m in candidates) else "test"


def write_reports(
    out: Path,
    task: str,
    results: dict[str, dict[str, Any]],
    labels: list[str],
    kind: str = "classification",
    *,
    primary: str | None = None,
    fitted_on: dict[str, int] | None = None,
    test_fit: bool = False,
    scale: Scale | None = None,
) -> Path:
    primary = primary or PRIMARY[kind]
    best = best_model(results, primary)
    fitted_on = fitted_on or {}
    write_atomic(
        out / "metrics.json",
        json.dumps(
            {
                "task": task,
                "best": best,
                "primary": primary,
                "fitted_on": fitted_on,
                "test_fit": test_fit,
                **({"scale": scale.as_json()} if scale else {}),
                "models": results,
            },
            indent=1,
        )
        + "\n",
    )
    report = out / "report.md"
    note = fit_note(fitted_on, kind)
    if kind == "regression":
        assert scale is not None
        text = regression_markdown(task, results, best, note, scale, test_fit=test_fit, primary=primary)
    else:
        text = markdown(
            task, results, labels, best, note, test_fit=test_fit, primary=f"{primary} on {chosen_on(results)}"
        )
    write_atomic(report, text)
    return report


def regression_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, scale: Scale, *, n_bootstrap: int = 1000, seed: int = 13
) -> dict[str, Any]:
    """Pearson r (95 % bootstrap interval), Spearman ρ, MAE (95 % interval) of predictions clipped to
    the data's scale, and, when the scale has a grade mapping, macro-F1 of true and predicted scores
    mapped with it."""
    from scipy.stats import pearsonr, spearmanr

    clipped = scale.clip(y_pred)
    rng = np.random.default_rng(seed)
    rs, maes = [], []
    errors = np.abs(y_true - clipped)
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(y_true), len(y_true))
        maes.append(float(np.mean(errors[idx])))
        if np.ptp(y_true[idx]) > 0 and np.ptp(clipped[idx]) > 0:
            rs.append(pearsonr(y_true[idx], clipped[idx])[0])
    constant = np.ptp(clipped) == 0 or np.ptp(y_true) == 0
    result: dict[str, Any] = {
        "n": len(y_true),
        "pearson_r": 0.0 if constant else round(float(pearsonr(y_true, clipped)[0]), 4),
        "pearson_r_ci95": [round(float(np.percentile(rs, q)), 4) for q in (2.5, 97.5)] if rs else [0.0, 0.0],
        "spearman_rho": 0.0 if constant else round(float(spearmanr(y_true, clipped)[0]), 4),
        "mae": round(float(np.mean(errors)), 4),
        "mae_ci95": [round(float(np.percentile(maes, q)), 4) for q in (2.5, 97.5)],
    }
    mapped = grades(scale, y_true)
    if mapped is not None:
        true_labels, labels = mapped
        pred = grades(scale, clipped)
        assert pred is not None
        classified = metrics(true_labels, pred[0], labels, n_bootstrap=n_bootstrap, seed=seed)
        result.update(
            {
                "mapping": scale.mapping,
                "macro_f1": classified["macro_f1"],
                "macro_f1_ci95": classified["macro_f1_ci95"],
                "accuracy": classified["accuracy"],
                "per_class": classified["per_class"],
            }
        )
    return result


def scatter_png(y_true: np.ndarray, y_pred: np.ndarray, title: str, path: Path, scale: Scale) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, scale.clip(y_pred), s=10, alpha=0.6)
    ax.plot([scale.low, scale.high], [scale.low, scale.high], color="grey", linewidth=1)
    margin = (scale.high - scale.low) * 0.03
    ax.set_xlim(scale.low - margin, scale.high + margin)
    ax.set_ylim(scale.low - margin, scale.high + margin)
    ax.set_xlabel("annotated score")
    ax.set_ylabel("predicted score (clipped to the data's range)")
    ax.set_title(title)
    fig.tight_layout()
    save_png(fig, path, dpi=100)
