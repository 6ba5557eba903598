"""Resolver benchmark: lookups per second against one local DNS server, trionet vs the rest.

Run ``python benchmarks/bench_resolve.py [--quick] [--markdown]``. The server is a real dnsmasq
on a free loopback port when ``/usr/sbin/dnsmasq`` exists, else ``tests/dnsfake.py`` in another
process; either way it serves ``bench.test`` (A 127.0.0.1, AAAA ::1) and nothing leaves loopback.
Contenders, interleaved round by round (order rotating), sequential lookups:

* trionet's pure path, ``lookup_ip_addr`` (A and AAAA concurrently, RFC 6724 sort) and
  ``lookup_ip("ip4", ...)`` (A only). Asking the same name again gets byte-identical replies,
  which trionet parses once (a 512-entry cache); the "distinct names" rows cycle through 1,024
  names so that every reply is new, as when TTLs change between answers: that is the figure
  for the resolver's CPU cost. The "server 5 ms away" rows ask ``tests/dnsfake.py --delay``
  (in another process, still on loopback), which answers every query after 5 ms: there
  trionet's concurrent A and AAAA queries meet dnspython's sequential ones;
* dnspython's own async resolver (``dns.asyncresolver.Resolver(configure=False)``, trio backend):
  ``resolve_name`` (AAAA then A) and ``resolve(..., "A")``;
* ``getaddrinfo`` in a thread (``trio.socket.getaddrinfo``) for ``localhost`` only: for DNS
  names it would use the system resolv.conf, which the network rule forbids. It is listed with
  trionet's hosts-file lookup of ``localhost`` (private hosts file) for comparison;
* ``trionet.Dialer(resolver=<private hosts file>).dial("tcp", "localhost:PORT")`` against
  ``trio.open_tcp_stream("localhost", PORT)``.

Each figure is the median over rounds of the per-operation time; "speed" is the ratio of those
medians, "paired" the median over rounds of the ratio within each round (drift between rounds
cancels out). Target (issue 4): trionet's pure path at least 2x dnspython's async resolver.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import dns.asyncbackend
import dns.asyncresolver
import trio

import trionet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, median, paired_ratio, render_table, rotated

ROOT = Path(__file__).resolve().parent.parent
DNSMASQ = "/usr/sbin/dnsmasq"
NAME = "bench.test."
#: Names asked in turn by the "distinct names" rows: more than trionet's 512-entry parse cache,
#: so every reply is parsed afresh, as when a server's TTLs change between answers.
DISTINCT = [f"bench-{i}.test." for i in range(1024)]
FAR_OURS = "trionet A+AAAA, server 5 ms away"
FAR_THEIRS = "dnspython AAAA, A, server 5 ms away"


def _free_port() -> int:
    """A loopback port free for UDP and TCP: dnsmasq binds both, and after a dial benchmark
    thousands of TIME_WAIT connections hold ephemeral TCP ports that a UDP-only probe misses."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                t.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise OSError("no loopback port free for both UDP and TCP")


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """dnsmasq (machine.md's command line) or the fake server; (process, port, description)."""
    port = _free_port()
    if os.path.exists(DNSMASQ):
        hosts = directory / "hosts.dnsmasq"
        hosts.write_text(
            "127.0.0.1 bench.test\n::1 bench.test\n"
            + "".join(f"127.0.0.1 {n[:-1]}\n::1 {n[:-1]}\n" for n in DISTINCT)
        )
        argv = [
            DNSMASQ, "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null", "--pid-file=",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
            "--no-hosts", f"--addn-hosts={hosts}", "--local=/test/", "--user=root", "--group=root",
        ]  # fmt: skip
        what = "dnsmasq"
    else:
        argv = [
            sys.executable,
            str(ROOT / "tests" / "dnsfake.py"),
            str(port),
            "bench.test=127.0.0.1",
            "bench.test=::1",
            *(f"{n[:-1]}={ip}" for n in DISTINCT for ip in ("127.0.0.1", "::1")),
        ]
        what = "tests/dnsfake.py (dnsmasq not installed)"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    return proc, port, what


#: The far server's answer delay: a resolver a few milliseconds away, as on a real network.
FAR_DELAY = 0.005


def start_far_server() -> tuple[subprocess.Popen[bytes], int]:
    """tests/dnsfake.py answering ``bench.test`` after FAR_DELAY seconds; (process, port)."""
    port = _free_port()
    argv = [
        sys.executable, str(ROOT / "tests" / "dnsfake.py"), str(port), f"--delay={FAR_DELAY}",
        "bench.test=127.0.0.1", "bench.test=::1",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("tests/dnsfake.py --delay did not start")
        time.sleep(0.01)
    return proc, port


def _answers(port: int) -> bool:
    import dns.message

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.05)
        try:
            s.sendto(dns.message.make_query(NAME, "A").to_wire(), ("127.0.0.1", port))
            return bool(dns.message.from_wire(s.recv(4096)).answer)
        except OSError:
            return False


