"""RFC 6724 source addresses: asked of the kernel, and remembered for a second.

Sorting a lookup's addresses by RFC 6724 needs, for each destination, the source address the
kernel would use (Go's ``srcAddrs`` in ``addrselect.go``): a UDP socket is "connected" to the
destination, which sends nothing, and ``getsockname`` tells. Go does that for every lookup;
it costs Go about a microsecond per address. In Python the socket object, ``connect``,
``getsockname`` and ``close`` cost some 25-35 µs per address, two per A+AAAA lookup, about an
eighth of a new-name lookup's CPU (docs/benchmarks.rst, "the cost of a new name"). So trionet
remembers each destination's source, and differs from Go only in how stale that may be:

* an entry lives :data:`SOURCE_TTL` seconds at most, in a table of at most
  :data:`MAX_table_of_process` destinations (full: it is emptied, not scanned);
* on Linux the table is emptied as soon as the kernel reports a change of routes, routing
  rules, addresses or links: an rtnetlink socket subscribed to those groups is read, without
  blocking, before every use (a message, or an overflow, is a change);
* :func:`forget_sources` empties it (a failed connect is a reason: the route that chose the
  source may be gone); a forked child starts with an empty table and its own netlink socket.

Between a change the kernel does not report (another network namespace entered with
``setns``, a platform without rtnetlink) and the entry's expiry, a sort may use a stale source:
that only reorders addresses, and a dial falls back to the next one either way.
"""

from __future__ import annotations

import os
import socket as _stdlib_socket
import time
from collections.abc import Callable, Sequence
from typing import Final

from .._address import IP, IPAddr, parse_ip
from .._sockaddr import sockaddr_for

__all__ = [
    "MAX_table_of_process",
    "SOURCE_TTL",
    "RouteWatch",
    "SourceCache",
    "forget_sources",
    "probe_source",
    "sources",
]

SOURCE_TTL: Final = 1.0
"""Seconds a destination's source address is remembered at most."""

MAX_table_of_process: Final = 256
"""Destinations remembered at most; the table is emptied when it is full."""

# rtnetlink multicast groups (linux/rtnetlink.h): links, IPv4/IPv6 addresses and routes, and
# IPv4 routing rules.
_GROUPS: Final = 0x1 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400
_MAX_DRAIN: Final = 64  # messages read per check at most: a change is a change


def probe_source(addr: IPAddr) -> IP | None:
    """The source address the kernel would pick for *addr* (Go's ``srcAddrs``), None when there
    is no route (or *addr* has no IP)."""
    ip = addr.ip
    if ip is None:
        return None
    family = _stdlib_socket.AF_INET6 if ip.version == 6 else _stdlib_socket.AF_INET
    try:
        with _stdlib_socket.socket(family, _stdlib_socket.SOCK_DGRAM) as s:
            s.connect(sockaddr_for(family, ip, 53, addr.zone))
            parsed = parse_ip(str(s.getsockname()[0]).partition("%")[0])
    except OSError:
        return None
    return None if parsed is None else parsed[0]


class RouteWatch:
    """The kernel's reports of routing changes, on an rtnetlink socket (Linux); elsewhere, or
    when the socket cannot be made, :meth:`changed` is always False and only expiry applies."""

    def __init__(self) -> None:
        self._sock: _stdlib_socket.socket | None = None
        netlink = getattr(_stdlib_socket, "AF_NETLINK", None)
        if netlink is None:
            return
        try:
            sock = _stdlib_socket.socket(netlink, _stdlib_socket.SOCK_RAW | _stdlib_socket.SOCK_NONBLOCK, 0)
        except OSError:
            return
        try:
            sock.bind((0, _GROUPS))
        except OSError:
            sock.close()
            return
        self._sock = sock

    @property
    def active(self) -> bool:
        """Whether changes are reported at all."""
        return self._sock is not None

    def changed(self) -> bool:
        """Whether the kernel reported a change since the last call (reads its reports)."""
        sock = self._sock
        if sock is None:
            return False
        seen = False
        for _ in range(_MAX_DRAIN):
            try:
                if not sock.recv(65536):
                    break
            except BlockingIOError:
                break
            except OSError:  # ENOBUFS: reports were lost, so something changed
                seen = True
                break
            seen = True
        return seen

    def close(self) -> None:
        """Stop watching (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class SourceCache:
    """Sources by destination, with the rules of the module docstring.

    *probe* asks the kernel (default :func:`probe_source`), *clock* gives seconds
    (default :func:`time.monotonic`), *watch* reports routing changes (default a new
    :class:`RouteWatch`, None for none), *ttl* and *size* bound the entries (0: remember
    nothing).
    """

    def __init__(
        self,
        *,
        probe: Callable[[IPAddr], IP | None] = probe_source,
        clock: Callable[[], float] = time.monotonic,
        watch: RouteWatch | bool | None = True,
        ttl: float = SOURCE_TTL,
        size: int = MAX_table_of_process,
    ) -> None:
        self._probe = probe
        self._clock = clock
        self._watch = RouteWatch() if watch is True else (watch or None)
        self._ttl = ttl
        self._size = size
        self._table: dict[tuple[IP | None, str], tuple[IP | None, float]] = {}

    def __len__(self) -> int:
        return len(self._table)

    def lookup(self, addrs: Sequence[IPAddr]) -> list[IP | None]:
        """The source for each of *addrs*, in order (None: no route)."""
        table = self._table
        if self._watch is not None and self._watch.changed():
            table.clear()
        now = self._clock()
        out: list[IP | None] = []
        for addr in addrs:
            key = (addr.ip, addr.zone)
            hit = table.get(key)
            if hit is not None and hit[1] > now:
                out.append(hit[0])
                continue
            source = self._probe(addr)
            if self._size > 0 and self._ttl > 0:
                if len(table) >= self._size:
                    table.clear()
                table[key] = (source, now + self._ttl)
            out.append(source)
        return out

    def forget(self) -> None:
        """Forget every entry."""
        self._table.clear()

    def close(self) -> None:
        """Forget every entry and stop watching the kernel."""
        self._table.clear()
        if self._watch is not None:
            self._watch.close()


_table_of_process: SourceCache | None = None


def sources() -> SourceCache:
    """The process's table (made on first use, so importing trionet opens no socket)."""
    global _table_of_process
    if _table_of_process is None:
        _table_of_process = SourceCache()
    return _table_of_process


def forget_sources() -> None:
    """Forget every remembered source address (say, after a connect failed)."""
    if _table_of_process is not None:
        _table_of_process.forget()


def _after_fork() -> None:
    global _table_of_process
    if _table_of_process is not None:
        _table_of_process.close()  # the parent's netlink socket: its reports are the parent's to read
        _table_of_process = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
