"""``stancebank export``: a Hugging Face dataset (parquet + card) that ``datasets.load_dataset`` reads.

Deterministic: the same tables give byte-identical parquet files. Written to a temp folder, re-loaded
and compared with the tables, then swapped into place, so a failed export leaves the old one intact.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict
from datasets.info import DatasetInfo
from datasets.table import InMemoryTable

from annotate.agreement_report import data_hash
from schemas.errors import StanceBankError
from schemas.offsets import ArticleTexts
from stancebank.files import replace_dir, staging_dir
from stancebank.outputs import check_output_dir, write_marker
from stancebank.project import DEFAULT_POLICY, Project, load_project
from train.card import CardContext, dataset_card
from train.features import FEATURES, OPTIONAL_CONFIGS
from train.rows import build_rows
from train.splits import SPLITS, assign_splits, predefined_splits
from train.votes import ONLY, PARTLY, USED, VOTES, account, select

CONFIGS = tuple(FEATURES)


class ExportError(StanceBankError, RuntimeError):
    """The export could not be written or does not match the tables it came from."""


class UnrepresentedError(ExportError):
    """``strict``: an annotation's claims/sources reach no claims/sources row (nothing was written)."""

    def __init__(self, report: ExportReport) -> None:
        self.report = report
        first = report.unrepresented.iloc[0]
        super().__init__(
            f"strict: {len(report.unrepresented)} annotation(s) not represented in claims/sources, e.g. "
            f"{first['annotation_id']} ({first['annotator']}: {first['spans'] - first['reached']} span(s) "
            "in no row); nothing written"
        )


@dataclass(frozen=True)
class ExportReport:
    out: Path
    counts: dict[str, dict[str, int]]  # config -> split -> rows
    sha256: str
    fingerprints: dict[str, str]  # "config/split" -> first 16 hex digits of the parquet file's SHA-256
    account: pd.DataFrame  # one row per annotation: annotator, status, reason, spans, reached (train.votes)
    policy: tuple[str, ...] = DEFAULT_POLICY
    warnings: tuple[str, ...] = ()
    agreement: bool = False  # an agreement report of the same data filled the card's section

    @property
    def unrepresented(self) -> pd.DataFrame:
        """Annotations with CLAIM/SOURCE spans that reach no claims/sources row (only ``annotations``)."""
        return self.account.loc[self.account["status"].isin([ONLY, PARTLY])]


def split_rows(
    rows: dict[str, pa.Table],
    *,
    proportions: tuple[float, float, float],
    seed: int,
    predefined: dict[str, str] | None = None,
) -> tuple[dict[str, dict[str, pa.Table]], dict[str, str]]:
    """config -> split -> rows. Articles keep a ``predefined`` split (an imported corpus's own) or are
    assigned to splits by their claims' stance. Optional configs without rows are left out."""
    if predefined is not None:
        split_of = dict(predefined)
    else:
        claims = rows["claims"]
        stances = [s or "none" for s in claims.column("stance").to_pylist()]
        if not claims.num_rows and rows["pairs"].num_rows:  # a pair corpus: stratify by its labels
            claims = rows["pairs"]
            stances = [s or "none" for s in claims.column("doc_label").to_pylist()]
        article_ids = claims.column("article_id").to_pylist()
        # a claim's group (claim, topic, event when the importer named one; else its article) stays whole
        groups = claims.column("group").to_pylist() if "group" in claims.column_names else article_ids
        by_group = (
            assign_splits(stances, groups, proportions=proportions, seed=seed)
            if len(set(groups)) >= 2
            else {}
        )
        split_of = {a: by_group[g] for a, g in zip(article_ids, groups, strict=True) if g in by_group}
    for article_id in rows["articles"].column("article_id").to_pylist():  # a story without claims
        split_of.setdefault(article_id, "train")
    splits = [*SPLITS, *sorted(set(split_of.values()) - set(SPLITS))]
    by_split = {}
    for config, table in rows.items():
        if not table.num_rows and config in OPTIONAL_CONFIGS:
            continue
        of_row = pd.Series(table.column("article_id").to_pandas()).map(split_of).to_numpy()
        parts = {split: table.filter(pa.array(of_row == split)) for split in splits}
        # an empty split of a non-empty config has no parquet file (datasets cannot load one without rows)
        by_split[config] = {s: t for s, t in parts.items() if t.num_rows or not table.num_rows}
    return by_split, split_of


