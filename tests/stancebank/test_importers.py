"""``stancebank import``: the four formats on our own small fixtures (never the shared corpora)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas import vocabulary as V
from stancebank.cli import main
from stancebank.corpus import read_corpus
from stancebank.importers.certainty import certainty_of_score
from stancebank.importers.conll import grade_of_score
from stancebank.validate import validate_corpus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "importers"


def _import(tmp_path: Path, fmt: str, *args: str, out: str = "out") -> tuple[int, Path]:
    target = tmp_path / out
    code = main(["import", fmt, *args, "--out", str(target), "--quiet"])
    return code, target


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _annotations(out: Path) -> list[dict[str, Any]]:
    return [a for f in sorted((out / "annotations").glob("*.jsonl")) for a in _lines(f)]


def _valid(out: Path) -> None:
    assert validate_corpus(read_corpus([out])) == []


# --- fnc1 ---------------------------------------------------------------------------------------------


def test_fnc1_maps_every_label_and_loses_nothing(tmp_path: Path) -> None:
    code, out = _import(tmp_path, "fnc1", str(FIXTURES / "fnc1"))
    assert code == 0
    _valid(out)
    articles = {a["article_id"]: a for a in _lines(out / "articles.jsonl")}
    assert len(articles) == 5 and len(_lines(out / "targets.jsonl")) == 10
    assert articles["fnc1-body-10"]["text"].endswith("Residents welcomed the news 🚢.")
    assert {a["metadata"]["split"] for a in articles.values()} == {"train", "test"}
    assert articles["fnc1-body-14"]["metadata"]["split"] == "test"
    by_label: dict[str, set[tuple[Any, Any]]] = {}
    for annotation in _annotations(out):
        by_label.setdefault(annotation["metadata"]["label"], set()).add(
            (annotation["related"], annotation["doc_stance"])
        )
        assert annotation["guideline_version"] == V.EXTERNAL_GUIDELINE_VERSION
    assert by_label == {
        "agree": {(True, "support")},
        "disagree": {(True, "oppose")},
        "discuss": {(True, "neutral")},
        "unrelated": {(False, None)},
    }
    assert _lines(out / "rejects.jsonl") == []
    manifest = json.loads((out / "import.json").read_text())
    assert manifest["counts"] == {"articles": 5, "targets": 10, "annotations": 10, "spans": 0, "rejected": 0}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["stancebank_guideline_version"] == V.EXTERNAL_GUIDELINE_VERSION  # annotations imported


def test_fnc1_rejects_rows_with_reasons_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bodies.csv").write_text(
        'Body ID,articleBody\n1,"Line one.\r\nLine two after CRLF 😀."\n2,"   "\n1,"again"\n',
        encoding="utf-8",
    )
    (folder / "stances.csv").write_text(
        "Headline,Body ID,Stance\nOk,1,agree\nNo body,2,agree\nNo such body,9,discuss\n"
        "Odd label,1,maybe\n,1,agree\nAlso ok,1,unrelated\n",
        encoding="utf-8",
    )
    code, out = _import(tmp_path, "fnc1", str(folder / "bodies.csv"), str(folder / "stances.csv"))
    assert code == 1
    rejects = {(r["line"], r["reason"]) for r in _lines(out / "rejects.jsonl")}
    assert rejects == {
        (4, "body 2 has no text"),  # line 2 holds a CRLF inside the quoted body: it ends on line 3
        (5, "duplicate Body ID 1"),
        (3, "Body ID '2' is not in the bodies file (or was rejected)"),
        (4, "Body ID '9' is not in the bodies file (or was rejected)"),
        (5, "Stance 'maybe' is not one of ['agree', 'disagree', 'discuss', 'unrelated']"),
        (6, "empty Headline"),
    }
    article = _lines(out / "articles.jsonl")[0]
    assert article["text"] == "Line one.\r\nLine two after CRLF 😀."
    assert len(_annotations(out)) == 2
    assert "rejected" in capsys.readouterr().out


def test_unlabelled_stances_file_gives_tasks_without_annotations(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bodies.csv").write_text('Body ID,articleBody\n5,"Some text."\n', encoding="utf-8")
    (folder / "test_stances_unlabeled.csv").write_text("Headline,Body ID\nA claim,5\n", encoding="utf-8")
    code, out = _import(tmp_path, "fnc1", str(folder))
    assert code == 0
    assert len(_lines(out / "targets.jsonl")) == 1 and not (out / "annotations").exists()


# --- certainty-jsonl ----------------------------------------------------------------------------------


def test_certainty_scores_map_by_the_documented_rule() -> None:
    assert [certainty_of_score(s).value for s in (6, 5, 4.99, 3.5, 3.49, 1)] == [
        "certain",
        "certain",
        "probable",
        "probable",
        "possible",
        "possible",
    ]
    with pytest.raises(ValueError, match="between 1 and 6"):
        certainty_of_score(0.5)


def test_certainty_jsonl_import(tmp_path: Path) -> None:
    code, out = _import(tmp_path, "certainty-jsonl", str(FIXTURES / "certainty.jsonl"))
    assert code == 0
    _valid(out)
    articles = {a["article_id"]: a for a in _lines(out / "articles.jsonl")}
    annotations = {a["article_id"]: a for a in _annotations(out)}
    assert set(articles) == {f"certainty-{i}" for i in range(5)}
    coffee = annotations["certainty-2"]
    span = coffee["spans"][0]
    text = articles["certainty-2"]["text"]
    assert text[span["start"] : span["end"]] == span["text"] == "Coffee is probably linked to a longer life."
    assert (span["certainty"], span["metadata"]["score"]) == ("probable", 4.0)
    assert coffee["unannotated"] == ["stance", "polarity"]
    assert coffee["metadata"]["aspects"] == {"Probability": "Uncertain", "Number": "NotPresent"}
    emoji = annotations["certainty-1"]["spans"][0]
    assert articles["certainty-1"]["text"][emoji["start"] : emoji["end"]].endswith("💊.")
    aspects_only = annotations["certainty-4"]
    assert aspects_only["unannotated"] == ["stance", "polarity", "certainty"]
    assert aspects_only["spans"][0]["certainty"] is None
    assert articles["certainty-4"]["metadata"]["split"] == "val"


def test_certainty_jsonl_rejects(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    rows = [
        {"id": 1, "finding": "Fine.", "sentence-level-certainty": 2},
        {"id": 1, "finding": "Same id.", "sentence-level-certainty": 2},
        {"id": 2, "finding": "Too sure.", "sentence-level-certainty": 7},
        {"id": 3, "finding": "   ", "sentence-level-certainty": 2},
        {"id": 4, "finding": "No labels."},
        {"id": 5, "finding": "Odd aspect.", "aspect-level-certainty": {"Number": "Maybe"}},
        [1, 2],
    ]
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out = _import(tmp_path, "certainty-jsonl", str(bad))
    assert code == 1
    reasons = [(r["line"], r["reason"].split(" ")[0]) for r in _lines(out / "rejects.jsonl")]
    assert reasons == [(2, "duplicate"), (3, "sentence-level-certainty"), (4, "missing"), (5, "neither"),
                       (6, "aspect-level-certainty"), (7, "expected")]  # fmt: skip
    assert len(_lines(out / "articles.jsonl")) == 1


# --- conll-factuality ---------------------------------------------------------------------------------


def test_factuality_scores_invert_the_vocabulary_scale() -> None:
    for code, score in V.FACTUALITY_SCORE.items():
        certainty, polarity = grade_of_score(score)
        assert V.factbank_code(certainty, polarity) == code
    assert grade_of_score(-1.4) == (V.Certainty.POSSIBLE, V.Polarity.NEGATIVE)
    assert grade_of_score(0.2) == (V.Certainty.UNDERSPECIFIED, V.Polarity.POSITIVE)
    with pytest.raises(ValueError, match="between -3 and 3"):
        grade_of_score(3.5)


def test_conll_factuality_import(tmp_path: Path) -> None:
    code, out = _import(tmp_path, "conll-factuality", str(FIXTURES / "train.conll"))
    assert code == 0
    _valid(out)
    articles = {a["article_id"]: a for a in _lines(out / "articles.jsonl")}
    first = articles["conll-factuality-train-s1"]
    assert first["text"] == "The minister said the plan might fail 😀 ."
    assert first["metadata"]["split"] == "train"
    spans = {a["article_id"]: a["spans"] for a in _annotations(out)}
    got = [
        (s["text"], s["certainty"], s["polarity"], s["metadata"]["score"]) for s in spans[first["article_id"]]
    ]
    assert got == [("said", "certain", "positive", 3.0), ("fail", "possible", "negative", -1.4)]
    for article_id, article_spans in spans.items():
        for s in article_spans:
            assert articles[article_id]["text"][s["start"] : s["end"]] == s["text"]
    second = [(s["text"], s["certainty"]) for s in spans["conll-factuality-train-s2"]]
    assert second == [("denied", "certain"), (".", "underspecified")]


def test_conll_bad_score_rejects_its_sentence(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text("1\tIt\t_\n2\train\tmaybe\n\n1\tFine\t1\n\n1\tshort\n", encoding="utf-8")
    code, out = _import(tmp_path, "conll-factuality", str(path))
    assert code == 1
    assert [(r["line"], r["reason"][:30]) for r in _lines(out / "rejects.jsonl")] == [
        (1, "line 2: score 'maybe' is not a"),
        (6, "line 6: expected index, token "),
    ]
    assert len(_lines(out / "articles.jsonl")) == 1


# --- table --------------------------------------------------------------------------------------------

TABLE_ARGS = [
    "--text-col", "body", "--target-col", "claim", "--label-col", "label", "--group-col", "doc",
    "--id-col", "id", "--split-col", "split", "--label-map", "pos=support,neg=oppose,unrel=unrelated",
    "--corpus", "bridge", "--licence", "CC-BY-4.0",
]  # fmt: skip


def test_table_import_with_a_column_mapping(tmp_path: Path) -> None:
    code, out = _import(tmp_path, "table", str(FIXTURES / "table.csv"), *TABLE_ARGS)
    assert code == 0
    _valid(out)
    articles = _lines(out / "articles.jsonl")
    assert [a["article_id"] for a in articles] == ["bridge-g-d1", "bridge-g-d2"]
    assert [a["metadata"]["split"] for a in articles] == ["train", "test"]
    assert all(a["licence"] == "CC-BY-4.0" for a in articles)
    labels = {
        a["target_id"]: (a["related"], a["doc_stance"], a["metadata"]["label"]) for a in _annotations(out)
    }
    assert labels == {
        "bridge-r1": (True, "support", "pos"),
        "bridge-r2": (True, "oppose", "neg"),
        "bridge-r3": (True, "support", "pos"),
        "bridge-r4": (False, None, "unrel"),
    }
    assert len(_lines(out / "targets.jsonl")) == 5  # r5 has no label: a task to annotate


def test_table_rejects_conflicting_groups_and_unmapped_labels(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rows = [
        {"id": 1, "body": "Text A", "claim": "c", "label": "pos", "doc": "g"},
        {"id": 2, "body": "Text B", "claim": "c", "label": "pos", "doc": "g"},
        {"id": 3, "body": "Text A", "claim": "c", "label": "meh", "doc": "g"},
        {"id": 1, "body": "Text A", "claim": "c", "label": "pos", "doc": "g"},
        {"id": 4, "body": "Text A", "claim": " ", "label": "pos", "doc": "g"},
        {"id": 5, "body": "Text A", "label": "pos", "doc": "g"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = ["--text-col", "body", "--target-col", "claim", "--label-col", "label", "--group-col", "doc",
            "--id-col", "id", "--label-map", "pos=support"]  # fmt: skip
    code, out = _import(tmp_path, "table", str(path), *args)
    assert code == 1
    reasons = [(r["line"], r["reason"]) for r in _lines(out / "rejects.jsonl")]
    assert reasons == [
        (2, "text differs from the first row of group 'g' (line 1)"),
        (3, "label 'meh' is not in --label-map and not one of ['support', 'oppose', 'neutral', 'unrelated']"),
        (4, "duplicate id 't-1'"),
        (5, "empty 'claim'"),
        (6, "missing field(s) ['claim']"),
    ]


def test_bad_label_map_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _import(
        tmp_path, "table", str(FIXTURES / "table.csv"), "--text-col", "body", "--target-col", "claim",
        "--label-map", "pos=agree",
    )  # fmt: skip
    assert code == 2 and not out.exists()
    assert "--label-map value 'agree' is not one of" in capsys.readouterr().err


# --- the output folder --------------------------------------------------------------------------------


def test_import_never_overwrites_silently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _import(tmp_path, "certainty-jsonl", str(FIXTURES / "certainty.jsonl"))
    assert code == 0
    before = (out / "articles.jsonl").read_bytes()
    code, _ = _import(tmp_path, "conll-factuality", str(FIXTURES / "train.conll"))
    assert code == 2 and "pass --force" in capsys.readouterr().err
    assert (out / "articles.jsonl").read_bytes() == before
    assert main(["import", "conll-factuality", str(FIXTURES / "train.conll"), "--out", str(out), "--force",
                 "--quiet"]) == 0  # fmt: skip
    assert (out / "articles.jsonl").read_bytes() != before
    assert not (out / "rejects.jsonl").read_text()


def test_force_does_not_replace_hand_made_annotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "annotations").mkdir(parents=True)
    (data / "annotations" / "amira.jsonl").write_text("{}\n", encoding="utf-8")
    code = main(
        ["import", "certainty-jsonl", str(FIXTURES / "certainty.jsonl"), "--out", str(data), "--force"]
    )
    assert code == 2 and "stancebank did not write" in capsys.readouterr().err
    assert (data / "annotations" / "amira.jsonl").read_text() == "{}\n"


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_every_import_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "import")
    for name in ("text", "fnc1", "certainty-jsonl", "table", "conll-factuality"):
        assert name in text
    table = _help(capsys, "import", "table")
    assert "usage: stancebank import table" in table and "--label-map" in table and "--group-col" in table
    fnc1 = _help(capsys, "import", "fnc1")
    assert "usage: stancebank import fnc1" in fnc1 and "Fake News Challenge" in fnc1
    assert "--label-map" not in fnc1


@pytest.mark.parametrize("chunk", ["1", "2", "3"])
def test_chunked_validation_crosses_chunk_borders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: str
) -> None:
    """Chunks of 1–3 targets: every task still validates with its article, which an earlier chunk wrote."""
    monkeypatch.setenv("STANCEBANK_IMPORT_CHUNK", chunk)
    code, out = _import(tmp_path, "fnc1", str(FIXTURES / "fnc1"))
    assert code == 0
    _valid(out)
    assert len(_annotations(out)) == 10


def test_a_schema_failure_in_a_later_chunk_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An importer bug caught by the schemas in the second chunk: a clear error, --out never appears."""
    from stancebank.importers import fnc1

    monkeypatch.setenv("STANCEBANK_IMPORT_CHUNK", "2")
    monkeypatch.setitem(fnc1.LABELS, "discuss", (False, "neutral"))  # unrelated with a stance: a rule breaks
    code, out = _import(tmp_path, "fnc1", str(FIXTURES / "fnc1"))
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "fail 1 schema rule(s), nothing written; first: doc_stance_requires_related" in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_colliding_ids_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Original ids that become the same safe id ('a b' and 'a_b') never merge two rows: a duplicate
    task id is a rejected row, a duplicate article id (two groups) stops the import."""
    path = tmp_path / "t.csv"
    path.write_text(
        "id,doc,body,claim\na b,g 1,Text one.,c\na_b,g 1,Text one.,c\nz,g_1,Other.,c\n", encoding="utf-8"
    )
    args = ["--text-col", "body", "--target-col", "claim", "--id-col", "id"]
    code, out = _import(tmp_path, "table", str(path), *args)
    assert code == 1 and [r["reason"] for r in _lines(out / "rejects.jsonl")] == ["duplicate id 't-a_b'"]
    code, out = _import(tmp_path, "table", str(path), *args, "--group-col", "doc", out="grouped")
    assert code == 2 and not out.exists()
    assert "two articles with article_id 't-g-g_1'" in capsys.readouterr().err
