"""Document-level choices (``related``, ``doc_stance``) in the column-wise converter (annotate.fastpull).

Mirrors :func:`annotate.convert.results_to_document`: a document-level result is plain when it has one
known choice; an annotation stays plain when it chooses each field at most once and chooses a stance
only with ``related: yes``. Everything else goes to the careful converter, which names the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import vocabulary as V


def plain_document_results(
    kind: np.ndarray, name: np.ndarray, choices: pa.Array, annotation_of: np.ndarray, annotations: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per result: a well-formed document-level choice? Per annotation: are its document-level
    choices inconsistent (chosen twice, or a stance without ``related: yes``)?"""
    document = (kind == "choices") & np.isin(name, list(V.DOCUMENT_CHOICES))
    single = document & (pc.list_value_length(choices).fill_null(0).to_numpy(zero_copy_only=False) == 1)
    rows = np.flatnonzero(single)
    chosen = np.full(len(kind), None, dtype=object)
    if len(rows):
        chosen[rows] = pc.list_element(pc.take(choices, pa.array(rows)), 0).to_numpy(zero_copy_only=False)
    fine = np.zeros(len(kind), dtype=bool)
    for field, values in V.DOCUMENT_CHOICES.items():
        fine |= single & (name == field) & np.isin(chosen, V.values(values))
    related = document & (name == "related")
    stance = document & (name == "doc_stance")
    count = lambda mask: np.bincount(annotation_of[mask], minlength=annotations)  # noqa: E731
    yes = count(related & (chosen == V.Related.YES.value))
    bad = (count(related) > 1) | (count(stance) > 1) | ((count(stance) > 0) & (yes == 0))
    return fine, bad


def documents(picked: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Annotation -> its document-level fields (``related`` as a bool), from the plain choices
    (columns ``annotation``, ``name``, ``choice``), in the careful converter's key order."""
    found: dict[int, dict[str, Any]] = {}
    mine = picked[picked["name"].isin(list(V.DOCUMENT_CHOICES))]
    for annotation, name, choice in zip(
        mine["annotation"].tolist(), mine["name"].tolist(), mine["choice"].tolist(), strict=True
    ):
        found.setdefault(int(annotation), {})[name] = choice == V.Related.YES if name == "related" else choice
    return {a: {n: d[n] for n in V.DOCUMENT_CHOICES if n in d} for a, d in found.items()}
