"""RFC 6724 destination address ordering (Go's ``addrselect.go``), with sources passed in.

Pure: no trio, no sockets. The resolver finds each destination's source address (by
UDP-"connecting" a socket to it, which sends nothing) and hands both lists to
:func:`sort_by_rfc6724`. Go implements rules 1, 2, 5, 6, 8, 9 (IPv6 only, golang/go#13283 and
#18518) and 10; rules 3, 4 and 7 need interface state it does not have, and neither do we.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from typing import Final, NamedTuple

from .._address import IP, IPAddr

__all__ = [
    "POLICY_TABLE",
    "PolicyEntry",
    "classify",
    "classify_scope",
    "common_prefix_len",
    "sort_by_rfc6724",
]

SCOPE_INTERFACE_LOCAL: Final = 0x1
SCOPE_LINK_LOCAL: Final = 0x2
SCOPE_ADMIN_LOCAL: Final = 0x4
SCOPE_SITE_LOCAL: Final = 0x5
SCOPE_ORG_LOCAL: Final = 0x8
SCOPE_GLOBAL: Final = 0xE


class PolicyEntry(NamedTuple):
    """One row of the RFC 6724 §2.1 policy table."""

    prefix: ipaddress.IPv6Network
    precedence: int
    label: int


def _row(prefix: str, precedence: int, label: int) -> PolicyEntry:
    return PolicyEntry(ipaddress.IPv6Network(prefix), precedence, label)


# Longest prefix first, so the first match is the most specific one (Go's TestRFC6724PolicyTableOrder).
POLICY_TABLE: Final = (
    _row("::1/128", 50, 0),
    _row("::ffff:0:0/96", 35, 4),
    _row("::/96", 1, 3),
    _row("2001::/32", 5, 5),
    _row("2002::/16", 30, 2),
    _row("3ffe::/16", 1, 12),
    _row("fec0::/10", 1, 11),
    _row("fc00::/7", 3, 13),
    _row("::/0", 40, 1),
)


def _as4(ip: IP) -> ipaddress.IPv4Address | None:
    """The IPv4 address of *ip* (itself, or the IPv4 inside an IPv4-mapped IPv6 address)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    return ip.ipv4_mapped


def _as16(ip: IP) -> ipaddress.IPv6Address:
    v4 = _as4(ip)
    if v4 is not None:
        return ipaddress.IPv6Address(b"\x00" * 10 + b"\xff\xff" + v4.packed)
    assert isinstance(ip, ipaddress.IPv6Address)
    return ip


@functools.lru_cache(maxsize=1024)
def classify(ip: IP) -> PolicyEntry:
    """Go's ``policyTable.Classify``: the policy row for *ip* (IPv4 as ``::ffff:a.b.c.d``)."""
    v6 = _as16(ip)
    for entry in POLICY_TABLE:
        if v6 in entry.prefix:
            return entry
    raise AssertionError("::/0 matches everything")  # pragma: no cover


@functools.lru_cache(maxsize=1024)
def classify_scope(ip: IP) -> int:
    """Go's ``classifyScope``: loopback and link-local are link-local (2); IPv6 multicast uses
    its scope nibble; ``fec0::/10`` is site-local (5); everything else global (0xe)."""
    v4 = _as4(ip)
    if v4 is not None:
        return SCOPE_LINK_LOCAL if v4.is_loopback or v4.is_link_local else SCOPE_GLOBAL
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.is_loopback or (ip.packed[0] == 0xFE and ip.packed[1] & 0xC0 == 0x80):
        return SCOPE_LINK_LOCAL
    if ip.is_multicast:
        return ip.packed[1] & 0xF
    if ip.packed[0] == 0xFE and ip.packed[1] & 0xC0 == 0xC0:
        return SCOPE_SITE_LOCAL
    return SCOPE_GLOBAL


def common_prefix_len(a: IP, b: IP) -> int:
    """Go's ``commonPrefixLen``: leading equal bits; 0 across families; IPv6 looks at 64 bits only."""
    a4, b4 = _as4(a), _as4(b)
    if (a4 is None) != (b4 is None):
        return 0
    if a4 is not None and b4 is not None:
        x, y, bits = int(a4), int(b4), 32
    else:
        # RFC 6724 rule 9 compares only up to the prefix length (64) of the source.
        x, y, bits = int(_as16(a)) >> 64, int(_as16(b)) >> 64, 64
    diff = x ^ y
    return bits - diff.bit_length()


class _Attr(NamedTuple):
    scope: int
    precedence: int
    label: int


@functools.lru_cache(maxsize=1024)  # classify walks the policy table with ipaddress compares
def _attr(ip: IP) -> _Attr:
    entry = classify(ip)
    return _Attr(classify_scope(ip), entry.precedence, entry.label)


def _prefer_first(da: IP, sa: IP | None, db: IP, sb: IP | None) -> int:
    """Go's ``compareByRFC6724``: -1 prefers DA, 1 prefers DB, 0 keeps the order (rule 10)."""
    if sa is None and sb is None:
        return 0
    if sb is None:  # rule 1: avoid unusable destinations
        return -1
    if sa is None:
        return 1
    ada, adb, asa, asb = _attr(da), _attr(db), _attr(sa), _attr(sb)
    # Rule 2: prefer matching scope.
    if ada.scope == asa.scope and adb.scope != asb.scope:
        return -1
    if ada.scope != asa.scope and adb.scope == asb.scope:
        return 1
    # Rules 3 (deprecated) and 4 (home addresses) need interface state: not implemented (Go).
    # Rule 5: prefer matching label.
    if asa.label == ada.label and asb.label != adb.label:
        return -1
    if asa.label != ada.label and asb.label == adb.label:
        return 1
    # Rule 6: prefer higher precedence.
    if ada.precedence != adb.precedence:
        return -1 if ada.precedence > adb.precedence else 1
    # Rule 7 (native transport) not implemented (Go). Rule 8: prefer smaller scope.
    if ada.scope != adb.scope:
        return -1 if ada.scope < adb.scope else 1
    # Rule 9: longest matching prefix, for IPv6 only (golang/go#13283, #18518).
    if _as4(da) is None and _as4(db) is None:
        ca, cb = common_prefix_len(sa, da), common_prefix_len(sb, db)
        if ca != cb:
            return -1 if ca > cb else 1
    return 0  # rule 10: otherwise leave the order unchanged


def sort_by_rfc6724(addrs: Sequence[IPAddr], srcs: Sequence[IP | None]) -> list[IPAddr]:
    """Go's ``sortByRFC6724withSrcs``: *addrs* stably sorted, *srcs[i]* being the source address
    the kernel would use for *addrs[i]* (None: unreachable, sorted last by rule 1).

    Raises:
        ValueError: the two sequences differ in length.
    """
    if len(addrs) != len(srcs):
        raise ValueError("sort_by_rfc6724 needs one source per address")
    if len(addrs) < 2:
        return list(addrs)
    items: list[tuple[IPAddr, IP | None]] = list(zip(addrs, srcs, strict=True))

    def compare(x: tuple[IPAddr, IP | None], y: tuple[IPAddr, IP | None]) -> int:
        return _prefer_first(_ip(x[0]), x[1], _ip(y[0]), y[1])

    items.sort(key=functools.cmp_to_key(compare))  # list.sort is stable, like Go's slices.SortStableFunc
    return [addr for addr, _ in items]


def _ip(addr: IPAddr) -> IP:
    ip = addr.ip
    return ip if ip is not None else ipaddress.IPv4Address(0)
