"""``studio pull``: snapshot the export, convert it, validate it, write data/ atomically, count rejects.

Every exported annotation ends up either converted (in ``data/annotations/ls-<project>-<id>.jsonl``) or
rejected (in the snapshot's ``.rejects.jsonl`` with task, annotation, annotator and reason):
exported = converted + rejected, always.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from annotate import convert, pullcheck
from annotate.client import Studio
from annotate.config import accepted_configs, config_hash
from annotate.exportstream import BATCH, Batch, batches
from annotate.fastpull import ArticleTextMap, convert_export, predictions_only
from annotate.pullcheck import CHUNK
from annotate.server import StudioError
from schemas.errors import UnreadableInputError
from stancebank import parallel
from stancebank.corpus import data_files, dumps_jsonl, read_corpus, write_atomic
from stancebank.files import _umask
from stancebank.inputs import check_json_bytes, open_input, read_input
from stancebank.outputs import check_output_file
from stancebank.parallel import OrderedPool
from stancebank.project import find_project


@dataclass(frozen=True)
class PullReport:
    exported: int
    converted: int
    rejected: int
    snapshot: Path
    written: Path
    rejects_file: Path
    rejects: list[convert.Reject]
    predictions_only: int = 0


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


def project_name(title: str, project_id: int) -> str:
    """One name per Label Studio project: two titles with the same slug (``Team A``, ``team-a``) are
    told apart by the project id."""
    return f"{slug(title)}-{int(project_id)}"


def snapshot_dir(data_dir: Path, title: str, project_id: int) -> Path:
    return data_dir / "raw" / "label-studio" / project_name(title, project_id)


def target_file(data_dir: Path, title: str, project_id: int) -> Path:
    return data_dir / "annotations" / f"ls-{project_name(title, project_id)}.jsonl"


def _owner(path: Path) -> set[int]:
    """The Label Studio project ids the records of a pulled file came from (``ls-<project>-<id>``)."""
    owners: set[int] = set()
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return owners
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            owners.add(-1)
            continue
        annotation_id = record.get("annotation_id") if isinstance(record, dict) else None
        match = re.fullmatch(r"ls-(\d+)-\d+", str(annotation_id))
        owners.add(int(match.group(1)) if match else -1)
    return owners


def check_owner(target: Path, project_id: int) -> None:
    """Refuse to replace a pulled file that holds annotations of another project (never overwrite
    annotations silently)."""
    if target.exists():
        others = _owner(target) - {int(project_id)}
        if others:
            raise StudioError(
                f"{target} holds annotations that did not come from Label Studio project {project_id}; "
                "not overwriting it (move it away, or pull into another data folder)"
            )


def save_snapshot(folder: Path, raw: bytes, meta: dict[str, Any]) -> Path:
    """Keep the export byte for byte under a new timestamped name (reuse the latest if identical)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".export.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    return keep_snapshot(folder, Path(name), meta)


def keep_snapshot(folder: Path, download: Path, meta: dict[str, Any]) -> Path:
    """Keep a downloaded export (a temp file in ``folder``) byte for byte under a new timestamped
    name, or reuse the latest snapshot if it is identical (the download is then removed). Hashed in
    blocks: neither file is held in memory."""
    try:
        digest = _sha256(download)
        for previous in sorted(folder.glob("*.export.json"), reverse=True):
            if _sha256(previous) == digest:
                return previous
            break
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = folder / f"{stamp}-{digest[:8]}.export.json"
        os.chmod(download, 0o666 & ~_umask())
        os.link(download, path)  # like open(path, "x"): never overwrite an earlier snapshot
        write_atomic(
            _meta_path(path), json.dumps({**meta, "sha256": digest}, indent=1, ensure_ascii=False) + "\n"
        )
        return path
    finally:
        download.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _meta_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name.replace(".export.json", ".meta.json"))


def pull(
    studio: Studio,
    *,
    title: str,
    data_dir: Path,
    jobs: int | None = None,
    guideline_version: str | None = None,
) -> PullReport:
    project = studio.find_project(title)
    if project is None:
        raise StudioError(f"no project titled {title!r}; run 'stancebank studio push' first")
    folder = snapshot_dir(data_dir, title, project["id"])
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    download: Path | None = None
    try:
        download = studio.export_to(project["id"], folder)  # streamed to disk, never whole in memory
        meta = {
            "project_id": project["id"],
            "title": title,
            "label_config": project["label_config"],
            "users": {str(k): v for k, v in studio.users().items()},
            "exported_at": datetime.now(UTC).isoformat(),
        }
        check_owner(target_file(data_dir, title, project["id"]), project["id"])
    except BaseException:  # a failed pull leaves data/ as it was
        if download is not None:
            download.unlink(missing_ok=True)
        for empty in made:  # deepest first
            if any(empty.iterdir()):
                break
            empty.rmdir()
        raise
    snapshot = keep_snapshot(folder, download, meta)
    return convert_snapshot(snapshot, data_dir=data_dir, jobs=jobs, guideline_version=guideline_version)


