"""The Spark engine beside the local one: ``validate`` and ``export`` as whole processes, with peak RSS.

Usage: python -m bench.spark_bench CORPUS_FOLDER… [--commands validate,export] [--engines local,spark]
       [--local-max-spans N] [--runs 1] [--master URL] [--write]

Each run is a fresh ``stancebank`` process (export writes to a temp folder); peak RSS is the largest sum
of resident memory over the process tree the command started (the driver, its JVM and Python workers),
sampled every 0.1 s. The local engine is skipped on corpora above ``--local-max-spans``. Prints a
Markdown table with the machine's load average beside each run; ``--write`` also puts it into
bench/RESULTS.md (section "## Spark engine").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import proc  # noqa: E402
from bench.results import update_section  # noqa: E402


def run(command: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS of the process tree in bytes, exit code) of one command."""
    sampled = proc.run(command, stdout=subprocess.DEVNULL)
    return sampled.seconds, sampled.rss, sampled.returncode


def corpus_size(folder: Path) -> tuple[int, int, int]:
    """(articles, annotations, spans) of a data folder, counted from the bytes (no parsing)."""
    articles = sum(1 for _ in (folder / "articles.jsonl").open("rb"))
    annotations = spans = 0
    for file in sorted((folder / "annotations").glob("*.jsonl")):
        with file.open("rb") as handle:
            while block := handle.read(1 << 24):
                annotations += block.count(b"\n")
                spans += block.count(b'"label"')  # spans carry a label, relations a type
    return articles, annotations, spans


def command_for(
    stancebank: str, command: str, corpus: Path, out: Path, engine: str, master: str | None
) -> list[str]:
    line = [stancebank, command, str(corpus)]
    if command == "export":
        line += ["--out", str(out)]
    if engine != "local":  # the local engine is the default (and the only one some commands have)
        line += ["--engine", engine]
    if engine == "spark" and master:
        line += ["--master", master]
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "corpora", type=Path, nargs="+", help="data folders (articles.jsonl, targets.jsonl, annotations/)"
    )
    parser.add_argument("--commands", default="validate,export")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--local-max-spans", type=int, default=None, help="skip the local engine above this")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--master", help="Spark master (default local[*])")
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()
    stancebank = str(Path(sys.executable).with_name("stancebank"))
    lines = [
        "| corpus | command | engine | run | whole command | peak RSS (process tree) | exit | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    codes = []
    for corpus in args.corpora:
        articles, annotations, spans = corpus_size(corpus)
        name = f"{articles:,} articles, {annotations:,} annotations, {spans:,} spans"
        for command in args.commands.split(","):
            for engine in args.engines.split(","):
                if engine == "local" and args.local_max_spans is not None and spans > args.local_max_spans:
                    continue
                for number in range(args.runs):
                    with tempfile.TemporaryDirectory() as folder:
                        out = Path(folder) / "hf"
                        load = os.getloadavg()[0]
                        seconds, peak, code = run(
                            command_for(stancebank, command, corpus, out, engine, args.master)
                        )
                        shutil.rmtree(out, ignore_errors=True)
                    codes.append(code)
                    row = (
                        f"| {name} | {command} | {engine} | {number + 1} | {seconds:.1f} s | "
                        f"{peak / 2**20:,.0f} MiB | {code} | {load:.2f} |"
                    )
                    lines.append(row)
                    print(row, flush=True)
    if args.write:
        text = [
            f"## Spark engine (bench/spark_bench.py, {date.today().isoformat()}, {platform.machine()}, "
            f"{os.cpu_count()} cores, Spark local[*])",
            "",
            "Whole commands in fresh processes; peak RSS sums the process tree (driver, JVM, workers).",
            "",
            *lines,
        ]
        update_section("## Spark engine", "\n".join(text))
    return 0 if not any(codes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
