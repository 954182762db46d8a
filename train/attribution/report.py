"""The files of ``train --task attribution``: metrics.json, report.md, learning-curve.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stancebank.files import write_atomic
from train.attribution.metrics import RULES_NOTE
from train.attribution.tokens import LABELS

LAYERS_NOTE = (
    "One BIO tag layer per label (SOURCE, CUE, CLAIM), so a CUE inside a CLAIM is learnt on both layers; "
    "two spans of the same label sharing a token cannot both be tagged (the earlier, then longer, is kept)."
)


def _cell(entry: dict[str, Any], name: str) -> str:
    value, ci = entry.get(name), entry.get(f"{name}_ci95")
    if value is None:
        return "–"
    return f"{value:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def markdown(metrics: dict[str, Any]) -> str:
    lines = [
        "# Attribution extraction: SOURCE, CUE, CLAIM spans and their relations",
        "",
        f"Trained on {metrics['train']['articles']} articles ({metrics['train']['tokens']} tokens; splits "
        f"{', '.join(metrics['train']['splits'])}), scored on {metrics['test']['articles']} test articles. "
        f"{RULES_NOTE} {LAYERS_NOTE}",
        "",
    ]
    for name, model in metrics["models"].items():
        lines += [
            f"## {name}",
            "",
            "| label | gold | predicted | exact P | exact R | exact F1 | overlap P | overlap R "
            "| overlap F1 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for label in LABELS:
            e = model["spans"][label]
            cells = [
                _cell(e, f"{rule}_{m}")
                for rule in ("exact", "overlap")
                for m in ("precision", "recall", "f1")
            ]
            lines.append(f"| {label} | {e['n_gold']} | {e['n_predicted']} | " + " | ".join(cells) + " |")
        r = model["relations"]
        lines += [
            "",
            f"Relations (`source_of`, `cue_of`): P {_cell(r, 'precision')}, R {_cell(r, 'recall')}, "
            f"**F1 {_cell(r, 'f1')}** ({r['n_gold']} gold, {r['n_predicted']} predicted).",
            "",
        ]
    curve = metrics.get("learning_curve")
    if curve:
        lines += [
            "## Learning curve",
            "",
            "Overlap F1 on test against the share of training articles (same seed, nested subsets); "
            "a curve still rising at 100 % says more annotation will pay off.",
            "",
            "![learning curve](learning-curve.png)",
            "",
            "| model | share | articles | " + " | ".join(LABELS) + " | relations |",
            "|---|---|---|" + "---|" * (len(LABELS) + 1),
        ]
        for name, points in curve.items():
            for p in points:
                cells = [_num(p["overlap_f1"][label]) for label in LABELS]
                lines.append(
                    f"| {name} | {p['share']:.0%} | {p['articles']} | "
                    + " | ".join(cells)
                    + f" | {_num(p['relations_f1'])} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def learning_curve_png(curve: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib.pyplot as plt

    from stancebank.plots import save_png

    fig, axes = plt.subplots(1, len(curve), figsize=(5 * len(curve), 3.6), sharey=True, squeeze=False)
    for ax, (name, points) in zip(axes[0], curve.items(), strict=True):
        shares = [100 * p["share"] for p in points]
        for label in LABELS:
            ys = [p["overlap_f1"][label] for p in points]
            ax.plot(shares, [float("nan") if y is None else y for y in ys], marker="o", label=label)
        ys = [p["relations_f1"] for p in points]
        ax.plot(
            shares, [float("nan") if y is None else y for y in ys], marker="s", ls="--", label="relations"
        )
        ax.set_title(name)
        ax.set_xlabel("% of training articles")
        ax.set_xticks(shares)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("F1 on test (overlap)")
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.suptitle("Attribution: learning curve")
    fig.tight_layout()
    save_png(fig, path)


def write(out: Path, metrics: dict[str, Any], timings: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if metrics.get("learning_curve"):
        learning_curve_png(metrics["learning_curve"], out / "learning-curve.png")
    write_atomic(out / "metrics.json", json.dumps(metrics, indent=1, sort_keys=False) + "\n")
    write_atomic(out / "report.md", markdown(metrics))
    write_atomic(out / "timings.json", json.dumps(timings, indent=1) + "\n")
