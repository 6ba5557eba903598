"""Go's connection race: ``dialParallel`` and ``dialSerial``, as a Trio nursery.

This module never touches a socket. It schedules calls to an injected ``attempt(addr, role)``
coroutine, which returns something closable (a connected socket) or raises an :class:`OSError`.
That is what lets the whole schedule be tested with scripted attempts under ``autojump_clock``.

Go's algorithm (dial.go), which we keep step for step:

* The addresses are **partitioned** by family: the first address's family is *primary*, the
  rest is *fallback*; order is kept inside each list. No RFC 8305 interleaving.
* Each list is walked **serially** by one racer. Attempt *i* of *n* runs under a nested cancel
  scope at :func:`~trionet.partial_deadline`: an equal share of the time left, at least 2 s.
  A failure moves on to the next address; the first error is remembered.
* The **primary racer starts at once; the fallback racer after the fallback delay**, or at once
  when the primary racer has failed (Go's ``timer.Reset(0)``).
* The **first success wins** and cancels the other racer. A racer that connects after the race
  is decided has its connection closed unused (Go's ``TestDialParallelSpuriousConnection``).
* When both fail, the **primary racer's first error** is raised.

Trio adds one duty Go does not have: a nursery wraps its children's :class:`trio.Cancelled` in a
:class:`BaseExceptionGroup`. A caller must be able to write ``except trio.Cancelled`` around a
dial, so when the only thing inside the group is cancellation we re-raise one bare
``Cancelled``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

import trio

from ._deadline import partial_deadline
from .trace import AttemptDone, AttemptStart, DelayStart, LoserClosed, Role, Tracer

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

__all__ = ["Closable", "Race", "collapse_cancelled", "partition"]


class Closable(Protocol):
    """What an attempt returns: anything with a synchronous ``close()`` (a trio socket)."""

    def close(self) -> None: ...


A = TypeVar("A")
C = TypeVar("C", bound=Closable)


def partition(addrs: Sequence[A], is_primary_kind: Callable[[A], bool]) -> tuple[list[A], list[A]]:
    """Split *addrs* into primaries and fallbacks (Go's ``addrList.partition``).

    "The first address, and any with a matching label, are primaries": the label of
    ``addrs[0]`` under *is_primary_kind* defines the primary class, so inverting the predicate
    gives the same result. Order is kept within each list.
    """
    if not addrs:
        return [], []
    label = is_primary_kind(addrs[0])
    primaries = [a for a in addrs if is_primary_kind(a) == label]
    fallbacks = [a for a in addrs if is_primary_kind(a) != label]
    return primaries, fallbacks


def collapse_cancelled(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What to raise instead of a nursery's exception group.

    Only cancellations → the first bare :class:`trio.Cancelled`; exactly one other error → that
    error; anything else → the group itself (something is really wrong and nothing is hidden).
    """
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop()
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(reversed(exc.exceptions))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        else:
            leaves.append(exc)
    others = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if not others:
        return leaves[0]
    if len(others) == 1:
        return others[0]
    return group


class Race(Generic[A, C]):
    """The state of one dial's race: the attempt function, every error, the last address tried.

    Args:
        attempt: connects to one address; raises :class:`OSError` on failure.
        timeout_error: builds the error recorded when an address's partial deadline expires.
        describe: how an address is shown in trace events and which family it is.
        tracer: where trace events go, or None.
    """

    __slots__ = ("_attempt", "_describe", "_timeout_error", "_tracer", "errors", "last")

    def __init__(
        self,
        attempt: Callable[[A], Awaitable[C]],
        timeout_error: Callable[[A], OSError],
        describe: Callable[[A], tuple[str, str]],
        tracer: Tracer | None,
    ) -> None:
        self._attempt = attempt
        self._timeout_error = timeout_error
        self._describe = describe
        self._tracer = tracer
        #: Every attempt error, in the order they happened (Go keeps only the first).
        self.errors: list[OSError] = []
        #: The address each racer tried last: what a dial timeout reports.
        self.last: dict[Role, A] = {}

    async def dial_parallel(
        self, primaries: Sequence[A], fallbacks: Sequence[A], delay: float
    ) -> tuple[C, A]:
        """Race *primaries* against *fallbacks* started *delay* seconds later (Go's
        ``dialParallel``); returns the winning connection and its address.

        Raises:
            OSError: the primary racer's first error, when both racers failed.
        """
        if not fallbacks:
            return await self.dial_serial(primaries, "primary")
        winner: tuple[C, A] | None = None
        failures: dict[Role, OSError] = {}
        primary_failed = trio.Event()

        async def racer(role: Role, addrs: Sequence[A]) -> None:
            nonlocal winner
            if role == "fallback" and delay > 0:
                with trio.move_on_after(delay):
                    await primary_failed.wait()
            try:
                result = await self.dial_serial(addrs, role)
            except OSError as exc:
                failures[role] = exc
                if role == "primary":
                    primary_failed.set()
                return
            if winner is None:
                winner = result
                nursery.cancel_scope.cancel()
            else:
                # Both connected in the same instant: the race is decided, close the loser.
                result[0].close()
                if self._tracer is not None:
                    self._emit_loser(result[1], role)

        tracer = self._tracer
        if tracer is not None:  # the fallback timer starts with the race (Go's fallbackTimer)
            tracer.emit(
                DelayStart(time=trio.current_time(), dial=tracer.dial, name="fallback delay", delay=delay)
            )
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(racer, "primary", primaries)
                nursery.start_soon(racer, "fallback", fallbacks)
        except BaseExceptionGroup as group:
            # Close a connection that won just as the race was cancelled from outside: it must
            # not leak, and it cannot be returned.
            if winner is not None:
                winner[0].close()
            raise collapse_cancelled(group) from None
        if winner is not None:
            return winner
        raise failures["primary"]

    async def dial_serial(self, addrs: Sequence[A], role: Role) -> tuple[C, A]:
        """Try *addrs* one after the other (Go's ``dialSerial``); the first success wins.

        Raises:
            OSError: the first address's error ("the error from the first address is most
                relevant"); every error is also appended to :attr:`errors`.
        """
        first_err: OSError | None = None
        n = len(addrs)
        for i, addr in enumerate(addrs):
            # Recorded first: when no time is left for this address, the dial's own timeout
            # error still names it (Go's dialSerial puts ra in that OpError).
            self.last[role] = addr
            deadline = trio.current_effective_deadline()
            attempt_deadline = math.inf
            if deadline != math.inf:
                try:
                    attempt_deadline = partial_deadline(trio.current_time(), deadline, n - i)
                except TimeoutError:
                    # No time left. If that is because a scope expired, this checkpoint delivers
                    # its Cancelled; otherwise record Go's errTimeout for this address.
                    await trio.lowlevel.checkpoint()
                    err = self._timeout_error(addr)
                    self.errors.append(err)
                    first_err = first_err or err
                    break
            try:
                return (await self._one(addr, role, attempt_deadline, deadline), addr)
            except OSError as err:
                self.errors.append(err)
                first_err = first_err or err
        if first_err is None:
            raise OSError("no addresses to dial")  # the caller never passes an empty list
        raise first_err

    async def _one(self, addr: A, role: Role, attempt_deadline: float, deadline: float) -> C:
        """One attempt, under its partial deadline when that is earlier than the dial's."""
        tracer = self._tracer
        if tracer is not None:
            text, family = self._describe(addr)
            tracer.emit(
                AttemptStart(
                    time=trio.current_time(),
                    dial=tracer.dial,
                    addr=text,
                    family=family,
                    role=role,
                    deadline=attempt_deadline,
                )
            )
        try:
            if attempt_deadline < deadline:
                with trio.CancelScope(deadline=attempt_deadline):
                    conn = await self._attempt(addr)
                    self._emit_done(addr, role, None)
                    return conn
                raise self._timeout_error(addr)  # only this attempt's partial deadline expired
            conn = await self._attempt(addr)
        except trio.Cancelled:
            self._emit_done(addr, role, None, cancelled=True)
            raise
        except OSError as exc:
            self._emit_done(addr, role, exc)
            raise
        self._emit_done(addr, role, None)
        return conn

    def _emit_done(self, addr: A, role: Role, error: OSError | None, *, cancelled: bool = False) -> None:
        tracer = self._tracer
        if tracer is None:
            return
        text, family = self._describe(addr)
        tracer.emit(
            AttemptDone(
                time=trio.current_time(),
                dial=tracer.dial,
                addr=text,
                family=family,
                role=role,
                error=error,
                cancelled=cancelled,
            )
        )

    def _emit_loser(self, addr: A, role: Role) -> None:
        tracer = self._tracer
        assert tracer is not None
        tracer.emit(
            LoserClosed(time=trio.current_time(), dial=tracer.dial, addr=self._describe(addr)[0], role=role)
        )
