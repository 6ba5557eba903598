"""ListenConfig, listen, listen_packet: Go's ``net.ListenConfig`` on Trio.

One listen is (Go's ``ListenConfig.Listen``/``ListenPacket``): parse the network → resolve the
passive address with the default resolver → take the first IPv4 address, else the first
(``first(isIPv4)``) → check the address type fits the call → choose the family
(``favoriteAddrFamily``: a wildcard on plain ``tcp``/``udp`` is one dual-stack AF_INET6 socket)
→ the socket layer's listen (:mod:`trionet._sock`: ``socket()``, MPTCP first for TCP and plain
TCP on any failure, Go's default options, ``SO_REUSEADDR`` for stream listeners,
``SO_REUSEPORT`` when asked, ``control``, ``bind``, ``listen(backlog)``). Every failure is an
:class:`OpError` ``listen NET ADDR: ...``, wrapped here once; bad input fails before any socket
exists.

What may live here: everything up to a bound, listening socket — options, address and family
choice, the backlog, socket creation. What the socket does afterwards (accept, keep-alive on
accepted connections, close) is :mod:`trionet._listener`, which this module imports; ``serve``
is :mod:`trionet._listen_serve`, which imports this one.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, final, overload

import trio

from ._address import Addr, IPAddr, TCPAddr, UDPAddr, UnixAddr, check_address_args
from ._addrlist import HostResolver, first
from ._errors import AddrError, OpError, SyscallError, UnknownNetworkError
from ._listener import Listener, has_keepalive
from ._network import Control, Network, parse_network
from ._packetconn import PacketConn
from ._resolver import default_resolver, resolve_addr_list
from ._sock import ControlError, favorite_family, listen_socket
from ._sockopt import (
    IPPROTO_MPTCP,
    KeepAliveConfig,
    check_keep_alive,
    keepalive_plan,
    mptcp_available,
    mptcp_default,
)

__all__ = [
    "DEFAULT_LISTEN_CONFIG",
    "ListenConfig",
    "StreamListenNetwork",
    "listen",
    "listen_packet",
    "listener_backlog",
]


StreamListenNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
#: The TCP network names of :func:`listen`, whose listeners have a :class:`TCPAddr` address.
TCPListenNetwork = Literal["tcp", "tcp4", "tcp6"]
#: What :func:`listen` returns for each network (the address type follows the network).
TCPListener: TypeAlias = Listener[trio.SocketStream, TCPAddr]
UnixListener: TypeAlias = Listener[trio.SocketStream, UnixAddr]
UnixPacketListener: TypeAlias = Listener[PacketConn, UnixAddr]
#: What :func:`listen` returns for a network name not known until run time.
AnyListener: TypeAlias = TCPListener | UnixListener | UnixPacketListener

_SOMAXCONN_FALLBACK: Final = 128  # Linux's syscall.SOMAXCONN, Go's fallback
_C_INT_MAX: Final = 2**31 - 1  # socket.listen() takes a C int


def listener_backlog(somaxconn: str | None, kernel_release: str) -> int:
    """Go's ``maxListenerBacklog``: the backlog from ``/proc/sys/net/core/somaxconn``'s text.

    The first field's leading digits; unreadable (None), non-numeric or 0 → 128; above 65535,
    capped at 2**16-1 before Linux 4.1 and 2**32-1 after (Go's ``maxAckBacklog``, issues 5030
    and 41470) — and at the C ``int`` maximum that :meth:`socket.socket.listen` accepts.
    """
    fields = (somaxconn or "").split("\n", 1)[0].split()
    digits = re.match(r"\d+", fields[0]) if fields else None
    n = int(digits.group()) if digits else 0
    if n == 0:
        return _SOMAXCONN_FALLBACK
    if n > 0xFFFF:
        version = re.match(r"(\d+)\.(\d+)", kernel_release)
        new = version is not None and (int(version[1]), int(version[2])) >= (4, 1)
        n = min(n, 2**32 - 1 if new else 2**16 - 1)
    return min(n, _C_INT_MAX)


@functools.cache
def _system_backlog() -> int:
    try:
        with open("/proc/sys/net/core/somaxconn", encoding="ascii") as f:
            text: str | None = f.read()
    except (OSError, ValueError):
        text = None
    return listener_backlog(text, os.uname().release)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ListenConfig:
    """Options for listening (Go's ``net.ListenConfig``). Immutable; safe to share.

    ``ListenConfig()`` with no arguments is what :func:`listen` and :func:`listen_packet` use.
    Host names in listen addresses are resolved with :data:`default_resolver` (Go's
    ``ListenConfig`` has no resolver either); the caller's cancel scopes bound that resolution
    and the bind, and do not affect the returned listener.

    Args:
        control: called as ``control(network, address, sock)`` after the socket is created and
            its default options are set, before ``bind``, with the family-specific network
            (``"tcp4"``, ``"udp6"``, ``"ip4"``, ``"unix"``) and the address about to be bound,
            as Go passes it: the one picked from the address list (``":0"``,
            ``"127.0.0.1:0"``; ``"[::]:0"`` on ``tcp`` is ``"0.0.0.0:0"``, Go's first-IPv4
            pick), and for a multicast group the wildcard bound in its place
            (``"0.0.0.0:5353"``). Raising aborts the listen; the exception becomes the
            :class:`OpError`'s ``err``. None: no hook.
        keep_alive: TCP keep-alive idle time applied to every accepted connection. None or 0:
            enabled with 15 s; positive: that idle time (rounded up to whole seconds);
            negative: keep-alive left untouched. Ignored when *keep_alive_config* is enabled.
        keep_alive_config: full keep-alive settings for accepted connections; used when its
            ``enable`` is true (see :class:`KeepAliveConfig`). None: use *keep_alive*.
        reuse_port: set ``SO_REUSEPORT`` so several sockets share a port (the kernel spreads
            connections between them). TCP, UDP and raw IP only: with a unix network the
            listen fails with ``setsockopt: operation not supported`` before any socket is
            created, which is what Linux would answer.
        multipath_tcp: Multipath TCP for ``tcp*`` listeners. None: on where the kernel supports
            it, unless ``TRIONET_MULTIPATHTCP`` is 0 or 3 (Go's ``GODEBUG=multipathtcp``). A
            listener that cannot use MPTCP for any reason is made with plain TCP; an MPTCP
            listener also accepts plain TCP clients.
        backlog: the ``listen()`` queue length. None: the system maximum read from
            ``/proc/sys/net/core/somaxconn`` by Go's rules (128 if unreadable or 0). 0: the
            kernel's minimum. Negative values are rejected.

    Raises:
        ValueError: a negative *backlog*, a NaN *keep_alive*, or one above 32767 seconds.
        TypeError: a non-integer *backlog*, a non-callable *control*, a *keep_alive* that is
            not a number, or a *keep_alive_config* that is not a :class:`KeepAliveConfig`.
    """

    control: Control | None = None
    keep_alive: float | None = None
    keep_alive_config: KeepAliveConfig | None = None
    reuse_port: bool = False
    multipath_tcp: bool | None = None
    backlog: int | None = None

    def __post_init__(self) -> None:
        check_keep_alive(self.keep_alive, self.keep_alive_config)
        if self.control is not None and not callable(self.control):
            raise TypeError(f"control must be callable or None, not {self.control!r}")
        if self.backlog is not None:
            if isinstance(self.backlog, bool) or not isinstance(self.backlog, int):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"backlog must be an int or None, not {self.backlog!r}")
            if self.backlog < 0:
                raise ValueError(f"backlog must be >= 0, not {self.backlog!r}")

    def multipath_tcp_enabled(self) -> bool:
        """Whether MPTCP will be requested for TCP listeners (Go's ``ListenConfig.MultipathTCP``).

        This does not check that the kernel supports it.
        """
        if self.multipath_tcp is not None:
            return self.multipath_tcp
        return mptcp_default(listener=True)

    @overload
    async def listen(self, network: TCPListenNetwork, address: str) -> TCPListener: ...
    @overload
    async def listen(self, network: Literal["unix"], address: str) -> UnixListener: ...
    @overload
    async def listen(self, network: Literal["unixpacket"], address: str) -> UnixPacketListener: ...
    @overload
    async def listen(self, network: str, address: str) -> AnyListener: ...

    async def listen(self, network: str, address: str) -> AnyListener:
        """Listen for connections on *address* (Go's ``ListenConfig.Listen``).

        Networks: ``tcp tcp4 tcp6 unix`` (accepting :class:`trio.SocketStream`) and
        ``unixpacket`` (accepting connected :class:`PacketConn`). An empty host or an
        unspecified address (``":8080"``, ``"0.0.0.0:8080"``, ``"[::]:8080"``) is every local
        address — on plain ``tcp``, one dual-stack IPv6 socket; port ``0`` or ``""`` picks a free
        port (see :attr:`Listener.addr`). A host name listens on its first IPv4 address.

        Raises:
            OpError: ``listen baz: unknown network baz``, ``listen tcp 127.0.0.1:8080: bind:
                address already in use``, and the like.
        """
        return await self._listen(network, address, default_resolver)

    async def _listen(self, network: str, address: str, resolver: HostResolver) -> AnyListener:
        # The resolver is a parameter only so tests can pass a scripted one (Go's tests use a
        # hook); the public API always uses the default resolver, as Go's ListenConfig does.
        net, la = await self._resolve(network, address, resolver)
        if isinstance(la, UnixAddr) and net.afnet in ("unix", "unixpacket"):
            sock = await self._open(net, la, 0, self._stream_backlog())
            unlink = la.name if la.name and not la.name.startswith("@") else None
            if net.afnet == "unix":
                return Listener(sock, net, trio.SocketStream, None, unlink)
            return Listener(sock, net, functools.partial(PacketConn, network=net.name), None, unlink)
        if isinstance(la, TCPAddr):
            backlog = self._stream_backlog()
            if self.multipath_tcp_enabled() and mptcp_available():
                try:
                    sock = await self._open(net, la, IPPROTO_MPTCP, backlog)
                except OSError:  # Go's listenMPTCP: on any error, listen again with plain TCP
                    sock = await self._open(net, la, 0, backlog)
            else:
                sock = await self._open(net, la, 0, backlog)
            plan = keepalive_plan(self.keep_alive, self.keep_alive_config)
            # _open set the plan on the listening socket; Linux copies keep-alive settings into
            # every accepted socket (the child is a clone of the listener), so the per-accept
            # setsockopt calls of Go's newTCPConn are only needed if that did not take.
            per_accept = None if has_keepalive(sock, plan) else plan
            return Listener(sock, net, trio.SocketStream, per_accept, None)
        raise _unexpected(net, la, address)

    async def listen_packet(self, network: str, address: str) -> PacketConn:
        """Open an unconnected packet socket on *address* (Go's ``ListenConfig.ListenPacket``).

        Networks: ``udp udp4 udp6``, ``ip ip4 ip6`` with ``:PROTO`` (raw sockets, which need
        ``CAP_NET_RAW``; the address is a host without port) and ``unixgram``. Address rules
        are as for :meth:`listen`; a ``unixgram`` socket file is never removed on close (Go).
        A UDP multicast address binds the wildcard with ``SO_REUSEADDR`` (Go's
        ``listenDatagram``); joining the group is up to you.

        Raises:
            OpError: as for :meth:`listen`.
        """
        return await self._listen_packet(network, address, default_resolver)

    async def _listen_packet(self, network: str, address: str, resolver: HostResolver) -> PacketConn:
        net, la = await self._resolve(network, address, resolver)
        if isinstance(la, UnixAddr) and net.afnet == "unixgram":
            return PacketConn(await self._open(net, la, 0, None), net.name)
        if isinstance(la, UDPAddr | IPAddr):
            return PacketConn(await self._open(net, la, net.proto, None), net.name)
        raise _unexpected(net, la, address)

    async def _resolve(self, network: str, address: str, resolver: HostResolver) -> tuple[Network, Addr]:
        try:
            check_address_args(network, address)  # TypeError for (host, port) and the like
        except AddrError as exc:
            raise OpError("listen", network, None, None, exc) from None
        try:
            net = parse_network(network)
        except (UnknownNetworkError, AddrError) as exc:
            raise OpError("listen", network, None, None, exc) from None
        try:
            addrs = await resolve_addr_list(resolver, "listen", net, address, None)
        except OSError as exc:
            raise OpError("listen", net.name, None, None, exc) from None
        la = first(addrs, ipv4=True)  # Go's addrList.first(isIPv4)
        if self.reuse_port and net.is_unix:
            # Linux refuses SO_REUSEPORT on AF_UNIX (EOPNOTSUPP since 6.12.9): say so up front.
            refused = OSError(_errno.EOPNOTSUPP, os.strerror(_errno.EOPNOTSUPP))
            raise OpError("listen", net.name, None, la, SyscallError("setsockopt", refused))
        return net, la

    def _stream_backlog(self) -> int:
        return _system_backlog() if self.backlog is None else min(self.backlog, _C_INT_MAX)

    async def _open(self, net: Network, la: Addr, proto: int, backlog: int | None) -> trio.socket.SocketType:
        """The socket layer's listen (socket → options → control → bind → listen when *backlog*
        is not None), its errors wrapped once: ``listen NET ADDR: ...``."""
        try:
            return await listen_socket(
                net,
                favorite_family(net, la, None, listen=True),
                proto,
                la,
                control=self.control,
                backlog=backlog,
                reuse_port=self.reuse_port,
                keepalive=keepalive_plan(self.keep_alive, self.keep_alive_config)
                if net.kind == "tcp"
                else None,
            )
        except ControlError as exc:
            raise OpError("listen", net.name, None, la, exc.err) from exc.err
        except OSError as exc:
            raise OpError("listen", net.name, None, la, exc) from None


def _unexpected(net: Network, la: Addr, address: str) -> OpError:
    if isinstance(la, UnixAddr):
        # Go: listenUnix / listenUnixgram reject the other unix networks this way.
        return OpError("listen", net.name, None, la, UnknownNetworkError(net.name))
    return OpError("listen", net.name, None, la, AddrError("unexpected address type", address))


#: What :func:`listen`, :func:`listen_packet` and ``serve`` use: Go's zero ``ListenConfig``.
DEFAULT_LISTEN_CONFIG: Final = ListenConfig()


@overload
async def listen(network: TCPListenNetwork, address: str) -> TCPListener: ...
@overload
async def listen(network: Literal["unix"], address: str) -> UnixListener: ...
@overload
async def listen(network: Literal["unixpacket"], address: str) -> UnixPacketListener: ...
@overload
async def listen(network: str, address: str) -> AnyListener: ...


async def listen(network: str, address: str) -> AnyListener:
    """Listen on *address* with a default :class:`ListenConfig` (Go's ``Listen``).

    See :meth:`ListenConfig.listen`.
    """
    return await DEFAULT_LISTEN_CONFIG.listen(network, address)


async def listen_packet(network: str, address: str) -> PacketConn:
    """A packet socket on *address* with a default :class:`ListenConfig` (Go's ``ListenPacket``).

    See :meth:`ListenConfig.listen_packet`.
    """
    return await DEFAULT_LISTEN_CONFIG.listen_packet(network, address)
