"""Go's dial timing tables, with exact times, on the public fake network (``trionet.testing``).

Go's own versions run on the wall clock with ±95 ms of slack. Here every wait is a Trio sleep on
``autojump_clock``, so each expected time is asserted with ``==``. The "slow" destinations of Go
(``slowDst4 = 198.18.0.254``, ``slowDst6 = 2001:2::254``) are *fake* blackholed addresses: no
packet is ever sent, the sockets live inside the process.
"""

from __future__ import annotations

import contextlib
import errno
import math
import sys
from typing import NamedTuple

import pytest
import trio

from trionet import Dialer, OpError, TCPAddr, parse_network, trace
from trionet._attempt import SysDialer
from trionet._dial import new_race
from trionet.testing import FakeNet

from .gotables import DIAL_SERIAL_OWN_TIMEOUT

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

SLOW4 = "198.18.0.254"
SLOW6 = "2001:2::254"
FOREVER = 3600.0  # Go: "instant" rows set the fallback delay to 60 minutes
INSTANT = 0.0


def is_v6(ip: str) -> bool:
    return ":" in ip


# -- TestDialParallel ---------------------------------------------------------------------------
class ParallelRow(NamedTuple):
    """One row of Go's TestDialParallel (go-net.md §5 item 4), and how Go's test runs it."""

    primaries: list[str]
    fallbacks: list[str]
    teardown: str  # the family whose connects fail at once ("tcp4", "tcp6"), or ""
    ok: bool
    expected: float  # seconds until the dial returns

    def fake_net(self) -> FakeNet:
        """Go's test: the teardown family fails at once, slowDst hangs, the rest connects.

        Go tears down one of its loopback listeners; slowDialTCP holds slowDst4/slowDst6 until
        the context ends whatever the teardown, so the slow addresses stay blackholed.
        """
        net = FakeNet()
        net.blackhole(SLOW4)
        net.blackhole(SLOW6)
        for ip in {*self.primaries, *self.fallbacks} - {SLOW4, SLOW6}:
            if self.teardown and is_v6(ip) == (self.teardown == "tcp6"):
                net.fail(ip, errno.ENETUNREACH)
        return net

    async def dial(self) -> trio.SocketStream:
        """Go's test calls dialParallel directly: the race over the real attempt (fake sockets).

        "Instant" rows use a 60-minute fallback delay: they prove no timer is involved.
        """
        delay = FOREVER if self.expected == INSTANT else 0.2
        race = new_race(SysDialer(Dialer(), parse_network("tcp")))
        sock, _ = await race.dial_parallel(
            [TCPAddr(ip, 80) for ip in self.primaries], [TCPAddr(ip, 80) for ip in self.fallbacks], delay
        )
        return trio.SocketStream(sock)


DIAL_PARALLEL = [
    ParallelRow(["127.0.0.1"], [], "", True, INSTANT),
    ParallelRow(["::1"], [], "", True, INSTANT),
    ParallelRow(["127.0.0.1", "::1"], [SLOW6], "tcp6", True, INSTANT),
    ParallelRow(["::1", "127.0.0.1"], [SLOW4], "tcp4", True, INSTANT),
    ParallelRow([SLOW4], ["::1"], "", True, 0.2),
    ParallelRow(["127.0.0.1", "::1"], [], "tcp4", True, INSTANT),
    ParallelRow(["::1", "127.0.0.1"], [], "tcp6", True, INSTANT),
    ParallelRow([SLOW4, SLOW6], ["::1", "127.0.0.1"], "tcp6", True, 0.2),
    ParallelRow(["127.0.0.1"], ["::1"], "tcp4", True, INSTANT),
    ParallelRow(["::1"], ["127.0.0.1"], "tcp6", True, INSTANT),
    ParallelRow(["127.0.0.1"], [], "tcp4", False, INSTANT),
    ParallelRow([], [], "", False, INSTANT),
    ParallelRow(["::1"] * 1000, [], "", True, INSTANT),
]
DIAL_PARALLEL_IDS = [f"TestDialParallel-{i}" for i in range(len(DIAL_PARALLEL))]


@pytest.mark.parametrize("row", DIAL_PARALLEL, ids=DIAL_PARALLEL_IDS)
async def test_dial_parallel(autojump_clock: trio.testing.MockClock, row: ParallelRow) -> None:
    net = row.fake_net()
    with net.install():
        if row.ok:
            stream = await row.dial()
            assert trio.current_time() == row.expected
            net.check(stream)
            await stream.aclose()
        else:
            with pytest.raises(OSError):
                await row.dial()
            assert trio.current_time() == row.expected
    net.check()


