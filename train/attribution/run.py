"""``stancebank train --task attribution``: fit the CRF and the per-token model (each with its linker) on
train+validation of the ``articles`` config, score them on test, draw the learning curve, save with skops.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from train.attribution.metrics import article_counts, score
from train.attribution.models import MODEL_NAMES
from train.attribution.pipeline import AttributionModel, Example, examples_of
from train.baselines import TrainingError

TASK = "attribution"  # not a label (the task name)
SHARES = (0.1, 0.25, 0.5, 1.0)
#: Types a saved attribution model may hold besides skops' defaults.
TRUSTED_TYPES = (
    "train.attribution.pipeline.AttributionModel",
    "train.attribution.models.CrfTagger",
    "train.attribution.models.TokenTagger",
    "train.attribution.linker.Linker",
)


def model_path(out: Path, name: str) -> Path:
    return out / f"model-{name}.skops"


def save(model: AttributionModel, path: Path) -> None:
    import skops.io as sio

    from stancebank.files import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sio.dump(model, tmp)
    tmp.replace(path)
    write_atomic(path.with_suffix(".json"), json.dumps({"task": TASK, "model": model.model}) + "\n")


def load(path: Path) -> AttributionModel:
    """A saved attribution model; any type outside skops' defaults and :data:`TRUSTED_TYPES` is refused."""
    from train.evaluation import load_trusted

    model = load_trusted(path, lambda types: [t for t in types if t not in TRUSTED_TYPES])
    if not isinstance(model, AttributionModel):
        raise TrainingError(f"{path}: not an attribution model ({type(model).__name__})")
    return model


def evaluate(
    model: AttributionModel, examples: Sequence[Example], *, n_bootstrap: int = 1000
) -> dict[str, Any]:
    predictions = model.predict([e.text for e in examples])
    counts = [
        article_counts(e.spans, [s for s, _ in p.spans], e.relations, {r[:3] for r in p.relations})
        for e, p in zip(examples, predictions, strict=True)
    ]
    return score(np.array(counts), n_bootstrap=n_bootstrap)


def load_examples(dataset: Path, fit_on: Sequence[str]) -> tuple[list[Example], list[Example]]:
    from train.export import load as load_dataset

    if not (dataset / "articles").is_dir():
        raise TrainingError(
            f"{dataset} has no 'articles' config, which task {TASK!r} needs"
            if dataset.is_dir()
            else f"{dataset}: no such dataset folder"
        )
    loaded = load_dataset(dataset, "articles")
    if "test" not in loaded:
        raise TrainingError(f"{dataset}: config 'articles' has no test split (has {list(loaded)})")
    train = [e for s in fit_on if s in loaded for e in examples_of(loaded[s])]
    if not any(e.spans for e in train):
        raise TrainingError(f"{dataset}: no spans to learn from in {', '.join(fit_on)} of config 'articles'")
    return train, examples_of(loaded["test"])


def train_attribution(
    dataset: Path,
    out: Path,
    progress: Any,
    *,
    names: Sequence[str] = MODEL_NAMES,
    fit_on: Sequence[str] = ("train", "validation"),
    shares: Sequence[float] = SHARES,
    n_bootstrap: int = 1000,
    seed: int = 13,
) -> dict[str, Any]:
    """Fit, score, save; write reports into ``out``; return metrics.json's content."""
    from train.attribution import report

    train, test = load_examples(dataset, fit_on)
    order = np.random.default_rng(seed).permutation(len(train))
    curve_shares = [s for s in shares if s < 1.0]
    bar = progress.add_task(TASK, total=len(names) * (1 + len(curve_shares)))
    models: dict[str, Any] = {}
    curve: dict[str, list[dict[str, Any]]] = {}
    timings: dict[str, Any] = {"fit_seconds": {}, "predict_test_seconds": {}}
    fitted_any: AttributionModel | None = None
    for name in names:
        progress.update(bar, description=f"{TASK}: {name} on {len(train)} articles")
        started = time.perf_counter()
        model = AttributionModel(model=name).fit(train)
        timings["fit_seconds"][name] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        models[name] = evaluate(model, test, n_bootstrap=n_bootstrap)
        timings["predict_test_seconds"][name] = round(time.perf_counter() - started, 2)
        save(model, model_path(out, name))
        fitted_any = model
        progress.advance(bar)
        curve[name] = []
        for share in curve_shares:
            progress.update(bar, description=f"{TASK}: {name} on {share:.0%} of the articles")
            subset = [train[i] for i in sorted(order[: max(1, math.ceil(share * len(train)))])]
            curve[name].append(
                _point(share, subset, evaluate(AttributionModel(model=name).fit(subset), test))
            )
            progress.advance(bar)
        curve[name].append(_point(1.0, train, models[name]))
    assert fitted_any is not None
    metrics = {
        "task": TASK,
        "dataset": str(dataset),
        "train": {
            "splits": list(fit_on),
            "articles": len(train),
            "tokens": fitted_any.n_tokens_,
            "spans": sum(len(e.spans) for e in train),
            "spans_not_taggable": fitted_any.n_dropped_spans_,
        },
        "test": {"articles": len(test), "spans": sum(len(e.spans) for e in test)},
        "bootstrap": {"resamples": n_bootstrap, "seed": seed, "unit": "article"},
        "models": models,
        "learning_curve": curve if curve_shares else {},
    }
    report.write(out, metrics, timings)
    return {"metrics": metrics, "timings": timings}


def _point(share: float, subset: Sequence[Example], figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "share": share,
        "articles": len(subset),
        "overlap_f1": {label: v["overlap_f1"] for label, v in figures["spans"].items()},
        "relations_f1": figures["relations"]["f1"],
    }
