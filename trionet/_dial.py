"""Dialer, dial, dial_timeout: Go's ``net.Dialer`` on Trio. Read top to bottom like ``dial.go``.

One dial is: parse the network → open the dialer's own cancel scope (timeout/deadline) → resolve
the address list → partition by family → race (``_happy_eyeballs``) → one connect per address
(``_Dial.attempt``) → wrap the winner as a :class:`trio.SocketStream` or :class:`PacketConn`.

The one big rule: **the caller's cancel scopes are Go's context.** An enclosing scope's deadline
counts when the time is split between addresses, and its cancellation propagates as a bare
:class:`trio.Cancelled`. Only the dialer's *own* ``timeout``/``deadline`` becomes an error
(``dial tcp 192.0.2.1:80: i/o timeout``, a :class:`TimeoutError`), exactly as
:func:`trio.fail_after` converts only its own expiry.
"""

from __future__ import annotations

import errno as _errno
import functools
import math
import socket as _stdlib_socket
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Final, Literal, final, overload

import trio

from . import trace
from ._address import Addr, IPAddr, TCPAddr, UDPAddr, UnixAddr, is_ipv4, sockaddr_for, split_host_port
from ._addrlist import addr_list_now, lookup_addr_list, parse_local_addr
from ._connect import connect, stdlib_socket_of
from ._deadline import check_duration, own_deadline
from ._errors import AddrError, DNSError, OpError, SyscallError, UnknownNetworkError, io_timeout
from ._happy_eyeballs import Race, partition
from ._network import Control, Network, ctrl_network, parse_network
from ._packetconn import PacketConn
from ._resolver import Resolver, default_resolver
from ._sockopt import (
    IPPROTO_MPTCP,
    AnySocket,
    KeepAliveConfig,
    apply_keepalive,
    check_keep_alive,
    keepalive_plan,
    mptcp_available,
    mptcp_default,
    set_default_sockopts,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

__all__ = ["Control", "Dialer", "dial", "dial_timeout"]

#: Go's default fast-fallback delay (RFC 6555 suggests 300 ms; dial.go uses it).
DEFAULT_FALLBACK_DELAY: Final = 0.300

#: An address in the socket module's form: a path, or a (host, port[, flowinfo, scope]) tuple.
_SockAddr = str | bytes | tuple[str, int] | tuple[str, int, int, int]

#: A dial that needs no resolver: (network, the one address, socket family, socket address).
_Target = tuple[Network, Addr, int, _SockAddr]

StreamNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
PacketNetwork = Literal["udp", "udp4", "udp6", "unixgram", "unixpacket"]

# IP_BIND_ADDRESS_NO_PORT: bind the local IP now, pick the port at connect() time, so a fixed
# local IP does not burn an ephemeral port per (IP, port) pair before the 4-tuple is known. trio
# defines it where Python 3.10's socket module does not.
_IP_BIND_ADDRESS_NO_PORT: Final = getattr(trio.socket, "IP_BIND_ADDRESS_NO_PORT", 24)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Dialer:
    """Options for connecting to an address (Go's ``net.Dialer``). Immutable; safe to share.

    ``Dialer()`` with no arguments is what :func:`dial` uses. Use :func:`dataclasses.replace` to
    derive a variant (Go copies the struct).

    Args:
        timeout: the most a dial may take, name resolution included, in seconds. None: no
            timeout. Any number is used: zero or negative means already expired. With several
            addresses the time is divided between them (see :func:`partial_deadline`). When it
            expires the dial raises :class:`OpError` (``... i/o timeout``), a
            :class:`TimeoutError`.
        deadline: an absolute deadline on Trio's clock (``trio.current_time()``); None: none.
            Zero or any past time is already expired (unlike Go, whose zero time means none).
            The earliest of *timeout*, *deadline* and the enclosing cancel scopes' deadline
            applies; only the first two raise ``i/o timeout``.
        local_addr: the local address to bind before connecting: None lets the system choose;
            a :class:`TCPAddr`/:class:`UDPAddr`/:class:`IPAddr`/:class:`UnixAddr` of the dialed
            network's type, or the same as text (``"127.0.0.2:0"``, an IP literal host).
            A non-wildcard IP keeps only remote addresses of its family.
        fallback_delay: how long the primary address family races alone before the fallback
            family starts (RFC 6555 fast fallback, network ``"tcp"`` only). None: 0.300 s; zero:
            both start at once; negative: fast fallback disabled, addresses are tried one by one.
        keep_alive: TCP keep-alive idle time in seconds. None or 0: enabled with 15 s; positive:
            that idle time (rounded up to whole seconds); negative: keep-alive left untouched.
            Ignored when *keep_alive_config* has ``enable=True``.
        keep_alive_config: full keep-alive settings (idle, interval, count); used when its
            ``enable`` is true. None: *keep_alive* decides.
        resolver: the :class:`Resolver` for host names; None: :data:`default_resolver`.
        control: None: no hook. Otherwise called as ``control(network, address, sock)`` after
            the socket is created and before it is bound or connected, with the family-specific
            network (``"tcp4"``, ``"udp6"``, ``"unix"``) and the remote address. Raising any exception aborts that
            attempt (the next address is tried); the exception becomes the :class:`OpError`'s
            ``err``.
        multipath_tcp: request Multipath TCP for ``tcp*`` dials. None: off unless the
            ``TRIONET_MULTIPATHTCP`` environment variable says otherwise (Go's
            ``GODEBUG=multipathtcp``: 1 or 3 turn it on for dialers). When MPTCP fails for any
            reason the attempt is repeated with plain TCP.

    Raises:
        ValueError: a NaN duration, or *keep_alive* above 32767 seconds (the kernel's limit).
        TypeError: a duration that is not a number, a non-callable *control*, a *local_addr*
            that is neither an address nor a string, or a *keep_alive_config* that is not a
            :class:`KeepAliveConfig`.
    """

    timeout: float | None = None
    deadline: float | None = None
    local_addr: Addr | str | None = None
    fallback_delay: float | None = None
    keep_alive: float | None = None
    keep_alive_config: KeepAliveConfig | None = None
    resolver: Resolver | None = None
    control: Control | None = None
    multipath_tcp: bool | None = None

    def __post_init__(self) -> None:
        check_duration("timeout", self.timeout)
        check_duration("deadline", self.deadline)
        check_duration("fallback_delay", self.fallback_delay)
        check_keep_alive(self.keep_alive, self.keep_alive_config)
        if self.local_addr is not None and not isinstance(  # pyright: ignore[reportUnnecessaryIsInstance]
            self.local_addr, str | TCPAddr | UDPAddr | IPAddr | UnixAddr
        ):
            raise TypeError(f"local_addr must be an address, a string or None, not {self.local_addr!r}")
        if self.control is not None and not callable(self.control):
            # Fail at construction, not at the first dial (ListenConfig does the same).
            raise TypeError(f"control must be callable or None, not {self.control!r}")

    def multipath_tcp_enabled(self) -> bool:
        """Whether MPTCP will be requested for TCP dials (Go's ``Dialer.MultipathTCP``).

        This does not check that the kernel supports it.
        """
        if self.multipath_tcp is not None:
            return self.multipath_tcp
        return mptcp_default(listener=False)

    @overload
    async def dial(self, network: StreamNetwork, address: str) -> trio.SocketStream: ...
    @overload
    async def dial(self, network: PacketNetwork, address: str) -> PacketConn: ...
    @overload
    async def dial(self, network: str, address: str) -> trio.SocketStream | PacketConn: ...

    async def dial(self, network: str, address: str) -> trio.SocketStream | PacketConn:
        """Connect to *address* on *network* (Go's ``Dialer.DialContext``).

        Networks: ``tcp tcp4 tcp6 unix`` return a :class:`trio.SocketStream`; ``udp udp4 udp6
        unixgram unixpacket`` and ``ip ip4 ip6`` with ``:PROTO`` return a :class:`PacketConn`.
        Addresses are ``host:port`` (``[v6]:port``) for TCP and UDP, a host for IP networks, a
        path for unix networks.

        The enclosing cancel scopes play Go's context: their deadline shortens the dial, their
        cancellation raises :class:`trio.Cancelled` unchanged. Once returned, the connection
        belongs to no scope.

        Raises:
            OpError: every failure, with Go's text (``dial tcp 127.0.0.1:1: connect: connection
                refused``). When several addresses were tried and all failed, it is the first
                primary address's error, and every attempt's error is in ``__cause__`` (an
                :class:`ExceptionGroup`). The dialer's own timeout gives ``... i/o timeout``, a
                :class:`TimeoutError`.
            trio.Cancelled: an enclosing scope was cancelled.
        """
        # One cached lookup answers the common case: one IP literal on a tcp/udp network.
        target = _literal_target(network, address) if self.local_addr is None else None
        if target is not None:
            net = target[0]
        else:
            try:
                net = parse_network(network)
            except (UnknownNetworkError, AddrError) as exc:
                raise OpError("dial", network, None, None, exc) from None
        dial = _Dial(self, net, address)
        if self.timeout is None and self.deadline is None:
            own = math.inf  # (no clock read: this is the hot path)
        else:
            own = own_deadline(trio.current_time(), self.timeout, self.deadline)
        try:
            if own == math.inf:
                return await dial.run(own, target)
            with trio.CancelScope(deadline=own):
                return await dial.run(own, target)
            # Our own deadline expired. If an enclosing scope expired in the same instant, its
            # cancellation wins: outer cancellation is never converted into an error.
            await trio.lowlevel.checkpoint_if_cancelled()
        except trio.Cancelled:
            dial.trace_done(None, None, cancelled=True)
            raise
        raise dial.timed_out()


class _Dial:
    """The state of one dial: what Go's ``sysDialer`` holds, plus the race for error reports."""

    __slots__ = ("address", "d", "local", "net", "only", "race", "resolving", "tracer")

    def __init__(self, d: Dialer, net: Network, address: str) -> None:
        self.d = d
        self.net = net
        self.address = address
        self.local: Addr | None = None
        self.tracer = trace.start()
        self.resolving = False  # true while the address list is being resolved
        self.only: Addr | None = None  # the address, when there is just one (no race)
        self.race: Race[Addr, trio.socket.SocketType] | None = None

    def op_error(self, addr: Addr | None, err: BaseException) -> OpError:
        return OpError("dial", self.net.name, self.local, addr, err)

    async def run(self, own: float, target: _Target | None) -> trio.SocketStream | PacketConn:
        tracer = self.tracer
        if tracer is None and target is not None:
            # One IP literal, nobody tracing (the common case): its one attempt is the dial. No
            # race object, no partial deadline: all the time is this address's anyway.
            addr = self.only = target[1]
            return self._wrap(await self.attempt(addr, target[2], target[3]), addr)
        if tracer is not None:
            tracer.emit(
                trace.DialStart(
                    time=trio.current_time(),
                    dial=tracer.dial,
                    network=self.net.name,
                    address=self.address,
                    deadline=min(own, trio.current_effective_deadline()),
                    own_deadline=own,
                )
            )
        try:
            sock, addr = await self._connect(target)
        except OSError as exc:
            self.trace_done(None, exc)
            raise
        self.trace_done(addr, None)
        return self._wrap(sock, addr)

    def _wrap(self, sock: trio.socket.SocketType, addr: Addr) -> trio.SocketStream | PacketConn:
        if self.net.is_stream:
            return trio.SocketStream(sock)
        return PacketConn(sock, self.net.name, remote_addr=addr)

    async def _connect(self, target: _Target | None) -> tuple[trio.socket.SocketType, Addr]:
        d, net = self.d, self.net
        if target is not None:  # one IP literal, already parsed (Dialer.dial's cache); traced
            addrs: tuple[Addr, ...] = (target[1],)
        else:
            addrs = await self._addr_list()
        if len(addrs) == 1 and self.tracer is None:
            # One address, nobody tracing: no race object, no partial deadline (all the time
            # is this address's anyway). A traced dial takes the race below, which for one
            # address is a plain serial walk (no nursery) that reports its attempt.
            self.only = addrs[0]
            return await self.attempt(addrs[0]), addrs[0]
        race = self.race = Race(self.attempt, self.timeout_error, _describe, self.tracer)
        delay = DEFAULT_FALLBACK_DELAY if d.fallback_delay is None else d.fallback_delay
        if net.name == "tcp" and delay >= 0:
            primaries, fallbacks = partition(addrs, _is_ipv4_addr)
        else:
            primaries, fallbacks = list(addrs), []
        try:
            return await race.dial_parallel(primaries, fallbacks, delay)
        except OSError as exc:
            if len(race.errors) > 1:
                # Go returns only the first primary error (golang/go#18183); keep them all.
                raise exc from ExceptionGroup("every dial attempt failed", race.errors)
            raise

    async def _addr_list(self) -> tuple[Addr, ...]:
        """Go's ``resolveAddrList`` for this dial: the local address parsed, then the remote
        list (without a resolver for IP literals and unix paths)."""
        d, net = self.d, self.net
        if d.local_addr is not None:
            try:
                self.local = (
                    parse_local_addr(net.kind, net.afnet, d.local_addr)
                    if isinstance(d.local_addr, str)
                    else d.local_addr
                )
            except OSError as exc:
                raise OpError("dial", net.name, None, None, exc) from None
        try:
            addrs = addr_list_now("dial", net, self.address, self.local)
            if addrs is None:
                # While this flag is set, expiry of our own deadline reads as a lookup timeout.
                # It is cleared on every exit except Cancelled: ``timed_out`` runs after the
                # Cancelled has unwound through here and must still see that the lookup was
                # what ran out of time.
                self.resolving = True
                resolver = d.resolver or default_resolver
                addrs = await lookup_addr_list(resolver, "dial", net, self.address, self.local, self.tracer)
                self.resolving = False
        except OSError as exc:
            self.resolving = False
            raise OpError("dial", net.name, None, None, exc) from None
        return addrs

    def timeout_error(self, addr: Addr) -> OSError:
        """Go's errTimeout for one address (partial deadline expired or no time left)."""
        return self.op_error(addr, io_timeout())

    def timed_out(self) -> OpError:
        """The error for the dialer's own timeout: at the address in flight, or in the lookup."""
        error: OpError
        if self.resolving:
            # Go: dial tcp: lookup example.com: i/o timeout
            host = _host_part(self.net, self.address)
            error = OpError("dial", self.net.name, None, None, DNSError("i/o timeout", host, is_timeout=True))
        elif self.race is not None:
            last = self.race.last
            error = self.op_error(last.get("primary") or last.get("fallback"), io_timeout())
            if self.race.errors:
                error.__cause__ = ExceptionGroup("dial attempts before the timeout", self.race.errors)
        else:
            error = self.op_error(self.only, io_timeout())
        tracer = self.tracer
        if tracer is not None:
            tracer.emit(
                trace.DialDone(
                    time=trio.current_time(), dial=tracer.dial, winner=None, error=error, timed_out=True
                )
            )
        return error

    def trace_done(self, addr: Addr | None, error: OSError | None, *, cancelled: bool = False) -> None:
        """Emit the DialDone event (success, failure, or an enclosing scope's cancellation)."""
        tracer = self.tracer
        if tracer is None:
            return
        tracer.emit(
            trace.DialDone(
                time=trio.current_time(),
                dial=tracer.dial,
                winner=None if addr is None else str(addr),
                error=error,
                cancelled=cancelled,
            )
        )

    def attempt(
        self, addr: Addr, family: int | None = None, sockaddr: _SockAddr | None = None
    ) -> Coroutine[object, None, trio.socket.SocketType]:
        """Go's ``dialSingle``: one address, MPTCP first when enabled, then plain. *family* and
        *sockaddr* are derived from *addr* unless the caller has them already.

        Not itself a coroutine function: it returns the coroutine to await, so a plain TCP
        attempt costs no extra coroutine layer on the hot path."""
        net = self.net
        if family is None or sockaddr is None:
            family = _favorite_family(net, self.local, addr)
            sockaddr = _sockaddr(family, addr)
        if net.kind == "tcp" and self.d.multipath_tcp_enabled() and mptcp_available():
            return self._dial_mptcp(addr, family, sockaddr)
        return self._dial_one(addr, net.proto, family, sockaddr)

    async def _dial_mptcp(self, addr: Addr, family: int, sockaddr: _SockAddr) -> trio.socket.SocketType:
        try:
            return await self._dial_one(addr, IPPROTO_MPTCP, family, sockaddr)
        except OSError:
            pass  # Go (dialMPTCP): on any error, retry the whole dial with plain TCP
        return await self._dial_one(addr, self.net.proto, family, sockaddr)

    async def _dial_one(
        self, addr: Addr, proto: int, family: int, sockaddr: _SockAddr
    ) -> trio.socket.SocketType:
        """socket → options → control → bind → connect, retried on a self-connect (Go 2690)."""
        net, local = self.net, self.local
        no_local_port = local is None or not isinstance(local, TCPAddr | UDPAddr) or local.port == 0
        for tries_left in (2, 1, 0):
            # A dial already cancelled or out of time makes no socket and calls no control hook.
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                sock = trio.socket.socket(family, net.socktype, proto)
            except OSError as exc:
                raise self.op_error(addr, SyscallError("socket", exc)) from None
            # The kernel socket inside Trio's, called directly on this hot path (None for a
            # custom factory's socket, which is then used through its own methods).
            raw = stdlib_socket_of(sock)
            opts: AnySocket = sock if raw is None else raw
            try:
                self._setup(sock, opts, family, addr)
                if local is not None:
                    await self._bind(sock, family, addr, local)
                try:
                    await connect(sock, raw, sockaddr)
                except OSError as exc:
                    if exc.errno == _errno.EADDRNOTAVAIL and no_local_port and tries_left:
                        sock.close()
                        continue
                    raise self.op_error(addr, SyscallError("connect", exc)) from None
                if net.kind == "tcp":
                    if no_local_port and tries_left and _self_connected(opts, sockaddr):
                        sock.close()
                        continue
                    apply_keepalive(opts, keepalive_plan(self.d.keep_alive, self.d.keep_alive_config))
                return sock
            except BaseException:
                sock.close()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _setup(self, sock: trio.socket.SocketType, opts: AnySocket, family: int, addr: Addr) -> None:
        """Go's setDefaultSockopts (through *opts*), then Control with *sock* (the bind comes
        next, in ``_bind``)."""
        net = self.net
        try:
            set_default_sockopts(opts, net, family)
        except OSError as exc:
            raise self.op_error(addr, SyscallError("setsockopt", exc)) from None
        if self.d.control is not None:
            try:
                self.d.control(ctrl_network(net, family), str(addr), sock)
            except Exception as exc:
                raise self.op_error(addr, exc) from exc

    async def _bind(self, sock: trio.socket.SocketType, family: int, addr: Addr, local: Addr) -> None:
        """Bind the dialer's ``local_addr`` (a port-less IP with IP_BIND_ADDRESS_NO_PORT)."""
        net = self.net
        try:
            if isinstance(local, UnixAddr):
                if local.name:
                    await sock.bind(local.sockaddr())
                return
            port = local.port if isinstance(local, TCPAddr | UDPAddr) else 0
            if port == 0 and net.kind == "tcp":
                sock.setsockopt(_stdlib_socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
            await sock.bind(sockaddr_for(family, local.ip, port, local.zone))
        except AddrError as exc:
            raise self.op_error(addr, exc) from None
        except OSError as exc:
            raise self.op_error(addr, SyscallError("bind", exc)) from None


def _is_ipv4_addr(addr: Addr) -> bool:
    return isinstance(addr, TCPAddr | UDPAddr | IPAddr) and (addr.ip is None or is_ipv4(addr.ip))


def _describe(addr: Addr) -> tuple[str, str]:
    if isinstance(addr, UnixAddr):
        return str(addr), "unix"
    return str(addr), "ipv4" if _is_ipv4_addr(addr) else "ipv6"


def _host_part(net: Network, address: str) -> str:
    """The host of *address*, as Go names it in ``lookup HOST: ...`` errors."""
    if net.kind in ("tcp", "udp"):
        try:
            return split_host_port(address)[0]
        except AddrError:  # pragma: no cover - resolution would have failed first
            return address
    return address


def _favorite_family(net: Network, local: Addr | None, remote: Addr) -> int:
    """Go's ``favoriteAddrFamily`` for a dial."""
    if net.family != _stdlib_socket.AF_UNSPEC:  # unix, or a 4/6 network: the name decides
        return net.family
    local_v4 = local is None or (
        isinstance(local, TCPAddr | UDPAddr | IPAddr) and (local.ip is None or is_ipv4(local.ip))
    )
    if local_v4 and _is_ipv4_addr(remote):
        return _stdlib_socket.AF_INET
    return _stdlib_socket.AF_INET6


# The address values are immutable and hashable, so the socket-module form is worth caching:
# formatting an IP is a visible part of a loopback dial (IP literals get theirs once, through
# _literal_target's cache; this one serves resolved addresses).
@functools.lru_cache(maxsize=256)
def _sockaddr(family: int, addr: Addr) -> _SockAddr:
    if isinstance(addr, UnixAddr):
        return addr.sockaddr()
    port = addr.port if isinstance(addr, TCPAddr | UDPAddr) else 0
    return sockaddr_for(family, addr.ip, port, addr.zone)


def _self_connected(sock: AnySocket, remote: _SockAddr) -> bool:
    """Go's selfConnect: local and remote are the same IP and port (TCP simultaneous open)."""
    try:
        local: tuple[object, ...] = sock.getsockname()
    except OSError:
        return True
    return bool(local[1] == remote[1] and local[0] == remote[0])


@functools.lru_cache(maxsize=512)
def _literal_target(network: str, address: str) -> _Target | None:
    """``(net, addr, family, sockaddr)`` when *address* is one IP literal with a numeric port on a
    tcp or udp network (the dial needs no resolver and no race); None otherwise, errors included:
    the general path then reports them with their full context."""
    try:
        net = parse_network(network)
        addrs = addr_list_now("dial", net, address, None)
    except OSError:
        return None
    if addrs is None or len(addrs) != 1 or net.kind not in ("tcp", "udp"):
        return None
    family = _favorite_family(net, None, addrs[0])
    return net, addrs[0], family, _sockaddr(family, addrs[0])


_default_dialer: Final = Dialer()


@overload
async def dial(network: StreamNetwork, address: str) -> trio.SocketStream: ...
@overload
async def dial(network: PacketNetwork, address: str) -> PacketConn: ...
@overload
async def dial(network: str, address: str) -> trio.SocketStream | PacketConn: ...


async def dial(network: str, address: str) -> trio.SocketStream | PacketConn:
    """Connect to *address* on *network* with a default :class:`Dialer` (Go's ``Dial``).

    See :meth:`Dialer.dial` for networks, addresses, errors and cancellation.

    >>> # stream = await trionet.dial("tcp", "127.0.0.1:8080")
    """
    return await _default_dialer.dial(network, address)


@overload
async def dial_timeout(network: StreamNetwork, address: str, timeout: float) -> trio.SocketStream: ...
@overload
async def dial_timeout(network: PacketNetwork, address: str, timeout: float) -> PacketConn: ...
@overload
async def dial_timeout(network: str, address: str, timeout: float) -> trio.SocketStream | PacketConn: ...


async def dial_timeout(network: str, address: str, timeout: float) -> trio.SocketStream | PacketConn:
    """Like :func:`dial` with ``Dialer(timeout=timeout)`` (Go's ``DialTimeout``).

    The timeout covers name resolution and is spread over the addresses tried; zero or negative
    means already expired. Expiry raises :class:`OpError` ``... i/o timeout``, a
    :class:`TimeoutError`.
    """
    return await Dialer(timeout=timeout).dial(network, address)
