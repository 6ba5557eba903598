"""The RFC 8305 race on scripted answers and attempts, with exact times under autojump_clock.

Each row: the strategy, the addresses known at once, the lookups (kind, delay, addresses or an
error), what each address does (delay, outcome) → the attempt start times, the winner and the end
time. Outcomes: ``ok`` connects, ``refuse`` fails, ``hang`` never answers. Addresses with ``:``
are IPv6.
"""

from __future__ import annotations

import errno
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
import trio
import trio.testing

from trionet._rfc8305 import Family, HappyEyeballs, RTTHistory
from trionet._rfc8305_race import AnswerKind, Lookup, Stagger

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


def fam(a: str) -> Family:
    return 6 if ":" in a else 4


@dataclass
class Conn:
    addr: str
    closed: bool = False

    def close(self) -> None:
        self.closed = True


async def kernel_event_at(when: float) -> None:
    """Wake at *when* as a socket does: with a result, even if cancelled in that same instant
    (a plain sleep would raise Cancelled, and two connects finishing together could not both win)."""
    task = trio.lowlevel.current_task()
    timer_scope = trio.CancelScope()

    async def timer() -> None:
        with timer_scope:
            await trio.sleep_until(when)
            trio.lowlevel.reschedule(task)

    def abort(_: object) -> trio.lowlevel.Abort:
        timer_scope.cancel()
        return trio.lowlevel.Abort.SUCCEEDED

    trio.lowlevel.spawn_system_task(timer)
    await trio.lowlevel.wait_task_rescheduled(abort)


@dataclass
class Net:
    """Scripted attempts: {addr: (delay, outcome)}; no rule: connects at once."""

    script: dict[str, tuple[float, str]] = field(default_factory=dict)
    starts: list[tuple[float, str]] = field(default_factory=list)
    conns: list[Conn] = field(default_factory=list)
    running: int = 0

    async def attempt(self, addr: str) -> Conn:
        self.starts.append((trio.current_time(), addr))
        delay, outcome = self.script.get(addr, (0.0, "ok"))
        self.running += 1
        try:
            if outcome == "hang":
                await trio.sleep_forever()
            await kernel_event_at(trio.current_time() + delay)
        finally:
            self.running -= 1
        if outcome == "refuse":
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"refused {addr}")
        conn = Conn(addr)
        self.conns.append(conn)
        return conn


def lookup(kind: AnswerKind, delay: float, addrs: Sequence[str] | str) -> Lookup[str]:
    async def run() -> Sequence[str]:
        await trio.sleep(delay)
        if isinstance(addrs, str):
            raise OSError(addrs)
        return addrs

    return Lookup(kind, run)


@dataclass
class Recorder:
    events: list[tuple[float, str, str, int]] = field(default_factory=list)

    def answer(self, kind: AnswerKind, addrs: Sequence[str], error: OSError | None) -> None:
        self.events.append((trio.current_time(), "answer", f"{kind} {','.join(addrs) or error}", -1))

    def attempt_start(self, addr: str, position: int) -> None:
        self.events.append((trio.current_time(), "start", addr, position))

    def attempt_done(self, addr: str, position: int, error: OSError | None, cancelled: bool) -> None:
        what = "cancelled" if cancelled else "ok" if error is None else "failed"
        self.events.append((trio.current_time(), what, addr, position))

    def loser_closed(self, addr: str, position: int) -> None:
        self.events.append((trio.current_time(), "closed", addr, position))

    def delay(self, name: str, seconds: float) -> None:
        self.events.append((trio.current_time(), name, str(seconds), -1))


V6 = ["::1", "::2", "::3"]
V4 = ["1.0.0.1", "1.0.0.2", "1.0.0.3"]
HANG_ALL = dict.fromkeys(V6 + V4, (0.0, "hang"))

