"""Corpus summary tables: what is in the data, at a glance."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from schemas import vocabulary as V


def corpus_summary(tables: dict[str, pd.DataFrame]) -> list[Table]:
    """Rich tables: corpus sizes, spans per label, and every attribute's value counts."""
    articles, annotations, spans = tables["articles"], tables["annotations"], tables["spans"]
    people = annotations[annotations["annotator"] != V.GOLD_ANNOTATOR]  # gold is adjudicated, not a person
    per_task = people.groupby(["article_id", "target_id"])["annotator"].nunique()
    sizes = Table(title="Corpus")
    sizes.add_column("what")
    sizes.add_column("count", justify="right")
    for what, count in (
        ("articles", len(articles)),
        ("synthetic articles", int(articles["synthetic"].sum())),
        ("targets", len(tables["targets"])),
        ("annotations", len(annotations)),
        ("annotators", people["annotator"].nunique()),
        ("gold annotations", int((annotations["annotator"] == V.GOLD_ANNOTATOR).sum())),
        ("tasks with ≥ 2 annotators", int((per_task >= 2).sum())),
        ("relations", len(tables["relations"])),
    ):
        sizes.add_row(what, str(count))
    labels = Table(title="Spans")
    labels.add_column("label")
    labels.add_column("count", justify="right")
    for label in V.SpanLabel:
        labels.add_row(label.value, str(int((spans["label"] == label).sum())))
    attributes = Table(title="Attribute values (all annotators)")
    for column in ("label", "attribute", "value", "count"):
        attributes.add_column(column, justify="right" if column == "count" else "left")
    for name, values in V.ATTRIBUTE_VALUES.items():
        counts = spans[name].value_counts()
        for value in V.values(values):
            attributes.add_row(V.ATTRIBUTE_LABEL[name].value, name, value, str(int(counts.get(value, 0))))
    return [sizes, labels, attributes]
