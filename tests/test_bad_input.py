"""Bad input, table-driven: every case exits 1 or 2 with a clear line, shows no traceback, and creates or
modifies no output file (checked by hashes and mtimes) — except a pull's own rejects report."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from annotate import convert
from annotate.config import label_config
from stancebank.cli import main
from stancebank.outputs import MARKER
from stancebank.project import project_toml
from tests.corpus_factory import TEXT, base_records, write_records

Records = dict[str, list[dict[str, Any]]]
SNAP = "raw/label-studio/stancebank/20260101T000000Z-00000000"


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- validate: the data files themselves -------------------------------------------------------------


def _raw(name: str, content: bytes) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        (root / name).write_bytes(content)

    return write


def _records(change: Callable[[Records], None]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        records = copy.deepcopy(base_records())
        change(records)
        write_records(root, records)

    return write


def _span(**changes: Any) -> Callable[[Path], None]:
    return _records(lambda r: r["annotations"][0]["spans"][1].update(changes))


def _relation(**changes: Any) -> Callable[[Path], None]:
    return _records(lambda r: r["annotations"][0]["relations"][0].update(changes))


def _crlf_split(r: Records) -> None:
    at = TEXT.index("\r\n") + 1  # between CR and LF
    r["annotations"][0]["spans"][1].update(start=at, end=at + 4, text=TEXT[at : at + 4])


def _across_annotations(r: Records) -> None:
    other = copy.deepcopy(r["annotations"][0])
    other.update(annotation_id="a1:t1:bruno", annotator="bruno", spans=[other["spans"][0]], relations=[])
    r["annotations"].append(other)
    r["annotations"][1]["relations"] = [{"type": "source_of", "from_id": "s1", "to_id": "c1"}]


ARTICLE_LINE = json.dumps(base_records()["articles"][0], ensure_ascii=False).encode()
VALIDATE_CASES: list[tuple[str, Callable[[Path], None], int, str]] = [
    (
        "malformed JSON line",
        _raw("targets.jsonl", b'{"target_id": "a1:t1",,}\n'),
        2,
        "targets.jsonl:1: invalid JSON",
    ),
    ("truncated file", _raw("articles.jsonl", ARTICLE_LINE[:40]), 2, "articles.jsonl:1: invalid JSON"),
    ("not UTF-8", _raw("targets.jsonl", b'{"text": "caf\xe9"}\n'), 2, "targets.jsonl:1: not UTF-8"),
    ("byte-order mark", _raw("targets.jsonl", b"\xef\xbb\xbf{}\n"), 2, "byte-order mark"),
    ("empty file", _raw("targets.jsonl", b""), 2, "targets.jsonl: file is empty"),
    (
        "50 MB single line",
        _raw("articles.jsonl", b'{"title": "' + b"x" * 50_000_000 + b"\n"),
        2,
        "articles.jsonl:1: invalid JSON",
    ),
    ("deeply nested JSON", _raw("targets.jsonl", b"[" * 200_000 + b"\n"), 2, "nested too deeply"),
    ("missing column", _records(lambda r: r["targets"][0].pop("text")), 1, "required"),
    ("extra unknown column", _records(lambda r: r["targets"][0].update(colour="red")), 1, "unknown_field"),
    ("wrong type", _span(end="31"), 1, "wrong_type"),
    ("negative offset", _span(start=-2), 1, "out_of_range"),
    ("reversed offsets", _span(start=31, end=28, text="x"), 1, "start_before_end"),
    ("offset past the text", _span(start=60, end=64, text="said"), 1, "end_within_text"),
    ("UTF-16 offsets (cut a surrogate pair)", _span(start=30, end=34), 1, "span_text_matches_article"),
    ("offsets split CRLF", _records(_crlf_split), 1, "span_splits_crlf"),
    ("span text mismatch", _span(text="sad!"), 1, "span_text_matches_article"),
    ("unknown label", _span(label="QUOTE", cue_type=None), 1, "not_in_vocabulary"),
    ("unknown attribute value", _span(cue_type="rumour"), 1, "not_in_vocabulary"),
    ("attribute on the wrong label", _span(stance="support"), 1, "attribute_forbidden"),
    (
        "duplicate ids",
        _records(lambda r: r["articles"].append(dict(r["articles"][0]))),
        1,
        "unique_article_id",
    ),
    (
        "orphan span (article gone)",
        _records(lambda r: r["annotations"][0].update(article_id="zz")),
        1,
        "span_article_exists",
    ),
    ("orphan relation", _relation(to_id="c9"), 1, "relation_to_exists"),
    (
        "orphan target",
        _records(lambda r: r["targets"][0].update(article_id="zz")),
        1,
        "target_article_exists",
    ),
    ("relation of the wrong direction", _relation(from_id="c1", to_id="s1"), 1, "relation_direction"),
    ("relation between annotations", _records(_across_annotations), 1, "relation_to_exists"),
]


@pytest.mark.parametrize(
    ("write", "code", "message"), [c[1:] for c in VALIDATE_CASES], ids=[c[0] for c in VALIDATE_CASES]
)
def test_validate_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: Callable[[Path], None], code: int, message: str
) -> None:
    write_records(tmp_path, base_records())
    write(tmp_path)
    before = _tree(tmp_path)
    assert main(["validate", str(tmp_path), "--format", "json"]) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 2:
        assert message in err and err.count("\n") == 1
    else:
        assert message in {f["rule"] for f in json.loads(out)}
    assert _tree(tmp_path) == before


# --- pull --from-snapshot: a saved Label Studio export -------------------------------------------------


def _export(
    change: Callable[[list[dict[str, Any]]], object] = lambda r: None, **annotation: Any
) -> list[Any]:
    records = base_records()
    task = convert.tables_to_tasks(records["articles"], records["targets"])[0]
    first = records["annotations"][0]
    result = convert.annotation_to_results(first["spans"], first["relations"])
    change(result)
    return [
        {
            "id": 5,
            **task,
            "annotations": [
                {
                    "id": 9,
                    "completed_by": 1,
                    "result": result,
                    "was_cancelled": False,
                    "created_at": "2025-01-01T00:00:00Z",
                    "updated_at": "2025-01-01T00:00:00Z",
                    **annotation,
                }
            ],
        }
    ]


def _snapshot(
    export: Any = None, *, raw: bytes | None = None, config: str | None = None, meta: bool = True
) -> Callable[[Path], Path]:
    def write(root: Path) -> Path:
        path = root / f"{SNAP}.export.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw if raw is not None else json.dumps(export, ensure_ascii=False).encode())
        if meta:
            path.with_name(path.name.replace(".export.json", ".meta.json")).write_text(
                json.dumps(
                    {
                        "project_id": 1,
                        "title": "StanceBank",
                        "label_config": config or label_config(),
                        "users": {"1": "amira"},
                    }
                )
            )
        return path

    return write


def _shift_utf16(result: list[dict[str, Any]]) -> None:
    for item in result:
        if "value" in item and "start" in item["value"]:
            item["value"]["start"] += 2
            item["value"]["end"] += 2


def _choice_value(value: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(result: list[dict[str, Any]]) -> None:
        next(r for r in result if r["from_name"] == "stance")["value"]["choices"] = [value]

    return change


def _wrong_label_attribute(result: list[dict[str, Any]]) -> None:
    source = next(r for r in result if r["from_name"] == "spans" and r["value"]["labels"] == ["SOURCE"])
    result.append(
        {
            **source,
            "from_name": "stance",
            "type": "choices",
            "value": {**source["value"], "choices": ["support"]},
        }
    )


PULL_CASES: list[tuple[str, Callable[[Path], Path], int, str]] = [
    ("malformed export JSON", _snapshot(raw=b'[{"id": 1,'), 2, "not a JSON export"),
    ("export not UTF-8", _snapshot(raw=b'["caf\xe9"]'), 2, "not a JSON export"),
    ("export is not a list", _snapshot({"tasks": []}), 2, "a full JSON export is a list of tasks"),
    ("snapshot without its meta", _snapshot(_export(), meta=False), 2, "no such file"),
    ("relation without a label", _snapshot(_export(lambda r: r[-1].pop("labels"))), 1, "has no label"),
    ("per-region choice without its span", _snapshot(_export(lambda r: r.pop(0))), 1, "without its span"),
    ("cancelled annotation", _snapshot(_export(was_cancelled=True)), 1, "cancelled"),
    (
        "export from a different config",
        _snapshot(_export(), config=label_config(review=True)),
        1,
        "different labelling config",
    ),
    (
        "span text mismatch",
        _snapshot(_export(lambda r: r[0]["value"].update(text="The ministers"))),
        1,
        "!= article text",
    ),
    ("UTF-16 offsets", _snapshot(_export(_shift_utf16)), 1, "UTF-16"),
    ("value not in the vocabulary", _snapshot(_export(_choice_value("maybe"))), 1, "not_in_vocabulary"),
    ("attribute on the wrong label", _snapshot(_export(_wrong_label_attribute)), 1, "attribute_forbidden"),
    (
        "task we did not push",
        _snapshot([{**_export()[0], "data": {**_export()[0]["data"], "task_key": "x|y"}}]),
        1,
        "was not pushed",
    ),
]


@pytest.mark.parametrize(
    ("write", "code", "message"), [c[1:] for c in PULL_CASES], ids=[c[0] for c in PULL_CASES]
)
def test_pull_from_snapshot_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: Callable[[Path], Path], code: int, message: str
) -> None:
    records = base_records()
    records["annotations"] = []
    write_records(tmp_path, records)
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    snapshot = write(tmp_path)
    before = _tree(tmp_path)
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(snapshot)]) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert message in (err if code == 2 else out)
    after = _tree(tmp_path)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert all(k.startswith(SNAP) and k.endswith(".rejects.jsonl") for k in changed), changed
    assert not (tmp_path / "annotations").exists() or not list((tmp_path / "annotations").iterdir())


def test_pull_path_from_a_hostile_title_stays_inside_the_data_folder(tmp_path: Path) -> None:
    write_records(tmp_path / "data", base_records())
    snapshot = _snapshot(_export())(tmp_path / "data")
    meta = snapshot.with_name(snapshot.name.replace(".export.json", ".meta.json"))
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "title": "../../../../tmp/evil"}))
    assert main(["studio", "pull", str(tmp_path / "data"), "--from-snapshot", str(snapshot)]) == 0
    written = tmp_path / "data" / "annotations" / "ls-tmp-evil.jsonl"
    assert written.exists() and not (tmp_path / "tmp").exists()


# --- export -------------------------------------------------------------------------------------------

EXPORT_CASES: list[tuple[str, Callable[[Path], None], list[str], int, str]] = [
    ("invalid data", _span(text="sad!"), [], 1, "validation failure"),
    ("unreadable data", _raw("targets.jsonl", b"{"), [], 2, "invalid JSON"),
    ("bad split proportions", lambda root: None, ["--split", "0.5,0.5"], 2, "proportions must be"),
]


@pytest.mark.parametrize(
    ("write", "extra", "code", "message"), [c[1:] for c in EXPORT_CASES], ids=[c[0] for c in EXPORT_CASES]
)
def test_export_refuses(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    write: Callable[[Path], None],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    data = tmp_path / "data"
    write_records(data, base_records())
    write(data)
    before = _tree(tmp_path)
    assert main(["export", str(data), "--out", str(tmp_path / "hf"), *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert _tree(tmp_path) == before and not (tmp_path / "hf").exists()


# --- import -------------------------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
TABLE = ["--text-col", "body", "--target-col", "claim"]


def _file(name: str, content: bytes) -> Callable[[Path], list[str]]:
    def write(root: Path) -> list[str]:
        (root / name).write_bytes(content)
        return [str(root / name)]

    return write


def _fnc_without(kind: str) -> Callable[[Path], list[str]]:
    def write(root: Path) -> list[str]:
        for path in (FIXTURES / "fnc1").iterdir():
            if kind not in path.name:
                (root / path.name).write_bytes(path.read_bytes())
        return [str(root)]

    return write


def _existing_out(root: Path) -> list[str]:
    (root / "out").mkdir()
    (root / "out" / "articles.jsonl").write_text("{}\n", encoding="utf-8")
    return [str(FIXTURES / "certainty.jsonl")]


GOOD_FINDING = b'{"id": 1, "finding": "Fine.", "sentence-level-certainty": 3}\n'
# (case id, input writer, format, extra args, exit code, message)
IMPORT_CASES: list[tuple[str, Callable[[Path], list[str]], str, list[str], int, str]] = [
    ("malformed JSONL line", _file("c.jsonl", GOOD_FINDING + b'{"id": 2,,}\n'), "certainty-jsonl", [], 2,
     "c.jsonl:2: invalid JSON"),
    ("truncated JSONL", _file("c.jsonl", GOOD_FINDING[:30]), "certainty-jsonl", [], 2,
     "c.jsonl:1: invalid JSON"),
    ("JSONL with BOM", _file("c.jsonl", b"\xef\xbb\xbf" + GOOD_FINDING), "certainty-jsonl", [], 2,
     "c.jsonl:1: starts with a UTF-8 byte-order mark"),
    ("JSONL nested too deeply", _file("c.jsonl", b"[" * 100000 + b"]" * 100000), "certainty-jsonl", [], 2,
     "c.jsonl:1: JSON nested too deeply"),
    ("CSV not UTF-8", _file("t.csv", b"body,claim\ncaf\xe9,x\n"), "table", TABLE, 2, "t.csv:2: not UTF-8"),
    ("empty input", _file("t.csv", b""), "table", TABLE, 2, "t.csv: file is empty"),
    ("missing column", _file("t.csv", b"body,target\nA text,x\n"), "table", TABLE, 2,
     "t.csv:1: missing column(s) ['claim']"),
    ("unterminated quote", _file("t.csv", b'body,claim\n"A text,x\n'), "table", TABLE, 2,
     "t.csv:2: malformed CSV"),
    ("50 MB field", _file("t.csv", b"body,claim\n" + b"a" * 50_000_000 + b",x\n"), "table", TABLE, 2,
     "field larger than field limit"),
    ("every row rejected", _file("c.jsonl", b'{"id": 1, "finding": "A.", "sentence-level-certainty": "x"}\n'),
     "certainty-jsonl", [], 2, "nothing imported"),
    ("every sentence rejected", _file("x.conll", b"1\tIt\t9\n"), "conll-factuality", [], 2,
     "nothing imported"),
    ("no such input", lambda root: [str(root / "missing.jsonl")], "certainty-jsonl", [], 2, "no such file"),
    ("input is a folder", lambda root: [str(root)], "certainty-jsonl", [], 2, "is a directory"),
    ("fnc1 without bodies", _fnc_without("bodies"), "fnc1", [], 2, "needs a bodies CSV and a stances CSV"),
    ("fnc1 stances without Body ID", _file("s.csv", b"Headline,Stance\nA,agree\n"), "fnc1", [], 2,
     "needs a bodies CSV"),
    ("not an fnc1 file", _file("x.csv", b"a,b\n1,2\n"), "fnc1", [], 2, "not an FNC-1 file"),
    ("bad label map", _file("t.csv", b"body,claim\nA,x\n"), "table", [*TABLE, "--label-map", "a"], 2,
     "--label-map items look like"),
    ("table without its columns", _file("t.csv", b"body,claim\nA,x\n"), "table", [], 2,
     "needs --text-col and --target-col"),
    ("output folder in use", _existing_out, "certainty-jsonl", [], 2, "stancebank did not write"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("write", "fmt", "extra", "code", "message"),
    [c[1:] for c in IMPORT_CASES],
    ids=[c[0] for c in IMPORT_CASES],
)
def test_import_refuses(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    write: Callable[[Path], list[str]],
    fmt: str,
    extra: list[str],
    code: int,
    message: str,
) -> None:
    paths = write(tmp_path)
    before = _tree(tmp_path)
    assert main(["import", fmt, *paths, "--out", str(tmp_path / "out"), "--quiet", *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert _tree(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging folder left


def test_import_ids_cannot_escape_the_output_folder(tmp_path: Path) -> None:
    """A hostile corpus name becomes a file name inside --out/annotations, never a path outside it."""
    out = tmp_path / "deep" / "out"
    code = main(
        ["import", "conll-factuality", str(FIXTURES / "train.conll"), "--out", str(out), "--quiet",
         "--corpus", "../../../escape"]
    )  # fmt: skip
    assert code == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert all(name.startswith("deep/out/") for name in written), written
    assert [p.name for p in (out / "annotations").iterdir()] == ["_.._.._.._escape.jsonl"]


def test_there_are_at_least_forty_cases() -> None:
    assert len(VALIDATE_CASES) + len(PULL_CASES) + len(EXPORT_CASES) + len(IMPORT_CASES) >= 60


# --- outputs that would destroy the user's files ------------------------------------------------------
# Each row runs inside a project (stancebank.toml + data/); the whole project is checked unchanged.


def _user_folder(name: str) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        (root / name).mkdir()
        (root / name / "notes.txt").write_text("mine\n", encoding="utf-8")

    return write


def _marked(name: str, command: str) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        _user_folder(name)(root)
        (root / name / MARKER).write_text(json.dumps({"written_by": "stancebank", "command": command}))

    return write


def _symlinked(root: Path) -> None:
    _marked("real", "export")(root)
    (root / "link").symlink_to(root / "real")


def _votes_folder(root: Path) -> None:
    (root / "data" / "gold" / "votes.jsonl").mkdir(parents=True)


CERTAINTY = str(FIXTURES / "certainty.jsonl")
# (case id, extra set-up, command line, message)
OUTPUT_CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("export over its own data", lambda r: None, ["export", "data", "--out", "data"],
     "is or contains the input"),
    ("export over the project folder", lambda r: None, ["export", "data", "--out", "."],
     "is or contains the project folder"),
    ("export above the project folder", lambda r: None, ["export", "data", "--out", ".."],
     "is or contains the project folder"),
    ("export over an input file", lambda r: None, ["export", "data", "--out", "data/targets.jsonl"],
     "is or contains the input"),
    ("export over the annotations folder", lambda r: None, ["export", "data", "--out", "data/annotations"],
     "is or contains the input"),
    ("export over a user's folder", _user_folder("mine"), ["export", "data", "--out", "mine"],
     "stancebank did not write"),
    ("export over an import", _marked("imported", "import"), ["export", "data", "--out", "imported"],
     "holds the output of 'stancebank import'"),
    ("export over a file", _raw("notes.txt", b"mine\n"), ["export", "data", "--out", "notes.txt"],
     "exists and is not a folder"),
    ("export through a symbolic link", _symlinked, ["export", "data", "--out", "link"],
     "is a symbolic link"),
    ("import --force over a user's folder", _user_folder("mine"),
     ["import", "certainty-jsonl", CERTAINTY, "--out", "mine", "--force", "--quiet"],
     "stancebank did not write"),
    ("import --force over data", lambda r: None,
     ["import", "certainty-jsonl", CERTAINTY, "--out", "data", "--force", "--quiet"],
     "stancebank did not write"),
    ("import --force over its own input", _raw("in.jsonl", GOOD_FINDING),
     ["import", "certainty-jsonl", "in.jsonl", "--out", ".", "--force", "--quiet"],
     "is or contains the project folder"),
    ("agreement --out data", lambda r: None, ["agreement", "data", "--out", "data"],
     "is or contains the input"),
    ("agreement over a user's folder", _user_folder("mine"), ["agreement", "data", "--out", "mine"],
     "stancebank did not write"),
    ("train --out over its dataset", _marked("hf", "export"),
     ["train", "--dataset", "hf", "--out", "hf"], "is or contains the input"),
    ("train --out .", lambda r: None, ["train", "--dataset", "data/hf", "--out", "."],
     "is or contains the project folder"),
    ("predict --out over annotations", lambda r: None,
     ["predict", "--model", "m.skops", "data", "--out", "data/annotations/amira.jsonl"],
     "is or contains the input"),
    ("predict --out over a folder", _user_folder("mine"),
     ["predict", "--model", "m.skops", "data", "--out", "mine"], "exists and is a folder"),
    ("adjudicate where a folder holds an output's name", _votes_folder, ["adjudicate", "data"],
     "exists and is a folder"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("write", "argv", "message"), [c[1:] for c in OUTPUT_CASES], ids=[c[0] for c in OUTPUT_CASES]
)
def test_outputs_never_destroy(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    write: Callable[[Path], None],
    argv: list[str],
    message: str,
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "stancebank.toml").write_text(project_toml(name="t"), encoding="utf-8")
    write_records(root / "data", base_records())
    write(root)
    monkeypatch.chdir(root)
    before = _tree(tmp_path)
    links = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert _tree(tmp_path) == before
    assert sorted(str(p) for p in tmp_path.rglob("*")) == links  # no folder created either
