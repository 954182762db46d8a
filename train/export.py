"""``stancebank export``: a Hugging Face dataset (parquet + card) that ``datasets.load_dataset`` reads.

Deterministic: the same tables give byte-identical parquet files. Written to a temp folder, re-loaded
and compared with the rows written, then swapped into place, so a failed export leaves the old one intact.

Built partition by partition with bounded memory: the articles are cut into ranges of sorted
``article_id`` (an article's targets, annotations, spans and relations land in its range, so the policy
and the votes see every annotation of a task together); each partition's rows are built, encoded and
spilled to an Arrow IPC file; the splits are assigned from the claims' keys (small) exactly as for the
whole corpus at once; then each config and split is written as parquet shards of ``shard_size`` rows
(``<split>-<i>-of-<n>.parquet``), streaming the partitions in order (the ranges are sorted, so the rows
come out in the same order as from one table), and each shard is re-read and compared with its rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import vocabulary as V
from schemas.crosstable import positions_in
from schemas.errors import StanceBankError
from schemas.offsets import ArticleTexts
from stancebank import parallel
from stancebank.fastread import empty_table
from stancebank.files import removing, replace_dir, staging_dir
from stancebank.outputs import check_output_dir, write_marker
from stancebank.project import DEFAULT_POLICY, Project, load_project
from train.card import EMPTY_SPLITS, CardContext, add_counts, add_recorded, dataset_card, recorded
from train.cli import DEFAULT_SHARD_SIZE as CLI_SHARD_SIZE
from train.features import DATASETS_MODULES, FEATURES, OPTIONAL_CONFIGS
from train.rows import build_rows
from train.splits import SPLITS, SPLITTER_MODULES, assign_splits, predefined_splits
from train.votes import ONLY, PARTLY, USED, VOTES, Selection, account, select

if TYPE_CHECKING:
    from datasets import DatasetDict

CONFIGS = tuple(FEATURES)
#: Rows per parquet file (``--shard-size``): the shipped corpus and most projects get one per split.
DEFAULT_SHARD_SIZE = CLI_SHARD_SIZE
#: Rows re-read and compared at a time by :func:`verify`.
VERIFY_ROWS = 16_384
#: Articles per partition: what one build (selection, rows, encoding) holds at once.
PARTITION_ARTICLES = 5_000
#: Below this many bytes of encoded rows the splits are written in this process, not by workers.
PARALLEL_WRITE_BYTES = 64 << 20
#: Columns of the claims/pairs rows the splits are assigned from (in row order).
SPLIT_KEYS = {"claims": ("article_id", "stance", "group"), "pairs": ("article_id", "doc_label", "group")}
#: Columns the dataset card counts (string labels, before encoding); other configs: row counts only.
CARD_COLUMNS = {
    "claims": ("article_id", "stance", "certainty", "polarity", "factbank"),
    "sources": ("article_id", "reliability", "source_type"),
    "pairs": ("article_id", "doc_label"),
}


def shard_name(split: str, i: int, n: int, ext: str = "parquet") -> str:
    """The file name of shard ``i`` of ``n`` of a split (the layout ``datasets`` and the Hub expect)."""
    return f"{split}-{i:05d}-of-{n:05d}.{ext}"


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


def split_map(
    rows: dict[str, pa.Table],
    article_ids: Iterable[str],
    *,
    proportions: tuple[float, float, float],
    seed: int,
    predefined: dict[str, str] | None = None,
) -> dict[str, str]:
    """Article id -> split. ``rows``: the claims and pairs rows in row order (only the
    :data:`SPLIT_KEYS` columns are read). Articles keep a ``predefined`` split (an imported corpus's
    own) or are assigned to splits by their claims' stance; an article without claims goes to train."""
    if predefined is not None:
        split_of = dict(predefined)
    else:
        claims, label = rows["claims"], "stance"
        if not claims.num_rows and rows["pairs"].num_rows:  # a pair corpus: stratify by its labels
            claims, label = rows["pairs"], "doc_label"
        split_of = _assigned(claims, label, proportions=proportions, seed=seed)
    for article_id in article_ids:  # a story without claims
        split_of.setdefault(article_id, "train")
    return split_of


def _assigned(
    claims: pa.Table, label: str, *, proportions: tuple[float, float, float], seed: int
) -> dict[str, str]:
    """Article id -> split of the articles with claims (in the order of their first claim), column-wise:
    a claim's group (claim, topic, event when the importer named one; else its article) stays whole,
    and an article in several groups takes the split of its last claim's group."""
    labels = claims.column(label).combine_chunks().cast(pa.string())
    labels = pc.if_else(pc.fill_null(pc.equal(labels, ""), True), "none", labels)  # missing or empty
    ids = claims.column("article_id").combine_chunks().cast(pa.string())
    groups = (
        claims.column("group").combine_chunks().cast(pa.string()) if "group" in claims.column_names else ids
    )
    if len(pc.unique(groups)) < 2:
        return {}
    by_group = assign_splits(labels, groups, proportions=proportions, seed=seed)
    # row -> its group's split; each article at its first row, with its last row's split
    named = pa.array(list(by_group), pa.string())
    split_of_row = np.array(list(by_group.values()), dtype=object)[
        pc.index_in(groups, value_set=named).to_numpy(zero_copy_only=False)
    ]
    articles = pc.unique(ids)  # in the order of their first row
    codes = pc.index_in(ids, value_set=articles).to_numpy(zero_copy_only=False)
    last = np.zeros(len(articles), dtype=np.int64)
    np.maximum.at(last, codes, np.arange(len(codes)))
    return dict(zip(articles.to_pylist(), split_of_row[last].tolist(), strict=True))