# (id, he kwargs, addrs known now, lookups, script, expected starts, winner, end time)
ROWS = [
    (
        "same family staggered 250 ms, earlier attempts keep running",
        {},
        V4,
        [],
        {"1.0.0.1": (0, "hang"), "1.0.0.2": (0, "hang"), "1.0.0.3": (0.1, "ok")},
        [(0, "1.0.0.1"), (0.25, "1.0.0.2"), (0.5, "1.0.0.3")],
        "1.0.0.3",
        0.6,
    ),
    (
        "an earlier attempt that connects later still wins",
        {},
        V4,
        [],
        {"1.0.0.1": (0.3, "ok"), "1.0.0.2": (10, "ok")},
        [(0, "1.0.0.1"), (0.25, "1.0.0.2")],
        "1.0.0.1",
        0.3,
    ),
    (
        "a failure starts the next at once",
        {},
        V4,
        [],
        {"1.0.0.1": (0.1, "refuse"), "1.0.0.2": (0.05, "refuse")},
        [(0, "1.0.0.1"), (0.1, "1.0.0.2"), (0.1 + 0.05, "1.0.0.3")],
        "1.0.0.3",
        0.1 + 0.05,
    ),
    (
        "interlace with count 1",
        {},
        ["::1", "::2", "1.0.0.1", "1.0.0.2"],
        [],
        {**HANG_ALL, "1.0.0.2": (0, "ok")},
        [(0, "::1"), (0.25, "1.0.0.1"), (0.5, "::2"), (0.75, "1.0.0.2")],
        "1.0.0.2",
        0.75,
    ),
    (
        "interlace with count 2",
        {"first_family_count": 2},
        ["::1", "::2", "::3", "1.0.0.1"],
        [],
        {**HANG_ALL, "::3": (0.01, "ok")},
        [(0, "::1"), (0.25, "::2"), (0.5, "1.0.0.1"), (0.75, "::3")],
        "::3",
        0.76,
    ),
    (
        "attempt_delay 0: every address at once",
        {"attempt_delay": 0},
        ["::1", "1.0.0.1", "::2"],
        [],
        {**HANG_ALL, "::2": (1, "ok")},
        [(0, "::1"), (0, "1.0.0.1"), (0, "::2")],
        "::2",
        1,
    ),
    (
        "attempt_delay inf: one at a time",
        {"attempt_delay": math.inf},
        V4,
        [],
        {"1.0.0.1": (5, "refuse"), "1.0.0.2": (1, "refuse")},
        [(0, "1.0.0.1"), (5, "1.0.0.2"), (6, "1.0.0.3")],
        "1.0.0.3",
        6,
    ),
    (
        "§3: AAAA first starts at once; A joins and is next",
        {},
        [],
        [lookup("AAAA", 0.01, ["::1", "::2"]), lookup("A", 0.1, ["1.0.0.1"])],
        {**HANG_ALL, "1.0.0.1": (0.02, "ok")},
        [(0.01, "::1"), (0.01 + 0.25, "1.0.0.1")],
        "1.0.0.1",
        0.01 + 0.25 + 0.02,
    ),
    (
        "§3: A first waits the resolution delay, then IPv4; AAAA joins later",
        {},
        [],
        [lookup("AAAA", 0.2, ["::1"]), lookup("A", 0.01, ["1.0.0.1", "1.0.0.2"])],
        {**HANG_ALL, "::1": (0, "ok")},
        [(0.01 + 0.05, "1.0.0.1"), (0.01 + 0.05 + 0.25, "::1")],
        "::1",
        0.01 + 0.05 + 0.25,
    ),
    (
        "§3: AAAA inside the resolution delay: IPv6 first",
        {},
        [],
        [lookup("AAAA", 0.04, ["::1"]), lookup("A", 0.01, ["1.0.0.1"])],
        {**HANG_ALL, "1.0.0.1": (0, "ok")},
        [(0.04, "::1"), (0.04 + 0.25, "1.0.0.1")],
        "1.0.0.1",
        0.04 + 0.25,
    ),
    (
        "§3: a failed AAAA ends the resolution delay early",
        {},
        [],
        [lookup("AAAA", 0.02, "no such host"), lookup("A", 0.01, ["1.0.0.1"])],
        {},
        [(0.02, "1.0.0.1")],
        "1.0.0.1",
        0.02,
    ),
    (
        "§3: resolution_delay 0",
        {"resolution_delay": 0},
        [],
        [lookup("AAAA", 1, ["::1"]), lookup("A", 0.01, ["1.0.0.1"])],
        {},
        [(0.01, "1.0.0.1")],
        "1.0.0.1",
        0.01,
    ),
    (
        "§3: resolution_delay inf waits for AAAA",
        {"resolution_delay": math.inf},
        [],
        [lookup("AAAA", 3, ["::1"]), lookup("A", 0.01, ["1.0.0.1"])],
        {**HANG_ALL},
        [(3, "::1"), (3.25, "1.0.0.1")],
        None,
        None,
    ),
    (
        "only an A lookup (tcp4): no resolution delay",
        {},
        [],
        [lookup("A", 0.01, ["1.0.0.1"])],
        {},
        [(0.01, "1.0.0.1")],
        "1.0.0.1",
        0.01,
    ),
    (
        "the list ran dry; a late answer starts at once (the delay since the last start passed)",
        {"resolution_delay": 0},
        [],
        [lookup("A", 0, ["1.0.0.1"]), lookup("AAAA", 1, ["::1"])],
        {"1.0.0.1": (0, "hang")},
        [(0, "1.0.0.1"), (1, "::1")],
        "::1",
        1,
    ),
    (
        "a late answer waits for the rest of the attempt delay",
        {"resolution_delay": 0},
        [],
        [lookup("A", 0, ["1.0.0.1"]), lookup("AAAA", 0.1, ["::1"])],
        {"1.0.0.1": (0, "hang")},
        [(0, "1.0.0.1"), (0.25, "::1")],
        "::1",
        0.25,
    ),
    (
        "a failure while the list is dry: the late answer starts at once",
        {"resolution_delay": 0},
        [],
        [lookup("A", 0, ["1.0.0.1"]), lookup("AAAA", 0.2, ["::1"])],
        {"1.0.0.1": (0.1, "refuse")},
        [(0, "1.0.0.1"), (0.2, "::1")],
        "::1",
        0.2,
    ),
    (
        "HTTPS waited for up to the resolution delay after AAAA",
        {},
        [],
        [lookup("AAAA", 0.01, ["::1"]), lookup("A", 0.01, ["1.0.0.1"]), lookup("HTTPS", 1, [])],
        {},
        [(0.01 + 0.05, "::1")],
        "::1",
        0.01 + 0.05,
    ),
    (
        "HTTPS answering inside the resolution delay starts at once",
        {},
        [],
        [lookup("AAAA", 0.01, ["::1"]), lookup("HTTPS", 0.03, ["::1"])],
        {},
        [(0.03, "::1")],
        "::1",
        0.03,
    ),
    (
        "HTTPS hints start before AAAA; the AAAA answer replaces the IPv6 hints",
        {},
        [],
        [
            lookup("HTTPS", 0.01, ["::9", "1.0.0.9"]),
            lookup("AAAA", 0.1, ["::1"]),
            lookup("A", 0.3, ["1.0.0.9"]),
        ],
        {"::9": (0, "hang"), "1.0.0.9": (0, "hang"), "::1": (0, "hang")},
        [(0.01, "::9"), (0.26, "1.0.0.9"), (0.51, "::1")],
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("he_kwargs", "addrs", "lookups", "script", "starts", "winner", "end"),
    [pytest.param(*row[1:], id=str(row[0])) for row in ROWS],
)
async def test_schedule(
    autojump_clock: trio.testing.MockClock,
    he_kwargs: dict[str, float],
    addrs: list[str],
    lookups: list[Lookup[str]],
    script: dict[str, tuple[float, str]],
    starts: list[tuple[float, str]],
    winner: str | None,
    end: float | None,
) -> None:
    net = Net(script)
    race = Stagger(HappyEyeballs(**he_kwargs), net.attempt, fam, history=RTTHistory())  # type: ignore[arg-type]
    if winner is None:  # everything hangs: stop the race at 10 s and look at what started
        with trio.move_on_after(10):
            await race.run(addrs, lookups)
        assert sorted(net.starts) == sorted(starts)
        assert race.attempted == [a for _, a in starts]
        assert net.running == 0
        return
    conn, addr = await race.run(addrs, lookups)
    assert (addr, conn.addr) == (winner, winner)
    assert trio.current_time() == end
    assert sorted(net.starts) == sorted(starts)  # tasks started in one instant run in any order
    assert race.attempted == [a for _, a in starts]
    assert net.running == 0  # every loser was cancelled before run() returned
    assert [c for c in net.conns if not c.closed] == [conn]


def _ipv4_first(addrs: list[str]) -> list[str]:
    return sorted(addrs, key=lambda a: ":" in a)  # an RFC 6724 order that prefers IPv4


# (id, lookups, expected starts): every address hangs; the race sorts with _ipv4_first.
ORDER_ROWS = [
    (
        "A, then AAAA inside the resolution delay: sorted together, IPv4 leads",
        [lookup("AAAA", 0.03, ["::1"]), lookup("A", 0.0, ["1.0.0.1"])],
        [(0.03, "1.0.0.1"), (0.28, "::1")],
    ),
    (
        "both in the same instant: sorted together, IPv4 leads",
        [lookup("AAAA", 0.01, ["::1", "::2"]), lookup("A", 0.01, ["1.0.0.1"])],
        [(0.01, "1.0.0.1"), (0.26, "::1"), (0.51, "::2")],
    ),
    (
        "AAAA alone first: §3 starts at once, before A can be sorted with it",
        [lookup("AAAA", 0.0, ["::1"]), lookup("A", 0.1, ["1.0.0.1"])],
        [(0.0, "::1"), (0.25, "1.0.0.1")],
    ),
    (
        "A alone past the resolution delay: IPv4 starts, AAAA joins later",
        [lookup("AAAA", 0.2, ["::1"]), lookup("A", 0.0, ["1.0.0.1"])],
        [(0.05, "1.0.0.1"), (0.3, "::1")],
    ),
]


@pytest.mark.parametrize(("lookups", "starts"), [pytest.param(*r[1:], id=str(r[0])) for r in ORDER_ROWS])
async def test_answers_of_both_families_are_sorted_together_at_the_start(
    autojump_clock: trio.testing.MockClock, lookups: list[Lookup[str]], starts: list[tuple[float, str]]
) -> None:
    net = Net(dict.fromkeys(["::1", "::2", "1.0.0.1"], (0.0, "hang")))
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory(), order=_ipv4_first)
    with trio.move_on_after(10):
        await race.run((), lookups)
    assert net.starts == starts
    assert race.preferred == fam(starts[0][1])


