"""``trionet demo``: fast fallback, and who stops a dial, on loopback only (no DNS server)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import socket
import sys
import tempfile
import textwrap
from collections.abc import Generator

import trio

from . import trace
from ._cli_common import UsageError, event_json, timeline
from ._dial import Dialer
from ._errors import OpError
from ._resolver import Resolver

__all__ = ["demo_command"]

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


#: Fast fallback off: the dialer's timeout, so that the serial walk ends in seconds. With two
#: addresses the first gets Go's partial deadline, max(4 s / 2, 2 s) = 2 s, then IPv4 connects.
_SERIAL_TIMEOUT = 4.0
#: The demo's prose is wrapped to this width (the timelines fit the terminal: _cli_common.timeline).
_PROSE_WIDTH = 79


def _emit(events: list[trace.Event], json_lines: bool, width: int | None) -> None:
    if json_lines:
        for line in event_json(events):
            print(line)
    else:
        print(timeline(events, width))
    print()


def _say(*paragraphs: str) -> None:
    """The demo's prose, each paragraph wrapped to fit 80 columns, and a blank line."""
    for paragraph in paragraphs:
        print(textwrap.fill(paragraph, width=_PROSE_WIDTH))
    print()


def _svg_dir(directory: str | None) -> str | None:
    """``--svg DIR``, created if missing; bad input when it cannot be."""
    if directory is not None:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create --svg {directory}: {exc.strerror or exc}") from None
    return directory


def _write_svg(directory: str | None, name: str, events: list[trace.Event], title: str) -> None:
    if directory is not None:
        path = os.path.join(directory, name)
        start = min((e.time for e in events), default=None)
        with open(path, "w", encoding="utf-8") as f:
            f.write(trace.render_svg(events, title=title, start=start))
        print(f"wrote {path}", file=sys.stderr)


async def demo_command(args: argparse.Namespace) -> int:
    delay: float = args.fallback_delay
    svg = _svg_dir(args.svg)
    serial = delay < 0
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(_port_pair(v4_listens=True))
        hole = stack.enter_context(_port_pair(v4_listens=False))
        resolver = _demo_resolver(stack.enter_context(tempfile.TemporaryDirectory(prefix="trionet-demo-")))
        if serial:
            how = (
                "Fast fallback off (a negative delay): as in Go, the addresses are tried one after "
                f"the other. The dialer's timeout is {_SERIAL_TIMEOUT:g} s, so [::1] gets Go's partial "
                "deadline (its share of the time left, at least 2 s) before 127.0.0.1 is tried."
            )
        else:
            how = f"IPv6 is tried first; IPv4 starts after the fallback delay ({delay * 1000:g} ms)."
        if not args.json:
            _say(
                f"Act 1: {'fast fallback off' if serial else 'fast fallback'}. {_DEMO_NAME} resolves "
                "(private hosts file) to ::1, then 127.0.0.1.",
                f"[::1]:{port} is a blackhole (SYNs are dropped, the connect hangs); "
                f"127.0.0.1:{port} accepts.",
                how,
            )
        dialer = Dialer(resolver=resolver, fallback_delay=delay, timeout=_SERIAL_TIMEOUT if serial else None)
        with trace.collect() as events:
            stream = await dialer.dial("tcp", f"{_DEMO_NAME}:{port}")
        await stream.aclose()
        _emit(events, args.json, args.width)
        title = "Act 1: fast fallback off, Go's serial walk" if serial else "Act 1: fast fallback"
        _write_svg(svg, "act1-fast-fallback.svg", events, f"{title}, [::1] blackholed")
        await _act_two(resolver, hole, args, svg)
    return 0


async def _act_two(resolver: Resolver, port: int, args: argparse.Namespace, svg: str | None) -> None:
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
        # Trio may run the two new tasks in either order; one checkpoint here lets the other dial
        # start first, so that the dials are always numbered (--json, pictures) in this order.
        await trio.lowlevel.checkpoint()
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
        _say(
            f"Act 2: who stops a dial? Both dials run at once against blackholes on both families of port {port}."
        )
        for how, what in (
            ("Dialer(timeout=0.5).dial(...)", outcome["timeout"]),
            ("with trio.move_on_after(0.5): dial(...)", outcome["scope"]),
        ):
            print(f"  {how}")
            for line in what:
                print(f"    {line}")
        print()
    _emit(traces["timeout"], args.json, args.width)
    _emit(traces["scope"], args.json, args.width)
    title = "Act 2: Dialer(timeout=0.5), then trio.move_on_after(0.5), both at once"
    _write_svg(svg, "act2-who-stops-a-dial.svg", traces["timeout"] + traces["scope"], title)
