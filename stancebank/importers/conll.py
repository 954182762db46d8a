"""CoNLL files in the unified factuality format (Stanovsky et al. 2017): one token per line.

Columns are tab-separated (runs of spaces also accepted): token index, token, factuality score or ``_``,
then anything else, which is kept as is in the span's metadata. A blank line ends a sentence; ``#`` lines
are comments. Each sentence becomes an article (tokens joined by single spaces) and a target with the
same text; each scored token becomes a CLAIM over the token with certainty and polarity from
:func:`grade_of_score`; stance was never annotated and is declared so. A file named ``train``, ``dev``,
``test`` … gives its sentences that split.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from schemas import vocabulary as V
from stancebank.importers.base import ImportWriter, annotation_record, article_record, file_timestamp, safe_id

CORPUS_DEFAULT = "conll-factuality"
_COLUMNS = re.compile(r"\t| {2,}| (?=\S)")
SPLIT_STEMS = {
    "train": "train",
    "dev": "validation",
    "validation": "validation",
    "val": "validation",
    "test": "test",
}


def grade_of_score(score: float) -> tuple[V.Certainty, V.Polarity]:
    """A −3…+3 factuality score on our scale: the inverse of ``vocabulary.FACTUALITY_SCORE``.

    |score| ≥ 2.5 certain, ≥ 1.5 probable, ≥ 0.5 possible, below 0.5 underspecified (FactBank Uu);
    the sign gives the polarity (0 counts as positive, as Uu ignores polarity). The integer scores
    ±3, ±2, ±1, 0 map back exactly onto CT±, PR±, PS±, Uu.
    """
    if not -3 <= score <= 3:
        raise ValueError(f"a factuality score must be between -3 and 3. Got {score!r} instead.")
    size = abs(score)
    certainty = (
        V.Certainty.CERTAIN
        if size >= 2.5
        else V.Certainty.PROBABLE
        if size >= 1.5
        else V.Certainty.POSSIBLE
        if size >= 0.5
        else V.Certainty.UNDERSPECIFIED
    )
    return certainty, V.Polarity.NEGATIVE if score < 0 else V.Polarity.POSITIVE


#: The unified factuality range and the name of its grade mapping (:func:`factbank_of_score`), kept with
#: each score so that training reads the scale from the data (train.scales).
SCALE = {"scale_min": -3.0, "scale_max": 3.0, "scale": "factbank"}


def factbank_of_score(score: float) -> str:
    """A −3…+3 score as a FactBank code (CT+ … Uu) through :func:`grade_of_score`."""
    certainty, polarity = grade_of_score(max(-3.0, min(3.0, score)))
    return V.factbank_code(certainty.value, polarity.value).value


def import_conll(writer: ImportWriter, paths: list[Path], *, corpus: str | None = None) -> None:
    for path in paths:
        name = corpus or CORPUS_DEFAULT
        timestamp = file_timestamp(path)
        split = SPLIT_STEMS.get(path.stem.lower())
        sentence: list[tuple[int, list[str]]] = []
        number = 0
        lines = writer.lines(path)
        for text in lines:
            stripped = text.rstrip("\r\n")
            if stripped.startswith("#"):
                continue
            if stripped.strip():
                sentence.append((lines.line, _COLUMNS.split(stripped.strip(), maxsplit=3)))
                continue
            if sentence:
                number += 1
                _sentence(writer, path, name, number, sentence, timestamp, split)
                sentence = []
        if sentence:
            number += 1
            _sentence(writer, path, name, number, sentence, timestamp, split)


def _sentence(
    writer: ImportWriter,
    path: Path,
    corpus: str,
    number: int,
    rows: list[tuple[int, list[str]]],
    timestamp: str,
    split: str | None,
) -> None:
    first = rows[0][0]
    tokens: list[str] = []
    spans: list[dict[str, Any]] = []
    offset = 0
    for line, columns in rows:
        if len(columns) < 3:
            writer.reject(
                path,
                first,
                f"line {line}: expected index, token and score columns, got "
                f"{len(columns)}; sentence {number} skipped",
                number,
            )
            return
        index, token, raw = columns[0], columns[1], columns[2]
        if not token.strip():
            writer.reject(path, first, f"line {line}: blank token; sentence {number} skipped", number)
            return
        start = offset + (1 if tokens else 0)
        tokens.append(token)
        offset = start + len(token)
        if raw == "_":
            continue
        try:
            score = float(raw)
        except ValueError:
            score = math.nan
        if not math.isfinite(score) or not -3 <= score <= 3:
            writer.reject(
                path,
                first,
                f"line {line}: score {raw!r} is not a number from -3 to 3 or '_'; sentence {number} skipped",
                number,
            )
            return
        certainty, polarity = grade_of_score(score)
        metadata: dict[str, Any] = {"score": score, **SCALE, "token_index": index, "line": line}
        if len(columns) > 3:  # POS, lemma, head, relation …: kept for token-context features
            metadata["rest"] = columns[3]
        spans.append(
            {
                "id": f"t{len(tokens) - 1}",  # position in the sentence; the file's index is in metadata
                "label": V.SpanLabel.CLAIM.value,
                "start": start,
                "end": offset,
                "text": token,
                "certainty": certainty.value,
                "polarity": polarity.value,
                "metadata": metadata,
            }
        )
    text = " ".join(tokens)
    article_id = safe_id(corpus, path.stem, f"s{number}")
    article_meta: dict[str, Any] = {"corpus": corpus, "file": path.name, "sentence": number, "line": first}
    if split:
        article_meta["split"] = split
    writer.article(
        article_record(
            article_id,
            text,
            title=f"{path.name} sentence {number}",
            licence=f"as licensed by the source of {path.name}",
            provenance=f"{path.name}, sentence {number} (line {first})",
            metadata=article_meta,
        )
    )
    writer.target({"target_id": article_id, "article_id": article_id, "text": text})
    writer.annotation(
        annotation_record(
            f"{article_id}-{safe_id(corpus)}",
            article_id,
            article_id,
            annotator=corpus,
            timestamp=timestamp,
            spans=spans,
            unannotated=["stance"],
            metadata={"corpus": corpus, "file": path.name, "sentence": number, "line": first},
        )
    )
