"""trionet.trace on the fake network: every event, exact times under autojump_clock."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re

import pytest
import trio

from trionet import Dialer, OpError, trace
from trionet._timeline import render
from trionet.testing import FakeNet


def dual(*, blackhole_v6: bool = True) -> FakeNet:
    net = FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"], delay=0.01)
    if blackhole_v6:
        net.blackhole("::1")
    return net


async def test_fast_fallback_events(autojump_clock: trio.testing.MockClock) -> None:
    net = dual()
    with net.install(), trace.collect() as events:
        stream = await Dialer(resolver=net.resolver, timeout=10).dial("tcp", "dual.test:80")
    await stream.aclose()
    got = [(type(e).__name__, e.time) for e in events]
    assert got == [
        ("DialStart", 0.0),
        ("ResolveStart", 0.0),
        ("ResolveDone", 0.01),
        ("DelayStart", 0.01),  # the fallback timer starts with the race
        ("AttemptStart", 0.01),
        ("AttemptStart", 0.01 + 0.3),
        ("AttemptDone", 0.01 + 0.3),
        ("AttemptDone", 0.01 + 0.3),
        ("DialDone", 0.01 + 0.3),
    ]
    assert len({e.dial for e in events}) == 1
    start, _, resolved, delay, primary, fallback, won, lost, done = events
    assert isinstance(delay, trace.DelayStart)
    assert (delay.name, delay.delay) == ("fallback delay", 0.3)
    assert isinstance(start, trace.DialStart)
    assert (start.network, start.address, start.own_deadline, start.deadline) == (
        "tcp",
        "dual.test:80",
        10.0,
        10.0,
    )
    assert isinstance(resolved, trace.ResolveDone)
    assert resolved.addrs == ("::1", "127.0.0.1")
    assert isinstance(primary, trace.AttemptStart)
    assert (primary.addr, primary.family, primary.role) == ("[::1]:80", "ipv6", "primary")
    assert primary.deadline == 10.0  # one address per racer: all the time left
    assert isinstance(fallback, trace.AttemptStart)
    assert (fallback.addr, fallback.family, fallback.role) == ("127.0.0.1:80", "ipv4", "fallback")
    assert isinstance(won, trace.AttemptDone)
    assert won.ok
    assert won.role == "fallback"
    assert isinstance(lost, trace.AttemptDone)
    assert lost.cancelled
    assert lost.role == "primary"
    assert not lost.ok
    assert isinstance(done, trace.DialDone)
    assert done.winner == "127.0.0.1:80"


async def test_partial_deadlines_and_own_timeout(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("three.test", ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
    for ip in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        net.blackhole(ip)
    with net.install(), trace.collect() as events, pytest.raises(OpError):
        await Dialer(resolver=net.resolver, timeout=12).dial("tcp", "three.test:80")
    starts = [(e.time, e.deadline) for e in events if isinstance(e, trace.AttemptStart)]
    assert starts == [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)]
    dones = [e for e in events if isinstance(e, trace.AttemptDone)]
    assert [(e.time, str(e.error)) for e in dones[:2]] == [
        (4.0, "dial tcp 127.0.0.1:80: i/o timeout"),
        (8.0, "dial tcp 127.0.0.2:80: i/o timeout"),
    ]
    assert dones[2].cancelled  # the last one is stopped by the dialer's own scope
    done = events[-1]
    assert isinstance(done, trace.DialDone)
    assert done.timed_out
    assert not done.cancelled
    assert done.time == 12.0
    # Go's dialSerial (issue 11 item 1): the last address was in flight, so the first error.
    assert str(done.error) == "dial tcp 127.0.0.1:80: i/o timeout"


async def test_enclosing_cancel_is_traced_as_cancelled(autojump_clock: trio.testing.MockClock) -> None:
    net = dual()
    with net.install(), trace.collect() as events, trio.move_on_after(0.1):
        await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    done = events[-1]
    assert isinstance(done, trace.DialDone)
    assert (done.cancelled, done.timed_out, done.error, done.winner, done.time) == (
        True,
        False,
        None,
        None,
        0.1,
    )


async def test_refused_attempt_carries_its_error(autojump_clock: trio.testing.MockClock) -> None:
    net = dual(blackhole_v6=False)
    net.refuse("::1", delay=0.05)
    with net.install(), trace.collect() as events:
        stream = await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    await stream.aclose()
    failed = next(e for e in events if isinstance(e, trace.AttemptDone) and e.error is not None)
    assert failed.time == 0.06  # exact: FakeNet sums the script's delays in decimal
    assert str(failed.error) == "dial tcp [::1]:80: connect: connection refused"
    fallback = next(e for e in events if isinstance(e, trace.AttemptStart) and e.role == "fallback")
    assert fallback.time == 0.06  # the primary failed: the fallback starts at once


async def test_loser_closed_event(autojump_clock: trio.testing.MockClock) -> None:
    net = dual(blackhole_v6=False)
    with net.install(), trace.collect() as events:
        stream = await Dialer(resolver=net.resolver, fallback_delay=0).dial("tcp", "dual.test:80")
    closed = [e for e in events if isinstance(e, trace.LoserClosed)]
    assert len(closed) == 1
    done = events[-1]
    assert isinstance(done, trace.DialDone)
    assert closed[0].addr != done.winner
    net.check(stream)
    await stream.aclose()


async def test_resolve_failure_event(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    with net.install(), trace.collect() as events, pytest.raises(OpError):
        await Dialer(resolver=net.resolver).dial("tcp", "nosuch.test:80")
    resolved = next(e for e in events if isinstance(e, trace.ResolveDone))
    assert str(resolved.error) == "lookup nosuch.test: no such host"
    assert resolved.describe() == "resolve nosuch.test failed: lookup nosuch.test: no such host"


@pytest.mark.parametrize("how", ["enclosing scope", "own timeout"])
async def test_a_cancelled_resolve_is_done_too(autojump_clock: trio.testing.MockClock, how: str) -> None:
    # Issue 11 item 7: every ResolveStart has its ResolveDone, also when the lookup is cut off.
    net = FakeNet()
    net.add_host("slow.test", ["127.0.0.1"], delay=math.inf)
    dialer = Dialer(resolver=net.resolver, timeout=2 if how == "own timeout" else None)
    expected = pytest.raises(OpError) if how == "own timeout" else contextlib.nullcontext()
    with net.install(), trace.collect() as events, trio.move_on_after(2), expected:
        await dialer.dial("tcp", "slow.test:80")
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["DialStart", "ResolveStart", "ResolveDone", "DialDone"]
    done = events[2]
    assert isinstance(done, trace.ResolveDone)
    assert done.cancelled
    assert done.time == 2.0
    assert done.describe() == "resolve slow.test cancelled"


async def test_no_observer_no_tracer() -> None:
    assert trace.start() is None  # the free path: nothing listens, nothing is built
    with trace.observe(lambda e: None):
        assert trace.start() is not None


async def test_observers_nest_and_stay_in_their_block(autojump_clock: trio.testing.MockClock) -> None:
    net = dual(blackhole_v6=False)
    outer: list[trace.Event] = []
    with net.install():
        with trace.observe(outer.append):
            with trace.collect() as inner:
                await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
            await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
        await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
    assert len({e.dial for e in inner}) == 1
    assert len({e.dial for e in outer}) == 2
    assert outer[: len(inner)] == inner


async def test_mirrored_to_logging(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    net = dual()
    with caplog.at_level(logging.DEBUG, logger="trionet.trace"), net.install():
        await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "trionet.trace"]
    assert any("fallback attempt 127.0.0.1:80 connected" in m for m in messages)
    assert any("@ 0.310000] dial done: connected to 127.0.0.1:80" in m for m in messages)


async def test_as_dict_is_json_ready(autojump_clock: trio.testing.MockClock) -> None:
    net = dual()
    with net.install(), trace.collect() as events:
        await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
    rows = [json.loads(json.dumps(e.as_dict())) for e in events]
    assert rows[0] == {
        "event": "DialStart",
        "time": 0.0,
        "dial": events[0].dial,
        "network": "tcp",
        "address": "dual.test:80",
        "deadline": None,
        "own_deadline": None,
    }
    assert rows[2]["addrs"] == ["::1", "127.0.0.1"]
    assert math.isclose(rows[-1]["time"], 0.31)


async def test_timeline_picture(autojump_clock: trio.testing.MockClock) -> None:
    net = dual()
    with net.install(), trace.collect() as events:
        await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
    picture = render(events, width=40).splitlines()
    assert picture[0] == "dial tcp dual.test:80"
    assert picture[1].split() == ["0", "100", "200", "300", "400", "ms"]
    assert picture[2] == " " * 23 + "+---------" * 4 + "+"
    assert picture[3].startswith("resolve dual.test      =* ")
    assert picture[3].endswith("10.0 ms -> ::1, 127.0.0.1")
    # The primary bar runs from 10 ms to 310 ms (columns 1..31 of 40 over 400 ms).
    assert picture[4] == "primary  [::1]:80      " + " " + "=" * 30 + "/" + " " * 11 + "cancelled at 310.0 ms"
    assert (
        picture[5]
        == "fallback 127.0.0.1:80  " + " " * 31 + "*" + " " * 11 + "connected at 310.0 ms  <- winner"
    )
    assert picture[6] == "=> connected to 127.0.0.1:80 after 310.0 ms"


async def test_timeline_fits_the_terminal(autojump_clock: trio.testing.MockClock) -> None:
    # fit: the time axis narrows so that every line fits, down to MIN_FIT_WIDTH columns.
    net = dual()
    with net.install(), trace.collect() as events:
        await (await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")).aclose()
    wide = render(events, width=48).splitlines()
    assert max(len(line) for line in wide) > 88
    fitted = render(events, width=48, fit=88).splitlines()
    assert max(len(line) for line in fitted) <= 88
    assert fitted[1].split() == ["0", "100", "200", "300", "400", "ms"]
    assert len(fitted[2].strip()) < len(wide[2].strip())
    assert fitted[5].endswith("*" + " " * 8 + "connected at 310.0 ms  <- winner")
    assert render(events, width=48, fit=200) == "\n".join(wide)  # room enough: unchanged
    # No room at all: the narrowest axis, and lines left long.
    narrow = render(events, width=48, fit=20).splitlines()
    assert narrow[2].strip() == "+-----" * 4 + "+"
    assert render(events, width=12, fit=20) == render(events, width=12)  # never wider


@pytest.mark.parametrize("address", ["127.0.0.1:80", "one.test:80"], ids=["literal", "name"])
async def test_a_single_address_dial_reports_its_attempt(
    autojump_clock: trio.testing.MockClock, address: str
) -> None:
    # API: events for each attempt start/done, one address included (a serial walk, no race).
    net = FakeNet()
    net.add_host("one.test", ["127.0.0.1"], delay=0.0)
    net.refuse("127.0.0.1", delay=0.25)
    with net.install(), trace.collect() as events, pytest.raises(OpError):
        await Dialer(resolver=net.resolver, timeout=5).dial("tcp", address)
    attempts = [e for e in events if isinstance(e, trace.AttemptStart | trace.AttemptDone)]
    assert [(type(e).__name__, e.time, e.addr) for e in attempts] == [
        ("AttemptStart", 0.0, "127.0.0.1:80"),
        ("AttemptDone", 0.25, "127.0.0.1:80"),
    ]
    start, done = attempts
    assert isinstance(start, trace.AttemptStart)
    assert isinstance(done, trace.AttemptDone)
    assert start.deadline == 5.0  # one address: all of the dialer's time
    assert "connection refused" in str(done.error)


@pytest.mark.parametrize("address", ["127.0.0.1:9", "[::1]:9", "[::]:9", ":9"])
@pytest.mark.parametrize("timeout", [0, -1])
async def test_tracing_never_changes_the_error(address: str, timeout: float) -> None:
    # No time left before the first attempt: the error still names the address (Go's
    # dialSerial returns OpError{Addr: ra}), whether or not someone is tracing.
    want = f"dial tcp {address}: i/o timeout"
    with pytest.raises(OpError, match=rf"^{re.escape(want)}$"):
        await Dialer(timeout=timeout).dial("tcp", address)
    with trace.collect(), pytest.raises(OpError, match=rf"^{re.escape(want)}$"):
        await Dialer(timeout=timeout).dial("tcp", address)
