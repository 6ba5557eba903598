"""A fake network for your own tests, and a real loopback blackhole.

:class:`FakeNet` lets a test decide, address by address, what a connect does: connect, be
refused, hang forever (a *blackhole*), or wait and then do one of those. Host names map to
address lists through :attr:`FakeNet.resolver`, which you hand to :class:`trionet.Dialer`. Every
wait is a Trio sleep, so under pytest-trio's ``autojump_clock`` a test can assert **exact** times,
the way Trio's own ``open_tcp_stream`` tests do::

    async def test_fallback_after_300_ms(autojump_clock):
        net = trionet.testing.FakeNet()
        net.add_host("dual.test", ["::1", "127.0.0.1"])
        net.blackhole("::1")
        with net.install():
            stream = await trionet.Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
        assert trio.current_time() == 0.3
        assert net.connect_times == {"::1": 0.0, "127.0.0.1": 0.3}
        await stream.aclose()
        net.check()                       # every fake socket was closed

:meth:`FakeNet.install` replaces Trio's socket factory (:func:`trio.socket.set_custom_socket_factory`)
for the current :func:`trio.run`: while it is active, every ``trio.socket.socket()`` call for an
IP family returns a :class:`FakeSocket`. Unix-domain sockets stay real. Nothing ever leaves the
process. Only dialing is faked: listening, accepting and unconnected ``sendto``/``recvfrom`` on
a fake socket raise ``OSError(EOPNOTSUPP)``.

A connected fake socket talks to an in-memory echo peer: what you send comes back, and after
``send_eof()`` the peer closes too. That is enough for code that writes a request and reads a
reply; it is not a TCP model (no windows, no resets after connect).

:func:`blackhole_listener` is the real-socket counterpart: a loopback port where connects hang.

This module is imported on demand (``import trionet.testing``); the dial and listen code never
imports it (only the ``trionet demo`` command borrows :func:`blackhole_listener`).

Delays are seconds on Trio's clock: 0 is at once, ``math.inf`` never (until cancelled), and a
negative delay raises :class:`ValueError`.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import socket as _stdlib_socket
from collections.abc import Generator, Iterable
from typing import Literal, final

import trio

from ._address import IPAddr, TCPAddr, lookup_port_static, parse_ip
from ._errors import DNSError
from ._fakesocket import (
    Connect as Connect,
    FakeSocket as FakeSocket,
    Rule,
    SocketFactory,
    address_key,
)
from ._packetconn import PacketConn
from ._public import claim_names
from ._resolver import Resolver

__all__ = ["Connect", "FakeNet", "FakeResolver", "FakeSocket", "blackhole_listener"]


@final
class FakeNet:
    """A scripted network: per-address connect outcomes and a name table.

    Addresses without a rule connect at once. Rules are per IP address (any port). Everything
    recorded (:attr:`connects`, :attr:`sockets`) keeps growing until you make a new ``FakeNet``.
    """

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._fds = itertools.count(1000)
        self._ports = itertools.count(40000)
        #: The resolver to pass as ``Dialer(resolver=...)``; it answers from :meth:`add_host`.
        self.resolver = FakeResolver()
        #: Every ``connect()`` made on a fake socket, in order.
        self.connects: list[Connect] = []
        #: Every fake socket created, in order.
        self.sockets: list[FakeSocket] = []

    # -- scripting --------------------------------------------------------------------------
    def add_host(self, name: str, addrs: Iterable[str], *, delay: float = 0.0) -> None:
        """Make *name* resolve to *addrs* (IP literals, in this order) after *delay* seconds.

        ``delay=math.inf`` makes the lookup hang until cancelled. An empty *addrs* makes the
        name exist with no addresses (Go: ``no such host``).
        """
        self.resolver.add(name, addrs, delay)

    def succeed(self, addr: str, *, delay: float = 0.0) -> None:
        """Connects to *addr* succeed after *delay* seconds (0: at once; the default rule)."""
        self._rules[address_key(addr)] = Rule("connect", _check_delay(delay))

    def refuse(self, addr: str, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with ``ECONNREFUSED`` after *delay* seconds (0: at once)."""
        self._rules[address_key(addr)] = Rule("refuse", _check_delay(delay))

    def fail(self, addr: str, errno: int, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with *errno* (e.g. ``errno.ENETUNREACH``) after *delay*."""
        self._rules[address_key(addr)] = Rule("fail", _check_delay(delay), errno)

    def blackhole(self, addr: str) -> None:
        """Connects to *addr* hang until cancelled, like a host that drops every SYN."""
        self._rules[address_key(addr)] = Rule("blackhole", math.inf)

    def delay(self, addr: str, seconds: float, *, then: Literal["connect", "refuse"] = "connect") -> None:
        """Connects to *addr* take *seconds*, then connect (default) or are refused."""
        self._rules[address_key(addr)] = Rule(then, _check_delay(seconds))

    # -- running ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def install(self) -> Generator[FakeNet, None, None]:
        """Make ``trio.socket.socket()`` create fake sockets inside the ``with`` block.

        Must be used inside :func:`trio.run` (the socket factory is per run). Unix-domain
        sockets stay real. The previous factory is restored on exit.
        """
        previous = trio.socket.set_custom_socket_factory(SocketFactory(self))
        try:
            yield self
        finally:
            trio.socket.set_custom_socket_factory(previous)

    @property
    def connect_times(self) -> dict[str, float]:
        """When the first ``connect()`` to each address began: ``{"::1": 0.0, ...}``.

        See :attr:`connects` for every connect, including repeated ones.
        """
        times: dict[str, float] = {}
        for c in self.connects:
            times.setdefault(c.ip, c.start)
        return times

    def check(self, *in_use: trio.SocketStream | PacketConn | trio.socket.SocketType) -> None:
        """Assert that every fake socket was closed, except those in *in_use* (still open).

        Call it after the code under test is done: a socket left open is a leak, for example a
        losing connection that was never closed.

        Raises:
            AssertionError: listing the sockets left open, or an *in_use* one that is closed
                or not from this network.
        """
        socks = [s.socket if isinstance(s, trio.SocketStream | PacketConn) else s for s in in_use]
        keep = {id(sock) for sock in socks}
        for sock in socks:
            if not any(sock is f for f in self.sockets):
                raise AssertionError(f"{sock!r} is not a socket of this FakeNet")
            if sock.fileno() == -1:
                raise AssertionError(f"{sock!r} is in use but closed")
        leaked = [s for s in self.sockets if not s.closed and id(s) not in keep]
        if leaked:
            raise AssertionError(f"fake sockets left open: {leaked!r}")

    def _rule(self, ip: str) -> Rule:
        return self._rules.get(ip, Rule("connect"))


def _check_delay(delay: float) -> float:
    if not delay >= 0:
        raise ValueError(f"delay must be >= 0 seconds, not {delay!r}")
    return delay


@final
class FakeResolver(Resolver):
    """Answers host lookups from :meth:`FakeNet.add_host`; never sends a query.

    It is a :class:`trionet.Resolver` so that ``Dialer(resolver=...)`` type-checks; only the
    methods a dial uses are faked (:meth:`lookup_ip_addr`, :meth:`lookup_host`,
    :meth:`lookup_port`). Unknown names fail with Go's ``lookup NAME: no such host``.
    """

    def __init__(self) -> None:
        # A private, empty configuration: even an unfaked method cannot reach a real server.
        super().__init__(
            prefer_python=True, nameservers=["127.0.0.1:1"], resolv_conf=os.devnull, hosts_file=os.devnull
        )
        self._hosts: dict[str, tuple[list[IPAddr], float]] = {}
        #: Every lookup as ``(host, network)``, in order.
        self.lookups: list[tuple[str, str]] = []

    def add(self, name: str, addrs: Iterable[str], delay: float = 0.0) -> None:
        """Map *name* to *addrs*, answered after *delay* seconds (0: at once; ``math.inf``:
        never, until cancelled; negative: :class:`ValueError`). Used by
        :meth:`FakeNet.add_host`."""
        ips: list[IPAddr] = []
        for a in addrs:
            parsed = parse_ip(a)
            if parsed is None:
                raise ValueError(f"addresses must be IP literals, not {a!r}")
            ips.append(IPAddr(parsed[0], parsed[1]))
        self._hosts[_name_key(name)] = (ips, _check_delay(delay))

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The addresses mapped to *host*; ``"ip4"``/``"ip6"`` keep one family."""
        self.lookups.append((host, network))
        literal = parse_ip(host)
        if literal is not None:
            await trio.lowlevel.checkpoint()
            return [IPAddr(literal[0], literal[1])]
        entry = self._hosts.get(_name_key(host))
        if entry is None:
            await trio.lowlevel.checkpoint()
            raise DNSError("no such host", host, is_not_found=True)
        ips, delay = entry
        await trio.sleep(delay)  # math.inf: until cancelled
        if network in ("ip4", "ip6"):
            ips = [a for a in ips if (a.ip is not None and a.ip.version == 4) == (network == "ip4")]
        if not ips:
            raise DNSError("no such host", host, is_not_found=True)
        return list(ips)

    async def lookup_host(self, host: str) -> list[str]:
        """The addresses of *host* as text."""
        return [str(a) for a in await self.lookup_ip_addr(host)]

    async def lookup_port(self, network: str, service: str) -> int:
        """The port of *service* from ``/etc/services`` and Go's built-in table."""
        await trio.lowlevel.checkpoint()
        return lookup_port_static(network, service)


def _name_key(name: str) -> str:
    return name.lower().rstrip(".")


@contextlib.contextmanager
def blackhole_listener(
    family: _stdlib_socket.AddressFamily | int = _stdlib_socket.AF_INET, *, port: int = 0
) -> Generator[TCPAddr, None, None]:
    """A real loopback port where TCP connects hang: yields its :class:`~trionet.TCPAddr`.

    A listening socket on ``127.0.0.1`` (or ``::1`` for ``AF_INET6``) with backlog 0 never
    accepts, and its queue is filled at once, so the kernel silently drops every later SYN: a
    connect neither succeeds nor is refused, it waits until cancelled (about 127 s otherwise).
    *port* 0 picks a free port; another number binds that one (to sit next to a real listener
    of the other family on the same port). Every descriptor is closed on exit.
    """
    if family not in (_stdlib_socket.AF_INET, _stdlib_socket.AF_INET6):
        raise ValueError(f"family must be AF_INET or AF_INET6, not {family!r}")
    host = "127.0.0.1" if family == _stdlib_socket.AF_INET else "::1"
    with contextlib.ExitStack() as stack:
        lsock = stack.enter_context(_stdlib_socket.socket(family, _stdlib_socket.SOCK_STREAM))
        lsock.bind((host, port))
        lsock.listen(0)
        bound = int(lsock.getsockname()[1])
        # Backlog 0 still admits one queued connection: the first filler completes, the second
        # sits in SYN_SENT, and from then on every SYN is dropped (see machine.md).
        for _ in range(2):
            filler = stack.enter_context(_stdlib_socket.socket(family, _stdlib_socket.SOCK_STREAM))
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((host, bound))
        yield TCPAddr(host, bound)


claim_names(globals(), __all__, __name__)
del claim_names
