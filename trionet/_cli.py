"""The ``trionet`` command: ``dial``, ``listen``, ``lookup`` and ``demo`` (see docs/cli.rst).

Exit status: 0 on success, 1 when the network operation failed (the error is printed in Go's
words, ``dial tcp 127.0.0.1:1: connect: connection refused``), 2 for bad input (one line on
stderr), 130 on Ctrl-C. Data goes to stdout; diagnostics, traces and timelines to stderr, except
for ``demo``, whose pictures are its output.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Final, NoReturn, cast

import trio

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

from . import trace
from ._address import addr_from_sockaddr
from ._dial import Dialer
from ._errors import AddrError, OpError, UnknownNetworkError
from ._listen import ListenConfig
from ._network import parse_network
from ._packetconn import PacketConn
from ._resolver import Resolver, default_resolver
from ._timeline import render

__all__ = ["main"]

_CHUNK = 65536


class _UsageError(Exception):
    """Bad input found after parsing: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line, not argparse's usage block: "trionet dial: invalid duration: 'x'".
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


_DURATION = re.compile(r"^(-?\d+(?:\.\d*)?|-?\.\d+)(ns|us|µs|ms|s|m|h)?$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(text: str) -> float:
    """Seconds from ``1.5``, ``300ms``, ``2s``, ``1m`` (Go's units; a bare number is seconds)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid duration: {text!r} (try 1.5, 300ms, 2s)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trionet", description="Go's net dialing and listening on Trio.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("dial", help="connect and copy stdin to the connection, the connection to stdout")
    p.add_argument("network", help="tcp, tcp4, tcp6, unix, udp, udp4, udp6, unixgram, unixpacket")
    p.add_argument("address", help="host:port, [v6]:port, or a unix socket path")
    p.add_argument("--timeout", type=duration, help="the dialer's own timeout (default: none)")
    p.add_argument(
        "--fallback-delay",
        type=duration,
        help="fast-fallback delay; negative disables, written --fallback-delay=-1s (default 300ms)",
    )
    p.add_argument("--local", metavar="ADDR", help="local address to bind, e.g. 127.0.0.2:0")
    p.add_argument(
        "--keepalive",
        type=duration,
        help="keep-alive idle time; negative leaves it off, written --keepalive=-1s (default 15s)",
    )
    p.add_argument("--mptcp", action="store_true", help="request Multipath TCP")
    _trace_options(p)

    p = sub.add_parser("listen", help="accept connections and print (or echo) what they send")
    p.add_argument("network", help="tcp, tcp4, tcp6, unix, unixpacket, udp, udp4, udp6, unixgram")
    p.add_argument("address", help="host:port (:0 picks a port) or a unix socket path")
    p.add_argument("--echo", action="store_true", help="send everything back instead of printing it")
    p.add_argument("--once", action="store_true", help="exit after the first connection (or datagram)")
    p.add_argument("--reuseport", action="store_true", help="set SO_REUSEPORT")
    p.add_argument(
        "--mptcp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Multipath TCP (default: on if supported)",
    )
    p.add_argument("--keepalive", type=duration, help="keep-alive idle time for accepted connections")

    p = sub.add_parser("lookup", help="look a name up (addresses by default)")
    p.add_argument("name", help="a host name; an IP address for --type PTR; _svc._proto.name for SRV")
    p.add_argument("--type", choices=["A", "AAAA", "CNAME", "MX", "NS", "SRV", "TXT", "PTR"], type=str.upper)
    p.add_argument(
        "--server", metavar="IP[:PORT]", help="ask only this DNS server (an IP literal; port 53 by default)"
    )

    p = sub.add_parser(
        "demo", help="show fast fallback winning over a blackholed IPv6 address (loopback only)"
    )
    p.add_argument("--fallback-delay", type=duration, default=0.3, help="default 300ms")
    _trace_options(p, trace_flag=False)
    return parser


def _trace_options(p: argparse.ArgumentParser, *, trace_flag: bool = True) -> None:
    if trace_flag:
        p.add_argument("--trace", action="store_true", help="draw the timeline of the attempts on stderr")
    p.add_argument("--json", action="store_true", help="print the trace events, one JSON object per line")
    p.add_argument("--width", type=int, default=48, help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
        "dial": _dial,
        "listen": _listen,
        "lookup": _lookup,
        "demo": _demo,
    }
    try:
        return trio.run(commands[args.command], args)
    except _UsageError as exc:
        print(f"trionet {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _fail(exc: OSError) -> int:
    """Print a network error as Go would; 2 if it is really bad input."""
    print(str(exc), file=sys.stderr)
    inner = exc.err if isinstance(exc, OpError) else exc
    return 2 if isinstance(inner, AddrError | UnknownNetworkError) else 1


def _show_trace(args: argparse.Namespace, events: list[trace.Event]) -> None:
    """``dial --trace``/``--json``: on stderr, which stays clear of the connection's data."""
    if args.trace and events:
        print(render(events, width=args.width), file=sys.stderr)
    if args.json:
        for event in events:
            print(json.dumps(event.as_dict()), file=sys.stderr)


# -- dial -------------------------------------------------------------------------------------
async def _dial(args: argparse.Namespace) -> int:
    try:
        dialer = Dialer(
            timeout=args.timeout,
            fallback_delay=args.fallback_delay,
            local_addr=args.local,
            keep_alive=args.keepalive,
            multipath_tcp=True if args.mptcp else None,
        )
    except (TypeError, ValueError) as exc:
        raise _UsageError(str(exc)) from None
    with trace.collect() as events:
        try:
            network: str = args.network  # typed, so the checkers pick dial()'s str overload
            conn = await dialer.dial(network, args.address)
        except OSError as exc:
            _show_trace(args, events)
            return _fail(exc)
    _show_trace(args, events)
    async with conn:
        try:
            await _pump(conn)
        except (trio.BrokenResourceError, OSError) as exc:
            print(f"{args.network} {args.address}: {exc}", file=sys.stderr)
            return 1
    return 0


async def _read_stdin() -> bytes:
    # A thread, not an FdStream: FdStream would make the terminal non-blocking for the shell too.
    return await trio.to_thread.run_sync(os.read, 0, _CHUNK, abandon_on_cancel=True)


def _write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


async def _pump(conn: trio.SocketStream | PacketConn) -> None:
    """stdin → conn and conn → stdout until the peer closes (streams, unixpacket) or stdin
    ends (udp, unixgram).

    Raises:
        trio.BrokenResourceError, OSError: the connection broke (one error, not a group).
    """
    try:
        await _pump_both(conn)
    except BaseExceptionGroup as group:
        broken, rest = group.split((trio.BrokenResourceError, OSError))
        if broken is None or rest is not None:
            raise
        first: BaseException = broken
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def _pump_both(conn: trio.SocketStream | PacketConn) -> None:
    async with trio.open_nursery() as nursery:

        async def upload() -> None:
            while data := await _read_stdin():
                await (conn.send(data) if isinstance(conn, PacketConn) else conn.send_all(data))
            if isinstance(conn, PacketConn):
                nursery.cancel_scope.cancel()  # datagrams have no EOF: stdin's end is ours
            else:
                await conn.send_eof()  # half-close, like nc -N; keep reading the reply

        nursery.start_soon(upload)
        while True:
            data = await (conn.receive() if isinstance(conn, PacketConn) else conn.receive_some(_CHUNK))
            if not data and (not isinstance(conn, PacketConn) or conn.network == "unixpacket"):
                break  # the peer closed (unixpacket is connected: b"" is its end, as for streams)
            _write_stdout(data)
        nursery.cancel_scope.cancel()


# -- listen -----------------------------------------------------------------------------------
#: accept() errnos that mean "too busy right now", not "this listener is broken".
_OUT_OF_RESOURCES: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


async def _listen(args: argparse.Namespace) -> int:
    try:
        lc = ListenConfig(reuse_port=args.reuseport, multipath_tcp=args.mptcp, keep_alive=args.keepalive)
    except (TypeError, ValueError) as exc:
        raise _UsageError(str(exc)) from None
    packet = args.network.startswith(("udp", "ip")) or args.network == "unixgram"
    try:
        if packet:
            return await _serve_packets(await lc.listen_packet(args.network, args.address), args)
        listener = await lc.listen(args.network, args.address)
    except OSError as exc:
        return _fail(exc)
    print(f"listening on {listener.network} {listener.addr}", file=sys.stderr, flush=True)
    async with listener, trio.open_nursery() as nursery:
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
                return _fail(exc)
            if args.once:
                await _handle(conn, args.echo)
                return 0
            nursery.start_soon(_handle, conn, args.echo)


async def _handle(conn: trio.SocketStream | PacketConn, echo: bool) -> None:
    async with conn:
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
                    _write_stdout(data)
                elif isinstance(conn, PacketConn):
                    await conn.send(data)
                else:
                    await conn.send_all(data)
        except (trio.BrokenResourceError, OSError) as exc:
            print(f"{peer}: {exc}", file=sys.stderr, flush=True)
        print(f"closed {peer}", file=sys.stderr, flush=True)


async def _serve_packets(pconn: PacketConn, args: argparse.Namespace) -> int:
    print(f"listening on {args.network} {pconn.local_addr}", file=sys.stderr, flush=True)
    async with pconn:
        while True:
            data, addr = await pconn.receive_from()
            print(f"datagram from {addr}", file=sys.stderr, flush=True)
            if args.echo:
                await pconn.send_to(data, addr)
            else:
                _write_stdout(data)
            if args.once:
                return 0


# -- lookup -----------------------------------------------------------------------------------
async def _lookup(args: argparse.Namespace) -> int:
    resolver = default_resolver
    if args.server is not None:
        # The pure resolver, so that the server given is the one asked (libc would ignore it),
        # and, like dig @SERVER, only that server: no hosts file, no resolv.conf search list.
        try:
            resolver = Resolver(
                prefer_python=True, nameservers=[args.server], resolv_conf=os.devnull, hosts_file=os.devnull
            )
        except ValueError as exc:
            raise _UsageError(str(exc)) from None
    kind: str | None = args.type
    name: str = args.name
    calls: dict[str | None, tuple[str, tuple[str, ...]]] = {
        None: ("lookup_host", (name,)),
        "A": ("lookup_ip", ("ip4", name)),
        "AAAA": ("lookup_ip", ("ip6", name)),
        "CNAME": ("lookup_cname", (name,)),
        "MX": ("lookup_mx", (name,)),
        "NS": ("lookup_ns", (name,)),
        "SRV": ("lookup_srv", ("", "", name)),  # Go: empty service and proto look NAME up as is
        "TXT": ("lookup_txt", (name,)),
        "PTR": ("lookup_addr", (name,)),
    }
    method_name, call_args = calls[kind]
    method: Callable[..., Awaitable[object]] = getattr(resolver, method_name)
    try:
        result = await method(*call_args)
    except OSError as exc:
        return _fail(exc)
    for line in _records(result):
        print(line)
    return 0


def _records(result: object) -> list[str]:
    """Lines for a lookup result: one record per line, in dig-like field order."""
    value: object = result
    if isinstance(result, tuple):
        parts = cast("tuple[object, ...]", result)
        if len(parts) == 2 and isinstance(parts[1], list):
            value = cast("list[object]", parts[1])  # Go's LookupSRV returns (cname, records)
    items = cast("list[object]", value) if isinstance(value, list) else [value]
    lines: list[str] = []
    for item in items:
        for fields in (("priority", "weight", "port", "target"), ("pref", "host"), ("host",)):
            if all(hasattr(item, name) for name in fields):
                lines.append(" ".join(str(getattr(item, name)) for name in fields))
                break
        else:
            lines.append(str(item))
    return lines


# -- demo -------------------------------------------------------------------------------------
_DEMO_NAME = "demo.trionet.test"
_HOLE_NAME = "hole.trionet.test"


@contextlib.contextmanager
def _port_pair(*, v4_listens: bool) -> Generator[int, None, None]:
    """One port with a blackhole on ``[::1]`` and, on 127.0.0.1, a listener or another blackhole."""
    from .testing import blackhole_listener

    for _ in range(20):
        with contextlib.ExitStack() as stack:
            if v4_listens:
                sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                sock.bind(("127.0.0.1", 0))
                sock.listen(16)  # the kernel completes handshakes; nobody needs to accept
                port = int(sock.getsockname()[1])
            else:
                port = stack.enter_context(blackhole_listener(socket.AF_INET)).port
            try:
                stack.enter_context(blackhole_listener(socket.AF_INET6, port=port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue  # [::1]:port is taken by someone else: try another port
                raise
            yield port
            return
    raise OSError(errno.EADDRINUSE, "no port free on both 127.0.0.1 and ::1")


def _demo_resolver(directory: str) -> Resolver:
    """trionet's Resolver with a private hosts file, an empty resolv.conf and a dead nameserver."""
    hosts = os.path.join(directory, "hosts")
    resolv_conf = os.path.join(directory, "resolv.conf")
    with open(hosts, "w") as f:
        f.write(f"::1 {_DEMO_NAME} {_HOLE_NAME}\n127.0.0.1 {_DEMO_NAME} {_HOLE_NAME}\n")
    with open(resolv_conf, "w"):
        pass
    return Resolver(
        prefer_python=True, hosts_file=hosts, nameservers=["127.0.0.1:1"], resolv_conf=resolv_conf
    )


def _emit(events: list[trace.Event], json_lines: bool, width: int) -> None:
    if json_lines:
        for event in events:
            print(json.dumps(event.as_dict()))
    else:
        print(render(events, width=width))
    print()


async def _demo(args: argparse.Namespace) -> int:
    delay: float = args.fallback_delay
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(_port_pair(v4_listens=True))
        hole = stack.enter_context(_port_pair(v4_listens=False))
        resolver = _demo_resolver(stack.enter_context(tempfile.TemporaryDirectory(prefix="trionet-demo-")))
        if not args.json:
            print(
                f"Act 1: fast fallback. {_DEMO_NAME} resolves (private hosts file) to ::1, then 127.0.0.1.\n"
                f"[::1]:{port} is a blackhole (SYNs are dropped, the connect hangs); "
                f"127.0.0.1:{port} accepts.\n"
                f"IPv6 is tried first; IPv4 starts after the fallback delay ({delay * 1000:g} ms).\n"
            )
        with trace.collect() as events:
            stream = await Dialer(resolver=resolver, fallback_delay=delay).dial("tcp", f"{_DEMO_NAME}:{port}")
        await stream.aclose()
        _emit(events, args.json, args.width)
        await _act_two(resolver, hole, args)
    return 0


async def _act_two(resolver: Resolver, port: int, args: argparse.Namespace) -> None:
    """The dialer's own timeout next to an enclosing cancel scope, run at the same time."""
    target = f"{_HOLE_NAME}:{port}"
    outcome: dict[str, list[str]] = {}
    traces: dict[str, list[trace.Event]] = {}

    async def own_timeout() -> None:
        with trace.collect() as traces["timeout"]:
            try:
                await Dialer(resolver=resolver, timeout=0.5).dial("tcp", target)
            except OpError as exc:
                got = f"raises {type(exc).__name__}: {exc}"
                outcome["timeout"] = [got, f"isinstance(e, TimeoutError): {isinstance(exc, TimeoutError)}"]

    async def outer_scope() -> None:
        with trace.collect() as traces["scope"], trio.move_on_after(0.5) as scope:
            await Dialer(resolver=resolver).dial("tcp", target)
        outcome["scope"] = [
            "a bare trio.Cancelled, caught by the scope",
            f"scope.cancelled_caught: {scope.cancelled_caught}",
        ]

    async with trio.open_nursery() as nursery:
        nursery.start_soon(own_timeout)
        nursery.start_soon(outer_scope)
    if not args.json:
        print(
            f"Act 2: who stops a dial? Both dials run at once against blackholes on both families of port {port}.\n"
        )
        left = ["Dialer(timeout=0.5).dial(...)", *outcome["timeout"]]
        right = ["with trio.move_on_after(0.5): dial(...)", *outcome["scope"]]
        w = max(len(line) for line in left) + 4
        for a, b in zip(left, right, strict=True):
            print(f"  {a:<{w}}{b}")
        print()
    _emit(traces["timeout"], args.json, args.width)
    _emit(traces["scope"], args.json, args.width)
