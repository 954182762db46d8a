"""``stancebank export --format brat``: our annotations as brat standoff, for brat and INCEpTION users.

One ``<article_id>.txt`` (the text byte for byte, CRLF kept) and ``.ann`` per article, in a folder per
split (the splits ``export`` would make, so ``import brat`` of the result keeps them). The annotation is
the one the dataset uses (gold when adjudicated, else the earliest). Spans are ``T`` lines typed by our
labels; a span that crosses a line break, or that was imported with fragments, is written discontinuous
(brat cannot show a span over a line break); attributes are ``A`` lines; relations are ``R`` lines
(``Arg1`` the SOURCE or CUE, ``Arg2`` the CLAIM).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from schemas import vocabulary as V
from stancebank.files import replace_dir, staging_dir
from stancebank.importers.base import safe_id
from stancebank.outputs import check_output_dir, write_marker

_BREAK = re.compile(r"[\r\n]+")


def fragments(text: str, start: int, end: int, metadata: Any) -> list[tuple[int, int]]:
    """The brat fragments of a span: its imported fragments, else its pieces between line breaks."""
    if isinstance(metadata, dict) and isinstance(metadata.get("fragments"), list):
        return [(int(s), int(e)) for s, e in metadata["fragments"]]
    pieces, at = [], start
    for match in _BREAK.finditer(text, start, end):
        if match.start() > at:
            pieces.append((at, match.start()))
        at = match.end()
    if at < end:
        pieces.append((at, end))
    return pieces


def ann_lines(text: str, spans: pd.DataFrame, relations: pd.DataFrame) -> list[str]:
    """The .ann lines of one annotation."""
    lines: list[str] = []
    brat_id: dict[str, str] = {}
    attribute = 0
    ordered = spans.sort_values(["start", "end", "span_id"]).to_dict("records")
    for number, span in enumerate(ordered, start=1):
        brat_id[str(span["span_id"])] = f"T{number}"
        parts = fragments(text, int(span["start"]), int(span["end"]), span.get("metadata"))
        offsets = ";".join(f"{s} {e}" for s, e in parts)
        lines.append(f"T{number}\t{span['label']} {offsets}\t{' '.join(text[s:e] for s, e in parts)}")
        for name in V.SPAN_ATTRIBUTES[V.SpanLabel(str(span["label"]))]:
            value = span.get(name)
            if isinstance(value, str):
                attribute += 1
                lines.append(f"A{attribute}\t{name} T{number} {value}")
    for number, relation in enumerate(relations.itertuples(), start=1):
        head, claim = brat_id.get(str(relation.from_id)), brat_id.get(str(relation.to_id))
        if head and claim:
            lines.append(f"R{number}\t{relation.type} Arg1:{head} Arg2:{claim}")
    return lines


#: the command named in the marker of a brat export folder (see stancebank.outputs)
BRAT_COMMAND = "export --format brat"


def export_brat(tables: dict[str, pd.DataFrame], out: Path, *, split_of: dict[str, str]) -> dict[str, int]:
    """Write ``out``/<split>/<article>.txt|.ann atomically; return the number of articles per split."""
    from train.rows import chosen_annotations

    chosen = chosen_annotations(tables["annotations"])
    spans = tables["spans"].merge(chosen[["annotation_id"]], on="annotation_id")
    relations = tables["relations"].merge(chosen[["annotation_id"]], on="annotation_id")
    spans_of = {str(k): g for k, g in spans.groupby("annotation_id")}
    relations_of = {str(k): g for k, g in relations.groupby("annotation_id")}
    # one annotation per article: the one with the most spans (attribution does not depend on the target)
    size = chosen["annotation_id"].map(lambda a: len(spans_of.get(str(a), ())))
    best = (
        chosen.assign(_n=-size).sort_values(["article_id", "_n", "target_id"]).drop_duplicates("article_id")
    )
    texts = dict(zip(tables["articles"]["article_id"], tables["articles"]["text"], strict=True))
    # a folder is replaced only when it is new, empty, or an earlier brat export (its marker): never a
    # user's own brat corpus or any other folder
    out = check_output_dir(out, BRAT_COMMAND)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(out)
    counts: dict[str, int] = {}
    try:
        for row in best.itertuples():
            article_id, annotation_id = str(row.article_id), str(row.annotation_id)
            split = split_of.get(article_id, "train")
            folder = staging / split
            folder.mkdir(exist_ok=True)
            text = texts[article_id]
            empty = spans.iloc[0:0]
            lines = ann_lines(
                text, spans_of.get(annotation_id, empty), relations_of.get(annotation_id, relations.iloc[0:0])
            )
            name = safe_id(article_id)
            (folder / f"{name}.txt").write_bytes(text.encode("utf-8"))
            (folder / f"{name}.ann").write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8"))
            counts[split] = counts.get(split, 0) + 1
        write_marker(staging, BRAT_COMMAND)
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def splits_of(
    tables: dict[str, pd.DataFrame], *, proportions: tuple[float, float, float], seed: int
) -> dict[str, str]:
    """Article id -> split, exactly as ``stancebank export`` assigns them."""
    from train.export import split_rows
    from train.rows import build_rows
    from train.splits import predefined_splits

    articles = tables["articles"]
    predefined = predefined_splits(articles["article_id"].tolist(), articles["metadata"].tolist())
    by_split, _ = split_rows(build_rows(tables), proportions=proportions, seed=seed, predefined=predefined)
    return {
        article_id: split
        for split, table in by_split["articles"].items()
        for article_id in table.column("article_id").to_pylist()
    }
