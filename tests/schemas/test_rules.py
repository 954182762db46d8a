"""Every schema rule, fed bad data: the exact rule fails, on the right file, line, article and span."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stancebank.validate import validate_paths
from tests.corpus_factory import failures_of, mutated, write_records

Records = dict[str, list[dict[str, Any]]]


def art(**changes: Any) -> Callable[[Records], None]:
    return lambda r: r["articles"][0].update(changes)


def drop_article_key(key: str) -> Callable[[Records], None]:
    return lambda r: r["articles"][0].pop(key)


def ann(**changes: Any) -> Callable[[Records], None]:
    return lambda r: r["annotations"][0].update(changes)


def span(index: int, **changes: Any) -> Callable[[Records], None]:
    return lambda r: r["annotations"][0]["spans"][index].update(changes)


def rel(index: int, **changes: Any) -> Callable[[Records], None]:
    return lambda r: r["annotations"][0]["relations"][index].update(changes)


def add_span(**fields: Any) -> Callable[[Records], None]:
    return lambda r: r["annotations"][0]["spans"].append(fields)


def duplicate(table: str) -> Callable[[Records], None]:
    return lambda r: r[table].append(dict(r[table][0]))


def both(*changes: Callable[[Records], None]) -> Callable[[Records], None]:
    def apply(r: Records) -> None:
        for change in changes:
            change(r)

    return apply


A, T, N = "articles.jsonl", "targets.jsonl", "annotations/amira.jsonl"

# (case id, mutation, file, line, rule, column, span_id)
# fmt: off
CASES: list[tuple[str, Callable[[Records], None], str, int, str, str | None, str | None]] = [
    # articles
    ("duplicate article id", duplicate("articles"), A, 3, "unique_article_id", "article_id", None),
    ("article id with spaces", art(article_id="a 1"), A, 1, "bad_format", "article_id", None),
    ("blank text", art(text="  \n "), A, 1, "non_blank", "text", None),
    ("blank title", art(title=" "), A, 1, "non_blank", "title", None),
    ("missing title", drop_article_key("title"), A, 1, "required", "title", None),
    ("bad url", art(url="ftp:/nowhere"), A, 1, "valid_url", "url", None),
    ("impossible date", art(published="2025-02-30"), A, 1, "valid_date", "published", None),
    ("date with time", art(published="2025-02-03T10:00"), A, 1, "valid_date", "published", None),
    ("unknown language", art(language="xx"), A, 1, "valid_language", "language", None),
    ("outlet reliability", art(outlet_reliability="great"), A, 1, "not_in_vocabulary",
     "outlet_reliability", None),
    ("synthetic not bool", art(synthetic="yes"), A, 1, "wrong_type", "synthetic", None),
    ("unknown article field", art(colour="red"), A, 1, "unknown_field", "colour", None),
    # targets
    ("duplicate target id", duplicate("targets"), T, 3, "unique_target_id", "target_id", None),
    ("blank target", lambda r: r["targets"][0].update(text=""), T, 1, "non_blank", "text", None),
    ("orphan target", lambda r: r["targets"][1].update(article_id="zz"), T, 2,
     "target_article_exists", None, None),
    # annotations
    ("duplicate annotation id", duplicate("annotations"), N, 2, "unique_annotation_id",
     "annotation_id", None),
    ("missing annotator", ann(annotator=None), N, 1, "required", "annotator", None),
    ("bad timestamp", ann(created_at="yesterday"), N, 1, "valid_timestamp", "created_at", None),
    ("updated before created", ann(updated_at="2025-03-01T00:00:00Z"), N, 1,
     "updated_not_before_created", None, None),
    ("guideline version", ann(guideline_version="v1"), N, 1, "bad_format", "guideline_version", None),
    ("config hash", ann(config_hash="abc"), N, 1, "bad_format", "config_hash", None),
    ("task id zero", ann(ls_task_id=0), N, 1, "out_of_range", "ls_task_id", None),
    ("task id as string", ann(ls_task_id="7"), N, 1, "wrong_type", "ls_task_id", None),
    ("target of other article", ann(target_id="a2:t1"), N, 1, "target_of_same_article", None, None),
    ("unknown target", ann(target_id="a1:t9"), N, 1, "annotation_target_exists", None, None),
    ("spans not a list", ann(spans={"id": "s1"}), N, 1, "wrong_type", "spans", None),
    ("doc stance without related", ann(doc_stance="support"), N, 1, "doc_stance_requires_related",
     None, None),
    ("doc stance of unrelated", ann(related=False, doc_stance="oppose"), N, 1,
     "doc_stance_requires_related", None, None),
    ("doc stance value", ann(related=True, doc_stance="agree"), N, 1, "not_in_vocabulary",
     "doc_stance", None),
    ("related not bool", ann(related="yes"), N, 1, "wrong_type", "related", None),
    ("unannotated not a list", ann(unannotated="stance"), N, 1, "wrong_type", "unannotated", None),
    ("unannotated unknown attribute", ann(unannotated=["mood"]), N, 1, "unannotated_known",
     "unannotated", None),
    ("unannotated twice", ann(unannotated=["stance", "stance"]), N, 1, "unannotated_known",
     "unannotated", None),
    ("annotation metadata not an object", ann(metadata=["x"]), N, 1, "wrong_type", "metadata", None),
    ("span metadata not an object", span(1, metadata=3), N, 1, "wrong_type", "metadata", "q1"),
    # spans
    ("unknown label", span(1, label="QUOTE", cue_type=None), N, 1, "not_in_vocabulary", "label", "q1"),
    ("negative start", span(1, start=-1), N, 1, "out_of_range", "start", "q1"),
    ("reversed offsets", span(1, start=34, end=30, text=""), N, 1, "start_before_end", None, "q1"),
    ("text length vs offsets", span(1, end=33), N, 1, "text_length_matches_offsets", None, "q1"),
    ("end past text", span(3, start=40, end=60, text="x" * 20), N, 1, "end_within_text", None, "c1"),
    ("text mismatch", span(1, text="sald"), N, 1, "span_text_matches_article", None, "q1"),
    ("utf-16 offsets", span(0, start=17, end=29), N, 1, "span_text_matches_article", None, "s1"),
    ("whitespace span", add_span(id="w1", label="CUE", start=27, end=28, text=" ",
                                 cue_type="hedge"), N, 1, "span_not_blank", "text", "w1"),
    ("claim without certainty", span(3, certainty=None), N, 1, "attribute_required", "certainty", "c1"),
    ("source without reliability", span(0, reliability=None), N, 1, "attribute_required",
     "reliability", "s1"),
    ("cue without type", span(1, cue_type=None), N, 1, "attribute_required", "cue_type", "q1"),
    ("declared unannotated elsewhere", both(ann(unannotated=["polarity"]), span(3, certainty=None)),
     N, 1, "attribute_required", "certainty", "c1"),
    ("unannotated but set", ann(unannotated=["stance"]), N, 1, "unannotated_attribute_set", "stance",
     "c1"),
    ("stance on a cue", span(1, stance="support"), N, 1, "attribute_forbidden", "stance", "q1"),
    ("cue type on a claim", span(3, cue_type="hedge"), N, 1, "attribute_forbidden", "cue_type", "c1"),
    ("stance value", span(3, stance="maybe"), N, 1, "not_in_vocabulary", "stance", "c1"),
    ("certainty value", span(3, certainty="sure"), N, 1, "not_in_vocabulary", "certainty", "c1"),
    ("start as string", span(1, start="27"), N, 1, "wrong_type", "start", "q1"),
    ("unknown span field", span(1, colour="red"), N, 1, "unknown_field", "colour", "q1"),
    ("duplicate span id", add_span(id="q1", label="CUE", start=15, end=18, text="The",
                                   cue_type="hedge"), N, 1, "unique_span_id", None, "q1"),
    ("duplicate identical span", add_span(id="q9", label="CUE", start=28, end=32, text="said",
                                          cue_type="hedge"), N, 1, "duplicate_span", None, "q9"),
    # relations
    ("relation type", rel(0, type="quotes"), N, 1, "not_in_vocabulary", "type", "s1->c1"),
    ("relation from nowhere", rel(0, from_id="s9"), N, 1, "relation_from_exists", None, "s9->c1"),
    ("relation to nowhere", rel(0, to_id="c9"), N, 1, "relation_to_exists", None, "s1->c9"),
    ("relation reversed", rel(0, from_id="c1", to_id="s1"), N, 1, "relation_direction", None,
     "c1->s1"),
    ("cue_of from a source", rel(1, from_id="s1"), N, 1, "relation_direction", None, "s1->c1"),
    ("duplicate relation", lambda r: r["annotations"][0]["relations"].append(
        {"type": "cue_of", "from_id": "q2", "to_id": "c1"}), N, 1, "duplicate_relation", None,
     "q2->c1"),
]
# fmt: on


@pytest.mark.parametrize(
    ("change", "file", "line", "rule", "column", "span_id"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_fails_on_bad_data(
    tmp_path: Path,
    change: Callable[[Records], None],
    file: str,
    line: int,
    rule: str,
    column: str | None,
    span_id: str | None,
) -> None:
    failures = failures_of(tmp_path, mutated(change))
    assert failures, "the bad data validated"
    first = failures[0]
    assert (first.rule, first.column, first.line, first.span_id) == (rule, column, line, span_id), failures
    assert first.file == str(tmp_path / file)
    assert len({(f.rule, f.column, f.span_id) for f in failures}) == len(failures)


def test_relation_between_annotations_is_refused(tmp_path: Path) -> None:
    """A relation may only join spans of its own annotation, even if the id exists elsewhere."""

    def second_annotator(r: Records) -> None:
        other = {**r["annotations"][0], "annotation_id": "a1:t1:bruno", "annotator": "bruno"}
        other["spans"] = [s for s in other["spans"] if s["id"] != "c1"]
        r["annotations"].append(other)

    failures = failures_of(tmp_path, mutated(second_annotator))
    rules = {(f.rule, f.line, f.span_id) for f in failures}
    assert rules == {
        ("relation_to_exists", 2, "s1->c1"),
        ("relation_to_exists", 2, "q1->c1"),
        ("relation_to_exists", 2, "q2->c1"),
    }


def test_a_copied_annotation_is_one_failure_that_names_the_original(tmp_path: Path) -> None:
    """An annotation given twice (here a second file with a copy of it) is one ``unique_annotation_id``
    failure naming where the original is, not one more per span and relation of the copy; a span id
    repeated within one annotation is still ``unique_span_id``."""
    records = mutated(lambda r: None)
    write_records(tmp_path, records)
    original = tmp_path / N
    copy = tmp_path / "annotations" / "zz-copy.jsonl"
    copy.write_bytes(original.read_bytes().splitlines(keepends=True)[0])
    failures = validate_paths([tmp_path])[0]
    annotation_id = records["annotations"][0]["annotation_id"]
    assert [(f.file, f.line, f.rule, f.value) for f in failures] == [
        (str(copy), 1, "unique_annotation_id", f"{annotation_id} (first at {original}:1)")
    ]
    repeated = failures_of(tmp_path / "again", mutated(add_span(id="q1", label="CUE", start=0, end=1)))
    assert "unique_span_id" in {f.rule for f in repeated}


def test_base_corpus_is_valid(tmp_path: Path) -> None:
    assert failures_of(tmp_path, mutated(lambda r: None)) == []


def test_label_studio_region_ids_are_valid_span_ids(tmp_path: Path) -> None:
    """Label Studio's nanoid region ids may start with '-' or '_' (seen in the browser test)."""

    def ls_ids(r: Records) -> None:
        annotation = r["annotations"][0]
        rename = {"s1": "-GJrrnRDEV", "q1": "_Z7_8CvPNH"}
        for span in annotation["spans"]:
            span["id"] = rename.get(span["id"], span["id"])
        for relation in annotation["relations"]:
            relation["from_id"] = rename.get(relation["from_id"], relation["from_id"])

    assert failures_of(tmp_path, mutated(ls_ids)) == []
    failures = failures_of(tmp_path, mutated(span(0, id="a b")))
    assert [(f.rule, f.column) for f in failures][:1] == [("bad_format", "span_id")]


