"""From ``(network, "host:port")`` to the list of addresses to dial or listen on.

Go's ``resolveAddrList`` (dial.go) and ``internetAddrList`` (ipsock.go): split the address, look
up the port, take IP literals as they are, ask the resolver for names, apply the network's family
filter and the local-address rules. Shared by dialing and listening.

Everything about the input is checked here, before any socket exists: Go's ``TestDialError``
requires bad ports and hosts to fail without reaching ``connect``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from ._address import (
    IP,
    MAX_ADDRESS_LENGTH,
    Addr,
    IPAddr,
    TCPAddr,
    UDPAddr,
    UnixAddr,
    is_ipv4,
    is_wildcard,
    lookup_port_static,
    parse_ip,
    parse_port,
    split_host_port,
)
from ._errors import (
    ERR_MISMATCHED_LOCAL,
    ERR_NO_SUITABLE_ADDRESS,
    AddrError,
    missing_address,
)

if TYPE_CHECKING:
    from ._network import Network

__all__ = [
    "HostResolver",
    "addr_list_now",
    "addr_list_of",
    "first",
    "ip_of",
    "is_ipv4_addr",
    "lookup_addr_list",
    "parse_local_addr",
    "suits_local",
    "partition",
]

_IPV4_WILDCARD = ipaddress.IPv4Address("0.0.0.0")
_IPV6_WILDCARD = ipaddress.IPv6Address("::")


def ip_of(addr: Addr) -> IP | None:
    """The IP of an internet address; None for a unix address or an internet one without IP."""
    return addr.ip if isinstance(addr, TCPAddr | UDPAddr | IPAddr) else None


def is_ipv4_addr(addr: Addr) -> bool:
    """Go's ``isIPv4`` as the dial partitions with it: an IPv4 address, or an internet address
    without IP (the wildcard); a unix address is not."""
    return isinstance(addr, TCPAddr | UDPAddr | IPAddr) and (addr.ip is None or is_ipv4(addr.ip))


def first(addrs: Sequence[Addr], *, ipv4: bool) -> Addr:
    """Go's ``addrList.first(isIPv4)`` (*ipv4* true) or ``first(isNotIPv4)``: the first address
    of that kind, else the first address."""
    return next((a for a in addrs if is_ipv4(ip_of(a)) == ipv4), addrs[0])


_A = TypeVar("_A")


def partition(addrs: Sequence[_A], is_primary_kind: Callable[[_A], bool]) -> tuple[list[_A], list[_A]]:
    """Split *addrs* into primaries and fallbacks (Go's ``addrList.partition``).

    "The first address, and any with a matching label, are primaries": the label of
    ``addrs[0]`` under *is_primary_kind* defines the primary class, so inverting the predicate
    gives the same result. Order is kept within each list.
    """
    if not addrs:
        return [], []
    label = is_primary_kind(addrs[0])
    primaries = [a for a in addrs if is_primary_kind(a) == label]
    fallbacks = [a for a in addrs if is_primary_kind(a) != label]
    return primaries, fallbacks


class HostResolver(Protocol):
    """What address resolution needs from a resolver (a subset of :class:`trionet.Resolver`)."""

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The addresses of *host*; *network* ``"ip4"``/``"ip6"`` restricts the family."""
        ...

    async def lookup_port(self, network: str, service: str) -> int:
        """The port number of *service* on *network*."""
        ...


def _make(kind: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int, zone: str) -> Addr:
    if kind == "tcp":
        return TCPAddr(ip, port, zone)
    if kind == "udp":
        return UDPAddr(ip, port, zone)
    return IPAddr(ip, zone)


def _family_ok(afnet: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    # Go's ipv4only / ipv6only filters, chosen by the network's last character.
    if afnet.endswith("4"):
        return is_ipv4(ip)
    if afnet.endswith("6"):
        return ip is not None and not is_ipv4(ip)
    return True


@functools.lru_cache(maxsize=512)
def _literal_addr_list(afnet: str, kind: str, address: str) -> tuple[Addr, ...] | None:
    """The address list when no resolver is needed (IP literal or empty host, numeric port).

    Cached: this is the dial hot path for ``dial("tcp", "127.0.0.1:8080")``. Returns None when the
    host is a name or the port a service name. Raises the same errors as the slow path.
    """
    if kind == "ip":
        host, port = address, 0
    elif address == "":
        # Go's internetAddrList: an empty tcp/udp address is host "" port 0, the wildcard with
        # a system-chosen port (Listen("tcp", "") works), not a "missing port" error.
        host, port = "", 0
    else:
        host, service = split_host_port(address)
        port, needs_lookup = parse_port(service)
        if needs_lookup:
            return None
        if not 0 <= port <= 65535:
            raise AddrError("invalid port", service)
    if host == "":
        return (_make(kind, None, port, ""),)
    literal = parse_ip(host)
    if literal is None:
        return None
    return _filter_family(afnet, kind, host, [IPAddr(literal[0], literal[1])], port)


def _filter_family(afnet: str, kind: str, host: str, ips: list[IPAddr], port: int) -> tuple[Addr, ...]:
    if len(ips) == 1 and ips[0].ip == _IPV6_WILDCARD:
        # Go issue 18806: "::" also means the IPv4 wildcard, so Dial("tcp4", "[::]:p") works.
        ips = [*ips, IPAddr(_IPV4_WILDCARD)]
    kept = tuple(_make(kind, a.ip, port, a.zone) for a in ips if _family_ok(afnet, a.ip))
    if not kept:
        raise AddrError(ERR_NO_SUITABLE_ADDRESS, host)
    return kept


def addr_list_of(net: Network, address: str, ips: list[IPAddr], hint: Addr | None) -> tuple[Addr, ...] | None:
    """What :func:`lookup_addr_list` makes of a resolver's answer *ips* for *address* (a
    ``host:port`` with a numeric port; None for a service-name port), synchronously: for a
    caller that has the answer without a lookup. Raises what ``lookup_addr_list`` would."""
    host, service = split_host_port(address)
    port, needs_lookup = parse_port(service)
    if needs_lookup:
        return None
    addrs = _filter_family(net.afnet, net.kind, host, ips, port)
    return addrs if hint is None else _filter_by_hint(addrs, hint)


async def _internet_addr_list(resolver: HostResolver, net: Network, address: str) -> tuple[Addr, ...]:
    kind = net.kind
    if kind == "ip":
        host, port = address, 0
    else:
        host, service = split_host_port(address)
        port, needs_lookup = parse_port(service)
        if needs_lookup:  # (a numeric port was range-checked by _literal_addr_list)
            port = await resolver.lookup_port(net.afnet, service)
        if host == "":  # ":http": the wildcard with a named port (Go's internetAddrList)
            return (_make(kind, None, port, ""),)
    ip_literal = parse_ip(host)
    if ip_literal is not None:  # an IP literal with a service-name port
        ips = [IPAddr(ip_literal[0], ip_literal[1])]
    else:
        lookup_net = "ip" + net.afnet[-1] if net.afnet[-1] in "46" else "ip"
        ips = await resolver.lookup_ip_addr(host, network=lookup_net)
    return _filter_family(net.afnet, kind, host, ips, port)


async def lookup_addr_list(
    resolver: HostResolver,
    op: str,
    net: Network,
    address: str,
    hint: Addr | None,
) -> tuple[Addr, ...]:
    """The half of ``resolve_addr_list`` (in ``trionet._resolver``) that asks *resolver*, for a
    caller that already knows :func:`addr_list_now` returned None (a host name, or a service-name port)."""
    addrs = await _internet_addr_list(resolver, net, address)
    if op != "dial" or hint is None:
        return addrs
    return _filter_by_hint(addrs, hint)


def addr_list_now(op: str, net: Network, address: str, hint: Addr | None) -> tuple[Addr, ...] | None:
    """:func:`resolve_addr_list` when it needs no lookup (unix path, IP literal, numeric port).

    Synchronous, so a dial of ``127.0.0.1:80`` creates no coroutine and asks no resolver. Returns
    None when a name or a service must be looked up. Raises exactly what ``resolve_addr_list``
    would.
    """
    if op == "dial" and address == "":
        raise missing_address()
    if len(address) > MAX_ADDRESS_LENGTH:  # before the literal cache
        raise AddrError("address too long", address[:48] + f"...({len(address)} characters)")
    if net.is_unix:
        unix = UnixAddr(address, net.afnet)
        if op == "dial" and hint is not None and hint.network != unix.network:
            raise AddrError(ERR_MISMATCHED_LOCAL, str(hint))
        return (unix,)
    addrs = _literal_addr_list(net.afnet, net.kind, address)
    if addrs is None or op != "dial" or hint is None:
        return addrs
    return _filter_by_hint(addrs, hint)


def _filter_by_hint(addrs: tuple[Addr, ...], hint: Addr) -> tuple[Addr, ...]:
    kept: list[Addr] = []
    for a in addrs:
        if a.network != hint.network:
            raise AddrError(ERR_MISMATCHED_LOCAL, str(hint))
        if suits_local(a, hint):
            kept.append(a)
    if not kept:
        raise AddrError(ERR_NO_SUITABLE_ADDRESS, str(hint))
    return tuple(kept)


def suits_local(addr: Addr, local: Addr) -> bool:
    """Whether a dial bound to *local* can reach *addr* (Go's ``filterAddrList`` rule: a
    non-wildcard local IP keeps only remote addresses of its family)."""
    if not isinstance(addr, TCPAddr | UDPAddr | IPAddr) or not isinstance(local, TCPAddr | UDPAddr | IPAddr):
        return True
    if is_wildcard(local.ip) or is_wildcard(addr.ip):
        return True
    return is_ipv4(addr.ip) == is_ipv4(local.ip)


@functools.lru_cache(maxsize=64)
def parse_local_addr(kind: str, afnet: str, text: str) -> Addr:
    """Turn a ``local_addr`` given as text into an address value for network *kind*.

    ``"host:port"`` with an IP-literal (or empty) host for ``tcp``/``udp``, an IP literal for
    ``ip``, a path for the unix networks. Names are not resolved: a local address is a literal.

    Raises:
        AddrError: a malformed address, a host that is not an IP literal, a bad port.
    """
    if kind in ("unix", "unixgram", "unixpacket"):
        return UnixAddr(text, afnet)
    if kind == "ip":
        host, port = text, 0
    else:
        host, service = split_host_port(text)
        port = lookup_port_static(afnet, service)
    if host == "":
        return _make(kind, None, port, "")
    literal = parse_ip(host)
    if literal is None:
        raise AddrError("local address must be an IP literal", host)
    return _make(kind, literal[0], port, literal[1])