async def test_all_fail_raises_the_first_attempts_error(autojump_clock: trio.testing.MockClock) -> None:
    # The first attempt fails last; its error is still the one raised, all are kept in order.
    net = Net({"::1": (1, "refuse"), "1.0.0.1": (0.5, "refuse"), "::2": (0.1, "refuse")})
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory())
    with pytest.raises(ConnectionRefusedError) as info:
        await race.run(["::1", "1.0.0.1", "::2"])
    assert str(info.value) == "[Errno 111] refused ::1"
    assert [str(e) for e in race.errors] == [  # ::2 fails at 0.6, 1.0.0.1 at 0.75, ::1 at 1
        "[Errno 111] refused ::2",
        "[Errno 111] refused 1.0.0.1",
        "[Errno 111] refused ::1",
    ]
    assert net.starts == [(0, "::1"), (0.25, "1.0.0.1"), (0.5, "::2")]
    assert trio.current_time() == 1


async def test_lookups_all_fail(autojump_clock: trio.testing.MockClock) -> None:
    race = Stagger(HappyEyeballs(), Net().attempt, fam, history=RTTHistory())
    with pytest.raises(OSError, match="aaaa gone"):
        await race.run([], [lookup("AAAA", 0.2, "aaaa gone"), lookup("A", 0.1, "a gone")])
    assert [str(e) for e in race.lookup_errors] == ["a gone", "aaaa gone"]
    assert race.attempted == []
    assert trio.current_time() == 0.2