def convert_snapshot(
    snapshot: Path,
    *,
    data_dir: Path,
    batch_size: int = BATCH,
    check_size: int = CHUNK,
    jobs: int | None = None,
    guideline_version: str | None = None,
) -> PullReport:
    """Convert a saved export (plus its .meta.json) into data_dir/annotations/ls-<project>-<id>.jsonl.

    Streamed: the export is cut into batches of ``batch_size`` tasks (annotate/exportstream.py), each
    converted on its own; the converted lines go to a spool file, sorted by annotation id across
    batches as a whole-file conversion sorts them, and are validated ``check_size`` at a time
    (annotate/pullcheck.py) into a temp file that replaces the target at the end. A batch the fast
    converter steps aside from (an irregular export) is converted the careful way, batch by batch.
    ``jobs``: processes converting batches side by side (default: the cores this process may use).
    ``guideline_version``: recorded in every converted annotation (default: the guideline version of the
    project ``data_dir`` belongs to, see :func:`stancebank.project.find_project`)."""
    meta_path = _meta_path(snapshot)
    with open_input(snapshot, "a Label Studio export"):
        pass  # a missing file, a folder or a FIFO is refused before anything else
    meta_bytes = read_input(meta_path, "the export's .meta.json")
    check_json_bytes(meta_path, meta_bytes)
    try:
        meta = json.loads(meta_bytes)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(str(meta_path), f"not JSON: {exc}") from None
    try:
        project_id = int(meta["project_id"])
        title = str(meta["title"])
    except (KeyError, TypeError, ValueError):
        raise UnreadableInputError(str(meta_path), "needs an integer project_id and a title") from None
    target, legacy, migrate = _targets(data_dir, title, project_id)
    skip = {target.resolve(), legacy.resolve()} if migrate else {target.resolve()}
    base = [p for p in data_files([data_dir]) if p.resolve() not in skip]
    corpus = read_corpus(base)
    expected = accepted_configs()  # span-only, or with the document-level choices
    actual = config_hash(meta["label_config"])
    side = pullcheck.check_base(corpus)  # before the workers fork: they inherit the prepared articles
    options: dict[str, Any] = {
        "articles": ArticleTextMap(side.first_article_ids, side.texts.array),
        "tasks": {
            convert.task_key(a, t): a
            for a, t in zip(corpus["targets"]["article_id"], corpus["targets"]["target_id"], strict=True)
        },
        "users": {int(k): v for k, v in meta["users"].items()},
        "project_id": int(meta["project_id"]),
        "config_hash": actual,
        "guideline_version": guideline_version or find_project(start=data_dir).guideline_version,
    }
    shared = {"snapshot": snapshot, "options": options, "corpus": corpus, "target": target, "side": side}
    with (
        tempfile.TemporaryDirectory(prefix="stancebank-pull-") as spool,
        OrderedPool(jobs or parallel.usable_cores(), shared) as pool,
    ):
        converted = _convert_batches(snapshot, Path(spool), pool, batch_size)
        exported, rejects, unannotated = converted.exported, converted.rejects, converted.unannotated
        if actual not in expected:
            ours = " or ".join(f"{h[:12]}…" for h in expected)
            reason = f"made under a different labelling config (sha256 {actual[:12]}…, ours {ours})"
            rejects += [pullcheck.reject(orjson.loads(line), reason) for line in converted.lines()]
            converted.runs.clear()
        rejects_file = snapshot.with_name(snapshot.name.replace(".export.json", ".rejects.jsonl"))
        for output in (target, rejects_file):
            check_output_file(output, inputs=[*base, snapshot, meta_path])
        with _AtomicLines(target) as out:
            kept = _check_lines(converted, pool, out, rejects, check_size)
            rejects.sort(key=lambda r: (r.task_id or 0, r.annotation_id or 0))
            if exported != kept + len(rejects):
                raise StudioError(f"count mismatch: {exported} exported != {kept} + {len(rejects)}")
            write_atomic(rejects_file, dumps_jsonl(r._asdict() for r in rejects))
            out.commit(keep=bool(kept))
    if migrate:  # same project, superseded by the file just written under its new name
        legacy.unlink()
    return PullReport(exported, kept, len(rejects), snapshot, target, rejects_file, rejects, unannotated)


def _check_lines(
    converted: _Converted, pool: OrderedPool, out: _AtomicLines, rejects: list[convert.Reject], size: int
) -> int:
    """The converted lines validated ``size`` at a time in the pool's workers and written to ``out``
    in order; the rejects are added to ``rejects``. Returns the number of lines kept."""
    kept = 0
    sent: deque[list[bytes]] = deque()  # the chunks in flight, in order: a worker returns only the
    # positions it removed, not the chunk again

    def keep(chunk: list[bytes]) -> list[bytes]:
        sent.append(chunk)
        return chunk

    chunks = (keep(chunk) for chunk in pullcheck.chunks(converted.lines(), size))
    for removed, late in pool.map(_check_in_worker, chunks):
        lines = sent.popleft()
        if removed:
            lines = [line for i, line in enumerate(lines) if i not in removed]
        rejects += late
        kept += len(lines)
        out.write(lines)
    return kept


