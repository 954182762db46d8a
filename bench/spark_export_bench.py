"""``export --engine spark`` against ``export --engine local`` as whole processes, with peak RSS.

Usage: python -m bench.spark_export_bench CORPUS_FOLDER [--runs 1] [--master URL]

Each run is a fresh ``stancebank export`` process writing to a temp folder; peak RSS is the largest sum
of resident memory over the process tree the command started (the driver, its JVM and Python workers),
sampled every 0.1 s. Prints a Markdown table with the machine's load average beside it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            status = _status(int(entry.name))
            if "PPid" in status:
                parents[int(entry.name)] = (int(status["PPid"]), status.get("VmRSS", "0 kB"))
    tree, total, frontier = {root}, 0, [root]
    while frontier:
        pid = frontier.pop()
        frontier += [child for child, (ppid, _) in parents.items() if ppid == pid and child not in tree]
        tree.update(frontier)
    for pid in tree:
        if pid in parents:
            total += int(parents[pid][1].split()[0]) * 1024
    return total


def run(command: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS of the process tree in bytes, exit code) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode:
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else "")
    return seconds, peak, process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "corpus", type=Path, help="a data folder (articles.jsonl, targets.jsonl, annotations/)"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--master", help="Spark master (default local[*])")
    parser.add_argument("--engines", default="local,spark")
    args = parser.parse_args()
    stancebank = str(Path(sys.executable).with_name("stancebank"))
    rows = []
    for engine in args.engines.split(","):
        for number in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "hf"
                command = [stancebank, "export", str(args.corpus), "--out", str(out), "--engine", engine]
                if engine == "spark" and args.master:
                    command += ["--master", args.master]
                load = os.getloadavg()[0]
                seconds, peak, code = run(command)
                files = len(list(out.rglob("*.parquet"))) if out.exists() else 0
                shutil.rmtree(out, ignore_errors=True)
            rows.append((engine, number + 1, seconds, peak, code, files, load))
    print("| engine | run | whole command | peak RSS (process tree) | parquet files | exit | load avg |")
    print("|---|---|---|---|---|---|---|")
    for engine, number, seconds, peak, code, files, load in rows:
        mib = f"{peak / 2**20:,.0f} MiB"
        print(f"| {engine} | {number} | {seconds:.1f} s | {mib} | {files} | {code} | {load:.2f} |")
    return 0 if all(r[4] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
