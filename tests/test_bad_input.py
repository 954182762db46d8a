"""Bad input, table-driven: every case exits 1 or 2 with a clear line, shows no traceback, and creates or
modifies no output file (checked by hashes and mtimes) — except a pull's own rejects report."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from annotate import convert
from annotate.config import label_config
from stancebank.cli import failure_lines, main
from stancebank.failures import Failure
from stancebank.outputs import MARKER
from stancebank.project import project_toml
from stancebank.terminal import visible
from tests.corpus_factory import TEXT, base_records, mutated, write_records

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


DEEP = b"[" * 100_000 + b"]" * 100_000


def _deep_metadata(depth: int) -> Callable[[Path], None]:
    """The first article's metadata nested ``depth`` levels (raw bytes: json.dumps would recurse)."""

    def write(root: Path) -> None:
        path = root / "articles.jsonl"
        first, rest = path.read_bytes().split(b"\n", 1)
        nested = b"[" * depth + b"]" * depth
        path.write_bytes(
            first.replace(b'"metadata": {}', b'"metadata": {"x": ' + nested + b"}") + b"\n" + rest
        )

    return write


def _special(name: str, kind: str) -> Callable[[Path], None]:
    """``name`` replaced by a FIFO (a writer unblocks a blocked reader after 20 s, so a regression fails
    instead of hanging) or by a link to the character device /dev/null."""

    def write(root: Path) -> None:
        path = root / name
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)

            def unblock() -> None:
                time.sleep(20)
                with contextlib.suppress(OSError):
                    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                    os.close(fd)

            threading.Thread(target=unblock, daemon=True).start()
        else:
            path.symlink_to("/dev/null")

    return write


def _renamed_article(new: str) -> Callable[[Records], None]:
    def change(r: Records) -> None:
        r["articles"][0]["article_id"] = new
        for table in ("targets", "annotations"):
            for record in r[table]:
                if record["article_id"] == "a1":
                    record["article_id"] = new

    return change


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
    # special files, depth and integer bounds: refused before any parser sees the bytes
    ("a FIFO among the data files", _special("targets.jsonl", "fifo"), 2, "targets.jsonl: is a FIFO"),
    ("a device among the data files", _special("targets.jsonl", "device"), 2, "is a character device"),
    (
        "metadata nested 100k deep (Arrow reader)",
        _deep_metadata(100_000),
        2,
        "articles.jsonl:1: JSON nested too deeply",
    ),
    ("metadata nested one level past the bound", _deep_metadata(64), 2, "articles.jsonl:1: JSON nested too"),
    ("offset beyond 64 bits", _span(end=2**70), 2, "in field 'spans[1].end' is outside 64 bits"),
    (
        "Label Studio id beyond 64 bits",
        _records(lambda r: r["annotations"][0].update(ls_task_id=2**64)),
        2,
        "amira.jsonl:1: integer 18446744073709551616 in field 'ls_task_id'",
    ),
    (
        "negative integer beyond 64 bits in metadata",
        _records(lambda r: r["targets"][1].update(metadata={"n": [-(2**63) - 1]})),
        2,
        "targets.jsonl:2: integer -9223372036854775809 in field 'metadata.n[0]'",
    ),
    # ids are matched as whole strings: a trailing line break is no id
    ("article id with a trailing newline", _records(_renamed_article("a1\n")), 1, "bad_format"),
    (
        "target id with a trailing newline",
        _records(lambda r: r["targets"][1].update(target_id="a2:t1\n")),
        1,
        "bad_format",
    ),
    ("span id with a trailing newline", _span(id="q2\n"), 1, "bad_format"),
    (
        "annotation id with a trailing newline",
        _records(lambda r: r["annotations"][0].update(annotation_id="a1:t1:amira\n")),
        1,
        "bad_format",
    ),
    (
        "guideline version with a trailing newline",
        _records(lambda r: r["annotations"][0].update(guideline_version="1.0\n")),
        1,
        "bad_format",
    ),
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


