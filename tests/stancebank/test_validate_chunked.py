"""Validation in chunks of annotation lines gives the failure table of the whole corpus, identically.

``stancebank validate`` reads the annotation files in chunks (memory flat in their size); a line whose
annotation id is on another line too is held back and checked with the others of its id. Every case
here is validated whole (:func:`validate_corpus` of :func:`read_corpus`) and in chunks of 1, 2, 7 and
all lines: the failure tables (file, line, ids, rule, column, value, order) or the refusal are equal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schemas.errors import UnreadableInputError
from stancebank import corpus as corpus_module
from stancebank import scan as scan_module
from stancebank import validate as validate_module
from stancebank.corpus import Regroup, read_chunked, read_corpus
from stancebank.failures import Failure
from stancebank.scan import _key, _keyed_lines
from stancebank.validate import validate_corpus, validate_paths
from tests.corpus_factory import base_records, mutated, write_records
from tests.schemas.test_rules import CASES as RULE_CASES
from tests.test_bad_input import VALIDATE_CASES

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1, 2, 7, 10**9)
PARALLEL_SIZES = (7,)
Records = dict[str, list[dict[str, Any]]]


def _whole(paths: list[Path]) -> list[Failure] | str:
    try:
        return validate_corpus(read_corpus(paths))
    except UnreadableInputError as exc:
        return f"unreadable: {exc}"


def _chunked(paths: list[Path], size: int, jobs: int = 1) -> list[Failure] | str:
    """``jobs=2``: as large files are read, here for any file: the scan in a forked process, the chunks
    parsed and checked in two worker processes."""
    apart = scan_module.SCAN_APART_BYTES, validate_module.PARALLEL_BYTES
    if jobs > 1:
        scan_module.SCAN_APART_BYTES = validate_module.PARALLEL_BYTES = 0
    try:
        return validate_paths(paths, size, jobs=jobs)[0]
    except UnreadableInputError as exc:
        return f"unreadable: {exc}"
    finally:
        scan_module.SCAN_APART_BYTES, validate_module.PARALLEL_BYTES = apart


def _same(paths: list[Path]) -> list[Failure] | str:
    whole = _whole(paths)
    for size in SIZES:
        assert _chunked(paths, size) == whole, f"chunks of {size}"
    for size in PARALLEL_SIZES:
        assert _chunked(paths, size, jobs=2) == whole, f"chunks of {size} in two worker processes"
    return whole


def test_shipped_corpus(tmp_path: Path) -> None:
    assert _same([ROOT / "data"]) == []
    _, rows, _ = validate_paths([ROOT / "data"], 7)
    assert rows == {name: len(frame) for name, frame in read_corpus([ROOT / "data"]).tables.items()}


@pytest.mark.parametrize("write", [c[1] for c in VALIDATE_CASES], ids=[c[0] for c in VALIDATE_CASES])
def test_bad_input_cases(tmp_path: Path, write: Callable[[Path], None]) -> None:
    write_records(tmp_path, _many(base_records()))
    write(tmp_path)
    assert _same([tmp_path])


@pytest.mark.parametrize("change", [c[1] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_rule_cases(tmp_path: Path, change: Callable[[Records], None]) -> None:
    write_records(tmp_path, _many(mutated(change)))
    assert _same([tmp_path])


def _copy(annotation: dict[str, Any], number: int, **changes: Any) -> dict[str, Any]:
    other = copy.deepcopy(annotation)
    other.update(annotation_id=f"{annotation['annotation_id']}-{number}", annotator=f"x{number}", **changes)
    return other


def _many(records: Records, copies: int = 2) -> Records:
    """The records with a few more (valid) annotations after the first, so chunks cut between them."""
    first = records["annotations"][0]
    records["annotations"] += [_copy(first, n) for n in range(copies)] if isinstance(first, dict) else []
    return records


def _repeated(records: Records) -> None:
    """Annotation ids given twice and far apart, differing in spans, relations and declarations."""
    first = records["annotations"][0]
    records["annotations"] += [_copy(first, n) for n in range(6)]
    again = copy.deepcopy(first)
    again["spans"][1]["id"] = "q9"  # a relation of the first line pointing at q9 exists only here
    again["relations"].append({"type": "cue_of", "from_id": "q9", "to_id": "c1"})
    again["unannotated"] = ["stance"]
    records["annotations"].append(again)
    records["annotations"][0]["relations"].append({"type": "cue_of", "from_id": "q9", "to_id": "c1"})
    records["annotations"] += [copy.deepcopy(records["annotations"][3])]  # a copy of a copy
    records["annotations"][2]["spans"].append(dict(records["annotations"][2]["spans"][0]))


def _no_ids(records: Records) -> None:
    """Annotations without a (string) id: their spans share the null id."""
    records["annotations"] += [_copy(records["annotations"][0], n) for n in range(4)]
    records["annotations"][1]["annotation_id"] = None
    records["annotations"][4]["annotation_id"] = 12
    del records["annotations"][2]["annotation_id"]


def _mixed(records: Records) -> None:
    """Many rules broken on different lines, so each chunk sees a different mix of checks."""
    first = records["annotations"][0]
    changes: list[Callable[[dict[str, Any]], None]] = [
        lambda a: a["spans"][1].update(text="sad!"),
        lambda a: a.update(guideline_version="x"),
        lambda a: a["spans"][0].update(label="QUOTE"),
        lambda a: a["relations"][0].update(to_id="c9"),
        lambda a: a.update(article_id="zz"),
        lambda a: a["spans"][2].update(start=-1),
        lambda a: a.update(target_id="a2:t1"),
        lambda a: a["spans"][1].update(cue_type="rumour", stance="support"),
        lambda a: a.update(created_at="2026-01-01T00:00:00Z", doc_stance="support"),
        lambda a: a["relations"].append(dict(a["relations"][0])),
    ]
    for number, change in enumerate(changes):
        other = _copy(first, number)
        change(other)
        records["annotations"].append(other)
    records["annotations"].reverse()


@pytest.mark.parametrize("change", [_repeated, _no_ids, _mixed], ids=["repeated ids", "no ids", "mixed"])
def test_ids_across_chunks(tmp_path: Path, change: Callable[[Records], None]) -> None:
    write_records(tmp_path, mutated(change))
    assert _same([tmp_path])


def test_two_annotation_files_and_lines_out_of_order(tmp_path: Path) -> None:
    records = mutated(_repeated)
    write_records(tmp_path, records)
    second = tmp_path / "annotations" / "bruno.jsonl"
    lines = [json.dumps(a) for a in records["annotations"][:3]]
    second.write_text("\n\n" + "\n".join(lines) + "\n  \n", encoding="utf-8")
    assert _same([tmp_path])
    assert _same([second, tmp_path / "annotations" / "amira.jsonl"])


MUTATIONS = [c[1] for c in RULE_CASES if "annotations" not in c[0]]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, len(RULE_CASES) - 1), min_size=1, max_size=6), size=st.integers(1, 9))
def test_any_mix_of_broken_annotations(
    tmp_path_factory: pytest.TempPathFactory, picks: list[int], size: int
) -> None:
    """Each annotation line broken by one rule case (on a copy of the base corpus's annotation)."""
    root = tmp_path_factory.mktemp("mix")
    records = base_records()
    for number, pick in enumerate(picks):
        broken = mutated(RULE_CASES[pick][1])
        for annotation in broken["annotations"]:
            records["annotations"].append(_copy(annotation, number) if number % 3 else annotation)
    write_records(root, records)
    whole = _whole([root])
    assert _chunked([root], size) == whole
    assert _chunked([root], size, jobs=2) == whole


@pytest.mark.parametrize("first", ["a1:t1:amira", "zz"], ids=["held back", "not held back"])
def test_an_id_given_twice_on_one_line(tmp_path: Path, first: str) -> None:
    """JSON keeps the last of a key given twice; the scan reads the first: the corpus is read whole."""
    records = mutated(_repeated)
    records["annotations"][1]["annotation_id"] = "a1:t1:amira-4"
    write_records(tmp_path, records)
    path = tmp_path / "annotations" / "amira.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("{", f'{{"annotation_id": "{first}", ', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(Regroup):
        list(read_chunked([tmp_path], 2).chunks)
    assert _same([tmp_path])


def test_the_first_unreadable_file_in_the_order_given(tmp_path: Path) -> None:
    write_records(tmp_path, base_records())
    annotations = tmp_path / "annotations" / "amira.jsonl"
    annotations.write_bytes(annotations.read_bytes() + b'{"annotation_id": \n')
    (tmp_path / "targets.jsonl").write_bytes(b"{,}\n")
    assert str(_same([annotations, tmp_path / "targets.jsonl"])).startswith(f"unreadable: {annotations}")
    assert str(_same([tmp_path])).startswith(f"unreadable: {tmp_path / 'targets.jsonl'}")


def _keyed_lines_one_by_one(block: bytes) -> tuple[list[int], list[int]]:
    """What the scan computed line by line before it went column-wise: split, strip, key each line."""
    found = (block[:-1] if block.endswith(b"\n") else block).split(b"\n")
    kept = [number for number, raw in enumerate(found) if raw.strip()]
    return kept, [_key(found[number]) for number in kept]


_LINES = st.sampled_from(
    [
        b"",
        b" ",
        b"\t \x0b\x0c",
        b"\x0b",
        b"\x0c \r",
        b"\r",
        b'{"annotation_id": "a1:t1:amira", "spans": []}',
        b'{"annotation_id": "a1:t1:amira", "spans": []}\r',
        b'  \t{ "annotation_id" :"b"}',
        b' {"spans": [], "annotation_id": "late"}',
        b'{"annotation_id": null}',
        b'{"annotation_id": "unclosed',
        b'{"annotation_id": "esc\\"aped"}',
        b"not json",
        b"[1, 2]",
        b"\xef\xbb\xbf{}",
        '{"annotation_id": "caf\u00e9 \u2014 \U0001f600"}'.encode(),
    ]
)


@given(lines=st.lists(_LINES, max_size=12), end=st.booleans())
def test_the_scan_keys_lines_as_one_by_one(lines: list[bytes], end: bool) -> None:
    """The column-wise scan of a block finds the same non-blank lines and keys as splitting it."""
    block = b"\n".join(lines) + (b"\n" if end and lines else b"")
    kept, keys = _keyed_lines(block)
    expected = _keyed_lines_one_by_one(block) if block else ([], [])
    assert (kept.tolist(), keys.tolist()) == expected


@given(
    lines=st.lists(_LINES, max_size=40),
    end=st.booleans(),
    size=st.integers(1, 9),
    spread=st.integers(1, 3),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_chunks_cut_the_file_into_whole_lines(
    tmp_path: Path, lines: list[bytes], end: bool, size: int, spread: int
) -> None:
    """The scan's chunks (cut for ``spread`` workers) are the file's bytes in order, in whole lines
    (blank ones counted), each starting at its first line's number and holding at most ``size`` lines:
    for one worker ``size`` each but the last; for more, a multiple of the workers, evenly; the workers
    get only where they are."""
    block = b"\n".join(lines) + (b"\n" if end and lines else b"")
    assume(not block.startswith(b"\xef\xbb\xbf"))  # refused before it is cut (test_bad_input)
    path = tmp_path / "annotations" / "a.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(block)
    scan = scan_module._scan(path, size)
    chunks = scan.chunks(size, spread)
    pieces = [block[start:stop] for _, _, start, stop in chunks]
    assert b"".join(pieces) == block
    ends = scan_module._line_ends(block) if block else []
    assert scan.count == len(ends)
    first = 1
    for (number, count, start, stop), piece in zip(chunks, pieces, strict=True):
        assert (number, count) == (first, len(scan_module._line_ends(piece)))
        assert 1 <= count <= size
        assert corpus_module._read_span(path, start, stop) == piece
        first += count
    counts = [count for _, count, _, _ in chunks]
    if spread == 1:
        assert counts == [min(size, scan.count - k * size) for k in range(len(counts))]
    elif len(counts) > 1:
        assert len(counts) % spread == 0 or len(counts) == scan.count
        assert max(counts) - min(counts) <= 1


@pytest.mark.parametrize(
    ("jobs", "parallel_bytes", "spread"), [(2, 0, 2), (3, 0, 3), (2, 10**12, 1), (1, 0, 1)]
)
def test_the_chunks_are_cut_for_the_workers_that_take_them(
    monkeypatch: pytest.MonkeyPatch, jobs: int, parallel_bytes: int, spread: int
) -> None:
    """validate_paths cuts the chunks for its worker processes (none below PARALLEL_BYTES), and the
    failure table does not change."""
    asked: list[int] = []

    def recorded(paths: Any, size: int, *, spread: int = 1) -> Any:
        asked.append(spread)
        return read_chunked(paths, size, spread=spread)

    monkeypatch.setattr(validate_module, "read_chunked", recorded)
    monkeypatch.setattr(validate_module, "PARALLEL_BYTES", parallel_bytes)
    monkeypatch.setattr(scan_module, "SCAN_APART_BYTES", parallel_bytes)
    assert validate_paths([ROOT / "data"], 7, jobs=jobs)[0] == []
    assert asked == [spread]


@pytest.mark.parametrize(("size", "unit"), [(20_000, 625), (5_000, 125), (64, 2), (31, 1), (20_011, 1)])
def test_the_cut_points_divide_the_chunk_size(size: int, unit: int) -> None:
    assert scan_module.mark_unit(size) == unit


def test_five_chunks_for_two_workers_become_six() -> None:
    """100,456 lines in chunks of 20,000: five full chunks and 456 lines for one worker; for two
    workers six chunks of ≈ 16,700 lines, none above 20,000."""
    count, unit = 100_456, 625
    cuts = np.append(np.arange(0, count, unit) * 10, count * 10)  # ten bytes a line
    scan = scan_module.Scan(np.arange(1, count + 1), np.zeros(count, np.int64), None, cuts, count, unit)
    alone = [lines for _, lines, _, _ in scan.chunks(20_000)]
    assert alone == [20_000] * 5 + [456]
    shared = scan.chunks(20_000, 2)
    assert [lines for _, lines, _, _ in shared] == [16_875] * 5 + [16_081]
    assert [first for first, _, _, _ in shared] == [1 + k * 16_875 for k in range(6)]
    assert [(start, stop) for _, _, start, stop in shared] == [
        (k * 168_750, min((k + 1) * 168_750, count * 10)) for k in range(6)
    ]


def test_a_file_that_changes_while_read_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "annotations" / "a.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"annotation_id": "a"}\n{"annotation_id": "b"}\n')
    scan = scan_module._scan(path, 1)
    path.write_bytes(b'{"annotation_id": "a"}\n')
    with pytest.raises(UnreadableInputError, match="changed while it was read") as raised:
        corpus_module._read_span(path, int(scan.cuts[1]), int(scan.cuts[2]))
    assert raised.value.path == str(path)


def test_a_scan_started_ahead_is_taken_over_by_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scan_ahead`` (what `validate` and `export` call before their imports) forks the first pass; the
    read of the same files takes it over instead of scanning again, with the same chunks."""
    write_records(tmp_path, base_records())
    monkeypatch.setattr(scan_module, "SCAN_APART_BYTES", 0)
    expected = [c.tables["spans"]["span_id"].tolist() for c in read_chunked([tmp_path], 1).chunks]
    scan_module.scan_ahead([tmp_path], 1)
    ahead = list(scan_module._AHEAD.values())
    assert len(ahead) == 1 and ahead[0].pending is not None
    scan_module.scan_ahead([tmp_path], 1)  # asked again: still the one
    assert list(scan_module._AHEAD.values()) == ahead
    list(read_chunked([tmp_path], 2).chunks)  # a read in other chunks does not take it
    assert list(scan_module._AHEAD.values()) == ahead
    got = [c.tables["spans"]["span_id"].tolist() for c in read_chunked([tmp_path], 1).chunks]
    assert got == expected and not scan_module._AHEAD and ahead[0].pool is None


def test_a_scan_ahead_of_a_command_that_fails_first_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Data that cannot be listed starts nothing (the read names the problem); a scan started for a
    command that fails before it reads (here: `export` into a folder it did not write) is stopped."""
    from stancebank.cli import main

    monkeypatch.setattr(scan_module, "SCAN_APART_BYTES", 0)
    scan_module.scan_ahead([tmp_path / "missing"])
    assert not scan_module._AHEAD
    write_records(tmp_path / "data", base_records())
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("mine", encoding="utf-8")
    started: list[scan_module.Scans] = []
    ahead = scan_module.scan_ahead
    monkeypatch.setattr(
        scan_module,
        "scan_ahead",
        lambda *a, **k: (ahead(*a, **k), started.extend(scan_module._AHEAD.values())),
    )
    assert main(["export", str(tmp_path / "data"), "--out", str(tmp_path / "theirs")]) == 2
    assert "theirs" in capsys.readouterr().err
    assert len(started) == 1 and started[0].pool is None and not scan_module._AHEAD
    assert (tmp_path / "theirs" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_scan_module_stays_light() -> None:
    """`stancebank/scan.py` is imported before pandas, pyarrow and pandera load, to overlap with them: it
    must not import them itself (else the scan ahead would start after them)."""
    import subprocess
    import sys

    # the packages themselves: schemas/__init__.py stubs a few pandera submodules, which load nothing
    heavy = ["pandas", "pyarrow", "pandera", "datasets", "sklearn"]
    code = f"import sys, stancebank.scan; print([m for m in {heavy} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@given(lines=st.lists(_LINES, max_size=30), end=st.booleans(), block=st.integers(1, 64))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_scan_reads_a_file_in_blocks_of_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes], end: bool, block: int
) -> None:
    """Blocks of ``block`` bytes read at a time: together the file's bytes in order, each ending with a
    line break but the file's last, also where a line is longer than a block."""
    data = b"\n".join(lines) + (b"\n" if end and lines else b"")
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(scan_module, "_BLOCK", block)
    blocks = list(scan_module._blocks(path))
    assert b"".join(blocks) == data
    assert all(b.endswith(b"\n") for b in blocks[:-1])
    assert all(blocks)
    # longer than a read only when its first line is
    assert all(len(b) <= block or b.index(b"\n") + 1 >= block if b"\n" in b else True for b in blocks)