def split_names(split_of: dict[str, str]) -> list[str]:
    """Ours first, then an imported corpus's own names, sorted."""
    return [*SPLITS, *sorted(set(split_of.values()) - set(SPLITS))]


def split_rows(
    rows: dict[str, pa.Table],
    *,
    proportions: tuple[float, float, float],
    seed: int,
    predefined: dict[str, str] | None = None,
) -> tuple[dict[str, dict[str, pa.Table]], dict[str, str]]:
    """config -> split -> rows (all in memory: brat export, small corpora). Articles keep a
    ``predefined`` split or are assigned by :func:`split_map`. Optional configs without rows are left
    out."""
    article_ids = rows["articles"].column("article_id").to_pylist()
    split_of = split_map(rows, article_ids, proportions=proportions, seed=seed, predefined=predefined)
    splits = split_names(split_of)
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
    from datasets import ClassLabel, List

    if isinstance(feature, ClassLabel):
        if array.null_count == len(array) and not pa.types.is_string(array.type):
            array = pa.nulls(len(array), pa.string())  # no value (no rows): a column without a text type
        codes = pc.index_in(array, value_set=pa.array(feature.names, pa.string()))
        if codes.null_count != array.null_count:
            unknown = pc.filter(array, pc.and_(pc.is_null(codes), pc.is_valid(array)))
            raise ExportError(f"{name}: {unknown[0].as_py()!r} is not one of {feature.names}")
        return codes.cast(pa.int64())
    if isinstance(feature, List):
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


def parquet_writer(path: Path, config: str) -> pq.ParquetWriter:
    """A parquet writer with the schema (``datasets`` Features metadata) and the options
    ``Dataset.to_parquet`` uses, so that a split written as one shard is byte for byte what ``datasets``
    writes."""
    from datasets import config as datasets_config
    from datasets.arrow_writer import get_parquet_column_options

    features = FEATURES[config]()
    schema = features.arrow_schema
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(
        str(path),
        schema=schema,
        use_content_defined_chunking=datasets_config.DEFAULT_CDC_OPTIONS,
        write_page_index=True,
        **get_parquet_column_options(features, schema),
    )


