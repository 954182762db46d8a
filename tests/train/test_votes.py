"""Every annotation reaches the dataset: the policy, the vote columns, the annotations config, --strict,
and a card made from the project (not from the shipped corpus)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from annotate.agreement_report import data_hash
from annotate.config import accepted_configs
from stancebank.cli import main
from stancebank.corpus import read_corpus
from stancebank.project import load_project, project_toml
from tests.stancebank.test_shipped_data import DATA
from tests.train.test_export import AGREEMENT, SHIPPED
from train.export import export, load, matching_agreement
from train.policy import PolicyError, choose, parse_policy
from train.votes import ONLY, USED, VOTES, _strings

TEXT = "Officials said the bridge will open in May. Critics doubt it."


def _annotation(annotator: str, created: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "annotation_id": f"a1:t1:{annotator}",
        "article_id": "a1",
        "target_id": "a1:t1",
        "annotator": annotator,
        "created_at": created,
        "updated_at": created,
        "guideline_version": "1.0",
        "config_hash": None,
        "ls_task_id": None,
        "ls_annotation_id": None,
        "spans": spans,
        "relations": [],
    }


def _claim(span_id: str, start: int, end: int, stance: str, certainty: str = "probable") -> dict[str, Any]:
    return {
        "id": span_id,
        "label": "CLAIM",
        "start": start,
        "end": end,
        "text": TEXT[start:end],
        "stance": stance,
        "certainty": certainty,
        "polarity": "positive",
    }


def _project(root: Path, annotations: list[dict[str, Any]], *, policy: str | None = None) -> Path:
    """A one-article project of its own, with its own stancebank.toml, guideline and citation."""
    (root / "data" / "annotations").mkdir(parents=True)
    toml = project_toml(
        name="Bridge Talk",
        description="Claims about one bridge.",
        license="cc-by-sa-4.0",
        citation="@misc{bridgetalk2026,\n  title = {Bridge Talk}\n}",
        languages=("en",),
    )
    if policy:
        toml = toml.replace('policy = ["gold", "majority", "latest"]', f"policy = {policy}")
    (root / "stancebank.toml").write_text(toml, encoding="utf-8")
    (root / "data" / "GUIDELINES.md").write_text("# Bridge guideline\n", encoding="utf-8")
    article = {
        "article_id": "a1",
        "title": "Bridge",
        "text": TEXT,
        "outlet": "The Town Paper",
        "url": "https://example.org/bridge",
        "published": "2026-01-02",
        "language": "en",
        "outlet_reliability": "unknown",
        "licence": "cc-by-sa-4.0",
        "synthetic": False,
    }
    (root / "data" / "articles.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    target = {"target_id": "a1:t1", "article_id": "a1", "text": "The bridge opens in May."}
    (root / "data" / "targets.jsonl").write_text(json.dumps(target) + "\n", encoding="utf-8")
    for record in annotations:
        path = root / "data" / "annotations" / f"{record['annotator']}.jsonl"
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return root


THREE = [
    _annotation("ann", "2026-01-01T10:00:00Z", [_claim("c1", 0, 42, "support")]),
    _annotation("bob", "2026-01-01T11:00:00Z", [_claim("c1", 10, 42, "support")]),
    _annotation(
        "cat", "2026-01-01T12:00:00Z", [_claim("c1", 0, 42, "neutral"), _claim("c2", 44, 61, "oppose")]
    ),
]


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    return read_corpus([root / "data"]).tables


def test_policy_rules_and_the_majority_tie_rule(tmp_path: Path) -> None:
    tables = _tables(_project(tmp_path, THREE))
    annotations, spans = tables["annotations"], tables["spans"]
    # ann and bob agree on c1 (overlap ≥ 0.5, same attributes); cat disagrees: ann and bob score 1 each,
    # a tie between them, so majority does not apply and latest decides (cat)
    assert choose(annotations, spans, ("majority", "latest"))[["annotator", "chosen_by"]].values.tolist() == [
        ["cat", "latest"]
    ]
    assert choose(annotations, spans, ("earliest",))["annotator"].tolist() == ["ann"]
    without_bob = annotations[annotations["annotator"] != "bob"]
    assert choose(without_bob, spans, ("majority",)).empty  # two annotators always tie
    # ann agrees with bob on c1 and with cat on c2, bob and cat share nothing: ann wins outright
    mixed = [
        _annotation(
            "ann", "2026-01-01T10:00:00Z", [_claim("c1", 0, 42, "support"), _claim("c2", 44, 61, "oppose")]
        ),
        _annotation("bob", "2026-01-01T11:00:00Z", [_claim("c1", 10, 42, "support")]),
        _annotation("cat", "2026-01-01T12:00:00Z", [_claim("c2", 44, 61, "oppose")]),
    ]
    tables = _tables(_project(tmp_path / "m", mixed))
    picked = choose(tables["annotations"], tables["spans"], ("majority", "latest"))
    assert picked[["annotator", "chosen_by"]].values.tolist() == [["ann", "majority"]]


@pytest.mark.parametrize("text", ["", "gold,best", "latest,,nope"])
def test_a_bad_policy_is_refused(text: str) -> None:
    with pytest.raises(
        PolicyError, match=r"comma-separated list of \['gold', 'majority', 'latest', 'earliest'\]"
    ):
        parse_policy(text)


def test_votes_distribution_and_annotations_config(tmp_path: Path) -> None:
    root = _project(tmp_path, THREE)
    report = export(_tables(root), tmp_path / "hf", project=load_project(root), policy=("earliest",))
    claims = load(tmp_path / "hf", "claims")["train"]
    stance = claims.features["stance_votes"].feature["value"]
    assert claims["annotator"] == ["ann"]
    votes = [(v["annotator"], stance.int2str(v["value"])) for v in claims[0]["stance_votes"]]
    assert votes == [("ann", "support"), ("bob", "support"), ("cat", "neutral")]
    names = claims.features["stance"].names
    shares = dict(zip(names, claims[0]["stance_distribution"], strict=True))
    assert shares == pytest.approx({"support": 2 / 3, "oppose": 0.0, "neutral": 1 / 3})
    annotations = load(tmp_path / "hf", "annotations")["train"]
    assert sorted(annotations["annotator"]) == ["ann", "bob", "cat"]
    assert sorted(zip(annotations["annotator"], annotations["used"], strict=True)) == [
        ("ann", True),
        ("bob", False),
        ("cat", False),
    ]
    status = dict(zip(report.account["annotator"], report.account["status"], strict=True))
    # cat's second claim matches nothing of ann's: it is only in the annotations config
    assert status == {"ann": USED, "bob": VOTES, "cat": "partly votes"}
    assert report.unrepresented["annotator"].tolist() == ["cat"]


def test_export_prints_the_account_and_strict_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, THREE)
    args: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert main(["export", *args, "--policy", "earliest"]) == 0
        out, err = capsys.readouterr()
        assert "annotations (policy earliest)" in out and "its task's row is the earliest annotation" in out
        assert "stancebank: warning: split(s) validation, test are empty" in err
        before = {p: p.read_bytes() for p in (root / "data" / "hf").rglob("*") if p.is_file()}
        assert main(["export", *args, "--policy", "earliest", "--strict"]) == 1
        captured = capsys.readouterr()
        assert "strict: 1 annotation(s) not represented in claims/sources, e.g. a1:t1:cat" in captured.err
        assert "nothing written" in captured.err and "│ cat " in captured.out
        assert {p: p.read_bytes() for p in (root / "data" / "hf").rglob("*") if p.is_file()} == before
        assert main(["export", *args, "--policy", "gold,best"]) == 2
    one = [THREE[0]]
    other = _project(tmp_path / "one", one)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(other)
        assert main(["export", "--strict"]) == 0


SHIPPED_TEXT = [
    "seed-001",
    "Ankara",
    "AloJapan",
    "Reuters",
    "StanceBank developers",
    "Turkish",
    "stancebank2026",
]


def test_card_is_the_projects_own(tmp_path: Path) -> None:
    root = _project(tmp_path, THREE[:1])
    project = load_project(root)
    report = export(_tables(root), root / "data" / "hf", project=project, policy=project.export_policy)
    card = (root / "data" / "hf" / "README.md").read_text(encoding="utf-8")
    for text in SHIPPED_TEXT:
        assert text not in card, text
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "cc-by-sa-4.0" and meta["pretty_name"] == "Bridge Talk"
    assert "# Bridge Talk" in card and "Claims about one bridge." in card
    assert "```bibtex\n@misc{bridgetalk2026," in card
    assert "[GUIDELINES.md](GUIDELINES.md)" in card
    assert (root / "data" / "hf" / "GUIDELINES.md").read_text() == "# Bridge guideline\n"
    # the project's (its stancebank.toml), not the shipped 1.0; and what its one annotation records
    assert "guideline version 0.1 (the project's); the annotations record 1.0 (1);" in card
    # one warning, said once: the notice of the single split written (the console names the empty ones)
    assert card.count("> **Warning:**") == 1 and "> **Warning:** Only a train split was written" in card
    assert "proportions (0.7, 0.15, 0.15), seed" not in card and "split(s) validation, test" not in card
    assert all(c["description"].startswith("Bridge Talk: ") for c in meta["configs"]), meta["configs"]
    assert "Not computed for this data: run `stancebank agreement`" in card
    assert "policy `gold → majority → latest`" in card and "1 by `latest`" in card
    assert "no annotation was made in Label Studio (none records a `config_hash`)" in card
    assert "config sha256 `" not in card  # no hash of a config nobody annotated under
    articles = len(_tables(root)["articles"])
    assert f"- 0 of the project's {articles} articles are marked synthetic" in card
    assert report.warnings and not report.agreement


def test_the_card_says_where_to_load_it_from_and_which_configs_were_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, older = next(iter(accepted_configs())), "ab" * 32
    made = [
        {**THREE[0], "config_hash": ours},
        {**THREE[1], "config_hash": older},
        {**THREE[2], "guideline_version": "0.1"},
    ]
    root = _project(tmp_path / "proj", made)
    monkeypatch.chdir(tmp_path)  # not the project's folder: no path may be relative to it
    project = ["--project-dir", str(root)]
    outside = tmp_path / "elsewhere" / "hf"
    cards = {}
    for out in ("proj/data/hf", "proj/release/v1", "elsewhere/hf"):
        assert main([*project, "export", "--out", out]) == 0
        cards[out] = (tmp_path / out / "README.md").read_text(encoding="utf-8")
    assert 'load_dataset("data/hf", "claims")' in cards["proj/data/hf"]  # from the project's root
    assert 'load_dataset("release/v1", "claims")' in cards["proj/release/v1"]
    assert f'load_dataset("{outside.resolve().as_posix()}", "claims")' in cards["elsewhere/hf"]
    assert (
        "guideline version 0.1 (the project's); the annotations record 1.0 (2), 0.1 (1);"
        in cards["elsewhere/hf"]
    )
    assert ours < older  # equal counts: listed by hash
    assert (
        f"made in Label Studio under config sha256 `{ours}` (1 annotation; the config this StanceBank "
        f"version generates), `{older}` (1 annotation); 1 made outside Label Studio." in cards["proj/data/hf"]
    )


def test_agreement_is_matched_by_the_data_hash(tmp_path: Path) -> None:
    tables = read_corpus([DATA]).tables
    report = json.loads(AGREEMENT.read_text(encoding="utf-8"))
    assert report["data_sha256"] == data_hash(tables), "run `stancebank agreement data` and commit"
    assert matching_agreement(AGREEMENT, tables) == report
    changed = {**tables, "spans": tables["spans"].assign(stance=tables["spans"]["stance"].shift(1))}
    assert matching_agreement(AGREEMENT, changed) is None
    stale = tmp_path / "agreement.json"
    stale.write_text(json.dumps({**report, "data_sha256": "0" * 64}), encoding="utf-8")
    assert matching_agreement(stale, tables) is None
    gold_only = tables["annotations"]["annotator"] == "gold"
    no_gold = {**tables, "annotations": tables["annotations"].loc[~gold_only]}
    assert data_hash(no_gold) == data_hash(tables)  # adjudicating after `agreement` keeps the match


def test_shipped_card_has_the_agreement_and_the_template(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("hf"))
    report = export(read_corpus([data]).tables, tmp_path / "hf", project=SHIPPED, agreement_path=AGREEMENT)
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert report.agreement and "From `stancebank agreement` on the same data" in card
    assert "| alpha/stance |" in card and "seed-001" in card  # the worked example from data/CARD.md
    assert ONLY not in set(report.account["status"])


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "str", "object"])
def test_vote_values_have_the_layout_of_a_plain_arrow_array(dtype: str) -> None:
    """The export sizes its row groups by the Arrow bytes of its rows: a column of votes taken from
    pandas must weigh what the same values built from a list weigh (no validity bitmap without nulls),
    or large exports would cut their row groups elsewhere for the same data."""
    taken = pd.Series(["", "for", "x", "against"], dtype=dtype).take([1, 3, 0])  # as a merge leaves it
    full = _strings(taken)
    assert full.equals(pa.array(["for", "against", ""], pa.string()))
    assert full.buffers()[0] is None and full.nbytes == pa.array(["for", "against", ""], pa.string()).nbytes
    gaps = _strings(pd.Series(["for", None], dtype=dtype))
    assert gaps.to_pylist() == ["for", None] and gaps.null_count == 1
