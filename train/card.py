"""The dataset card (README.md): YAML metadata that ``datasets`` reads, and prose for people."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pyarrow as pa
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from annotate.config import config_hash, label_config
from schemas import vocabulary as V
from stancebank import __version__
from stancebank.authoring import GUIDELINE_VERSION
from train.features import FEATURES
from train.splits import GROUPED_LIMIT

LOAD_SNIPPET = """```python
import datasets

claims = datasets.load_dataset("{path}", "claims")
print(claims)
row = claims["train"][0]
print(row["text"], "→", claims["train"].features["certainty"].int2str(row["certainty"]))
```"""


OWN_LICENCE_DETAILS = (
    "Synthetic stories: CC-BY-4.0. seed-001: third-party news text (Reuters via "
    "AloJapan.com), included as the worked example; not covered by the dataset licence."
)


def _splits(by_split: dict[str, dict[str, pa.Table]]) -> list[str]:
    """Every split name of the export, ours first."""
    names = {s for splits in by_split.values() for s in splits}
    ours = ("train", "validation", "test")
    return [s for s in ours if s in names] + sorted(names - set(ours))


def imported_corpora(articles: pd.DataFrame) -> dict[str, str]:
    """Corpus name -> licence of articles an importer brought in (``metadata.corpus``)."""
    corpora: dict[str, str] = {}
    for metadata, licence in zip(articles["metadata"], articles["licence"], strict=True):
        if isinstance(metadata, dict) and isinstance(metadata.get("corpus"), str):
            corpora.setdefault(metadata["corpus"], str(licence))
    return dict(sorted(corpora.items()))


def default_config(by_split: dict[str, dict[str, pa.Table]]) -> str:
    """The config ``load_dataset`` opens without a name: claims, else pairs, else the first with rows."""
    written = [config for config, splits in by_split.items() if any(splits.values())]
    return next((c for c in ("claims", "pairs") if c in written), written[0] if written else "articles")


OTHER_SNIPPET = """```python
import datasets

dataset = datasets.load_dataset("{path}", "{config}")
print(dataset)
```"""


def _yaml(by_split: dict[str, dict[str, pa.Table]], languages: list[str], corpora: dict[str, str]) -> str:
    details = "; ".join(f"{name}: {licence}" for name, licence in corpora.items()) or OWN_LICENCE_DETAILS
    data = DatasetCardData(
        license="other",  # not a label: the Hub licence id
        license_name="cc-by-4.0-and-third-party" if not corpora else "see-license-details",
        license_details=details,
        language=languages,
        pretty_name="StanceBank",
        task_categories=["text-classification", "token-classification"],
        size_categories=["n<1K"],
        tags=[
            "stance",
            "factuality",
            "certainty",
            "source-reliability",
            V.CueType.ATTRIBUTION.value,
            "news",
        ],  # not a label
    )
    written = {config: splits for config, splits in by_split.items() if any(splits.values())}
    infos = DatasetInfosDict(
        {
            config: DatasetInfo(features=make(), config_name=config)
            for config, make in FEATURES.items()
            if config in written
        }
    )
    infos.to_dataset_card_data(data)
    default = default_config(by_split)
    MetadataConfigs(
        {
            config: {
                "data_files": [{"split": s, "path": f"{config}/{s}-*.parquet"} for s in splits],
                **({"default": True} if config == default else {}),
            }
            for config, splits in written.items()
        }
    ).to_dataset_card_data(data)
    return f"---\n{data.to_yaml()}\n---\n"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _counts(rows: pa.Table | None, column: str) -> Counter[Any]:
    return Counter(rows.column(column).to_pylist()) if rows is not None else Counter()


def _label_counts(by_split: dict[str, dict[str, pa.Table]]) -> str:
    splits = _splits(by_split)
    rows = []
    for config, column, values in (
        ("claims", "stance", V.Stance),
        ("claims", "certainty", V.Certainty),
        ("claims", "polarity", V.Polarity),
        ("claims", "factbank", V.FactBank),
        ("sources", "reliability", V.Reliability),
        ("sources", "source_type", V.SourceType),
        ("pairs", "doc_label", V.DocumentStance),
    ):
        if config not in by_split:
            continue
        counts = {s: _counts(by_split[config].get(s), column) for s in splits}
        rows += [[f"{config}.{column}", v, *(counts[s][v] for s in splits)] for v in V.values(values)]
    return _table(["column", "value", *splits], rows)


def _scheme_table() -> str:
    rows = [
        [label.value, "; ".join(f"{name} {V.values(values)}" for name, values in attributes.items())]
        for label, attributes in V.SPAN_ATTRIBUTES.items()
    ]
    return _table(["label", "attributes"], rows)


_CONFIG_ROWS = {
    "articles": "(article, target) task, spans and relations nested",
    "claims": "CLAIM, with its source and cues",
    "sources": "SOURCE, with the claims it is the source of",
    "pairs": "(article, target) task with a document-level label",
}


def _snippet(by_split: dict[str, dict[str, pa.Table]], path: str) -> str:
    config = default_config(by_split)
    return (
        LOAD_SNIPPET.format(path=path)
        if config == "claims"
        else OTHER_SNIPPET.format(path=path, config=config)
    )


def _split_text(proportions: tuple[float, float, float] | None, seed: int, grouped: int) -> str:
    if proportions is None:
        return (
            "Splits are the imported corpus's own (each article's `metadata.split`; `val`/`dev` → "
            "`validation`, other names kept)."
        )
    if grouped > GROUPED_LIMIT:
        return (
            "Splits are by article (no story is in two splits); articles are stratified by their claims'\n"
            "majority stance (scikit-learn `StratifiedShuffleSplit`; above "
            f"{GROUPED_LIMIT:,} articles `StratifiedGroupKFold` is too slow), proportions {proportions}, "
            f"seed {seed}."
        )
    return (
        "Splits are grouped by article (no story is in two splits), stratified by claim stance as far as "
        "the\ngrouping allows (scikit-learn `StratifiedGroupKFold`), "
        f"proportions {proportions}, seed {seed}."
    )


def by_split_articles(by_split: dict[str, dict[str, pa.Table]]) -> list[str]:
    """Article ids of every claim row (the groups the splits were drawn over)."""
    return [a for rows in by_split.get("claims", {}).values() for a in rows.column("article_id").to_pylist()]


def _imported_text(corpora: dict[str, str]) -> str:
    if not corpora:
        return ""
    lines = "\n".join(f"- `{name}` — licence/terms: {licence}" for name, licence in corpora.items())
    return f"""