def row_group_rows(rows: int, nbytes: int) -> int:
    """Rows per row group as ``datasets`` chooses them: about 100 MB of Arrow data each."""
    from datasets import config as datasets_config
    from datasets.utils.py_utils import convert_file_size_to_int

    limit = convert_file_size_to_int(datasets_config.MAX_ROW_GROUP_SIZE)
    return max(1, rows * limit // nbytes) if nbytes > 0 else 1


def _rebatch(pieces: Iterable[pa.Table], size: int) -> Iterator[pa.Table]:
    """The rows of ``pieces`` in tables of exactly ``size`` rows (the last one shorter)."""
    pending: list[pa.Table] = []
    count = 0
    for given in pieces:
        piece = given
        while piece.num_rows:
            take = min(size - count, piece.num_rows)
            pending.append(piece.slice(0, take))
            count, piece = count + take, piece.slice(take)
            if count == size:
                yield pa.concat_tables(pending).combine_chunks()
                pending, count = [], 0
    if count:
        yield pa.concat_tables(pending).combine_chunks()


class _Stream:
    """Rows arriving in pieces, taken ``k`` at a time (a shard, a row group)."""

    def __init__(self, pieces: Iterable[pa.Table]) -> None:
        self._pieces = iter(pieces)
        self._left: pa.Table | None = None

    def take(self, k: int) -> Iterator[pa.Table]:
        while k > 0:
            piece = self._left if self._left is not None else next(self._pieces, None)
            self._left = None
            if piece is None:
                return
            if piece.num_rows > k:
                piece, self._left = piece.slice(0, k), piece.slice(k)
            k -= piece.num_rows
            if piece.num_rows:
                yield piece


def _file_sha256(path: Path) -> hashlib._Hash:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            sha.update(block)
    return sha


def _write_shard(pieces: Iterable[pa.Table], config: str, path: Path, batch_rows: int) -> str:
    """Write one shard in row groups of ``batch_rows``; return its fingerprint: the first 16 hex digits
    of the file's SHA-256 (deterministic for the same rows)."""
    from datasets import config as datasets_config

    writer = parquet_writer(path, config)
    try:
        for batch in _rebatch(pieces, batch_rows):
            writer.write_table(batch)
        writer.add_key_value_metadata(
            {"content_defined_chunking": json.dumps(datasets_config.DEFAULT_CDC_OPTIONS)}
        )
    finally:
        writer.close()
    return _file_sha256(path).hexdigest()[:16]


@dataclass
class _Part:
    """What building one partition leaves for the rest (its rows themselves are spilled to disk)."""

    account: pd.DataFrame
    chosen: dict[str, int]
    keys: dict[str, pa.Table]
    card: dict[str, pa.Table]
    ids: dict[str, pa.Array]
    nbytes: dict[str, int]
    recorded: dict[str, dict[str, int]] = field(default_factory=dict)  # see train.card.recorded


def build_part(tables: dict[str, pd.DataFrame], policy: tuple[str, ...], folder: Path, part: int) -> _Part:
    """Select, build and encode one partition's rows and spill them to ``folder`` (Arrow IPC)."""
    selection: Selection = select(tables, policy)
    rows = build_rows(tables, selection)
    chosen = {str(rule): int(n) for rule, n in selection.chosen["chosen_by"].value_counts().items()}
    result = _Part(account(tables, selection), chosen, {}, {}, {}, {}, recorded(tables["annotations"]))
    for config, table in rows.items():
        if config in SPLIT_KEYS:
            result.keys[config] = table.select([c for c in SPLIT_KEYS[config] if c in table.column_names])
        if config in CARD_COLUMNS:
            result.card[config] = table.select(list(CARD_COLUMNS[config]))
        encoded = encode(table, config)
        result.ids[config] = encoded.column("article_id").combine_chunks()
        result.nbytes[config] = encoded.nbytes
        path = _spill_path(folder, config, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, encoded.schema) as writer:
            writer.write_table(encoded)
    # no trim of the heap between ranges (equal in articles): the next range reuses the pages
    return result


def _spill_path(folder: Path, config: str, part: int) -> Path:
    return folder / config / f"{part:05d}.arrow"


def _build_in_worker(part: int) -> _Part:
    """:func:`build_part` of partition ``part`` of the pool's :class:`Partitions`."""
    shared = parallel.state()
    return build_part(shared["partitions"].load(part), shared["policy"], shared["folder"], part)


@dataclass
class _Built:
    """What pass 1 (build every partition) leaves for pass 2 (split, write, verify) and the card."""

    folder: Path
    partitions: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONFIGS, 0))
    nbytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONFIGS, 0))
    keys: dict[str, list[pa.Table]] = field(default_factory=lambda: {c: [] for c in SPLIT_KEYS})
    card: dict[str, list[pa.Table]] = field(default_factory=lambda: {c: [] for c in CARD_COLUMNS})
    accounts: list[pd.DataFrame] = field(default_factory=list)
    chosen: dict[str, int] = field(default_factory=dict)
    recorded: dict[str, dict[str, int]] = field(default_factory=dict)
    ids: dict[str, list[pa.Array]] = field(default_factory=lambda: {c: [] for c in CONFIGS})

    def path(self, config: str, part: int) -> Path:
        return _spill_path(self.folder, config, part)

    def add(self, part: _Part) -> None:
        """Take in one partition's result (built here or in a worker), in partition order."""
        self.accounts.append(part.account)
        add_counts(self.chosen, part.chosen)
        add_recorded(self.recorded, part.recorded)
        for config, keys in part.keys.items():
            self.keys[config].append(keys)
        for config, card in part.card.items():
            self.card[config].append(card)
        for config, ids in part.ids.items():
            self.ids[config].append(ids)
            self.rows[config] += len(ids)
            self.nbytes[config] += part.nbytes[config]
        self.partitions += 1

    def encoded(self, config: str, part: int) -> pa.Table:
        """One partition's rows of ``config``, memory-mapped: no copy is made, and the mapping (with the
        pages it made resident) goes when the last array of the table does."""
        with pa.memory_map(str(self.path(config, part))) as source:
            return pa.ipc.open_file(source).read_all()

    def account(self) -> pd.DataFrame:
        frame = pd.concat(self.accounts, ignore_index=True) if self.accounts else None
        if frame is None:
            return pd.DataFrame(
                columns=["annotation_id", "annotator", "status", "reason", "spans", "reached"]
            )
        return frame.sort_values(["annotator", "annotation_id"]).reset_index(drop=True)

    def keys_of(self, config: str) -> pa.Table:
        tables = self.keys[config]
        if not tables:
            return pa.table({name: pa.array([], pa.string()) for name in SPLIT_KEYS[config]})
        return pa.concat_tables(tables, promote_options="permissive")


