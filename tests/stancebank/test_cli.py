"""The command line: exit codes 0/1/2, one clear line for unreadable input, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stancebank.cli import main
from tests.corpus_factory import base_records, write_records
from tests.shipped import shipped_files


def test_shipped_data_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, shipped_files())]) == 0
    assert capsys.readouterr().out.startswith("valid: ")


def test_one_wrong_offset_exits_one_and_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = base_records()
    records["annotations"].append(
        {**records["annotations"][0], "annotation_id": "a1:t1:bruno", "annotator": "bruno"}
    )
    records["annotations"][1]["spans"] = [dict(s) for s in records["annotations"][1]["spans"]]
    records["annotations"][1]["spans"][0]["start"] += 1
    records["annotations"][1]["spans"][0]["end"] += 1
    write_records(tmp_path, records)
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    failures = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["rule"], f["span_id"], f["article_id"]) for f in failures] == [
        (2, "span_text_matches_article", "s1", "a1")
    ]
    assert failures[0]["file"].endswith("annotations/amira.jsonl")


def test_table_output_lists_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = base_records()
    records["articles"][0]["language"] = "xx"
    write_records(tmp_path, records)
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "valid_language" in out and "articles.jsonl" in out


def test_single_annotation_file_finds_its_articles(tmp_path: Path) -> None:
    write_records(tmp_path, base_records())
    assert main(["validate", str(tmp_path / "annotations" / "amira.jsonl")]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"article_id": "a1"\n', "articles.jsonl:1: invalid JSON"),
        (b"", "articles.jsonl: file is empty"),
        (b'{"title": "caf\xe9"}\n', "articles.jsonl:1: not UTF-8"),
        (b'\xef\xbb\xbf{"article_id": "a1"}\n', "articles.jsonl:1: starts with a UTF-8 byte-order mark"),
        (b"[" * 100_000 + b"\n", "articles.jsonl:1: JSON nested too deeply"),
    ],
    ids=["bad json", "empty", "latin-1", "bom", "deep nesting"],
)
def test_unreadable_input_exits_two_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    write_records(tmp_path, base_records())
    (tmp_path / "articles.jsonl").write_bytes(content)
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_path_exits_two(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_non_object_line_is_invalid_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_records(tmp_path, base_records())
    with (tmp_path / "targets.jsonl").open("a") as handle:
        handle.write("[1, 2]\n")
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    failures = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["rule"], f["column"]) for f in failures] == [(3, "wrong_type", "record")]


def test_summary_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", *map(str, shipped_files())]) == 0
    out = capsys.readouterr().out
    assert "articles" in out and "CLAIM" in out


def test_summary_refuses_invalid_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = base_records()
    records["articles"][0]["language"] = "xx"
    write_records(tmp_path, records)
    assert main(["summary", str(tmp_path)]) == 1
    assert "1 validation failure(s)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["validate"],
        ["summary"],
        ["export"],
        ["agreement"],
        ["adjudicate"],
        ["train"],
        ["evaluate"],
        ["studio"],
        *[["studio", verb] for verb in ("install", "start", "stop", "status", "config", "push", "pull")],
    ],
    ids=lambda c: " ".join(c) or "stancebank",
)
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: stancebank")


def test_module_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stancebank.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "usage: stancebank" in result.stdout


def test_validate_jobs_give_the_same_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--jobs 2`` parses and checks chunks in two worker processes (here for small files too)."""
    from stancebank import scan, validate

    records = base_records()
    records["annotations"] += [
        {**a, "annotation_id": f"{a['annotation_id']}-{i}", "spans": [{**s, "text": "x"} for s in a["spans"]]}
        for i in range(5)
        for a in base_records()["annotations"]
    ]
    write_records(tmp_path, records)
    monkeypatch.setattr(validate, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(scan, "SCAN_APART_BYTES", 0)
    outputs = []
    for jobs in ("1", "2"):
        argv = ["validate", str(tmp_path), "--format", "json", "--chunk-lines", "2", "--jobs", jobs]
        assert main(argv) == 1
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and len(outputs[0]) >= 5


def _after_a_command(tmp_path: Path, command: list[str], probe: str, variable: str, given: str | None) -> str:
    """The last line ``probe`` prints after ``stancebank COMMAND`` ran in a fresh interpreter (DATA: the
    shipped data, PROJECT and OUT: folders under ``tmp_path``), with ``variable`` unset or ``given``."""
    places = {
        "DATA": str(shipped_files()[0].parent),
        "PROJECT": str(tmp_path / "p"),
        "OUT": str(tmp_path / "hf"),
    }
    argv = [places.get(a, a) for a in command]
    code = f"import sys; from stancebank.cli import main; code = main(sys.argv[1:]); {probe}; sys.exit(code)"
    env = {k: v for k, v in os.environ.items() if k != variable}
    if given:
        env[variable] = given
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "given", "pool"),
    [
        (["validate", "DATA"], None, "system"),  # validate and export opt in to the C heap
        (["export", "DATA", "--out", "OUT"], None, "system"),
        (["validate", "DATA"], "mimalloc", "mimalloc"),  # the user's choice stands
        (["init", "PROJECT", "--name", "p"], None, "mimalloc"),  # other commands keep Arrow's own
    ],
)
def test_arrow_memory_pool_of_a_command(
    tmp_path: Path, command: list[str], given: str | None, pool: str
) -> None:
    probe = "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    assert _after_a_command(tmp_path, command, probe, "ARROW_DEFAULT_MEMORY_POOL", given) == pool


@pytest.mark.parametrize(
    ("command", "given", "huge"),
    [
        (["validate", "DATA"], None, False),  # validate and export take ordinary pages for numpy
        (["export", "DATA", "--out", "OUT"], None, False),
        (["validate", "DATA"], "1", True),  # the user's choice stands
        (["init", "PROJECT", "--name", "p"], None, True),  # other commands keep numpy's default
    ],
)
def test_numpy_huge_pages_of_a_command(
    tmp_path: Path, command: list[str], given: str | None, huge: bool
) -> None:
    # the toggle returns the setting it replaces
    probe = "from numpy._core.multiarray import _set_madvise_hugepage as toggle; print(toggle(True))"
    assert _after_a_command(tmp_path, command, probe, "NUMPY_MADVISE_HUGEPAGE", given) == str(huge)


def test_a_reader_that_goes_away_is_no_internal_error(tmp_path: Path) -> None:
    """`stancebank init … | head -1`: the pipe closes before the command prints; it stops quietly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stancebank.cli", "init", str(tmp_path / "p"), "--name", "p"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the interpreter has even started: every print fails
    errors = process.stderr.read()
    assert process.wait() == 141 and errors == ""
    assert (tmp_path / "p" / "stancebank.toml").is_file()  # the work itself was done


@pytest.mark.parametrize(("valid", "code"), [(True, 0), (False, 1)])
def test_the_console_script_exits_with_the_commands_code_and_a_frozen_heap(
    tmp_path: Path, valid: bool, code: int
) -> None:
    """``stancebank`` (stancebank.cli:run) passes the command's exit code on, and freezes the heap
    before it goes, so the interpreter's last collection skips it; exit handlers still run after."""
    records = base_records()
    if not valid:
        records["annotations"][0]["spans"][0]["start"] += 1
    write_records(tmp_path, records)
    probe = (
        "import atexit, gc, sys; from stancebank import cli; "
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, flush=True)); "
        "sys.argv = ['stancebank', 'validate', sys.argv[1]]; cli.run()"
    )
    command = [sys.executable, "-c", probe, str(tmp_path)]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    assert done.returncode == code
    assert done.stdout.splitlines()[-1] == "frozen True"
