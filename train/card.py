"""The dataset card (README.md): YAML metadata that ``datasets`` reads, and prose for people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from annotate.config import accepted_configs
from schemas import vocabulary as V
from stancebank import __version__
from stancebank.project import Project
from train.features import FEATURES
from train.splits import GROUPED_LIMIT

LOAD_SNIPPET = """```python
import datasets

claims = datasets.load_dataset("{path}", "claims")
print(claims)
row = claims["train"][0]
print(row["text"], "→", claims["train"].features["certainty"].int2str(row["certainty"]))
```"""


def _splits(by_split: dict[str, dict[str, pa.Table]]) -> list[str]:
    """Every split name of the export, ours first."""
    names = {s for splits in by_split.values() for s in splits}
    ours = ("train", "validation", "test")
    return [s for s in ours if s in names] + sorted(names - set(ours))


def imported_corpora(articles: pd.DataFrame) -> dict[str, str]:
    """Corpus name -> licence of articles an importer brought in (``metadata.corpus``)."""
    corpora: dict[str, str] = {}
    for metadata, licence in zip(articles["metadata"].tolist(), articles["licence"].tolist(), strict=True):
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


#: The Hub's size categories (by the rows of the largest config), up to the largest we could write.
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def size_category(rows: int) -> str:
    return next((name for bound, name in SIZE_CATEGORIES if rows < bound), "1B<n<10B")


def _yaml(
    by_split: dict[str, dict[str, pa.Table]],
    languages: list[str],
    corpora: dict[str, str],
    project: Project,
    sha256: str,
) -> str:
    from datasets.info import DatasetInfo, DatasetInfosDict  # see train.features.DATASETS_MODULES
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    details = "; ".join(
        [project.license_details] * bool(project.license_details)
        + [f"{name}: {licence}" for name, licence in corpora.items()]
    )
    other = project.license == "other"  # not a label: the Hub's id for a licence of one's own
    data = DatasetCardData(
        license=project.license,
        license_name="see-license-details" if other else None,
        license_details=details or None,
        language=languages,
        pretty_name=project.name,
        task_categories=["text-classification", "token-classification"],
        size_categories=[size_category(max((_rows(s) for s in by_split.values()), default=0))],
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
                # datasets keys its cache of a local folder by the folder's name and this YAML, not by
                # the files: the content hash here keeps one export from being read as another
                "description": f"{project.name}: {config}; content sha256 {sha256}",
                "data_files": [{"split": s, "path": f"{config}/{s}-*.parquet"} for s in splits],
                **({"default": True} if config == default else {}),
            }
            for config, splits in written.items()
        }
    ).to_dataset_card_data(data)
    return f"---\n{data.to_yaml()}\n---\n"


def _rows(splits: dict[str, pa.Table]) -> int:
    return sum(table.num_rows for table in splits.values())


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _counts(rows: pa.Table | None, column: str) -> Counter[Any]:
    if rows is None:
        return Counter()
    counted = pc.value_counts(rows.column(column))
    values, counts = (counted.field(name).to_pylist() for name in ("values", "counts"))
    return Counter(dict(zip(values, counts, strict=True)))


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
    "annotations": "annotation (every annotator, gold included), spans and relations nested",
}


def _snippet(by_split: dict[str, dict[str, pa.Table]], path: str) -> str:
    config = default_config(by_split)
    return (
        LOAD_SNIPPET.format(path=path)
        if config == "claims"
        else OTHER_SNIPPET.format(path=path, config=config)
    )


def _written(by_split: dict[str, dict[str, pa.Table]], splits: list[str]) -> list[str]:
    """Splits that hold a row of some config."""
    return [s for s in splits if any(s in rows and rows[s].num_rows for rows in by_split.values())]


#: What the warning of an export with an empty split says (the card's single-split notice says it too).
EMPTY_SPLITS = "are empty: too few articles with claims to split by article"


def _split_text(
    proportions: tuple[float, float, float] | None, seed: int, grouped: int, splits: list[str]
) -> str:
    if proportions is not None and len(splits) < 2:
        return (
            f"Only a {' and '.join(splits) or 'train'} split was written: {grouped} article(s) with claims "
            f"are too few to split by article (proportions {proportions} were asked for)."
        )
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


def claim_articles(by_split: dict[str, dict[str, pa.Table]]) -> int:
    """The articles with claim rows (the groups the splits were drawn over)."""
    splits = by_split.get("claims", {}).values()
    ids = [chunk.cast(pa.string()) for rows in splits for chunk in rows.column("article_id").chunks]
    return int(pc.count_distinct(pa.chunked_array(ids, pa.string()), mode="all").as_py())


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


@dataclass(frozen=True)
class CardContext:
    """What the card says about how the export was made (besides the rows)."""

    project: Project
    policy: tuple[str, ...]
    chosen_by: dict[str, int]  # policy rule -> tasks it chose
    account: dict[str, int]  # status -> annotations (train.votes)
    agreement: dict[str, Any] | None = None  # agreement.json of the same data, or None
    guideline: str | None = None  # file name of the guideline copied next to the card
    warnings: tuple[str, ...] = ()
    #: what the annotations record: column (RECORDED) -> value ("" for none) -> annotations
    recorded: dict[str, dict[str, int]] | None = None


#: Annotation columns whose values the card counts: how (under which guideline version and Label Studio
#: config) the annotations were made.
RECORDED = ("guideline_version", "config_hash")


def recorded(annotations: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Annotations per value of each :data:`RECORDED` column (``""``: none recorded)."""
    counts: dict[str, dict[str, int]] = {}
    for column in RECORDED:
        if column not in annotations:
            counts[column] = {"": len(annotations)} if len(annotations) else {}
            continue
        values = annotations[column].astype(object).where(annotations[column].notna(), "")
        counts[column] = {str(v): int(n) for v, n in values.value_counts(sort=False).items()}
    return counts