## Imported corpora

Made with `stancebank import`; original ids and labels are kept in `metadata` (and in the
`original_label` / `original_score` columns); attributes a corpus never labelled are null and listed in
each annotation's `unannotated` field. The mappings are documented in the StanceBank README.

{lines}
"""


def dataset_card(
    by_split: dict[str, dict[str, pa.Table]],
    tables: dict[str, pd.DataFrame],
    *,
    sha256: str,
    proportions: tuple[float, float, float] | None,
    seed: int,
    agreement: dict[str, Any] | None = None,
    path: str = "data/hf",
) -> str:
    articles = tables["articles"]
    languages = sorted(set(articles["language"]))
    corpora = imported_corpora(articles)
    splits = _splits(by_split)
    sizes = _table(
        ["config", "one row per", *splits],
        [
            [config, _CONFIG_ROWS[config], *((len(rows[s]) if s in rows else 0) for s in splits)]
            for config, rows in by_split.items()
            if any(rows.values())
        ],
    )
    agreement_text = (
        "\n".join(f"- {k}: {v}" for k, v in agreement.items())
        if agreement
        else "Not computed for this export (see `stancebank agreement`)."
    )
    return f"""{_yaml(by_split, languages, corpora)}
# StanceBank

Stance, certainty and source reliability in news, annotated at the span level: who says what (SOURCE),
the words that attribute or grade it (CUE), and the content (CLAIM) with its stance toward a target
proposition, its certainty and polarity (mapped onto FactBank and the unified −3…+3 factuality scale).

## Load it

{_snippet(by_split, path)}

## Sizes

{sizes}

{_split_text(proportions, seed, len(set(by_split_articles(by_split))))}
{_imported_text(corpora)}
## Annotation scheme

Offsets are Python code points, half-open: `text[start:end] == span text`. The worked example is the seed
story (`seed-001`), target "Japan will acquire Turkish-made drones.":

- SOURCE "a diplomatic source in Ankara" (anonymous, diplomatic, mixed) → CLAIM "discuss ways to expand
  cooperation on defense equipment and technology…" (cue "are expected to": probable, positive, neutral).
- SOURCE "the defense ministry source" → CLAIM "an agreement is not expected" (cues "not" negation,
  "expected" hedge: probable, negative, oppose) and "It is too early for an agreement" (certain,
  negative, oppose).
- SOURCE "the diplomatic source" → CLAIM "Japan is considering Turkish drones among potential options"
  (cue "is considering": possible, positive, support).

{_scheme_table()}

Relations: `source_of` (SOURCE → CLAIM), `cue_of` (CUE → CLAIM). A claim without a source is the outlet's
own assertion (`source_*` columns are null).

## Label counts

{_label_counts(by_split)}

## Agreement

{agreement_text}

## How it was built

- StanceBank {__version__}; guideline version {GUIDELINE_VERSION}; Label Studio config sha256
  `{config_hash(label_config())}`.
- One annotation per task: the adjudicated gold when present, else the earliest annotation.
- Content sha256 of the parquet files: `{sha256}`.
- Every row was validated against the StanceBank schemas before writing; the written dataset was
  re-loaded and compared with the tables (row and label counts, every span's text).

## Limitations

{_limitations(articles, corpora)}
"""


def _limitations(articles: pd.DataFrame, corpora: dict[str, str]) -> str:
    if corpora:
        return (
            "- Imported from third-party corpora: read each corpus's own documentation and terms; this card "
            "does not\n  relicense them. Labels were made under the corpus's guidelines, not StanceBank's "
            f"(guideline version `{V.EXTERNAL_GUIDELINE_VERSION}`)."
        )
    synthetic = int(articles["synthetic"].sum())
    return f"""- {synthetic} of {len(articles)} stories are synthetic (`synthetic: true`): short news-style \
texts written
  by the StanceBank developers, with invented people and organisations. Only `seed-001` is real news.
- Small: a teaching and testing corpus, not a benchmark. Labels of background facts (neutral vs
  support) and of adjacent certainty grades are where annotators disagree most."""