@dataclass
class _Converted:
    """Converted lines as sorted runs in spool files (one per batch), and what else was counted."""

    runs: list[Path]
    exported: int = 0
    unannotated: int = 0
    rejects: list[convert.Reject] = field(default_factory=list)

    def lines(self) -> Iterator[bytes]:
        """Every converted line, the runs merged by annotation id: both converters sort their records
        by it (a stable sort; ``heapq.merge`` keeps equal ids in run order, so in export order)."""
        with ExitStack() as stack:
            handles = [stack.enter_context(open(run, "rb")) for run in self.runs]
            yield from heapq.merge(*handles, key=pullcheck._annotation_id)


def _convert_batches(snapshot: Path, spool: Path, pool: OrderedPool, batch_size: int) -> _Converted:
    """Each batch converted on its own: the fast converter, or the careful one where it steps aside
    (an irregular task: a test converts fuzzed exports both ways and requires equal results). Batches
    are converted side by side in the pool's workers, taken in batch order: the runs are the same for
    any number of jobs."""
    converted = _Converted([])
    for number, done in enumerate(pool.map(_convert_in_worker, batches(snapshot, batch_size))):
        converted.exported += done.exported
        converted.unannotated += done.unannotated
        converted.rejects += done.rejects
        run = spool / f"{number:08d}.jsonl"
        run.write_bytes(done.lines)
        converted.runs.append(run)
    return converted


@dataclass
class _Batch:
    """One batch converted: its JSONL lines (sorted by annotation id) and what was counted."""

    exported: int
    lines: bytes
    rejects: list[convert.Reject]
    unannotated: int


def _convert_in_worker(batch: Batch) -> _Batch:
    shared = parallel.state()
    try:
        return _convert_batch(shared["snapshot"], batch, shared["options"])
    finally:
        parallel.release_memory()


def _check_in_worker(chunk: list[bytes]) -> tuple[set[int], list[convert.Reject]]:
    """The positions of the chunk's lines that were rejected (the caller keeps the chunk), and the
    rejects."""
    shared = parallel.state()
    try:
        lines, rejects = pullcheck.checked(chunk, shared["corpus"], shared["target"], shared["side"])
        if len(lines) == len(chunk):
            return set(), rejects
        kept = iter(lines)
        at = next(kept, None)
        removed = set()
        for index, line in enumerate(chunk):
            if line is at:
                at = next(kept, None)
            else:
                removed.add(index)
        return removed, rejects
    finally:
        parallel.release_memory()


def _convert_batch(snapshot: Path, batch: Batch, options: dict[str, Any]) -> _Batch:
    raw = batch.array()
    check_json_bytes(
        snapshot, raw, first_line=batch.line, depth=not batch.shallow
    )  # before msgspec, Arrow or orjson parse it
    fast = convert_export(raw, **options)
    unannotated = predictions_only(raw)
    if fast is not None:
        exported, records, rejects = fast.exported, fast.records, fast.rejects
    else:
        export = _parse_export(snapshot, raw, batch.line)
        exported = convert.exported_count(export)
        records, rejects = convert.export_to_records(export, **options)
    return _Batch(exported, dumps_jsonl(records, compact=True).encode(), rejects, unannotated)


class _AtomicLines:
    """Lines written to a temp file beside ``path``; ``commit`` renames it over ``path`` (or removes
    ``path`` when nothing is to be kept); leaving without commit removes the temp file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> _AtomicLines:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.fchmod(fd, 0o666 & ~_umask())
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "wb")
        return self

    def write(self, lines: list[bytes]) -> None:
        self.handle.writelines(lines)

    def commit(self, *, keep: bool) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        if keep:
            os.replace(self.tmp, self.path)
        else:
            self.path.unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def _targets(data_dir: Path, title: str, project_id: int) -> tuple[Path, Path, bool]:
    """The file this project's annotations go to (checked to be this project's), the file name used
    before project ids, and whether that older file is this project's and is to be replaced."""
    target = target_file(data_dir, title, project_id)
    check_owner(target, project_id)
    legacy = data_dir / "annotations" / f"ls-{slug(title)}.jsonl"
    return target, legacy, legacy.exists() and _owner(legacy) == {project_id}


def _parse_export(snapshot: Path, raw: bytes, first_line: int = 1) -> list[Any]:
    """``raw``: a batch of the export whose first byte is on line ``first_line`` of the file; an error
    names the file's line, not the batch's."""
    try:
        export = orjson.loads(raw)  # 1.4× faster than json on a 100 MB export
    except orjson.JSONDecodeError as exc:
        line = first_line + exc.lineno - 1
        raise UnreadableInputError(str(snapshot), f"not a JSON export: {exc.msg}", line=line) from None
    if not isinstance(export, list):
        raise UnreadableInputError(str(snapshot), "a full JSON export is a list of tasks")
    return export
