"""``stancebank train`` and ``stancebank evaluate``: baselines on the exported dataset."""

from __future__ import annotations

import argparse
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


def _labels(loaded: Any, task: Task) -> list[str]:
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
    labels = _labels(loaded, task)
    scale = (data.scale or observed_scale(data.y)) if task.kind == "regression" else None
    # a corpus without cues (or contexts) has an empty column: TF-IDF cannot learn a vocabulary from it
    present = tuple(c for c in task.text_columns if data.X[c].astype(str).str.strip().any())
    task = dataclasses.replace(task, text_columns=present or task.text_columns)
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
        fitted = fit(pipeline, grid, data.X, data.y, data.groups, kind=task.kind)
        fit_seconds = time.perf_counter() - started
        result = score(task, fitted, test, labels, scale, metric)
        predicted, confidence = result.pop("predicted"), result.pop("confidence")
        subset_metric = "fnc1" if "fnc1_percent" in result else metric
        unseen = _unseen_targets(task, fitted, test, data.X, labels, subset_metric)
        results[name] = {**result, "n_train": len(data.y), **({"unseen_targets": unseen} if unseen else {})}
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


def cmd_train(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from train.baselines import TASKS, TrainingError, model_names, task_of
    from train.evaluation import PRIMARY

    tasks = list(TASKS) if args.task == "all" else [task_of(args.task).name]
    console = Console(width=max(120, Console().width))
    summary: dict[str, dict[str, Any]] = {}
    fit_on = tuple(s.strip() for s in args.fit_on.split(",") if s.strip())
    if args.metric == "fnc1" and any(task_of(t).kind != "pairs" for t in tasks):
        raise TrainingError("--metric fnc1 needs the pair task (--task pairs)")
    for task in tasks:  # refuse before the progress bar starts: one clear line on stderr
        unknown = [] if args.model == "all" or args.model in model_names(task) else [args.model]
        if unknown:
            raise TrainingError(f"task {task!r} has no model {unknown[0]!r} (has {model_names(task)})")
        check_fit_on(args.dataset, task_of(task), fit_on, allow_test_fit=args.allow_test_fit)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for task in tasks:
            names = model_names(task) if args.model == "all" else [args.model]
            summary[task] = train_task(
                args.dataset,
                task,
                names,
                args.out,
                progress,
                fit_on,
                allow_test_fit=args.allow_test_fit,
                metric=args.metric,
            )
    if "test" in fit_on:
        console.print(
            "[bold red]fitted on the test split (--allow-test-fit): the scores below are not held-out"
        )
    for task, results in summary.items():
        primary = {"fnc1": "fnc1_percent"}.get(args.metric, PRIMARY[task_of(task).kind])
        table = Table(title=f"{task}: test split [95 % CI]")
        table.add_column("model")
        table.add_column(primary, justify="right")
        if primary != "macro_f1":
            table.add_column("macro-F1", justify="right")
        table.add_column("fit s", justify="right")
        for name, m in results.items():
            ci = m.get(f"{primary}_ci95")
            shown = f"{m[primary]:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
            f1 = m.get("macro_f1_ci95")
            macro = (
                [f"{m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}]" if f1 else "–"]
                if primary != "macro_f1"
                else []
            )
            table.add_row(name, shown, *macro, str(m.get("fit_seconds", "")))
        console.print(table)
    console.print(
        f"reports: {args.out}/<task>/report.md, metrics.json, predictions-*.jsonl, *.png, model-*.skops"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import sys

    from train.baselines import TrainingError, frame, task_of
    from train.evaluation import load_model, model_meta
    from train.outputs import write_item_predictions
    from train.scales import Scale, observed_scale

    meta = model_meta(args.model)
    task = task_of(meta["task"])
    model = load_model(args.model)
    if args.metric == "fnc1" and task.kind != "pairs":
        raise TrainingError(
            f"--metric fnc1 needs a headline/body model (task pairs); this one is {task.name!r}"
        )
    loaded = load_config(args.dataset, task)
    if args.split not in loaded:
        raise TrainingError(f"{args.dataset} has no split {args.split!r} (has {list(loaded)})")
    data = frame(loaded[args.split], task)
    scale = None
    if task.kind == "regression":
        scale = Scale.from_json(meta["scale"]) if "scale" in meta else data.scale or observed_scale(data.y)
    result = score(task, model, data, _labels(loaded, task), scale, args.metric)
    predicted, confidence = result.pop("predicted"), result.pop("confidence")
    if args.predictions:
        write_item_predictions(args.predictions, data, predicted, confidence, task.kind)
    fitted_here = args.split in meta.get("fitted_on", {})
    if fitted_here:
        print(
            f"warning: {args.model} was fitted on split {args.split!r}: not a held-out score", file=sys.stderr
        )
    if args.metric == "fnc1":
        result = {
            k: result[k]
            for k in ("n", "fnc1_score", "fnc1_max", "fnc1_percent", "accuracy", "macro_f1", "per_class")
        }
    print(
        json.dumps(
            {
                "task": task.name,
                "model": meta["model"],
                "dataset": str(args.dataset),
                "split": args.split,
                "fitted_on_this_split": fitted_here,
                **result,
            },
            indent=1,
        )
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from stancebank.validate import load_valid
    from train.evaluation import model_meta
    from train.predict import CLAIM_TASKS, predict, predict_items, write_predictions

    corpus = load_valid(args.data)
    if model_meta(args.model)["task"] not in CLAIM_TASKS:
        items = predict_items(args.model, corpus, include_annotated=args.include_annotated)
        write_predictions(items, args.out)
        print(f"{len(items)} item(s) predicted → {args.out}")
        return 0
    records = predict(args.model, corpus, include_annotated=args.include_annotated)
    write_predictions(records, args.out)
    print(f"{len(records)} task(s) pre-annotated, least confident first → {args.out}")
    for record in records[:5]:
        print(f"  {record['task_key']}: uncertainty {record['uncertainty']:.3f}")
    print(f"send them with: stancebank studio push --predictions {args.out}")
    return 0


#: ``train.baselines.ALL_TASKS`` by name (a test keeps them equal): the parser is built without sklearn.
TASK_NAMES = ("certainty", "polarity", "stance", "reliability", "pairs", "certainty-score")
#: Older task names still accepted (``train.baselines.TASK_ALIASES``).
TASK_ALIAS_NAMES = ("fnc1",)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train and evaluate baselines on the exported dataset",
        description="Train scikit-learn baselines on the --fit-on splits of the exported dataset "
        "(hyper-parameters by grouped cross-validation), evaluate on test, write reports/<task>/ "
        "(metrics.json, report.md, predictions-<model>.jsonl, confusion or scatter PNGs, skops models).",
    )
    parser.add_argument(
        "--task",
        choices=["all", *TASK_NAMES, *TASK_ALIAS_NAMES],
        default="all",
        help="all = the four tasks of our corpus; pairs (alias fnc1: target ↔ text stance) and "
        "certainty-score need an imported corpus",
    )
    parser.add_argument(
        "--model",
        default="all",
        help="all, or one model of the task: majority, stratified, tfidf-lr, char-svm, cues-lr "
        "(our tasks); majority, tfidf-lr, pair-lr, pair-gbdt (pairs); mean, median, most-frequent, "
        "tfidf-ridge, cues-ridge (certainty-score)",
    )
    parser.add_argument(
        "--fit-on",
        default="train,validation",
        help="splits to fit on, those present are used (default train,validation)",
    )
    parser.add_argument(
        "--allow-test-fit",
        action="store_true",
        help="allow 'test' in --fit-on (the report then says on its first line that it is not held-out)",
    )
    parser.add_argument(
        "--metric",
        choices=("default", "fnc1"),
        default="default",
        help="figure the best model is chosen by: default = macro-F1 (Pearson r for scores); fnc1 = "
        "the FNC-1 score (pairs; also reported whenever the labels include unrelated)",
    )
    parser.add_argument("--dataset", type=Path, default=Path("data/hf"), help="exported dataset folder")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder")
    parser.set_defaults(func=cmd_train)
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a dataset in our export format",
        description="Load a skops model (untrusted types refused) and score it on one split of any dataset "
        "in StanceBank's export format; optionally write its per-item predictions.",
    )
    evaluate.add_argument("--model", type=Path, required=True, help="a model-*.skops file written by train")
    evaluate.add_argument("--dataset", type=Path, default=Path("data/hf"), help="exported dataset folder")
    evaluate.add_argument("--split", default="test", help="split to score (default test)")
    evaluate.add_argument(
        "--predictions",
        type=Path,
        help="write one JSON line per item: id, gold, predicted, probability (classes) or score",
    )
    evaluate.add_argument(
        "--metric",
        choices=("default", "fnc1"),
        default="default",
        help="fnc1: the FNC-1 challenge score (0.25 relatedness + 0.75 exact label of related pairs)",
    )
    evaluate.set_defaults(func=cmd_evaluate)
    predict = sub.add_parser(
        "predict",
        help="predict unlabelled data with a saved model",
        description="Claim models: Label Studio predictions (one CLAIM region per sentence, the model's "
        "value and probability per region) for tasks without annotations, least confident task first. "
        "Pair models: one JSON line per (article, target) task with the predicted stance and its "
        "probability. Score models: one JSON line per sentence with the predicted score (clipped to the "
        "scale the model was fitted on).",
    )
    predict.add_argument("--model", type=Path, required=True, help="a model-*.skops file written by train")
    predict.add_argument(
        "data", nargs="*", type=Path, default=[Path("data")], help="data folders (default data)"
    )
    predict.add_argument("--out", type=Path, default=Path("predictions.jsonl"), help="output JSONL")
    predict.add_argument("--include-annotated", action="store_true", help="also tasks that have annotations")
    predict.set_defaults(func=cmd_predict)
