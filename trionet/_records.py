"""The DNS records the resolver returns (SRV, MX, NS), and reading rdatas out of answers.

What may live here: the record value types (Go's ``net.SRV``, ``net.MX``, ``net.NS``), typed
access to dnspython's rdatas (whose fields are set dynamically, so untyped), and the order Go
gives SRV records (``byPriorityWeight.sort``, RFC 2782). No I/O and no trio: sending the queries
and choosing what to ask is :mod:`trionet._resolver`'s job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import dns.message
import dns.rdatatype
import dns.rrset

__all__ = ["MX", "NS", "SRV", "answer_rdatas", "rdatas_of", "sort_srv"]


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


def rdatas_of(rrset: dns.rrset.RRset) -> list[Any]:
    """The rdatas of *rrset*; dnspython's rdata classes set their fields dynamically (untyped)."""
    return list(rrset)


def answer_rdatas(msg: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> list[Any]:
    """Every rdata of type *rdtype* in the answer section."""
    return [rd for rrset in msg.answer if rrset.rdtype == rdtype for rd in rdatas_of(rrset)]


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
