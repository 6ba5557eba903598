"""Dialer(happy_eyeballs=HappyEyeballs()) end to end on the public fake network, exact times.

Each table row: the name's addresses and per-family answer delays, what each address does,
the strategy's settings → when each address was connected to (FakeNet.connect_times), the
winner and the end time. The rules are RFC 8305's (§3 resolution delay, §4 interlacing, §5
staggered attempts); the race engine's own tests are in test_rfc8305_race.py.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

import trionet
from trionet import Dialer, HappyEyeballs, IPAddr, OpError, trace
from trionet._rfc8305 import rtt_history
from trionet.testing import FakeNet

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

V6A, V6B, V6C = "2001:db8::1", "2001:db8::2", "2001:db8::3"
V4A, V4B, V4C = "192.0.2.1", "192.0.2.2", "192.0.2.3"

# (id, addrs, ipv4_delay, ipv6_delay, rules, HappyEyeballs kwargs, network,
#  expected connect_times, winner, end)
ROWS = [
    (
        "CAD: IPv6 blackholed, IPv4 250 ms later",
        [V6A, V4A],
        0,
        0,
        {V6A: "hole"},
        {},
        "tcp",
        {V6A: 0, V4A: 0.25},
        V4A,
        0.25,
    ),
    (
        "RD: AAAA late, IPv4 after the 50 ms resolution delay",
        [V6A, V4A],
        0,
        0.3,
        {V4A: 0.01},
        {},
        "tcp",
        {V4A: 0.05},
        V4A,
        0.06,
    ),
    (
        "RD: AAAA inside the resolution delay goes first",
        [V6A, V4A],
        0.01,
        0.04,
        {V6A: "hole"},
        {},
        "tcp",
        {V6A: 0.04, V4A: 0.29},
        V4A,
        0.29,
    ),
    (
        "RD: late AAAA joins the untried list and is next",
        [V6A, V4A, V4B],
        0,
        0.1,
        {V4A: "hole", V6A: "hole"},
        {},
        "tcp",
        {V4A: 0.05, V6A: 0.3, V4B: 0.55},
        V4B,
        0.55,
    ),
    (
        "same family: the second address 250 ms after the first (not 2 s)",
        [V4A, V4B],
        0,
        0,
        {V4A: "hole"},
        {},
        "tcp4",
        {V4A: 0, V4B: 0.25},
        V4B,
        0.25,
    ),
    (
        "interlacing with first_family_count=2",
        [V6A, V6B, V6C, V4A],
        0,
        0,
        {V6A: "hole", V6B: "hole", V6C: "hole"},
        {"first_family_count": 2},
        "tcp",
        {V6A: 0, V6B: 0.25, V4A: 0.5},
        V4A,
        0.5,
    ),
    (
        "a refusal starts the next attempt at once",
        [V6A, V6B, V4A],
        0,
        0,
        {V6A: ("refuse", 0.1), V4A: ("refuse", 0.05)},
        {},
        "tcp",
        {V6A: 0, V4A: 0.1, V6B: 0.15},
        V6B,
        0.15,
    ),
    (
        "earlier attempts keep running: the slow first one still wins",
        [V4A, V4B],
        0,
        0,
        {V4A: 0.4, V4B: 1},
        {},
        "tcp",
        {V4A: 0, V4B: 0.25},
        V4A,
        0.4,
    ),
    (
        "tcp6 asks AAAA only",
        [V6A, V4A],
        0,
        0,
        {},
        {},
        "tcp6",
        {V6A: 0},
        V6A,
        0,
    ),
    (
        "§4: both answers at once, RFC 6724 (the fake's: add_host order) puts IPv4 first",
        [V4A, V6A],
        0,
        0,
        {V4A: "hole"},
        {},
        "tcp",
        {V4A: 0, V6A: 0.25},
        V6A,
        0.25,
    ),
    (
        "§4: A, then AAAA inside the resolution delay, sorted together: IPv4 first",
        [V4A, V6A],
        0,
        0.03,
        {V4A: "hole"},
        {},
        "tcp",
        {V4A: 0.03, V6A: 0.28},
        V6A,
        0.28,
    ),
    (
        "§3 before §4: AAAA alone first starts at once, whatever RFC 6724 says",
        [V4A, V6A],
        0.1,
        0,
        {V6A: "hole"},
        {},
        "tcp",
        {V6A: 0, V4A: 0.25},
        V4A,
        0.25,
    ),
    (
        "custom attempt and resolution delays",
        [V6A, V4A],
        0,
        1,
        {V4A: "hole"},
        {"attempt_delay": 0.1, "resolution_delay": 0.2},
        "tcp",
        {V4A: 0.2, V6A: 1},
        V6A,
        1,
    ),
]


def script(net: FakeNet, rules: dict[str, object]) -> None:
    for addr, rule in rules.items():
        if rule == "hole":
            net.blackhole(addr)
        elif isinstance(rule, tuple):
            net.refuse(addr, delay=rule[1])
        else:
            assert isinstance(rule, int | float)
            net.delay(addr, rule)


@pytest.mark.parametrize(
    ("addrs", "v4_delay", "v6_delay", "rules", "he", "network", "times", "winner", "end"),
    [pytest.param(*row[1:], id=str(row[0])) for row in ROWS],
)
async def test_table(
    autojump_clock: trio.testing.MockClock,
    addrs: list[str],
    v4_delay: float,
    v6_delay: float,
    rules: dict[str, object],
    he: dict[str, float],
    network: str,
    times: dict[str, float],
    winner: str,
    end: float,
) -> None:
    net = FakeNet()
    net.add_host("name.test", addrs, ipv4_delay=v4_delay, ipv6_delay=v6_delay)
    script(net, rules)
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(**he))  # type: ignore[arg-type]
    with net.install():
        stream = await d.dial(network, "name.test:80")
    assert trio.current_time() == end
    assert net.connect_times == times
    assert stream.socket.getpeername()[0] == winner
    net.check(stream)  # every loser closed
    await stream.aclose()
    expected_lookups = {"tcp": ["ip6", "ip4"], "tcp4": ["ip4"], "tcp6": ["ip6"]}[network]
    assert sorted(n for _, n in net.resolver.lookups) == sorted(expected_lookups)


async def test_fallback_delay_is_ignored(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A])
    net.blackhole(V6A)
    for fallback in (None, -1.0, 0.0, 5.0):
        d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(), fallback_delay=fallback)
        start = trio.current_time()
        with net.install():
            stream = await d.dial("tcp", "name.test:80")
        assert trio.current_time() - start == 0.25
        await stream.aclose()
    net.check()


async def test_go_default_is_unchanged(autojump_clock: trio.testing.MockClock) -> None:
    # The same network without the strategy: Go's serial walk, 300 ms fallback.
    net = FakeNet()
    net.add_host("name.test", [V4A, V4B, V6A])
    net.blackhole(V4A)
    net.blackhole(V6A)
    with net.install():
        stream = await Dialer(resolver=net.resolver, timeout=10).dial("tcp", "name.test:80")
    assert net.connect_times == {V4A: 0, V6A: 0.3, V4B: 5}  # V4A's partial deadline: 10/2 s
    await stream.aclose()


async def test_ip_literals(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    d = Dialer(happy_eyeballs=HappyEyeballs())
    with net.install():
        stream = await d.dial("tcp", f"[{V6A}]:443")
        assert stream.socket.getpeername()[:2] == (V6A, 443)
        await stream.aclose()
        with trace.collect() as events:  # traced: one attempt of the strategy, position 0
            stream = await d.dial("tcp", f"{V4A}:https")
        await stream.aclose()
    starts = [e for e in events if isinstance(e, trace.AttemptStart)]
    assert [(e.addr, e.position, e.deadline) for e in starts] == [(f"{V4A}:443", 0, math.inf)]
    assert not [e for e in events if isinstance(e, trace.DNSAnswer)]  # no lookup for a literal
    net.check()


async def test_hosts_file_names_answer_at_once(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(f"{V4A} both.test\n{V6A} both.test\n")
    resolver = trionet.Resolver(hosts_file=str(hosts), resolv_conf="/dev/null", nameservers=["127.0.0.1:1"])
    # RFC 6724 with this machine's routes decides which family goes first (the kernel's source
    # address for each: a machine whose only IPv6 source is a ULA prefers IPv4, rule 5), the
    # same for the first dial (two lookups, sorted together) and the next (the list in memory).
    first, second = (str(a) for a in resolver._sort_addrs("both.test", [IPAddr(V4A), IPAddr(V6A)]))  # pyright: ignore[reportPrivateUsage]
    net = FakeNet()
    net.blackhole(first)
    d = Dialer(resolver=resolver, happy_eyeballs=HappyEyeballs())
    with net.install():
        for _ in range(2):
            start, before = trio.current_time(), len(net.connects)
            stream = await d.dial("tcp", "both.test:80")
            await stream.aclose()
            # both families at once, no resolution delay; RFC 6724's first, then the other
            assert [(c.ip, c.start - start) for c in net.connects[before:]] == [(first, 0), (second, 0.25)]
    assert not [s for s in net.sockets if s.type == 2]  # SOCK_DGRAM: no DNS query was made


async def test_every_attempt_fails_first_attempts_error(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A, V6B])
    net.refuse(V6A, delay=1)  # the first attempt fails last
    net.refuse(V4A)
    net.fail(V6B, errno.EHOSTUNREACH)
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs()).dial("tcp", "name.test:80")
    assert str(info.value) == f"dial tcp [{V6A}]:80: connect: connection refused"
    cause = info.value.__cause__
    assert isinstance(cause, ExceptionGroup)
    assert [str(e) for e in cause.exceptions] == [
        f"dial tcp {V4A}:80: connect: connection refused",
        f"dial tcp [{V6B}]:80: connect: no route to host",
        f"dial tcp [{V6A}]:80: connect: connection refused",
    ]
    assert trio.current_time() == 1
    net.check()


async def test_lookup_errors(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("v4only.test", [V4A], ipv6_delay=0.5)
    net.add_host("empty.test", [])
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs())
    with net.install():
        with pytest.raises(OpError) as info:
            await d.dial("tcp", "nosuch.test:80")
        assert str(info.value) == "dial tcp: lookup nosuch.test: no such host"
        with pytest.raises(OpError, match=r"^dial tcp: lookup empty.test: no such host$"):
            await d.dial("tcp", "empty.test:80")
        with pytest.raises(OpError, match=r"^dial tcp6: lookup v4only.test: no such host$"):
            await d.dial("tcp6", "v4only.test:80")
        start = trio.current_time()
        stream = await d.dial("tcp", "v4only.test:80")  # A at once; AAAA's no such host at 0.5
        assert trio.current_time() == start + 0.05  # ...but the resolution delay ended first
        await stream.aclose()
    net.check()


async def test_own_timeout_names_the_first_address(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A, V6B], ipv6_delay=0.1)
    for a in (V6A, V4A, V6B):
        net.blackhole(a)
    net.add_host("slow.test", [V4A], delay=math.inf)
    with net.install():
        d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(), timeout=3)
        with pytest.raises(OpError) as info:
            await d.dial("tcp", "name.test:80")
        # A at 0, waits 50 ms, V4A is attempted first
        assert str(info.value) == f"dial tcp {V4A}:80: i/o timeout"
        assert isinstance(info.value, TimeoutError)
        assert trio.current_time() == 3
        with pytest.raises(OpError) as info:
            await d.dial("tcp", "slow.test:80")
        assert str(info.value) == "dial tcp: lookup slow.test: i/o timeout"
        assert isinstance(info.value, TimeoutError)
    net.check()


@pytest.mark.parametrize("at", [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.55, 0.6, 1.0])
async def test_enclosing_cancel_is_bare_at_every_point(
    autojump_clock: trio.testing.MockClock, at: float
) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A, V6B], ipv4_delay=0.01, ipv6_delay=0.1)
    net.blackhole(V6A)
    net.refuse(V4A, delay=0.3)
    net.delay(V6B, 0.7)
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(), timeout=100)
    with net.install(), trace.collect() as events, trio.move_on_after(at) as scope:
        try:
            await d.dial("tcp", "name.test:80")
        except BaseExceptionGroup:  # pragma: no cover - what this test guards against
            pytest.fail("a group escaped")
    assert scope.cancelled_caught
    assert trio.current_time() == at
    net.check()
    done = [e for e in events if isinstance(e, trace.DialDone)]
    assert len(done) == 1
    assert done[0].cancelled
    starts = [e for e in events if isinstance(e, trace.ResolveStart)]
    resolved = [e for e in events if isinstance(e, trace.ResolveDone)]
    assert len(resolved) == len(starts) == 1
    # AAAA would answer at 0.1; a cancel in that same instant wins (the lookup is a sleep)
    assert resolved[0].cancelled == (at <= 0.1)


async def test_trace_reports_answers_attempts_positions_and_losers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A], ipv6_delay=0.1)
    net.delay(V4A, 0.35)  # attempted at 0.05, connects at 0.4
    net.delay(V6A, 0.3)  # attempted at 0.3 (after the attempt delay): would connect at 0.6
    with net.install(), trace.collect() as events:
        stream = await Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs()).dial(
            "tcp", "name.test:80"
        )
    await stream.aclose()
    rows = [(e.time, e.describe()) for e in events]
    assert rows == [
        (0, "dial tcp name.test:80"),
        (0, "resolve name.test"),
        (0, f"A name.test: {V4A}:80"),
        (0, "resolution delay of 50 ms started"),
        (0.05, f"primary attempt {V4A}:80 (ipv4)"),
        (0.05, "attempt delay of 250 ms started"),
        (0.1, f"AAAA name.test: [{V6A}]:80"),
        (0.1, f"resolved name.test: {V4A}:80, [{V6A}]:80"),
        (0.3, f"fallback attempt [{V6A}]:80 (ipv6)"),
        (0.4, f"primary attempt {V4A}:80 connected"),
        (0.4, f"fallback attempt [{V6A}]:80 cancelled"),
        (0.4, f"dial done: connected to {V4A}:80"),
    ]
    positions = [(e.addr, e.position) for e in events if isinstance(e, trace.AttemptStart)]
    assert positions == [(f"{V4A}:80", 0), (f"[{V6A}]:80", 1)]
    net.check()


async def test_simultaneous_connects_close_the_loser(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A])
    net.delay(V6A, 0.5)
    net.delay(V4A, 0.25)  # both connect at 0.5
    with net.install(), trace.collect() as events:
        stream = await Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs()).dial(
            "tcp", "name.test:80"
        )
    losers = [e for e in events if isinstance(e, trace.LoserClosed)]
    assert len(losers) == 1
    assert losers[0].time == 0.5
    assert losers[0].position in (0, 1)
    assert [c.result for c in net.connects] == ["connected", "connected"]
    net.check(stream)
    await stream.aclose()


async def test_adaptive_uses_the_process_history(autojump_clock: trio.testing.MockClock) -> None:
    rtt_history.clear()
    net = FakeNet()
    net.add_host("name.test", [V6A, V4A])
    net.delay(V6A, 0.04)
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(adaptive=True))
    try:
        with net.install():
            (await d.dial("tcp", "name.test:80")).socket.close()
            assert rtt_history.samples(6) == (0.04,)
            net.blackhole(V6A)
            start = trio.current_time()
            (await d.dial("tcp", "name.test:80")).socket.close()
            # 3 x 40 ms = 120 ms after the IPv6 attempt, not 250
            assert net.connects[-1].start - start == pytest.approx(0.12)
    finally:
        rtt_history.clear()
    net.check()


# -- HTTPS records (HEv3 draft) -----------------------------------------------------------------


async def test_https_record_port_hints_and_alpn(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("svc.test", [V6A, V4A], delay=0.2)
    net.add_https("svc.test", alpn=["h2", "http/1.1"], port=8443, ipv6hint=[V6B], ipv4hint=[V4B], delay=0.01)
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(https_records=True))
    with net.install(), trace.collect() as events:
        stream = await d.dial("tcp", "svc.test:443")
    # the hints start the race before A/AAAA, on the record's port
    assert trio.current_time() == 0.01
    assert stream.socket.getpeername()[:2] == (V6B, 8443)
    assert HappyEyeballs.alpn_of(stream) == ("h2", "http/1.1")
    answer = next(e for e in events if isinstance(e, trace.DNSAnswer) and e.kind == "HTTPS")
    assert (answer.alpn, answer.port, answer.addrs) == (
        ("h2", "http/1.1"),
        8443,
        (f"[{V6B}]:443", f"{V4B}:443"),
    )
    await stream.aclose()
    # another port keeps the dial's port
    with net.install():
        stream = await d.dial("tcp", "svc.test:8080")
    assert stream.socket.getpeername()[:2] == (V6B, 8080)
    assert HappyEyeballs.alpn_of(stream) == ("h2", "http/1.1")
    await stream.aclose()
    # without https_records no HTTPS question and no ALPN
    with net.install():
        stream = await Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs()).dial(
            "tcp", "svc.test:443"
        )
    assert HappyEyeballs.alpn_of(stream) == ()
    assert stream.socket.getpeername()[:2] == (V6A, 443)
    await stream.aclose()
    assert [n for _, n in net.resolver.lookups].count("HTTPS") == 2
    net.check()


async def test_https_waits_resolution_delay_and_alias_mode(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("origin.test", [V4A])
    net.blackhole(V4A)
    net.add_https("origin.test", priority=0, target="cdn.test.", delay=0.02)
    net.add_https("cdn.test", alpn=["h3"], delay=0.01)
    net.add_host("cdn.test", [V4C])
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(https_records=True, resolution_delay=0.1))
    with net.install(), trace.collect() as events:
        stream = await d.dial("tcp4", "origin.test:443")
    # A at 0 waits for the HTTPS answer: the alias at 0.02, the target's record at 0.03 and its
    # A answer at once. The service's own (target's) addresses go ahead of the origin's.
    assert net.connect_times == {V4C: 0.03}
    assert trio.current_time() == 0.03
    assert HappyEyeballs.alpn_of(stream) == ("h3",)
    answer = next(e for e in events if isinstance(e, trace.DNSAnswer) and e.kind == "HTTPS")
    assert answer.target == "cdn.test"
    await stream.aclose()
    net.check()


async def test_https_record_slower_than_the_resolution_delay(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("svc.test", [V4A])
    net.add_https("svc.test", port=8443, delay=5)
    d = Dialer(resolver=net.resolver, happy_eyeballs=HappyEyeballs(https_records=True))
    with net.install():
        stream = await d.dial("tcp", "svc.test:443")
    assert trio.current_time() == 0.05  # waited the resolution delay, then went on
    assert stream.socket.getpeername()[:2] == (V4A, 443)
    await stream.aclose()
    net.check()


def test_dialer_checks_the_type() -> None:
    with pytest.raises(TypeError, match="happy_eyeballs must be a HappyEyeballs"):
        Dialer(happy_eyeballs=0.25)  # type: ignore[arg-type]
    d = dataclasses.replace(Dialer(), happy_eyeballs=HappyEyeballs(attempt_delay=0.1))
    assert d.happy_eyeballs == HappyEyeballs(attempt_delay=0.1)


async def test_https_hints_follow_the_local_address_rule(autojump_clock: trio.testing.MockClock) -> None:
    # A non-wildcard local IPv4 address keeps only IPv4 destinations (Go's filterAddrList):
    # the record's IPv6 hint is dropped like an AAAA answer would be, never dialled.
    net = FakeNet()
    net.add_host("svc.test", [V6A, V4A], delay=0.2)
    net.add_https("svc.test", ipv6hint=[V6B], ipv4hint=[V4B], delay=0.01)
    d = Dialer(
        resolver=net.resolver,
        happy_eyeballs=HappyEyeballs(https_records=True),
        local_addr="192.0.2.200:0",
    )
    with net.install():
        stream = await d.dial("tcp", "svc.test:443")
    assert net.connect_times == {V4B: 0.01}
    assert stream.socket.getpeername()[:2] == (V4B, 443)
    await stream.aclose()
    net.check()


async def test_a_local_ipv4_address_asks_and_waits_for_ipv4_only(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Without the local address, a late AAAA costs the resolution delay (50 ms); with a local
    # IPv4 address no AAAA answer could be dialled, so none is asked and none awaited.
    net = FakeNet()
    net.add_host("svc.test", [V6A, V4A], ipv4_delay=0.01, ipv6_delay=1.0)
    he = HappyEyeballs()
    with net.install():
        stream = await Dialer(resolver=net.resolver, happy_eyeballs=he).dial("tcp", "svc.test:80")
    assert trio.current_time() == pytest.approx(0.06)
    await stream.aclose()
    start = trio.current_time()
    d = Dialer(resolver=net.resolver, happy_eyeballs=he, local_addr="192.0.2.200:0")
    with net.install():
        stream = await d.dial("tcp", "svc.test:80")
    assert trio.current_time() - start == pytest.approx(0.01)
    assert stream.socket.getpeername()[:2] == (V4A, 80)
    await stream.aclose()
    net.check()
