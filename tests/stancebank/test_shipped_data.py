"""The shipped corpus: it validates, it is what the authoring file builds, and it meets the brief."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas import vocabulary as V
from stancebank.authoring import build
from stancebank.corpus import Corpus, read_corpus
from stancebank.validate import validate_corpus
from tests.shipped import DATA, shipped_files

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed-article.txt"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return read_corpus(shipped_files())


def test_shipped_data_validates(corpus: Corpus) -> None:
    assert validate_corpus(corpus) == []


def test_data_is_what_the_authoring_file_builds(tmp_path: Path) -> None:
    build(DATA / "authoring" / "stories.txt", tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jsonl"))
    assert [str(p) for p in built][:2] == ["annotations/amira.jsonl", "annotations/bruno.jsonl"]
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), rel


def test_corpus_meets_the_brief(corpus: Corpus) -> None:
    articles, annotations, spans = corpus["articles"], corpus["annotations"], corpus["spans"]
    assert int(articles["synthetic"].sum()) >= 40
    first = annotations.groupby(["article_id", "target_id"]).head(1)["annotation_id"]
    claims = spans[(spans["label"] == V.SpanLabel.CLAIM) & spans["annotation_id"].isin(first)]
    assert len(claims) >= 250
    for name, values in V.ATTRIBUTE_VALUES.items():
        assert set(spans[name].dropna()) == set(V.values(values)), name
    per_task = annotations.groupby(["article_id", "target_id"])["annotator"].nunique()
    assert (per_task >= 2).sum() >= 10
    texts = "".join(articles["text"])
    assert "\r\n" in texts
    assert re.search("[\U0001f300-\U0001faff]", texts), "emoji"
    assert re.search("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", texts), "CJK/Hangul"
    assert re.search("[À-ɏ]", texts), "accented Latin"


def test_seed_sentences_are_kept_exactly(corpus: Corpus) -> None:
    if not SEED.exists():
        pytest.skip("shared/seed-article.txt not beside the checkout")
    seed = corpus["articles"].set_index("article_id").loc["seed-001"]
    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert seed["text"] == "\n".join(lines[1:-1])
    assert seed["metadata"]["caption"] == lines[0]
    assert not seed["synthetic"]


_EXAMPLE = re.compile(r"^- (SOURCE|CUE|CLAIM) «(.+?)» ([a-z ]+?)((?: <- [A-Z]+ «.+?»)*)$")


def _guideline_examples() -> list[tuple[str, str, list[str], list[tuple[str, str]]]]:
    examples = []
    for line in (DATA / "GUIDELINES.md").read_text(encoding="utf-8").splitlines():
        match = _EXAMPLE.match(line)
        if match:
            label, text, attrs, heads = match.groups()
            head_list = re.findall(r"<- ([A-Z]+) «(.+?)»", heads)
            examples.append((label, text, attrs.split(), head_list))
    return examples


def test_guideline_has_examples() -> None:
    assert len(_guideline_examples()) >= 10


@pytest.mark.parametrize("example", _guideline_examples(), ids=lambda e: f"{e[0]}:{e[1][:30]}")
def test_guideline_example_is_in_the_seed_annotation(
    corpus: Corpus, example: tuple[str, str, list[str], list[tuple[str, str]]]
) -> None:
    label, text, attrs, heads = example
    spans = corpus["spans"][corpus["spans"]["article_id"] == "seed-001"]
    match = spans[(spans["label"] == label) & (spans["text"] == text)]
    assert len(match) == 1, f"{label} «{text}» not annotated once in the seed story"
    row = match.iloc[0]
    assert [row[name] for name in V.SPAN_ATTRIBUTES[V.SpanLabel(label)]] == attrs
    relations = corpus["relations"]
    into = relations[
        (relations["annotation_id"] == row["annotation_id"]) & (relations["to_id"] == row["span_id"])
    ]
    by_id = spans.set_index("span_id")
    found = {(by_id.loc[h, "label"], by_id.loc[h, "text"]) for h in into["from_id"]}
    assert set(heads) <= found, found
