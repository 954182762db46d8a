"""``stancebank train`` and ``stancebank evaluate``: baselines on the exported dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stancebank.project import DATA, DATASET, REPORTS


def cmd_train(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from stancebank.outputs import check_output_dir, roots_of, write_marker
    from stancebank.terminal import markup_safe
    from train.baselines import TASKS, TrainingError, model_names, task_of
    from train.evaluation import PRIMARY
    from train.training import check_fit_on, train_task

    out = check_output_dir(args.out, "train", inputs=[args.dataset], roots=roots_of(args), container=True)
    if args.task == "attribution":  # not a label: the task of span tagging + linking, its own reports
        from train.attribution.cli import cmd_train_attribution

        code = cmd_train_attribution(args)
        if code == 0:  # a refused run writes nothing, not even the marker
            write_marker(out, "train")
        return code
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
    out.mkdir(parents=True, exist_ok=True)  # refusals first: a refused command writes nothing
    write_marker(out, "train")
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
        f"reports: {markup_safe(args.out)}/<task>/report.md, metrics.json, predictions-*.jsonl, *.png, "
        "model-*.skops"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import sys

    from train.baselines import TrainingError, frame, task_of
    from train.evaluation import load_model, model_meta
    from train.outputs import write_item_predictions
    from train.scales import Scale, observed_scale
    from train.training import labels_of, load_config, score

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
    result = score(task, model, data, labels_of(loaded, task), scale, args.metric)
    predicted, confidence = result.pop("predicted"), result.pop("confidence")
    if args.predictions:
        from stancebank.outputs import check_output_file, roots_of

        inputs = [args.model, args.model.with_suffix(".json"), args.dataset]
        check_output_file(args.predictions, inputs=inputs, roots=roots_of(args))
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
    from stancebank.outputs import check_output_file, corpus_inputs, roots_of
    from stancebank.project import project_of
    from stancebank.terminal import visible
    from stancebank.validate import load_valid
    from train.evaluation import model_meta
    from train.predict import CLAIM_TASKS, predict, predict_items, write_predictions

    inputs = [args.model, args.model.with_suffix(".json"), *corpus_inputs(args.data)]
    spark = getattr(args, "engine", "local") == "spark"
    if args.out is None:  # a file, or a folder of shards: not the same default name
        args.out = project_of(args).root / ("predictions" if spark else "predictions.jsonl")
    if spark:
        from stancebank.outputs import check_output_dir
        from stancebank.spark import job_errors
        from stancebank.validate import check_valid
        from train.spark_predict import predict_spark

        # a folder of shards: never one the user owns (only a new, empty or earlier `predict` folder)
        out = check_output_dir(args.out, "predict", inputs=inputs, roots=roots_of(args))
        check_valid(args.data)  # the same validation the local engine runs first (annotations in chunks)
        with job_errors("predict --engine spark"):
            n = predict_spark(
                args.model,
                list(args.data),
                out,
                master=args.master,
                include_annotated=args.include_annotated,
            )
        print(visible(f"{n} task(s) pre-annotated (engine spark) → {args.out}/"))
        print(visible(f"send them with: stancebank studio push --predictions {args.out}"))
        return 0
    check_output_file(args.out, inputs=inputs, roots=roots_of(args))
    corpus = load_valid(args.data)
    task = model_meta(args.model)["task"]
    if task not in CLAIM_TASKS and task != "attribution":  # not a label (a task name)
        items = predict_items(args.model, corpus, include_annotated=args.include_annotated)
        write_predictions(items, args.out)
        print(visible(f"{len(items)} item(s) predicted → {args.out}"))
        return 0
    records = predict(
        args.model,
        corpus,
        include_annotated=args.include_annotated,
        claim_models=args.claim_model or (),
    )
    write_predictions(records, args.out)
    print(visible(f"{len(records)} task(s) pre-annotated, least confident first → {args.out}"))
    for record in records[:5]:
        print(visible(f"  {record['task_key']}: uncertainty {record['uncertainty']:.3f}"))
    print(visible(f"send them with: stancebank studio push --predictions {args.out}"))
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
        choices=["all", *TASK_NAMES, *TASK_ALIAS_NAMES, "attribution"],  # not a label (a task name)
        default="all",
        help="all = the four tasks of our corpus; pairs (alias fnc1: target ↔ text stance) and "
        "certainty-score need an imported corpus; attribution = SOURCE/CUE/CLAIM span taggers and "
        "their linker (reports in OUT/attribution)",
    )
    parser.add_argument(
        "--model",
        default="all",
        help="all, or one model of the task: majority, stratified, tfidf-lr, char-svm, cues-lr "
        "(our tasks); majority, tfidf-lr, pair-lr, pair-gbdt (pairs); mean, median, most-frequent, "
        "tfidf-ridge, cues-ridge, context-ridge (certainty-score); crf, token-lr (attribution)",
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
    parser.add_argument("--dataset", type=Path, default=DATASET, help="exported dataset folder")
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports folder")
    parser.set_defaults(func=cmd_train)
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a dataset in our export format",
        description="Load a skops model (untrusted types refused) and score it on one split of any dataset "
        "in StanceBank's export format; optionally write its per-item predictions.",
    )
    evaluate.add_argument("--model", type=Path, required=True, help="a model-*.skops file written by train")
    evaluate.add_argument("--dataset", type=Path, default=DATASET, help="exported dataset folder")
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
        help="pre-annotate or predict unlabelled data with a saved model",
        description="Claim models: Label Studio predictions (one CLAIM region per sentence, the model's "
        "value and probability per region) for tasks without annotations, least confident task first. "
        "Attribution models (train --task attribution): SOURCE/CUE/CLAIM regions with scores, their "
        "source_of/cue_of relations, and the values of any --claim-model on each CLAIM. "
        "Pair models: one JSON line per (article, target) task with the predicted stance and its "
        "probability. Score models: one JSON line per sentence with the predicted score (clipped to the "
        "scale the model was fitted on).",
    )
    predict.add_argument("--model", type=Path, required=True, help="a model-*.skops file written by train")
    predict.add_argument("data", nargs="*", type=Path, default=[DATA], help="data folders or .jsonl files")
    predict.add_argument(
        "--out",
        type=Path,
        help="predictions JSONL (default: <project>/predictions.jsonl); with --engine spark a folder of "
        "JSONL shards, each least confident first (default: <project>/predictions/)",
    )
    from stancebank.spark import add_engine_arguments

    add_engine_arguments(predict)
    predict.add_argument("--include-annotated", action="store_true", help="also tasks that have annotations")
    predict.add_argument(
        "--claim-model",
        type=Path,
        action="append",
        help="with an attribution --model: a certainty/polarity/stance model whose value is proposed on "
        "each predicted CLAIM (repeatable)",
    )
    predict.set_defaults(func=cmd_predict)
