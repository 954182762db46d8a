"""stancebank.parallel: the pool's hook for the parent's own work while its workers run."""

from __future__ import annotations

import multiprocessing

import pytest

from stancebank import parallel


def _square(item: int) -> int:
    return item * item


@pytest.mark.parametrize("items", [3, 4, 9])
def test_the_parent_works_once_while_the_workers_have_items(items: int) -> None:
    """``forked`` runs once, with both workers alive and before the first result is handed out, for
    fewer items than the pool keeps in flight (3), exactly as many (4) or more (9)."""
    seen: list[tuple[str, int]] = []
    with parallel.OrderedPool(2, {}) as pool:

        def forked() -> None:
            seen.append(("forked", len(multiprocessing.active_children())))

        for result in pool.map(_square, range(items), forked=forked):
            seen.append(("result", result))
    assert seen == [("forked", 2), *(("result", i * i) for i in range(items))]


@pytest.mark.parametrize(("jobs", "items"), [(1, 5), (2, 1)])
def test_no_hook_when_everything_runs_here(jobs: int, items: int) -> None:
    """One job, or a single item: nothing is forked, so there is no parent's turn to give."""
    called: list[str] = []
    with parallel.OrderedPool(jobs, {}) as pool:
        results = list(pool.map(_square, range(items), forked=lambda: called.append("forked")))
    assert results == [i * i for i in range(items)] and called == []
