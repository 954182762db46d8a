"""``stancebank train`` and ``stancebank evaluate``: baselines on the exported dataset."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from rich.progress import Progress

    from train.baselines import Task


def score(task: Task, model: Any, X: pd.DataFrame, y: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """The task's metrics of a fitted model on (X, y), plus the predictions."""
    from train.evaluation import metrics, regression_metrics
    from train.pairs import fnc_score

    predicted = model.predict(X)
    if task.kind == "regression":
        return {**regression_metrics(y, predicted), "predicted": predicted}
    result = metrics(y, predicted, labels)
    if task.kind == "pairs":
        result.update(fnc_score(y, predicted))
    return {**result, "predicted": predicted}


def _labels(loaded: Any, task: Task) -> list[str]:
    from train.evaluation import SCORE_LABELS

    if task.kind == "regression":
        return list(SCORE_LABELS)
    split = next(iter(loaded.values()))
    return list(split.features[task.label].names)


def train_task(
    dataset: Path,
    task_name: str,
    names: list[str],
    out: Path,
    progress: Progress,
    fit_on: tuple[str, ...] = ("train", "validation"),
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from stancebank.files import write_atomic
    from train.baselines import ALL_TASKS, TrainingError, fit, frame, model_path, models
    from train.evaluation import confusion_png, save_model, scatter_png

    task = ALL_TASKS[task_name]
    loaded = load_config(dataset, task)
    if "test" not in loaded:
        raise TrainingError(f"{dataset}: config {task.config!r} has no test split (has {list(loaded)})")
    parts = [frame(loaded[s], task) for s in fit_on if s in loaded and len(loaded[s])]
    if not parts:
        raise TrainingError(f"{dataset}: config {task.config!r} has no rows in {', '.join(fit_on)}")
    X = pd.concat([p[0] for p in parts], ignore_index=True)
    y = np.concatenate([p[1] for p in parts])
    groups = np.concatenate([p[2] for p in parts])
    X_test, y_test, _ = frame(loaded["test"], task)
    labels = _labels(loaded, task)
    # a corpus without cues (or contexts) has an empty column: TF-IDF cannot learn a vocabulary from it
    present = tuple(c for c in task.text_columns if X[c].astype(str).str.strip().any())
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
        fitted = fit(pipeline, grid, X, y, groups)
        fit_seconds = time.perf_counter() - started
        result = score(task, fitted, X_test, y_test, labels)
        predicted = result.pop("predicted")
        results[name] = {**result, "n_train": len(y)}
        timings[name] = round(fit_seconds, 1)
        if task.kind == "regression":
            scatter_png(y_test, predicted, f"{task_name} — {name}", out_dir / f"scatter-{name}.png")
        else:
            confusion_png(
                y_test, predicted, labels, f"{task_name} — {name}", out_dir / f"confusion-{name}.png"
            )
        save_model(fitted, model_path(out, task_name, name))
        write_atomic(
            model_path(out, task_name, name).with_suffix(".json"),
            json.dumps({"task": task_name, "model": name, "labels": labels}) + "\n",
        )
        progress.advance(bar)
    return _write_task_reports(out_dir, task, task_name, results, labels, timings)


def _write_task_reports(
    out_dir: Path,
    task: Task,
    task_name: str,
    results: dict[str, Any],
    labels: list[str],
    timings: dict[str, float],
) -> dict[str, Any]:
    """metrics.json + report.md (merged with models trained earlier) and timings.json."""
    from stancebank.files import write_atomic
    from train.baselines import model_names
    from train.evaluation import write_reports

    previous = out_dir / "metrics.json"
    if previous.exists():  # training one model adds it to the report of the others
        earlier = json.loads(previous.read_text(encoding="utf-8")).get("models", {})
        order = model_names(task_name)
        results = {n: results.get(n) or earlier[n] for n in order if n in results or n in earlier}
    write_reports(out_dir, task_name, results, labels, task.kind)
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

    from train.baselines import ALL_TASKS, TASKS, TrainingError, model_names
    from train.evaluation import PRIMARY

    if args.task == "attribution":  # not a label: the task of span tagging + linking, its own reports
        from train.attribution.cli import cmd_train_attribution

        return cmd_train_attribution(args)
    tasks = list(TASKS) if args.task == "all" else [args.task]
    console = Console(width=max(120, Console().width))
    summary: dict[str, dict[str, Any]] = {}
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for task in tasks:
            names = model_names(task) if args.model == "all" else [args.model]
            unknown = [n for n in names if n not in model_names(task)]
            if unknown:
                raise TrainingError(f"task {task!r} has no model {unknown[0]!r} (has {model_names(task)})")
            fit_on = tuple(s.strip() for s in args.fit_on.split(",") if s.strip())
            summary[task] = train_task(args.dataset, task, names, args.out, progress, fit_on)
    for task, results in summary.items():
        primary = PRIMARY[ALL_TASKS[task].kind]
        table = Table(title=f"{task}: test split [95 % CI]")
        table.add_column("model")
        table.add_column(primary, justify="right")
        if primary != "macro_f1":
            table.add_column("macro-F1", justify="right")
        table.add_column("fit s", justify="right")
        for name, m in results.items():
            ci = m.get(f"{primary}_ci95")
            shown = f"{m[primary]:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
            f1 = m["macro_f1_ci95"]
            macro = [f"{m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}]"] if primary != "macro_f1" else []
            table.add_row(name, shown, *macro, str(m.get("fit_seconds", "")))
        console.print(table)
    console.print(f"reports: {args.out}/<task>/report.md, metrics.json, *.png, model-*.skops")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from train.baselines import ALL_TASKS, TrainingError, frame
    from train.evaluation import load_model, model_meta

    meta = model_meta(args.model)
    model = load_model(args.model)
    if meta["task"] not in ALL_TASKS:
        raise TrainingError(f"{args.model}: unknown task {meta['task']!r}")
    task = ALL_TASKS[meta["task"]]
    if args.metric == "fnc1" and task.kind != "pairs":
        raise TrainingError(
            f"--metric fnc1 needs a headline/body model (task fnc1); this one is {task.name!r}"
        )
    loaded = load_config(args.dataset, task)
    if args.split not in loaded:
        raise TrainingError(f"{args.dataset} has no split {args.split!r} (has {list(loaded)})")
    X, y, _ = frame(loaded[args.split], task)
    result = score(task, model, X, y, _labels(loaded, task))
    result.pop("predicted")
    if args.metric == "fnc1":
        result = {
            k: result[k] for k in ("n", "fnc1_score", "fnc1_max", "fnc1_percent", "accuracy", "macro_f1")
        }
    print(
        json.dumps(
            {
                "task": meta["task"],
                "model": meta["model"],
                "dataset": str(args.dataset),
                "split": args.split,
                **result,
            },
            indent=1,
        )
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from stancebank.validate import load_valid
    from train.predict import predict, write_predictions

    records = predict(
        args.model,
        load_valid(args.data),
        include_annotated=args.include_annotated,
        claim_models=args.claim_model or (),
    )
    write_predictions(records, args.out)
    print(f"{len(records)} task(s) pre-annotated, least confident first → {args.out}")
    for record in records[:5]:
        print(f"  {record['task_key']}: uncertainty {record['uncertainty']:.3f}")
    print(f"send them with: stancebank studio push --predictions {args.out}")
    return 0


#: ``train.baselines.ALL_TASKS`` by name (a test keeps them equal): the parser is built without sklearn.
TASK_NAMES = ("certainty", "polarity", "stance", "reliability", "fnc1", "certainty-score")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train and evaluate baselines on the exported dataset",
        description="Train scikit-learn baselines on train+validation of the exported dataset "
        "(hyper-parameters by grouped cross-validation), evaluate on test, write reports/<task>/ "
        "(metrics.json, report.md, confusion PNGs, skops models).",
    )
    parser.add_argument(
        "--task",
        choices=["all", *TASK_NAMES, "attribution"],  # not a label (a task name)
        default="all",
        help="all = the four tasks of our corpus; fnc1 and certainty-score need an imported corpus; "
        "attribution = SOURCE/CUE/CLAIM span taggers and their linker (reports in OUT/attribution)",
    )
    parser.add_argument(
        "--model",
        default="all",
        help="all, or one model of the task: majority, stratified, tfidf-lr, char-svm, cues-lr "
        "(our tasks); majority, tfidf-lr, pair-gbdt (fnc1); mean, tfidf-ridge, cues-ridge (certainty-score); "
        "crf, token-lr (attribution)",
    )
    parser.add_argument(
        "--fit-on", default="train,validation", help="splits to train on (default train,validation)"
    )
    parser.add_argument("--dataset", type=Path, default=Path("data/hf"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.set_defaults(func=cmd_train)
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a dataset in our export format",
        description="Load a skops model (untrusted types refused) and score it on one split of any dataset "
        "in StanceBank's export format.",
    )
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument("--dataset", type=Path, default=Path("data/hf"))
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument(
        "--metric",
        choices=("default", "fnc1"),
        default="default",
        help="fnc1: the FNC-1 challenge score (0.25 relatedness + 0.75 exact label of related pairs)",
    )
    evaluate.set_defaults(func=cmd_evaluate)
    predict = sub.add_parser(
        "predict",
        help="pre-annotate unannotated tasks with a claim or attribution model",
        description="Write Label Studio predictions for tasks without annotations, least confident task "
        "first. A claim model: one CLAIM region per sentence with the model's value and probability. An "
        "attribution model (train --task attribution): SOURCE/CUE/CLAIM regions with scores, their "
        "source_of/cue_of relations, and the values of any --claim-model on each CLAIM.",
    )
    predict.add_argument("--model", type=Path, required=True)
    predict.add_argument("data", nargs="*", type=Path, default=[Path("data")])
    predict.add_argument("--out", type=Path, default=Path("predictions.jsonl"))
    predict.add_argument("--include-annotated", action="store_true", help="also tasks that have annotations")
    predict.add_argument(
        "--claim-model",
        type=Path,
        action="append",
        help="with an attribution --model: a certainty/polarity/stance model whose value is proposed on "
        "each predicted CLAIM (repeatable)",
    )
    predict.set_defaults(func=cmd_predict)
