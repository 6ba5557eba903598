"""Deadline arithmetic for a dial: the dialer's own deadline and Go's ``partialDeadline``.

Pure functions of numbers on Trio's clock; ``math.inf`` means "no deadline", as everywhere in
Trio. Go's zero ``time.Time`` plays that role in ``dial.go``.
"""

from __future__ import annotations

import math
import sys
from typing import Final

from ._errors import io_timeout

__all__ = ["SANE_MINIMUM", "check_duration", "own_deadline", "partial_deadline"]

# Go (dial.go, partialDeadline): "If the time per address is too short, steal from the end of
# the list." No address gets less than this unless less than this is left in total.
SANE_MINIMUM: Final = 2.0

_FLOAT_MAX: Final = sys.float_info.max


def check_duration(name: str, value: float | None) -> None:
    """Reject what cannot be a duration at construction, not mid-dial: a non-number (TypeError),
    NaN, or an int too large for a float such as ``10**400`` (ValueError). Infinities are
    durations: ``math.inf`` never expires, ``-math.inf`` has already."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if isinstance(value, int) and not -_FLOAT_MAX <= value <= _FLOAT_MAX:
        # 10**400 is an int no float can hold: every deadline computation would raise
        # OverflowError mid-dial. Say so now (math.inf is the way to spell "forever").
        raise ValueError(f"{name} is too large to be a number of seconds (use None or math.inf)")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")


def own_deadline(now: float, timeout: float | None, deadline: float | None) -> float:
    """The earliest of ``now + timeout`` and ``deadline`` (Go's ``Dialer.deadline`` without ctx).

    None means "not set". Any timeout is used, including zero and negative ones, which give a
    deadline already in the past (Go: "including negative, for historical reasons"). Huge values
    cannot overflow: they are floats, and ``math.inf`` is "never".
    """
    earliest = math.inf
    if timeout is not None:
        earliest = now + timeout
    if deadline is not None and deadline < earliest:
        earliest = deadline
    return earliest


def partial_deadline(now: float, deadline: float, addrs_remaining: int) -> float:
    """The deadline for one connect attempt when *addrs_remaining* addresses share the time left.

    Go's ``partialDeadline``: each remaining address gets an equal share of the time until
    *deadline*, but at least 2 seconds (Go's ``saneMinimum``) — the time is stolen from the end of the
    list — and never more than what is left.

    Args:
        now: the current time (``trio.current_time()``).
        deadline: the dial's deadline; ``math.inf`` means none, and the result is then
            ``math.inf``.
        addrs_remaining: how many addresses, this one included, still share the time (>= 1).

    Raises:
        TimeoutError: ``i/o timeout`` when no time is left (``deadline <= now``).
        ValueError: *addrs_remaining* below 1.

    >>> partial_deadline(0.0, 12.0, 3)
    4.0
    >>> partial_deadline(0.0, 12.0, 999)
    2.0
    """
    if addrs_remaining < 1:
        raise ValueError(f"addrs_remaining must be at least 1, not {addrs_remaining!r}")
    if deadline == math.inf:
        return math.inf
    remaining = deadline - now
    if remaining <= 0:
        raise io_timeout()
    timeout = max(remaining / addrs_remaining, SANE_MINIMUM)
    if timeout >= remaining:
        # Return the deadline itself, not now + (deadline - now), which can be off by one ulp.
        return deadline
    return now + timeout
