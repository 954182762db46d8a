"""Benchmarks: validate end to end vs merely parsing the files, and the export, at several sizes.

python bench/run.py [--sizes 1000,10000] [--repeat 3]   → prints figures, writes bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.generate import generate  # noqa: E402
from bench.results import update_section  # noqa: E402

_PARSE = """
import json, pathlib, sys
for path in pathlib.Path(sys.argv[1]).rglob("*.jsonl"):
    [json.loads(line) for line in path.read_bytes().split(b"\\n") if line]
"""
_VALIDATE = """
import sys
from stancebank.corpus import read_corpus
from stancebank.validate import validate_corpus
assert validate_corpus(read_corpus([sys.argv[1]])) == []
"""
_EXPORT = """
import pathlib, sys
from stancebank.corpus import read_corpus
from train.export import export
export(read_corpus([sys.argv[1]]).tables, pathlib.Path(sys.argv[1]) / "hf")
"""
STAGES = {
    "parse (json.loads per line, the floor)": _PARSE,
    "validate (read + every rule)": _VALIDATE,
    "export (HF parquet + card + re-load check)": _EXPORT,
}


def measure(code: str, data: Path, repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` fresh processes, and the peak RSS (MiB) of the last one."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(data)], check=True, cwd=HERE.parent)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return statistics.median(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            generate(data, size)
            with (data / "annotations" / "bench.jsonl").open() as handle:
                spans = sum(len(json.loads(line)["spans"]) for line in handle)
            for stage, code in STAGES.items():
                seconds, peak = measure(code, data, args.repeat)
                rows.append((stage, size, spans, seconds, peak))
                print(
                    f"{stage:45} {size:>7} articles {spans:>8} spans  {seconds:7.2f} s  {peak:.0f} MiB",
                    flush=True,
                )
    lines = [
        f"# Benchmarks ({date.today().isoformat()}, {platform.machine()}, {platform.python_version()}, "
        "2 cores, 24 GiB)",
        "",
        "Median of fresh processes (Python start-up and imports included); peak RSS: largest child so far.",
        "",
        "| stage | articles | spans | seconds | peak RSS (MiB) |",
        "|---|---|---|---|---|",
        *(f"| {s} | {n:,} | {sp:,} | {t:.2f} | {m:.0f} |" for s, n, sp, t, m in rows),
        "",
    ]
    update_section("# Benchmarks", "\n".join(lines))
    print(f"written {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
