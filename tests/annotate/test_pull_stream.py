"""A streamed pull writes byte for byte what a one-batch pull writes, whatever the batch sizes.

The export is cut into batches (``batch_size`` tasks) and validated in chunks (``check_size``
annotations); tiny sizes force many batches and chunks: the converted file, the rejects file and the
counts must not change. The export mixes ids that sort differently as strings and as numbers, broken
annotations (rejected while converting) and annotations that break a validation rule (rejected late).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from annotate.pull import convert_snapshot
from bench.generate import EXPORT, generate
from schemas.errors import UnreadableInputError


def _corpus(root: Path, change: Any = None) -> Path:
    data = root / "data"
    generate(data, 40, seed=3, label_studio=True)
    shutil.rmtree(data / "annotations")
    (data / "annotations").mkdir()
    export = json.loads((data / EXPORT).read_bytes())
    if change is not None:
        change(export)
    (data / EXPORT).write_text(json.dumps(export, indent=1, ensure_ascii=False), encoding="utf-8")
    return data


def _broken(export: list[dict[str, Any]]) -> None:
    """Ids 9, 10, 100, … (string order differs from number order); a cancelled annotation; a span whose
    text is not the article's (converted, then rejected by validation); a task with no annotation."""
    for number, task in enumerate(export):
        for offset, annotation in enumerate(task["annotations"]):
            annotation["id"] = int(f"{9 + number % 3}{offset}" + "0" * (number % 4))
    export[2]["annotations"][0]["was_cancelled"] = True
    spans = [r for r in export[5]["annotations"][0]["result"] if r["type"] == "labels"]
    spans[0]["value"]["text"] = spans[0]["value"]["text"].upper() + "!"
    export[7]["annotations"] = []


def _irregular(export: list[dict[str, Any]]) -> None:
    """A legacy ``completions`` key in one late task: every batch goes the careful way, as before."""
    _broken(export)
    export[-3]["completions"] = []


def _pull(data: Path, out: Path, **sizes: int) -> tuple[Any, dict[str, bytes]]:
    folder = out / "data"
    shutil.copytree(data, folder)
    report = convert_snapshot(folder / EXPORT, data_dir=folder, **sizes)
    files = {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ("annotations" in p.parts or p.name.endswith(".rejects.jsonl"))
    }
    return (report.exported, report.converted, report.rejected, report.predictions_only), files


@pytest.mark.parametrize("change", [None, _broken, _irregular], ids=["clean", "broken", "irregular"])
def test_any_batch_and_chunk_size_writes_the_same_bytes(tmp_path: Path, change: Any) -> None:
    data = _corpus(tmp_path / "src", change)
    whole, whole_files = _pull(data, tmp_path / "whole", batch_size=10**9, check_size=10**9)
    assert whole[0] == whole[1] + whole[2] and whole[1] > 0
    if change is not None:
        assert whole[2] > 0
    for batch_size, check_size, jobs in ((1, 1, 1), (3, 2, 2), (7, 5, 3), (40, 10**9, 2)):
        counts, files = _pull(
            data,
            tmp_path / f"b{batch_size}-{check_size}-{jobs}",
            batch_size=batch_size,
            check_size=check_size,
            jobs=jobs,
        )
        assert counts == whole
        assert files == whole_files


def test_a_broken_batch_in_a_worker_names_the_file_and_line(tmp_path: Path) -> None:
    """The error a worker process meets reaches the command as the same error, data/ untouched."""
    data = _corpus(tmp_path / "src")
    raw = (data / EXPORT).read_bytes()
    at = raw.index(b'"annotations"', len(raw) * 2 // 3)  # a task in a late batch
    (data / EXPORT).write_bytes(raw[:at] + b'"bogus": nope, ' + raw[at:])  # balanced, so cut, not parsed
    line = raw[:at].count(b"\n") + 1
    before = sorted((data / "annotations").iterdir())
    with pytest.raises(UnreadableInputError) as caught:
        convert_snapshot(data / EXPORT, data_dir=data, batch_size=3, jobs=2)
    assert caught.value.path == str(data / EXPORT)
    assert f":{line}" in str(caught.value) or caught.value.line == line, str(caught.value)
    assert sorted((data / "annotations").iterdir()) == before


def test_the_snapshot_is_not_changed(tmp_path: Path) -> None:
    data = _corpus(tmp_path / "src", _broken)
    before = (data / EXPORT).read_bytes()
    convert_snapshot(data / EXPORT, data_dir=data, batch_size=2, check_size=3)
    assert (data / EXPORT).read_bytes() == before


def test_pulled_annotations_record_the_projects_guideline_version(tmp_path: Path) -> None:
    data = _corpus(tmp_path / "in")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "stancebank.toml").write_text('[project]\nguideline_version = "3.2"\n', encoding="utf-8")
    folder = project / "data"
    shutil.copytree(data, folder)
    convert_snapshot(folder / EXPORT, data_dir=folder)  # the project is found above data_dir
    (pulled,) = (folder / "annotations").glob("ls-*.jsonl")
    versions = {json.loads(line)["guideline_version"] for line in pulled.read_text().splitlines()}
    assert versions == {"3.2"}
    convert_snapshot(folder / EXPORT, data_dir=folder, guideline_version="3.3")  # as the CLI passes it
    assert {json.loads(line)["guideline_version"] for line in pulled.read_text().splitlines()} == {"3.3"}


def test_a_repeated_id_names_its_original_only_where_it_is_in_data() -> None:
    """A reject for an annotation id given twice: an original among the lines being pulled has no place
    to name yet (its line depends on the chunk); one in a file already in data/ is named."""
    from annotate.pullcheck import _by_line
    from stancebank.failures import Failure
    from stancebank.validate import first_at

    target, other = "data/annotations/ls-bench-1.jsonl", "data/annotations/amira.jsonl"

    def failure(line: int, place: str) -> Failure:
        value = first_at("a1:t1:ls-7", place, 3)
        return Failure(target, line, "a1", None, "unique_annotation_id", "annotation_id", value)

    reasons = _by_line([failure(5, target), failure(6, other)], target)
    assert reasons == {
        5: "unique_annotation_id [annotation_id]: a1:t1:ls-7",
        6: f"unique_annotation_id [annotation_id]: a1:t1:ls-7 (first at {other}:3)",
    }
