"""The attribution parts of ``stancebank train`` and ``stancebank predict`` (called from train.cli_train)."""

from __future__ import annotations

import argparse
from typing import Any

from train.attribution.tokens import LABELS


def cmd_train_attribution(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from train.attribution.models import MODEL_NAMES
    from train.attribution.run import TASK, train_attribution
    from train.baselines import TrainingError

    names = list(MODEL_NAMES) if args.model == "all" else [args.model]
    if any(n not in MODEL_NAMES for n in names):
        raise TrainingError(f"task {TASK!r} has no model {args.model!r} (has {list(MODEL_NAMES)})")
    fit_on = tuple(s.strip() for s in args.fit_on.split(",") if s.strip())
    out = args.out / TASK
    with Progress(console=Console(stderr=True), transient=True) as progress:
        result = train_attribution(args.dataset, out, progress, names=names, fit_on=fit_on)
    metrics, timings = result["metrics"], result["timings"]
    console = Console(width=max(120, Console().width))
    table = Table(title=f"{TASK}: test split, F1 exact / overlap [95 % CI of overlap]")
    table.add_column("model")
    for label in LABELS:
        table.add_column(label, justify="right")
    table.add_column("relations", justify="right")
    table.add_column("fit s", justify="right")
    for name, model in metrics["models"].items():
        cells = [_cell(model["spans"][label]) for label in LABELS]
        table.add_row(name, *cells, _f(model["relations"]["f1"]), str(timings["fit_seconds"][name]))
    console.print(table)
    console.print(f"reports: {out}/report.md, metrics.json, learning-curve.png, model-*.skops")
    return 0


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _cell(entry: dict[str, Any]) -> str:
    ci = entry.get("overlap_f1_ci95")
    interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    return f"{_f(entry['exact_f1'])} / {_f(entry['overlap_f1'])}{interval}"
