"""One connect to one address: Go's ``sysDialer.dialSingle`` and ``doDialTCPProto``.

A :class:`SysDialer` holds what one dial fixed before its first attempt (Go's ``sysDialer``:
the options, the network, the parsed local address, the tracer). Its :meth:`SysDialer.attempt`
is what every strategy calls, once per address: the serial walk and fast-fallback race of
``_happy_eyeballs`` and any other strategy. It raises the dial's :class:`OpError` for that
address, already wrapped, and emits the attempt's trace events.
"""

from __future__ import annotations

import errno as _errno
import math
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Literal, TypeAlias

import trio

from ._address import Addr, TCPAddr, UDPAddr, UnixAddr
from ._addrlist import is_ipv4_addr
from ._errors import OpError, SyscallError, io_timeout
from ._network import Network
from ._resolver import forget_sources
from ._sock import ControlError, dial_socket, favorite_family
from ._sockaddr import SockAddr, sockaddr_of
from ._sockopt import IPPROTO_MPTCP, AnySocket, apply_keepalive, keepalive_plan, mptcp_available
from .trace import AttemptDone, AttemptStart, Role, Tracer

#: connect() errors that say the routing changed under us (not a refusal or a timeout).
_ROUTE_ERRNOS = frozenset({_errno.ENETUNREACH, _errno.EHOSTUNREACH, _errno.ENETDOWN, _errno.EADDRNOTAVAIL})

if TYPE_CHECKING:
    from ._dial import Dialer
    from ._happy_eyeballs import Strategy

    #: What a dial is doing, for the error its own deadline produces (``_dial.timed_out``):
    #: the lookup, the one address of a single attempt, or a strategy that knows its progress.
    DialStep: TypeAlias = Literal["resolve"] | Addr | Strategy | None

__all__ = ["SysDialer", "Target", "is_self_connected"]

#: One address ready for ``connect()``: its socket family and socket-module form.
Target = tuple[int, SockAddr]


def is_self_connected(sock: AnySocket, remote: SockAddr) -> bool:
    """Go's selfConnect: local and remote are the same IP and port (TCP simultaneous open)."""
    try:
        local: tuple[object, ...] = sock.getsockname()
    except OSError:
        return True
    return bool(local[1] == remote[1] and local[0] == remote[0])


def describe(addr: Addr) -> tuple[str, str]:
    """How an address is shown in trace events, and its family (``ipv4``/``ipv6``/``unix``)."""
    if isinstance(addr, UnixAddr):
        return str(addr), "unix"
    return str(addr), "ipv4" if is_ipv4_addr(addr) else "ipv6"