class _Splits:
    """Each partition's rows of a config by split (the split of their article), computed once."""

    def __init__(self, built: _Built, split_of: dict[str, str]) -> None:
        self.built = built
        self.names = split_names(split_of)
        index = {name: i for i, name in enumerate(self.names)}
        self._ids = pa.array(list(split_of), pa.string())
        self._codes = np.array([index[s] for s in split_of.values()] + [index["train"]], dtype=np.int8)
        self._cache: dict[tuple[str, int], np.ndarray] = {}

    def codes(self, config: str, part: int) -> np.ndarray:
        if (config, part) not in self._cache:  # every partition of the config at once: one hash table
            ids = pa.chunked_array(self.built.ids[config], pa.string())
            found = pc.index_in(ids, value_set=self._ids).fill_null(len(self._ids)).to_numpy()
            ends = np.cumsum([len(chunk) for chunk in self.built.ids[config]])
            for i, codes in enumerate(np.split(self._codes[found], ends[:-1])):
                self._cache[config, i] = codes
        return self._cache[config, part]

    def counts(self, config: str) -> dict[str, int]:
        totals = np.zeros(len(self.names), dtype=np.int64)
        for part in range(self.built.partitions):
            totals += np.bincount(self.codes(config, part), minlength=len(self.names))
        return {name: int(n) for name, n in zip(self.names, totals, strict=True)}

    def pieces(self, config: str, split: str) -> Iterator[pa.Table]:
        """The encoded rows of ``split``, partition by partition (the global row order)."""
        code = self.names.index(split)
        for part in range(self.built.partitions):
            mask = self.codes(config, part) == code
            if mask.any():
                yield self.built.encoded(config, part).filter(pa.array(mask))

    def card(self, config: str, split: str, count: int) -> pa.Table:
        """The card's columns of ``split`` (row counts only for configs without labels it counts)."""
        if config not in CARD_COLUMNS:
            return pa.table({"rows": pa.nulls(count)})
        code = self.names.index(split)
        parts = [
            table.filter(pa.array(self.codes(config, part) == code))
            for part, table in enumerate(self.built.card[config])
        ]
        return pa.concat_tables(parts) if parts else pa.table({"rows": pa.nulls(count)})


def _partitions(tables: dict[str, pd.DataFrame], parts: int | None) -> tuple[int, pa.Array, int]:
    """(number of partitions, the sorted article ids, articles per partition)."""
    given = pa.array(tables["articles"]["article_id"].astype(str), pa.string(), from_pandas=True)
    unique = pc.unique(given)
    ids = unique.take(pc.sort_indices(unique))  # UTF-8 bytes sort as code points do
    n = parts or max(1, math.ceil(len(ids) / PARTITION_ARTICLES))
    return n, ids, max(1, math.ceil(len(ids) / n))


def _part_of(article_ids: pd.Series, ids: pa.Array, per: int) -> np.ndarray:
    """Partition of each row: the range of sorted article ids its article falls in."""
    keys = pa.array(article_ids, pa.string(), from_pandas=True)  # Arrow-backed ids: no Python strings
    found = positions_in(ids, keys)
    return np.where(found < 0, 0, found) // per


class MemoryPartitions:
    """The tables of each range of articles, from tables already in memory."""

    def __init__(self, tables: dict[str, pd.DataFrame], parts: int | None = None) -> None:
        self.count, ids, per = _partitions(tables, parts)
        self.tables = tables
        self.of = {name: _part_of(frame["article_id"], ids, per) for name, frame in tables.items()}

    def load(self, part: int) -> dict[str, pd.DataFrame]:
        return {name: frame.loc[self.of[name] == part] for name, frame in self.tables.items()}

    def spill_folders(self) -> list[Path]:
        """The folders this keeps ranges in (none: the tables are in memory)."""
        return []


#: Bytes of an annotation file read at a time.
CHUNK_BYTES = 32 << 20


def _chunk_tables(path: Path, data: bytes) -> dict[str, pd.DataFrame]:
    """The annotations, spans and relations of some whole lines of an annotation file."""
    from stancebank.corpus import corpus_from_records
    from stancebank.fastread import read_tables

    tables = read_tables([path], given={path: data})
    if tables is None:  # irregular but valid (validation ran first): the careful reader
        lines = [line for line in data.split(b"\n") if line.strip()]
        records = {"annotations": [(json.loads(line), (str(path), 0)) for line in lines]}
        tables = corpus_from_records(records, [str(path)]).tables
    return tables


def _annotation_chunks(path: Path) -> Iterator[dict[str, pd.DataFrame]]:
    with path.open("rb") as handle:
        rest = b""
        while True:
            block = handle.read(CHUNK_BYTES)
            data = rest + block
            cut = len(data) if not block else data.rfind(b"\n") + 1
            chunk, rest = data[:cut], data[cut:]
            if chunk.strip():
                yield _chunk_tables(path, chunk)
            if not block:
                return


#: Pickle protocol of the spilled ranges: 5 writes the frames' Arrow buffers without the copies 4
#: makes (a chunk of 20,000 annotation lines: 0.06 s instead of 0.25 s, read back in half the time).
_PROTOCOL = 5
#: Where each range of articles sits in a chunk's file: part -> (start, end) bytes.
_Places = dict[int, tuple[int, int]]


