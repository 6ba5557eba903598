"""Go's ``resolveAddrList`` as one async step, for listen, ``Resolver`` and ``resolve_*_addr``.

The pure half (literals, ports, family and local-address rules) lives in ``trionet._addrlist``,
which needs neither trio nor a tracer; this wrapper adds the one checkpoint a literal needs so
that every resolve is a Trio checkpoint, and the lookup for names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from .._addrlist import HostResolver, addr_list_now, lookup_addr_list

if TYPE_CHECKING:
    from .._address import Addr
    from .._network import Network

__all__ = ["resolve_addr_list"]


async def resolve_addr_list(
    resolver: HostResolver,
    op: str,
    net: Network,
    address: str,
    hint: Addr | None,
) -> tuple[Addr, ...]:
    """Go's ``resolveAddrList``: the addresses for *op* (``"dial"`` or ``"listen"``).

    For a dial, *hint* is the dialer's local address: it must be of the network's address type
    (``mismatched local address type``) and, unless it is a wildcard, it keeps only addresses of
    its own family (``no suitable address found``). A listen ignores *hint*.

    Raises:
        AddrError, DNSError, OSError: ``missing address`` for an empty dial address.
    """
    addrs = addr_list_now(op, net, address, hint)
    if addrs is not None:
        await trio.lowlevel.checkpoint()  # no I/O needed, but an async call is a checkpoint
        return addrs
    return await lookup_addr_list(resolver, op, net, address, hint)
