"""FakeSocket and the socket factory that makes them: the socket half of ``trionet.testing``.

What may live here: one fake socket's behaviour — a scripted ``connect()`` (its :class:`Rule`),
the :class:`Connect` record it leaves, the in-memory echo peer once connected — and the Trio
socket factory that hands these out. The scripting API (``_fake_net``) imports this module, never
the reverse: a socket sees its network only through :class:`SocketNet`.

:class:`Connect` and :class:`FakeSocket` are public as ``trionet.testing.X``
(the package sets their ``__module__``).
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import math
import os
import socket as _stdlib_socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, final, overload

import trio

from .._address import IP
from ._exact import after

__all__ = ["Connect", "FakeSocket", "Outcome", "Rule", "SocketFactory", "SocketNet", "address_key"]


#: What a connect to an address does after its delay.
Outcome = Literal["connect", "refuse", "blackhole", "fail"]


@dataclass(frozen=True, slots=True)
class Rule:
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


def address_key(address: str | IP) -> str:
    """The dictionary key of an address: its compressed form, zone dropped."""
    text = str(address).split("%", 1)[0]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise ValueError(f"address must be an IP literal, not {address!r}") from None


class SocketNet(Protocol):
    """What a :class:`FakeSocket` and its factory use of their network (``FakeNet`` has it all).

    A protocol rather than an import of ``_fake_net``, so the import points one way.
    """

    @property
    def connects(self) -> list[Connect]: ...
    @property
    def sockets(self) -> list[FakeSocket]: ...
    @property
    def _fds(self) -> Iterator[int]: ...
    @property
    def _ports(self) -> Iterator[int]: ...
    def _rule(self, ip: str) -> Rule: ...


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


async def _wait_for_outcome(rule: Rule, start: float) -> None:
    """Wait as a connect started at *start* waits before *rule*'s outcome is known."""
    if rule.delay == 0 and rule.outcome == "connect":
        # Like trio's connect when the kernel connects at once: a schedule point that
        # cancellation cannot interrupt (the caller checked it). Two racers connecting in the
        # same instant therefore both succeed (Go's spurious connection).
        await trio.lowlevel.cancel_shielded_checkpoint()
    elif rule.delay == 0:
        await trio.lowlevel.checkpoint()
    elif rule.delay == math.inf:
        await trio.sleep_forever()
    else:
        await _kernel_event_at(after(start, rule.delay))


@final
class SocketFactory(trio.abc.SocketFactory):
    """Trio's socket factory while :meth:`FakeNet.install` is active: fake IP sockets, real unix ones."""

    def __init__(self, net: SocketNet) -> None:
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

    def __init__(self, net: SocketNet, family: int, type: int, proto: int) -> None:  # noqa: A002
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
        ip = address_key(host)
        record = Connect(ip, port, trio.current_time())
        self._net.connects.append(record)
        rule = self._net._rule(ip)  # pyright: ignore[reportPrivateUsage]
        try:
            await _wait_for_outcome(rule, record.start)
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
        if self._local is None:  # bind() always picks a port, so only an unbound socket needs one
            local_ip = "::1" if ":" in host else "127.0.0.1"
            local_port = next(self._net._ports)  # pyright: ignore[reportPrivateUsage]
            if (local_ip, local_port) == self._peer:
                # A kernel never picks the remote's own port here (that is a self-connect, which
                # the dialer would reject and retry): take the next one.
                local_port = next(self._net._ports)  # pyright: ignore[reportPrivateUsage]
            self._local = (local_ip, local_port)

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

    # -- not faked: only dialing is. A clear OSError rather than Trio's NotImplementedError. -----
    def listen(self, backlog: int = 0, /) -> None:
        """Not faked: raises ``EOPNOTSUPP``."""
        raise _not_faked()

    async def accept(self) -> tuple[trio.socket.SocketType, object]:
        """Not faked: raises ``EOPNOTSUPP``."""
        await trio.lowlevel.checkpoint()
        raise _not_faked()

    async def sendto(self, data: object, *args: object) -> int:
        """Not faked: raises ``EOPNOTSUPP`` (a dialed UDP conn's ``send`` is faked)."""
        await trio.lowlevel.checkpoint()
        raise _not_faked()

    async def recvfrom(self, bufsize: int, flags: int = 0, /) -> tuple[bytes, object]:
        """Not faked: raises ``EOPNOTSUPP`` (a dialed UDP conn's ``receive`` is faked)."""
        await trio.lowlevel.checkpoint()
        raise _not_faked()

    def _check_open(self) -> None:
        if self.closed:
            raise OSError(_errno.EBADF, os.strerror(_errno.EBADF))

    def _check_connected(self) -> None:
        self._check_open()
        if self._peer is None:
            raise OSError(_errno.ENOTCONN, os.strerror(_errno.ENOTCONN))


def _not_faked() -> OSError:
    return OSError(_errno.EOPNOTSUPP, os.strerror(_errno.EOPNOTSUPP))


def _host_port(address: object) -> tuple[str, int]:
    if not (isinstance(address, tuple) and len(address) >= 2):  # pyright: ignore[reportUnknownArgumentType]
        raise OSError(_errno.EINVAL, f"fake sockets take (host, port) addresses, not {address!r}")
    host: object = address[0]  # pyright: ignore[reportUnknownVariableType]
    port: object = address[1]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(host, str) or not isinstance(port, int):
        raise OSError(_errno.EINVAL, f"fake sockets take (host, port) addresses, not {address!r}")
    return host, port
