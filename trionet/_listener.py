"""Listener: a bound, listening socket from accept to close (Go's ``net.Listener``).

What may live here: what happens to a listening socket after :mod:`trionet._listen` has made it
— the accept loop and which accept errors are routine, the keep-alive settings of accepted TCP
connections, and closing (Go's unix-socket unlink, Trio's and Go's close contracts). Creating,
configuring and binding sockets does not: that is ``_listen``, which imports this module, never
the reverse.
"""

from __future__ import annotations

import errno as _errno
import os
import socket as _stdlib_socket
from collections.abc import Callable
from typing import Final, Generic, TypeVar, cast, final

import trio

from ._address import TCPAddr, UnixAddr
from ._errors import ClosedError, OpError, SyscallError
from ._network import Network
from ._sockaddr import addr_from_sockaddr
from ._sockopt import apply_keepalive

__all__ = ["Listener", "has_keepalive"]

_T_co = TypeVar("_T_co", bound=trio.abc.AsyncResource, covariant=True)
# The bound address type: TCPAddr for tcp*, UnixAddr for unix*. ListenConfig.listen's overloads
# pick it from the Literal network name, so `listener.addr.port` type-checks for a TCP listener.
_A_co = TypeVar("_A_co", bound="TCPAddr | UnixAddr", covariant=True)

# trio's SocketListener.accept retries these silently (trio/_highlevel_socket.py, with its
# review of Twisted, Tornado, libuv and asyncio); Go retries ECONNABORTED. Everything else —
# notably EMFILE/ENFILE/ENOBUFS/ENOMEM, which trio.serve_listeners handles — is raised.
_IGNORABLE_ACCEPT_NAMES: Final = (
    "EPERM ECONNABORTED EPROTO ENETDOWN ENOPROTOOPT EHOSTDOWN ENONET EHOSTUNREACH EOPNOTSUPP "
    "ENETUNREACH ENOSR ESOCKTNOSUPPORT EPROTONOSUPPORT ETIMEDOUT ECONNRESET"
)
_IGNORABLE_ACCEPT_ERRNOS: Final = frozenset(
    getattr(_errno, name) for name in _IGNORABLE_ACCEPT_NAMES.split() if hasattr(_errno, name)
)
_CLOSED_ERRNOS: Final = frozenset({_errno.EBADF, _errno.ENOTSOCK})


def has_keepalive(
    sock: trio.socket.SocketType, plan: tuple[int | None, int | None, int | None] | None
) -> bool:
    """Whether *sock* already carries the keep-alive *plan* (None: nothing to carry).

    ``_listen`` asks this of a new TCP listener: when it carries the plan, every accepted socket
    inherits it, and the :class:`Listener` is given no per-accept plan.
    """
    if plan is None:
        return True
    try:
        if sock.getsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE) == 0:
            return False
        options = (_stdlib_socket.TCP_KEEPIDLE, _stdlib_socket.TCP_KEEPINTVL, _stdlib_socket.TCP_KEEPCNT)
        return all(
            value is None or sock.getsockopt(_stdlib_socket.IPPROTO_TCP, option) == value
            for option, value in zip(options, plan, strict=True)
        )
    except OSError:
        return False


