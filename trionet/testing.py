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
process.

A connected fake socket talks to an in-memory echo peer: what you send comes back, and after
``send_eof()`` the peer closes too. That is enough for code that writes a request and reads a
reply; it is not a TCP model (no windows, no resets after connect).

:func:`blackhole_listener` is the real-socket counterpart: a loopback port where connects hang.

This module is imported on demand (``import trionet.testing``); the library never imports it.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import ipaddress
import itertools
import math
import os
import socket as _stdlib_socket
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Literal, final, overload

import trio

from ._address import IP, IPAddr, TCPAddr, lookup_port_static, parse_ip
from ._errors import DNSError
from ._resolver import Resolver

__all__ = ["Connect", "FakeNet", "FakeResolver", "FakeSocket", "Outcome", "blackhole_listener"]

#: What a connect to an address does after its delay.
Outcome = Literal["connect", "refuse", "blackhole", "fail"]


@dataclass(frozen=True, slots=True)
class _Rule:
    outcome: Outcome
    delay: float = 0.0
    errno: int = _errno.ECONNREFUSED


@final
@dataclass(slots=True, eq=False)
class Connect:
    """The record of one ``connect()`` on a fake socket (see :attr:`FakeNet.connects`).

    Attributes:
        ip: the address connected to, in its compressed text form (``"::1"``).
        port: the port connected to.
        start: when ``connect()`` was called, on Trio's clock.
        end: when it returned or raised; None while it is still running.
        result: ``"connected"``, ``"refused"``, ``"failed"`` (another errno), ``"cancelled"``,
            or None while it is still running.
    """

    ip: str
    port: int
    start: float
    end: float | None = None
    result: Literal["connected", "refused", "failed", "cancelled"] | None = None


def _key(address: str | IP) -> str:
    """The dictionary key of an address: its compressed form, zone dropped."""
    text = str(address).split("%", 1)[0]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise ValueError(f"address must be an IP literal, not {address!r}") from None


