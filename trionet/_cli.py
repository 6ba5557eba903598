"""The ``trionet`` command: ``dial``, ``listen``, ``lookup`` and ``demo`` (see docs/cli.rst).

Exit status: 0 on success, 1 when the network operation failed (the error is printed in Go's
words, ``dial tcp 127.0.0.1:1: connect: connection refused``), 2 for bad input (one line on
stderr), 130 on Ctrl-C. Data goes to stdout; diagnostics, traces and timelines to stderr, except
for ``demo``, whose pictures are its output. This module parses the command line and runs
``dial``; the other commands live in ``_cli_listen``, ``_cli_lookup`` and ``_cli_demo``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn

import trio

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

from . import trace
from ._cli_common import UsageError, duration, event_json, fail, open_svg, timeline, write_stdout
from ._cli_demo import demo_command
from ._cli_listen import listen_command
from ._cli_lookup import lookup_command
from ._dial import Dialer
from ._packetconn import PacketConn
from ._rfc8305 import HappyEyeballs
from ._version import __version__

__all__ = ["main"]

_CHUNK = 65536


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line, not argparse's usage block: "trionet dial: invalid duration: 'x'".
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trionet", description="Go's net dialing and listening on Trio.")
    parser.add_argument("--version", action="version", version=f"trionet {__version__}")
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
    p.add_argument(
        "--happy-eyeballs",
        action="store_true",
        help="dial with the RFC 8305 strategy (trionet.HappyEyeballs()) instead of Go's algorithm",
    )
    p.add_argument(
        "--https-records", action="store_true", help="with --happy-eyeballs: also ask the HTTPS record"
    )
    p.add_argument("--trace", action="store_true", help="draw the timeline of the attempts on stderr")
    _trace_options(p)
    p.add_argument("--svg", metavar="FILE", help="also draw the dial's trace as an SVG picture in FILE")

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
    p.add_argument("--timeout", type=duration, help="give up after this long: i/o timeout (default: none)")
    p.add_argument(
        "--trace", action="store_true", help="say on stderr who was asked, how long it took, what came back"
    )

    p = sub.add_parser(
        "demo", help="show fast fallback winning over a blackholed IPv6 address (loopback only)"
    )
    p.add_argument(
        "--fallback-delay",
        type=duration,
        default=0.3,
        help="default 300ms; negative (--fallback-delay=-1s) turns fast fallback off",
    )
    _trace_options(p)
    p.add_argument("--svg", metavar="DIR", help="also draw each act as an SVG picture in DIR")
    return parser


def _trace_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        action="store_true",
        help="print the trace events, one JSON object per line (times in seconds since the dial began)",
    )
    p.add_argument("--width", type=int, default=None, help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
        "dial": _dial,
        "listen": listen_command,
        "lookup": lookup_command,
        "demo": demo_command,
    }
    try:
        return trio.run(commands[args.command], args)
    except UsageError as exc:
        print(f"trionet {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BaseExceptionGroup as group:
        # Ctrl-C while a nursery runs (listen's handlers, dial's pump) arrives inside a group.
        if group.subgroup(KeyboardInterrupt) is not None:
            return 130
        raise


def _show_trace(args: argparse.Namespace, events: list[trace.Event]) -> None:
    """``dial --trace``/``--json``/``--svg``: on stderr (or the file), clear of the data."""
    if args.trace and events:
        print(timeline(events, args.width), file=sys.stderr)
    if args.json:
        for line in event_json(events):
            print(line, file=sys.stderr)
    if args.svg is not None:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(trace.render_svg(events))


# -- dial -------------------------------------------------------------------------------------
async def _dial(args: argparse.Namespace) -> int:
    if args.https_records and not args.happy_eyeballs:
        raise UsageError("--https-records needs --happy-eyeballs")
    try:
        dialer = Dialer(
            timeout=args.timeout,
            fallback_delay=args.fallback_delay,
            local_addr=args.local,
            keep_alive=args.keepalive,
            multipath_tcp=True if args.mptcp else None,
            happy_eyeballs=HappyEyeballs(https_records=args.https_records) if args.happy_eyeballs else None,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.svg is not None:
        open_svg(args.svg)
    with trace.collect() as events:
        try:
            network: str = args.network  # typed, so the checkers pick dial()'s str overload
            conn = await dialer.dial(network, args.address)
        except OSError as exc:
            _show_trace(args, events)
            return fail(exc)
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
            write_stdout(data)
        nursery.cancel_scope.cancel()