async def bench(port: int, far_port: int, directory: Path, rounds: int, n: int) -> dict[str, list[float]]:
    (directory / "resolv.conf").write_text("options timeout:2 attempts:1\n")
    (directory / "hosts").write_text("127.0.0.1 localhost\n")

    def resolvers(server_port: int) -> tuple[trionet.Resolver, dns.asyncresolver.Resolver]:
        """trionet's pure resolver and dnspython's, both asking only 127.0.0.1:server_port."""
        ours = trionet.Resolver(
            prefer_python=True,
            nameservers=[f"127.0.0.1:{server_port}"],
            resolv_conf=str(directory / "resolv.conf"),
            hosts_file=str(directory / "hosts"),
        )
        theirs = dns.asyncresolver.Resolver(configure=False)
        theirs.nameservers = ["127.0.0.1"]
        theirs.port = server_port
        return ours, theirs

    pure, dp = resolvers(port)
    far, dp_far = resolvers(far_port)
    backend = dns.asyncbackend.get_backend("trio")

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    tcp_port = listeners[0].socket.getsockname()[1]

    async def accept_forever() -> None:
        while True:
            stream = await listeners[0].accept()
            await stream.aclose()

    dialer = trionet.Dialer(resolver=pure)

    async def dial_trionet() -> None:
        await (await dialer.dial("tcp", f"localhost:{tcp_port}")).aclose()

    async def dial_trio() -> None:
        await (await trio.open_tcp_stream("localhost", tcp_port)).aclose()

    async def gai() -> None:
        await trio.socket.getaddrinfo("localhost", None, 0, socket.SOCK_STREAM)

    turn = itertools.count()

    def distinct() -> str:
        return DISTINCT[next(turn) % len(DISTINCT)]

    contenders: dict[str, Callable[[], Awaitable[object]]] = {
        "trionet lookup_ip_addr (A+AAAA)": lambda: pure.lookup_ip_addr(NAME),
        "dnspython resolve_name (AAAA, A)": lambda: dp.resolve_name(NAME, backend=backend),
        "trionet A+AAAA, distinct names": lambda: pure.lookup_ip_addr(distinct()),
        "dnspython AAAA, A, distinct names": lambda: dp.resolve_name(distinct(), backend=backend),
        "trionet lookup_ip ip4 (A)": lambda: pure.lookup_ip("ip4", NAME),
        "dnspython resolve A": lambda: dp.resolve(NAME, "A", backend=backend),
        FAR_OURS: lambda: far.lookup_ip_addr(NAME),
        FAR_THEIRS: lambda: dp_far.resolve_name(NAME, backend=backend),
        "trionet localhost (hosts file)": lambda: pure.lookup_ip_addr("localhost"),
        "getaddrinfo thread localhost": gai,
        "trionet dial localhost": dial_trionet,
        "trio.open_tcp_stream localhost": dial_trio,
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept_forever)
        for fn in contenders.values():  # warm-up
            for _ in range(max(n // 10, 3)):
                await fn()
        names = list(contenders)
        for r in range(rounds):
            for name in rotated(names, r):
                fn = contenders[name]
                count = max(n // 10, 5) if name in (FAR_OURS, FAR_THEIRS) else n  # each takes ms
                start = time.perf_counter()
                for _ in range(count):
                    await fn()
                times[name].append((time.perf_counter() - start) / count)
        nursery.cancel_scope.cancel()
    for listener in listeners:
        await listener.aclose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer rounds and lookups")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    rounds, n = (3, 50) if args.quick else (9, 300)
    with tempfile.TemporaryDirectory(prefix="trionet-bench-resolve-") as tmp:
        proc, port, what = start_server(Path(tmp))
        far_proc, far_port = start_far_server()
        try:
            result = trio.run(bench, port, far_port, Path(tmp), rounds, n)
        finally:
            for p in (proc, far_proc):
                p.terminate()  # by PID
                p.wait()
    pairs = {
        "trionet lookup_ip_addr (A+AAAA)": "dnspython resolve_name (AAAA, A)",
        "trionet A+AAAA, distinct names": "dnspython AAAA, A, distinct names",
        "trionet lookup_ip ip4 (A)": "dnspython resolve A",
        FAR_OURS: FAR_THEIRS,
        "trionet localhost (hosts file)": "getaddrinfo thread localhost",
        "trionet dial localhost": "trio.open_tcp_stream localhost",
    }
    rows: list[list[str]] = []
    for ours, theirs in pairs.items():
        for name in (ours, theirs):
            per = median(result[name])
            if name == ours:
                ratio = f"{median(result[theirs]) / per:.2f}x"
                paired = f"{paired_ratio(result[theirs], result[ours]):.2f}x"
            else:
                ratio = paired = "1.00"
            rows.append([name, f"{per * 1e6:.0f}", f"{1 / per:.0f}", ratio, paired])
    print(f"# resolve benchmark — {machine_line()}")
    print(f"# server: {what}; {rounds} rounds x {n} operations, medians of per-operation time")
    print(
        render_table(
            ["contender", "us/op", "ops/s", "speed vs the row below", "paired"], rows, markdown=args.markdown
        )
    )


if __name__ == "__main__":
    main()
