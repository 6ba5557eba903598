"""RFC 6724 ordering: Go's addrselect_test.go tables."""

from __future__ import annotations

import ipaddress

import pytest

from trionet import IPAddr
from trionet._resolver._addrselect import (
    POLICY_TABLE,
    SCOPE_ADMIN_LOCAL,
    SCOPE_GLOBAL,
    SCOPE_LINK_LOCAL,
    SCOPE_SITE_LOCAL,
    classify,
    classify_scope,
    common_prefix_len,
    sort_by_rfc6724,
)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


SORT_CASES = [
    # (in, srcs, want, also reversed) — Go's TestSortByRFC6724.
    (
        ["2001:db8:1::1", "198.51.100.121"],
        ["2001:db8:1::2", "169.254.13.78"],
        ["2001:db8:1::1", "198.51.100.121"],
        True,
    ),
    (
        ["2001:db8:1::1", "198.51.100.121"],
        ["fe80::1", "198.51.100.117"],
        ["198.51.100.121", "2001:db8:1::1"],
        True,
    ),
    (["2001:db8:1::1", "10.1.2.3"], ["2001:db8:1::2", "10.1.2.4"], ["2001:db8:1::1", "10.1.2.3"], True),
    (["2001:db8:1::1", "fe80::1"], ["2001:db8:1::2", "fe80::2"], ["fe80::1", "2001:db8:1::1"], True),
    (
        ["54.83.193.112", "184.72.238.214", "23.23.172.185", "75.101.148.21", "23.23.134.56", "23.21.50.150"],
        ["10.2.3.4"] * 6,
        ["54.83.193.112", "184.72.238.214", "23.23.172.185", "75.101.148.21", "23.23.134.56", "23.21.50.150"],
        False,
    ),
]


@pytest.mark.parametrize(("ins", "srcs", "want", "reverse"), SORT_CASES)
def test_sort_by_rfc6724(ins: list[str], srcs: list[str], want: list[str], reverse: bool) -> None:
    addrs = [IPAddr(a) for a in ins]
    sources = [ip(s) for s in srcs]
    assert [str(a) for a in sort_by_rfc6724(addrs, sources)] == want
    if reverse:
        assert [str(a) for a in sort_by_rfc6724(addrs[::-1], sources[::-1])] == want


def test_unusable_last_and_stable() -> None:
    # Rule 1: a destination without a source (no route) goes last; ties keep their order.
    addrs = [IPAddr("2001:db8::1"), IPAddr("192.0.2.1"), IPAddr("192.0.2.2")]
    got = sort_by_rfc6724(addrs, [None, ip("192.0.2.100"), ip("192.0.2.100")])
    assert [str(a) for a in got] == ["192.0.2.1", "192.0.2.2", "2001:db8::1"]
    assert sort_by_rfc6724(addrs, [None, None, None]) == addrs


def test_loopback_prefers_ipv6() -> None:
    # Precedence 50 (::1) beats 35 (IPv4): why "localhost" dials ::1 first.
    got = sort_by_rfc6724([IPAddr("127.0.0.1"), IPAddr("::1")], [ip("127.0.0.1"), ip("::1")])
    assert [str(a) for a in got] == ["::1", "127.0.0.1"]


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="one source per address"):
        sort_by_rfc6724([IPAddr("::1")], [])


def test_policy_table_content_and_order() -> None:
    # Go's TestRFC6724PolicyTableContent and ...Order (longest prefix first).
    # Compared as networks: Python 3.13 prints ::ffff:0:0/96 as ::ffff:0.0.0.0/96.
    assert [(e.prefix, e.precedence, e.label) for e in POLICY_TABLE] == [
        (ipaddress.IPv6Network(prefix), precedence, label)
        for prefix, precedence, label in [
            ("::1/128", 50, 0),
            ("::ffff:0:0/96", 35, 4),
            ("::/96", 1, 3),
            ("2001::/32", 5, 5),
            ("2002::/16", 30, 2),
            ("3ffe::/16", 1, 12),
            ("fec0::/10", 1, 11),
            ("fc00::/7", 3, 13),
            ("::/0", 40, 1),
        ]
    ]
    bits = [e.prefix.prefixlen for e in POLICY_TABLE]
    assert bits == sorted(bits, reverse=True)


@pytest.mark.parametrize(
    ("addr", "prefix", "precedence", "label"),
    [
        ("127.0.0.1", "::ffff:0:0/96", 35, 4),
        ("2601:645:8002:a500:986f:1db8:c836:bd65", "::/0", 40, 1),
        ("::1", "::1/128", 50, 0),
        ("2002::ab12", "2002::/16", 30, 2),
    ],
)
def test_classify(addr: str, prefix: str, precedence: int, label: int) -> None:
    entry = classify(ip(addr))
    assert (entry.prefix, entry.precedence, entry.label) == (ipaddress.IPv6Network(prefix), precedence, label)


@pytest.mark.parametrize(
    ("addr", "scope"),
    [
        ("127.0.0.1", SCOPE_LINK_LOCAL),
        ("::1", SCOPE_LINK_LOCAL),
        ("169.254.1.2", SCOPE_LINK_LOCAL),
        ("fec0::1", SCOPE_SITE_LOCAL),
        ("8.8.8.8", SCOPE_GLOBAL),
        ("ff02::", SCOPE_LINK_LOCAL),
        ("ff05::", SCOPE_SITE_LOCAL),
        ("ff04::", SCOPE_ADMIN_LOCAL),
        ("ff0e::", SCOPE_GLOBAL),
        ("::ffff:224.0.0.0", SCOPE_GLOBAL),  # IPv4 multicast as 16 bytes
        ("::ffff:224.2.2.2", SCOPE_GLOBAL),
        ("224.0.0.0", SCOPE_GLOBAL),
        ("224.2.2.2", SCOPE_GLOBAL),
        ("fe80::1", SCOPE_LINK_LOCAL),
    ],
)
def test_classify_scope(addr: str, scope: int) -> None:
    assert classify_scope(ip(addr)) == scope


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("fe80::1", "fe80::2", 64),
        ("fe81::1", "fe80::2", 15),
        ("127.0.0.1", "fe80::1", 0),
        ("1.2.3.4", "1.2.3.4", 32),
        ("1.2.255.255", "1.2.0.0", 16),
        ("1.2.127.255", "1.2.0.0", 17),
        ("1.2.63.255", "1.2.0.0", 18),
        ("1.2.31.255", "1.2.0.0", 19),
        ("1.2.15.255", "1.2.0.0", 20),
        ("1.2.7.255", "1.2.0.0", 21),
        ("1.2.3.255", "1.2.0.0", 22),
        ("1.2.1.255", "1.2.0.0", 23),
        ("1.2.0.255", "1.2.0.0", 24),
    ],
)
def test_common_prefix_len(a: str, b: str, want: int) -> None:
    assert common_prefix_len(ip(a), ip(b)) == want
