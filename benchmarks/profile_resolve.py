"""Where the time of one new-name A+AAAA lookup goes: a sampling profile of trionet's pure path.

Run ``python benchmarks/profile_resolve.py [--lookups N] [--interval SECONDS]``. It starts the
same dnsmasq as ``bench_resolve.py`` (a free loopback port, names from its own hosts file),
then looks up N distinct names in turn with ``Resolver(prefer_python=True).lookup_ip_addr``
(more names than trionet's caches hold, so every reply is new), three times:

1. unprofiled, for the wall-clock and CPU (``time.process_time``) figures per lookup;
2. under a sampling profiler: ``setitimer(ITIMER_PROF)`` interrupts the process every
   *interval* of CPU time and the handler records the Python stack. A sample costs one signal,
   not a hook on every call (which is what makes ``cProfile`` overstate call-heavy code such
   as dnspython's parser), so shares of CPU are close to the unprofiled ones;
3. each sample is put in one bucket, from the innermost frame outwards: the first frame of a
   known trionet or trio function names the bucket (dnspython and ``ipaddress`` frames count
   for the trionet function that called them).

The table gives each bucket's share of samples and that share of the unprofiled CPU time per
lookup, in microseconds. "waiting" is wall time minus CPU time: the server (dnsmasq, another
process), the kernel's loopback path and the other processes on the machine.
"""

from __future__ import annotations

import argparse
import collections
import signal
import sys
import tempfile
import time
import types
from pathlib import Path

import trio

import trionet

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_resolve
from _common import machine_line, render_table

#: Function name -> bucket, for the frames that decide a sample (trionet's and a few of trio's).
BUCKETS: dict[str, str] = {
    "_source_of": "RFC 6724 source probes (a UDP connect per address, remembered 1 s)",
    "sort_by_rfc6724": "RFC 6724 sort (pure)",
    "sort_addrs": "RFC 6724 sort (pure)",
    "_parse_body": "reply parse",
    "_match": "reply parse",
    "_head": "reply parse",
    "_is_answer": "reply parse",
    "decode_reply": "reply parse",
    "parse_reply": "reply parse",
    "match": "reply parse",
    "match_stream": "reply parse",
    "_decode_small": "reply parse",
    "_decode_any": "reply parse",
    "_parse_small": "reply parse",
    "_parse": "reply parse",
    "_template": "query build",
    "make_lean_query": "query build",
    "make_query": "query build",
    "_lean_name": "query build",
    "check_reply": "header check and answer extraction",
    "_exchange": "exchange, try_one_name, lookup (trionet glue)",
    "try_one_name_lean": "exchange, try_one_name, lookup (trionet glue)",
    "_try_servers": "exchange, try_one_name, lookup (trionet glue)",
    "lookup_ip_dns": "header check and answer extraction",
    "udp": "UDP socket calls (socket, connect, send, recv, close)",
    "tcp": "TCP socket calls",
    "_make_query": "query build",
    "build_query": "query build",
    "encode_name": "query build",
    "_name": "query name to wire",
    "check_header": "header check and answer extraction",
    "_lookup_ip_cname": "header check and answer extraction",
    "_udp_round_trip": "UDP socket calls (socket, connect, send, recv, close)",
    "_udp_socket": "UDP socket calls (socket, connect, send, recv, close)",
    "_send_direct": "UDP socket calls (socket, connect, send, recv, close)",
    "send_udp": "UDP socket calls (socket, connect, send, recv, close)",
    "_read": "UDP socket calls (socket, connect, send, recv, close)",
    "reply_now": "UDP socket calls (socket, connect, send, recv, close)",
    "close": "UDP socket calls (socket, connect, send, recv, close)",
    "_ask_paired": "exchange, try_one_name, lookup (trionet glue)",
    "_lean_query": "query build",
    "exchange": "exchange, try_one_name, lookup (trionet glue)",
    "try_one_name": "exchange, try_one_name, lookup (trionet glue)",
    "_try_one_name": "exchange, try_one_name, lookup (trionet glue)",
    "_ask_all": "exchange, try_one_name, lookup (trionet glue)",
    "ask": "exchange, try_one_name, lookup (trionet glue)",
    "lookup_ip_addr": "exchange, try_one_name, lookup (trionet glue)",
    "_lookup_ip": "exchange, try_one_name, lookup (trionet glue)",
    "_config": "configuration (resolv.conf, hosts file, order)",
    "_order": "configuration (resolv.conf, hosts file, order)",
    "_files_addrs": "configuration (resolv.conf, hosts file, order)",
    "_static_host": "configuration (resolv.conf, hosts file, order)",
    "outcomes": "exchange, try_one_name, lookup (trionet glue)",
    "result": "exchange, try_one_name, lookup (trionet glue)",
    "_go_on": "exchange, try_one_name, lookup (trionet glue)",
    "take": "header check and answer extraction",
    "_settled": "header check and answer extraction",
    "_inline_ip": "query build",
    "start_inline": "query build",
    "_FirstTry.__init__": "UDP socket calls (socket, connect, send, recv, close)",
    "InlineLookup.__init__": "UDP socket calls (socket, connect, send, recv, close)",
    "do_shared": "shared-query machinery (inline lead or system task)",
    "_lead": "shared-query machinery (inline lead or system task)",
    "_wait": "shared-query machinery (inline lead or system task)",
    "_spawn": "shared-query machinery (inline lead or system task)",
    "_run_shared": "shared-query machinery (inline lead or system task)",
    "run_shared": "shared-query machinery (inline lead or system task)",
}
TRIO = "trio: scheduler, nursery, cancel scopes, wait_readable"
OTHER = "other (benchmark loop, interpreter)"


