"""How fast ``stancebank import`` is and how its memory grows: generated tables of N rows, and FNC-1.

Each run is a fresh process (``stancebank import``); wall time is the median of ``--repeat`` runs, peak
RSS is the process's own ``ru_maxrss``. With FNC-1 present, also times ``train --task fnc1`` of the
TF-IDF baseline. Prints a Markdown table and appends it to bench/RESULTS.md (``make bench``).

    python bench/import_bench.py --rows 10000,50000,100000 [--fnc1 ../shared/data/fnc-1]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import update_section  # noqa: E402

SENTENCE = (
    "the minister said talks would resume next week while officials expected a deal on ports trade and "
    "energy but analysts doubted any agreement before the summit 😀 東京 according to sources"
)
WORDS = SENTENCE.split(" ")


def write_table(path: Path, rows: int, seed: int = 13) -> None:
    """``rows`` labelled (text, target) rows; about 10 rows share one article, like FNC-1 pairs."""
    rng = random.Random(seed)
    labels = ("agree", "disagree", "discuss", "unrelated")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "doc", "body", "claim", "label"])
        for i in range(rows):
            doc = i // 10
            body_rng = random.Random(doc)
            body = " ".join(body_rng.choice(WORDS) for _ in range(120))
            claim = " ".join(rng.choice(WORDS) for _ in range(8))
            writer.writerow([f"r{i}", f"d{doc}", body, claim, rng.choice(labels)])


#: Runs the CLI and reports the process's own peak RSS (KiB) on the last line of stderr.
_MEASURED = (
    "import resource, sys\n"
    "from stancebank.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_import(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one ``stancebank import`` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "import", *args, "--force", "--quiet"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="10000,50000,200000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fnc1", type=Path, default=ROOT.parent / "shared" / "data" / "fnc-1")
    args = parser.parse_args()
    table_args = ["--text-col", "body", "--target-col", "claim", "--label-col", "label",
                  "--group-col", "doc", "--id-col", "id",
                  "--label-map", "agree=support,disagree=oppose,discuss=neutral"]  # fmt: skip
    lines = ["| input | rows | median s | rows/s | peak RSS (MiB) |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (int(r) for r in args.rows.split(",")):
            path = Path(tmp) / f"table-{rows}.csv"
            write_table(path, rows)
            runs = [
                run_import(["table", str(path), "--out", f"{tmp}/out", *table_args])
                for _ in range(args.repeat)
            ]
            seconds = statistics.median(r[0] for r in runs)
            lines.append(
                f"| generated table | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {runs[-1][1]:.0f} |"
            )
            print(lines[-1], flush=True)
        training: list[str] = []
        if args.fnc1.exists():
            runs = [run_import(["fnc1", str(args.fnc1), "--out", f"{tmp}/fnc"]) for _ in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            rate = 49972 / seconds
            lines.append(
                f"| FNC-1 (stances + bodies) | 49,972 | {seconds:.1f} | {rate:,.0f} | {runs[-1][1]:.0f} |"
            )
            print(lines[-1], flush=True)
            training = train_fnc1(Path(tmp))
    title = f"## Import (bench/import_bench.py, fresh processes, median of {args.repeat}, {date.today()})"
    text = "\n".join([title, "", *lines, *training, ""])
    print(text)
    update_section("## Import", text)


def train_fnc1(tmp: Path) -> list[str]:
    """Export the imported FNC-1 and time the TF-IDF baseline on its training split (one run)."""
    cli = [sys.executable, "-m", "stancebank.cli"]
    export = [*cli, "export", str(tmp / "fnc"), "--out", str(tmp / "fnc-hf")]
    subprocess.run(export, cwd=ROOT, check=True, capture_output=True)
    train = [*cli, "train", "--task", "fnc1", "--model", "tfidf-lr", "--dataset", str(tmp / "fnc-hf")]
    started = time.perf_counter()
    subprocess.run([*train, "--out", str(tmp / "reports")], cwd=ROOT, check=True, capture_output=True)
    total = time.perf_counter() - started
    fit = json.loads((tmp / "reports" / "fnc1" / "timings.json").read_text())["fit_seconds"]["tfidf-lr"]
    return [
        "",
        f"`train --task fnc1 --model tfidf-lr` on the 40,350 pairs of FNC-1's training split: "
        f"fit {fit:.1f} s; the whole command (load, fit, score 9,622 pairs, plot, save) {total:.1f} s.",
    ]


if __name__ == "__main__":
    main()
