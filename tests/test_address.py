"""Go's address tables: TestSplitHostPort, TestJoinHostPort, parsePort, LookupPort, Addr strings."""

from __future__ import annotations

import ipaddress

import pytest

from trionet import AddrError, DNSError, IPAddr, TCPAddr, UDPAddr, UnixAddr, join_host_port, split_host_port
from trionet._address import lookup_port_static, parse_ip, parse_port
from trionet._sockaddr import sockaddr_for

# ip_test.go TestSplitHostPort: (hostport, host, port)
SPLIT_OK = [
    ("localhost:http", "localhost", "http"),
    ("localhost:80", "localhost", "80"),
    ("localhost%lo0:http", "localhost%lo0", "http"),
    ("localhost%lo0:80", "localhost%lo0", "80"),
    ("[localhost%lo0]:http", "localhost%lo0", "http"),
    ("[localhost%lo0]:80", "localhost%lo0", "80"),
    ("127.0.0.1:http", "127.0.0.1", "http"),
    ("127.0.0.1:80", "127.0.0.1", "80"),
    ("[::1]:http", "::1", "http"),
    ("[::1]:80", "::1", "80"),
    ("[::1%lo0]:http", "::1%lo0", "http"),
    ("[::1%lo0]:80", "::1%lo0", "80"),
    (":http", "", "http"),
    (":80", "", "80"),
    ("golang.org:", "golang.org", ""),
    ("127.0.0.1:", "127.0.0.1", ""),
    ("[::1]:", "::1", ""),
    ("golang.org:https%foo", "golang.org", "https%foo"),
]

SPLIT_ERR = [
    ("golang.org", "missing port in address"),
    ("127.0.0.1", "missing port in address"),
    ("[::1]", "missing port in address"),
    ("[fe80::1%lo0]", "missing port in address"),
    ("[localhost%lo0]", "missing port in address"),
    ("localhost%lo0", "missing port in address"),
    ("::1", "too many colons in address"),
    ("fe80::1%lo0", "too many colons in address"),
    ("fe80::1%lo0:80", "too many colons in address"),
    ("[foo:bar]", "missing port in address"),
    ("[foo:bar]baz", "missing port in address"),
    ("[foo]bar:baz", "missing port in address"),
    ("[foo]:[bar]:baz", "too many colons in address"),
    ("[foo]:[bar]baz", "unexpected '[' in address"),
    ("foo[bar]:baz", "unexpected '[' in address"),
    ("foo]bar:baz", "unexpected ']' in address"),
    ("[::1:80", "missing ']' in address"),
]

JOIN = [
    ("localhost", "http", "localhost:http"),
    ("localhost%lo0", "80", "localhost%lo0:80"),
    ("127.0.0.1", "80", "127.0.0.1:80"),
    ("::1", "80", "[::1]:80"),
    ("::1%lo0", "80", "[::1%lo0]:80"),
    ("", "80", ":80"),
    ("golang.org", "", "golang.org:"),
    ("::1", "", "[::1]:"),
    ("golang.org", "https%foo", "golang.org:https%foo"),
]


@pytest.mark.parametrize(("hostport", "host", "port"), SPLIT_OK)
def test_split_host_port_ok(hostport: str, host: str, port: str) -> None:
    assert split_host_port(hostport) == (host, port)


@pytest.mark.parametrize(("hostport", "why"), SPLIT_ERR)
def test_split_host_port_errors(hostport: str, why: str) -> None:
    with pytest.raises(AddrError) as info:
        split_host_port(hostport)
    assert info.value.err == why
    assert info.value.addr == hostport
    assert str(info.value) == f"address {hostport}: {why}"
    assert isinstance(info.value, OSError)


@pytest.mark.parametrize(("host", "port", "joined"), JOIN)
def test_join_host_port(host: str, port: str, joined: str) -> None:
    assert join_host_port(host, port) == joined
    # The round trip holds for every joined value that has a port.
    if port:
        assert split_host_port(joined) == (host, port)


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("", (0, False)),
        ("0", (0, False)),
        ("80", (80, False)),
        ("+80", (80, False)),
        ("-1", (-1, False)),
        ("65536", (65536, False)),
        ("123456789", (123456789, False)),
        ("99999999999999999999", ((1 << 30) - 1, False)),  # saturates, never overflows
        ("-99999999999999999999", (-(1 << 30), False)),
        ("http", (0, True)),
        ("8o", (0, True)),
        ("☺", (0, True)),
        ("٣", (0, True)),  # a non-ASCII digit is not a digit for Go
    ],
)
def test_parse_port(service: str, expected: tuple[int, bool]) -> None:
    assert parse_port(service) == expected