@pytest.mark.parametrize("row", DIAL_PARALLEL, ids=[f"{go_id}-cancel-5ms" for go_id in DIAL_PARALLEL_IDS])
async def test_dial_parallel_cancelled_after_5ms(
    autojump_clock: trio.testing.MockClock, row: ParallelRow
) -> None:
    net = row.fake_net()
    raised: BaseException | None = None
    stream: trio.SocketStream | None = None
    with net.install(), trio.move_on_after(0.005) as scope:
        try:
            stream = await row.dial()
        except BaseException as exc:  # record the exact shape, then let it go on
            raised = exc
            if not isinstance(exc, OSError):
                raise
    if row.expected == INSTANT:
        # Finished before the cancellation: the same result as without it (Go repeats every
        # row with a 5 ms cancel).
        assert not scope.cancelled_caught
        assert (stream is not None) == row.ok
        assert trio.current_time() == 0.0
    else:
        # Cancelled at 5 ms: returned at once, with one bare Cancelled (never a group).
        assert scope.cancelled_caught
        assert type(raised) is trio.Cancelled
        assert trio.current_time() == 0.005
    if stream is not None:
        await stream.aclose()
    net.check()


# -- TestDialerFallbackDelay --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fallback_delay", "expected"),
    [
        (1e-9, 1e-9),  # Go: 1ns → "expect 0"; here exactly the nanosecond
        (0.2, 0.2),
        (None, 0.3),  # trionet: None is the 300 ms default (Go's zero value)
        (0.0, 0.0),  # trionet's deliberate difference: 0 means no delay at all
    ],
    ids=["1ns", "200ms", "None-default-300ms", "zero-no-delay"],
)
async def test_dialer_fallback_delay(
    autojump_clock: trio.testing.MockClock, fallback_delay: float | None, expected: float
) -> None:
    net = FakeNet()
    net.add_host("slow6loopback4", [SLOW6, "127.0.0.1"])
    net.blackhole(SLOW6)
    with net.install():
        stream = await Dialer(resolver=net.resolver, fallback_delay=fallback_delay).dial(
            "tcp", "slow6loopback4:80"
        )
    assert trio.current_time() == expected
    assert net.connect_times == {SLOW6: 0.0, "127.0.0.1": expected}
    assert stream.socket.getpeername() == ("127.0.0.1", 80)
    await stream.aclose()
    net.check()


async def test_negative_fallback_delay_dials_serially(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("slow6loopback4", [SLOW6, "127.0.0.1"])
    net.blackhole(SLOW6)
    with net.install():
        stream = await Dialer(resolver=net.resolver, fallback_delay=-1, timeout=10).dial(
            "tcp", "slow6loopback4:80"
        )
    # No racing: the second address waits for the first one's partial deadline (10 s / 2).
    assert net.connect_times == {SLOW6: 0.0, "127.0.0.1": 5.0}
    await stream.aclose()
    net.check()


# -- Partial deadlines through the Dialer (TestDialerPartialDeadline, live) -----------------------
def blackholed(net: FakeNet, n: int) -> list[str]:
    ips = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(n)]
    for ip in ips:
        net.blackhole(ip)
    net.add_host("many.test", ips)
    return ips


@pytest.mark.parametrize(
    ("n", "timeout", "starts", "named"),
    [
        # The error names what Go's dialSerial names (gotables.DIAL_SERIAL_OWN_TIMEOUT): the
        # address after the one in flight, or the first address when the last was in flight.
        (3, 12.0, [0.0, 4.0, 8.0], 0),  # equal shares of 12 s
        (999, 12.0, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 6),  # 2 s each: the sane minimum
        (999, 1.9, [0.0], 1),  # less than 2 s in total: the first address gets all of it
        (1, 12.0, [0.0], 0),
    ],
    ids=["3x12s", "999x12s", "999x1.9s", "1x12s"],
)
async def test_partial_deadlines(
    autojump_clock: trio.testing.MockClock, n: int, timeout: float, starts: list[float], named: int
) -> None:
    net = FakeNet()
    ips = blackholed(net, n)
    with net.install():
        with pytest.raises(OpError) as info:
            await Dialer(resolver=net.resolver, timeout=timeout).dial("tcp", "many.test:80")
        assert trio.current_time() == timeout
    assert [c.start for c in net.connects] == starts
    assert [c.ip for c in net.connects] == ips[: len(starts)]
    assert all(c.result == "cancelled" for c in net.connects)
    assert str(info.value) == f"dial tcp {ips[named]}:80: i/o timeout"
    assert isinstance(info.value, TimeoutError)
    assert info.value.timeout
    net.check()


