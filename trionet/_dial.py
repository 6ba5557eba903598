"""Dialer, dial, dial_timeout: Go's ``net.Dialer`` on Trio, in ``DialContext``'s steps.

:meth:`Dialer.dial` is Go's ``DialContext``, and reads as it does:

1. **plan** (:func:`_plan`, pure and cached): parse the network and the local address, and
   take the addresses that need no lookup (IP literals, unix paths), or note that a lookup is
   needed. Go does this at the start of ``resolveAddrList``.
2. open the dialer's own cancel scope (``timeout``/``deadline``: Go's ``Dialer.deadline``);
3. **resolve** (:func:`_resolve`): the rest of ``resolveAddrList``, asking the resolver;
4. **partition** (``_addrlist.partition``, Go's ``addrList.partition``): primaries and
   fallbacks, for network ``"tcp"`` with fast fallback on;
5. **race or single attempt** (:func:`_dial_steps`, :func:`_race`): one address and nobody
   tracing is one attempt; anything else goes to the strategy chosen at one marked point (Go's
   ``dialParallel`` and ``dialSerial``, in ``_happy_eyeballs``), whose attempts are
   ``_attempt.SysDialer.attempt`` (Go's ``dialSingle``).

The one big rule: **the caller's cancel scopes are Go's context.** An enclosing scope's deadline
counts when the time is split between addresses, and its cancellation propagates as a bare
:class:`trio.Cancelled`. Only the dialer's *own* ``timeout``/``deadline`` becomes an error
(``dial tcp 192.0.2.1:80: i/o timeout``, a :class:`TimeoutError`), exactly as
:func:`trio.fail_after` converts only its own expiry. Which address that error names follows
from one field, ``SysDialer.in_flight``: see :func:`_timed_out`.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from typing import Final, Literal, final, overload

import trio

from . import trace
from ._address import (
    MAX_ADDRESS_LENGTH,
    Addr,
    IPAddr,
    TCPAddr,
    UDPAddr,
    UnixAddr,
    check_address_args,
    split_host_port,
)
from ._addrlist import addr_list_now, is_ipv4_addr, lookup_addr_list, parse_local_addr, partition
from ._attempt import SysDialer, Target
from ._deadline import check_duration, own_deadline
from ._errors import AddrError, DNSError, OpError, UnknownNetworkError, io_timeout
from ._happy_eyeballs import Race
from ._network import Control, Network, parse_network
from ._packetconn import PacketConn
from ._resolver import Resolver, default_resolver, hosts_addr_list_now
from ._rfc8305 import HappyEyeballs
from ._rfc8305_dial import dial_rfc8305
from ._sock import favorite_family
from ._sockaddr import sockaddr_of
from ._sockopt import KeepAliveConfig, check_keep_alive, mptcp_default

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

__all__ = ["Control", "Dialer", "dial", "dial_timeout", "new_race"]

#: Go's default fast-fallback delay (RFC 6555 suggests 300 ms; dial.go uses it).
DEFAULT_FALLBACK_DELAY: Final = 0.300

StreamNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
PacketNetwork = Literal["udp", "udp4", "udp6", "unixgram", "unixpacket"]


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
            that idle time (rounded up to whole seconds); negative (``-math.inf`` included):
            keep-alive left untouched. Ignored when *keep_alive_config* has ``enable=True``.
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
        happy_eyeballs: None (the default): Go's algorithm, unchanged (RFC 6555 fast fallback,
            serial attempts with partial deadlines, *fallback_delay*). A
            :class:`HappyEyeballs`: the RFC 8305 strategy for ``tcp``, ``tcp4`` and ``tcp6``
            dials (A and AAAA asked at once, families interlaced, a new attempt every
            ``attempt_delay`` while earlier ones keep running); *fallback_delay* is then
            ignored and attempts get no partial deadlines, the *timeout* covering the whole
            strategy. Other networks ignore it. See :doc:`happy-eyeballs`.

    Raises:
        ValueError: a NaN duration, an int duration too large for a float (``10**400``: use
            None or ``math.inf``), *keep_alive* above 32767 seconds (the kernel's limit;
            ``math.inf`` too), or a *local_addr* string longer than any address.
        TypeError: a duration that is not a number, a non-callable *control*, a *local_addr*
            that is neither an address nor a string, a *keep_alive_config* that is not a
            :class:`KeepAliveConfig`, or a *happy_eyeballs* that is not a
            :class:`HappyEyeballs`.
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
    happy_eyeballs: HappyEyeballs | None = None

    def __post_init__(self) -> None:
        check_duration("timeout", self.timeout)
        check_duration("deadline", self.deadline)
        check_duration("fallback_delay", self.fallback_delay)
        check_keep_alive(self.keep_alive, self.keep_alive_config)
        if self.local_addr is not None and not isinstance(  # pyright: ignore[reportUnnecessaryIsInstance]
            self.local_addr, str | TCPAddr | UDPAddr | IPAddr | UnixAddr
        ):
            raise TypeError(f"local_addr must be an address, a string or None, not {self.local_addr!r}")
        if isinstance(self.local_addr, str) and len(self.local_addr) > MAX_ADDRESS_LENGTH:
            raise ValueError(f"local_addr is longer than any address ({len(self.local_addr)} characters)")
        if self.control is not None and not callable(self.control):
            # Fail at construction, not at the first dial (ListenConfig does the same).
            raise TypeError(f"control must be callable or None, not {self.control!r}")
        if self.happy_eyeballs is not None and not isinstance(self.happy_eyeballs, HappyEyeballs):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"happy_eyeballs must be a HappyEyeballs or None, not {self.happy_eyeballs!r}")

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
        if type(address) is not str or type(network) is not str or len(address) > MAX_ADDRESS_LENGTH:
            _check_args(network, address)  # (before any cache; one test on the hot path)
        plan = _plan(network, address, self.local_addr)  # step 1 (raises the OpError)
        sd = SysDialer(self, plan.net, address, plan.local, trace.start())
        if self.timeout is None and self.deadline is None:
            own = math.inf  # (no clock read: this is the hot path)
        else:
            own = own_deadline(trio.current_time(), self.timeout, self.deadline)
        try:
            if own == math.inf:
                return await _dial_steps(sd, plan, own)
            with trio.CancelScope(deadline=own):  # step 2: the dialer's own deadline
                return await _dial_steps(sd, plan, own)
            # Our own deadline expired. If an enclosing scope expired in the same instant, its
            # cancellation wins: outer cancellation is never converted into an error.
            await trio.lowlevel.checkpoint_if_cancelled()
        except trio.Cancelled:
            _trace_done(sd, None, None, cancelled=True)
            raise
        raise _timed_out(sd)


def _check_args(network: object, address: object) -> None:
    """The TypeError for a wrong argument type, or the OpError for an over-long address."""
    try:
        check_address_args(network, address)
    except AddrError as exc:
        raise OpError("dial", str(network), None, None, exc) from None


@final
@dataclass(frozen=True, slots=True)
class _Plan:
    """What a dial can know before any I/O (step 1), cached per (network, address, local)."""

    net: Network
    local: Addr | None
    #: The addresses when no lookup is needed (IP literals, a unix path); None: resolve.
    addrs: tuple[Addr, ...] | None
    #: ``(family, sockaddr)`` of ``addrs[0]`` when it is the only one (the attempt's input).
    target: Target | None


@functools.lru_cache(maxsize=512)
def _plan(network: str, address: str, local_addr: Addr | str | None) -> _Plan:
    """Step 1, pure: Go's ``parseNetwork`` and the part of ``resolveAddrList`` that needs no
    resolver (the local address, IP literals with numeric ports, unix paths).

    Cached (the values are immutable): the whole of this step for ``dial("tcp",
    "127.0.0.1:8080")`` is one dictionary lookup. Errors are not cached.

    Raises:
        OpError: ``dial NET: ...`` around the :class:`UnknownNetworkError` or
            :class:`AddrError` (Go: ``Source`` and ``Addr`` nil).
    """
    try:
        net = parse_network(network)
    except (UnknownNetworkError, AddrError) as exc:
        raise OpError("dial", network, None, None, exc) from None
    try:
        local = (
            parse_local_addr(net.kind, net.afnet, local_addr) if isinstance(local_addr, str) else local_addr
        )
        addrs = addr_list_now("dial", net, address, local)
    except OSError as exc:
        raise OpError("dial", net.name, None, None, exc) from None
    target = None
    if addrs is not None and len(addrs) == 1:
        family = favorite_family(net, local, addrs[0])
        try:
            target = (family, sockaddr_of(family, addrs[0]))
        except OSError:  # the attempt reports it, with the address (a unix name with a NUL)
            target = None
    return _Plan(net, local, addrs, target)


async def _dial_steps(sd: SysDialer, plan: _Plan, own: float) -> trio.SocketStream | PacketConn:
    """Steps 3 to 5 under the dialer's own scope, and the result wrapped (Go's ``newTCPConn``)."""
    tracer = sd.tracer
    if tracer is not None:
        tracer.emit(
            trace.DialStart(
                **tracer.stamp(),
                network=sd.net.name,
                address=sd.address,
                deadline=min(own, trio.current_effective_deadline()),
                own_deadline=own,
            )
        )
    try:
        addrs = plan.addrs
        if addrs is None and tracer is None:
            # A hosts-file name already in memory needs no lookup, in either strategy: its
            # addresses are all in at once, as a literal's are, so localhost costs what an IP
            # literal does. (Traced dials look it up, for the resolve events.)
            addrs = hosts_addr_list_now(sd.d.resolver or default_resolver, sd.net, sd.address, sd.local)
        he = sd.d.happy_eyeballs
        if he is not None and sd.net.kind == "tcp":
            # The RFC 8305 strategy (Dialer.happy_eyeballs): resolving and connecting overlap
            # (its §3), so it takes steps 3 to 5 as one (``_rfc8305_dial``).
            sock, addr = await dial_rfc8305(sd, he, addrs, plan.target)
        else:
            if addrs is None:
                addrs = await _resolve(sd)  # step 3
            if len(addrs) == 1 and tracer is None:
                # Step 5, one attempt: one address and nobody tracing, so no race object and no
                # partial deadline (all the time is this address's anyway). A traced dial takes
                # the race, which for one address is a plain serial walk (no nursery) that
                # reports its attempt. (Inline: a coroutine layer less on the hot path.)
                addr = sd.in_flight = addrs[0]
                sock = await sd.attempt(addr, target=plan.target)
            else:
                sock, addr = await _race(sd, addrs)  # steps 4 and 5
    except OSError as exc:
        if tracer is not None:
            _trace_done(sd, None, exc)
        raise
    if tracer is not None:
        _trace_done(sd, addr, None)
    if sd.net.is_stream:
        return trio.SocketStream(sock)
    assert not isinstance(addr, TCPAddr)  # a packet network resolves to no TCP address
    return PacketConn(sock, sd.net.name, remote_addr=addr)


async def _resolve(sd: SysDialer) -> tuple[Addr, ...]:
    """Step 3: the half of Go's ``resolveAddrList`` that asks the resolver (a host name, or a
    service-name port), with the trace's resolve events."""
    sd.in_flight = "resolve"  # the dialer's own timeout now reads as a lookup timeout
    resolver = sd.d.resolver or default_resolver
    try:
        return await lookup_addr_list(_traced(resolver, sd.tracer), "dial", sd.net, sd.address, sd.local)
    except OSError as exc:
        raise OpError("dial", sd.net.name, None, None, exc) from None


