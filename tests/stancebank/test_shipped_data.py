"""The shipped corpus: it validates, it is what the authoring file builds, and it meets the brief."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from schemas import vocabulary as V
from stancebank.authoring import build
from stancebank.corpus import Corpus, read_corpus
from stancebank.validate import validate_corpus
from tests.annotate.test_adjudicate import check_committed_gold
from tests.shipped import DATA, copy_shipped, shipped_files

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed-article.txt"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return read_corpus(shipped_files())


def test_shipped_data_validates(corpus: Corpus) -> None:
    assert validate_corpus(corpus) == []


def check_authoring_builds(data: Path, built_dir: Path) -> None:
    """The authoring file builds the shipped files: annotations byte for byte; articles and targets as
    the first lines of data/'s (a user's own articles are added after them)."""
    build(DATA / "authoring" / "stories.txt", built_dir)
    built = sorted(p.relative_to(built_dir) for p in built_dir.rglob("*.jsonl"))
    assert [str(p) for p in built][:2] == ["annotations/amira.jsonl", "annotations/bruno.jsonl"]
    for rel in built:
        ours, theirs = (built_dir / rel).read_bytes(), (data / rel).read_bytes()
        if str(rel) in ("articles.jsonl", "targets.jsonl"):
            assert theirs.startswith(ours), rel
        else:
            assert ours == theirs, rel


def test_data_is_what_the_authoring_file_builds(tmp_path: Path) -> None:
    check_authoring_builds(DATA, tmp_path)


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
    check_guideline_example(corpus, example)


def check_guideline_example(
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


def test_what_a_user_adds_to_data_cannot_break_the_shipped_corpus_tests(tmp_path: Path) -> None:
    """A copy of the shipped data plus what a user's work leaves in data/: a pulled Label Studio file
    that annotates the seed story again, an imported article with its target, an import record. The
    shipped-corpus checks, pointed at the copy, still pass."""
    data = copy_shipped(tmp_path / "data")
    seed = next(
        json.loads(line)
        for line in (DATA / "annotations" / "amira.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["article_id"] == "seed-001"
    )
    pulled = {**seed, "annotation_id": "ls-9:1", "annotator": "newcomer", "ls_task_id": 9}
    (data / "annotations" / "ls-stancebank.jsonl").write_text(json.dumps(pulled) + "\n", encoding="utf-8")
    article = {
        **json.loads((DATA / "articles.jsonl").read_text(encoding="utf-8").splitlines()[1]),
        "article_id": "mine-1",
    }
    with (data / "articles.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    with (data / "targets.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"target_id": "mine-1:t1", "article_id": "mine-1", "text": "X."}) + "\n")
    (data / "imports" / "text-1").mkdir(parents=True)
    (data / "imports" / "text-1" / "import.json").write_text("{}", encoding="utf-8")
    everything = read_corpus([data])
    assert validate_corpus(everything) == []  # the user's data is valid…
    seed_claims = everything["spans"][everything["spans"]["article_id"] == "seed-001"]
    assert (seed_claims["text"] == _guideline_examples()[0][1]).sum() == 2  # …and read naively, breaks

    corpus = read_corpus(shipped_files(data))
    assert validate_corpus(corpus) == []
    for example in _guideline_examples():
        check_guideline_example(corpus, example)
    check_authoring_builds(data, tmp_path / "built")
    check_committed_gold(data, tmp_path / "gold")