def test_declared_unannotated_attribute_may_be_missing(tmp_path: Path) -> None:
    """An imported annotation lists attributes its corpus never labelled; they may then be null."""

    def imported(r: Records) -> None:
        r["annotations"][0]["unannotated"] = ["stance", "polarity"]
        for item in r["annotations"][0]["spans"]:
            if item["label"] == "CLAIM":
                item.update(stance=None, polarity=None, metadata={"score": 4.5})

    assert failures_of(tmp_path, mutated(imported)) == []


def test_document_level_labels_validate(tmp_path: Path) -> None:
    assert failures_of(tmp_path, mutated(ann(related=True, doc_stance="oppose"))) == []
    assert failures_of(tmp_path, mutated(ann(related=False, doc_stance=None))) == []


def test_every_failure_is_reported_at_once(tmp_path: Path) -> None:
    """Validation is lazy: three broken rules in three tables give three failures."""
    change = both(art(language="xx"), span(1, text="sald"), rel(0, type="quotes"))
    rules = {f.rule for f in failures_of(tmp_path, mutated(change))}
    assert rules == {"valid_language", "span_text_matches_article", "not_in_vocabulary"}


def test_orphan_annotation_names_the_article(tmp_path: Path) -> None:
    def orphan(r: Records) -> None:
        r["annotations"][0]["article_id"] = "gone"

    failures = failures_of(tmp_path, mutated(orphan))
    rules = {(f.rule, f.article_id) for f in failures}
    assert ("annotation_article_exists", "gone") in rules
    assert ("span_article_exists", "gone") in rules
    assert ("target_of_same_article", "gone") in rules


def test_the_readme_names_every_rule() -> None:
    """Every rule a test fails (here and in the bad-input cases) is in the README's list of rule names."""
    import re

    from tests.shipped import ROOT
    from tests.test_bad_input import VALIDATE_CASES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Rule names in reports", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z_<>]+)`", section))
    named = {case[4] for case in CASES} | {case[3] for case in VALIDATE_CASES}  # or a refusal's text
    rules = {r for r in named if re.fullmatch(r"[a-z_]+", r)}
    rules = {"unique_<id>" if re.fullmatch(r"unique_(article|target|annotation)_id", r) else r for r in rules}
    assert len(rules) > 30 and rules <= listed, sorted(rules - listed)
