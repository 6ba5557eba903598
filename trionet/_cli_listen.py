"""``trionet listen``: accept connections (or datagrams) and print or echo what they send."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import Final

import trio

from ._address import Addr
from ._cli_common import UsageError, fail, write_stdout
from ._listen import ListenConfig
from ._network import parse_network
from ._packetconn import PacketConn
from ._sockaddr import addr_from_sockaddr

__all__ = ["listen_command"]

_CHUNK = 65536

#: accept() errnos that mean "too busy right now", not "this listener is broken".
_OUT_OF_RESOURCES: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


async def listen_command(args: argparse.Namespace) -> int:
    try:
        lc = ListenConfig(reuse_port=args.reuseport, multipath_tcp=args.mptcp, keep_alive=args.keepalive)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    packet = args.network.startswith(("udp", "ip")) or args.network == "unixgram"
    try:
        if packet:
            return await _serve_packets(await lc.listen_packet(args.network, args.address), args)
        listener = await lc.listen(args.network, args.address)
    except OSError as exc:
        return fail(exc)
    async with listener, trio.open_nursery() as nursery:
        # Inside the block: a Ctrl-C right after this line still closes (and unlinks) the listener.
        print(f"listening on {listener.network} {listener.addr}", file=sys.stderr, flush=True)
        while True:
            try:
                conn: trio.SocketStream | PacketConn = await listener.accept()
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    # As trio.serve_listeners: wait for connections to close, then accept again.
                    print(f"{exc}; accepting again in 100 ms", file=sys.stderr, flush=True)
                    await trio.sleep(0.1)
                    continue
                nursery.cancel_scope.cancel()
                return fail(exc)
            if args.once:
                await _handle(conn, args.echo)
                return 0
            nursery.start_soon(_handle, conn, args.echo)


async def _handle(conn: trio.SocketStream | PacketConn, echo: bool) -> None:
    async with conn:
        peer: Addr | None
        if isinstance(conn, PacketConn):
            peer = conn.remote_addr
        else:  # as Go prints a RemoteAddr: "127.0.0.1:40000", "[::1]:40000", a unix path
            sock = conn.socket
            net = parse_network("unix" if sock.family == socket.AF_UNIX else "tcp")
            peer = addr_from_sockaddr(net, sock.family, sock.getpeername())
        print(f"accepted {peer}", file=sys.stderr, flush=True)
        try:
            while data := await (
                conn.receive() if isinstance(conn, PacketConn) else conn.receive_some(_CHUNK)
            ):
                if not echo:
                    write_stdout(data)
                elif isinstance(conn, PacketConn):
                    await conn.send(data)
                else:
                    await conn.send_all(data)
        except (trio.BrokenResourceError, OSError) as exc:
            print(f"{peer}: {exc}", file=sys.stderr, flush=True)
        print(f"closed {peer}", file=sys.stderr, flush=True)


async def _serve_packets(pconn: PacketConn, args: argparse.Namespace) -> int:
    async with pconn:
        print(f"listening on {args.network} {pconn.local_addr}", file=sys.stderr, flush=True)
        while True:
            data, addr = await pconn.receive_from()
            print(f"datagram from {addr}", file=sys.stderr, flush=True)
            if args.echo:
                await pconn.send_to(data, addr)
            else:
                write_stdout(data)
            if args.once:
                return 0
