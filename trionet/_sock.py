"""The socket layer: Go's ``sock_posix.go`` ``socket()`` and ``fd_unix.go`` ``connect``, on Trio.

One sequence for dialing and listening: ``socket()`` → default options
(``setDefaultSockopts``, and the listener and multicast ones) → the ``control`` hook → ``bind``
(``IP_BIND_ADDRESS_NO_PORT`` for a port-less dial, unix autobind, the wildcard for a multicast
group) → ``connect`` or ``listen``. Also here: the address family choice both use
(``favoriteAddrFamily``) and the one place that touches Trio's internals
(:func:`stdlib_socket_of`).

Errors are raised bare, named by the call that failed (:class:`SyscallError` ``connect:
connection refused``, an :class:`AddrError` for an address the kernel cannot take, a
:class:`ControlError` around what the hook raised): the dial and the listen each wrap them in
their :class:`OpError` once. The socket is closed on every failure, cancellation included.

Why our own ``connect``: Trio's ``SocketType.connect`` treats every :class:`BlockingIOError` as
"connection in progress" and waits for writability. Go waits only for ``EINPROGRESS``,
``EALREADY`` and ``EINTR``; any other errno is the dial's error. The difference shows on unix
sockets: a listener whose backlog is full makes ``connect`` fail with ``EAGAIN`` at once, the
socket then polls writable without being connected, and Trio's connect returns "success" on a
socket that is not connected. Go says ``connect: resource temporarily unavailable``, and so does
trionet. Doing the call here also skips what Trio's connect does for a general caller and a dial
never needs (re-checking an address the dialer built itself, an async context manager around one
system call): a visible share of a loopback dial.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import socket as _stdlib_socket
from typing import Any, Final

import trio

from ._address import Addr, TCPAddr, UDPAddr, UnixAddr, is_wildcard
from ._addrlist import ip_of, is_ipv4_addr
from ._errors import AddrError, SyscallError
from ._network import Control, Network, ctrl_network
from ._sockaddr import sockaddr_for
from ._sockopt import AnySocket, KeepAlivePlan, apply_keepalive, set_default_sockopts

__all__ = [
    "ControlError",
    "connect",
    "dial_socket",
    "favorite_family",
    "listen_socket",
    "stdlib_socket_of",
]


class ControlError(Exception):
    """What the ``control`` hook raised (*err*), so the caller can make it the OpError's
    ``err`` and chain it as the cause (the hook's own traceback is the useful one)."""

    def __init__(self, err: Exception) -> None:
        super().__init__(err)
        self.err = err


# -- Trio's internals: the one place that touches them -------------------------------------------
#
# Trio's sockets are instances of the private ``trio._socket._SocketType`` and keep the
# standard-library socket in the private ``_sock`` attribute; the public ``trio.socket.SocketType``
# is an abstract base with no such accessor. Trio's maintainers discussed the two classes in
# https://github.com/python-trio/trio/issues/2720 ("Handling _SocketType and SocketType", closed
# without a public accessor); anyio notes the same need in
# https://github.com/agronholm/anyio/issues/93 ("some back-ends require accessing a private
# attribute to get the raw socket"). We use them for speed only: setsockopt/getsockname/connect
# on the standard-library socket skip a Python wrapper layer each, about 10% of a loopback dial.
#
# If a Trio release renames the class, the import below fails and _TrioSocket is None; if it
# renames ``_sock``, getattr returns None. Either way stdlib_socket_of returns None for every
# socket and every call goes through Trio's public socket methods: nothing breaks, dials get
# slower. tests/test_sock.py checks that Trio's sockets do take the direct path (so a move
# is noticed) and that other classes are used through their own methods.

#: The class of the sockets Trio itself makes, or None if a Trio release moves it.
_TrioSocket: type[trio.socket.SocketType] | None
try:
    from trio._socket import _SocketType as _TrioSocket  # pyright: ignore[reportPrivateUsage]
except ImportError:  # pragma: no cover
    _TrioSocket = None
#: The run variable behind trio.socket.set_custom_socket_factory, or None if a release moves it.
_factory_var: Any
try:
    from trio._socket import _socket_factory as _factory_var  # pyright: ignore[reportPrivateUsage]
except ImportError:  # pragma: no cover
    _factory_var = None


def sockets_are_trios() -> bool:
    """Whether :func:`trio.socket.socket` makes Trio's own sockets in this run (no custom socket
    factory is set), so that :func:`stdlib_socket_of` will take every socket it makes. False
    when one is set, and whenever Trio's internals moved (then nobody may assume it)."""
    if _TrioSocket is None or _factory_var is None:
        return False
    try:
        return _factory_var.get(None) is None
    except (LookupError, RuntimeError):  # pragma: no cover - outside a Trio run
        return False


def stdlib_socket_of(sock: trio.socket.SocketType) -> _stdlib_socket.socket | None:
    """The standard-library socket inside *sock* if it is exactly one of Trio's own sockets;
    None for any other object.

    Any other class (a custom socket factory's own, :class:`trionet.testing.FakeNet`'s fake
    sockets, a subclass of Trio's that overrides ``connect`` or ``setsockopt``) is used through
    its own methods, as is a Trio socket if a Trio release ever moves ``_sock``: always correct,
    only slower. (A factory that returns Trio's own sockets gets the direct calls; it then has
    nothing of its own to bypass.)
    """
    if _TrioSocket is None or type(sock) is not _TrioSocket:
        return None
    raw = getattr(sock, "_sock", None)
    return raw if isinstance(raw, _stdlib_socket.socket) else None


# -- The address family ---------------------------------------------------------------------------
@functools.cache
def _ip_stack() -> tuple[bool, bool]:
    """Go's ``ipStackCapabilities.probe``: (IPv4 works, IPv4-mapped IPv6 works), probed once."""
    try:
        _stdlib_socket.socket(_stdlib_socket.AF_INET, _stdlib_socket.SOCK_STREAM).close()
        ipv4 = True
    except OSError:
        ipv4 = False
    try:
        with _stdlib_socket.socket(_stdlib_socket.AF_INET6, _stdlib_socket.SOCK_STREAM) as s:
            s.setsockopt(_stdlib_socket.IPPROTO_IPV6, _stdlib_socket.IPV6_V6ONLY, 0)
            s.bind(("::ffff:127.0.0.1", 0))
        v4map = True
    except OSError:
        v4map = False
    return ipv4, v4map


def favorite_family(net: Network, laddr: Addr | None, raddr: Addr | None, *, listen: bool = False) -> int:
    """Go's ``favoriteAddrFamily``: the socket family for a dial (*raddr* given) or a listen.

    A ``4``/``6`` network or a unix one decides by its name. A listen on a wildcard address of
    plain ``tcp``/``udp``/``ip`` gets one dual-stack ``AF_INET6`` socket where IPv4-mapped
    addresses work (only ``*6`` networks are IPv6-only; see :func:`set_default_sockopts`).
    Otherwise ``AF_INET`` when both ends are IPv4 (or absent), else ``AF_INET6``.
    """
    if net.family != _stdlib_socket.AF_UNSPEC:  # unix, or a 4/6 network: the name decides
        return net.family
    if listen and laddr is not None:
        ip = ip_of(laddr)
        if is_wildcard(ip):
            ipv4, v4map = _ip_stack()
            if v4map or not ipv4:
                return _stdlib_socket.AF_INET6  # one dual-stack socket
            if ip is None:
                return _stdlib_socket.AF_INET
    if (laddr is None or is_ipv4_addr(laddr)) and (raddr is None or is_ipv4_addr(raddr)):
        return _stdlib_socket.AF_INET
    return _stdlib_socket.AF_INET6


# -- connect(2) as Go's netFD.connect does it ------------------------------------------------------

#: Go's "the connection is on its way, wait for writability" errnos, for connect() and SO_ERROR.
_IN_PROGRESS: Final = frozenset({_errno.EINPROGRESS, _errno.EALREADY, _errno.EINTR})


async def connect(sock: trio.socket.SocketType, raw: _stdlib_socket.socket | None, sockaddr: object) -> None:
    """Connect *sock* to *sockaddr* (already in the socket module's form), as Go does.

    *raw* is ``stdlib_socket_of(sock)``: the call is made on it when there is one, else through
    ``sock.connect`` (a factory's socket). The caller has passed a cancellation point; this is
    a schedule point, whether the call succeeds or fails. If the wait is cancelled,
    :class:`trio.Cancelled` propagates and the socket is half-connected: the caller must close
    it (a dial always does), so a connection whose wait was interrupted is never handed out
    (Go issue 16523).

    Raises:
        OSError: the errno of ``connect``, or of ``SO_ERROR`` once the socket is writable.
    """
    if raw is None:
        await sock.connect(sockaddr)  # a factory's socket
        return
    try:
        raw.connect(sockaddr)  # type: ignore[arg-type]
    except OSError as exc:
        if exc.errno != _errno.EISCONN and exc.errno not in _IN_PROGRESS:
            # Failed at once (a missing unix path, a full unix backlog, no route): still a
            # schedule point, as Trio's connect is, so a loop that retries cannot starve the
            # task it is waiting for.
            await trio.lowlevel.cancel_shielded_checkpoint()
            raise
        if exc.errno != _errno.EISCONN:  # in progress: wait for the outcome
            # Over loopback the kernel has usually run the whole handshake inside the call:
            # getpeername then succeeds (it fails with ENOTCONN in SYN_SENT, and after a
            # refusal), and the poller round trip -- three epoll calls and a trip through
            # Trio's scheduler -- is saved. Elsewhere it costs one system call per dial.
            try:
                raw.getpeername()
            except OSError:
                pass
            else:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return
            while True:
                await trio.lowlevel.wait_writable(raw)
                err = raw.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_ERROR)
                if err in (0, _errno.EISCONN):
                    # Go also calls getpeername here, because its poller can wake a
                    # goroutine spuriously (go.dev/issue/14548); Trio's wait_writable returns
                    # only on the socket's own readiness, which Trio's connect relies on too.
                    return
                if err not in _IN_PROGRESS:
                    raise OSError(err, os.strerror(err)) from None
    # Connected at once (unix sockets, UDP, EISCONN): still a schedule point, as Trio's is.
    await trio.lowlevel.cancel_shielded_checkpoint()


