"""Benchmarks at 10k and 100k articles: every stage against what a user would run instead.

    python bench/run.py [--sizes 10000,100000] [--repeat 3]   → prints figures, writes bench/RESULTS.md

Each stage runs in a fresh process (bench/stage.py): ``work`` is the stage's own time (imports
excluded), ``process`` the whole command; medians of ``--repeat`` runs (at the largest size only the
floor, validate and export repeat; the rest runs once). Peak RSS is each process's own ``ru_maxrss``;
the tree figure the peak PSS of the process and its workers (bench/proc.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import proc  # noqa: E402
from bench.generate import EXPORT, generate  # noqa: E402
from bench.results import update_section  # noqa: E402

#: (stage, label, data folder: the corpus or the pull folder without annotations)
STAGES = [
    ("arrow", "parse: Arrow JSON reader into tables (the floor)", "data"),
    ("orjson", "parse: orjson per line (floor for Python objects)", "data"),
    ("validate", "**`stancebank validate`** (read + every rule)", "data"),
    ("polars", "hand-written polars check of the same rules", "data"),
    ("pydantic", "pydantic per-row models (+ id/foreign-key sets)", "data"),
    ("export", "**`stancebank export`** (validate, rows, splits, parquet, card, re-load check)", "data"),
    ("load", "`load_dataset` of the export (claims + articles)", "data"),
    ("pull", "**`stancebank studio pull --from-snapshot`** (convert + validate + write)", "pull"),
    ("sdk", "label_studio_sdk.converter → JSON_MIN (no validation)", "pull"),
]
#: Run once at the largest size (keeps `make bench` under 15 minutes); the targets run --repeat times.
ONCE_AT_LARGEST = {"orjson", "polars", "pydantic", "load", "pull", "sdk"}


@dataclass
class Figure:
    work: float
    process: float
    rss_mib: float
    tree_mib: float  # peak PSS summed over the process and the workers it starts


def measure(stage: str, folder: Path, repeat: int) -> Figure:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryFile("w+") as out:
            done = proc.run(
                [sys.executable, "-m", "bench.stage", stage, str(folder)], cwd=HERE.parent, stdout=out
            )
            if done.returncode:
                raise SystemExit(f"bench.stage {stage} exited {done.returncode}")
            out.seek(0)
            tail = dict(line.split(" ", 1) for line in out.read().strip().splitlines()[-2:])
        runs.append(Figure(float(tail["seconds"]), done.seconds, int(tail["rss"]) / 1024, done.pss / 2**20))
    return Figure(
        statistics.median(r.work for r in runs),
        statistics.median(r.process for r in runs),
        max(r.rss_mib for r in runs),
        max(r.tree_mib for r in runs),
    )


def prepare(root: Path, size: int) -> tuple[Path, Path, dict[str, int]]:
    """The generated corpus and a pull folder (same articles and targets, the Label Studio export)."""
    data, pull = root / "data", root / "pull"
    generate(data, size, label_studio=True)
    (pull / EXPORT.parent).mkdir(parents=True)
    (pull / "annotations").mkdir()
    for name in ("articles.jsonl", "targets.jsonl"):
        os.link(data / name, pull / name)
    for file in (data / EXPORT.parent).iterdir():
        os.link(file, pull / EXPORT.parent / file.name)
    counts = {"annotations": 0, "spans": 0}
    with (data / "annotations" / "bench.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            counts["annotations"] += 1
            counts["spans"] += len(json.loads(line)["spans"])
    return data, pull, counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated stages (default: all)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    only = set(args.only.split(",")) if args.only else {s for s, _, _ in STAGES}
    figures: dict[tuple[str, int], Figure] = {}  # (stage, articles) -> figure
    counts: dict[int, dict[str, int]] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data, pull, counts[size] = prepare(Path(tmp), size)
            found = counts[size]
            print(f"{size:,} articles: {found['annotations']:,} annotations, {found['spans']:,} spans")
            for stage, label, where in STAGES:
                if stage not in only:
                    continue
                repeat = 1 if stage in ONCE_AT_LARGEST and size == max(sizes) else args.repeat
                figure = measure(stage, data if where == "data" else pull, repeat)
                figures[stage, size] = figure
                print(
                    f"  {label:60} work {figure.work:7.2f} s  process {figure.process:7.2f} s  "
                    f"{figure.rss_mib:6.0f} MiB  tree {figure.tree_mib:6.0f} MiB",
                    flush=True,
                )
    single = max(sizes)
    with tempfile.TemporaryDirectory() as tmp:  # the issue's own figure: N articles, one annotation each
        data = Path(tmp) / "data"
        generate(data, single, annotators=1)
        spans = sum(len(json.loads(line)["spans"]) for line in (data / "annotations" / "bench.jsonl").open())
        for stage in ("arrow", "validate"):
            if stage in only:
                figures[f"{stage}-single", single] = figure = measure(stage, data, args.repeat)
                print(f"  {stage} with one annotation per task ({spans:,} spans): work {figure.work:.2f} s")
        counts[-single] = {"annotations": single, "spans": spans}
    write(figures, counts, sizes, args.repeat)


def write(
    figures: dict[tuple[str, int], Figure], counts: dict[int, dict[str, int]], sizes: list[int], repeat: int
) -> None:
    head = " | ".join(
        f"{s // 1000}k work s | {s // 1000}k process s | {s // 1000}k RSS MiB | {s // 1000}k tree MiB"
        for s in sizes
    )
    lines = [
        f"# Benchmarks ({date.today().isoformat()}, {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, 24 GiB)",
        "",
        "Generated corpora (bench/generate.py, seed 7): "
        + "; ".join(
            f"{s:,} articles = {counts[s]['annotations']:,} annotations, {counts[s]['spans']:,} spans"
            for s in sizes
        )
        + ". Fresh process per run; *work* excludes imports, *process* is the whole command; "
        f"median of {repeat} (at the largest size one run, except the Arrow floor, validate and export); "
        "RSS: the peak of the command's own process; tree: the peak PSS summed over it and the worker "
        "processes it forks (`export`, `pull`: `--jobs`, default the 2 cores).",
        "",
        f"| stage | {head} | growth ×{sizes[-1] // sizes[0]} data |",
        "|---|" + "---|" * (4 * len(sizes) + 1),
    ]
    for stage, label, _ in STAGES:
        cells = []
        for size in sizes:
            f = figures.get((stage, size))
            cells += (
                [f"{f.work:.2f}", f"{f.process:.2f}", f"{f.rss_mib:.0f}", f"{f.tree_mib:.0f}"]
                if f
                else ["–"] * 4
            )
        first, last = figures.get((stage, sizes[0])), figures.get((stage, sizes[-1]))
        growth = f"{last.work / first.work:.1f}" if first and last and first.work > 0 else "–"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {growth} |")
    single = max(sizes)
    extra = [(f"{stage}-single", label) for stage, label, _ in STAGES if stage in ("arrow", "validate")]
    if any((name, single) in figures for name, _ in extra):
        spans = counts[-single]["spans"]
        lines += [
            "",
            f"One annotation per task instead of 1–3 ({single:,} articles, {spans:,} spans, "
            f"median of {repeat}):",
            "",
            "| stage | work s | process s | RSS MiB | tree MiB |",
            "|---|---|---|---|---|",
        ]
        for name, label in extra:
            f = figures.get((name, single))
            if f:
                lines.append(
                    f"| {label} | {f.work:.2f} | {f.process:.2f} | {f.rss_mib:.0f} | {f.tree_mib:.0f} |"
                )
    update_section("# Benchmarks", "\n".join([*lines, ""]))
    print(f"written {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
