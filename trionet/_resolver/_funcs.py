"""The module-level lookups and ``resolve_*_addr`` (Go's package-level ``Lookup*`` and ``Resolve*Addr``).

What may live here: functions that stand for a :class:`~trionet.Resolver` method called on
``default_resolver``, and Go's ``Resolve{TCP,UDP,IP,Unix}Addr`` built on the address list of
:mod:`trionet._addrlist`. No lookup logic of their own: the resolver does every lookup. This
module imports :mod:`trionet._resolver`, never the other way round.
"""

from __future__ import annotations

import trio

from .._address import IP, Addr, IPAddr, TCPAddr, UDPAddr, UnixAddr
from .._addrlist import first
from .._errors import UnknownNetworkError
from .._network import parse_network
from ._addrs import resolve_addr_list
from ._records import MX, NS, SRV
from ._resolver import Resolver, default_resolver

__all__ = [
    "lookup_addr",
    "lookup_cname",
    "lookup_host",
    "lookup_ip",
    "lookup_ip_addr",
    "lookup_mx",
    "lookup_ns",
    "lookup_port",
    "lookup_srv",
    "lookup_txt",
    "resolve_ip_addr",
    "resolve_tcp_addr",
    "resolve_udp_addr",
    "resolve_unix_addr",
]


# -- module-level functions (Go's package-level Lookup* and Resolve*Addr) -----------------------
async def lookup_host(host: str) -> list[str]:
    """:meth:`Resolver.lookup_host` on :data:`default_resolver`."""
    return await default_resolver.lookup_host(host)


async def lookup_ip_addr(host: str, *, network: str = "ip") -> list[IPAddr]:
    """:meth:`Resolver.lookup_ip_addr` on :data:`default_resolver`."""
    return await default_resolver.lookup_ip_addr(host, network=network)


async def lookup_ip(network: str, host: str) -> list[IP]:
    """:meth:`Resolver.lookup_ip` on :data:`default_resolver`."""
    return await default_resolver.lookup_ip(network, host)


async def lookup_port(network: str, service: str) -> int:
    """:meth:`Resolver.lookup_port` on :data:`default_resolver`."""
    return await default_resolver.lookup_port(network, service)


async def lookup_cname(host: str) -> str:
    """:meth:`Resolver.lookup_cname` on :data:`default_resolver`."""
    return await default_resolver.lookup_cname(host)


async def lookup_srv(service: str, proto: str, name: str) -> tuple[str, list[SRV]]:
    """:meth:`Resolver.lookup_srv` on :data:`default_resolver`."""
    return await default_resolver.lookup_srv(service, proto, name)


async def lookup_mx(name: str) -> list[MX]:
    """:meth:`Resolver.lookup_mx` on :data:`default_resolver`."""
    return await default_resolver.lookup_mx(name)


async def lookup_ns(name: str) -> list[NS]:
    """:meth:`Resolver.lookup_ns` on :data:`default_resolver`."""
    return await default_resolver.lookup_ns(name)


async def lookup_txt(name: str) -> list[str]:
    """:meth:`Resolver.lookup_txt` on :data:`default_resolver`."""
    return await default_resolver.lookup_txt(name)


async def lookup_addr(addr: str) -> list[str]:
    """:meth:`Resolver.lookup_addr` on :data:`default_resolver`."""
    return await default_resolver.lookup_addr(addr)


async def _resolve(kind: str, network: str, address: str, resolver: Resolver | None) -> Addr:
    """Go's ``Resolve{TCP,UDP,IP}Addr``: the address list, then ``addrList.forResolve``."""
    net = parse_network(network or kind, needs_proto=False)  # Go: parseNetwork(needsProto=false)
    if net.afnet not in (kind, kind + "4", kind + "6"):
        raise UnknownNetworkError(network)
    addrs = await resolve_addr_list(resolver or default_resolver, "resolve", net, address, None)
    # Go's forResolve: IPv4 preferred unless the address is an IPv6 literal.
    afnet = net.afnet
    want6 = (":" in address) if afnet == "ip" else (afnet in ("tcp", "udp") and "[" in address)
    return first(addrs, ipv4=not want6)


async def resolve_tcp_addr(network: str, address: str, *, resolver: Resolver | None = None) -> TCPAddr:
    """A :class:`TCPAddr` for ``"host:port"`` on ``tcp``/``tcp4``/``tcp6`` (``""`` means ``tcp``)
    (Go's ``ResolveTCPAddr``): IPv4 preferred unless *address* is an IPv6 literal.

    Args:
        resolver: None uses :data:`default_resolver`.

    Raises:
        UnknownNetworkError: not a TCP network.
        AddrError: a malformed address or port.
        DNSError: the name could not be resolved.
    """
    addr = await _resolve("tcp", network, address, resolver)
    assert isinstance(addr, TCPAddr)
    return addr


async def resolve_udp_addr(network: str, address: str, *, resolver: Resolver | None = None) -> UDPAddr:
    """A :class:`UDPAddr`, as :func:`resolve_tcp_addr` for ``udp``/``udp4``/``udp6``."""
    addr = await _resolve("udp", network, address, resolver)
    assert isinstance(addr, UDPAddr)
    return addr


async def resolve_ip_addr(network: str, address: str, *, resolver: Resolver | None = None) -> IPAddr:
    """An :class:`IPAddr` for a host (no port) on ``ip``/``ip4``/``ip6``, a protocol suffix
    allowed (``"ip4:icmp"``) (Go's ``ResolveIPAddr``). *resolver* None: :data:`default_resolver`.

    Raises:
        UnknownNetworkError: another network.
        AddrError: ``unknown IP protocol specified`` for a bad suffix; ``no suitable address
            found``.
        DNSError: the host could not be resolved.
    """
    addr = await _resolve("ip", network, address, resolver)
    assert isinstance(addr, IPAddr)
    return addr


async def resolve_unix_addr(network: str, address: str) -> UnixAddr:
    """A :class:`UnixAddr` for ``unix``/``unixgram``/``unixpacket`` (Go's ``ResolveUnixAddr``).

    Raises:
        UnknownNetworkError: another network.
    """
    await trio.lowlevel.checkpoint()
    if network not in ("unix", "unixgram", "unixpacket"):
        raise UnknownNetworkError(network)
    return UnixAddr(address, network)