def _document(*items: tuple[str, list[Any]]) -> Callable[[list[dict[str, Any]]], None]:
    """Append document-level choices (name, choices) to the result."""

    def change(result: list[dict[str, Any]]) -> None:
        for name, choices in items:
            result.append(
                {
                    "id": f"d-{name}",
                    "from_name": name,
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": choices},
                }
            )

    return change


def _document_snapshot(*items: tuple[str, list[Any]]) -> Callable[[Path], Path]:
    return _snapshot(_export(_document(*items)), config=label_config(document=True))


def _raw_export(replace: bytes, by: bytes) -> bytes:
    raw = json.dumps(_export(), ensure_ascii=False).encode()
    assert replace in raw
    return raw.replace(replace, by, 1)


def _fifo_snapshot(root: Path) -> Path:
    path = _snapshot(_export())(root)
    _special(path.name, "fifo")(path.parent)
    return path


PULL_CASES: list[tuple[str, Callable[[Path], Path], int, str]] = [
    ("malformed export JSON", _snapshot(raw=b'[{"id": 1,'), 2, "not a JSON export"),
    ("export not UTF-8", _snapshot(raw=b'["caf\xe9"]'), 2, "not a JSON export"),
    ("export is not a list", _snapshot({"tasks": []}), 2, "a full JSON export is a list of tasks"),
    ("export truncated in a string", _snapshot(raw=b'[{"id": 1, "t": "a]'), 2, "truncated at byte 19"),
    ("export with text after the array", _snapshot(raw=b"[]\n[]"), 2, "text after the array at byte 3"),
    ("export with a trailing comma", _snapshot(raw=b"[{}, ]"), 2, "trailing comma"),
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
    (
        "doc_stance without related",
        _document_snapshot(("doc_stance", ["support"])),
        1,
        "document-level doc_stance 'support' needs related = yes (related is not chosen)",
    ),
    (
        "doc_stance with related no",
        _document_snapshot(("related", ["no"]), ("doc_stance", ["oppose"])),
        1,
        "document-level doc_stance 'oppose' needs related = yes (related is no)",
    ),
    (
        "unknown related choice",
        _document_snapshot(("related", ["maybe"])),
        1,
        "document-level related 'maybe' is not one of ['yes', 'no']",
    ),
    (
        "unknown doc_stance choice",
        _document_snapshot(("related", ["yes"]), ("doc_stance", ["agree"])),
        1,
        "document-level doc_stance 'agree' is not one of ['support', 'oppose', 'neutral']",
    ),
    (
        "two related choices",
        _document_snapshot(("related", ["yes", "no"])),
        1,
        "document-level related needs one choice, got ['yes', 'no']",
    ),
    (
        "related chosen twice",
        _document_snapshot(("related", ["yes"]), ("related", ["no"])),
        1,
        "document-level related chosen twice",
    ),
    (
        "document choice that is not a string",
        _document_snapshot(("related", [True])),
        1,
        "document-level related True is not one of",
    ),
    (
        "export nested 100k deep",
        _snapshot(raw=_raw_export(b'"id": 5,', b'"id": 5, "meta": ' + DEEP + b",")),
        2,
        "export.json:1: JSON nested too deeply",
    ),
    (
        "task id beyond 64 bits",
        _snapshot(raw=_raw_export(b'"id": 5,', b'"id": 123456789012345678901234,')),
        2,
        "integer 123456789012345678901234 in field '[0].id' is outside 64 bits",
    ),
    (
        "annotation offset beyond 64 bits",
        _snapshot(_export(lambda r: r[0]["value"].update(end=-(2**65)))),
        2,
        "in field '[0].annotations[0].result[0].value.end'",
    ),
    ("snapshot is a FIFO", _fifo_snapshot, 2, "is a FIFO"),
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
    project_id = json.loads(meta.read_text())["project_id"]
    written = tmp_path / "data" / "annotations" / f"ls-tmp-evil-{project_id}.jsonl"
    assert written.exists() and not (tmp_path / "tmp").exists()


# --- export -------------------------------------------------------------------------------------------

EXPORT_CASES: list[tuple[str, Callable[[Path], None], list[str], int, str]] = [
    (
        "invalid data",
        _span(text="sad!"),
        [],
        1,
        'annotations/amira.jsonl:1: span_text_matches_article (article=a1, span=q1) value="start=28 '
        "end=32 text='sad!' article_text='said'\"\n"
        "stancebank: 1 validation failure(s); run 'stancebank validate'",
    ),
    ("unreadable data", _raw("targets.jsonl", b"{"), [], 2, "invalid JSON"),
    ("bad split proportions", lambda root: None, ["--split", "0.5,0.5"], 2, "proportions must be"),
    ("unknown policy rule", lambda root: None, ["--policy", "gold,best"], 2, "the policy must be"),
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
    # one line, or for invalid data each failure (file, line, article, span, rule) and then the count
    assert message in err and "Traceback" not in err and err.count("\n") == (2 if code == 1 else 1)
    assert _tree(tmp_path) == before and not (tmp_path / "hf").exists()


def test_a_refusal_names_the_first_failures_and_counts_the_rest() -> None:
    failures = [Failure("a.jsonl", i, "x", None, "r", "c", None)._asdict() for i in range(1, 14)]
    lines = failure_lines(failures)
    assert lines[0] == "a.jsonl:1: r [c] (article=x)" and lines[9].startswith("a.jsonl:10:")
    assert lines[10:] == ["… and 3 more"]
    bidi = [Failure("b.jsonl", None, None, None, "r", None, "\u202eevil")._asdict()]
    assert failure_lines(bidi) == ["b.jsonl: r value='\\u202eevil'"]


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


def _folder(files: dict[str, bytes]) -> Callable[[Path], list[str]]:
    def write(root: Path) -> list[str]:
        (root / "in").mkdir()
        for name, content in files.items():
            (root / "in" / name).write_bytes(content)
        return [str(root / "in")]

    return write


def _with_targets(content: bytes, name: str = "targets.jsonl") -> Callable[[Path], list[str]]:
    def write(root: Path) -> list[str]:
        (root / "a.txt").write_bytes(b"A story.\n")
        (root / name).write_bytes(content)
        return [str(root / "a.txt"), "--targets", str(root / name)]

    return write


def _existing_out(root: Path) -> list[str]:
    (root / "out").mkdir()
    (root / "out" / "articles.jsonl").write_text("{}\n", encoding="utf-8")
    return [str(FIXTURES / "certainty.jsonl")]


BRAT = ["--label-map", "Source=SOURCE,Cue=CUE,Content=CLAIM"]


def _brat_pair(text: bytes) -> Callable[[Path], list[str]]:
    def write(root: Path) -> list[str]:
        (root / "doc.txt").write_bytes(text)
        (root / "doc.ann").write_bytes(b"T1\tSource 0 3\tcaf\n")
        return [str(root / "doc.txt")]

    return write


def _fifo_input(root: Path) -> list[str]:
    (root / "c.jsonl").write_bytes(b"")
    _special("c.jsonl", "fifo")(root)
    return [str(root / "c.jsonl")]


def _device_input(root: Path) -> list[str]:
    (root / "t.csv").symlink_to("/dev/null")
    return [str(root / "t.csv")]


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
    ("input is a FIFO", _fifo_input, "certainty-jsonl", [], 2, "c.jsonl: is a FIFO"),
    ("input is a device", _device_input, "table", TABLE, 2, "t.csv: is a character device"),
    ("JSONL integer beyond 64 bits", _file("c.jsonl", b'{"id": 1180591620717411303424, "finding": "A."}\n'),
     "certainty-jsonl", [], 2, "c.jsonl:1: integer 1180591620717411303424 in field 'id' is outside 64 bits"),
    ("JSONL nested one level past the bound", _file("c.jsonl", b"[" * 65 + b"]" * 65 + b"\n"),
     "certainty-jsonl", [], 2, "c.jsonl:1: JSON nested too deeply"),
    ("brat without a label map", _file("a.ann", b"T1\tSource 0 1\tM\n"), "brat", [], 2, "needs --label-map"),
    ("brat label map to no label of ours", _file("a.ann", b""), "brat", ["--label-map", "Source=SPEAKER"], 2,
     "--label-map items look like BratType=LABEL"),
    ("brat .ann without its .txt", _file("a.ann", b"T1\tSource 0 1\tM\n"), "brat", BRAT, 2,
     "nothing imported"),
    ("brat text not UTF-8", _brat_pair(b"caf\xe9 au lait"), "brat", BRAT, 2, "nothing imported"),
    ("brat text blank", _brat_pair(b" \r\n"), "brat", BRAT, 2, "nothing imported"),
    ("brat input neither .txt nor .ann", _file("a.csv", b"x\n"), "brat", BRAT, 2,
     "a brat file ends in .txt or .ann"),
    ("brat input missing", lambda root: [str(root / "gone.ann")], "brat", BRAT, 2, "nothing imported"),
    ("empty split group", _file("t.csv", b"body,claim,c\nA,x,\n"), "table",
     [*TABLE, "--split-group-col", "c"], 2, "t.csv:2: empty 'c'"),
    ("text table without id", _file("a.csv", b"title,text\nT,Body.\n"), "text", ["--target", "X."], 2,
     "a.csv:1: missing column(s) ['id']"),
    ("text file not UTF-8", _file("a.txt", b"caf\xe9 story\n"), "text", ["--target", "X."], 2,
     "a.txt: not UTF-8 (byte 3)"),
    ("text without any target", _file("a.txt", b"A story.\n"), "text", [], 2,
     "nothing imported from"),
    ("text rows all bad", _file("a.csv", b"id,text,published\n1,Body.,2024-02-30\n"), "text",
     ["--target", "X."], 2, "first: "),
    ("folder without texts", _folder({"notes.pdf": b"%PDF"}), "text", ["--target", "X."], 2,
     "no .txt or .md files in this folder"),
    ("not a text file", _file("a.pdf", b"%PDF"), "text", ["--target", "X."], 2,
     "a.pdf: not a folder, text file (.txt, .md) or table"),
    ("targets file malformed", _with_targets(b'{"article_id": "a",,}\n'), "text", [], 2,
     "targets.jsonl:1: invalid JSON"),
    ("targets file without column", _with_targets(b"article,target\na,X.\n", "targets.csv"), "text", [], 2,
     "targets.csv:1: missing column(s) ['article_id']"),
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


MERGE_CASES = [
    ("id already in the data", b"Another story.\n", "a1.txt", "already has article_id(s) a1: rename"),
    ("merged data invalid", b"Story.\n", "ok.txt", "the data with the imported articles fails"),
]


@pytest.mark.parametrize(
    ("content", "name", "message"), [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES]
)
def test_import_text_into_existing_data_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, name: str, message: str
) -> None:
    """Adding articles to a data folder: a colliding id, or data that would not validate, changes nothing."""
    records = base_records()
    if "fails" in message:  # the data is invalid already (a target of no article): nothing is added to it
        records["targets"].append({"target_id": "zz:t1", "article_id": "zz", "text": "orphan"})
    write_records(tmp_path / "data", records)
    (tmp_path / name).write_bytes(content)
    before = _tree(tmp_path)
    argv = [
        "import",
        "text",
        str(tmp_path / name),
        "--target",
        "X.",
        "--out",
        str(tmp_path / "data"),
        "--quiet",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert _tree(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".data.")]


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


# --- train / evaluate: options that would report something false -------------------------------------

HF = Path(__file__).parent.parent / "data" / "hf"
# (case id, arguments after the command, exit code, message)
TRAIN_CASES: list[tuple[str, list[str], int, str]] = [
    ("fit on the reported split", ["train", "--task", "certainty", "--model", "majority", "--fit-on",
     "train,test"], 2, "--fit-on includes 'test', the split the report scores: give --allow-test-fit"),
    ("FNC-1 metric for a claim task", ["train", "--task", "certainty", "--metric", "fnc1"], 2,
     "--metric fnc1 needs the pair task"),
    ("no rows to fit on", ["train", "--task", "certainty", "--model", "majority", "--fit-on", "nosuch"], 2,
     "has no rows in nosuch"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "message"), [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES]
)
def test_train_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    before = _tree(HF)
    assert main([*args, "--dataset", str(HF), "--out", str(tmp_path / "reports")]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err
    assert _tree(HF) == before and not (tmp_path / "reports").exists()


def test_there_are_at_least_forty_cases() -> None:
    assert len(VALIDATE_CASES) + len(PULL_CASES) + len(EXPORT_CASES) + len(IMPORT_CASES) >= 60


# --- pull: malformed tasks next to good ones (each malformed item is one reject; the rest is pulled) ----


def _second_task(**fields: Any) -> dict[str, Any]:
    records = base_records()
    task = convert.tables_to_tasks(records["articles"], records["targets"])[1]
    good = {"id": 10, "completed_by": 1, "result": [], "was_cancelled": False, **STAMPS}
    return {"id": 6, **task, "annotations": [good], **fields}


def _without(key: str, **fields: Any) -> dict[str, Any]:
    task = _second_task(**fields)
    task.pop(key)
    return task


STAMPS = {"created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}
LEGACY = {"id": 10, "completed_by": 1, "result": [], "was_cancelled": False, **STAMPS}
# (name, the second task, converted, rejected, reason in the output; "" = no reject)
MIXED_EXPORT_CASES: list[tuple[str, Any, int, int, str]] = [
    ("annotations not a list", _second_task(annotations={"id": 10}), 1, 1, "'annotations' is not a list"),
    ("annotations null", _second_task(annotations=None), 1, 1, "'annotations' is null"),
    ("annotations missing", _without("annotations"), 1, 1, "no 'annotations' list"),
    (
        "annotation not an object",
        _second_task(annotations=[7, None]),
        1,
        2,
        "annotation is not a JSON object",
    ),
    (
        "result not a list",
        _second_task(annotations=[{**LEGACY, "result": {"from_name": "spans"}}]),
        1,
        1,
        "result is not a list",
    ),
    ("task without id", _without("id"), 1, 1, "task has no integer id"),
    ("task id not an integer", _second_task(id="6"), 1, 1, "task has no integer id"),
    ("task not an object", ["a", "list"], 1, 1, "task is not a JSON object"),
    ("legacy completions are converted", _without("annotations", completions=[LEGACY]), 2, 0, ""),
    (
        "completions next to annotations",
        _second_task(completions=[LEGACY]),
        1,
        1,
        "both 'annotations' and legacy 'completions'",
    ),
]


@pytest.mark.parametrize(
    ("second", "converted", "rejected", "message"),
    [c[1:] for c in MIXED_EXPORT_CASES],
    ids=[c[0] for c in MIXED_EXPORT_CASES],
)
def test_pull_keeps_the_good_annotations_of_a_partly_malformed_export(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    second: Any,
    converted: int,
    rejected: int,
    message: str,
) -> None:
    records = base_records()
    records["annotations"] = []
    write_records(tmp_path, records)
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    snapshot = _snapshot([*_export(), second])(tmp_path)
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(snapshot)]) == (1 if rejected else 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    total = converted + rejected
    assert f"exported {total} = converted {converted} + rejected {rejected}" in out
    assert message in out
    written = tmp_path / "annotations" / "ls-stancebank-1.jsonl"
    pulled = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert "ls-1-9" in {r["annotation_id"] for r in pulled}  # the good annotation is there
    assert len(pulled) == converted


def test_pull_counts_tasks_with_predictions_but_no_annotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_records(tmp_path, {**base_records(), "annotations": []})
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    predicted = _second_task(annotations=[], predictions=[{"id": 3, "result": [], "model_version": "m"}])
    snapshot = _snapshot([*_export(), predicted])(tmp_path)
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(snapshot)]) == 0
    out = capsys.readouterr().out
    assert "exported 1 = converted 1 + rejected 0" in out
    assert "1 task(s) have predictions but no annotation" in out