@pytest.mark.parametrize(
    ("timeout", "starts", "named"),
    DIAL_SERIAL_OWN_TIMEOUT,
    ids=[f"{t}s" for t, _, _ in DIAL_SERIAL_OWN_TIMEOUT],
)
async def test_own_timeout_names_what_go_names(
    autojump_clock: trio.testing.MockClock, timeout: float, starts: list[float], named: int
) -> None:
    # Issue 11 item 1, the repro: 192.0.2.1..3 blackholed.
    net = FakeNet()
    ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    for ip in ips:
        net.blackhole(ip)
    net.add_host("many.test", ips)
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver, timeout=timeout).dial("tcp", "many.test:80")
    assert trio.current_time() == timeout
    assert [c.start for c in net.connects] == starts
    assert str(info.value) == f"dial tcp {ips[named]}:80: i/o timeout"
    assert isinstance(info.value, TimeoutError)
    net.check()


async def test_own_timeout_after_an_earlier_error_is_that_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Go: the last address in flight when the deadline expires, dialSerial returns firstErr,
    # whatever it was (here a refusal), not a timeout.
    net = FakeNet()
    net.add_host("two.test", ["127.0.0.1", "127.0.0.2"])
    net.refuse("127.0.0.1", delay=1.0)
    net.blackhole("127.0.0.2")
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver, timeout=5).dial("tcp", "two.test:80")
    assert trio.current_time() == 5.0
    assert str(info.value) == "dial tcp 127.0.0.1:80: connect: connection refused"
    assert info.value.__cause__ is None  # the only other attempt was cut off, not failed
    net.check()


async def test_fallback_racer_divides_what_is_left(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("four.test", ["::1", "::2", "127.0.0.1", "127.0.0.2"])
    for ip in ("::1", "::2", "127.0.0.1", "127.0.0.2"):
        net.blackhole(ip)
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver, timeout=10.0).dial("tcp", "four.test:80")
    # Primary: 10 s over two addresses. Fallback: starts at 0.3 with 9.7 s left over two.
    assert net.connect_times == {
        "::1": 0.0,
        "127.0.0.1": 0.3,
        "::2": 5.0,
        "127.0.0.2": 0.3 + (10.0 - 0.3) / 2,
    }
    assert trio.current_time() == 10.0
    # Go: dialParallel returns the primary racer's error; its last address was in flight, so
    # dialSerial returns its first error, the partial-deadline timeout of [::1].
    assert str(info.value) == "dial tcp [::1]:80: i/o timeout"
    net.check()


async def test_enclosing_deadline_counts_for_partial_deadlines(
    autojump_clock: trio.testing.MockClock,
) -> None:
    net = FakeNet()
    blackholed(net, 3)
    with net.install(), trio.move_on_after(12) as scope:
        await Dialer(resolver=net.resolver).dial("tcp", "many.test:80")
    assert scope.cancelled_caught  # a bare Cancelled, caught by its own scope
    assert [c.start for c in net.connects] == [0.0, 4.0, 8.0]
    assert trio.current_time() == 12.0
    net.check()


# -- The race's other rules ---------------------------------------------------------------------
@pytest.mark.parametrize("connect_delay", [0.0, 0.5])
async def test_spurious_connection_is_closed(
    autojump_clock: trio.testing.MockClock, connect_delay: float
) -> None:
    # Go's TestDialParallelSpuriousConnection: both families connect in the same instant.
    net = FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"])
    net.succeed("::1", delay=connect_delay)
    net.succeed("127.0.0.1", delay=connect_delay)
    with net.install():
        stream = await Dialer(resolver=net.resolver, fallback_delay=0).dial("tcp", "dual.test:80")
    assert trio.current_time() == connect_delay
    assert [c.result for c in net.connects] == ["connected", "connected"]
    assert len(net.sockets) == 2
    net.check(stream)  # the loser was closed without being returned
    await stream.aclose()
    net.check()


