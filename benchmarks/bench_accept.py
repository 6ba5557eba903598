"""Accept benchmark: how fast ``trionet.Listener`` accepts, against ``trio.SocketListener``.

Run ``python benchmarks/bench_accept.py [--quick] [--markdown]``. Contenders, measured in the same
run on the same load:

* ``trio.SocketListener`` from ``trio.open_tcp_listeners`` (the baseline);
* ``trionet.Listener`` with the default :class:`trionet.ListenConfig` — an MPTCP listener where
  the kernel has MPTCP, Go's keep-alive (4 ``setsockopt`` calls) on every accepted connection;
* ``trionet.Listener`` with ``multipath_tcp=False`` (a plain TCP listener, keep-alive on);
* ``trionet.Listener`` with ``multipath_tcp=False, keep_alive=-1`` (what the listener adds over
  trio's once Go's keep-alive is switched off).

Method: the clients live in another process (plain blocking sockets), so the client side costs
the server nothing. In each round, for each contender, the client first opens N connections to a
fresh listener — the kernel completes every handshake and queues it (N stays below the backlog,
somaxconn) — and only then does the server drain the queue, timing N ``accept()`` calls, each
returning a ``trio.SocketStream`` (stream construction included, closing excluded). So the figure
is the server's own accept cost, not the client's connect rate. Contenders rotate order every
round; the table shows the median accepts per second over rounds, the ratio of medians to
trio, and the paired ratio (median over rounds of contender / trio in the same round).
Target (issue 3): trionet's default listener at least 0.95x trio's.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

import trionet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, median, paired_ratio, render_table, rotated

TARGET = 0.95
TRIO = "trio.SocketListener"

# The client: "connect PORT N" opens N connections and keeps them (replies "ready");
# "close" resets them all (SO_LINGER 0: no TIME_WAIT, so ports never run out) and replies "closed".
_CLIENT = r"""
import socket, struct, sys
conns = []
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "connect":
        port, n = int(cmd[1]), int(cmd[2])
        for _ in range(n):
            s = socket.socket()
            s.connect(("127.0.0.1", port))
            conns.append(s)
        print("ready", flush=True)
    elif cmd[0] == "close":
        for s in conns:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        conns.clear()
        print("closed", flush=True)
"""


class Client:
    """The client process, driven line by line over its stdin/stdout."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def request(self, line: str) -> str:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


Opener = Callable[[], Awaitable[trio.abc.Listener[trio.SocketStream]]]


async def _trio_listener() -> trio.abc.Listener[trio.SocketStream]:
    return (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]


def _trionet(config: trionet.ListenConfig) -> Opener:
    async def opener() -> trio.abc.Listener[trio.SocketStream]:
        return await config.listen("tcp", "127.0.0.1:0")

    return opener


CONTENDERS: dict[str, Opener] = {
    TRIO: _trio_listener,
    "trionet.Listener (default)": _trionet(trionet.ListenConfig()),
    "trionet.Listener (multipath_tcp=False)": _trionet(trionet.ListenConfig(multipath_tcp=False)),
    "trionet.Listener (no MPTCP, keep_alive=-1)": _trionet(
        trionet.ListenConfig(multipath_tcp=False, keep_alive=-1)
    ),
}


async def measure(client: Client, opener: Opener, n: int) -> float:
    """Accepts per second for one contender: fill the queue with *n* connections, then drain."""
    listener = await opener()
    port = listener.socket.getsockname()[1]  # type: ignore[attr-defined]
    ready = await trio.to_thread.run_sync(client.request, f"connect {port} {n}")
    assert ready == "ready", ready
    gc.disable()
    try:
        start = time.perf_counter_ns()
        streams = [await listener.accept() for _ in range(n)]
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    for stream in streams:
        await stream.aclose()
    await listener.aclose()
    closed = await trio.to_thread.run_sync(client.request, "close")
    assert closed == "closed", closed
    return n / (elapsed / 1e9)


async def run(rounds: int, n: int) -> dict[str, list[float]]:
    client = Client()
    try:
        names = list(CONTENDERS)
        for name in names:  # warm-up: imports, caches, the kernel's MPTCP paths
            await measure(client, CONTENDERS[name], min(n, 200))
        results: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            order = rotated(names, r)
            for name in order:
                results[name].append(await measure(client, CONTENDERS[name], n))
        return results
    finally:
        client.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 500 connections")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9; 3 with --quick)")
    parser.add_argument("-n", type=int, default=None, help="connections per round (default 3000)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 9)
    n = args.n or (500 if args.quick else 3000)
    results = trio.run(run, rounds, n)
    base = median(results[TRIO])
    rows = []
    for name, values in results.items():
        rate = median(values)
        # Rounds pair each contender with trio measured seconds apart: the steadier ratio when
        # other work shares the machine.
        paired = paired_ratio(values, results[TRIO])
        rows.append(
            [
                name,
                f"{rate:,.0f}",
                f"{min(values):,.0f}",
                f"{max(values):,.0f}",
                f"{rate / base:.3f}",
                f"{paired:.3f}",
            ]
        )
    print(f"Accept rate, {rounds} rounds x {n} queued connections ({machine_line()})")
    headers = ["listener", "median accepts/s", "min", "max", "vs trio", "paired ratio"]
    print(render_table(headers, rows, markdown=args.markdown))
    default = paired_ratio(results["trionet.Listener (default)"], results[TRIO])
    verdict = "met" if default >= TARGET else "NOT met"
    print(f"target: trionet default >= {TARGET:.2f}x trio (paired): {verdict} ({default:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