def add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, n in counts.items():
        into[key] = into.get(key, 0) + n


def add_recorded(into: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]) -> None:
    for column, by_value in counts.items():
        add_counts(into.setdefault(column, {}), by_value)


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(((v, n) for v, n in counts.items() if v), key=lambda item: (-item[1], item[0]))


def _guideline_text(project_version: str, versions: dict[str, int] | None) -> str:
    """The project's guideline version, and the versions the annotations record when they differ."""
    if versions is None:
        return ""
    if set(versions) <= {project_version}:
        return " (every annotation records it)" if versions else ""
    listed = ", ".join(f"{v} ({n:,})" for v, n in _by_count(versions))  # a required column
    return f" (the project's); the annotations record {listed}"


def _studio_text(configs: dict[str, int] | None) -> str:
    """Which Label Studio configs the annotations were made under (the hash each one records)."""
    if configs is None:
        return ""
    outside = configs.get("", 0)
    made = _by_count(configs)
    if not made:
        return "; no annotation was made in Label Studio (none records a `config_hash`)"
    ours = accepted_configs()
    listed = ", ".join(
        f"`{h}` ({n:,} annotation{'s' * (n != 1)}"
        + ("; the config this StanceBank version generates" if h in ours else "")
        + ")"
        for h, n in made
    )
    rest = f"; {outside:,} made outside Label Studio" if outside else ""
    return f"; made in Label Studio under config sha256 {listed}{rest}"


def _agreement_text(agreement: dict[str, Any] | None) -> str:
    if not agreement:
        return (
            "Not computed for this data: run `stancebank agreement` (it writes "
            "`reports/agreement/agreement.json` with the data's hash), then export again."
        )
    figures = agreement["scopes"]["overall"]["figures"]
    tasks = agreement["scopes"]["overall"].get("tasks")
    rows = [
        [key, "–" if f["value"] is None else f"{f['value']:.3f}", f["n"]]
        for key, f in figures.items()
        if key.startswith(("alpha/", "span/")) and key.endswith((*V.ATTRIBUTE_VALUES, "/overlap"))
    ]
    return (
        f"From `stancebank agreement` on the same data (data sha256 `{agreement['data_sha256'][:16]}…`, "
        f"{tasks} tasks with two or more annotators; span matching: {agreement['matching']}).\n\n"
        + _table(["figure", "value", "n"], rows)
    )


