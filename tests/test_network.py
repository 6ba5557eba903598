"""Go's parseNetwork: the twelve networks, ip:proto by number and by name, and the errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from trionet import AddrError, UnknownNetworkError, parse_network


@pytest.mark.parametrize(
    ("network", "afnet", "family", "socktype"),
    [
        ("tcp", "tcp", socket.AF_UNSPEC, socket.SOCK_STREAM),
        ("tcp4", "tcp4", socket.AF_INET, socket.SOCK_STREAM),
        ("tcp6", "tcp6", socket.AF_INET6, socket.SOCK_STREAM),
        ("udp", "udp", socket.AF_UNSPEC, socket.SOCK_DGRAM),
        ("udp4", "udp4", socket.AF_INET, socket.SOCK_DGRAM),
        ("udp6", "udp6", socket.AF_INET6, socket.SOCK_DGRAM),
        ("ip:1", "ip", socket.AF_UNSPEC, socket.SOCK_RAW),
        ("ip4:icmp", "ip4", socket.AF_INET, socket.SOCK_RAW),
        ("ip6:ipv6-icmp", "ip6", socket.AF_INET6, socket.SOCK_RAW),
        ("unix", "unix", socket.AF_UNIX, socket.SOCK_STREAM),
        ("unixgram", "unixgram", socket.AF_UNIX, socket.SOCK_DGRAM),
        ("unixpacket", "unixpacket", socket.AF_UNIX, socket.SOCK_SEQPACKET),
    ],
)
def test_the_twelve_networks(network: str, afnet: str, family: int, socktype: int) -> None:
    net = parse_network(network)
    assert (net.name, net.afnet, net.family, net.socktype) == (network, afnet, family, socktype)


@pytest.mark.parametrize(
    ("network", "proto"),
    [
        ("ip:1", 1),
        ("ip4:icmp", 1),
        ("ip4:ICMP", 1),
        ("ip:igmp", 2),
        ("ip6:58", 58),
        ("ip6:ipv6-icmp", 58),
        ("ip:tcp", 6),
        ("ip4:17", 17),
    ],
)
def test_ip_protocols_by_number_and_name(network: str, proto: int) -> None:
    assert parse_network(network).proto == proto


def test_protocols_file_first_entry_wins_and_beats_gos_table(tmp_path: Path) -> None:
    from trionet._network import lookup_protocol

    path = tmp_path / "protocols"
    path.write_text(
        "# name number aliases\n"
        "gre 47 GRE\n"
        "tunnel 200 gre  # a later entry for the same name is ignored\n"
        "icmp 99\n"  # an odd local table: the file wins over Go's built-in icmp = 1
        "broken x\n"
    )
    assert lookup_protocol("GRE", protocols_file=str(path)) == 47
    assert lookup_protocol("tunnel", protocols_file=str(path)) == 200
    assert lookup_protocol("icmp", protocols_file=str(path)) == 99
    assert lookup_protocol("udp", protocols_file=str(path)) == 17  # not in the file: Go's table
    with pytest.raises(AddrError):
        lookup_protocol("broken", protocols_file=str(path))


def test_protocol_names_fall_back_to_gos_table() -> None:
    from trionet._network import lookup_protocol

    assert lookup_protocol("ipv6-icmp", protocols_file="/nonexistent") == 58
    with pytest.raises(AddrError) as info:
        lookup_protocol("gre", protocols_file="/nonexistent")
    assert str(info.value) == "address gre: unknown IP protocol specified"


@pytest.mark.parametrize(
    "network", ["foo", "", "tcp:80", "udp:1", "unix:0", "TCP", "tcp7", "ipx:1", "ip", "ip4", "ip6"]
)
def test_unknown_networks(network: str) -> None:
    with pytest.raises(UnknownNetworkError) as info:
        parse_network(network)
    assert str(info.value) == f"unknown network {network}"
    assert isinstance(info.value, OSError)


def test_bare_ip_allowed_without_proto() -> None:
    # ResolveIPAddr parses with needsProto=false.
    assert parse_network("ip6", needs_proto=False).proto == 0


def test_unknown_protocol_name() -> None:
    with pytest.raises(AddrError) as info:
        parse_network("ip4:foo")
    assert str(info.value) == "address foo: unknown IP protocol specified"
    with pytest.raises(AddrError):
        parse_network("ip:4294967296")  # too big for Go's dtoi, then not a name either


def test_kind_and_predicates() -> None:
    assert parse_network("tcp6").kind == "tcp"
    assert parse_network("ip4:1").kind == "ip"
    assert parse_network("unixgram").kind == "unixgram"
    assert parse_network("unix").is_stream
    assert parse_network("tcp").is_stream
    assert not parse_network("unixpacket").is_stream
    assert parse_network("unixgram").is_unix
    assert not parse_network("udp").is_unix
