"""Metrics with bootstrap intervals, confusion-matrix plots, the Markdown report, and skops files."""

from __future__ import annotations

import json
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

from schemas import vocabulary as V
from stancebank.corpus import write_atomic
from stancebank.plots import save_png
from train.baselines import TrainingError

#: Types a StanceBank model file may contain beyond skops' defaults; anything else is refused.
TRUSTED_TYPES = (
    "train.cues.CueFeatures",
    "sklearn.compose._column_transformer._RemainderColsList",
    "numpy.dtypes.ObjectDType",
    "numpy.dtypes.StrDType",
    "train.pairs.PairFeatures",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


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


def load_model(path: Path) -> Pipeline:
    """Load a model with skops, refusing any type outside skops' defaults and TRUSTED_TYPES."""
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except FileNotFoundError:
        raise TrainingError(f"{path}: no such model file") from None
    except Exception as exc:
        raise TrainingError(f"{path}: not a skops model file ({type(exc).__name__})") from None
    refused = [t for t in untrusted if t not in TRUSTED_TYPES]
    if refused:
        raise TrainingError(f"{path}: refusing to load untrusted types {refused}")
    model: Pipeline = sio.load(path, trusted=list(untrusted))
    return model


GRID_NOTE = "Hyper-parameters chosen by 5-fold GroupKFold (by article) on train+validation."
FIXED_NOTE = "Fixed hyper-parameters (no search), trained on train+validation."


def markdown(
    task: str, results: dict[str, dict[str, Any]], labels: list[str], best: str, note: str = GRID_NOTE
) -> str:
    fnc = all("fnc1_percent" in m for m in results.values())
    lines = [
        f"# Baselines: {task}",
        "",
        f"Test split, {next(iter(results.values()))['n']} items. "
        f"Intervals: 95 % bootstrap over test items. {note}",
        "",
        "| model | "
        + ("FNC-1 score | " if fnc else "")
        + "accuracy | macro-F1 | "
        + " | ".join(f"F1 {label}" for label in labels)
        + " |",
        "|---|" + ("---|" if fnc else "") + "---|---|" + "---|" * len(labels),
    ]
    for name, m in results.items():
        marker = " **(best)**" if name == best else ""
        acc, f1 = m["accuracy_ci95"], m["macro_f1_ci95"]
        score = f"{m['fnc1_percent']:.2f} % ({m['fnc1_score']:g} / {m['fnc1_max']:g}) | " if fnc else ""
        lines.append(
            f"| {name}{marker} | {score}{m['accuracy']:.3f} [{acc[0]:.2f}, {acc[1]:.2f}] "
            f"| {m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}] | "
            + " | ".join(
                f"{m['per_class'][label]['f1']:.2f}" if label in m.get("macro_over", labels) else "–"
                for label in labels
            )
            + " |"
        )
    lines += [
        "",
        "–: the label occurs neither in the test split nor in the predictions; macro-F1 leaves it out.",
        "",
        *(f"![{name}](confusion-{name}.png)" for name in results),
        "",
    ]
    return "\n".join(lines)


#: The figure each kind of task is ranked by.
PRIMARY = {"classification": "macro_f1", "pairs": "fnc1_percent", "regression": "pearson_r"}
FLOORS = ("majority", "stratified", "mean")


def write_reports(
    out: Path, task: str, results: dict[str, dict[str, Any]], labels: list[str], kind: str = "classification"
) -> Path:
    primary = PRIMARY[kind]
    best = max(
        (n for n in results if n not in FLOORS),
        key=lambda n: results[n][primary],
        default=next(iter(results)),
    )
    write_atomic(
        out / "metrics.json",
        json.dumps({"task": task, "best": best, "primary": primary, "models": results}, indent=1) + "\n",
    )
    report = out / "report.md"
    if kind == "regression":
        text = regression_markdown(task, results, best)
    else:
        text = markdown(task, results, labels, best, FIXED_NOTE if kind == "pairs" else GRID_NOTE)
    write_atomic(report, text)
    return report


#: Certainty grades a 1–6 score maps onto (stancebank.importers.certainty.certainty_of_score).
SCORE_LABELS = [V.Certainty.CERTAIN.value, V.Certainty.PROBABLE.value, V.Certainty.POSSIBLE.value]


def score_labels(scores: np.ndarray) -> np.ndarray:
    """Scores (clipped to 1–6) as certainty grade names."""
    from stancebank.importers.certainty import certainty_of_score

    return np.asarray([certainty_of_score(float(v)).value for v in np.clip(scores, 1, 6)], dtype=object)


def regression_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, n_bootstrap: int = 1000, seed: int = 13
) -> dict[str, Any]:
    """Pearson r (95 % bootstrap interval), Spearman ρ, MAE, and macro-F1 on our certainty scale after
    mapping true and predicted 1–6 scores with the importer's rule."""
    from scipy.stats import pearsonr, spearmanr

    clipped = np.clip(y_pred, 1.0, 6.0)
    labels = SCORE_LABELS
    true_labels, pred_labels = score_labels(y_true), score_labels(clipped)
    rng = np.random.default_rng(seed)
    rs = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(y_true), len(y_true))
        if np.ptp(y_true[idx]) > 0 and np.ptp(clipped[idx]) > 0:
            rs.append(pearsonr(y_true[idx], clipped[idx])[0])
    constant = np.ptp(clipped) == 0
    classified = metrics(true_labels, pred_labels, labels, n_bootstrap=n_bootstrap, seed=seed)
    return {
        "n": len(y_true),
        "pearson_r": 0.0 if constant else round(float(pearsonr(y_true, clipped)[0]), 4),
        "pearson_r_ci95": [round(float(np.percentile(rs, q)), 4) for q in (2.5, 97.5)] if rs else [0.0, 0.0],
        "spearman_rho": 0.0 if constant else round(float(spearmanr(y_true, clipped)[0]), 4),
        "mae": round(float(np.mean(np.abs(y_true - clipped))), 4),
        "macro_f1": classified["macro_f1"],
        "macro_f1_ci95": classified["macro_f1_ci95"],
        "accuracy": classified["accuracy"],
        "per_class": classified["per_class"],
    }


