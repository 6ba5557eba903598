"""What the operating system answers for the resolver: libc's lookups and the kernel's routes.

What may live here: the system path, ``getaddrinfo``/``getnameinfo`` in a worker thread (Go's
``cgo_unix.go``: ``cgoLookupIP``, ``cgoLookupCNAME``, ``cgoLookupPTR``) with Go's mapping of
their errors to :class:`~trionet.DNSError`; and the source address the kernel would pick for a
destination, which RFC 6724 ordering needs (Go's ``srcAddrs`` in ``addrselect.go``; the pure
sort is :mod:`trionet._addrselect`). Nothing here reads resolv.conf, nsswitch.conf or the hosts
file, or sends a DNS packet: whether to take the system path is :mod:`trionet._resolver`'s call.
"""

from __future__ import annotations

import ipaddress
import socket as _stdlib_socket
from typing import Any

import trio

from .._address import IPAddr, parse_ip
from .._errors import ERR_NO_SUCH_HOST, DNSError
from ._addrselect import sort_by_rfc6724
from ._sources import sources

__all__ = ["sort_addrs", "system_lookup_addr", "system_lookup_cname", "system_lookup_ip"]


# -- RFC 6724 sources ----------------------------------------------------------------------------
def sort_addrs(addrs: list[IPAddr]) -> list[IPAddr]:
    """Go's ``sortByRFC6724``: sources from the kernel (remembered briefly, see
    :mod:`trionet._resolver._sources`), then the pure sort."""
    if len(addrs) < 2:
        return addrs
    return sort_by_rfc6724(addrs, sources().lookup(addrs))


# -- the system path: libc in a worker thread ----------------------------------------------------
def _gai_error(host: str, exc: _stdlib_socket.gaierror) -> DNSError:
    """Go's ``cgoLookup*`` error mapping: EAI_NONAME/EAI_NODATA are ``no such host``
    (``is_not_found``), EAI_AGAIN is temporary; the server is never named."""
    not_found = exc.errno in (_stdlib_socket.EAI_NONAME, getattr(_stdlib_socket, "EAI_NODATA", -5))
    return DNSError(
        ERR_NO_SUCH_HOST if not_found else str(exc.strerror),
        host,
        is_not_found=not_found,
        is_temporary=exc.errno == _stdlib_socket.EAI_AGAIN,
    )


async def _system_getaddrinfo(host: str, family: int, flags: int) -> list[Any]:
    """libc's getaddrinfo in a worker thread (abandoned on cancellation, as Go abandons a cgo
    call), through :func:`trio.socket.getaddrinfo` so trio's hostname-resolver hook applies."""
    try:
        return list(await trio.socket.getaddrinfo(host, None, family, _stdlib_socket.SOCK_STREAM, 0, flags))
    except _stdlib_socket.gaierror as exc:
        raise _gai_error(host, exc) from None
    except ValueError:  # IDNA refuses the name, or it holds a NUL: libc would find nothing
        raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True) from None


async def system_lookup_ip(host: str, network: str) -> list[IPAddr]:
    """The system path for addresses (Go's ``cgoLookupIP``); duplicates (one per socket type)
    dropped, libc's order kept. *network* ending in ``4``/``6`` asks for one family."""
    family = {"4": _stdlib_socket.AF_INET, "6": _stdlib_socket.AF_INET6}.get(network[-1:], 0)
    seen: list[IPAddr] = []
    for info in await _system_getaddrinfo(host, family, 0):
        parsed = parse_ip(str(info[4][0]))
        if parsed is not None and IPAddr(*parsed) not in seen:
            seen.append(IPAddr(*parsed))
    return seen


async def system_lookup_cname(host: str) -> str:
    """The system path for canonical names (Go's ``cgoLookupCNAME``): ``AI_CANONNAME``, rooted."""
    infos = await _system_getaddrinfo(host, 0, _stdlib_socket.AI_CANONNAME)
    name = str(infos[0][3]) if infos and infos[0][3] else host
    return name if name.endswith(".") else name + "."


async def system_lookup_addr(addr: str) -> list[str]:
    """The system path for reverse lookups (Go's ``cgoLookupPTR``): ``getnameinfo``, rooted."""
    ip = ipaddress.ip_address(addr.partition("%")[0])
    try:
        name, _ = await trio.socket.getnameinfo((str(ip), 0), _stdlib_socket.NI_NAMEREQD)
    except _stdlib_socket.gaierror as exc:
        raise _gai_error(addr, exc) from None
    return [name if name.endswith(".") else name + "."]
