"""Addresses in the socket module's form and back: Go's ``ipToSockaddr``, ``Addr.sockaddr`` and
``sockaddrToTCP``/``ToUDP``/``ToIP``/``ToUnix``.

Pure: no trio, no sockets — the only system call is ``if_nametoindex`` for an IPv6 zone name
(cached). Split from :mod:`trionet._address` (the value types and Go's address syntax), which
this module builds on, to keep each module to one job.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import socket
from typing import TYPE_CHECKING, TypeAlias

from ._address import IP, Addr, IPAddr, TCPAddr, UDPAddr, UnixAddr, ip_text
from ._errors import AddrError, errno_error

if TYPE_CHECKING:
    from ._network import Network

__all__ = ["SockAddr", "addr_from_sockaddr", "sockaddr_for", "sockaddr_of"]


def sockaddr_for(
    family: int, ip: IP | None, port: int, zone: str
) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket-module address for *ip* on a socket of *family* (Go's ``ipToSockaddr``).

    On ``AF_INET6`` no IP or ``0.0.0.0`` becomes ``::`` and IPv4 becomes IPv4-mapped; on
    ``AF_INET`` an IPv6 address is an error.

    Raises:
        AddrError: ``address IP: non-IPv4 address``.
        OSError: ``EINVAL`` for a port outside 0-65535 (Go's ``syscall`` sockaddr check, so a
            ``local_addr`` of port 70000 fails as ``bind: invalid argument``).
    """
    if not 0 <= port <= 0xFFFF:
        raise errno_error(errno.EINVAL)
    if family == socket.AF_INET:
        if ip is None:
            return ("0.0.0.0", port)
        if not isinstance(ip, ipaddress.IPv4Address):
            raise AddrError("non-IPv4 address", ip_text(ip, zone))
        return (str(ip), port)
    if ip is None or (isinstance(ip, ipaddress.IPv4Address) and ip.is_unspecified):
        return ("::", port, 0, 0)
    if isinstance(ip, ipaddress.IPv4Address):
        return (f"::ffff:{ip}", port, 0, 0)
    return (str(ip), port, 0, _zone_index(zone))


#: An address in the socket module's form: a path, or a (host, port[, flowinfo, scope]) tuple.
SockAddr: TypeAlias = str | bytes | tuple[str, int] | tuple[str, int, int, int]


# The address values are immutable and hashable, so the socket-module form is worth caching:
# formatting an IP is a visible part of a loopback dial (IP literals get theirs once, in the
# dial's cached plan; this one serves resolved addresses).
@functools.lru_cache(maxsize=256)
def sockaddr_of(family: int, addr: Addr) -> SockAddr:
    """*addr* in the socket module's form for a socket of *family* (Go's ``Addr.sockaddr``).

    Raises:
        AddrError: as :func:`sockaddr_for`.
    """
    if isinstance(addr, UnixAddr):
        return addr.sockaddr()
    port = addr.port if isinstance(addr, TCPAddr | UDPAddr) else 0
    return sockaddr_for(family, addr.ip, port, addr.zone)


def addr_from_sockaddr(net: Network, family: int, sockaddr: object) -> Addr:
    """The typed address (Go's ``sockaddrToTCP``/``ToUDP``/``ToIP``/``ToUnix``) of a
    socket-module address, for a socket of *net* and *family*.

    A unix address ``b"\\0name"`` (Linux's abstract namespace) becomes ``UnixAddr("@name")``.
    """
    if family == socket.AF_UNIX:
        if isinstance(sockaddr, bytes):
            text = sockaddr.decode(errors="surrogateescape")
            name = "@" + text[1:] if text.startswith("\0") else text
        else:
            name = str(sockaddr)
        return UnixAddr(name, net.afnet)
    assert isinstance(sockaddr, tuple)
    host = str(sockaddr[0])  # pyright: ignore[reportUnknownArgumentType]
    if net.kind == "ip":
        return IPAddr(host)
    port = int(sockaddr[1])  # pyright: ignore[reportUnknownArgumentType]
    return TCPAddr(host, port) if net.kind == "tcp" else UDPAddr(host, port)


@functools.lru_cache(maxsize=32)
def _zone_index(zone: str) -> int:
    if not zone:
        return 0
    if zone.isascii() and zone.isdigit():
        # Go's zoneCache: a number is the index itself (uint32 range, else unknown: 0).
        return int(zone) if len(zone) <= 10 and int(zone) < 1 << 32 else 0
    try:
        return socket.if_nametoindex(zone)
    except (OSError, ValueError, UnicodeError):
        # Not an interface name (unknown, NUL inside, not encodable): index 0, as Go's zone
        # cache answers for a name it does not know.
        return 0
