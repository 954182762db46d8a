"""Metrics with bootstrap intervals, confusion-matrix plots, the Markdown report, and skops files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline

from stancebank.corpus import write_atomic
from stancebank.plots import save_png
from train.baselines import TrainingError

#: Types a StanceBank model file may contain beyond skops' defaults; anything else is refused.
TRUSTED_TYPES = (
    "train.cues.CueFeatures",
    "sklearn.compose._column_transformer._RemainderColsList",
    "numpy.dtypes.ObjectDType",
    "numpy.dtypes.StrDType",
)


def metrics(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], *, n_bootstrap: int = 1000, seed: int = 13
) -> dict[str, Any]:
    """Accuracy, macro-F1 (95 % bootstrap intervals over rows) and per-class precision/recall/F1."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    rng = np.random.default_rng(seed)
    accs, f1s = [], []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(y_true), len(y_true))
        accs.append(accuracy_score(y_true[idx], y_pred[idx]))
        f1s.append(f1_score(y_true[idx], y_pred[idx], labels=labels, average="macro", zero_division=0))

    def ci(values: list[float]) -> list[float]:
        return [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]

    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "accuracy_ci95": ci(accs),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4
        ),
        "macro_f1_ci95": ci(f1s),
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


def save_model(pipeline: Pipeline, path: Path) -> None:
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


def markdown(task: str, results: dict[str, dict[str, Any]], labels: list[str], best: str) -> str:
    lines = [
        f"# Baselines: {task}",
        "",
        f"Test split, {next(iter(results.values()))['n']} items. "
        "Intervals: 95 % bootstrap over test items. Hyper-parameters chosen by 5-fold GroupKFold "
        "(by article) on train+validation.",
        "",
        "| model | accuracy | macro-F1 | " + " | ".join(f"F1 {label}" for label in labels) + " |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for name, m in results.items():
        marker = " **(best)**" if name == best else ""
        acc, f1 = m["accuracy_ci95"], m["macro_f1_ci95"]
        lines.append(
            f"| {name}{marker} | {m['accuracy']:.3f} [{acc[0]:.2f}, {acc[1]:.2f}] "
            f"| {m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}] | "
            + " | ".join(f"{m['per_class'][label]['f1']:.2f}" for label in labels)
            + " |"
        )
    lines += ["", *(f"![{name}](confusion-{name}.png)" for name in results), ""]
    return "\n".join(lines)


def write_reports(out: Path, task: str, results: dict[str, dict[str, Any]], labels: list[str]) -> Path:
    best = max(
        (n for n in results if n not in ("majority", "stratified")),
        key=lambda n: results[n]["macro_f1"],
        default=next(iter(results)),
    )
    write_atomic(
        out / "metrics.json", json.dumps({"task": task, "best": best, "models": results}, indent=1) + "\n"
    )
    report = out / "report.md"
    write_atomic(report, markdown(task, results, labels, best))
    return report
