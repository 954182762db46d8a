"""Training and scoring of one task: fit each model, score the test split, write reports, predictions
and models (``stancebank train`` and ``evaluate`` call these)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from train.baselines import Frame, Task
    from train.scales import Scale


def score(
    task: Task, model: Any, data: Frame, labels: list[str], scale: Scale | None, metric: str = "default"
) -> dict[str, Any]:
    """The task's metrics of a fitted model on one split, plus ``predicted`` and ``confidence``
    (the probability of the predicted class; None for regression and models without probabilities)."""
    import numpy as np

    from train.evaluation import metrics, regression_metrics
    from train.pairs import UNRELATED, fnc_score

    predicted = model.predict(data.X)
    if task.kind == "regression":
        assert scale is not None
        clipped = scale.clip(predicted)
        return {**regression_metrics(data.y, clipped, scale), "predicted": clipped, "confidence": None}
    confidence = None
    if hasattr(model, "predict_proba"):
        confidence = np.max(model.predict_proba(data.X), axis=1)
    result = metrics(data.y, predicted, labels)
    if task.kind == "pairs" and (metric == "fnc1" or UNRELATED in set(data.y)):
        result.update(fnc_score(data.y, predicted))
    return {**result, "predicted": predicted, "confidence": confidence}


def labels_of(loaded: Any, task: Task) -> list[str]:
    if task.kind == "regression":
        return []
    split = next(iter(loaded.values()))
    return list(split.features[task.label].names)


def _unseen_targets(
    task: Task, model: Any, test: Frame, fitted: pd.DataFrame, labels: list[str], metric: str
) -> dict[str, Any] | None:
    """Pair metrics on the test rows whose target never occurs in the fitting data."""
    import numpy as np

    if task.kind != "pairs":
        return None
    unseen = ~np.isin(test.X["target"].to_numpy(), fitted["target"].unique())
    if not unseen.any() or unseen.all():
        return None
    part = test._replace(X=test.X[unseen].reset_index(drop=True), y=test.y[unseen])
    result = score(task, model, part, labels, None, metric)
    return {k: v for k, v in result.items() if k not in ("predicted", "confidence", "confusion")}


def fitting_data(
    loaded: Any, task: Task, fit_on: tuple[str, ...], dataset: Path
) -> tuple[Frame, dict[str, int]]:
    """The rows of the splits in ``fit_on`` (those present and non-empty) and their sizes."""
    import numpy as np
    import pandas as pd

    from train.baselines import Frame, TrainingError, frame

    parts = {s: frame(loaded[s], task) for s in fit_on if s in loaded and len(loaded[s])}
    parts = {s: p for s, p in parts.items() if len(p.y)}
    if not parts:
        raise TrainingError(f"{dataset}: config {task.config!r} has no rows in {', '.join(fit_on)}")
    scales = [p.scale for p in parts.values() if p.scale is not None]
    joined = Frame(
        pd.concat([p.X for p in parts.values()], ignore_index=True),
        np.concatenate([p.y for p in parts.values()]),
        np.concatenate([p.groups for p in parts.values()]),
        np.concatenate([p.ids for p in parts.values()]),
        scales[0] if scales else None,
    )
    return joined, {s: len(p.y) for s, p in parts.items()}


def check_fit_on(dataset: Path, task: Task, fit_on: tuple[str, ...], *, allow_test_fit: bool) -> Any:
    """The task's config, once it is sure to have a test split and rows in ``fit_on``; a fit on the
    reported split needs ``allow_test_fit``."""
    from train.baselines import TrainingError

    if "test" in fit_on and not allow_test_fit:
        raise TrainingError(
            "--fit-on includes 'test', the split the report scores: give --allow-test-fit to do it anyway"
        )
    loaded = load_config(dataset, task)
    if "test" not in loaded:
        raise TrainingError(f"{dataset}: config {task.config!r} has no test split (has {list(loaded)})")
    if not any(s in loaded and len(loaded[s]) for s in fit_on):
        raise TrainingError(f"{dataset}: config {task.config!r} has no rows in {', '.join(fit_on)}")
    return loaded


def train_task(
    dataset: Path,
    task_name: str,
    names: list[str],
    out: Path,
    progress: Progress,
    fit_on: tuple[str, ...] = ("train", "validation"),
    *,
    allow_test_fit: bool = False,
    metric: str = "default",
) -> dict[str, Any]:
    from stancebank.files import write_atomic
    from train.baselines import fit, frame, model_path, models, task_of
    from train.evaluation import confusion_png, save_model, scatter_png
    from train.outputs import write_item_predictions
    from train.scales import observed_scale

    task = task_of(task_name)
    task_name = task.name
    loaded = check_fit_on(dataset, task, fit_on, allow_test_fit=allow_test_fit)
    data, fitted_on = fitting_data(loaded, task, fit_on, dataset)
    test = frame(loaded["test"], task)
    labels = labels_of(loaded, task)
    scale = (data.scale or observed_scale(data.y)) if task.kind == "regression" else None
    # a corpus without cues (or contexts) has an empty column: TF-IDF cannot learn a vocabulary from it
    present = tuple(c for c in task.text_columns if data.X[c].astype(str).str.strip().any())
    around = tuple(c for c in task.context_columns if data.X[c].astype(str).str.strip().any())
    task = dataclasses.replace(task, text_columns=present or task.text_columns, context_columns=around)
    out_dir = out / task_name
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}  # not in metrics.json, which must be reproducible byte for byte
    bar = progress.add_task(f"{task_name}", total=len(names))
    available = models(task)
    for name in names:
        progress.update(bar, description=f"{task_name}: {name}")
        pipeline, grid = available[name]
        started = time.perf_counter()
        fitted, dev = fit(pipeline, grid, data.X, data.y, data.groups, kind=task.kind)
        fit_seconds = time.perf_counter() - started
        result = score(task, fitted, test, labels, scale, metric)
        predicted, confidence = result.pop("predicted"), result.pop("confidence")
        subset_metric = "fnc1" if "fnc1_percent" in result else metric
        unseen = _unseen_targets(task, fitted, test, data.X, labels, subset_metric)
        results[name] = {
            **result,
            "n_train": len(data.y),
            **({"unseen_targets": unseen} if unseen else {}),
            **({"dev": dev} if dev else {}),
        }
        timings[name] = round(fit_seconds, 1)
        if task.kind == "regression":
            assert scale is not None
            scatter_png(test.y, predicted, f"{task_name} — {name}", out_dir / f"scatter-{name}.png", scale)
        else:
            confusion_png(
                test.y, predicted, labels, f"{task_name} — {name}", out_dir / f"confusion-{name}.png"
            )
        write_item_predictions(out_dir / f"predictions-{name}.jsonl", test, predicted, confidence, task.kind)
        save_model(fitted, model_path(out, task_name, name))
        meta = {
            "task": task_name,
            "model": name,
            "labels": labels,
            "fitted_on": fitted_on,
            **({"scale": scale.as_json()} if scale else {}),
        }
        write_atomic(model_path(out, task_name, name).with_suffix(".json"), json.dumps(meta) + "\n")
        progress.advance(bar)
    context = ReportContext(labels, fitted_on, "test" in fitted_on, scale, metric)
    return _write_task_reports(out_dir, task, task_name, results, timings, context)


@dataclasses.dataclass(frozen=True)
class ReportContext:
    labels: list[str]
    fitted_on: dict[str, int]
    test_fit: bool
    scale: Scale | None
    metric: str


def _write_task_reports(
    out_dir: Path,
    task: Task,
    task_name: str,
    results: dict[str, Any],
    timings: dict[str, float],
    context: ReportContext,
) -> dict[str, Any]:
    """metrics.json + report.md (merged with models trained earlier) and timings.json."""
    from stancebank.files import write_atomic
    from train.baselines import model_names
    from train.evaluation import write_reports

    previous = out_dir / "metrics.json"
    if previous.exists():  # training one model adds it to the report of the others
        earlier_run = json.loads(previous.read_text(encoding="utf-8"))
        if earlier_run.get("fitted_on", context.fitted_on) == context.fitted_on:
            earlier = earlier_run.get("models", {})
            order = model_names(task_name)
            results = {n: results.get(n) or earlier[n] for n in order if n in results or n in earlier}
    primary = {"default": None, "fnc1": "fnc1_percent"}.get(context.metric, context.metric)
    write_reports(
        out_dir,
        task_name,
        results,
        context.labels,
        task.kind,
        primary=primary,
        fitted_on=context.fitted_on,
        test_fit=context.test_fit,
        scale=context.scale,
    )
    timing_file = out_dir / "timings.json"
    earlier_timings = json.loads(timing_file.read_text())["fit_seconds"] if timing_file.exists() else {}
    write_atomic(timing_file, json.dumps({"fit_seconds": {**earlier_timings, **timings}}, indent=1) + "\n")
    return {name: {**result, "fit_seconds": timings.get(name, "")} for name, result in results.items()}


def load_config(dataset: Path, task: Task) -> Any:
    from train.baselines import TrainingError
    from train.export import load

    if not (dataset / task.config).is_dir():
        raise TrainingError(
            f"{dataset} has no {task.config!r} config, which task {task.name!r} needs "
            f"(has {sorted(p.name for p in dataset.iterdir() if p.is_dir())})"
            if dataset.is_dir()
            else f"{dataset}: no such dataset folder"
        )
    return load(dataset, task.config)