async def _race(sd: SysDialer, addrs: tuple[Addr, ...]) -> tuple[trio.socket.SocketType, Addr]:
    """Steps 4 and 5 for several addresses or a traced dial: partition, then the strategy
    (Go's end of ``DialContext``: ``partition``, then ``dialParallel``)."""
    d = sd.d
    delay = DEFAULT_FALLBACK_DELAY if d.fallback_delay is None else d.fallback_delay
    if sd.net.name == "tcp" and delay >= 0:  # Go: d.dualStack() && network == "tcp"
        primaries, fallbacks = partition(addrs, is_ipv4_addr)
    else:
        primaries, fallbacks = list(addrs), []
    # The strategy: the one place it is chosen. Go's dialParallel (RFC 6555 fast fallback).
    race = new_race(sd)
    sd.in_flight = race
    try:
        return await race.dial_parallel(primaries, fallbacks, delay)
    except OSError as exc:
        others = [e for e in race.errors if e is not exc]
        if others:
            # Go returns only the first primary error (golang/go#18183); keep the others in
            # __cause__, each once: the error raised is not repeated inside the group, so a
            # traceback prints every attempt's error exactly once (issue 11 item 14).
            raise exc from ExceptionGroup("the other dial attempts failed too", others)
        raise


def new_race(sd: SysDialer) -> Race[Addr, trio.socket.SocketType]:
    """The race of one dial: Go's ``dialParallel`` over *sd*'s attempts (the timing tests build
    theirs here too)."""
    return Race(sd, sd.tracer)


