"""SRV ordering (RFC 2782, Go's ``byPriorityWeight.sort``): pure, no sockets."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest

from trionet._resolver._records import SRV, sort_srv


@pytest.fixture(autouse=True)
def _restore_random() -> Iterator[None]:
    # sort_srv draws from the global random module, which the tests seed for repeatable runs:
    # put its state back so the seeds do not leak into later tests.
    state = random.getstate()
    yield
    random.setstate(state)


def _srv(target: str, priority: int, weight: int) -> SRV:
    return SRV(target=target, port=5060, priority=priority, weight=weight)


def test_priorities_ascend_and_every_record_is_kept() -> None:
    records = [_srv("c", 20, 0), _srv("a", 10, 5), _srv("b", 10, 5), _srv("d", 30, 1)]
    random.seed(7)
    for _ in range(50):
        out = sort_srv(list(records))
        assert sorted(out, key=lambda s: s.target) == sorted(records, key=lambda s: s.target)
        assert [s.priority for s in out] == [10, 10, 20, 30]


def test_within_a_priority_the_weight_decides_how_often_a_record_comes_first() -> None:
    heavy, light = _srv("heavy", 1, 90), _srv("light", 1, 10)
    random.seed(2782)
    firsts = Counter(sort_srv([light, heavy])[0].target for _ in range(4000))
    assert 0.86 < firsts["heavy"] / 4000 < 0.94  # 90 % expected


def test_zero_weights_keep_their_order() -> None:
    # RFC 2782: with no weight to go by, records of a priority are taken as they come.
    records = [_srv("x", 1, 0), _srv("y", 1, 0), _srv("z", 1, 0)]
    assert sort_srv(list(records)) == records
