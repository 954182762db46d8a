"""The Markdown reports of ``stancebank train``: what was fitted on, the tables, the notes."""

from __future__ import annotations

from typing import Any

from train.scales import Scale


def fit_note(fitted_on: dict[str, int], kind: str, *, test_fit: bool = False) -> str:
    """What the models were really fitted on, and how hyper-parameters were chosen."""
    splits = " + ".join(f"{name} ({n:,} rows)" for name, n in fitted_on.items())
    how = (
        "each model is also fitted on part of those rows and scored on a dev part disjoint from it in both "
        "targets and texts (see below), where models with a grid choose their hyper-parameters"
        if kind == "pairs"
        else "models with a grid chose their hyper-parameters by GroupKFold (by the export's group) "
        "on those rows"
    )
    note = f"Fitted on {splits}; {how}."
    return (TEST_FIT_WARNING + " " + note) if test_fit else note


TEST_FIT_WARNING = (
    "**Fitted on the split it is scored on (--allow-test-fit): these are not held-out scores.**"
)


def _first_line(results: dict[str, dict[str, Any]], test_fit: bool) -> list[str]:
    return [TEST_FIT_WARNING, ""] if test_fit else []


def markdown(
    task: str,
    results: dict[str, dict[str, Any]],
    labels: list[str],
    best: str,
    note: str,
    *,
    test_fit: bool = False,
    primary: str = "macro_f1",
) -> str:
    fnc = all("fnc1_percent" in m for m in results.values())
    lines = [
        *_first_line(results, test_fit),
        f"# Baselines: {task}",
        "",
        f"Test split, {next(iter(results.values()))['n']} items. "
        f"Intervals: 95 % bootstrap over test items. {note} Best model by {primary}.",
        "",
        *_pair_header(labels, fnc),
    ]
    for name, m in results.items():
        marker = " **(best)**" if name == best else ""
        acc, f1 = m["accuracy_ci95"], m["macro_f1_ci95"]
        score = f"{m['fnc1_percent']:.2f} % ({m['fnc1_score']:g} / {m['fnc1_max']:g}) | " if fnc else ""
        lines.append(
            f"| {name}{marker} | {score}{m['accuracy']:.3f} [{acc[0]:.2f}, {acc[1]:.2f}] "
            f"| {m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}] | "
            + " | ".join(
                f"{m['per_class'][label]['f1']:.2f}" if label in m.get("macro_over", labels) else "–"
                for label in labels
            )
            + " |"
        )
    lines += [
        "",
        "–: the label occurs neither in the test split nor in the predictions; macro-F1 leaves it out.",
    ]
    unseen = {n: m["unseen_targets"] for n, m in results.items() if m.get("unseen_targets")}
    if unseen:
        size = next(iter(unseen.values()))["n"]
        lines += [
            "",
            f"Test items whose target never occurs in the fitting data ({size} items; with a test split "
            "that is already disjoint in texts, these are disjoint in both):",
            "",
            *_pair_header(labels, fnc),
        ]
        for name, m in unseen.items():
            f1 = m["macro_f1_ci95"]
            per_class = {label: m["per_class"][label]["f1"] for label in labels}
            macro = f"{m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}]"
            lines.append(_pair_row(name, m, macro, per_class, labels, fnc))
    lines += _dev_table(results, labels, fnc)
    lines += ["", *(f"![{name}](confusion-{name}.png)" for name in results), ""]
    return "\n".join(lines)


def regression_markdown(
    task: str,
    results: dict[str, dict[str, Any]],
    best: str,
    note: str,
    scale: Scale,
    *,
    test_fit: bool = False,
    primary: str = "pearson_r",
) -> str:
    mapped = all("macro_f1" in m for m in results.values())
    mapping = (
        f" macro-F1 after mapping true and predicted scores with the corpus's own mapping ({scale.mapping})."
        if mapped
        else " The data names no grade mapping, so no mapped macro-F1."
    )
    lines = [
        *_first_line(results, test_fit),
        f"# Baselines: {task}",
        "",
        f"Test split, {next(iter(results.values()))['n']} items, scores on the data's scale "
        f"{scale.low:g} … {scale.high:g} (predictions clipped to it). Pearson r and MAE with 95 % "
        f"bootstrap intervals;{mapping} {note} Best model by {primary}. Floors: mean, median and the "
        "most frequent value of the fitting data.",
        "",
        "| model | Pearson r | Spearman ρ | MAE |" + (" macro-F1 (mapped) |" if mapped else ""),
        "|---|---|---|---|" + ("---|" if mapped else ""),
    ]
    for name, m in results.items():
        marker = " **(best)**" if name == best else ""
        r, mae = m["pearson_r_ci95"], m.get("mae_ci95", [m["mae"], m["mae"]])
        row = (
            f"| {name}{marker} | {m['pearson_r']:.3f} [{r[0]:.2f}, {r[1]:.2f}] | {m['spearman_rho']:.3f} "
            f"| {m['mae']:.3f} [{mae[0]:.2f}, {mae[1]:.2f}] |"
        )
        if mapped:
            f1 = m["macro_f1_ci95"]
            row += f" {m['macro_f1']:.3f} [{f1[0]:.2f}, {f1[1]:.2f}] |"
        lines.append(row)
    lines += ["", *(f"![{name}](scatter-{name}.png)" for name in results), ""]
    return "\n".join(lines)


def _dev_size(dev: dict[str, dict[str, Any]]) -> str:
    figures = next(iter(dev.values()))
    counts = figures.get("n_true", {})
    mix = ", ".join(f"{label} {n:,}" for label, n in counts.items())
    return f"{figures['n']:,} items" + (f": {mix}" if mix else "")


def _dev_table(results: dict[str, dict[str, Any]], labels: list[str], fnc: bool) -> list[str]:
    """Pairs: each model's figures on the dev split disjoint in targets and texts (model selection)."""
    dev = {n: m["dev"] for n, m in results.items() if m.get("dev")}
    if not dev:
        return []
    lines = [
        "",
        "Dev split disjoint from the fitting part in both targets and texts "
        f"({_dev_size(dev)}; fitted on the rest of the fitting data, used to choose "
        "hyper-parameters and the best model). Its class mix can differ from test's: pairs crossing the cut "
        "are dropped, and with an `unrelated` class most of them are unrelated. The test split "
        "above may share targets with the fitting data (FNC-1's hold-out shares every headline), so "
        "these are the figures for unseen targets:",
        "",
        *_pair_header(labels, fnc),
    ]
    for name, m in dev.items():
        lines.append(_pair_row(name, m, f"{m['macro_f1']:.3f}", m["per_class_f1"], labels, fnc))
    return lines


def _pair_header(labels: list[str], fnc: bool) -> list[str]:
    """The head of a per-model table of pair scores (FNC-1 score only when it applies)."""
    return [
        "| model | "
        + ("FNC-1 score | " if fnc else "")
        + "accuracy | macro-F1 | "
        + " | ".join(f"F1 {label}" for label in labels)
        + " |",
        "|---|" + ("---|" if fnc else "") + "---|---|" + "---|" * len(labels),
    ]


def _pair_row(
    name: str, m: dict[str, Any], macro: str, per_class: dict[str, float], labels: list[str], fnc: bool
) -> str:
    """One model's row under :func:`_pair_header` (a label without a figure shows as –)."""
    return (
        f"| {name} | "
        + (f"{m.get('fnc1_percent', float('nan')):.2f} % | " if fnc else "")
        + f"{m['accuracy']:.3f} | {macro} | "
        + " | ".join(f"{per_class[label]:.2f}" if label in per_class else "–" for label in labels)
        + " |"
    )