def encode(table: pa.Table, config: str) -> pa.Table:
    """Rows with string labels -> the config's Arrow schema (ClassLabel integers, int32 offsets …)."""
    features = FEATURES[config]()
    columns = [
        _encode(table.column(name).combine_chunks(), feature, name) for name, feature in features.items()
    ]
    return pa.Table.from_arrays(columns, schema=features.arrow_schema)


def _encode(array: pa.Array, feature: Any, name: str) -> pa.Array:
    if isinstance(feature, datasets.ClassLabel):
        codes = pc.index_in(array, value_set=pa.array(feature.names, pa.string()))
        if codes.null_count != array.null_count:
            unknown = pc.filter(array, pc.and_(pc.is_null(codes), pc.is_valid(array)))
            raise ExportError(f"{name}: {unknown[0].as_py()!r} is not one of {feature.names}")
        return codes.cast(pa.int64())
    if isinstance(feature, datasets.List):
        assert isinstance(array, pa.ListArray)
        return pa.ListArray.from_arrays(array.offsets, _encode(array.flatten(), feature.feature, name))
    if isinstance(feature, dict):
        assert isinstance(array, pa.StructArray)
        children = array.flatten()
        return pa.StructArray.from_arrays(
            [_encode(child, feature[key], key) for key, child in zip(feature, children, strict=True)],
            names=list(feature),
        )
    return array.cast(feature.pa_type)


