"""``stancebank import text``: a user's own articles from text files or a table, into a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotate.convert import tables_to_tasks
from stancebank.cli import main
from stancebank.corpus import read_corpus
from stancebank.importers.text import title_of
from stancebank.validate import validate_corpus
from tests.corpus_factory import base_records, write_records


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _texts(folder: Path) -> Path:
    folder.mkdir()
    (folder / "Harbour Story (draft).md").write_bytes(
        b"# Harbour to reopen\r\n\r\nThe mayor said it may.\r\n"
    )
    (folder / "b.txt").write_bytes("  \nCafé owners\nThey doubt it, a source said. 🙂\n".encode())
    (folder / "notes.pdf").write_bytes(b"%PDF")  # not a text file: left alone
    return folder


def test_a_folder_of_text_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["import", "text", str(_texts(tmp_path / "in")), "--target", "The harbour reopens.", "--quiet"]
    assert main([*argv, "--out", str(out), "--licence", "cc-by-4.0"]) == 0
    articles = _lines(out / "articles.jsonl")
    assert [a["article_id"] for a in articles] == ["Harbour_Story_draft", "b"]
    first, second = articles
    assert first["title"] == "Harbour to reopen"
    assert first["text"] == "# Harbour to reopen\r\n\r\nThe mayor said it may.\r\n"  # CRLF kept as is
    assert second["title"] == "Café owners" and second["text"].endswith("🙂\n")
    assert first["licence"] == "cc-by-4.0" and first["outlet_reliability"] == "unknown"
    targets = _lines(out / "targets.jsonl")
    assert targets == [
        {
            "target_id": "Harbour_Story_draft:t1",
            "article_id": "Harbour_Story_draft",
            "text": "The harbour reopens.",
        },
        {"target_id": "b:t1", "article_id": "b", "text": "The harbour reopens."},
    ]
    corpus = read_corpus([out])
    assert validate_corpus(corpus) == []
    tasks = tables_to_tasks(corpus["articles"].to_dict("records"), corpus["targets"].to_dict("records"))
    assert [t["data"]["task_key"] for t in tasks] == ["Harbour_Story_draft|Harbour_Story_draft:t1", "b|b:t1"]
    # the same files give the same ids again
    again = tmp_path / "again"
    assert main([*argv, "--out", str(again)]) == 0
    assert [a["article_id"] for a in _lines(again / "articles.jsonl")] == ["Harbour_Story_draft", "b"]


def test_titles() -> None:
    assert title_of("## A heading ##\nbody", markdown=True) == "A heading ##"
    assert title_of("\n\n  # not markdown\n", markdown=False) == "# not markdown"
    assert title_of("   \n", markdown=True) == ""


def test_a_table_with_targets_per_article_and_a_targets_file(tmp_path: Path) -> None:
    table = tmp_path / "articles.csv"
    table.write_text(
        "id,title,text,url,outlet,published,outlet_reliability,target\n"
        "n1,Rates,The bank may cut rates.,https://example.org/1,Daily,2024-03-01,high,Rates fall.\n"
        'n2,,"Line one\nline two",,,,,\n'
        "n3,Bad,Some text.,,,2024-02-30,,T.\n",
        encoding="utf-8",
    )
    targets = tmp_path / "targets.jsonl"
    targets.write_text(
        '{"article_id": "n2", "target": "Two lines."}\n{"article_id": "n1", "target": "Rates rise."}\n'
        '{"article_id": "n9", "target": "Nobody."}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    argv = ["import", "text", str(table), "--targets", str(targets), "--out", str(out), "--quiet"]
    assert main(argv) == 1  # n3's date and n9's target are rejected, the rest is written
    n1, n2 = _lines(out / "articles.jsonl")
    assert (n1["url"], n1["outlet"], n1["published"], n1["outlet_reliability"]) == (
        "https://example.org/1",
        "Daily",
        "2024-03-01",
        "high",
    )
    assert n2["title"] == "Line one" and n2["url"] is None and n2["published"] is None
    assert [(t["target_id"], t["text"]) for t in _lines(out / "targets.jsonl")] == [
        ("n1:t1", "Rates fall."),
        ("n1:t2", "Rates rise."),
        ("n2:t1", "Two lines."),
    ]
    rejects = _lines(out / "rejects.jsonl")
    assert [(Path(str(r["file"])).name, r["line"], r["reason"]) for r in rejects] == [
        ("articles.csv", 5, "published '2024-02-30' is not a date YYYY-MM-DD"),
        ("targets.jsonl", 3, "no article 'n9' in the input"),
    ]
    manifest = json.loads((out / "import.json").read_text())
    assert manifest["format"] == "text" and len(manifest["inputs"]) == 2
    # articles without annotations: no guideline version of imported annotations; the options used
    assert "stancebank_guideline_version" not in manifest
    assert {"language", "licence"} <= set(manifest["options"]), manifest["options"]


def test_jsonl_rows_and_a_repeated_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "a.jsonl"
    table.write_text(
        '{"id": 7, "text": "Seven.", "target": "T.", "language": "de"}\n'
        '{"id": "7", "text": "Again.", "target": "T."}\n',
        encoding="utf-8",
    )
    assert main(["import", "text", str(table), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    (article,) = _lines(tmp_path / "out" / "articles.jsonl")
    assert article["article_id"] == "7" and article["language"] == "de"
    assert "a.jsonl:2: article id '7' already given by a.jsonl, line 1" in capsys.readouterr().out


def test_into_a_project_adds_articles_and_keeps_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    assert main(["init", str(root), "--name", "Harbour"]) == 0
    texts = _texts(tmp_path / "in")
    monkeypatch.chdir(root / "data")  # anywhere inside the project: --out is the project's data/
    assert main(["import", "text", str(texts), "--target", "It reopens.", "--quiet"]) == 0
    assert len(_lines(root / "data" / "articles.jsonl")) == 2
    (record,) = list((root / "data" / "imports").iterdir())
    assert record.name.startswith("text-") and (record / "import.json").exists()
    # a second import adds to the first; an annotation made meanwhile is not touched
    write_records(tmp_path / "other", base_records())
    annotation = root / "data" / "annotations" / "amira.jsonl"
    other = _lines(tmp_path / "other" / "articles.jsonl")
    table = tmp_path / "more.jsonl"
    table.write_text(
        "".join(json.dumps({"id": a["article_id"], "text": a["text"], "target": "T."}) + "\n" for a in other),
        encoding="utf-8",
    )
    assert main(["import", "text", str(table), "--quiet"]) == 0
    annotation.write_bytes((tmp_path / "other" / "annotations" / "amira.jsonl").read_bytes())
    before = annotation.read_bytes()
    extra = tmp_path / "c.txt"
    extra.write_text("Third.\n", encoding="utf-8")
    assert main(["import", "text", str(extra), "--target", "T.", "--quiet"]) == 0
    assert annotation.read_bytes() == before
    ids = [a["article_id"] for a in _lines(root / "data" / "articles.jsonl")]
    assert ids[:2] == ["Harbour_Story_draft", "b"] and "c" in ids[2:]
    assert validate_corpus(read_corpus([root / "data"])) == []


def test_articles_take_the_project_licence_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    assert main(["init", str(root), "--name", "Quay", "--license", "cc-by-sa-4.0"]) == 0
    (tmp_path / "story.txt").write_text("The quay reopens.\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["import", "text", str(tmp_path / "story.txt"), "--target", "X.", "--quiet"]) == 0
    articles = (root / "data" / "articles.jsonl").read_text(encoding="utf-8")
    assert '"licence": "cc-by-sa-4.0"' in articles
