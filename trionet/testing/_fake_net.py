"""FakeNet: the scripting half of ``trionet.testing`` — per-address connect rules, the name
table, what was recorded, and :meth:`FakeNet.install`, which puts the fake in place for one run.

``install`` isolates name resolution as well as sockets (issue: a test that forgot
``resolver=net.resolver`` used to send a real query to the machine's nameserver). The default
resolver is one shared object that the dial code reads at call time, so while installed its
lookup methods are shadowed, on that instance only, by the fake's (Python looks instance
attributes up before the class's); leaving the block deletes the shadows. A plain attribute swap
on a public object, not a patch of any module, so it keeps working however the resolver's modules
are arranged. Trio's hostname resolver is swapped too, for ``trio.socket.getaddrinfo`` callers.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Generator, Iterable
from typing import Literal, final

import trio

from .. import PacketConn, Resolver, default_resolver
from ._fake_resolver import FakeResolver, HostnameResolver, check_delay
from ._fake_socket import Connect, FakeSocket, Rule, SocketFactory, address_key

__all__ = ["FakeNet"]


def _lookup_methods() -> list[str]:
    """Every lookup a :class:`trionet.Resolver` offers: the public ones and the HTTPS lookup of
    the RFC 8305 strategy (found by name, so a lookup added later is shadowed too)."""
    return sorted(n for n in vars(Resolver) if n.startswith("lookup_") or n == "_lookup_https")


@final
class FakeNet:
    """A scripted network: per-address connect outcomes and a name table.

    Addresses without a rule connect at once. Rules are per IP address (any port). Everything
    recorded (*connects*, *sockets*) keeps growing until you make a new ``FakeNet``.

    Attributes:
        resolver: the :class:`FakeResolver` to pass as ``Dialer(resolver=...)``; it answers
            from :meth:`add_host` and :meth:`add_https`. While :meth:`install` is active,
            :data:`trionet.default_resolver` answers from it too.
        connects: every ``connect()`` made on a fake socket, in order (:class:`Connect`).
        sockets: every fake socket created, in order (:class:`FakeSocket`).
    """

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._fds = itertools.count(1000)
        self._ports = itertools.count(40000)
        self.resolver = FakeResolver()
        self.connects: list[Connect] = []
        self.sockets: list[FakeSocket] = []

    # -- scripting --------------------------------------------------------------------------
    def add_host(
        self,
        name: str,
        addrs: Iterable[str],
        *,
        delay: float = 0.0,
        ipv4_delay: float | None = None,
        ipv6_delay: float | None = None,
    ) -> None:
        """Make *name* resolve to *addrs* (IP literals, in this order).

        The order stands for RFC 6724's: answers keep it, and the RFC 8305 strategy, which
        sorts its separate A and AAAA answers together when both are in before its first
        attempt, sorts them into it (so ``[IPv4, IPv6]`` with equal delays starts with IPv4).

        Each family's answer comes after its delay in seconds: *ipv4_delay* for the A answer,
        *ipv6_delay* for AAAA, each *delay* when None. A lookup of one family (``"ip4"``,
        ``"ip6"``, as the RFC 8305 strategy asks) takes that family's delay; a lookup of both
        (``"ip"``, Go's algorithm) answers when the slower family would have. 0 answers at once,
        ``math.inf`` hangs until cancelled, a negative delay is a :class:`ValueError`. An empty
        *addrs* makes the name exist with no addresses (Go: ``no such host``), as does a lookup
        of a family the name has no address of.
        """
        self.resolver.add(name, addrs, delay, ipv4_delay=ipv4_delay, ipv6_delay=ipv6_delay)

    def add_https(
        self,
        name: str,
        *,
        priority: int = 1,
        target: str = ".",
        alpn: Iterable[str] = (),
        port: int | None = None,
        ipv4hint: Iterable[str] = (),
        ipv6hint: Iterable[str] = (),
        delay: float = 0.0,
    ) -> None:
        """Give *name* an HTTPS record (RFC 9460, type 65), for ``HappyEyeballs(https_records=True)``.

        Each call adds one record; the answer comes *delay* seconds after it is asked (the
        last call's delay for the name; ``math.inf``: never). *priority* 0 is AliasMode (then
        *target* names the host to use instead, and the other fields must stay empty);
        *target* ``"."`` means the name itself. *port* None: no ``port`` parameter. A name with
        no record answers with none (NODATA), as does every name for a real resolver's
        ``prefer_python=False`` path.

        Raises:
            ValueError: a field dnspython cannot encode (bad hint, port out of range, ...).
        """
        self.resolver.add_https(
            name,
            priority=priority,
            target=target,
            alpn=alpn,
            port=port,
            ipv4hint=ipv4hint,
            ipv6hint=ipv6hint,
            delay=delay,
        )

    def succeed(self, addr: str, *, delay: float = 0.0) -> None:
        """Connects to *addr* succeed after *delay* seconds (0: at once; the default rule)."""
        self._rules[address_key(addr)] = Rule("connect", check_delay(delay))

    def refuse(self, addr: str, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with ``ECONNREFUSED`` after *delay* seconds (0: at once)."""
        self._rules[address_key(addr)] = Rule("refuse", check_delay(delay))

    def fail(self, addr: str, errno: int, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with *errno* (e.g. ``errno.ENETUNREACH``) after *delay*."""
        self._rules[address_key(addr)] = Rule("fail", check_delay(delay), errno)

    def blackhole(self, addr: str) -> None:
        """Connects to *addr* hang until cancelled, like a host that drops every SYN."""
        self._rules[address_key(addr)] = Rule("blackhole", math.inf)

    def delay(self, addr: str, seconds: float, *, then: Literal["connect", "refuse"] = "connect") -> None:
        """Connects to *addr* take *seconds*, then connect (default) or are refused."""
        self._rules[address_key(addr)] = Rule(then, check_delay(seconds))

    # -- running ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def install(self) -> Generator[FakeNet, None, None]:
        """Put the fake network in place inside the ``with`` block.

        * ``trio.socket.socket()`` creates fake sockets for IP families (unix-domain sockets
          stay real). The socket factory is per :func:`trio.run`, so this must run inside one.
        * :data:`trionet.default_resolver` answers from *resolver*: a dial or lookup that
          names no resolver of its own gets the fake's names, and a lookup the fake does not
          answer (MX, SRV, ...) fails at once with a :class:`~trionet.DNSError`. No query is
          ever sent. Resolvers you built yourself are left alone (they have servers you chose).
        * ``trio.socket.getaddrinfo`` answers names from the fake too (numeric hosts as ever).

        Everything is restored on exit. The default resolver is process-wide: do not run two
        installed fakes at once in different threads.
        """
        previous = trio.socket.set_custom_socket_factory(SocketFactory(self))
        previous_hr = trio.socket.set_custom_hostname_resolver(HostnameResolver(self.resolver))
        restore = self._shadow_default_resolver()
        try:
            yield self
        finally:
            restore()
            trio.socket.set_custom_hostname_resolver(previous_hr)
            trio.socket.set_custom_socket_factory(previous)

    def _shadow_default_resolver(self) -> Callable[[], None]:
        shadowed = vars(default_resolver)
        saved = {name: shadowed[name] for name in _lookup_methods() if name in shadowed}  # a nested install
        for name in _lookup_methods():
            setattr(default_resolver, name, getattr(self.resolver, name))

        def restore() -> None:
            for name in _lookup_methods():
                if name in saved:
                    setattr(default_resolver, name, saved[name])
                else:
                    delattr(default_resolver, name)

        return restore

    @property
    def connect_times(self) -> dict[str, float]:
        """When the first ``connect()`` to each address began: ``{"::1": 0.0, ...}``.

        See *connects* for every connect, including repeated ones.
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
