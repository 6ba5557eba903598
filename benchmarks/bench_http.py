"""HTTP benchmark: requests/s over fresh connections through httpx, trionet's transport against
httpx's default trio backend; and one ``open_tcp_stream`` dial, trionet's against trio's.

Run ``python benchmarks/bench_http.py [--quick] [--markdown]`` (needs the ``httpx`` extra and the
``bench`` group). Contenders, all measured in the same run against one server:

* ``httpx.AsyncClient`` with ``trionet.httpx.AsyncHTTPTransport()`` and with httpx's default
  transport (httpcore's trio backend, which dials with ``trio.open_tcp_stream``), each for
  ``http://127.0.0.1:PORT/`` and ``http://localhost:PORT/``. Keep-alive is off on both ends
  (``max_keepalive_connections=0``, and the server closes after every response), so every
  request dials a fresh connection: that is what the dialer changes;
* ``trionet.open_tcp_stream`` and ``trio.open_tcp_stream``, dial + close, for the IP literal and
  ``localhost``.

``localhost`` comes from the machine's ``/etc/hosts`` for both (it maps it to 127.0.0.1 only):
httpx's trio backend asks ``getaddrinfo``, whose ``files`` source answers it; trionet's resolver
reads the same file, with a private resolv.conf whose only nameserver is a closed loopback port,
so no DNS query can leave the machine either way.

The server is Go's ``net/http`` with keep-alives off (``benchmarks/go/httpsrv``, in another
process, so it is never the bottleneck); a Python thread server replaces it when Go cannot be
built. Method as in ``bench_dial.py``: warm-up, then rounds with the order shuffled (seeded by
the round number), each contender's figure the median over rounds, ratios paired per round.
Goals (issue 14): trionet's transport at least **1.2x** httpx's requests/s for the IP literal and **1.5x** for ``localhost``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import trio

import trionet
import trionet.httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import build_go, machine_line, median, paired_ratio, port_server, render_table, shuffled

#: Runs *n* sequential operations; returns (elapsed wall-clock ns, this process's CPU ns).
Runner = Callable[[int], Awaitable[tuple[int, int]]]

GOALS = {"127.0.0.1": 1.2, "localhost": 1.5}

# The fallback server: answers every request with the same bytes and closes.
_PY_HTTP_SERVER = """
import socket, sys, threading
RESPONSE = b"HTTP/1.1 200 OK\\r\\ncontent-type: text/plain\\r\\ncontent-length: 5\\r\\nconnection: close\\r\\n\\r\\nhello"
ls = socket.create_server(("127.0.0.1", 0), backlog=4096)
print(ls.getsockname()[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), __import__("os")._exit(0)), daemon=True).start()
def serve(c):
    with c:
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return
            data += chunk
        c.sendall(RESPONSE)
while True:
    try:
        c, _ = ls.accept()
    except OSError:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def http_server(binary: Path | None) -> contextlib.AbstractContextManager[int]:
    """Run the HTTP server on 127.0.0.1 in another process; yields its port. It exits when its
    stdin is closed, which this context manager does on the way out."""
    cmd = [str(binary)] if binary is not None else [sys.executable, "-c", _PY_HTTP_SERVER]
    return port_server(cmd, "HTTP server")


@dataclass
class Contender:
    """One row: a name, what it measures (``"req"`` or ``"dial"``), and how to run N of them."""

    name: str
    kind: str
    host: str
    run: Runner
    per_op_us: list[float] = field(default_factory=list)
    #: This process's CPU time per operation: what the client itself spends, without the
    #: time spent waiting for the server, the kernel or other processes' use of the cores.
    cpu_us: list[float] = field(default_factory=list)


def _timed(body: Callable[[], Awaitable[None]]) -> Runner:
    async def run(n: int) -> tuple[int, int]:
        start, cpu = time.perf_counter_ns(), time.process_time_ns()
        for _ in range(n):
            await body()
        return time.perf_counter_ns() - start, time.process_time_ns() - cpu

    return run


