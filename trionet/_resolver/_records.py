"""The DNS records the resolver returns (SRV, MX, NS).

What may live here: the record value types (Go's ``net.SRV``, ``net.MX``, ``net.NS``) and the
order Go gives SRV records (``byPriorityWeight.sort``, RFC 2782). No I/O and no trio: reading
records out of a reply is :mod:`trionet._resolver._codec`'s job, sending the queries and
choosing what to ask :mod:`trionet._resolver._resolver`'s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["MX", "NS", "SRV", "sort_srv"]


@dataclass(frozen=True)
class SRV:
    """One SRV record (Go's ``net.SRV``)."""

    target: str
    port: int
    priority: int
    weight: int


@dataclass(frozen=True)
class MX:
    """One MX record (Go's ``net.MX``): *pref* is the preference, lower first."""

    host: str
    pref: int


@dataclass(frozen=True)
class NS:
    """One NS record (Go's ``net.NS``)."""

    host: str


def sort_srv(srvs: list[SRV]) -> list[SRV]:
    """Go's ``byPriorityWeight.sort``: by priority, then weighted random order (RFC 2782)."""
    out: list[SRV] = []
    for prio in sorted({s.priority for s in srvs}):
        group = sorted((s for s in srvs if s.priority == prio), key=lambda s: s.weight)
        total = sum(s.weight for s in group)
        while total > 0 and len(group) > 1:
            n, acc = random.randrange(total), 0
            for i, s in enumerate(group):
                acc += s.weight
                if acc > n:
                    group[0], group[i] = group[i], group[0]
                    break
            total -= group[0].weight
            out.append(group.pop(0))
        out.extend(group)
    return out