async def test_waits_for_a_pending_lookup_after_every_attempt_failed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    net = Net({"1.0.0.1": (0, "refuse")})
    race = Stagger(HappyEyeballs(resolution_delay=0), net.attempt, fam, history=RTTHistory())
    _, addr = await race.run([], [lookup("A", 0, ["1.0.0.1"]), lookup("AAAA", 2, ["::1"])])
    assert addr == "::1"
    assert net.starts == [(0, "1.0.0.1"), (2, "::1")]


async def test_no_addresses_at_all() -> None:
    race = Stagger(HappyEyeballs(), Net().attempt, fam, history=RTTHistory())
    with pytest.raises(OSError, match="no addresses"):
        await race.run([], [lookup("A", 0, [])])


async def test_simultaneous_connects_close_the_loser(autojump_clock: trio.testing.MockClock) -> None:
    net = Net({"::1": (0.5, "ok"), "1.0.0.1": (0.25, "ok")})
    rec = Recorder()
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory(), observer=rec)
    conn, _addr = await race.run(["::1", "1.0.0.1"])
    assert trio.current_time() == 0.5
    assert len(net.conns) == 2
    loser = next(c for c in net.conns if c is not conn)
    assert loser.closed
    assert not conn.closed
    assert [e[1] for e in rec.events].count("closed") == 1
    assert (0.5, "closed", loser.addr, [a for _, a in net.starts].index(loser.addr)) in rec.events