async def test_primary_refused_starts_fallback_at_once(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"])
    net.refuse("::1")
    with net.install():
        stream = await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    assert net.connect_times == {"::1": 0.0, "127.0.0.1": 0.0}
    assert trio.current_time() == 0.0
    await stream.aclose()
    net.check()


async def test_every_address_fails(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("dual.test", ["::1", "::2", "127.0.0.1"])
    net.refuse("::1")
    net.fail("::2", errno.ENETUNREACH, delay=0.1)
    net.refuse("127.0.0.1", delay=0.5)
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    # Go's choice: the primary racer's first error, although the fallback failed last.
    assert str(info.value) == "dial tcp [::1]:80: connect: connection refused"
    assert isinstance(info.value, ConnectionRefusedError)
    cause = info.value.__cause__
    assert isinstance(cause, ExceptionGroup)
    # The raised error, then the others in the order they happened (each exactly once).
    assert [str(e) for e in [info.value, *cause.exceptions]] == [
        "dial tcp [::1]:80: connect: connection refused",
        "dial tcp [::2]:80: connect: network is unreachable",
        "dial tcp 127.0.0.1:80: connect: connection refused",
    ]
    # ::1 refused at 0, the primary racer goes on to ::2, which fails at 0.1: only then has the
    # primary racer failed, and the fallback starts at once (Go's timer.Reset(0)), failing at 0.6.
    assert net.connect_times == {"::1": 0.0, "::2": 0.0, "127.0.0.1": 0.1}
    assert trio.current_time() == 0.1 + 0.5
    net.check()


# -- Whose timeout: the dialer's own scope, or an enclosing one ---------------------------------
@pytest.fixture
def hole() -> FakeNet:
    net = FakeNet()
    net.blackhole("127.0.0.1")
    return net


async def test_own_timeout_is_an_io_timeout_error(
    autojump_clock: trio.testing.MockClock, hole: FakeNet
) -> None:
    with hole.install(), pytest.raises(OpError) as info:
        await Dialer(timeout=1.5).dial("tcp", "127.0.0.1:80")
    assert str(info.value) == "dial tcp 127.0.0.1:80: i/o timeout"
    assert isinstance(info.value, TimeoutError)
    assert trio.current_time() == 1.5
    hole.check()


async def test_move_on_after_is_a_bare_cancel(autojump_clock: trio.testing.MockClock, hole: FakeNet) -> None:
    raised: BaseException | None = None
    with hole.install(), trio.move_on_after(1.5) as scope:
        try:
            await Dialer(timeout=10).dial("tcp", "127.0.0.1:80")
        except BaseException as exc:
            raised = exc
            raise
    assert scope.cancelled_caught
    assert type(raised) is trio.Cancelled
    assert trio.current_time() == 1.5
    hole.check()


async def test_fail_after_is_too_slow_error(autojump_clock: trio.testing.MockClock, hole: FakeNet) -> None:
    with hole.install(), pytest.raises(trio.TooSlowError), trio.fail_after(1.5):
        await Dialer(timeout=10).dial("tcp", "127.0.0.1:80")
    assert trio.current_time() == 1.5
    hole.check()


@pytest.mark.parametrize("outer", ["move_on_after", "fail_after"])
async def test_tie_goes_to_the_enclosing_scope(
    autojump_clock: trio.testing.MockClock, hole: FakeNet, outer: str
) -> None:
    # The dialer's own deadline and the enclosing one expire in the same instant: outer
    # cancellation is never turned into an error.
    with hole.install():
        if outer == "move_on_after":
            with trio.move_on_after(2.0) as scope:
                await Dialer(timeout=2.0).dial("tcp", "127.0.0.1:80")
            assert scope.cancelled_caught
        else:
            with pytest.raises(trio.TooSlowError), trio.fail_after(2.0):
                await Dialer(timeout=2.0).dial("tcp", "127.0.0.1:80")
    assert trio.current_time() == 2.0
    hole.check()


async def test_lookup_that_hangs_times_out_as_lookup(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("slow.test", ["127.0.0.1"], delay=math.inf)
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(resolver=net.resolver, timeout=3).dial("tcp", "slow.test:80")
    assert str(info.value) == "dial tcp: lookup slow.test: i/o timeout"
    assert isinstance(info.value, TimeoutError)
    assert trio.current_time() == 3.0
    assert net.connects == []


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize(
    "how", ["enclosing scope cancelled", "own timeout 0", "own deadline passed"], ids=["cancelled", "t0", "d"]
)
async def test_a_dial_with_no_time_left_makes_no_socket(how: str, traced: bool) -> None:
    # One rule for every path (IP literal or not, traced or not): each attempt starts with a
    # cancellation check, so nothing is created when the dial is over before it starts.
    net = FakeNet()
    dialer = {
        "enclosing scope cancelled": Dialer(),
        "own timeout 0": Dialer(timeout=0),
        "own deadline passed": Dialer(deadline=trio.current_time() - 1),
    }[how]
    observing = trace.collect() if traced else contextlib.nullcontext()
    with net.install(), observing, trio.CancelScope() as scope:
        if how == "enclosing scope cancelled":
            scope.cancel()
        with pytest.raises(OpError if how != "enclosing scope cancelled" else trio.Cancelled):
            await dialer.dial("tcp", "127.0.0.1:80")
    assert net.sockets == []