class FilePartitions:
    """The tables of each range of articles, read from the data files with bounded memory: articles
    and targets are read whole, annotation files in chunks spilled by range of articles to ``folder``
    (each range is read back once, by :meth:`load`)."""

    def __init__(
        self,
        paths: Iterable[Path],
        folder: Path,
        parts: int | None = None,
        *,
        validate: bool = False,
        jobs: int | None = None,
        preload: Iterable[str] = (),
    ) -> None:
        """``preload``: modules the export needs after the build, imported while the validation's
        workers run (see :class:`stancebank.parallel.Preload`)."""
        from stancebank.corpus import classify, data_files, read_corpus
        from stancebank.validate import check_valid

        self.parts, self.folder = parts, folder
        self.handles: list[BinaryIO] = []
        self.keys: list[pd.DataFrame] = []  # every annotation's ids and annotator (a few columns)
        #: chunks spilled by the validation's workers, in order: (file, part -> its bytes in the file)
        self.placed: list[tuple[Path, _Places]] = []
        self.preload = parallel.Preload(preload)
        paths = list(paths)
        try:
            if validate:  # the validation reads every file once and hands the tables over as it goes
                check_valid(paths, sink=self, jobs=jobs)
            else:
                files = data_files(paths)
                self.side(read_corpus([f for f in files if classify(f) != "annotations"]).tables)
                for path in (f for f in files if classify(f) == "annotations"):
                    for chunk in _annotation_chunks(path):
                        self.chunk(chunk)
        finally:
            self.preload.join()  # before the build's workers fork
            for handle in self.handles:
                handle.close()
        self.heads_of = {
            name: _part_of(self.small[name]["article_id"], self.ids, self.per)
            for name in ("articles", "targets")
        }
        parallel.release_memory()  # before the build's workers fork

    def side(self, tables: dict[str, pd.DataFrame]) -> None:
        """The articles and targets: the ranges are drawn over their sorted article ids."""
        self.small = tables
        self.count, self.ids, self.per = _partitions(self.small, self.parts)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.handles = [self._path(part).open("wb") for part in range(self.count)]

    def chunk(self, chunk: dict[str, pd.DataFrame] | None) -> None:
        """Append one chunk's annotations, spans and relations to the files of their ranges (``None``:
        empty them, the chunks start again)."""
        if chunk is None:
            for handle in self.handles:
                handle.seek(0)
                handle.truncate()
            self.keys.clear()
            for path, _ in self.placed:
                path.unlink(missing_ok=True)
            self.placed.clear()
            return
        self.keys.append(chunk["annotations"][list(ANNOTATION_KEYS)])
        for part, ranged in self._by_part(chunk):
            pickle.dump(ranged, self.handles[part], protocol=_PROTOCOL)

    def spill(self, number: int, chunk: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, Path, _Places]:
        """:meth:`chunk` in a validation's worker: the chunk's ranges in one file of its own, each range
        at a place this process is told of (:meth:`spilled`)."""
        path = self.folder / f"chunk-{number:06d}.pickle"
        places: _Places = {}
        with path.open("wb") as handle:
            for part, ranged in self._by_part(chunk):
                start = handle.tell()
                pickle.dump(ranged, handle, protocol=_PROTOCOL)
                places[part] = (start, handle.tell())
        return chunk["annotations"][list(ANNOTATION_KEYS)], path, places

    def spilled(self, number: int, kept: tuple[pd.DataFrame, Path, _Places]) -> None:
        self.preload.start()  # the validation's workers were forked: they have the cores' work
        keys, path, places = kept
        self.keys.append(keys)
        self.placed.append((path, places))

    def _by_part(self, chunk: dict[str, pd.DataFrame]) -> Iterator[tuple[int, dict[str, pd.DataFrame]]]:
        """Each range's rows of the chunk, in the chunk's order: each table is put in range order once
        (a stable sort) and cut into slices, rather than masked once per range."""
        nested = {name: chunk[name] for name in ("annotations", "spans", "relations")}
        by_range = {}
        for name, frame in nested.items():
            of = _part_of(frame["article_id"], self.ids, self.per)
            order = np.argsort(of, kind="stable")
            by_range[name] = (frame.take(order), of[order])
        for part in np.unique(np.concatenate([of for _, of in by_range.values()])):
            yield (
                int(part),
                {
                    name: frame.iloc[np.searchsorted(of, part) : np.searchsorted(of, part, side="right")]
                    for name, (frame, of) in by_range.items()
                },
            )

    def _path(self, part: int) -> Path:
        return self.folder / f"{part:05d}.pickle"

    def spill_folders(self) -> list[Path]:
        """The folder of the spilled ranges and chunks (to remove once every range was loaded)."""
        return [self.folder]

    def whole(self) -> Mapping[str, pd.DataFrame]:
        """Every table of the corpus, read from the spilled ranges when asked for (the agreement
        report's task count needs only the annotations' ids; its data hash, when that count matches,
        every table)."""
        return _WholeCorpus(self)

    def load(self, part: int, *, keep: bool = False) -> dict[str, pd.DataFrame]:
        pieces: dict[str, list[pd.DataFrame]] = {"annotations": [], "spans": [], "relations": []}
        with self._path(part).open("rb") as handle:
            while True:
                try:
                    chunk = pickle.load(handle)
                except EOFError:
                    break
                for name, frame in chunk.items():
                    pieces[name].append(frame)
        for path, places in self.placed:  # spilled by the validation's workers, in chunk order
            if part in places:
                start, _ = places[part]
                with path.open("rb") as handle:
                    handle.seek(start)
                    for name, frame in pickle.load(handle).items():
                        pieces[name].append(frame)
        if not keep:
            self._path(part).unlink()
        small = self.small
        tables = {name: small[name].loc[self.heads_of[name] == part] for name in ("articles", "targets")}
        for name, frames in pieces.items():
            tables[name] = pd.concat(frames, ignore_index=True) if frames else empty_table(name)
        return tables