# --- pull: two projects whose titles make the same file name never overwrite each other ---------------


def _project_snapshot(root: Path, project_id: int, title: str) -> Path:
    snapshot = _snapshot(_export())(root)
    folder = root / "raw" / "label-studio" / f"p{project_id}"
    folder.mkdir(parents=True)
    for path in snapshot.parent.glob(snapshot.name.split(".")[0] + ".*"):
        path.rename(folder / path.name)
    meta = folder / snapshot.name.replace(".export.json", ".meta.json")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "project_id": project_id, "title": title}))
    return folder / snapshot.name


def test_titles_with_the_same_slug_pull_into_separate_files(tmp_path: Path) -> None:
    write_records(tmp_path, {**base_records(), "annotations": []})
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    first = _project_snapshot(tmp_path, 3, "Team A")
    second = _project_snapshot(tmp_path, 4, "team-a")
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(first)]) == 0
    kept = (tmp_path / "annotations" / "ls-team-a-3.jsonl").read_bytes()
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(second)]) == 0
    assert (tmp_path / "annotations" / "ls-team-a-3.jsonl").read_bytes() == kept
    other = (tmp_path / "annotations" / "ls-team-a-4.jsonl").read_text(encoding="utf-8")
    assert json.loads(other)["annotation_id"] == "ls-4-9"