# -- socket(): the one sequence ----------------------------------------------------------------

# IP_BIND_ADDRESS_NO_PORT: bind the local IP now, pick the port at connect() time, so a fixed
# local IP does not burn an ephemeral port per (IP, port) pair before the 4-tuple is known. trio
# defines it where Python 3.10's socket module does not.
_IP_BIND_ADDRESS_NO_PORT: Final = getattr(trio.socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def _new_socket(net: Network, family: int, proto: int) -> trio.socket.SocketType:
    try:
        return trio.socket.socket(family, net.socktype, proto)
    except OSError as exc:
        raise SyscallError("socket", exc) from None


def _control(
    control: Control | None, net: Network, family: int, addr: Addr, sock: trio.socket.SocketType
) -> None:
    if control is not None:
        try:
            control(ctrl_network(net, family), str(addr), sock)
        except Exception as exc:
            raise ControlError(exc) from exc


async def _bind(
    sock: trio.socket.SocketType,
    raw: _stdlib_socket.socket | None,
    net: Network,
    family: int,
    la: Addr,
    *,
    dial: bool,
) -> None:
    try:
        if isinstance(la, UnixAddr):
            if la.name:
                await sock.bind(la.sockaddr())
            elif not dial and raw is not None:
                # Go's autobind: the kernel picks an abstract name. Trio's bind cannot take an
                # empty path (it indexes it), the standard library's can. (A dial with an empty
                # local name binds nothing.)
                raw.bind("")
            elif not dial:
                await sock.bind(la.sockaddr())
            return
        port = la.port if isinstance(la, TCPAddr | UDPAddr) else 0
        if dial and port == 0 and net.kind == "tcp":
            sock.setsockopt(_stdlib_socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
        await sock.bind(sockaddr_for(family, la.ip, port, la.zone))
    except AddrError:
        raise
    except OSError as exc:
        raise SyscallError("bind", exc) from None


async def dial_socket(
    net: Network,
    family: int,
    proto: int,
    raddr: Addr,
    sockaddr: object,
    *,
    local: Addr | None,
    control: Control | None,
) -> tuple[trio.socket.SocketType, AnySocket]:
    """Go's ``socket()`` for a dial: socket → default options → control → bind → connect.

    Returns the connected socket, and what to make further option calls on (the
    standard-library socket inside it, or the socket itself; see :func:`stdlib_socket_of`).

    *sockaddr* is *raddr* in the socket module's form for *family*; *local*, when given, is
    bound first (a port-less TCP address with ``IP_BIND_ADDRESS_NO_PORT``); *control* sees the
    family-specific network and ``str(raddr)``. A dial already cancelled or out of time makes
    no socket and calls no hook.

    Raises:
        SyscallError: ``socket:``, ``setsockopt:``, ``bind:`` or ``connect:`` with the errno.
        AddrError: a local address the socket family cannot take.
        ControlError: the hook raised.
        trio.Cancelled: from an enclosing scope; the socket is closed.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    try:
        sock = trio.socket.socket(family, net.socktype, proto)
    except OSError as exc:
        raise SyscallError("socket", exc) from None
    # The kernel socket inside Trio's, called directly on this hot path (None for a custom
    # factory's socket, which is then used through its own methods).
    raw = stdlib_socket_of(sock)
    opts: AnySocket = sock if raw is None else raw
    try:
        try:
            set_default_sockopts(opts, net, family)
        except OSError as exc:
            raise SyscallError("setsockopt", exc) from None
        if control is not None:
            _control(control, net, family, raddr, sock)
        if local is not None:
            await _bind(sock, raw, net, family, local, dial=True)
        try:
            await connect(sock, raw, sockaddr)
        except OSError as exc:
            raise SyscallError("connect", exc) from None
    except BaseException:
        sock.close()
        raise
    return sock, opts


async def listen_socket(
    net: Network,
    family: int,
    proto: int,
    la: Addr,
    *,
    control: Control | None,
    backlog: int | None,
    reuse_port: bool,
    keepalive: KeepAlivePlan | None,
) -> trio.socket.SocketType:
    """Go's ``socket()`` for a listener: socket → options → control → bind → listen.

    Options: Go's defaults, ``SO_REUSEADDR`` for stream listeners and multicast UDP (a
    restarted server binds at once despite TIME_WAIT; several sockets share a group),
    ``SO_REUSEPORT`` when *reuse_port*. A UDP multicast *la* binds the wildcard of its family
    with its port (Go's ``listenDatagram``); *control* sees that bound address. *keepalive* is
    set before ``listen()`` so every queued connection inherits it. *backlog* None: no
    ``listen()`` (a packet socket).

    Raises:
        SyscallError, AddrError, ControlError: as :func:`dial_socket` (``listen:`` too).
    """
    sock = _new_socket(net, family, proto)
    raw = stdlib_socket_of(sock)
    try:
        ip = ip_of(la)
        multicast = isinstance(la, UDPAddr) and ip is not None and ip.is_multicast
        bound = la
        if isinstance(la, UDPAddr) and multicast:
            # Go: a multicast listener binds the wildcard, so several can share the group.
            bound = UDPAddr("0.0.0.0" if family == _stdlib_socket.AF_INET else "::", la.port)
        try:
            _listener_options(sock, net, family, backlog is not None or multicast, reuse_port)
        except OSError as exc:
            raise SyscallError("setsockopt", exc) from None
        if control is not None:
            _control(control, net, family, bound, sock)
        await _bind(sock, raw, net, family, bound, dial=False)
        if keepalive is not None:
            apply_keepalive(sock, keepalive)
        if backlog is not None:
            try:
                sock.listen(backlog)
            except OSError as exc:
                raise SyscallError("listen", exc) from None
    except BaseException:
        sock.close()
        raise
    return sock


def _listener_options(sock: AnySocket, net: Network, family: int, reuse_addr: bool, reuse_port: bool) -> None:
    """Go's ``setDefaultSockopts`` + ``setDefaultListenerSockopts``, and ``SO_REUSEPORT``."""
    set_default_sockopts(sock, net, family)
    if reuse_addr:
        sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEPORT, 1)
