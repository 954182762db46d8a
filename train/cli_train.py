"""``stancebank train`` and ``stancebank evaluate``: baselines on the exported dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from stancebank.corpus import write_atomic
from train.baselines import TASKS, TrainingError, fit, frame, model_names, model_path, models
from train.evaluation import confusion_png, load_model, metrics, model_meta, save_model, write_reports
from train.export import load


def train_task(
    dataset: Path, task_name: str, names: list[str], out: Path, progress: Progress
) -> dict[str, Any]:
    task = TASKS[task_name]
    loaded = load(dataset, task.config)
    parts = [frame(loaded[s], task) for s in ("train", "validation") if s in loaded and len(loaded[s])]
    X = pd.concat([p[0] for p in parts], ignore_index=True)
    y = np.concatenate([p[1] for p in parts])
    groups = np.concatenate([p[2] for p in parts])
    X_test, y_test, _ = frame(loaded["test"], task)
    labels = list(loaded["test"].features[task.label].names)
    out_dir = out / task_name
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    bar = progress.add_task(f"{task_name}", total=len(names))
    available = models(task)
    for name in names:
        progress.update(bar, description=f"{task_name}: {name}")
        pipeline, grid = available[name]
        fitted = fit(pipeline, grid, X, y, groups)
        predicted = fitted.predict(X_test)
        results[name] = metrics(y_test, predicted, labels)
        confusion_png(y_test, predicted, labels, f"{task_name} — {name}", out_dir / f"confusion-{name}.png")
        save_model(fitted, model_path(out, task_name, name))
        write_atomic(
            model_path(out, task_name, name).with_suffix(".json"),
            json.dumps({"task": task_name, "model": name, "labels": labels}) + "\n",
        )
        progress.advance(bar)
    previous = out_dir / "metrics.json"
    if previous.exists():  # training one model adds it to the report of the others
        earlier = json.loads(previous.read_text(encoding="utf-8")).get("models", {})
        results = {n: results.get(n) or earlier[n] for n in model_names() if n in results or n in earlier}
    write_reports(out_dir, task_name, results, labels)
    return results


def cmd_train(args: argparse.Namespace) -> int:
    tasks = list(TASKS) if args.task == "all" else [args.task]
    names = model_names() if args.model == "all" else [args.model]
    console = Console(width=max(120, Console().width))
    summary: dict[str, dict[str, Any]] = {}
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for task in tasks:
            summary[task] = train_task(args.dataset, task, names, args.out, progress)
    table = Table(title="macro-F1 on the test split [95 % CI]")
    table.add_column("task")
    for name in names:
        table.add_column(name, justify="right")
    for task, results in summary.items():
        table.add_row(
            task,
            *(
                f"{results[n]['macro_f1']:.3f} [{results[n]['macro_f1_ci95'][0]:.2f}, "
                f"{results[n]['macro_f1_ci95'][1]:.2f}]"
                for n in names
            ),
        )
    console.print(table)
    console.print(f"reports: {args.out}/<task>/report.md, metrics.json, confusion-*.png, model-*.skops")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    meta = model_meta(args.model)
    model = load_model(args.model)
    task = TASKS[meta["task"]]
    loaded = load(args.dataset, task.config)
    if args.split not in loaded:
        raise TrainingError(f"{args.dataset} has no split {args.split!r} (has {list(loaded)})")
    X, y, _ = frame(loaded[args.split], task)
    labels = list(loaded[args.split].features[task.label].names)
    result = metrics(y, model.predict(X), labels)
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

    records = predict(args.model, load_valid(args.data), include_annotated=args.include_annotated)
    write_predictions(records, args.out)
    print(f"{len(records)} task(s) pre-annotated, least confident first → {args.out}")
    for record in records[:5]:
        print(f"  {record['task_key']}: uncertainty {record['uncertainty']:.3f}")
    print(f"send them with: stancebank studio push --predictions {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train and evaluate baselines on the exported dataset",
        description="Train scikit-learn baselines on train+validation of the exported dataset "
        "(hyper-parameters by grouped cross-validation), evaluate on test, write reports/<task>/ "
        "(metrics.json, report.md, confusion PNGs, skops models).",
    )
    parser.add_argument("--task", choices=["all", *TASKS], default="all")
    parser.add_argument("--model", choices=["all", *model_names()], default="all")
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
    evaluate.set_defaults(func=cmd_evaluate)
    predict = sub.add_parser(
        "predict",
        help="pre-annotate unannotated tasks with a claim model",
        description="Write Label Studio predictions (one CLAIM region per sentence, the model's value and "
        "probability per region) for tasks without annotations, least confident task first.",
    )
    predict.add_argument("--model", type=Path, required=True)
    predict.add_argument("data", nargs="*", type=Path, default=[Path("data")])
    predict.add_argument("--out", type=Path, default=Path("predictions.jsonl"))
    predict.add_argument("--include-annotated", action="store_true", help="also tasks that have annotations")
    predict.set_defaults(func=cmd_predict)
