"""Deadline arithmetic: Go's TestDialerPartialDeadline table and the earliest-deadline rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from trionet import Dialer, partial_deadline
from trionet._deadline import SANE_MINIMUM, own_deadline

NOW = 946684800.0  # Go's table uses 2000-01-01T00:00:00Z; any clock value works the same.


@pytest.mark.parametrize(
    ("now", "deadline", "addrs", "expected"),
    [
        (NOW, NOW + 12, 1, NOW + 12),
        (NOW, NOW + 12, 2, NOW + 6),
        (NOW, NOW + 12, 3, NOW + 4),
        (NOW, NOW + 12, 999, NOW + 2),  # the sane minimum
        (NOW, NOW + 1.9, 999, NOW + 1.9),  # less than the minimum left: all of it
        (NOW, math.inf, 1, math.inf),  # no deadline (Go's zero time)
        (NOW - 0.001, NOW, 1, NOW),
    ],
    ids=["12s/1", "12s/2", "12s/3", "12s/999", "1900ms/999", "none", "1ms-left"],
)
def test_partial_deadline_table(now: float, deadline: float, addrs: int, expected: float) -> None:
    assert partial_deadline(now, deadline, addrs) == expected


@pytest.mark.parametrize(("now", "deadline"), [(NOW, NOW), (NOW + 0.001, NOW)], ids=["now", "past"])
def test_partial_deadline_no_time_left_is_io_timeout(now: float, deadline: float) -> None:
    with pytest.raises(TimeoutError) as info:
        partial_deadline(now, deadline, 1)
    assert str(info.value) == "i/o timeout"


def test_partial_deadline_rejects_no_addresses() -> None:
    with pytest.raises(ValueError, match="addrs_remaining"):
        partial_deadline(NOW, NOW + 1, 0)


@given(
    now=st.floats(-1e9, 1e9),
    left=st.floats(1e-6, 1e6),
    n=st.integers(1, 10_000),
)
def test_partial_deadline_properties(now: float, left: float, n: int) -> None:
    deadline = now + left
    if deadline <= now:
        return
    pd = partial_deadline(now, deadline, n)
    # Never past the overall deadline, and never less than the minimum unless that is all there is.
    assert pd <= deadline
    assert pd - now >= min(SANE_MINIMUM, deadline - now) - 1e-6 * max(1.0, abs(now))


@pytest.mark.parametrize(
    ("timeout", "deadline", "expected"),
    [
        (None, None, math.inf),
        (5.0, None, NOW + 5),
        (None, NOW + 3, NOW + 3),
        (5.0, NOW + 3, NOW + 3),
        (2.0, NOW + 3, NOW + 2),
        (0.0, None, NOW),  # zero: already expired (contract; Go's 0 means none, trionet's None does)
        (-5.0, None, NOW - 5),  # negative: already expired, as in Go
        (-5.0, NOW + 5, NOW - 5),
        (None, NOW - 5, NOW - 5),
        (float(1 << 63), None, NOW + float(1 << 63)),  # Go's TestDialTimeoutMaxDuration: no overflow
        (math.inf, math.inf, math.inf),
    ],
)
def test_own_deadline_is_the_earliest(timeout: float | None, deadline: float | None, expected: float) -> None:
    assert own_deadline(NOW, timeout, deadline) == expected


@pytest.mark.parametrize("field", ["timeout", "deadline", "fallback_delay", "keep_alive"])
def test_dialer_rejects_nan_and_non_numbers(field: str) -> None:
    with pytest.raises(ValueError, match="NaN"):
        Dialer(**{field: math.nan})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="number of seconds"):
        Dialer(**{field: "5"})  # type: ignore[arg-type]
