"""Label Studio stages: pull conversion of a full JSON export (vs the SDK's converter) and a real push.

python bench/studio_bench.py --sizes 1000,5000 [--push 2000]   → appends to bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from annotate import convert, server  # noqa: E402
from annotate.client import Studio  # noqa: E402
from annotate.config import label_config  # noqa: E402
from annotate.pull import convert_snapshot  # noqa: E402
from annotate.push import push  # noqa: E402
from bench.generate import generate  # noqa: E402
from bench.results import update_section  # noqa: E402
from stancebank.validate import load_valid  # noqa: E402


def write_export(data: Path) -> Path:
    """A full JSON export (with its .meta.json) of every annotation in ``data``."""
    articles = {json.loads(line)["article_id"]: json.loads(line) for line in (data / "articles.jsonl").open()}
    export: list[dict[str, Any]] = []
    by_task: dict[str, dict[str, Any]] = {}
    for annotation_id, line in enumerate((data / "annotations" / "bench.jsonl").open(), start=1):
        record = json.loads(line)
        key = convert.task_key(record["article_id"], record["target_id"])
        if key not in by_task:
            article = articles[record["article_id"]]
            by_task[key] = {
                "id": len(by_task) + 1,
                "data": {"text": article["text"], "target": "It happens.", "task_key": key},
                "annotations": [],
            }
            export.append(by_task[key])
        by_task[key]["annotations"].append(
            {
                "id": annotation_id,
                "completed_by": 1,
                "was_cancelled": False,
                "created_at": record["created_at"],
                "updated_at": record["updated_at"],
                "result": convert.annotation_to_results(record["spans"], record["relations"]),
            }
        )
    folder = data / "raw" / "label-studio" / "bench"
    folder.mkdir(parents=True)
    path = folder / "20260101T000000Z-bench.export.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    (folder / "20260101T000000Z-bench.meta.json").write_text(
        json.dumps({"project_id": 1, "title": "bench", "label_config": label_config(), "users": {"1": "ann"}})
    )
    return path


def timed(func: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--push", type=int, default=2000, help="tasks to push into a real server (0: skip)")
    args = parser.parse_args()
    rows = []
    from label_studio_sdk.converter import Converter

    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            generate(data, size)
            export = write_export(data)
            n = sum(len(t["annotations"]) for t in json.loads(export.read_text()))
            ours = timed(lambda data=data, export=export: convert_snapshot(export, data_dir=data))
            converter = Converter(config=label_config(), project_dir=tmp, download_resources=False)
            sdk = timed(
                lambda c=converter, e=export, t=tmp: c.convert_to_json_min(str(e), f"{t}/min", is_dir=False)
            )
            rows += [
                (f"pull conversion (ours: convert + validate + write), {n:,} annotations", size, ours),
                (f"label_studio_sdk.converter → JSON_MIN (no validation), {n:,} annotations", size, sdk),
            ]
            print(rows[-2], rows[-1], flush=True)
    if args.push:
        with tempfile.TemporaryDirectory() as tmp:
            home, data = Path(tmp) / "studio", Path(tmp) / "data"
            generate(data, args.push)
            (data / "annotations" / "bench.jsonl").unlink()
            state = server.start(home, port=18080)
            try:
                studio = Studio(state["url"], server.credentials(home).token)
                corpus = load_valid([data])
                started = time.perf_counter()
                report = push(studio, corpus, title="bench push", batch_size=500)
                seconds = time.perf_counter() - started
                assert report.created == args.push
                rows.append(
                    (
                        f"push into a real Label Studio (batches of 500), {args.push:,} tasks",
                        args.push,
                        seconds,
                    )
                )
                print(rows[-1], flush=True)
            finally:
                server.stop(home)
    lines = [
        f"## Label Studio stages (in-process, median of 3; push measured once; {date.today().isoformat()})",
        "",
        "| stage | articles | seconds |",
        "|---|---|---|",
        *(f"| {stage} | {n:,} | {s:.2f} |" for stage, n, s in rows),
        "",
    ]
    update_section("## Label Studio stages", "\n".join(lines))


if __name__ == "__main__":
    main()