@pytest.mark.parametrize(
    "foreign",
    [b'{"annotation_id": "ls-8-1"}\n', b'{"annotation_id": "a1:t1:amira"}\n', b"not json\n"],
    ids=["another project's file", "a hand-written file", "an unreadable file"],
)
def test_pull_refuses_to_overwrite_a_file_from_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], foreign: bytes
) -> None:
    write_records(tmp_path, {**base_records(), "annotations": []})
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    target = tmp_path / "annotations" / "ls-stancebank-1.jsonl"
    target.write_bytes(foreign)
    snapshot = _snapshot(_export())(tmp_path)
    assert main(["studio", "pull", str(tmp_path), "--from-snapshot", str(snapshot)]) == 2
    assert "not overwriting it" in capsys.readouterr().err
    assert target.read_bytes() == foreign


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


def _outputs_only(root: Path) -> None:
    """reports/ holding only agreement/ (marked): train may add to it, nothing may replace it."""
    (root / "reports" / "agreement").mkdir(parents=True)
    (root / "reports" / "agreement" / MARKER).write_text(
        json.dumps({"written_by": "stancebank", "command": "agreement"})
    )


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
    ("export over a folder of other outputs", _outputs_only, ["export", "data", "--out", "reports"],
     "stancebank did not write"),
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