def etc_hosts_dialer() -> trionet.Dialer:
    """A dialer whose resolver reads /etc/hosts and has no reachable DNS server."""
    private = Path(tempfile.mkdtemp(prefix="trionet-bench-http-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    (private / "resolv.conf").write_text("nameserver 127.0.0.1:1\n")
    resolver = trionet.Resolver(
        prefer_python=True, hosts_file="/etc/hosts", resolv_conf=str(private / "resolv.conf")
    )
    return trionet.Dialer(resolver=resolver)


FLOOR = "httpx + bare-connect backend, 127.0.0.1 (floor)"


class _BareStream(httpcore.AsyncNetworkStream):
    """The least a network stream can do for httpcore: no timeouts, no error mapping."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.receive_some(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.send_all(buffer)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def get_extra_info(self, info: str) -> object:
        return None


class _BareBackend(httpcore.AsyncNetworkBackend):
    """The floor for any backend under httpx: one ``trio.socket`` connect to an IPv4 literal and
    nothing else (no resolver, no timeout, no keep-alive options). What httpx's default trio
    backend gains over it is the most any backend could gain, so it bounds the goal."""

    def __init__(self) -> None:
        #: Connections made: the floor row checks that its requests really came through here.
        self.connects = 0

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            await sock.connect((host, port))
        except BaseException:
            sock.close()
            raise
        self.connects += 1
        return _BareStream(trio.SocketStream(sock))

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


def _through(backend: _BareBackend, run: Runner) -> Runner:
    """*run*, failing unless each of its operations connected through *backend*."""

    async def checked(n: int) -> tuple[int, int]:
        before = backend.connects
        result = await run(n)
        if backend.connects - before != n:
            raise RuntimeError(
                f"the floor row made {backend.connects - before} of {n} connects through its backend"
            )
        return result

    return checked


def contenders(port: int, clients: list[httpx.AsyncClient]) -> list[Contender]:
    """The rows; the httpx clients made are appended to *clients* (closed by the caller)."""
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    dialer = etc_hosts_dialer()
    ours = httpx.AsyncClient(
        transport=trionet.httpx.AsyncHTTPTransport(dialer, limits=no_keepalive, trust_env=False)
    )
    theirs = httpx.AsyncClient(limits=no_keepalive, trust_env=False)
    floor_transport = trionet.httpx.AsyncHTTPTransport(limits=no_keepalive, trust_env=False)
    # The transport's pool, given the bare backend: the same httpcore pool as the other rows.
    # The attribute is httpcore's private one; a renamed one would leave trionet's backend in
    # place and the row would measure trionet, so the row's runner checks its connects.
    bare = _BareBackend()
    floor_transport._pool._network_backend = bare  # pyright: ignore[reportPrivateUsage]
    floor = httpx.AsyncClient(transport=floor_transport)
    clients += [ours, theirs, floor]
    rows: list[Contender] = []
    for host in ("127.0.0.1", "localhost"):
        url = f"http://{host}:{port}/"

        def get(client: httpx.AsyncClient, url: str = url) -> Callable[[], Awaitable[None]]:
            async def one() -> None:
                response = await client.get(url)
                if response.status_code != 200 or response.content != b"hello":
                    raise RuntimeError(f"unexpected response {response!r}")

            return one

        async def trionet_dial(host: str = host) -> None:
            stream = await trionet.open_tcp_stream(host, port, dialer=dialer)
            await stream.aclose()

        async def trio_dial(host: str = host) -> None:
            stream = await trio.open_tcp_stream(host, port)
            await stream.aclose()

        rows += [
            Contender(f"httpx + trionet transport, {host}", "req", host, _timed(get(ours))),
            Contender(f"httpx default (trio backend), {host}", "req", host, _timed(get(theirs))),
            Contender(f"trionet.open_tcp_stream, {host}", "dial", host, _timed(trionet_dial)),
            Contender(f"trio.open_tcp_stream, {host}", "dial", host, _timed(trio_dial)),
        ]
        if host == "127.0.0.1":
            rows.append(Contender(FLOOR, "req", host, _through(bare, _timed(get(floor)))))
    return rows


async def measure(rows: list[Contender], rounds: int, requests: int, warmup: int) -> None:
    """Warm up, then *rounds* rounds of *requests* operations per contender, order shuffled."""
    for c in rows:
        await c.run(warmup)
    for r in range(rounds):
        for c in shuffled(rows, r):
            gc.collect()
            elapsed_ns, cpu_ns = await c.run(requests)
            c.per_op_us.append(elapsed_ns / requests / 1000)
            c.cpu_us.append(cpu_ns / requests / 1000)


def report(rows: list[Contender], *, markdown: bool, header: str) -> str:
    """The table (µs per request or dial, requests/s) and the paired ratios against the goals."""
    table: list[list[str]] = []
    for c in rows:
        m = median(c.per_op_us)
        rate = f"{1e6 / m:,.0f}" if c.kind == "req" else ""
        table.append(
            [
                c.name,
                f"{m:.1f}",
                f"{min(c.per_op_us):.1f}-{max(c.per_op_us):.1f}",
                rate,
                f"{median(c.cpu_us):.1f}",
            ]
        )
    headers = ["contender", "median µs/op", "range (rounds)", "requests/s", "client CPU µs/op"]
    lines = [header, "", render_table(headers, table, markdown=markdown), ""]
    by = {c.name: c for c in rows}
    for host, goal in GOALS.items():
        ours, theirs = by[f"httpx + trionet transport, {host}"], by[f"httpx default (trio backend), {host}"]
        # requests/s ratio = their time per request / ours, paired per round
        ratio = paired_ratio(theirs.per_op_us, ours.per_op_us)
        verdict = "met" if ratio >= goal else "MISSED"
        lines.append(
            f"requests/s, trionet transport / httpx default, {host}: {ratio:.3f}x paired "
            f"({median(theirs.per_op_us) / median(ours.per_op_us):.2f}x of medians); goal >= {goal:.1f}x: {verdict}; "
            f"client CPU per request: {paired_ratio(theirs.cpu_us, ours.cpu_us):.2f}x less, paired"
        )
    ours, theirs, floor = (
        by["httpx + trionet transport, 127.0.0.1"],
        by["httpx default (trio backend), 127.0.0.1"],
        by[FLOOR],
    )
    lines.append(
        f"requests/s, bare-connect floor / httpx default, 127.0.0.1: "
        f"{paired_ratio(theirs.per_op_us, floor.per_op_us):.3f}x paired: the most any backend gains; "
        f"trionet transport / floor: {paired_ratio(floor.per_op_us, ours.per_op_us):.3f}x"
    )
    for host in GOALS:
        ours, theirs = by[f"trionet.open_tcp_stream, {host}"], by[f"trio.open_tcp_stream, {host}"]
        lines.append(
            f"one dial, trionet.open_tcp_stream / trio.open_tcp_stream, {host}: "
            f"{paired_ratio(ours.per_op_us, theirs.per_op_us):.2f}x the time, paired "
            f"({median(ours.per_op_us):.1f} µs vs {median(theirs.per_op_us):.1f} µs)"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    built = build_go("httpsrv")
    reason = built if isinstance(built, str) else ""
    binary = built["httpsrv"] if isinstance(built, dict) else None
    clients: list[httpx.AsyncClient] = []
    with http_server(binary) as port:
        rows = contenders(port, clients)
        try:
            await measure(rows, args.rounds, args.requests, args.warmup)
        finally:
            for client in clients:
                await client.aclose()
    server = "Go net/http, keep-alives off" if binary is not None else f"Python fallback ({reason})"
    header = (
        f"Fresh-connection HTTP GETs and dials on loopback, {args.rounds} rounds x {args.requests} per "
        f"contender (warm-up {args.warmup}), server: {server}\n{machine_line()}, "
        f"httpx {httpx.__version__}\ntrionet from {Path(trionet.__file__).parent}"
    )
    print(report(rows, markdown=args.markdown, header=header))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--quick`` is a smoke run of a few seconds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 rounds x 60 requests")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--rounds", type=int, help="rounds (default 15; --quick: 5)")
    parser.add_argument(
        "--requests", type=int, help="requests (or dials) per contender per round (default 200)"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="warm-up operations per contender (default 50)"
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 5 if args.quick else 15
    if args.requests is None:
        args.requests = 60 if args.quick else 200
    if args.rounds < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--rounds and --requests must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python benchmarks/bench_http.py [--quick] [--markdown]``."""
    return trio.run(main_async, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
