"""schemas.crosstable.positions_in: Arrow's index_in, each run of equal keys looked up once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from schemas.crosstable import positions_in

_ids = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "é", "😀", ""]))


@given(st.lists(_ids, unique=True), st.lists(_ids, max_size=60), st.integers(1, 3))
def test_positions_are_those_of_index_in(pool: list[str | None], keys: list[str | None], pieces: int) -> None:
    values = pa.array(pool, pa.string())
    cut = len(keys) // pieces
    chunks = [keys[i * cut : (i + 1) * cut] for i in range(pieces - 1)] + [keys[(pieces - 1) * cut :]]
    chunked = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    expected = pc.index_in(pa.array(keys, pa.string()), value_set=values).fill_null(-1).to_numpy()
    assert positions_in(values, chunked).tolist() == expected.tolist()
    assert positions_in(values, pa.array(keys, pa.string())).tolist() == expected.tolist()


def test_a_run_of_keys_is_looked_up_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    looked_up: list[int] = []
    index_in = pc.index_in

    def counting(keys: pa.Array, **options: object) -> pa.Array:
        looked_up.append(len(keys))
        return index_in(keys, **options)

    monkeypatch.setattr(pc, "index_in", counting)
    keys = pa.array(["a"] * 5 + [None] * 2 + ["b"] * 3 + ["a"], pa.string())
    found = positions_in(pa.array(["b", "a", None], pa.string()), keys)
    assert found.tolist() == [1] * 5 + [2] * 2 + [0] * 3 + [1]
    assert looked_up == [5]  # a, None, None (a missing key starts a run of its own), b, a
    assert np.asarray(found).dtype.kind == "i"
