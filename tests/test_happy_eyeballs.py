"""The race module on its own: partition (TestAddrList, TestAddrListPartition) and exception shape.

Dial-level timing tables (TestDialParallel, TestDialerFallbackDelay) run through the public
fake network in test_dial_timing.py.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Awaitable, Callable

import pytest
import trio

from trionet._addrlist import partition
from trionet._happy_eyeballs import Race, collapse_cancelled

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


def is_v4(a: str) -> bool:
    return ipaddress.ip_address(a.split("%")[0]).version == 4


@pytest.mark.parametrize(
    ("addrs", "primaries", "fallbacks"),
    [
        (["127.0.0.1", "::1"], ["127.0.0.1"], ["::1"]),
        (["::1", "127.0.0.1"], ["::1"], ["127.0.0.1"]),
        (
            ["::1", "fe80::1%eth0", "127.0.0.1", "192.168.0.1"],
            ["::1", "fe80::1%eth0"],
            ["127.0.0.1", "192.168.0.1"],
        ),
        (
            ["127.0.0.1", "::1", "192.168.0.1", "fe80::1%eth0"],
            ["127.0.0.1", "192.168.0.1"],
            ["::1", "fe80::1%eth0"],
        ),
        (["127.0.0.1"], ["127.0.0.1"], []),
        ([], [], []),
    ],
)
def test_addr_list_partition(addrs: list[str], primaries: list[str], fallbacks: list[str]) -> None:
    assert partition(addrs, is_v4) == (primaries, fallbacks)


@pytest.mark.parametrize(
    ("last_byte", "primaries", "fallbacks"),
    [(0, [0], [1, 2]), (1, [0, 2], [1]), (2, [0, 1], [2]), (3, [0, 1, 2], [])],
)
def test_partition_label_of_first_defines_primary(
    last_byte: int, primaries: list[int], fallbacks: list[int]
) -> None:
    # Go's TestAddrListPartition: fe80::, fe80::1, fe80::2 labelled by "last byte == N".
    addrs = [0, 1, 2]
    for predicate in (lambda a: a == last_byte, lambda a: a != last_byte):
        assert partition(addrs, predicate) == (primaries, fallbacks)


def test_collapse_cancelled_shapes() -> None:
    async def main() -> None:
        with trio.CancelScope() as scope:
            scope.cancel()
            try:
                await trio.lowlevel.checkpoint()
            except trio.Cancelled as exc:
                cancelled = exc
                only_cancelled = BaseExceptionGroup("", [exc, BaseExceptionGroup("", [exc])])
                assert collapse_cancelled(only_cancelled) is exc
                err = ValueError("boom")
                assert collapse_cancelled(BaseExceptionGroup("", [exc, err])) is err
                two = BaseExceptionGroup("", [ValueError(), KeyError()])
                assert collapse_cancelled(two) is two
                raise cancelled from None

    trio.run(main)


class Scripted:
    """An attempter whose attempts are one scripted coroutine function, under their deadline
    as the dial's attempts are."""

    def __init__(self, attempt: Callable[[str], Awaitable[Conn]]) -> None:
        self._attempt = attempt

    async def attempt(self, addr: str, role: str, deadline: float) -> Conn:
        if deadline < trio.current_effective_deadline():
            with trio.CancelScope(deadline=deadline):
                return await self._attempt(addr)
            raise self.timeout_error(addr)
        return await self._attempt(addr)

    def timeout_error(self, addr: str) -> OSError:
        return OSError(addr)


class Conn:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


async def test_race_closes_a_simultaneous_loser(autojump_clock: trio.abc.Clock) -> None:
    conns: list[Conn] = []

    async def attempt(addr: str) -> Conn:
        # Like Go's TestDialParallelSpuriousConnection, the connect ignores cancellation, so
        # both racers really connect (at the same instant).
        with trio.CancelScope(shield=True):
            await trio.sleep(1)
        conn = Conn(addr)
        conns.append(conn)
        return conn

    race: Race[str, Conn] = Race(Scripted(attempt), None)
    # Zero delay: the fallback starts at once, so both connect at t=1.
    conn, _addr = await race.dial_parallel(["p"], ["f"], 0)
    assert trio.current_time() == 1
    assert len(conns) == 2
    assert [c.closed for c in conns if c is not conn] == [True]
    assert not conn.closed


async def test_race_outer_cancel_is_bare_and_closes_nothing_left_open(autojump_clock: trio.abc.Clock) -> None:
    opened: list[Conn] = []

    async def attempt(addr: str) -> Conn:
        conn = Conn(addr)
        opened.append(conn)
        try:
            await trio.sleep_forever()
        finally:
            conn.close()
        raise AssertionError("unreachable")

    race: Race[str, Conn] = Race(Scripted(attempt), None)
    caught_bare = False
    with trio.move_on_after(5) as scope:
        try:
            await race.dial_parallel(["p1", "p2"], ["f1"], 0.3)
        except trio.Cancelled:
            caught_bare = True
            raise
    assert scope.cancelled_caught
    assert caught_bare
    assert trio.current_time() == 5
    assert opened
    assert all(c.closed for c in opened)