def _timed_out(sd: SysDialer) -> OpError:
    """The error for the dialer's own timeout, from what was in flight when it expired.

    The lookup: ``dial tcp: lookup HOST: i/o timeout``. One attempt: ``dial tcp ADDR: i/o
    timeout``. A strategy: what it says (Go's ``dialSerial`` rule, see
    :meth:`Race.expired_error`), with the earlier attempts' errors as ``__cause__``.
    """
    step = sd.in_flight
    error: OSError
    if isinstance(step, str):  # "resolve"
        host = _host_part(sd.net, sd.address)
        error = OpError("dial", sd.net.name, None, None, DNSError("i/o timeout", host, is_timeout=True))
    elif step is None or isinstance(step, TCPAddr | UDPAddr | IPAddr | UnixAddr):
        error = sd.timeout_error(step) if step is not None else sd.op_error(None, io_timeout())
    else:
        error = step.expired_error()
        others = [e for e in step.errors if e is not error]
        if others:
            error.__cause__ = ExceptionGroup("dial attempts before the timeout", others)
    assert isinstance(error, OpError)
    tracer = sd.tracer
    if tracer is not None:
        tracer.emit(trace.DialDone(**tracer.stamp(), winner=None, error=error, timed_out=True))
    return error


def _trace_done(sd: SysDialer, addr: Addr | None, error: OSError | None, *, cancelled: bool = False) -> None:
    """Emit the DialDone event (success, failure, or an enclosing scope's cancellation)."""
    tracer = sd.tracer
    if tracer is None:
        return
    tracer.emit(
        trace.DialDone(
            **tracer.stamp(),
            winner=None if addr is None else str(addr),
            error=error,
            cancelled=cancelled,
        )
    )


