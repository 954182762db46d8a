"""``stancebank export``: a Hugging Face dataset (parquet + card) that ``datasets.load_dataset`` reads.

Deterministic: the same tables give byte-identical parquet files. Written to a temp folder, re-loaded
and compared with the tables, then swapped into place, so a failed export leaves the old one intact.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
from datasets import Dataset, DatasetDict

from schemas.errors import StanceBankError
from stancebank.corpus import replace_dir
from train.card import dataset_card
from train.features import FEATURES, OPTIONAL_CONFIGS
from train.rows import build_rows
from train.splits import SPLITS, assign_splits, predefined_splits

CONFIGS = tuple(FEATURES)


class ExportError(StanceBankError, RuntimeError):
    """The export could not be written or does not match the tables it came from."""


@dataclass(frozen=True)
class ExportReport:
    out: Path
    counts: dict[str, dict[str, int]]  # config -> split -> rows
    sha256: str
    fingerprints: dict[str, str]  # "config/split" -> datasets fingerprint


def split_rows(
    rows: dict[str, list[dict[str, Any]]],
    *,
    proportions: tuple[float, float, float],
    seed: int,
    predefined: dict[str, str] | None = None,
) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], dict[str, str]]:
    """config -> split -> rows. Articles keep a ``predefined`` split (an imported corpus's own) or are
    assigned to splits by their claims' stance. Optional configs without rows are left out."""
    if predefined is not None:
        split_of = dict(predefined)
    else:
        claims = rows["claims"]
        split_of = (
            assign_splits(
                [c["stance"] or "none" for c in claims],
                [c["article_id"] for c in claims],
                proportions=proportions,
                seed=seed,
            )
            if len({c["article_id"] for c in claims}) >= 2
            else {}
        )
    for article in rows["articles"]:  # a story without claims still needs a split
        split_of.setdefault(article["article_id"], "train")
    splits = [*SPLITS, *sorted(set(split_of.values()) - set(SPLITS))]
    by_split = {}
    for config, config_rows in rows.items():
        if not config_rows and config in OPTIONAL_CONFIGS:
            continue
        parts = {split: [r for r in config_rows if split_of[r["article_id"]] == split] for split in splits}
        # an empty split of a non-empty config has no parquet file (datasets cannot load one without rows)
        by_split[config] = {s: r for s, r in parts.items() if r or not config_rows}
    return by_split, split_of


def _write_parquet(rows: list[dict[str, Any]], config: str, path: Path) -> str:
    """Write one split; return the dataset fingerprint (deterministic for the same rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = Dataset.from_list(rows, features=FEATURES[config]())
    dataset.to_parquet(str(path))
    return str(dataset._fingerprint)


def export(
    tables: dict[str, pd.DataFrame],
    out: Path,
    *,
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
    agreement: dict[str, Any] | None = None,
    card_path: str = "data/hf",
) -> ExportReport:
    """Write ``out``/<config>/<split>-00000-of-00001.parquet and ``out``/README.md."""
    datasets.disable_progress_bars()
    rows = build_rows(tables)
    predefined = predefined_splits(
        [{str(k): v for k, v in a.items()} for a in tables["articles"].to_dict("records")]
    )
    by_split, _ = split_rows(rows, proportions=proportions, seed=seed, predefined=predefined)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fingerprints = {}
        for config, splits in by_split.items():
            if not any(splits.values()):
                continue  # a config without rows (e.g. sources of a corpus without SOURCE spans)
            for split, split_rows_ in splits.items():
                path = staging / config / f"{split}-00000-of-00001.parquet"
                fingerprints[f"{config}/{split}"] = _write_parquet(split_rows_, config, path)
        counts = {c: {s: len(r) for s, r in splits.items()} for c, splits in by_split.items()}
        digest = _digest(staging)
        card = dataset_card(
            by_split,
            tables,
            sha256=digest,
            proportions=None if predefined else proportions,
            seed=seed,
            agreement=agreement,
            path=card_path,
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        verify(staging, by_split)
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportReport(out, counts, digest, fingerprints)


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        sha.update(path.relative_to(folder).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def load(out: Path, config: str) -> DatasetDict:
    """Load one config the way a researcher would (no loading script, parquet + card)."""
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as cache:
        loaded = datasets.load_dataset(str(out), config, cache_dir=cache)
        assert isinstance(loaded, DatasetDict)
        return DatasetDict({name: split.flatten_indices() for name, split in loaded.items()})


def verify(out: Path, by_split: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    """Re-load every config and compare with the rows: counts per split and label, every span's text."""
    for config, splits in by_split.items():
        if not any(splits.values()):
            if (out / config).exists():
                raise ExportError(f"{config}: has no rows but a folder was written")
            continue
        loaded = load(out, config)
        for split, rows in splits.items():
            got = loaded.get(split, [])
            if len(got) != len(rows):
                raise ExportError(f"{config}/{split}: wrote {len(rows)} rows, re-loaded {len(got)}")
            if rows:
                _verify_split(config, split, loaded[split], rows)


def _verify_split(config: str, split: str, loaded: Dataset, rows: list[dict[str, Any]]) -> None:
    table = loaded.data  # read the Arrow columns directly: iterating a Dataset formats row by row
    for column, feature in loaded.features.items():
        if isinstance(feature, datasets.ClassLabel):
            want = Counter(r[column] for r in rows)
            have = Counter(
                None if v is None else feature.int2str(v) for v in table.column(column).to_pylist()
            )
            if want != have:
                raise ExportError(f"{config}/{split}: counts of {column} differ: {want} != {have}")
    if config == "articles":
        columns = {name: table.column(name).to_pylist() for name in ("article_id", "text", "spans")}
        for article_id, text, spans in zip(
            columns["article_id"], columns["text"], columns["spans"], strict=True
        ):
            for span in spans:
                if text[span["start"] : span["end"]] != span["text"]:
                    raise ExportError(f"{article_id}/{span['span_id']}: span text changed")


def push_to_hub(out: Path, repo: str, *, token: str | None) -> None:
    """Upload every config of an export with ``DatasetDict.push_to_hub`` (needs a Hugging Face token)."""
    if not token:
        raise ExportError("--push-to-hub needs a token in HF_TOKEN")
    for config in CONFIGS:
        if not (out / config).is_dir():
            continue  # an optional config this export does not have
        load(out, config).push_to_hub(repo, config_name=config, token=token)
