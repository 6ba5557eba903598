"""Resolver benchmark: lookups per second against one local DNS server, trionet vs the rest.

Run ``python benchmarks/bench_resolve.py [--quick] [--markdown]``. The server is a real dnsmasq
(``tests/dnsfake.py`` in another process when dnsmasq is missing) serving ``bench.test`` and
thousands of other names (A 127.0.0.1, AAAA ::1) from its own hosts file.

**Where it runs.** ``getaddrinfo`` always asks port 53 of the servers in ``/etc/resolv.conf``,
and the machine's nameserver is off limits (the network rule). So, when it can (root and
``unshare``), the script re-runs itself inside a private network namespace and mount namespace
of its own (``unshare --net --mount``): loopback only, no route anywhere else, dnsmasq on
127.0.0.1:53 inside it, and a private ``resolv.conf`` (``nameserver 127.0.0.1``) and
``nsswitch.conf`` (``hosts: files dns``) bind-mounted over ``/etc`` there. Every contender then
runs in that one process, against the same server, in the same rounds. Both namespaces vanish
when the process exits; the host's ``/etc`` is never touched (the child checks it is in new
namespaces before mounting anything). Without them the getaddrinfo-for-DNS rows read
"unavailable" and the rest runs on a free loopback port as before.

Contenders, interleaved round by round (order rotating):

* trionet's pure path, ``lookup_ip_addr`` (A and AAAA concurrently, RFC 6724 sort) and
  ``lookup_ip("ip4", ...)`` (A only). Asking the same name again gets byte-identical replies,
  which trionet parses once (a 512-entry cache); the "new names" rows cycle through 1,024
  names so that every reply is new, as when TTLs change between answers: that is the figure
  for the resolver's CPU cost;
* dnspython's own async resolver (``dns.asyncresolver.Resolver(configure=False)``, trio
  backend): ``resolve_name`` (AAAA then A) and ``resolve(..., "A")``;
* ``getaddrinfo`` in a worker thread as trio does it (``trio.socket.getaddrinfo(name, None, 0,
  SOCK_STREAM)``: glibc asks A and AAAA in parallel, no cache), for DNS names (in the
  namespace) and for ``localhost`` (the hosts file), beside trionet's hosts-file lookup;
* "1,000 names, 100 in flight": 1,000 distinct names, 100 lookups at a time (100 tasks taking
  the next name from one list), for trionet, dnspython and getaddrinfo threads; reported as
  lookups/s. trio runs at most 40 ``getaddrinfo`` threads at once (its default thread limiter),
  so that row is what a trio program gets, not 100 threads;
* "server 5 ms away": ``tests/dnsfake.py --delay`` (another process, still on loopback)
  answers every query after 5 ms: there trionet's concurrent A and AAAA queries meet
  dnspython's sequential ones;
* ``trionet.Dialer(resolver=<private hosts file>).dial("tcp", "localhost:PORT")`` against
  ``trio.open_tcp_stream("localhost", PORT)``.

Each figure is the median over rounds of the per-operation time (for the in-flight row, the
batch's time divided by 1,000). "trionet speed-up" is the rival's median over trionet's;
"paired" the median over rounds of that ratio within each round (drift cancels out): the
figure targets are checked against. Targets (issue 15): new names A+AAAA >= 2.0x dnspython
(floor 1.5x) and >= 1.0x getaddrinfo; 1,000 names / 100 in flight >= 2x both; the same name
again not below 1.89x dnspython.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
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
#: Names asked in turn by the "new names" rows: more than trionet's 512-entry parse cache,
#: so every reply is parsed afresh, as when a server's TTLs change between answers.
DISTINCT = [f"bench-{i}.test." for i in range(1024)]
#: The in-flight row's names: a set of its own, also larger than any of trionet's caches.
MANY = [f"many-{i}.test." for i in range(1000)]
IN_FLIGHT = 100
FAR_OURS = "trionet A+AAAA, server 5 ms away"
FAR_THEIRS = "dnspython AAAA, A, server 5 ms away"
NEW_OURS = "trionet A+AAAA, new names"
NEW_DP = "dnspython AAAA, A, new names"
NEW_GAI = "getaddrinfo thread, new names"
MANY_OURS = f"trionet, {len(MANY):,} names / {IN_FLIGHT} in flight"
MANY_DP = f"dnspython, {len(MANY):,} names / {IN_FLIGHT} in flight"
MANY_GAI = f"getaddrinfo threads, {len(MANY):,} names / {IN_FLIGHT} in flight"
MANY_FLOOR = f"floor: 2 bare UDP exchanges on trio, {len(MANY):,} names / {IN_FLIGHT} in flight"
MANY_FLOOR_SCOPED = f"floor + a timeout scope, {len(MANY):,} names / {IN_FLIGHT} in flight"
SAME_OURS = "trionet lookup_ip_addr (A+AAAA)"
SAME_DP = "dnspython resolve_name (AAAA, A)"

#: Groups of the table: trionet's row first, then its rivals (each with trionet's speed-up).
GROUPS: list[list[str]] = [
    [SAME_OURS, SAME_DP],
    [NEW_OURS, NEW_DP, NEW_GAI],
    ["trionet lookup_ip ip4 (A)", "dnspython resolve A"],
    [MANY_OURS, MANY_DP, MANY_GAI, MANY_FLOOR, MANY_FLOOR_SCOPED],
    [FAR_OURS, FAR_THEIRS],
    ["trionet localhost (hosts file)", "getaddrinfo thread localhost"],
    ["trionet dial localhost", "trio.open_tcp_stream localhost"],
]
#: Rows that need getaddrinfo to reach the benchmark's server: only inside the namespace.
NEEDS_NAMESPACE = {NEW_GAI, MANY_GAI}
#: Rows whose one measurement is a whole batch of MANY lookups, not *n* single operations.
BATCHES = {MANY_OURS, MANY_DP, MANY_GAI, MANY_FLOOR, MANY_FLOOR_SCOPED}

#: The namespace child's marker: the parent's network and mount namespace identities.
_NS_ENV = "TRIONET_BENCH_PARENT_NS"


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


def _served_names() -> list[str]:
    return [NAME, *DISTINCT, *MANY]


def start_server(directory: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], int, str]:
    """dnsmasq (machine.md's command line) or the fake server on *port* (None: a free one);
    (process, port, description)."""
    port = _free_port() if port is None else port
    names = [n[:-1] for n in _served_names()]
    if os.path.exists(DNSMASQ):
        hosts = directory / "hosts.dnsmasq"
        hosts.write_text("".join(f"127.0.0.1 {n}\n::1 {n}\n" for n in names))
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
            *(f"{n}={ip}" for n in names for ip in ("127.0.0.1", "::1")),
        ]
        what = "tests/dnsfake.py (dnsmasq not installed)"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
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
            proc.kill()
            proc.wait()
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


# -- the private namespace -------------------------------------------------------------------
def _ns_ids() -> str:
    return f"{os.readlink('/proc/self/ns/net')} {os.readlink('/proc/self/ns/mnt')}"


def namespace_unavailable() -> str | None:
    """Why the script cannot re-run itself in a private network + mount namespace, or None."""
    if os.environ.get("TRIONET_BENCH_NO_NAMESPACE"):
        return "TRIONET_BENCH_NO_NAMESPACE is set"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root for unshare --net --mount"
    for tool in ("unshare", "ip", "mount"):
        if shutil.which(tool) is None:
            return f"no {tool} command"
    if not os.path.exists(DNSMASQ):
        return "no dnsmasq to listen on port 53"
    return None


def rerun_in_namespace(argv: list[str]) -> int:
    """Run this script again in new network and mount namespaces; its exit status."""
    env = dict(os.environ, **{_NS_ENV: _ns_ids()})
    cmd = ["unshare", "--net", "--mount", "--propagation", "private", sys.executable, *argv]
    return subprocess.run(cmd, env=env, check=False).returncode


@contextmanager
def private_etc(directory: Path) -> Iterator[None]:
    """In the child: loopback up, and a resolv.conf and nsswitch.conf of our own over /etc's.

    Refuses unless both namespaces differ from the parent's: the bind mounts must never land on
    the host's /etc, and getaddrinfo must never reach the host's network.
    """
    parent = os.environ.get(_NS_ENV, "")
    mine = _ns_ids().split()
    if not parent or any(a == b for a, b in zip(parent.split(), mine, strict=True)):
        raise RuntimeError("not inside a private network and mount namespace; refusing to mount")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    files = {
        "/etc/resolv.conf": "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
        "/etc/nsswitch.conf": "hosts: files dns\n",
    }
    mounted: list[str] = []
    try:
        for target, text in files.items():
            source = directory / Path(target).name
            source.write_text(text)
            subprocess.run(["mount", "--bind", str(source), target], check=True)
            mounted.append(target)
        yield
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", target], check=False)


# -- the measurements ------------------------------------------------------------------------
async def bench(
    port: int, far_port: int, directory: Path, rounds: int, n: int, with_gai_dns: bool
) -> dict[str, list[float]]:
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

    async def gai(name: str) -> None:
        await trio.socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)

    turn = itertools.count()

    def distinct() -> str:
        return DISTINCT[next(turn) % len(DISTINCT)]

    def many(lookup: Callable[[str], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """One batch: every name of MANY, IN_FLIGHT tasks each taking the next name."""

        async def batch() -> None:
            names = iter(MANY)

            async def worker() -> None:
                for name in names:
                    await lookup(name)

            async with trio.open_nursery() as nursery:
                for _ in range(IN_FLIGHT):
                    nursery.start_soon(worker)

        return batch

    # The floor rows: what any resolver on trio pays at least for a name, with no DNS work at
    # all: two UDP sockets, the prebuilt A and AAAA queries sent, each socket's first datagram
    # read (not parsed, not checked), the sockets closed; trio's wait_readable for the replies.
    # The scoped row adds one cancel scope per name, as any lookup with a timeout has.
    wires = {name: [_floor_query(name, qtype) for qtype in (1, 28)] for name in MANY}

    async def floor(name: str) -> None:
        socks: list[socket.socket] = []
        waited = False
        try:
            for query in wires[name]:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | _SOCK_NONBLOCK)
                socks.append(sock)
                if not _SOCK_NONBLOCK:  # not Linux
                    sock.setblocking(False)
                sock.connect(("127.0.0.1", port))
                sock.send(query)
            for sock in socks:
                while True:
                    try:
                        sock.recv(65535)
                        break
                    except BlockingIOError:
                        waited = True
                        await trio.lowlevel.wait_readable(sock)
        finally:
            for sock in socks:
                trio.lowlevel.notify_closing(sock)
                sock.close()
        if not waited:  # both replies were in already: still a checkpoint, as a lookup is
            await trio.lowlevel.checkpoint()

    async def floor_scoped(name: str) -> None:
        with trio.move_on_after(2):
            await floor(name)

    async def dp_name(name: str) -> object:
        return await dp.resolve_name(name, backend=backend)

    contenders: dict[str, Callable[[], Awaitable[object]]] = {
        SAME_OURS: lambda: pure.lookup_ip_addr(NAME),
        SAME_DP: lambda: dp.resolve_name(NAME, backend=backend),
        NEW_OURS: lambda: pure.lookup_ip_addr(distinct()),
        NEW_DP: lambda: dp.resolve_name(distinct(), backend=backend),
        NEW_GAI: lambda: gai(distinct()),
        "trionet lookup_ip ip4 (A)": lambda: pure.lookup_ip("ip4", NAME),
        "dnspython resolve A": lambda: dp.resolve(NAME, "A", backend=backend),
        MANY_OURS: many(pure.lookup_ip_addr),
        MANY_DP: many(dp_name),
        MANY_GAI: many(gai),
        MANY_FLOOR: many(floor),
        MANY_FLOOR_SCOPED: many(floor_scoped),
        FAR_OURS: lambda: far.lookup_ip_addr(NAME),
        FAR_THEIRS: lambda: dp_far.resolve_name(NAME, backend=backend),
        "trionet localhost (hosts file)": lambda: pure.lookup_ip_addr("localhost"),
        "getaddrinfo thread localhost": lambda: gai("localhost"),
        "trionet dial localhost": dial_trionet,
        "trio.open_tcp_stream localhost": dial_trio,
    }
    if not with_gai_dns:
        for name in NEEDS_NAMESPACE:
            del contenders[name]
    times: dict[str, list[float]] = {k: [] for k in contenders}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept_forever)
        for name, fn in contenders.items():  # warm-up
            for _ in range(1 if name in BATCHES else max(n // 10, 3)):
                await fn()
        names = list(contenders)
        for r in range(rounds):
            for name in rotated(names, r):
                fn = contenders[name]
                if name in BATCHES:
                    count, per = 1, len(MANY)
                else:
                    count = max(n // 10, 5) if name in (FAR_OURS, FAR_THEIRS) else n  # each takes ms
                    per = count
                start = time.perf_counter()
                for _ in range(count):
                    await fn()
                times[name].append((time.perf_counter() - start) / per)
        nursery.cancel_scope.cancel()
    for listener in listeners:
        await listener.aclose()
    return times


#: Non-blocking from the socket() call itself, as the resolver's own UDP sockets are.
_SOCK_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)


def _floor_query(name: str, qtype: int) -> bytes:
    """A query for the floor rows, written out here (no trionet code): ID 0x1234, RD, one
    question, EDNS0 with a 1232-byte payload."""
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 1) + qname + struct.pack("!HH", qtype, 1) + opt


def _check(label: str, value: float | None, target: float) -> str:
    if value is None:
        return f"{label}: unavailable"
    return f"{label}: {value:.2f}x (target {target:.2f}x) {'met' if value >= target else 'MISSED'}"


def report(
    result: dict[str, list[float]], what: str, rounds: int, n: int, gai_note: str, markdown: bool
) -> None:
    rows: list[list[str]] = []
    for group in GROUPS:
        ours = group[0]
        for name in group:
            if name not in result:
                rows.append([name, "-", "-", f"unavailable: {gai_note}", "-"])
                continue
            per = median(result[name])
            if name == ours:
                ratio = paired = "-"
            else:
                ratio = f"{per / median(result[ours]):.2f}x"
                paired = f"{paired_ratio(result[name], result[ours]):.2f}x"
            rows.append([name, f"{per * 1e6:.0f}", f"{1 / per:,.0f}", ratio, paired])
    print(f"# resolve benchmark — {machine_line()}")
    print(
        f"# server: {what}; {rounds} rounds x {n} operations (in-flight rows: one batch of "
        f"{len(MANY):,} per round), medians of per-operation time"
    )
    print(
        render_table(["contender", "us/op", "ops/s", "trionet speed-up", "paired"], rows, markdown=markdown)
    )

    def target_ratio(theirs: str, ours: str) -> float | None:
        if theirs not in result or ours not in result:
            return None
        return paired_ratio(result[theirs], result[ours])

    print("# targets (issue 15), paired:")
    for line in (
        _check("new names vs dnspython", target_ratio(NEW_DP, NEW_OURS), 2.0),
        _check("new names vs dnspython (floor)", target_ratio(NEW_DP, NEW_OURS), 1.5),
        _check("new names vs getaddrinfo thread", target_ratio(NEW_GAI, NEW_OURS), 1.0),
        _check("in flight vs getaddrinfo threads", target_ratio(MANY_GAI, MANY_OURS), 2.0),
        _check("in flight vs dnspython", target_ratio(MANY_DP, MANY_OURS), 2.0),
        _check("same name vs dnspython", target_ratio(SAME_DP, SAME_OURS), 1.89),
    ):
        print(f"#   {line}")
    # What the in-flight target asks of anything on trio: the floor rows do no DNS work.
    for floor_row in (MANY_FLOOR, MANY_FLOOR_SCOPED):
        floor_ratio = target_ratio(MANY_GAI, floor_row)
        if floor_ratio is not None:
            print(f"#   ({floor_row.split(',')[0]}: {floor_ratio:.2f}x getaddrinfo threads, paired)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer rounds and lookups")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9, quick 3)")
    parser.add_argument("-n", type=int, default=None, help="operations per round (default 300, quick 50)")
    args = parser.parse_args()
    rounds, n = (3, 50) if args.quick else (9, 300)
    rounds, n = args.rounds or rounds, args.n or n
    in_child = _NS_ENV in os.environ
    if not in_child:
        why = namespace_unavailable()
        if why is None:
            sys.exit(rerun_in_namespace([str(Path(__file__).resolve()), *sys.argv[1:]]))
    else:
        why = None
    with tempfile.TemporaryDirectory(prefix="tnres-bench-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o755)  # dnsmasq reads its hosts file from here
        with private_etc(directory) if in_child else _nothing():
            proc, port, what = start_server(directory, 53 if in_child else None)
            far_proc, far_port = start_far_server()
            if in_child:
                what += " on 127.0.0.1:53 in a private network namespace"
            try:
                result = trio.run(bench, port, far_port, directory, rounds, n, in_child)
            finally:
                for p in (proc, far_proc):
                    p.terminate()  # by PID
                    p.wait()
    report(result, what, rounds, n, why or "", args.markdown)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    main()