# --- import: rows rejected with the right reason (the rest is imported, exit 1) ------------------------

CSV_REJECTS: list[tuple[str, bytes, str]] = [
    ("thousands of extra cells", b"B,y," + b",".join([b"z"] * 5000), "row has 5002 fields, header has 2"),
    ("one extra cell", b"B,y,z", "row has 3 fields, header has 2"),
    ("a missing cell", b"B", "row has 1 fields, header has 2"),
]


@pytest.mark.parametrize(("row", "reason"), [c[1:] for c in CSV_REJECTS], ids=[c[0] for c in CSV_REJECTS])
def test_csv_rows_are_rejected_with_their_true_width(tmp_path: Path, row: bytes, reason: str) -> None:
    (tmp_path / "t.csv").write_bytes(b"body,claim\nA text,x\n" + row + b"\n")
    out = tmp_path / "out"
    assert main(["import", "table", str(tmp_path / "t.csv"), "--out", str(out), "--quiet", *TABLE]) == 1
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [(3, reason)]


# --- tiny corpora export: every article lands in a split, train is never empty --------------------------


def _corpus_of(n: int) -> Records:
    base = base_records()
    records: Records = {"articles": [], "targets": [], "annotations": []}
    for i in range(n):
        article_id = f"n{i}"
        annotation = copy.deepcopy(base["annotations"][0])
        annotation.update(
            annotation_id=f"{article_id}:t1:amira", article_id=article_id, target_id=f"{article_id}:t1"
        )
        records["articles"].append({**base["articles"][0], "article_id": article_id})
        records["targets"].append(
            {**base["targets"][0], "target_id": f"{article_id}:t1", "article_id": article_id}
        )
        records["annotations"].append(annotation)
    return records