@final
class Listener(trio.abc.Listener[_T_co], Generic[_T_co, _A_co]):
    """A listening socket (Go's ``net.Listener``), as a :class:`trio.abc.Listener`.

    Made by :meth:`ListenConfig.listen` / :func:`listen`. Works with
    :func:`trio.serve_listeners` and ``nursery.start``. :meth:`accept` returns a
    :class:`trio.SocketStream` (``tcp*``, ``unix``) or a connected :class:`PacketConn`
    (``unixpacket``); every accepted TCP connection gets ``TCP_NODELAY`` and the config's
    keep-alive settings (Go's ``newTCPConn``). Routine accept errors (``ECONNABORTED`` and the
    other errnos :class:`trio.SocketListener` ignores) are retried; others raise
    :class:`OpError` ``accept ...`` keeping ``errno`` (so :func:`trio.serve_listeners` still
    backs off on ``EMFILE``).

    Closing: :meth:`aclose` follows Trio — idempotent, always a checkpoint. :meth:`close`
    follows Go — a second call raises :class:`OpError` ``close tcp ADDR: use of closed network
    connection``. After either, :meth:`accept` raises :class:`trio.ClosedResourceError`.
    Already accepted connections stay open.

    Type parameters: the accepted connection type and the address type —
    ``Listener[trio.SocketStream, TCPAddr]`` for ``tcp*``, ``Listener[trio.SocketStream,
    UnixAddr]`` for ``unix``, ``Listener[PacketConn, UnixAddr]`` for ``unixpacket``
    (:func:`listen` picks them from a literal network name). Unparameterised ``Listener`` works
    at run time (``isinstance``).

    Attributes:
        socket: the listening :class:`trio.socket.SocketType`.
        network: the network name given to ``listen``.
        unlink_on_close: for a unix listener, remove its socket file on the first close (Go's
            ``SetUnlinkOnClose``). True for listeners from ``listen``, except for abstract
            ``@names``, which have no file. Settable.
    """

    def __init__(
        self,
        socket: trio.socket.SocketType,
        net: Network,
        wrap: Callable[[trio.socket.SocketType], _T_co],
        keepalive: tuple[int | None, int | None, int | None] | None,
        unlink_path: str | None,
    ) -> None:
        self.socket = socket
        self.network = net.name
        self._net = net
        self._wrap = wrap
        self._keepalive = keepalive
        self._unlink_path = unlink_path
        self._closed = False
        self.unlink_on_close = unlink_path is not None
        # The caller (ListenConfig.listen) picks _A_co from the network, and a tcp* socket's
        # name is always a TCPAddr, a unix* socket's a UnixAddr (addr_from_sockaddr by family).
        self._addr = cast("_A_co", addr_from_sockaddr(net, socket.family, socket.getsockname()))

    @property
    def addr(self) -> _A_co:
        """The bound address, never None.

        A :class:`TCPAddr` (with the port chosen for ``:0``) for ``tcp*``, a :class:`UnixAddr`
        for ``unix*``.
        """
        return self._addr

    def __repr__(self) -> str:
        return f"<trionet.Listener {self.network} {self.addr}{' closed' if self._closed else ''}>"

    async def accept(self) -> _T_co:
        """Wait for the next connection and return it (Go's ``Accept``).

        Raises:
            trio.ClosedResourceError: the listener was closed, before or during the call.
            OpError: ``accept tcp [::]:8080: accept: too many open files`` and other errors
                that are not routine.
        """
        if self._closed:
            await trio.lowlevel.checkpoint()
            raise trio.ClosedResourceError("this listener was already closed")
        while True:
            try:
                sock, _ = await self.socket.accept()
            except OSError as exc:
                if exc.errno in _CLOSED_ERRNOS:
                    raise trio.ClosedResourceError("this listener was already closed") from None
                if exc.errno not in _IGNORABLE_ACCEPT_ERRNOS:
                    raise OpError(
                        "accept", self.network, None, self.addr, SyscallError("accept", exc)
                    ) from None
                continue
            try:
                if self._net.kind == "tcp":
                    # TCP_NODELAY comes with trio.SocketStream (Go's newTCPConn sets it too).
                    apply_keepalive(sock, self._keepalive)
                return self._wrap(sock)
            except BaseException:
                sock.close()
                raise

    def _close(self) -> None:
        self._closed = True
        try:
            if self._unlink_path is not None and self.unlink_on_close:
                # Go's UnixListener.close: remove, then close, so no other listener's file is hit.
                try:
                    os.unlink(self._unlink_path)
                except (OSError, ValueError):  # gone already; a name os cannot take
                    pass
        finally:
            self.socket.close()  # whatever the unlink did: the fd is never leaked

    def close(self) -> None:
        """Close now (Go's ``Close``); a second call raises ``... use of closed network connection``.

        Raises:
            OpError: ``close NET ADDR: use of closed network connection`` when already closed.
        """
        if self._closed:
            raise OpError("close", self.network, None, self.addr, ClosedError())
        self._close()

    async def aclose(self) -> None:
        """Close the listener (Trio's contract: idempotent, always a checkpoint)."""
        if not self._closed:
            self._close()
        await trio.lowlevel.checkpoint()