@final
class FakeNet:
    """A scripted network: per-address connect outcomes and a name table.

    Addresses without a rule connect at once. Rules are per IP address (any port). Everything
    recorded (:attr:`connects`, :attr:`sockets`) keeps growing until you make a new ``FakeNet``.
    """

    def __init__(self) -> None:
        self._rules: dict[str, _Rule] = {}
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
        self._rules[_key(addr)] = _Rule("connect", _check_delay(delay))

    def refuse(self, addr: str, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with ``ECONNREFUSED`` after *delay* seconds (0: at once)."""
        self._rules[_key(addr)] = _Rule("refuse", _check_delay(delay))

    def fail(self, addr: str, errno: int, *, delay: float = 0.0) -> None:
        """Connects to *addr* fail with *errno* (e.g. ``errno.ENETUNREACH``) after *delay*."""
        self._rules[_key(addr)] = _Rule("fail", _check_delay(delay), errno)

    def blackhole(self, addr: str) -> None:
        """Connects to *addr* hang until cancelled, like a host that drops every SYN."""
        self._rules[_key(addr)] = _Rule("blackhole", math.inf)

    def delay(self, addr: str, seconds: float, *, then: Literal["connect", "refuse"] = "connect") -> None:
        """Connects to *addr* take *seconds*, then connect (default) or are refused."""
        self._rules[_key(addr)] = _Rule(then, _check_delay(seconds))

    # -- running ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def install(self) -> Generator[FakeNet, None, None]:
        """Make ``trio.socket.socket()`` create fake sockets inside the ``with`` block.

        Must be used inside :func:`trio.run` (the socket factory is per run). Unix-domain
        sockets stay real. The previous factory is restored on exit.
        """
        previous = trio.socket.set_custom_socket_factory(_Factory(self))
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

    def check(self, *in_use: trio.SocketStream | trio.socket.SocketType) -> None:
        """Assert that every fake socket was closed, except those in *in_use* (still open).

        Call it after the code under test is done: a socket left open is a leak, for example a
        losing connection that was never closed.

        Raises:
            AssertionError: listing the sockets left open, or an *in_use* one that is closed
                or not from this network.
        """
        keep = {id(s.socket if isinstance(s, trio.SocketStream) else s) for s in in_use}
        for s in in_use:
            sock = s.socket if isinstance(s, trio.SocketStream) else s
            if not any(sock is f for f in self.sockets):
                raise AssertionError(f"{sock!r} is not a socket of this FakeNet")
            if sock.fileno() == -1:
                raise AssertionError(f"{sock!r} is in use but closed")
        leaked = [s for s in self.sockets if not s.closed and id(s) not in keep]
        if leaked:
            raise AssertionError(f"fake sockets left open: {leaked!r}")

    def _rule(self, ip: str) -> _Rule:
        return self._rules.get(ip, _Rule("connect"))


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

    def add(self, name: str, addrs: Iterable[str], delay: float) -> None:
        """Map *name* to *addrs* after *delay* seconds (used by :meth:`FakeNet.add_host`)."""
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
        await _sleep(delay)
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


async def _sleep(delay: float) -> None:
    if delay == math.inf:
        await trio.sleep_forever()
    await trio.sleep(delay)


async def _kernel_event_at(when: float) -> None:
    """Wait until *when* the way a socket waits for the kernel, not the way a timeout fires.

    A plain ``trio.sleep`` wakes by cancelling its own scope; if another task cancels ours in the
    same instant, the sleep raises ``Cancelled``. A real connect that completes in that instant
    has already been woken with a result and returns it. So a system task sleeps instead and
    reschedules us with a value, and two connects finishing together both succeed.
    """
    task = trio.lowlevel.current_task()
    timer_scope = trio.CancelScope()

    async def timer() -> None:
        with timer_scope:
            await trio.sleep_until(when)
            trio.lowlevel.reschedule(task)

    def abort(_: object) -> trio.lowlevel.Abort:
        timer_scope.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    trio.lowlevel.spawn_system_task(timer)
    await trio.lowlevel.wait_task_rescheduled(abort)


def _name_key(name: str) -> str:
    return name.lower().rstrip(".")


@final
class _Factory(trio.abc.SocketFactory):
    def __init__(self, net: FakeNet) -> None:
        self._net = net

    def socket(
        self,
        family: _stdlib_socket.AddressFamily | int = _stdlib_socket.AF_INET,
        type: _stdlib_socket.SocketKind | int = _stdlib_socket.SOCK_STREAM,  # noqa: A002 - trio's name
        proto: int = 0,
    ) -> trio.socket.SocketType:
        if family == _stdlib_socket.AF_UNIX:
            return trio.socket.from_stdlib_socket(_stdlib_socket.socket(family, type, proto))
        sock = FakeSocket(self._net, family, type, proto)
        self._net.sockets.append(sock)
        return sock


@final
class FakeSocket(trio.socket.SocketType):
    """A socket of a :class:`FakeNet`: scripted ``connect()``, an echo peer once connected.

    Options set with ``setsockopt`` are remembered and returned by ``getsockopt`` (0 when never
    set). ``closed`` tells whether it was closed.
    """

    def __init__(self, net: FakeNet, family: int, type: int, proto: int) -> None:  # noqa: A002
        super().__init__()
        self._net = net
        self._family = _stdlib_socket.AddressFamily(family)
        self._type = _stdlib_socket.SocketKind(type)
        self._proto = proto
        self._fd = next(net._fds)  # pyright: ignore[reportPrivateUsage]
        self._options: dict[tuple[int, int], object] = {}
        self._local: tuple[str, int] | None = None
        self._peer: tuple[str, int] | None = None
        self._shut_wr = False
        self._buffer = bytearray()
        self._readable = trio.lowlevel.ParkingLot()
        #: True once closed.
        self.closed = False

    # -- identity and options -----------------------------------------------------------------
    @property
    def family(self) -> _stdlib_socket.AddressFamily:
        return self._family

    @property
    def type(self) -> _stdlib_socket.SocketKind:
        return self._type

    @property
    def proto(self) -> int:
        return self._proto

    @property
    def did_shutdown_SHUT_WR(self) -> bool:
        return self._shut_wr

    def fileno(self) -> int:
        return -1 if self.closed else self._fd

    def setsockopt(self, level: int, optname: int, value: object, optlen: int | None = None) -> None:
        self._check_open()
        self._options[level, optname] = value

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...
    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...
    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        self._check_open()
        value = self._options.get((level, optname), 0)
        if buflen is not None:
            raise OSError(_errno.ENOPROTOOPT, os.strerror(_errno.ENOPROTOOPT))
        return value if isinstance(value, int) else 0

    def getsockname(self) -> tuple[str, int]:
        self._check_open()
        if self._local is not None:
            return self._local
        return ("::" if self._family == _stdlib_socket.AF_INET6 else "0.0.0.0", 0)

    def getpeername(self) -> tuple[str, int]:
        self._check_open()
        if self._peer is None:
            raise OSError(_errno.ENOTCONN, os.strerror(_errno.ENOTCONN))
        return self._peer

    def close(self) -> None:
        self.closed = True
        self._readable.unpark_all()

    def __enter__(self) -> FakeSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"peer={self._peer}" if self._peer else "unconnected"
        return f"<FakeSocket fd={self._fd} {self._family.name} {state}>"

    # -- connecting -------------------------------------------------------------------------
    async def bind(self, address: object) -> None:
        await trio.lowlevel.checkpoint()
        self._check_open()
        host, port = _host_port(address)
        self._local = (host, port or next(self._net._ports))  # pyright: ignore[reportPrivateUsage]

    async def connect(self, address: object) -> None:
        """Record the connect, wait the scripted delay, then apply the address's outcome."""
        await trio.lowlevel.checkpoint_if_cancelled()
        self._check_open()
        host, port = _host_port(address)
        ip = _key(host)
        record = Connect(ip, port, trio.current_time())
        self._net.connects.append(record)
        rule = self._net._rule(ip)  # pyright: ignore[reportPrivateUsage]
        try:
            if rule.delay == 0 and rule.outcome == "connect":
                # Like trio's connect when the kernel connects at once: a schedule point that
                # cancellation cannot interrupt (it was checked above). Two racers connecting
                # in the same instant therefore both succeed (Go's spurious connection).
                await trio.lowlevel.cancel_shielded_checkpoint()
            elif rule.delay == 0:
                await trio.lowlevel.checkpoint()
            elif rule.delay == math.inf:
                await trio.sleep_forever()
            else:
                await _kernel_event_at(record.start + rule.delay)
        except trio.Cancelled:
            # trio closes a socket whose connect was interrupted; so do we.
            record.end, record.result = trio.current_time(), "cancelled"
            self.close()
            raise
        record.end = trio.current_time()
        if rule.outcome != "connect":
            record.result = "refused" if rule.outcome == "refuse" else "failed"
            raise OSError(rule.errno, os.strerror(rule.errno))
        record.result = "connected"
        self._peer = (host, port)
        if self._local is None or self._local[1] == 0:
            local_ip = self._local[0] if self._local else ("::1" if ":" in host else "127.0.0.1")
            self._local = (local_ip, next(self._net._ports))  # pyright: ignore[reportPrivateUsage]

    # -- the echo peer ----------------------------------------------------------------------
    async def send(self, data: object, flags: int = 0, /) -> int:
        await trio.lowlevel.checkpoint()
        self._check_connected()
        if self._shut_wr:
            raise OSError(_errno.EPIPE, os.strerror(_errno.EPIPE))
        chunk = bytes(memoryview(data))  # type: ignore[arg-type]
        self._buffer += chunk
        self._readable.unpark_all()
        return len(chunk)

    async def recv(self, buflen: int, flags: int = 0, /) -> bytes:
        self._check_connected()
        while not self._buffer and not self._shut_wr and not self.closed:
            await self._readable.park()
        await trio.lowlevel.checkpoint()
        self._check_connected()
        data = bytes(self._buffer[:buflen])
        del self._buffer[:buflen]
        return data

    async def wait_writable(self) -> None:
        await trio.lowlevel.checkpoint()

    def shutdown(self, flag: int) -> None:
        self._check_connected()
        if flag in (_stdlib_socket.SHUT_WR, _stdlib_socket.SHUT_RDWR):
            self._shut_wr = True
            self._readable.unpark_all()

    def _check_open(self) -> None:
        if self.closed:
            raise OSError(_errno.EBADF, os.strerror(_errno.EBADF))

    def _check_connected(self) -> None:
        self._check_open()
        if self._peer is None:
            raise OSError(_errno.ENOTCONN, os.strerror(_errno.ENOTCONN))


def _host_port(address: object) -> tuple[str, int]:
    if not (isinstance(address, tuple) and len(address) >= 2):  # pyright: ignore[reportUnknownArgumentType]
        raise OSError(_errno.EINVAL, f"fake sockets take (host, port) addresses, not {address!r}")
    host: object = address[0]  # pyright: ignore[reportUnknownVariableType]
    port: object = address[1]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(host, str) or not isinstance(port, int):
        raise OSError(_errno.EINVAL, f"fake sockets take (host, port) addresses, not {address!r}")
    return host, port


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