#: The annotation columns :class:`FilePartitions` keeps whole (those of the agreement's data hash).
ANNOTATION_KEYS = ("annotation_id", "article_id", "target_id", "annotator")


class _WholeCorpus(Mapping[str, pd.DataFrame]):
    def __init__(self, parts: FilePartitions) -> None:
        self.parts = parts
        self.cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in ("articles", "targets"):
            return self.parts.small[name]
        if name == "annotations":
            return pd.concat(self.parts.keys, ignore_index=True)
        if name not in self.cache:
            frames = [self.parts.load(part, keep=True)[name] for part in range(self.parts.count)]
            self.cache[name] = pd.concat(frames, ignore_index=True)
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(("articles", "targets", "annotations", "spans", "relations"))

    def __len__(self) -> int:
        return 5


Partitions = MemoryPartitions | FilePartitions


def card_context(
    project: Project,
    policy: tuple[str, ...],
    chosen: dict[str, int],
    accounted: pd.DataFrame,
    agreement: dict[str, Any] | None,
    warnings: Iterable[str],
    recorded: dict[str, dict[str, int]],
) -> CardContext:
    """What the card says about how the export was made (both engines)."""
    guideline = project.guideline
    return CardContext(
        project=project,
        policy=tuple(policy),
        chosen_by={rule: chosen.get(rule, 0) for rule in policy},
        account={s: int((accounted["status"] == s).sum()) for s in (USED, VOTES, PARTLY, ONLY)},
        agreement=agreement,
        guideline=guideline.name if guideline is not None and guideline.is_file() else None,
        warnings=tuple(warnings),
        recorded=recorded,
    )


def copy_guideline(project: Project, folder: Path) -> None:
    """The project's guideline next to the card (when it has one)."""
    guideline = project.guideline
    if guideline is not None and guideline.is_file():
        shutil.copyfile(guideline, folder / guideline.name)


@dataclass(frozen=True)
class ExportOptions:
    proportions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 13
    policy: tuple[str, ...] = DEFAULT_POLICY
    card_path: str = "data/hf"
    strict: bool = False
    shard_size: int = DEFAULT_SHARD_SIZE
    #: Worker processes that build ranges of articles side by side (None: the usable cores).
    jobs: int | None = None


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
    shard_size: int = DEFAULT_SHARD_SIZE,
    partitions: int | None = None,
    jobs: int | None = None,
) -> ExportReport:
    """Write ``out``/<config>/<split>-<i>-of-<n>.parquet (``shard_size`` rows per file), ``out``/README.md
    (the card, from ``project``) and the project's guideline. ``agreement_path``: an ``agreement.json``
    whose data hash is that of ``tables`` fills the card's agreement section. ``strict``: raise
    :class:`UnrepresentedError` before writing anything when an annotation's claims/sources would reach
    no claims/sources row. ``partitions``: how many ranges of articles are built one at a time (default:
    one per :data:`PARTITION_ARTICLES`) and ``jobs``: how many are built side by side (default: the usable
    cores); the output depends on neither."""
    options = ExportOptions(proportions, seed, tuple(policy), card_path, strict, shard_size, jobs)
    agreement = matching_agreement(agreement_path, tables)
    return _export(tables["articles"], MemoryPartitions(tables, partitions), out, options, project, agreement)


def export_files(
    paths: Iterable[Path],
    out: Path,
    *,
    agreement: dict[str, Any] | None = None,
    agreement_path: Path | None = None,
    project: Project | None = None,
    partitions: int | None = None,
    validate: bool = False,
    **options: Any,
) -> ExportReport:
    """:func:`export` of data files read with bounded memory: annotation files in chunks, spilled by
    range of articles to a temp folder. ``validate``: the chunks are those of the validation
    (:func:`stancebank.validate.check_valid`, which raises before anything is written), else the files
    must be valid already. ``agreement``: the matching agreement report (:func:`matching_agreement`), if
    any; or ``agreement_path``: an agreement report, used when it matches the data (its task count is
    checked first, from the annotations' ids; the whole corpus is read for its data hash only when that
    count matches)."""
    with tempfile.TemporaryDirectory(prefix="stancebank-export-") as spill:
        jobs = options.get("jobs")
        parts = FilePartitions(
            list(paths),
            Path(spill) / "input",
            partitions,
            validate=validate,
            jobs=jobs,
            preload=(*SPLITTER_MODULES, *DATASETS_MODULES),
        )
        if agreement is None and agreement_path is not None:
            agreement = matching_agreement(agreement_path, parts.whole())
        articles = parts.small["articles"]
        return _export(articles, parts, out, ExportOptions(**options), project, agreement, spill)


