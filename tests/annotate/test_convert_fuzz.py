"""Fuzzing the export → tables converter: it converts or raises our error type, never anything else."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from annotate import convert
from tests.corpus_factory import TEXT, base_records

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 80),
    st.text(max_size=6),
    st.sampled_from(
        [
            "labels",
            "choices",
            "relation",
            "spans",
            "stance",
            "CLAIM",
            "support",
            "related",
            "doc_stance",
            "yes",
        ]
    ),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

_result = st.fixed_dictionaries(
    {"id": _scalars, "type": _scalars, "from_name": _scalars},
    optional={
        "value": st.one_of(
            _json,
            st.fixed_dictionaries(
                {"start": _scalars, "end": _scalars, "text": _scalars, "labels": _json, "choices": _json}
            ),
        ),
        "from_id": _scalars,
        "to_id": _scalars,
        "labels": _json,
        "direction": _scalars,
    },
)
_annotation = st.fixed_dictionaries(
    {"id": _scalars, "completed_by": _scalars},
    optional={"result": st.one_of(st.lists(_result, max_size=5), _json), "was_cancelled": _scalars},
)
_task = st.fixed_dictionaries(
    {"id": _scalars, "data": st.one_of(_json, st.just({"task_key": "a1|a1:t1", "text": TEXT}))},
    optional={"annotations": st.one_of(st.lists(_annotation, max_size=3), _json)},
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_task, max_size=3), _json))
def test_converter_converts_or_raises_our_error(export: Any) -> None:
    records = base_records()
    try:
        converted, rejects = convert.export_to_records(
            export if isinstance(export, list) else [export],
            articles={a["article_id"]: a["text"] for a in records["articles"]},
            tasks={"a1|a1:t1": "a1"},
            users={},
            project_id=1,
            config_hash="0" * 64,
            guideline_version="1.0",
        )
    except convert.ConversionError:
        return
    assert all(isinstance(r, convert.Reject) for r in rejects)
    assert all(isinstance(r, dict) for r in converted)