@pytest.mark.parametrize(
    ("n", "splits", "warning"),
    [
        (1, {"train": 1}, "split(s) validation, test are empty"),
        (2, {"train": 1, "test": 1}, "split(s) validation are empty"),
        (3, {"train": 1, "validation": 1, "test": 1}, None),
    ],
)
def test_a_tiny_corpus_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], n: int, splits: dict[str, int], warning: str | None
) -> None:
    write_records(tmp_path / "data", _corpus_of(n))
    assert main(["export", str(tmp_path / "data"), "--out", str(tmp_path / "hf")]) == 0
    out, err = capsys.readouterr()
    assert f"articles: {', '.join(f'{s} {k}' for s, k in splits.items())}" in out
    assert (warning in err) if warning else not err


# --- bounds that refuse hostile input let ordinary data through -----------------------------------------


def test_the_input_bounds_let_valid_data_through(tmp_path: Path) -> None:
    records = base_records()
    nested: Any = {"deepest": 2**63 - 1, "lowest": -(2**63)}
    for _ in range(55):  # the record, metadata and 55 levels: within the bound of 64
        nested = [nested]
    records["articles"][0]["metadata"] = {"x": nested}
    write_records(tmp_path, records)
    assert main(["validate", str(tmp_path), "--format", "json"]) == 0