def _export(
    articles: pd.DataFrame,
    partitions: Partitions,
    out: Path,
    options: ExportOptions,
    project: Project | None,
    agreement: dict[str, Any] | None,
    spill: str | None = None,
) -> ExportReport:
    import datasets  # here at the latest (preloaded by export_files): before the build's workers fork

    datasets.disable_progress_bars()
    if options.shard_size < 1:
        raise ExportError(f"shard size must be at least 1 row, not {options.shard_size}")
    project = project or load_project(out.parent, found=False)
    with tempfile.TemporaryDirectory(prefix="stancebank-rows-", dir=spill) as folder:
        built = _Built(Path(folder))
        shared = {"partitions": partitions, "policy": options.policy, "folder": built.folder}
        with parallel.OrderedPool(options.jobs or parallel.usable_cores(), shared) as pool:
            for part in pool.map(_build_in_worker, range(partitions.count)):
                built.add(part)
        if not any(built.rows.values()):
            raise ExportError(
                "nothing to export: no annotations yet (every row of the dataset is an annotated task); "
                "annotate in Label Studio (stancebank studio push, then pull) or import annotated data"
            )
        with removing(partitions.spill_folders()):  # every range was read: its files go meanwhile
            predefined = predefined_splits(articles["article_id"].tolist(), articles["metadata"].tolist())
            keys = {config: built.keys_of(config) for config in SPLIT_KEYS}
            split_of = split_map(
                keys,
                articles["article_id"].tolist(),
                proportions=options.proportions,
                seed=options.seed,
                predefined=predefined,
            )
            del keys
            splits = _Splits(built, split_of)
            accounted = built.account()
            counts = {
                config: splits.counts(config)
                for config in CONFIGS
                if built.rows[config] or config not in OPTIONAL_CONFIGS
            }
            counts = {  # an empty split of a non-empty config has no parquet file
                config: {s: n for s, n in by.items() if n or not built.rows[config]}
                for config, by in counts.items()
            }
            by_split = {c: {s: splits.card(c, s, n) for s, n in by.items()} for c, by in counts.items()}
            warnings = _empty_splits(by_split, predefined is None)
        if options.strict:
            planned = ExportReport(
                out, {}, "", {}, accounted, options.policy, tuple(warnings), agreement is not None
            )
            if len(planned.unrepresented):
                raise UnrepresentedError(planned)
        out = check_output_dir(out, "export")
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(out)
        try:
            jobs = options.jobs or parallel.usable_cores()
            if sum(built.nbytes.values()) < PARALLEL_WRITE_BYTES:  # forking costs more than it saves
                jobs = 1
            fingerprints = _write_all(staging, built, splits, counts, options.shard_size, jobs)
            with removing(built.folder.iterdir()):  # the rows were written: they go while the card is made
                digest = _digest(staging)
                copy_guideline(project, staging)
                context = card_context(
                    project, options.policy, built.chosen, accounted, agreement, warnings, built.recorded
                )
                card = dataset_card(
                    by_split,
                    {"articles": articles},
                    sha256=digest,
                    proportions=None if predefined else options.proportions,
                    seed=options.seed,
                    context=context,
                    path=options.card_path,
                )
                (staging / "README.md").write_text(card, encoding="utf-8")
                write_marker(staging, "export")
                replace_dir(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return ExportReport(
        out, counts, digest, fingerprints, accounted, options.policy, tuple(warnings), agreement is not None
    )


def _shards(count: int, shard_size: int) -> list[int]:
    """Rows of each shard of a split of ``count`` rows."""
    n = max(1, math.ceil(count / shard_size))
    return [min(shard_size, count - i * shard_size) for i in range(n)]


def _write_all(
    staging: Path,
    built: _Built,
    splits: _Splits,
    counts: dict[str, dict[str, int]],
    shard_size: int,
    jobs: int,
) -> dict[str, str]:
    """Write and verify (:func:`_verify_split`) every split of every config, splits side by side in
    ``jobs`` worker processes; the fingerprint of every shard."""
    units = [(c, s) for c, by in counts.items() if built.rows[c] for s in by]
    biggest = sorted(
        units, key=lambda u: -built.nbytes[u[0]] * counts[u[0]][u[1]] // max(built.rows[u[0]], 1)
    )
    shared = {"staging": staging, "built": built, "splits": splits, "counts": counts, "size": shard_size}
    done: dict[tuple[str, str], dict[str, str]] = {}
    with parallel.OrderedPool(jobs, shared) as pool:  # the biggest splits first: the workers end together
        for unit, fingerprints in zip(biggest, pool.map(_write_split, biggest), strict=True):
            done[unit] = fingerprints
    for config in counts:
        if not built.rows[config] and (staging / config).exists():
            raise ExportError(f"{config}: has no rows but a folder was written")
    return {key: value for unit in units for key, value in done[unit].items()}


def _write_split(unit: tuple[str, str]) -> dict[str, str]:
    """Write the shards of one config's split, then re-read and compare them; their fingerprints.

    No trim of the heap between shards or splits: a worker's row groups and verify batches are bounded
    (about 100 MB of rows, :data:`VERIFY_ROWS`), so it holds its largest split's working set at most, and
    the next shard reuses those pages instead of faulting fresh ones in. Trimming after each shard and
    each verified file cost the 100k benchmark ≈ 580k page faults, ≈ 1 CPU-s and ≈ 0.7 s of the export
    (without it the tree holds ≈ 230–300 MiB more PSS: 1,262 MiB against 1,033 in the bench)."""
    shared = parallel.state()
    staging, built, splits = shared["staging"], shared["built"], shared["splits"]
    config, split = unit
    count, shard_size = shared["counts"][config][split], shared["size"]
    batch = row_group_rows(built.rows[config], built.nbytes[config])
    stream = _Stream(splits.pieces(config, split))
    sizes = _shards(count, shard_size)
    fingerprints = {}
    for i, size in enumerate(sizes):
        path = staging / config / shard_name(split, i, len(sizes))
        path.parent.mkdir(parents=True, exist_ok=True)
        key = f"{config}/{split}" if len(sizes) == 1 else f"{config}/{split}/{i}"
        fingerprints[key] = _write_shard(stream.take(size), config, path, batch)
    _verify_split(staging, splits, config, split, count, shard_size)
    return fingerprints


def _empty_splits(by_split: dict[str, dict[str, pa.Table]], ours: bool) -> list[str]:
    """A warning when one of our splits got no claim rows (too few articles to split)."""
    if not ours or not any(t.num_rows for t in by_split.get("claims", {}).values()):
        return []
    empty = [s for s in SPLITS if not by_split["claims"].get(s, pa.table({})).num_rows]
    if not empty:
        return []
    return [f"split(s) {', '.join(empty)} {EMPTY_SPLITS}"]


def matching_agreement(path: Path | None, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any] | None:
    """The agreement report at ``path`` when it was computed on the same data (its ``data_sha256``).
    A report about another number of shared tasks cannot match: the hash is not computed for it."""
    if path is None or not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(report, dict):
        return None
    overall = report.get("scopes", {}).get("overall") if isinstance(report.get("scopes"), dict) else None
    tasks = overall.get("tasks") if isinstance(overall, dict) else None
    if isinstance(tasks, int) and tasks != shared_tasks(tables["annotations"]):
        return None
    from annotate.agreement_report import data_hash  # with matplotlib: only when a report exists

    if report.get("data_sha256") != data_hash(tables):
        return None
    return report


def shared_tasks(annotations: pd.DataFrame) -> int:
    """Tasks with two or more human annotators (an agreement report's ``tasks`` overall)."""
    humans = annotations.loc[annotations["annotator"] != V.GOLD_ANNOTATOR]
    per_task = humans.groupby(["article_id", "target_id"])["annotator"].nunique()
    return int((per_task >= 2).sum())


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        sha.update(path.relative_to(folder).as_posix().encode())
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                sha.update(block)
    return sha.hexdigest()


def load(out: Path, config: str) -> DatasetDict:
    """Load one config the way a researcher would (no loading script, parquet + card)."""
    import datasets
    from datasets import DatasetDict

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


def _verify_split(out: Path, splits: _Splits, config: str, split: str, count: int, shard_size: int) -> None:
    """Re-read the shards of one config's split the way ``datasets`` does (parquet with its Features
    metadata) and compare them with the rows that were to be written, :data:`VERIFY_ROWS` rows at a
    time (cell for cell, ClassLabel integers); check every exported span's text against its article
    once more."""
    import datasets

    features = FEATURES[config]()
    n = len(_shards(count, shard_size))
    paths = [out / config / shard_name(split, i, n) for i in range(n)]
    files = [pq.ParquetFile(p) for p in paths if p.is_file()]
    have = sum(f.metadata.num_rows for f in files)
    if len(files) != n or have != count:
        raise ExportError(f"{config}/{split}: wrote {count} rows, re-loaded {have}")
    expected = _Stream(splits.pieces(config, split))
    for file in files:
        if datasets.Features.from_arrow_schema(file.schema_arrow) != features:
            raise ExportError(f"{config}/{split}: the file's features are not the config's")
        for batch in file.iter_batches(batch_size=VERIFY_ROWS):
            got = pa.Table.from_batches([batch])
            rows = pa.concat_tables(list(expected.take(got.num_rows)))
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