async def test_observer_sees_answers_attempts_and_positions(autojump_clock: trio.testing.MockClock) -> None:
    net = Net({"::1": (0, "hang"), "1.0.0.1": (0.1, "refuse")})
    rec = Recorder()
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory(), observer=rec)
    await race.run([], [lookup("AAAA", 0, ["::1", "::2"]), lookup("A", 0.02, ["1.0.0.1"])])
    assert rec.events == [
        (0, "answer", "AAAA ::1,::2", -1),
        (0, "start", "::1", 0),
        (0, "attempt delay", "0.25", -1),
        (0.02, "answer", "A 1.0.0.1", -1),
        (0.25, "start", "1.0.0.1", 1),
        (0.25, "attempt delay", "0.25", -1),
        (0.25 + 0.1, "failed", "1.0.0.1", 1),
        (0.25 + 0.1, "start", "::2", 2),
        (0.25 + 0.1, "ok", "::2", 2),
        (0.25 + 0.1, "cancelled", "::1", 0),
    ]


async def test_adaptive_delay_from_history(autojump_clock: trio.testing.MockClock) -> None:
    history = RTTHistory()
    net = Net({"::1": (0.04, "ok")})
    race = Stagger(HappyEyeballs(adaptive=True), net.attempt, fam, history=history)
    await race.run(["::1"])
    assert history.samples(6) == (0.04,)  # the connect time was recorded
    # next dial: delay after an IPv6 attempt is 3 * 0.04 = 0.12 (one sample), clamped to >= 0.1
    net2 = Net({"::2": (0, "hang")})
    race2 = Stagger(HappyEyeballs(adaptive=True), net2.attempt, fam, history=history)
    start = trio.current_time()
    await race2.run(["::2", "1.0.0.1"])
    assert [(t - start, a) for t, a in net2.starts] == [(0, "::2"), (pytest.approx(0.12), "1.0.0.1")]
    # clamped to the maximum
    history.clear()
    history.record(4, 5.0)
    net3 = Net({"1.0.0.1": (0, "hang")})
    race3 = Stagger(HappyEyeballs(adaptive=True, max_attempt_delay=0.7), net3.attempt, fam, history=history)
    start = trio.current_time()
    await race3.run(["1.0.0.1", "::1"])
    assert [(t - start, a) for t, a in net3.starts] == [(0, "1.0.0.1"), (0.7, "::1")]


CANCEL_TIMES = [0, 0.005, 0.01, 0.03, 0.06, 0.1, 0.25, 0.3, 0.5, 0.51, 0.75, 1.0]


@pytest.mark.parametrize("at", CANCEL_TIMES)
async def test_outer_cancellation_at_every_point_is_bare_and_closes_everything(
    autojump_clock: trio.testing.MockClock, at: float
) -> None:
    # AAAA at 0.01, A at 0.03; attempts at 0.01, 0.26, 0.51; ::2 connects at 0.51 + 0.49 = 1.0
    net = Net({"::1": (0, "hang"), "1.0.0.1": (0.3, "refuse"), "::2": (0.49, "ok")})
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory())
    lookups = [lookup("AAAA", 0.01, ["::1", "::2"]), lookup("A", 0.03, ["1.0.0.1"])]
    with trio.CancelScope() as scope:
        scope.deadline = at
        try:
            await race.run([], lookups)
        except BaseExceptionGroup:  # pragma: no cover - the bug this test exists for
            pytest.fail("a group escaped")
        except trio.Cancelled:
            raise
        else:
            pytest.fail("the race finished although it was cancelled")
    assert scope.cancelled_caught
    assert net.running == 0
    assert all(c.closed for c in net.conns)


async def test_winner_in_the_instant_of_outer_cancellation_is_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    net = Net({"1.0.0.1": (1.0, "ok")})
    race = Stagger(HappyEyeballs(), net.attempt, fam, history=RTTHistory())
    with trio.move_on_at(1.0) as scope:
        await race.run(["1.0.0.1"])
    # either the race won (and the scope's cancel came after) or the scope won; nothing leaks
    if scope.cancelled_caught:
        assert all(c.closed for c in net.conns)
    assert net.running == 0


async def test_attempt_raising_a_non_oserror_propagates(autojump_clock: trio.testing.MockClock) -> None:
    async def boom(addr: str) -> Conn:
        await trio.sleep(0.1)
        raise RuntimeError("bug")

    race = Stagger(HappyEyeballs(), boom, fam, history=RTTHistory())
    with pytest.raises(RuntimeError, match="bug"):
        await race.run(["1.0.0.1"])
