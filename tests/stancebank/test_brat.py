"""brat standoff in and out, on files written here: every line type, overlapping and discontinuous spans,
CRLF text, lines that must be rejected, and a round trip through export --format brat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancebank.cli import main
from stancebank.importers.base import CorpusImportError, ImportWriter
from stancebank.importers.brat import NO_TARGET, _Doc, _textbound, parse_span_map
from stancebank.validate import load_valid

MAP = "Source=SOURCE,Cue=CUE,Content=CLAIM"
# CRLF kept: offsets count the \r. "Mayor Ana Ruiz" 0-14, "said" 15-19, the content 20-44.
TEXT = "Mayor Ana Ruiz said the bridge may reopen soon.\r\nPeople cheered, 😀 “we won,” they said."
BRIDGE = TEXT.index("the bridge")
PEOPLE, WE = TEXT.index("People"), TEXT.index("we won")
THEY = TEXT.index("they said")
ANN = "\n".join(
    [
        "T1\tSource 0 14\tMayor Ana Ruiz",
        "T2\tCue 15 19\tsaid",
        f"T3\tContent {BRIDGE} {BRIDGE + 26}\tthe bridge may reopen soon",
        f"T4\tCue {BRIDGE + 11} {BRIDGE + 14}\tmay",  # overlaps T3 (a CUE inside a CLAIM)
        f"T5\tSource {THEY} {THEY + 4}\tthey",
        f"T6\tCue {THEY + 5} {THEY + 9}\tsaid",
        f"T7\tContent {PEOPLE} {PEOPLE + 6};{WE} {WE + 6}\tPeople we won",  # discontinuous
        f"T8\tPlace {BRIDGE + 4} {BRIDGE + 10}\tbridge",  # a type outside the map
        f"T9\tSource {THEY} {THEY + 4}\tthey",  # the same span as T5 under another id
        "R1\tAttribution Arg1:T1 Arg2:T3",
        "E1\tSpeech:T6 Speaker:T9 Content:T7",  # trigger T6, speaker T9 = T5
        "R2\tNear Arg1:T8 Arg2:T3",  # a skipped type: no relation, not a reject
        "A1\tNegated T3",
        "A2\tConfidence T1 High",
        "M1\tUncertain T4",
        "A3\tNegated T8",
        "#1\tAnnotatorNotes T7\tdiscontinuous on purpose",
        "N1\tReference T1 Wikipedia:123\tAna Ruiz",
        "*\tEquiv T5 T9",
        "",
    ]
)
BAD = "\n".join(
    [
        "T1\tSource 0 14\tMayor Ana Ruiz",
        "T2\tSource 0 14\tMayor Ana Rui",  # text does not match
        "T3\tContent 40 9999\tx",  # outside the text
        "T4\tContent 5 x\tx",  # offsets not numbers
        "R1\tAttribution Arg1:T1 Arg2:T77",  # unknown argument
        "A1\tNegated T77",  # attribute of an unknown annotation
        "X1\twhat is this",
        "",
    ]
)


def _write(folder: Path, stem: str, text: str, ann: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(text.encode("utf-8"))
    (folder / f"{stem}.ann").write_bytes(ann.encode("utf-8"))


def _import(paths: list[Path], out: Path, *extra: str) -> int:
    return main(
        ["import", "brat", *map(str, paths), "--out", str(out), "--label-map", MAP, "--quiet", *extra]
    )


def test_every_line_type_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "corpus" / "train", "doc1", TEXT, ANN)
    assert _import([tmp_path / "corpus"], tmp_path / "out", "--annotator", "parc") == 0
    corpus = load_valid([tmp_path / "out"])  # every schema rule passes
    spans = corpus["spans"].set_index("span_id")
    assert set(spans.index) == {"T1", "T2", "T3", "T4", "T5", "T6", "T7"}
    for span_id, span in spans.iterrows():
        assert TEXT[span["start"] : span["end"]] == span["text"], span_id
    assert spans.loc["T7", "start"] == PEOPLE and spans.loc["T7", "end"] == WE + 6  # covering span
    assert spans.loc["T7", "metadata"]["fragments"] == [[PEOPLE, PEOPLE + 6], [WE, WE + 6]]
    assert spans.loc["T3", "metadata"]["attributes"] == {"Negated": True}
    assert spans.loc["T1", "metadata"]["attributes"] == {"Confidence": "High"}
    assert spans.loc["T4", "metadata"]["attributes"] == {"Uncertain": True}
    assert list(spans.loc["T7", "metadata"]["notes"].values()) == ["discontinuous on purpose"]
    relations = set(
        zip(
            corpus["relations"]["type"],
            corpus["relations"]["from_id"],
            corpus["relations"]["to_id"],
            strict=True,
        )
    )
    assert relations == {("source_of", "T1", "T3"), ("source_of", "T5", "T7"), ("cue_of", "T6", "T7")}
    annotation = corpus["annotations"].iloc[0]
    assert annotation["annotator"] == "parc" and len(annotation["unannotated"]) == 7
    assert corpus["targets"]["text"].tolist() == [NO_TARGET]
    assert corpus["articles"]["metadata"].iloc[0]["split"] == "train"
    assert corpus["articles"]["text"].iloc[0] == TEXT  # CRLF kept
    counts = json.loads((tmp_path / "out" / "import.json").read_text())["counts"]
    assert counts["skipped type Place"] == 1 and counts["merged duplicate spans"] == 1
    assert counts["skipped relations without a mapped head and claim"] == 1
    assert counts["skipped attributes of skipped types"] == 1
    assert counts["skipped line normalization"] == 1 and counts["skipped line equivalence"] == 1
    assert counts["rejected"] == 0


def test_bad_lines_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "in", "doc", TEXT, BAD)
    (tmp_path / "in" / "lonely.ann").write_text("T1\tSource 0 1\tM\n", encoding="utf-8")
    assert _import([tmp_path / "in"], tmp_path / "out") == 1
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    reasons = {(Path(r["file"]).name, r["line"]): r["reason"] for r in rejects}
    assert "is not the text at 0 14" in reasons[("doc.ann", 2)]
    assert "outside the text" in reasons[("doc.ann", 3)]
    assert "are not 'start end" in reasons[("doc.ann", 4)]
    assert "argument T77 is not a kept text-bound annotation" in reasons[("doc.ann", 5)]
    assert "not a text-bound annotation of this file" in reasons[("doc.ann", 6)]
    assert "not a brat standoff line" in reasons[("doc.ann", 7)]
    assert "no .txt file next to lonely" in reasons[("lonely.txt", None)]
    assert len(rejects) == 7
    corpus = load_valid([tmp_path / "out"])
    assert corpus["spans"]["span_id"].tolist() == ["T1"]  # the rest of the document is kept


def test_a_span_that_splits_a_crlf_or_is_blank_is_rejected(tmp_path: Path) -> None:
    """Such a span cannot be written on one .ann line by brat; checked on the parsed fields."""
    cr = TEXT.index("\r")
    with ImportWriter(tmp_path / "out", "brat", [], quiet=True) as writer:
        doc = _Doc()
        _textbound(
            writer,
            tmp_path / "x.ann",
            3,
            ["T5", f"Content {cr + 1} {PEOPLE + 6}", "\nPeople"],
            TEXT,
            {"Content": "CLAIM"},
            doc,
        )
        _textbound(
            writer,
            tmp_path / "x.ann",
            4,
            ["T6", f"Content {cr - 1} {cr}", "."],
            TEXT,
            {"Content": "CLAIM"},
            doc,
        )
        _textbound(
            writer,
            tmp_path / "x.ann",
            5,
            ["T7", f"Content {cr} {cr + 2}", "\r\n"],
            TEXT,
            {"Content": "CLAIM"},
            doc,
        )
    assert [(r.line, r.reason) for r in writer.rejects] == [
        (3, f"T5: a boundary at {cr + 1} splits a CRLF line break"),
        (5, "T7: the span is blank"),
    ]
    assert list(doc.spans) == ["T6"]


def test_export_brat_never_replaces_a_folder_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "corpus", "doc1", TEXT, ANN)
    assert _import([tmp_path / "corpus"], tmp_path / "first") == 0
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.jsonl").write_text("{}\n", encoding="utf-8")
    export = ["export", str(tmp_path / "first"), "--format", "brat", "--out"]
    assert main([*export, str(tmp_path / "taken")]) == 2
    assert "a non-empty folder that stancebank did not write" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.jsonl"]
    # a user's own brat corpus (only .txt/.ann files) is not ours to replace either
    before = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert main([*export, str(tmp_path / "corpus")]) == 2
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == before
    # its own earlier output is replaced
    assert main([*export, str(tmp_path / "out")]) == 0
    assert main([*export, str(tmp_path / "out")]) == 0


def test_label_map_is_checked() -> None:
    assert parse_span_map(MAP) == {"Source": "SOURCE", "Cue": "CUE", "Content": "CLAIM"}
    with pytest.raises(CorpusImportError, match="LABEL one of"):
        parse_span_map("Source=SPEAKER")
    with pytest.raises(CorpusImportError, match="needs --label-map"):
        parse_span_map(None)


def test_export_brat_then_import_brat_keeps_every_span_and_relation(tmp_path: Path) -> None:
    _write(tmp_path / "corpus" / "test", "doc1", TEXT, ANN)
    _write(tmp_path / "corpus" / "train", "doc2", TEXT.replace("Ruiz", "Diaz"), ANN.replace("Ruiz", "Diaz"))
    assert _import([tmp_path / "corpus"], tmp_path / "first") == 0
    assert main(["export", str(tmp_path / "first"), "--format", "brat", "--out", str(tmp_path / "brat")]) == 0
    assert sorted(
        p.relative_to(tmp_path / "brat").as_posix() for p in (tmp_path / "brat").rglob("*.txt")
    ) == [
        "test/brat-test-doc1.txt",
        "train/brat-train-doc2.txt",
    ]
    ann = (tmp_path / "brat" / "test" / "brat-test-doc1.ann").read_text(encoding="utf-8")
    assert f"CLAIM {PEOPLE} {PEOPLE + 6};{WE} {WE + 6}\tPeople we won" in ann  # fragments written back
    assert (tmp_path / "brat" / "test" / "brat-test-doc1.txt").read_bytes() == TEXT.encode("utf-8")
    back_map = "SOURCE=SOURCE,CUE=CUE,CLAIM=CLAIM"
    code = main(
        [
            "import",
            "brat",
            str(tmp_path / "brat"),
            "--out",
            str(tmp_path / "second"),
            "--label-map",
            back_map,
            "--quiet",
        ]
    )
    assert code == 0

    def structure(folder: Path) -> set[tuple[object, ...]]:
        corpus = load_valid([folder])
        spans = corpus["spans"].set_index(["annotation_id", "span_id"])
        where = {k: (v["label"], v["start"], v["end"]) for k, v in spans.iterrows()}
        out: set[tuple[object, ...]] = {
            (corpus["annotations"].set_index("annotation_id").loc[a, "article_id"][-4:], *v)
            for (a, _), v in where.items()
        }
        for r in corpus["relations"].itertuples():
            out.add((r.type, where[(r.annotation_id, r.from_id)], where[(r.annotation_id, r.to_id)]))
        return out

    assert structure(tmp_path / "first") == structure(tmp_path / "second")