def test_lookup_port_numbers_names_and_errors() -> None:
    assert lookup_port_static("tcp", "443") == 443
    assert lookup_port_static("tcp", "HTTPS") == 443  # case-insensitive
    assert lookup_port_static("udp", "domain") == 53
    assert lookup_port_static("tcp", "") == 0
    with pytest.raises(AddrError) as info:
        lookup_port_static("tcp", "65536")
    assert str(info.value) == "address 65536: invalid port"
    with pytest.raises(AddrError) as info:
        lookup_port_static("tcp", "-1")
    assert str(info.value) == "address -1: invalid port"
    with pytest.raises(DNSError) as dns:
        lookup_port_static("tcp4", "nosuchsvc")
    assert str(dns.value) == "lookup tcp/nosuchsvc: unknown port"
    assert dns.value.is_not_found
    with pytest.raises(AddrError) as info:
        lookup_port_static("sctp", "http")
    assert str(info.value) == "address sctp: unknown network"


def test_lookup_port_builtin_table_without_services_file(tmp_path: object) -> None:
    # Go falls back to its built-in table when /etc/services lacks an entry.
    assert lookup_port_static("tcp", "submissions", services_file="/nonexistent/services") == 465
    assert lookup_port_static("ip", "domain", services_file="/nonexistent/services") == 53


@pytest.mark.parametrize(
    ("text", "ip", "zone"),
    [
        ("127.0.0.1", "127.0.0.1", ""),
        ("::1", "::1", ""),
        ("fe80::1%eth0", "fe80::1", "eth0"),
        ("::ffff:127.0.0.1", "127.0.0.1", ""),  # Go's To4(): IPv4-mapped is IPv4
        ("::ffff:0.0.0.0", "0.0.0.0", ""),
    ],
)
def test_parse_ip(text: str, ip: str, zone: str) -> None:
    assert parse_ip(text) == (ipaddress.ip_address(ip), zone)


@pytest.mark.parametrize("text", ["localhost", "", "1.2.3", "01.2.3.4", "127.0.0.1%eth0", "::1%", "[::1]"])
def test_parse_ip_rejects(text: str) -> None:
    assert parse_ip(text) is None


def test_addr_strings_follow_go() -> None:
    assert str(TCPAddr("127.0.0.1", 80)) == "127.0.0.1:80"
    assert str(TCPAddr("::1", 80)) == "[::1]:80"
    assert str(TCPAddr("fe80::1%eth0", 80)) == "[fe80::1%eth0]:80"
    assert str(TCPAddr()) == ":0"
    assert str(TCPAddr("::")) == "[::]:0"
    assert str(UDPAddr("::ffff:10.0.0.1", 53)) == "10.0.0.1:53"
    assert str(IPAddr("fe80::1", zone="eth0")) == "fe80::1%eth0"
    assert str(IPAddr()) == ""
    assert str(UnixAddr("/run/x.sock")) == "/run/x.sock"
    assert [a.network for a in (TCPAddr(), UDPAddr(), IPAddr(), UnixAddr("x", "unixgram"))] == [
        "tcp",
        "udp",
        "ip",
        "unixgram",
    ]


def test_addr_values_compare_and_hash() -> None:
    assert TCPAddr("127.0.0.1", 1) == TCPAddr(ipaddress.IPv4Address("127.0.0.1"), 1)
    assert TCPAddr("127.0.0.1", 1) != UDPAddr("127.0.0.1", 1)
    assert len({TCPAddr("::1", 2), TCPAddr("::1", 2), TCPAddr("::1", 3)}) == 2
    assert UnixAddr("a") != UnixAddr("a", "unixgram")


def test_addr_bad_values_fail_fast() -> None:
    with pytest.raises(ValueError, match="IP address literal"):
        TCPAddr("localhost", 80)
    with pytest.raises(TypeError, match="port must be an int"):
        TCPAddr("127.0.0.1", "80")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="net must be"):
        UnixAddr("x", "tcp")


def test_unix_abstract_names() -> None:
    assert UnixAddr("@trionet").sockaddr() == b"\0trionet"
    assert UnixAddr("/tmp/s").sockaddr() == "/tmp/s"


def test_sockaddr_for_follows_ip_to_sockaddr() -> None:
    import socket

    v4 = ipaddress.IPv4Address("127.0.0.1")
    v6 = ipaddress.IPv6Address("::1")
    assert sockaddr_for(socket.AF_INET, None, 80, "") == ("0.0.0.0", 80)
    assert sockaddr_for(socket.AF_INET, v4, 80, "") == ("127.0.0.1", 80)
    assert sockaddr_for(socket.AF_INET6, None, 80, "") == ("::", 80, 0, 0)
    assert sockaddr_for(socket.AF_INET6, ipaddress.IPv4Address("0.0.0.0"), 80, "") == ("::", 80, 0, 0)
    assert sockaddr_for(socket.AF_INET6, v4, 80, "") == ("::ffff:127.0.0.1", 80, 0, 0)
    assert sockaddr_for(socket.AF_INET6, v6, 80, "1") == ("::1", 80, 0, 1)
    with pytest.raises(AddrError) as info:
        sockaddr_for(socket.AF_INET, v6, 80, "")
    assert str(info.value) == "address ::1: non-IPv4 address"
