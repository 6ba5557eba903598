"""The DNS records the resolver returns (SRV, MX, NS, TXT, PTR).

What may live here: the record value types (Go's ``net.SRV``, ``net.MX``, ``net.NS``), turning a
reply's answer into them, and the order Go gives SRV records (``byPriorityWeight.sort``,
RFC 2782). No I/O and no trio: finding the typed records of class IN in a reply is
:mod:`trionet._resolver._codec`'s job, checking names and asking
:mod:`trionet._resolver._resolver`'s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import dns.message
import dns.rdatatype

from ._codec import answer_rdatas, rdatas_in

__all__ = [
    "MX",
    "NS",
    "SRV",
    "mx_records",
    "ns_records",
    "ptr_names",
    "sort_srv",
    "srv_records",
    "txt_records",
]


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


def srv_records(msg: dns.message.Message) -> tuple[str, list[SRV]]:
    """(owner name of the first SRV records, every SRV record) in answer order."""
    cname, srvs = "", list[SRV]()
    for rrset in msg.answer:
        found = rdatas_in(rrset) if rrset.rdtype == dns.rdatatype.SRV else []
        if found:
            cname = cname or str(rrset.name.to_text())
            srvs.extend(SRV(str(rd.target.to_text()), rd.port, rd.priority, rd.weight) for rd in found)
    return cname, srvs


def mx_records(msg: dns.message.Message) -> list[MX]:
    """The MX records in answer order."""
    return [MX(str(rd.exchange.to_text()), int(rd.preference)) for rd in answer_rdatas(msg, dns.rdatatype.MX)]


def ns_records(msg: dns.message.Message) -> list[NS]:
    """The NS records in answer order."""
    return [NS(str(rd.target.to_text())) for rd in answer_rdatas(msg, dns.rdatatype.NS)]


def txt_records(msg: dns.message.Message) -> list[str]:
    """Each TXT record's strings joined (Go), decoded as UTF-8 with replacement characters."""
    return [b"".join(rd.strings).decode("utf-8", "replace") for rd in answer_rdatas(msg, dns.rdatatype.TXT)]


def ptr_names(msg: dns.message.Message) -> list[str]:
    """The PTR records' targets in answer order."""
    return [str(rd.target.to_text()) for rd in answer_rdatas(msg, dns.rdatatype.PTR)]
