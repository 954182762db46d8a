"""One benchmark stage in a fresh process: ``python -m bench.stage STAGE DATA_DIR``.

Prints ``seconds <inner seconds>`` (the stage's own work, imports excluded) and ``rss <KiB>`` (this
process's peak) as its last two lines; bench/run.py times the whole process around it.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _validate(data: Path) -> None:
    """The whole command a user runs: ``stancebank validate DATA`` (exit 0: valid)."""
    from stancebank.cli import main

    code = main(["validate", str(data)])
    assert code == 0, f"validate exited {code}"


def _export(data: Path) -> None:
    """The whole command a user runs: ``stancebank export DATA --out HF``, validation included."""
    from stancebank.cli import main

    code = main(["export", str(data), "--out", str(data.parent / "hf")])
    assert code == 0, f"export exited {code}"


def _load(data: Path) -> None:
    import datasets

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as cache:
        for config in ("claims", "articles"):
            loaded = datasets.load_dataset(str(data.parent / "hf"), config, cache_dir=cache)
            assert sum(loaded.num_rows.values()) > 0


def _pull(data: Path) -> None:
    """The whole command a user runs (``stancebank studio pull DATA --from-snapshot FILE``): exit 0
    means every exported annotation was converted (exit 1: something was rejected)."""
    from bench.generate import EXPORT
    from stancebank.cli import main

    for earlier in (data / "annotations").glob("ls-bench*.jsonl"):  # ls-bench-<project id>.jsonl
        earlier.unlink()
    code = main(["studio", "pull", str(data), "--from-snapshot", str(data / EXPORT)])
    assert code == 0, f"studio pull exited {code}"


def _sdk(data: Path) -> None:
    from label_studio_sdk.converter import Converter

    from annotate.config import label_config
    from bench.generate import EXPORT

    with tempfile.TemporaryDirectory() as tmp:
        converter = Converter(config=label_config(), project_dir=tmp, download_resources=False)
        converter.convert_to_json_min(str(data / EXPORT), f"{tmp}/min", is_dir=False)
        shutil.rmtree(f"{tmp}/min", ignore_errors=True)


def _compare(name: str) -> Callable[[Path], None]:
    def run(data: Path) -> None:
        from bench.compare import CHECKS

        assert CHECKS[name](data) == 0

    return run


STAGES: dict[str, Callable[[Path], None]] = {
    "validate": _validate,
    "export": _export,
    "load": _load,
    "pull": _pull,
    "sdk": _sdk,
    **{name: _compare(name) for name in ("arrow", "orjson", "polars", "pydantic")},
}

#: Modules imported before the clock starts ("seconds" is the work, not the start-up).
IMPORTS = {
    "validate": ["stancebank.cli", "stancebank.validate", "stancebank.fastread", "schemas.crosstable"],
    "export": ["stancebank.cli", "stancebank.validate", "stancebank.fastread", "train.export", "train.rows"],
    "load": ["datasets"],
    "pull": ["stancebank.cli", "annotate.pull", "stancebank.fastread", "schemas.crosstable"],
    "sdk": ["label_studio_sdk.converter"],
    "arrow": ["pyarrow.json"],
    "orjson": ["orjson"],
    "polars": ["polars", "pycountry"],
    "pydantic": ["pydantic"],
}

if __name__ == "__main__":
    import importlib

    stage, folder = sys.argv[1], Path(sys.argv[2])
    if stage in ("validate", "export"):  # as the command does before its imports
        from stancebank.parallel import small_pages_for_numpy, use_c_heap_for_arrow

        use_c_heap_for_arrow()
        small_pages_for_numpy()
        from stancebank.scan import scan_ahead  # numpy: after the page choice

        scan_ahead([folder])
    for module in ["bench.compare", "bench.generate", *IMPORTS[stage]]:
        importlib.import_module(module)
    started = time.perf_counter()
    STAGES[stage](folder)
    print(f"seconds {time.perf_counter() - started:.3f}")
    print(f"rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
    if stage in ("validate", "export", "pull"):  # the command's own way out (the console script's)
        from stancebank.cli import exit_with

        exit_with(0)