def _write_parquet(encoded: pa.Table, config: str, path: Path) -> str:
    """Write one split; return its fingerprint: the first 16 hex digits of the file's SHA-256
    (deterministic for the same rows; ``datasets`` would hash the whole table in Python to make one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    features = FEATURES[config]()
    fingerprint = hashlib.sha256(f"{config}/{path.name}/{encoded.num_rows}".encode()).hexdigest()[:16]
    dataset = Dataset(InMemoryTable(encoded), info=DatasetInfo(features=features), fingerprint=fingerprint)
    dataset.to_parquet(str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def export(
    tables: dict[str, pd.DataFrame],
    out: Path,
    *,
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
    policy: tuple[str, ...] = DEFAULT_POLICY,
    project: Project | None = None,
    agreement_path: Path | None = None,
    card_path: str = "data/hf",
    strict: bool = False,
) -> ExportReport:
    """Write ``out``/<config>/<split>-00000-of-00001.parquet, ``out``/README.md (the card, from
    ``project``) and the project's guideline. ``agreement_path``: an ``agreement.json`` whose data hash
    is that of ``tables`` fills the card's agreement section. ``strict``: raise :class:`UnrepresentedError`
    before writing anything when an annotation's claims/sources would reach no claims/sources row."""
    datasets.disable_progress_bars()
    project = project or load_project(out.parent, found=False)
    selection = select(tables, policy)
    rows = build_rows(tables, selection)
    articles = tables["articles"]
    predefined = predefined_splits(articles["article_id"].tolist(), articles["metadata"].tolist())
    by_split, _ = split_rows(rows, proportions=proportions, seed=seed, predefined=predefined)
    warnings = _empty_splits(by_split, predefined is None)
    agreement = matching_agreement(agreement_path, tables)
    accounted = account(tables, selection)
    if strict:
        planned = ExportReport(
            out, {}, "", {}, accounted, tuple(policy), tuple(warnings), agreement is not None
        )
        if len(planned.unrepresented):
            raise UnrepresentedError(planned)
    out = check_output_dir(out, "export")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(out)
    try:
        fingerprints = {}
        encoded = {c: {s: encode(t, c) for s, t in splits.items()} for c, splits in by_split.items()}
        for config, splits in encoded.items():
            if not any(splits.values()):
                continue  # a config without rows (e.g. sources of a corpus without SOURCE spans)
            for split, table in splits.items():
                path = staging / config / f"{split}-00000-of-00001.parquet"
                fingerprints[f"{config}/{split}"] = _write_parquet(table, config, path)
        counts = {c: {s: len(r) for s, r in splits.items()} for c, splits in by_split.items()}
        digest = _digest(staging)
        guideline = project.guideline
        if guideline is not None and guideline.is_file():
            shutil.copyfile(guideline, staging / guideline.name)
        context = CardContext(
            project=project,
            policy=tuple(policy),
            chosen_by={rule: int((selection.chosen["chosen_by"] == rule).sum()) for rule in policy},
            account={s: int((accounted["status"] == s).sum()) for s in (USED, VOTES, PARTLY, ONLY)},
            agreement=agreement,
            guideline=guideline.name if guideline is not None and guideline.is_file() else None,
            warnings=tuple(warnings),
        )
        card = dataset_card(
            by_split,
            tables,
            sha256=digest,
            proportions=None if predefined else proportions,
            seed=seed,
            context=context,
            path=card_path,
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        verify(staging, encoded)
        write_marker(staging, "export")
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportReport(
        out, counts, digest, fingerprints, accounted, tuple(policy), tuple(warnings), agreement is not None
    )


def _empty_splits(by_split: dict[str, dict[str, pa.Table]], ours: bool) -> list[str]:
    """A warning when one of our splits got no claim rows (too few articles to split)."""
    if not ours or not any(t.num_rows for t in by_split.get("claims", {}).values()):
        return []
    empty = [s for s in SPLITS if not by_split["claims"].get(s, pa.table({})).num_rows]
    if not empty:
        return []
    return [f"split(s) {', '.join(empty)} are empty: too few articles with claims to split by article"]


def matching_agreement(path: Path | None, tables: dict[str, pd.DataFrame]) -> dict[str, Any] | None:
    """The agreement report at ``path`` when it was computed on the same data (its ``data_sha256``)."""
    if path is None or not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(report, dict) or report.get("data_sha256") != data_hash(tables):
        return None
    return report


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
        return DatasetDict(
            {
                name: split if split._indices is None else split.flatten_indices()
                for name, split in loaded.items()
            }
        )


def verify(out: Path, encoded: dict[str, dict[str, pa.Table]]) -> None:
    """Re-load every config the way a user would and compare it with the rows written (ClassLabel
    integers), cell for cell; check every exported span's text against its article once more."""
    for config, splits in encoded.items():
        if not any(t.num_rows for t in splits.values()):
            if (out / config).exists():
                raise ExportError(f"{config}: has no rows but a folder was written")
            continue
        loaded = load(out, config)
        for split, rows in splits.items():
            got = loaded[split].data.table if split in loaded else None
            if got is None or got.num_rows != rows.num_rows:
                have = 0 if got is None else got.num_rows
                raise ExportError(f"{config}/{split}: wrote {rows.num_rows} rows, re-loaded {have}")
            if not got.equals(rows):
                raise ExportError(f"{config}/{split}: the re-loaded rows differ from the rows written")
            if config == "articles":
                _verify_spans(split, got)


def _verify_spans(split: str, table: pa.Table) -> None:
    spans = table.column("spans").combine_chunks()
    items = pc.list_flatten(spans)
    if not len(items):
        return
    parents = pc.list_parent_indices(spans).to_numpy()
    fields = dict(zip([str(f.name) for f in items.type], items.flatten(), strict=True))
    starts, ends = (fields[k].to_numpy(zero_copy_only=False).astype(np.int64) for k in ("start", "end"))
    equal = ArticleTexts(table.column("text")).slices_equal(parents, starts, ends, fields["text"])
    if not equal.all():
        bad = int(np.flatnonzero(~equal)[0])
        article = table.column("article_id")[int(parents[bad])].as_py()
        raise ExportError(f"{split}: {article}/{fields['span_id'][bad].as_py()}: span text changed")


def push_to_hub(out: Path, repo: str, *, token: str | None) -> None:
    """Upload every config of an export with ``DatasetDict.push_to_hub`` (needs a Hugging Face token)."""
    if not token:
        raise ExportError("--push-to-hub needs a token in HF_TOKEN")
    for config in CONFIGS:
        if not (out / config).is_dir():
            continue  # an optional config this export does not have
        load(out, config).push_to_hub(repo, config_name=config, token=token)
