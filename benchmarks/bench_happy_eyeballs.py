"""Happy Eyeballs on a broken network: every client, every lab case, in the same run.

Run as root: ``python benchmarks/bench_happy_eyeballs.py [--quick] [--markdown] [--svg PATH]``.

The lab (``tests/netlab``) is two network namespaces joined by a veth pair; the server side
delays, drops, resets or ICMP-rejects the SYNs to each address and serves DNS with per-type
delays; every client runs inside the client namespace and asks the lab's DNS server. Nothing
leaves the namespaces. Clients: trionet (default: Go's algorithm), Go ``net.Dialer``,
``trio.open_tcp_stream``, ``asyncio.open_connection(happy_eyeballs_delay=0.25, interleave=1)``,
``anyio.connect_tcp``, curl. For each client and case: the family that won, the time to connect
(median of the repetitions, with min-max), and the SYN order the lab's delayer saw. Then the
fallback overshoot (how much later than its nominal delay each client's fallback SYN left) and
an SVG chart of time to connect against the IPv6 delay.

``--json PATH`` writes every dial (the case, the client, its time, the SYNs and DNS queries the
lab saw): the docs render their lab tables and chart from that file at build time
(``docs/_ext/lab_report.py``), so every figure there is read off one recorded run.

``--quick`` is a smoke run (a few cases of each kind, 3 repetitions; a few minutes); the full
run is every case with 5 repetitions (about 20 minutes: the blackhole cases wait for 5 s
timeouts).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine_line, render_table

from tests.netlab.cases import Session, all_cases, quick_cases, summarize
from tests.netlab.clients import CLIENTS, RFC8305_CLIENTS, by_name
from tests.netlab.lab import Lab, missing_requirements, remove_stale
from tests.netlab.report import details, feature_table, matrix, overshoot_table, rst_table, svg_chart


def compact_json(record: object) -> str:
    """One dial per line, times rounded to the microsecond (the lab's resolution is coarser)."""

    def rounded(value: object) -> object:
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, list | tuple):
            return [rounded(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
        return value

    assert isinstance(record, dict)
    head = {k: v for k, v in record.items() if k != "dials"}  # pyright: ignore[reportUnknownVariableType]
    lines = [json.dumps(rounded(d), separators=(",", ":")) for d in record["dials"]]
    return json.dumps(head)[:-1] + ', "dials": [\n' + ",\n".join(lines) + "\n]}\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few cases of each kind, 3 repetitions")
    parser.add_argument("--markdown", action="store_true", help="print tables as Markdown")
    parser.add_argument("--rst", action="store_true", help="print tables as reStructuredText (for the docs)")
    parser.add_argument("--reps", type=int, help="repetitions per client and case (default 5; --quick 3)")
    parser.add_argument("--svg", type=Path, help="write the chart here (default: none)")
    parser.add_argument(
        "--json",
        type=Path,
        help="write every dial here (docs/_data/happy-eyeballs-lab.json: the docs' tables and chart)",
    )
    parser.add_argument("--clients", help=f"comma-separated subset of {','.join(c.name for c in CLIENTS)}")
    parser.add_argument("--cases", help="only cases whose 'group: label' contains this text")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    table = rst_table if args.rst else functools.partial(render_table, markdown=args.markdown)

    missing = missing_requirements()
    if missing:
        print("unavailable: the lab needs " + ", ".join(missing))
        return 1
    reps = args.reps or (3 if args.quick else 5)
    clients = by_name(args.clients.split(",")) if args.clients else [*CLIENTS, *RFC8305_CLIENTS]
    cases = quick_cases() if args.quick else all_cases()
    if args.cases:
        cases = [c for c in cases if args.cases in c.key]
    remove_stale()
    started = time.monotonic()
    dials = []
    with Lab() as lab:
        session = Session(lab, clients)
        for name, why in session.unavailable.items():
            print(f"{name}: {why}", file=sys.stderr)
        for case in cases:
            dials.extend(session.run_case(case, reps))
            print(f"  {case.key}: done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    names = [c.name for c in clients if c.name not in session.unavailable]
    summaries = list(summarize(dials))
    header = (
        f"Happy Eyeballs lab, {machine_line()}; {len(cases)} cases x {len(names)} clients x {reps} "
        f"repetitions in {time.monotonic() - started:.0f} s"
    )
    print(header, "", sep="\n")
    print("Time to connect, median ms, and the family that won:\n")
    print(table(*matrix(summaries, names)), "\n")
    print("Every client and case: winner, median and range, SYN order seen by the lab's delayer:\n")
    print(table(*details(summaries)), "\n")
    print("Fallback overshoot (CAD cases where the fallback had to fire; first IPv4 SYN after the")
    print("first IPv6 SYN, minus the client's nominal delay):\n")
    print(table(*overshoot_table(dials, names)), "\n")
    print("Happy Eyeballs features, as measured (docs/broken-networks.rst says how to read them):\n")
    print(table(*feature_table(dials, names)))
    if args.json:
        record = {
            "header": header,
            "clients": {c.name: c.description for c in clients if c.name in names},
            "dials": [d.as_dict() for d in dials],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(compact_json(record))
        print(f"\nevery dial written to {args.json}")
    if args.svg:
        args.svg.write_text(svg_chart(summaries, names, "Time to connect vs. IPv6 SYN delay (lab)"))
        print(f"\nchart written to {args.svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
