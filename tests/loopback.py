"""Real-socket helpers for tests: loopback listeners, blackholes, a scripted name resolver.

Everything here talks to 127.0.0.1 / ::1 only.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Iterator

import pytest
import trio
import trio.testing

from trionet import Listener, TCPAddr, UnixAddr
from trionet._sockopt import mptcp_available
from trionet.testing import FakeResolver


def _raw_sockets_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except PermissionError:
        return False
    return True


#: Skips a test on a kernel without Multipath TCP.
needs_mptcp = pytest.mark.skipif(
    not mptcp_available(), reason="kernel without MPTCP (socket(..., 262) refused)"
)
#: Skips a test when this process may not open raw (``ip:*``) sockets.
needs_raw_sockets = pytest.mark.skipif(
    not _raw_sockets_allowed(), reason="raw sockets need CAP_NET_RAW (socket(..., SOCK_RAW, ...) refused)"
)


def open_fds() -> int:
    """How many file descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))


def closed_port(host: str = "127.0.0.1", socktype: int = socket.SOCK_STREAM) -> int:
    """A TCP (or *socktype*) port nothing listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socktype) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def listener(host: str = "127.0.0.1", port: int = 0, proto: int = 0) -> Iterator[socket.socket]:
    """A plain listening TCP socket (not trio: the kernel completes handshakes on its own)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        yield sock
    finally:
        sock.close()


def scripted_resolver(hosts: dict[str, list[str]]) -> FakeResolver:
    """trionet.testing's FakeResolver answering *hosts* at once; nothing leaves the process."""
    resolver = FakeResolver()
    for name, addrs in hosts.items():
        resolver.add(name, addrs)
    return resolver


async def accept_message(
    ln: Listener[trio.SocketStream, TCPAddr | UnixAddr], client: trio.SocketStream, data: bytes
) -> trio.SocketStream:
    """Accept *client*'s connection on *ln*, send *data* from the client and check it arrives.

    Returns the server side of the connection (the caller closes it).
    """
    server = await ln.accept()
    await client.send_all(data)
    received = await server.receive_some(100)
    if received != data:
        await server.aclose()
        raise AssertionError(f"the server received {received!r}, the client sent {data!r}")
    return server


async def check_close_wakes(
    resource: trio.abc.AsyncResource, blocked: Callable[[], Awaitable[object]]
) -> None:
    """Trio's contract: closing *resource* from another task wakes a task blocked in it.

    Calls *blocked* (a receive or accept on *resource*), closes *resource* once that call is
    blocked, and checks that the blocked call raises :class:`trio.ClosedResourceError`.
    """

    async def close_soon() -> None:
        # Every other task blocked: *blocked* is parked waiting on the socket, so the close
        # below is what wakes it (not a check made before it blocked).
        await trio.testing.wait_all_tasks_blocked()
        await resource.aclose()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(close_soon)
        with pytest.raises(trio.ClosedResourceError):
            await blocked()