def _host_part(net: Network, address: str) -> str:
    """The host of *address*, as Go names it in ``lookup HOST: ...`` errors."""
    if net.kind in ("tcp", "udp"):
        try:
            return split_host_port(address)[0]
        except AddrError:  # pragma: no cover - resolution would have failed first
            return address
    return address


class _TracedResolver:
    """A resolver whose host lookups emit the dial's ResolveStart/ResolveDone events."""

    __slots__ = ("_resolver", "_tracer")

    def __init__(self, resolver: Resolver, tracer: trace.Tracer) -> None:
        self._resolver = resolver
        self._tracer = tracer

    async def lookup_port(self, network: str, service: str) -> int:
        return await self._resolver.lookup_port(network, service)

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        tracer = self._tracer
        tracer.emit(trace.ResolveStart(**tracer.stamp(), host=host))
        try:
            ips = await self._resolver.lookup_ip_addr(host, network=network)
        except trio.Cancelled as exc:  # every ResolveStart gets its ResolveDone (issue 11 item 7)
            tracer.emit(trace.ResolveDone(**tracer.stamp(), host=host, addrs=(), error=exc, cancelled=True))
            raise
        except OSError as exc:
            tracer.emit(trace.ResolveDone(**tracer.stamp(), host=host, addrs=(), error=exc))
            raise
        tracer.emit(trace.ResolveDone(**tracer.stamp(), host=host, addrs=tuple(str(a) for a in ips)))
        return ips


def _traced(resolver: Resolver, tracer: trace.Tracer | None) -> Resolver | _TracedResolver:
    return resolver if tracer is None else _TracedResolver(resolver, tracer)


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