class SysDialer:
    """What one dial fixed before its first attempt (Go's ``sysDialer``), and its attempts.

    Args:
        d: the dialer's options.
        net: the parsed network.
        address: the address as the caller gave it.
        local: the parsed local address, or None.
        tracer: where trace events go, or None.
        self_connected: Go's selfConnect check (a seam: tests script a self-connect that a real
            kernel cannot be made to produce on demand).
    """

    __slots__ = ("address", "d", "in_flight", "local", "net", "self_connected", "tracer")

    def __init__(
        self,
        d: Dialer,
        net: Network,
        address: str = "",
        local: Addr | None = None,
        tracer: Tracer | None = None,
        *,
        self_connected: Callable[[AnySocket, SockAddr], bool] = is_self_connected,
    ) -> None:
        self.d = d
        self.net = net
        self.address = address
        self.local = local
        self.tracer = tracer
        self.self_connected = self_connected
        #: What the dial is doing now; written only by ``_dial`` (see :data:`DialStep`).
        self.in_flight: DialStep = None

    def op_error(self, addr: Addr | None, err: BaseException) -> OpError:
        """The dial's error for *addr* (Go: ``&OpError{Op: "dial", Net, Source, Addr, Err}``)."""
        return OpError("dial", self.net.name, self.local, addr, err)

    def timeout_error(self, addr: Addr) -> OpError:
        """Go's errTimeout for *addr*: ``dial tcp ADDR: i/o timeout``, a :class:`TimeoutError`."""
        return self.op_error(addr, io_timeout())

    def attempt(
        self,
        addr: Addr,
        role: Role = "primary",
        deadline: float = math.inf,
        target: Target | None = None,
    ) -> Coroutine[object, None, trio.socket.SocketType]:
        """One connect to *addr* (Go's ``dialSingle`` under its ``dialCtx``), for any strategy.

        ``await sd.attempt(addr, role, deadline)`` returns the connected socket (keep-alive set
        for TCP, MPTCP first when enabled, a self-connect redialled as Go does) or raises.

        Args:
            addr: the remote address, of the dial's network type.
            role: which racer makes it, as trace events report it.
            deadline: this attempt's own deadline on Trio's clock (a partial deadline);
                ``math.inf``: none. When it is earlier than the enclosing scopes' deadline and
                expires, the attempt raises ``dial NET ADDR: i/o timeout``; an enclosing
                scope's expiry or cancellation propagates as :class:`trio.Cancelled`.
            target: ``(family, sockaddr)`` when the caller has them already (the dial's
                plan has them for an IP literal); None: derived from *addr*.

        Emits :class:`~trionet.trace.AttemptStart` and :class:`~trionet.trace.AttemptDone`
        when the dial is traced.

        Raises:
            OpError: the attempt failed (``dial tcp 127.0.0.1:1: connect: connection refused``),
                or its own *deadline* expired (``... i/o timeout``).
            trio.Cancelled: an enclosing scope was cancelled; nothing is left open.

        Not itself a coroutine function: it returns the coroutine to await, so an untraced
        attempt with no deadline of its own costs no extra coroutine layer on the hot path.
        """
        if self.tracer is None and deadline == math.inf:
            return self._connect(addr, target)
        return self._scoped(addr, role, deadline)

    async def _scoped(self, addr: Addr, role: Role, deadline: float) -> trio.socket.SocketType:
        """An attempt with its own deadline, its trace events, or both."""
        tracer = self.tracer
        if tracer is not None:
            text, family = describe(addr)
            tracer.emit(
                AttemptStart(
                    **tracer.stamp(),
                    addr=text,
                    family=family,
                    role=role,
                    deadline=deadline,
                )
            )
        try:
            if deadline < trio.current_effective_deadline():
                with trio.CancelScope(deadline=deadline):
                    sock = await self._connect(addr, None)
                    self._emit_done(addr, role, None)
                    return sock
                raise self.timeout_error(addr)  # only this attempt's own deadline expired
            sock = await self._connect(addr, None)
        except trio.Cancelled:
            self._emit_done(addr, role, None, cancelled=True)
            raise
        except OSError as exc:
            self._emit_done(addr, role, exc)
            raise
        self._emit_done(addr, role, None)
        return sock

    def _emit_done(self, addr: Addr, role: Role, error: OSError | None, *, cancelled: bool = False) -> None:
        tracer = self.tracer
        if tracer is None:
            return
        text, family = describe(addr)
        tracer.emit(
            AttemptDone(
                **tracer.stamp(),
                addr=text,
                family=family,
                role=role,
                error=error,
                cancelled=cancelled,
            )
        )

    def _connect(self, addr: Addr, target: Target | None) -> Coroutine[object, None, trio.socket.SocketType]:
        """Go's dialSingle → dialTCP/dialMPTCP/dialUDP/...: MPTCP first when enabled, then plain."""
        net = self.net
        if target is None:
            family = favorite_family(net, self.local, addr)
            try:
                target = (family, sockaddr_of(family, addr))
            except OSError as exc:  # an address the socket family cannot take
                raise self.op_error(addr, exc) from None
        if net.kind == "tcp" and self.d.multipath_tcp_enabled() and mptcp_available():
            return self._dial_mptcp(addr, target)
        return self._dial_one(addr, net.proto, target[0], target[1])

    async def _dial_mptcp(self, addr: Addr, target: Target) -> trio.socket.SocketType:
        try:
            return await self._dial_one(addr, IPPROTO_MPTCP, target[0], target[1])
        except OSError:
            pass  # Go (dialMPTCP): on any error, retry the whole dial with plain TCP
        return await self._dial_one(addr, self.net.proto, target[0], target[1])

    async def _dial_one(
        self, addr: Addr, proto: int, family: int, sockaddr: SockAddr
    ) -> trio.socket.SocketType:
        """Go's ``doDialTCPProto``: the socket layer's dial, redone on a self-connect (Go 2690)
        or a local port clash, then keep-alive (Go's ``newTCPConn``). The one OpError wrap."""
        net, local, d = self.net, self.local, self.d
        no_local_port = local is None or not isinstance(local, TCPAddr | UDPAddr) or local.port == 0
        for tries_left in (2, 1, 0):
            try:
                sock, opts = await dial_socket(
                    net, family, proto, addr, sockaddr, local=local, control=d.control
                )
            except ControlError as exc:
                raise self.op_error(addr, exc.err) from exc.err
            except SyscallError as exc:
                if (
                    exc.syscall == "connect"
                    and exc.errno == _errno.EADDRNOTAVAIL
                    and no_local_port
                    and tries_left
                ):
                    continue  # (the socket layer closed it)
                if exc.syscall == "connect" and exc.errno in _ROUTE_ERRNOS:
                    # The route the resolver's address sort assumed (RFC 6724 source probes,
                    # remembered for a second) is gone: the next lookup asks the kernel again.
                    forget_sources()
                raise self.op_error(addr, exc) from None
            except OSError as exc:  # an AddrError from bind
                raise self.op_error(addr, exc) from None
            if net.kind == "tcp":
                if no_local_port and tries_left and self.self_connected(opts, sockaddr):
                    sock.close()
                    continue
                apply_keepalive(opts, keepalive_plan(d.keep_alive, d.keep_alive_config))
            return sock
        raise AssertionError("unreachable")  # pragma: no cover