def scatter_png(y_true: np.ndarray, y_pred: np.ndarray, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, np.clip(y_pred, 1, 6), s=10, alpha=0.6)
    ax.plot([1, 6], [1, 6], color="grey", linewidth=1)
    ax.set_xlabel("annotated score")
    ax.set_ylabel("predicted score")
    ax.set_title(title)
    fig.tight_layout()
    save_png(fig, path, dpi=100)


def regression_markdown(task: str, results: dict[str, dict[str, Any]], best: str) -> str:
    lines = [
        f"# Baselines: {task}",
        "",
        f"Test split, {next(iter(results.values()))['n']} items. Pearson r with a 95 % bootstrap interval; "
        "macro-F1 after mapping true and predicted scores onto certain / probable / possible (≥ 5, ≥ 3.5, "
        "below). Hyper-parameters by 5-fold GroupKFold on train+validation.",
        "",
        "| model | Pearson r | Spearman ρ | MAE | macro-F1 (mapped) |",
        "|---|---|---|---|---|",
    ]
    for name, m in results.items():
        marker = " **(best)**" if name == best else ""
        r, f1 = m["pearson_r_ci95"], m["macro_f1_ci95"]
        lines.append(
            f"| {name}{marker} | {m['pearson_r']:.3f} [{r[0]:.2f}, {r[1]:.2f}] | {m['spearman_rho']:.3f} "
            f"| {m['mae']:.3f} | {m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}] |"
        )
    lines += ["", *(f"![{name}](scatter-{name}.png)" for name in results), ""]
    return "\n".join(lines)