def bucket_of(frame: types.FrameType | None) -> str:
    in_trio = False
    while frame is not None:
        code = frame.f_code
        path = code.co_filename
        if path.endswith("_sources.py"):
            return "RFC 6724 source probes (a UDP connect per address, remembered 1 s)"
        if path.endswith("_wire.py"):  # the lean codec: every function is build or parse
            return "query build" if code.co_name in ("build_query", "encode_name") else "reply parse"
        if "/trionet/" in path or path.endswith("profile_resolve.py"):
            found = BUCKETS.get(getattr(code, "co_qualname", ""), BUCKETS.get(code.co_name))
            if found is not None:
                return TRIO if in_trio and found.startswith("exchange") else found
        elif "/trio/" in path:
            in_trio = True
        frame = frame.f_back
    return TRIO if in_trio else OTHER


IN_FLIGHT = 1


async def lookups(resolver: trionet.Resolver, names: list[str]) -> None:
    """Every name of *names*, IN_FLIGHT lookups at a time (tasks taking the next name)."""
    todo = iter(names)

    async def worker() -> None:
        for name in todo:
            await resolver.lookup_ip_addr(name)

    if IN_FLIGHT == 1:
        await worker()
        return
    async with trio.open_nursery() as nursery:
        for _ in range(IN_FLIGHT):
            nursery.start_soon(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lookups", type=int, default=3000, help="lookups per pass (default 3000)")
    parser.add_argument("--interval", type=float, default=0.0002, help="CPU seconds between samples")
    parser.add_argument("--in-flight", type=int, default=1, help="lookups at a time (default 1)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    global IN_FLIGHT
    IN_FLIGHT = max(args.in_flight, 1)
    names = [bench_resolve.DISTINCT[i % len(bench_resolve.DISTINCT)] for i in range(args.lookups)]
    samples: collections.Counter[str] = collections.Counter()

    def on_sample(signum: int, frame: types.FrameType | None) -> None:
        samples[bucket_of(frame)] += 1

    with tempfile.TemporaryDirectory(prefix="tnres-profile-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o755)
        proc, port, what = bench_resolve.start_server(directory)
        try:
            (directory / "resolv.conf").write_text("options timeout:2 attempts:1\n")
            (directory / "hosts").write_text("127.0.0.1 localhost\n")
            resolver = trionet.Resolver(
                prefer_python=True,
                nameservers=[f"127.0.0.1:{port}"],
                resolv_conf=str(directory / "resolv.conf"),
                hosts_file=str(directory / "hosts"),
            )

            async def run() -> tuple[float, float]:
                await lookups(resolver, names[:300])  # warm-up
                wall, cpu = time.perf_counter(), time.process_time()
                await lookups(resolver, names)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                signal.signal(signal.SIGPROF, on_sample)
                signal.setitimer(signal.ITIMER_PROF, args.interval, args.interval)
                try:
                    await lookups(resolver, names)
                finally:
                    signal.setitimer(signal.ITIMER_PROF, 0, 0)
                    signal.signal(signal.SIGPROF, signal.SIG_DFL)
                return wall / len(names), cpu / len(names)

            wall, cpu = trio.run(run)
        finally:
            proc.terminate()  # by PID
            proc.wait()
    total = sum(samples.values())
    rows = [
        [name, f"{count / total:.1%}", f"{cpu * 1e6 * count / total:.0f}"]
        for name, count in samples.most_common()
    ]
    rows.append(["all CPU in this process", "100%", f"{cpu * 1e6:.0f}"])
    rows.append(["waiting (server, kernel, other processes)", "", f"{(wall - cpu) * 1e6:.0f}"])
    rows.append(["wall clock per lookup", "", f"{wall * 1e6:.0f}"])
    print(f"# profile of one new-name A+AAAA lookup ({IN_FLIGHT} in flight) — {machine_line()}")
    print(
        f"# server: {what}; {len(names)} lookups per pass, {total} samples every {args.interval * 1e6:.0f} us of CPU"
    )
    print(render_table(["where", "share of CPU samples", "us per lookup"], rows, markdown=args.markdown))


if __name__ == "__main__":
    main()