# --- values from data shown on a terminal: escaped, never interpreted ----------------------------------

HOSTILE = [
    "[/x]",
    "[link=https://evil.example]x[/link]",
    "[bold red]loud",
    "\x1b[2J\x1b]8;;https://evil.example\x07x",
    "\x9b31mC1",
    "\u202egnp.exe",
]
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def _shown_safely(text: str, value: str) -> None:
    assert "Traceback" not in text and "internal error" not in text, text
    assert not any(c in text for c in RAW_CONTROLS), repr(text)
    assert visible(value) in text, (visible(value), text)  # the markup shown as written


@pytest.mark.parametrize("value", HOSTILE)
def test_failure_table_shows_values_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    write_records(tmp_path, mutated(lambda r: r["annotations"][0]["spans"][1].update(cue_type=value)))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "."]) == 1
    _shown_safely(capsys.readouterr().out, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_json_report_keeps_values_and_escapes_controls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    write_records(tmp_path, mutated(lambda r: r["annotations"][0]["spans"][1].update(cue_type=value)))
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert not any(c in out for c in RAW_CONTROLS), repr(out)
    assert value in {f["value"] for f in json.loads(out)}  # the same data, only written with escapes


@pytest.mark.parametrize("value", HOSTILE)
def test_pull_rejects_table_shows_values_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    records = base_records()
    records["annotations"] = []
    write_records(tmp_path, records)
    (tmp_path / "annotations" / "amira.jsonl").unlink()
    snapshot = _snapshot(_export(was_cancelled=True))(tmp_path)
    meta = snapshot.with_name(snapshot.name.replace(".export.json", ".meta.json"))
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "users": {"1": value}}))
    monkeypatch.chdir(tmp_path)
    assert main(["studio", "pull", ".", "--from-snapshot", str(snapshot.relative_to(tmp_path))]) == 1
    _shown_safely(capsys.readouterr().out, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_error_lines_show_paths_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["validate", str(tmp_path / value.replace("/", "_"))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    _shown_safely(err, value.replace("/", "_"))


@pytest.mark.parametrize("value", HOSTILE)
def test_import_messages_show_paths_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    source = tmp_path / f"{value.replace('/', '_')}.csv"
    source.write_bytes(b"body,claim\nA text,x\nB,y,z\n")
    assert main(["import", "table", str(source), "--out", str(tmp_path / "out"), "--quiet", *TABLE]) == 1
    out = capsys.readouterr().out
    _shown_safely(out, value.replace("/", "_"))