def _policy_text(context: CardContext) -> str:
    rules = " → ".join(context.policy)
    used = ", ".join(f"{n} by `{rule}`" for rule, n in context.chosen_by.items() if n)
    account = ", ".join(f"{status}: {n}" for status, n in context.account.items())
    return (
        f"- One row per claim/source from one annotation per task, chosen by the policy `{rules}` "
        f"(the first rule that applies; tasks: {used or 'none'}).\n"
        "- Every human annotator's value is kept per claim and source (`*_votes`, matched by the overlap "
        "rule; `*_distribution` gives each label's share), and every annotation is a row of the "
        f"`annotations` config. Annotations — {account}."
    )


def _citation(project: Project) -> str:
    if not project.citation:
        return "No citation given (set `citation` under `[project]` in `stancebank.toml`)."
    return f"```bibtex\n{project.citation.strip()}\n```"


def dataset_card(
    by_split: dict[str, dict[str, pa.Table]],
    tables: dict[str, pd.DataFrame],
    *,
    sha256: str,
    proportions: tuple[float, float, float] | None,
    seed: int,
    context: CardContext,
    path: str = "data/hf",
) -> str:
    project = context.project
    articles = tables["articles"]
    languages = sorted(set(project.languages) | set(articles["language"].unique().tolist()))
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
    template = (
        "\n" + project.card_template.read_text(encoding="utf-8").strip() + "\n"
        if project.card_template is not None and project.card_template.is_file()
        else ""
    )
    homepage = f"\nHomepage: {project.homepage}\n" if project.homepage else ""
    guideline = (
        f"The annotation guideline is part of this dataset: [{context.guideline}]({context.guideline})."
        if context.guideline
        else "No guideline file was found for this project (`guideline` in `stancebank.toml`)."
    )
    written = _written(by_split, splits)
    split_text = _split_text(proportions, seed, claim_articles(by_split), written)
    shown = list(context.warnings)
    if proportions is not None and len(written) < 2:  # the notice is the warning: said once, as one
        split_text = f"> **Warning:** {split_text}"
        shown = [w for w in shown if EMPTY_SPLITS not in w]
    warnings = "".join(f"\n> **Warning:** {w}\n" for w in shown)
    return f"""{_yaml(by_split, languages, corpora, project, sha256)}
# {project.name}

{project.description or "An annotated dataset made with StanceBank."}
{homepage}
## Load it

{_snippet(by_split, path)}

## Sizes

{sizes}

{split_text}
{warnings}{_imported_text(corpora)}
## Annotation scheme

Offsets are Python code points, half-open: `text[start:end] == span text`. {guideline}

{_scheme_table()}

Relations: `source_of` (SOURCE → CLAIM), `cue_of` (CUE → CLAIM). A claim without a source is the outlet's
own assertion (`source_*` columns are null).

## Label counts

{_label_counts(by_split)}

## Agreement

{_agreement_text(context.agreement)}

## How it was built

- StanceBank {__version__}; guideline version {project.guideline_version}{
        _guideline_text(project.guideline_version, (context.recorded or {}).get("guideline_version"))
    }{_studio_text((context.recorded or {}).get("config_hash"))}.
{_policy_text(context)}
- Content sha256 of the parquet files: `{sha256}`.
- Every row was validated against the StanceBank schemas before writing; the written dataset was
  re-loaded and compared with the tables (row and label counts, every span's text).

## Limitations

{_limitations(articles, corpora)}
{template}
## Citation

{_citation(project)}
"""


def _limitations(articles: pd.DataFrame, corpora: dict[str, str]) -> str:
    if corpora:
        return (
            "- Imported from third-party corpora: read each corpus's own documentation and terms; this card "
            "does not\n  relicense them. Labels were made under the corpus's guidelines, not StanceBank's "
            f"(guideline version `{V.EXTERNAL_GUIDELINE_VERSION}`)."
        )
    synthetic = int(articles["synthetic"].sum())
    return (  # the project's articles, annotated or not (the sizes above count the exported rows)
        f"- {synthetic} of the project's {len(articles)} articles are marked synthetic (`synthetic: true`)."
    )
