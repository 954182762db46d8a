"""Label Studio stage: ``push`` of generated tasks into a real local server (its own venv).

python bench/studio_bench.py [--push 10000]   → replaces its section of bench/RESULTS.md

(``pull`` conversion is timed by bench/run.py against the SDK's converter on the same export.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from annotate import server  # noqa: E402
from annotate.client import Studio  # noqa: E402
from annotate.push import push  # noqa: E402
from bench.generate import generate  # noqa: E402
from bench.results import update_section  # noqa: E402
from stancebank.validate import load_valid  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--push", type=int, default=10_000, help="tasks to push into a real server")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, data = Path(tmp) / "studio", Path(tmp) / "data"
        generate(data, args.push)
        (data / "annotations" / "bench.jsonl").unlink()
        state = server.start(home, port=18080)
        try:
            studio = Studio(state["url"], server.credentials(home).token)
            corpus = load_valid([data])
            started = time.perf_counter()
            report = push(studio, corpus, title="bench push", batch_size=args.batch)
            seconds = time.perf_counter() - started
            assert report.created == args.push
            started = time.perf_counter()
            again = push(studio, corpus, title="bench push", batch_size=args.batch)
            idempotent = time.perf_counter() - started
            assert again.created == 0
        finally:
            server.stop(home)
    lines = [
        f"## Label Studio push (bench/studio_bench.py, one run, {date.today().isoformat()})",
        "",
        "| stage | tasks | seconds | tasks/s |",
        "|---|---|---|---|",
        f"| push into a real Label Studio (batches of {args.batch}) | {args.push:,} | {seconds:.1f} | "
        f"{args.push / seconds:,.0f} |",
        f"| push again (idempotent: all tasks found, none created) | {args.push:,} | {idempotent:.1f} | "
        f"{args.push / idempotent:,.0f} |",
        "",
    ]
    print("\n".join(lines))
    update_section("## Label Studio", "\n".join(lines))


if __name__ == "__main__":
    main()
