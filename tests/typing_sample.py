"""Plain user code that must type-check clean: the public API's types, checked statically.

Nothing here runs under pytest (the name does not start with ``test_``): the file is checked by
``mypy --strict`` and ``pyright`` through their config (``files``/``include`` list ``tests/``),
which ``nox -s typecheck`` runs, and every ``assert_type`` below fails that session when a
public type drifts. Relying on that session rather than on a pytest test that runs the checkers
when they happen to be importable means it cannot silently pass: a skip would.
``reveal_type``-free and with no ``# type: ignore``: if user code needs an ignore, the API's
types are wrong.
"""

from __future__ import annotations

import sys

import trio

import trionet
from trionet import IPAddr, OpError, PacketConn, TCPAddr, UDPAddr, UnixAddr

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pyright checks as 3.10; mypy and pyright install typing_extensions
    from typing_extensions import assert_type


async def dial_and_listen() -> None:
    stream = await trionet.dial("tcp", "127.0.0.1:80")
    assert_type(stream, trio.SocketStream)
    conn = await trionet.dial("udp", "127.0.0.1:53")
    assert_type(conn, PacketConn)

    listener = await trionet.listen("tcp", "127.0.0.1:0")
    assert_type(listener, trionet.Listener[trio.SocketStream, TCPAddr])
    assert_type(listener.addr, TCPAddr)
    assert_type(listener.addr.port, int)
    assert_type(await listener.accept(), trio.SocketStream)

    assert_type((await trionet.listen("tcp6", "[::1]:0")).addr.port, int)
    assert_type((await trionet.ListenConfig().listen("tcp4", ":0")).addr, TCPAddr)

    unix = await trionet.ListenConfig().listen("unix", "/tmp/sample.sock")
    assert_type(unix.addr, UnixAddr)
    assert_type(unix.addr.name, str)
    packet_listener = await trionet.listen("unixpacket", "@sample")
    assert_type(packet_listener.addr, UnixAddr)
    assert_type(await packet_listener.accept(), PacketConn)


async def any_network(network: str) -> None:
    # A network known only at run time: the address is one of the listener address types.
    anything = await trionet.listen(network, "127.0.0.1:0")
    assert_type(anything.addr, TCPAddr | UnixAddr)


async def packets() -> None:
    pconn = await trionet.listen_packet("udp", "127.0.0.1:0")
    local = pconn.local_addr  # never None: no narrowing needed
    assert_type(local, UDPAddr | IPAddr | UnixAddr)
    if isinstance(local, UDPAddr):
        assert_type(local.port, int)
    data, sender = await pconn.receive_from()
    assert_type(data, bytes)
    await pconn.send_to(data, sender)  # the echo pattern: a received address is sendable
    await pconn.send_to(b"x", UDPAddr("127.0.0.1", 9))


def error_address(error: OpError) -> int | None:
    assert_type(error.addr, TCPAddr | UDPAddr | IPAddr | UnixAddr | str | None)
    if isinstance(error.addr, TCPAddr | UDPAddr):
        return error.addr.port
    return None
