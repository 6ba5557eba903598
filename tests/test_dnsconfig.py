"""resolv.conf and Go's name rules (Go's dnsconfig_unix_test.go, dnsname_test.go).

nsswitch.conf and the choice between the pure resolver and libc are in test_conf.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from trionet._resolver._dnsconfig import (
    DEFAULT_NS,
    DNSConfig,
    ResolvConf,
    avoid_dns,
    is_domain_name,
    parse_dns_config,
    read_dns_config,
)

# Go's testdata/resolv.conf (abridged to what Linux accepts).
GO_RESOLV_CONF = """\
# /etc/resolv.conf

domain localdomain
nameserver 8.8.8.8
nameserver 2001:4860:4860::8888
nameserver fe80::1%lo0
options ndots:5 timeout:10 attempts:3 rotate
options attempts 3
"""


def test_go_resolv_conf() -> None:
    conf = parse_dns_config(GO_RESOLV_CONF, "host.example.com")
    assert conf.servers == ["8.8.8.8:53", "[2001:4860:4860::8888]:53", "[fe80::1%lo0]:53"]
    assert conf.search == ["localdomain."]
    assert (conf.ndots, conf.timeout, conf.attempts, conf.rotate) == (5, 10.0, 3, True)
    assert conf.unknown_opt  # "attempts" without a colon


def test_defaults_when_empty() -> None:
    conf = parse_dns_config("", "host.domain.test")
    assert conf.servers == list(DEFAULT_NS) == ["127.0.0.1:53", "[::1]:53"]
    assert conf.search == ["domain.test."]  # Go's dnsDefaultSearch: the host name's domain
    assert (conf.ndots, conf.timeout, conf.attempts) == (1, 5.0, 2)
    assert [conf.rotate, conf.single_request, conf.use_tcp, conf.trust_ad, conf.unknown_opt] == [False] * 5
    assert parse_dns_config("", "host").search == []
    assert parse_dns_config("", "host.").search == []


def test_missing_file(tmp_path: Path) -> None:
    conf = read_dns_config(str(tmp_path / "nope"), hostname="h")
    assert isinstance(conf.err, FileNotFoundError)
    assert conf.servers == list(DEFAULT_NS)


@pytest.mark.parametrize(
    ("options", "field", "want"),
    [
        ("ndots:-1", "ndots", 0),  # Go's negative-ndots: dtoi stops at '-' → 0
        ("ndots:16", "ndots", 15),  # large-ndots: clamped
        ("ndots:", "ndots", 0),  # invalid-ndots
        ("ndots:3", "ndots", 3),
        ("ndots:" + "1" * 5000, "ndots", 15),  # Go's dtoi caps at 0xFFFFFF; int() would refuse
        ("timeout:" + "9" * 5000, "timeout", float(0xFFFFFF)),
        ("timeout:0", "timeout", 1.0),
        ("timeout:30", "timeout", 30.0),
        ("attempts:0", "attempts", 1),
        ("attempts:5", "attempts", 5),
        ("single-request", "single_request", True),
        ("single-request-reopen", "single_request", True),
        ("use-vc", "use_tcp", True),
        ("usevc", "use_tcp", True),
        ("tcp", "use_tcp", True),
        ("trust-ad", "trust_ad", True),
        ("no-reload", "no_reload", True),
        ("edns0", "unknown_opt", False),
        ("inet6", "unknown_opt", True),
    ],
)
def test_options(options: str, field: str, want: object) -> None:
    conf = parse_dns_config(f"nameserver 127.0.0.1\noptions {options}\n")
    assert getattr(conf, field) == want


def test_servers_limit_and_literals() -> None:
    text = "".join(f"nameserver 127.0.0.{i}\n" for i in range(1, 6)) + "nameserver not-an-ip\n"
    assert parse_dns_config(text).servers == ["127.0.0.1:53", "127.0.0.2:53", "127.0.0.3:53"]
    assert parse_dns_config("nameserver bogus\n").servers == list(DEFAULT_NS)


def test_search_and_domain() -> None:
    assert parse_dns_config("search a.test b.test.\n").search == ["a.test.", "b.test."]
    # Go's search-single-dot-resolv.conf: "." is dropped, then the default search applies.
    assert parse_dns_config("search .\n", "h.dom.test").search == ["dom.test."]
    assert parse_dns_config("domain x.test\nsearch y.test\n").search == ["y.test."]
    assert parse_dns_config("search y.test\ndomain x.test\n").search == ["x.test."]


@pytest.mark.parametrize(
    ("name", "ndots", "search", "want"),
    [
        ("www", 1, ["a.test."], ["www.a.test.", "www."]),
        ("www.example", 1, ["a.test."], ["www.example.", "www.example.a.test."]),
        ("www.example", 2, ["a.test."], ["www.example.a.test.", "www.example."]),
        ("www.example.", 1, ["a.test."], ["www.example."]),
        ("x.onion", 1, ["a.test."], ["x.onion.a.test."]),
        ("x.onion.", 1, [], []),
        ("x.ONION", 0, [], []),
    ],
)
def test_name_list(name: str, ndots: int, search: list[str], want: list[str]) -> None:
    assert DNSConfig(ndots=ndots, search=search).name_list(name) == want


def test_name_list_length() -> None:
    conf = DNSConfig(search=["a.test."])
    assert conf.name_list("a" * 254) == []
    assert conf.name_list("a" * 253 + ".") == ["a" * 253 + "."]


def test_rotate_offset() -> None:
    conf = DNSConfig(rotate=True)
    assert [conf.server_offset() for _ in range(3)] == [0, 1, 2]
    assert [DNSConfig().server_offset() for _ in range(2)] == [0, 0]


_C63 = "a" * 63
_LONG = (_C63 + ".") * 5 + "example"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        # Go's dnsNameTests (RFC 2181 §11) and emitDNSNameTest.
        ("_xmpp-server._tcp.google.com", True),
        ("foo.com", True),
        ("1foo.com", True),
        ("26.0.0.73.com", True),
        ("10-0-0-1", True),
        ("fo-o.com", True),
        ("fo1o.com", True),
        ("foo1.com", True),
        ("a.b..com", False),
        ("a.b-.com", False),
        ("a.b.com-", False),
        ("a.b..", False),
        ("b.com.", True),
        (_C63 + ".com", True),
        ("a" + _C63 + ".com", False),
        (_LONG[-253:], True),
        (_LONG[-253:] + ".", True),
        (_LONG[-254:], False),
        ("", False),
        (".", True),
        ("127.0.0.1", False),  # all-numeric
        ("1-2", True),  # a dash is not numeric (Go)
        ("0-0.1", True),
        ("1_2", True),
        ("-a.com", False),
        ("a b.com", False),
        ("ünï.com", False),
    ],
)
def test_is_domain_name(name: str, ok: bool) -> None:
    assert is_domain_name(name) is ok


def _go_is_domain_name(s: str) -> bool:
    """Go's ``isDomainName`` as Go writes it, a character at a time: the reference for the
    compiled pattern that trionet uses."""
    if s == ".":
        return True
    n = len(s)
    if n == 0 or n > 254 or (n == 254 and s[-1] != "."):
        return False
    last, non_numeric, partlen = ".", False, 0
    for c in s:
        if ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_":
            non_numeric = True
            partlen += 1
        elif "0" <= c <= "9":
            partlen += 1
        elif c == "-":
            if last == ".":
                return False
            partlen += 1
            non_numeric = True
        elif c == ".":
            if last in ".-" or partlen > 63 or partlen == 0:
                return False
            partlen = 0
        else:
            return False
        last = c
    return last != "-" and partlen <= 63 and non_numeric


# Names built from the characters that matter (a label alphabet, dots, dashes, digits, one
# non-ASCII letter), with labels near the 63 limit and names near the 254 limit.
_NAME_PARTS = st.one_of(
    st.text(alphabet="a1-_.", max_size=12),
    st.sampled_from(["a" * 62, "a" * 63, "a" * 64, "-", ".", "..", "9", "ü", "\n", " "]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_NAME_PARTS, max_size=24).map("".join))
@example("1-1")
@example("1.a-")
def test_is_domain_name_is_gos_loop(name: str) -> None:
    assert is_domain_name(name) is _go_is_domain_name(name)


@pytest.mark.parametrize("n", [252, 253, 254, 255])
def test_is_domain_name_total_length_is_gos(n: int) -> None:
    for name in ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".", _LONG):
        for cut in (name[-n:], name[-n:].lstrip(".")):
            assert is_domain_name(cut) is _go_is_domain_name(cut), cut


def test_avoid_dns() -> None:
    assert [avoid_dns(n) for n in ("", "x.onion", "x.onion.", "X.Onion")] == [True] * 4
    assert [avoid_dns(n) for n in ("onion", "x.test")] == [False, False]


def test_resolv_conf_reload(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\n")
    rc = ResolvConf(str(path))
    assert rc.get(0.0).servers == ["127.0.0.1:53"]
    path.write_text("nameserver 127.0.0.2\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert rc.get(4.9).servers == ["127.0.0.1:53"]  # checked at most every 5 s
    assert rc.get(5.0).servers == ["127.0.0.2:53"]


def test_resolv_conf_no_reload(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.1\noptions no-reload\n")
    rc = ResolvConf(str(path))
    first = rc.get(0.0)
    path.write_text("nameserver 127.0.0.2\n")
    assert rc.get(100.0) is first
