"""Write the agreement report: JSON, Markdown and a PNG heat-map of pairwise α."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from schemas import vocabulary as V
from stancebank.corpus import write_atomic
from stancebank.outputs import check_output_dir, write_marker
from stancebank.plots import save_png

#: The columns whose content the agreement depends on (table -> columns); gold annotations are left out,
#: so adjudicating after ``agreement`` keeps the hash (the export matches a report by it).
HASHED = {
    "articles": ["article_id", "text"],
    "targets": ["target_id", "article_id", "text"],
    "annotations": ["annotation_id", "article_id", "target_id", "annotator"],
    "spans": ["annotation_id", "span_id", "label", "start", "end", *V.ATTRIBUTE_VALUES],
    "relations": ["annotation_id", "from_id", "to_id", "type"],
}


def data_hash(tables: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 of the articles, targets and human annotations (row order and file layout do not count)."""
    humans = tables["annotations"].loc[tables["annotations"]["annotator"] != V.GOLD_ANNOTATOR]
    kept = set(humans["annotation_id"].astype(str))
    sha = hashlib.sha256()
    for name, columns in HASHED.items():
        frame = tables[name]
        if "annotation_id" in frame:
            frame = frame.loc[frame["annotation_id"].astype(str).isin(kept)]
        present = frame.reindex(columns=columns).astype(object)
        records = present.where(present.notna(), None).to_numpy().tolist()
        lines = sorted(json.dumps(r, ensure_ascii=False, default=str) for r in records)
        sha.update(f"{name}\n".encode())
        sha.update("\n".join(lines).encode())
    return sha.hexdigest()


def _cell(figure: dict[str, Any]) -> str:
    if figure["value"] is None:
        return "–"
    ci = figure["ci95"]
    interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
    return f"{figure['value']:.2f}{interval} (n={figure['n']})"


def markdown(result: dict[str, Any]) -> str:
    scopes = result["scopes"]
    names = list(scopes)
    lines = [
        "# Inter-annotator agreement",
        "",
        f"Span matching: {result['matching']}. Attributes are compared on overlap-matched spans only. "
        f"Intervals: 95 % bootstrap over tasks ({result['bootstrap']['resamples']} resamples, seed "
        f"{result['bootstrap']['seed']}). n = spans (F1: both annotators' spans; α/κ: matched pairs).",
        "",
        "| figure | " + " | ".join(f"{n} ({scopes[n]['tasks']} tasks)" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key in scopes["overall"]["figures"]:
        label = key
        if key.startswith(("alpha/", "kappa/")):
            name = key.split("/", 1)[1]
            kind = "ordinal" if name in V.ORDINAL_ATTRIBUTES else "nominal"
            label = (
                f"{key} ({kind}{', linear weights' if key.startswith('kappa') and kind == 'ordinal' else ''})"
            )
        lines.append(f"| {label} | " + " | ".join(_cell(scopes[n]["figures"][key]) for n in names) + " |")
    lines += ["", "## Warnings", ""]
    lines += [f"- {w}" for w in result["warnings"]] or ["- none"]
    lines += ["", "![pairwise α](alpha_heatmap.png)", ""]
    return "\n".join(lines)


def heatmap(result: dict[str, Any], path: Path) -> None:
    pairs = [s for s in result["scopes"] if s != "overall"] + ["overall"]
    attributes = list(V.ATTRIBUTE_VALUES)
    grid = np.array(
        [
            [
                np.nan if (v := result["scopes"][p]["figures"][f"alpha/{a}"]["value"]) is None else v
                for a in attributes
            ]
            for p in pairs
        ]
    )
    fig, ax = plt.subplots(figsize=(1.3 * len(attributes) + 2, 0.6 * len(pairs) + 1.6))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(attributes)), attributes, rotation=30, ha="right")
    ax.set_yticks(range(len(pairs)), pairs)
    for i in range(len(pairs)):
        for j in range(len(attributes)):
            ax.text(j, i, "–" if np.isnan(grid[i, j]) else f"{grid[i, j]:.2f}", ha="center", va="center")
    ax.set_title("Krippendorff's α on matched spans")
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def write_report(result: dict[str, Any], out: Path) -> dict[str, Path]:
    out = check_output_dir(out, "agreement")
    out.mkdir(parents=True, exist_ok=True)
    write_marker(out, "agreement")
    paths = {"json": out / "agreement.json", "markdown": out / "report.md", "png": out / "alpha_heatmap.png"}
    write_atomic(paths["json"], json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    write_atomic(paths["markdown"], markdown(result))
    heatmap(result, paths["png"])
    return paths


def alphas_below(result: dict[str, Any], threshold: float, attributes: list[str]) -> list[str]:
    """'scope: attribute α=…' for every α of the chosen attributes under ``threshold``."""
    low = []
    for scope, data in result["scopes"].items():
        for name in attributes:
            value = data["figures"][f"alpha/{name}"]["value"]
            if value is not None and value < threshold:
                low.append(f"{scope}: {name} α={value:.3f}")
    return low
