"""Clock arithmetic for the fake network: a time that is a sum of the script's values is exact.

Binary floats drift when summed: a connect started at 0.1 with a delay of 0.05 would end at
``0.1 + 0.05 == 0.15000000000000002``, and a test asserting ``0.15`` fails for a reason that is
not the code under test. Every float's ``repr`` is the shortest decimal that round-trips, and the
script's values (``0.1``, ``0.05``) are such decimals, so the sum is taken in decimal and rounded
once: the float nearest to the decimal sum, which is what a reader of the script expects.
"""

from __future__ import annotations

import math
from decimal import Decimal

import trio

__all__ = ["after", "sleep_exact"]


def after(start: float, delay: float) -> float:
    """``start + delay`` rounded once from the decimal sum (``after(0.1, 0.05) == 0.15``)."""
    if math.isinf(start) or math.isinf(delay):
        return start + delay
    return float(Decimal(repr(start)) + Decimal(repr(delay)))


async def sleep_exact(delay: float) -> None:
    """Sleep until :func:`after` (now, *delay*): ``math.inf`` sleeps until cancelled, 0 is a
    plain checkpoint."""
    if delay == 0:
        await trio.lowlevel.checkpoint()
    elif delay == math.inf:
        await trio.sleep_forever()
    else:
        await trio.sleep_until(after(trio.current_time(), delay))
