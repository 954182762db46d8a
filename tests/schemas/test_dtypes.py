"""schemas.dtypes.Text: pandas' string dtype, checked once per column, failing as pandera's STRING does."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.engines import pandas_engine
from pandera.typing import Series

from schemas.dtypes import Text


class _Texts(pa.DataFrameModel):
    value: Series[Text] = pa.Field(nullable=True)


class _Strings(pa.DataFrameModel):
    value: Series[str] = pa.Field(nullable=True)


def _failures(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> list[dict[str, object]]:
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases[["column", "check", "failure_case", "index"]].to_dict("records")
    return []


def test_a_text_column_is_answered_once_not_row_by_row() -> None:
    column = pd.Series(["a", None, "b"], dtype="string")
    answer = Text().check(pandas_engine.Engine.dtype(column.dtype), column)
    assert answer is True
    by_row = pandas_engine.STRING().check(pandas_engine.Engine.dtype(column.dtype), column)
    assert not isinstance(by_row, bool)  # pandera's STRING answers with one True per row


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", None], dtype="string"),
        pd.Series(["a", 1, None], dtype=object),
        pd.Series([1, 2]),
        pd.Series([1.5, None]),
        pd.Series([True, False]),
    ],
    ids=["text", "mixed", "integers", "floats", "booleans"],
)
def test_text_fails_where_and_as_pandera_string_does(values: pd.Series) -> None:
    frame = pd.DataFrame({"value": values})
    assert _failures(_Texts, frame) == _failures(_Strings, frame)
    assert str(_Texts.to_schema().columns["value"].dtype) == "string[pyarrow]"


def test_a_number_in_a_text_column_is_named() -> None:
    failures = _failures(_Texts, pd.DataFrame({"value": pd.Series(["a", 7], dtype=object)}))
    assert failures == [
        {"column": "value", "check": "dtype('string[pyarrow]')", "failure_case": 7, "index": 1}
    ]
