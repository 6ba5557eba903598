"""A real loopback port where TCP connects hang: the real-socket counterpart of a FakeNet blackhole."""

from __future__ import annotations

import contextlib
import socket as _stdlib_socket
from collections.abc import Generator

from .._address import TCPAddr

__all__ = ["blackhole_listener"]


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
