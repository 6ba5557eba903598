"""connect(2) on Trio the way Go's ``netFD.connect`` (``fd_unix.go``) does it.

Trio's ``SocketType.connect`` treats every :class:`BlockingIOError` as "connection in progress"
and waits for writability. Go waits only for ``EINPROGRESS``, ``EALREADY`` and ``EINTR``; any
other errno is the dial's error. The difference shows on unix sockets: a listener whose backlog
is full makes ``connect`` fail with ``EAGAIN`` at once, the socket then polls writable without
being connected, and Trio's connect returns "success" on a socket that is not connected. Go
says ``connect: resource temporarily unavailable``, and so does trionet.

Doing the call here also skips what Trio's connect does for a general caller and a dial never
needs: re-checking and normalising an address the dialer built itself, and an async context
manager around one system call. That is a visible share of a loopback dial.
"""

from __future__ import annotations

import errno as _errno
import os
import socket as _stdlib_socket
from typing import Final

import trio

__all__ = ["connect", "stdlib_socket_of"]

#: Go's "the connection is on its way, wait for writability" errnos, for connect() and SO_ERROR.
_IN_PROGRESS: Final = frozenset({_errno.EINPROGRESS, _errno.EALREADY, _errno.EINTR})


#: The class of the sockets Trio itself makes: private to Trio, like the ``_sock`` below. None
#: if a Trio release moves it: then no direct calls, only slower.
_TrioSocket: type[trio.socket.SocketType] | None
try:
    from trio._socket import _SocketType as _TrioSocket  # pyright: ignore[reportPrivateUsage]
except ImportError:  # pragma: no cover
    _TrioSocket = None


def stdlib_socket_of(sock: trio.socket.SocketType) -> _stdlib_socket.socket | None:
    """The standard-library socket inside *sock* if it is exactly one of Trio's own sockets;
    None for any other object.

    Trio keeps it in ``_sock`` and offers no public accessor. Any other class (a custom socket
    factory's own, :class:`trionet.testing.FakeNet`'s fake sockets, a subclass of Trio's that
    overrides ``connect`` or ``setsockopt``) is used through its own methods, as is a Trio socket
    if a Trio release ever moves ``_sock``: always correct, only slower. (A factory that returns
    Trio's own sockets gets the direct calls; it then has nothing of its own to bypass.)
    """
    if _TrioSocket is None or type(sock) is not _TrioSocket:
        return None
    raw = getattr(sock, "_sock", None)
    return raw if isinstance(raw, _stdlib_socket.socket) else None


async def connect(sock: trio.socket.SocketType, raw: _stdlib_socket.socket | None, sockaddr: object) -> None:
    """Connect *sock* to *sockaddr* (already in the socket module's form), as Go does.

    *raw* is ``stdlib_socket_of(sock)``: the call is made on it when there is one, else through
    ``sock.connect`` (a factory's socket). The caller has passed a cancellation point; this is
    a schedule point, whether the call succeeds or fails. If the wait is cancelled, :class:`trio.Cancelled` propagates and the
    socket is half-connected: the caller must close it (a dial always does), so a connection
    whose wait was interrupted is never handed out (Go issue 16523).

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
