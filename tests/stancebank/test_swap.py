"""The swap of a finished output folder into place: killed at any step, a complete version (the old or
the new one) is at the path; with the fallback (no renameat2), the old one is recoverable and recovered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stancebank.files import recover_dir, replace_dir

SCRIPT = (
    "import sys; from pathlib import Path; from stancebank.files import replace_dir; "
    "replace_dir(Path(sys.argv[1]), Path(sys.argv[2]))"
)
REPO = Path(__file__).resolve().parents[2]


def _version(folder: Path, tag: str) -> None:
    (folder / "sub").mkdir(parents=True)
    for name in ("a.parquet", "README.md", "sub/b.parquet"):
        (folder / name).write_text(tag, encoding="utf-8")


def _which(folder: Path) -> str | None:
    """ "old"/"new" when ``folder`` holds one complete version, None when it is missing."""
    if not folder.exists():
        return None
    files = {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}
    assert set(files) == {"a.parquet", "README.md", "sub/b.parquet"}, files
    tags = set(files.values())
    assert len(tags) == 1, files  # never a mix of the two
    return tags.pop()


def _killed_at(tmp_path: Path, step: str, *, fallback: bool) -> Path:
    out, staging = tmp_path / "hf", tmp_path / ".hf.staging"
    _version(out, "old")
    _version(staging, "new")
    env = {**os.environ, "STANCEBANK_KILL_AT": step, "PYTHONPATH": str(REPO)}
    if fallback:
        env["STANCEBANK_NO_EXCHANGE"] = "1"
    else:
        env.pop("STANCEBANK_NO_EXCHANGE", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(staging), str(out)], check=False, env=env, timeout=60
    )
    assert done.returncode == -signal.SIGKILL  # the hook fired: the swap really stopped at this step
    return out


@pytest.mark.parametrize(
    ("step", "expected"), [("swap-start", "old"), ("swap-exchanged", "new"), ("swap-done", "new")]
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux only")
def test_a_version_is_at_the_path_whenever_the_swap_is_killed(
    tmp_path: Path, step: str, expected: str
) -> None:
    out = _killed_at(tmp_path, step, fallback=False)
    assert _which(out) == expected


@pytest.mark.parametrize(
    ("step", "expected"),
    [("swap-start", "old"), ("swap-backed-up", "old"), ("swap-installed", "new"), ("swap-done", "new")],
)
def test_the_fallback_keeps_the_previous_version_and_puts_it_back(
    tmp_path: Path, step: str, expected: str
) -> None:
    out = _killed_at(tmp_path, step, fallback=True)
    backup = tmp_path / ".hf.previous"
    assert _which(out) in (expected, None)
    assert _which(out) is not None or _which(backup) == "old"  # missing only with the old one kept whole
    recover_dir(out)
    assert _which(out) == expected


def test_replace_dir_replaces_and_cleans_up(tmp_path: Path) -> None:
    out, staging = tmp_path / "hf", tmp_path / ".hf.staging"
    _version(out, "old")
    _version(staging, "new")
    replace_dir(staging, out)
    assert _which(out) == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["hf"]
