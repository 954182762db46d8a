"""The shipped corpus's files, named one by one: what a user adds to data/ (pulled annotations, new
articles, new gold) is never read by the tests of the shipped corpus, so it cannot make them fail."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
#: what data/authoring/stories.txt builds (tests/stancebank/test_shipped_data.py checks it byte for byte)
SHIPPED = (
    "articles.jsonl",
    "targets.jsonl",
    "annotations/amira.jsonl",
    "annotations/bruno.jsonl",
    "annotations/chen.jsonl",
    "annotations/gold.jsonl",
)
#: written by `stancebank adjudicate --adjudicator amira` from the files above
SHIPPED_GOLD = ("gold/votes.jsonl", "gold/unresolved.jsonl")


def shipped_files(data: Path = DATA, *, gold: bool = True) -> list[Path]:
    """The shipped data files under ``data`` (without annotations/gold.jsonl unless ``gold``)."""
    return [data / rel for rel in SHIPPED if gold or rel != "annotations/gold.jsonl"]


def copy_shipped(dest: Path, data: Path = DATA) -> Path:
    """A data folder at ``dest`` holding the shipped files only (plus the guideline)."""
    for rel in (*SHIPPED, *SHIPPED_GOLD, "GUIDELINES.md"):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / rel, dest / rel)
    return dest
