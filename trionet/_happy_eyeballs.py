"""Go's connection race: ``dialParallel`` and ``dialSerial``, as a Trio nursery.

This module never touches a socket. It walks address lists and calls an injected
:class:`Attempter`: ``attempter.attempt(addr, role, deadline)`` returns something closable (a
connected socket) or raises an :class:`OSError` (for a dial, the already wrapped
:class:`~trionet.OpError`); ``attempter.timeout_error(addr)`` is Go's errTimeout for an address
that got no time at all. The dial passes its ``_attempt.SysDialer``; tests pass scripted
attempts, which is what lets the whole schedule be tested under ``autojump_clock``.

Go's algorithm (dial.go), which we keep step for step:

* The caller has **partitioned** the addresses by family (``_addrlist.partition``): the first
  address's family is *primary*, the rest is *fallback*; order is kept inside each list. No
  RFC 8305 interleaving.
* Each list is walked **serially** by one racer. Attempt *i* of *n* gets a partial deadline
  (:func:`~trionet.partial_deadline`): an equal share of the time left, at least 2 s. A failure
  moves on to the next address; the first error is remembered.
* The **primary racer starts at once; the fallback racer after the fallback delay**, or at once
  when the primary racer has failed (Go's ``timer.Reset(0)``).
* The **first success wins** and cancels the other racer. A racer that connects after the race
  is decided has its connection closed unused (Go's ``TestDialParallelSpuriousConnection``).
* When both fail, the **primary racer's first error** is raised.
* When the dial's own deadline expires mid-race, :meth:`Race.expired_error` is Go's answer
  (the ``ctx.Done()`` check at the top of ``dialSerial``'s loop): see there.

Trio adds one duty Go does not have: a nursery wraps its children's :class:`trio.Cancelled` in a
:class:`BaseExceptionGroup`. A caller must be able to write ``except trio.Cancelled`` around a
dial, so when the only thing inside the group is cancellation we re-raise one bare
``Cancelled``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Sequence
from typing import Generic, Protocol, TypeVar

import trio

from ._deadline import partial_deadline
from .trace import DelayStart, LoserClosed, Role, Tracer

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

__all__ = ["Attempter", "Closable", "Race", "Strategy", "collapse_cancelled"]


class Closable(Protocol):
    """What an attempt returns: anything with a synchronous ``close()`` (a trio socket)."""

    def close(self) -> None: ...


A = TypeVar("A")
C = TypeVar("C", bound=Closable)
A_contra = TypeVar("A_contra", contravariant=True)
C_co = TypeVar("C_co", covariant=True)


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


class Attempter(Protocol[A_contra, C_co]):
    """What a strategy needs from the dial: one attempt per address (``_attempt.SysDialer``)."""

    def attempt(self, addr: A_contra, role: Role, deadline: float) -> Awaitable[C_co]:
        """Connect to *addr*; *deadline* (``math.inf``: none) is this attempt's own, and its
        expiry raises the address's timeout error. Raises :class:`OSError` on failure."""
        ...

    def timeout_error(self, addr: A_contra) -> OSError:
        """Go's errTimeout for *addr* (no time was left to try it)."""
        ...


class Strategy(Protocol):
    """What the dial asks a strategy when the dial's own deadline has expired mid-strategy."""

    #: Every attempt error so far, in the order they happened.
    errors: list[OSError]

    def expired_error(self) -> OSError:
        """The error the dial raises for its own timeout, given how far the strategy got."""
        ...


class Race(Generic[A, C]):
    """The state of one dial's race (Go's ``dialParallel`` over two ``dialSerial`` walks).

    Args:
        attempter: makes each attempt (see :class:`Attempter`).
        tracer: where :class:`~trionet.trace.LoserClosed` goes, or None (the attempts emit
            their own events).
    """

    __slots__ = ("_at", "_attempter", "_failures", "_first", "_primaries", "_tracer", "errors")

    def __init__(self, attempter: Attempter[A, C], tracer: Tracer | None) -> None:
        self._attempter = attempter
        self._tracer = tracer
        #: Every attempt error, in the order they happened (Go keeps only the first).
        self.errors: list[OSError] = []
        # Per racer: the list it walks and the index it is at; its first error; its final error.
        self._at: dict[Role, tuple[Sequence[A], int]] = {}
        self._first: dict[Role, OSError] = {}
        self._failures: dict[Role, OSError] = {}
        self._primaries: Sequence[A] = ()

    def expired_error(self) -> OSError:
        """The error Go returns when the dial's own deadline expires now (Go's rule, exactly).

        Go's ``dialParallel`` returns the primary racer's result. A racer's ``dialSerial``
        checks ``ctx.Done()`` before each address: if the deadline expired while address *i*
        was tried and another follows, the next iteration returns ``dial NET NEXT: i/o
        timeout``, naming the next address (never tried); if *i* was the last, the loop ends
        and the racer returns its first error (the first address's, "most relevant"), which
        is the in-flight attempt's own timeout when it was the only one tried. A primary racer
        that had already failed gives its error.
        """
        failed = self._failures.get("primary")
        if failed is not None:
            return failed
        addrs, i = self._at.get("primary", (self._primaries, 0))
        if not addrs:  # pragma: no cover - a dial never races an empty list
            return OSError("no addresses to dial")
        if i + 1 < len(addrs):
            return self._attempter.timeout_error(addrs[i + 1])
        return self._first.get("primary") or self._attempter.timeout_error(addrs[i])

    async def dial_parallel(
        self, primaries: Sequence[A], fallbacks: Sequence[A], delay: float
    ) -> tuple[C, A]:
        """Race *primaries* against *fallbacks* started *delay* seconds later (Go's
        ``dialParallel``); returns the winning connection and its address.

        Raises:
            OSError: the primary racer's first error, when both racers failed.
        """
        self._primaries = primaries
        if not fallbacks:
            return await self.dial_serial(primaries, "primary")
        winner: tuple[C, A] | None = None
        primary_failed = trio.Event()

        async def racer(role: Role, addrs: Sequence[A]) -> None:
            nonlocal winner
            if role == "fallback" and delay > 0:
                with trio.move_on_after(delay):
                    await primary_failed.wait()
            try:
                result = await self.dial_serial(addrs, role)
            except OSError as exc:
                self._failures[role] = exc
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
            tracer.emit(DelayStart(**tracer.stamp(), name="fallback delay", delay=delay))
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
        raise self._failures["primary"]

    async def dial_serial(self, addrs: Sequence[A], role: Role) -> tuple[C, A]:
        """Try *addrs* one after the other (Go's ``dialSerial``); the first success wins.

        Raises:
            OSError: the first address's error ("the error from the first address is most
                relevant"); every error is also appended to :attr:`errors`.
        """
        first_err: OSError | None = None
        n = len(addrs)
        for i, addr in enumerate(addrs):
            # Recorded first: when the dial's own deadline expires from here on,
            # expired_error knows which address was in flight.
            self._at[role] = (addrs, i)
            deadline = trio.current_effective_deadline()
            attempt_deadline = math.inf
            if deadline != math.inf:
                try:
                    attempt_deadline = partial_deadline(trio.current_time(), deadline, n - i)
                except TimeoutError:
                    # No time left. If that is because a scope expired, this checkpoint delivers
                    # its Cancelled; otherwise record Go's errTimeout for this address.
                    await trio.lowlevel.checkpoint()
                    err = self._attempter.timeout_error(addr)
                    self.errors.append(err)
                    first_err = first_err or err
                    break
            try:
                return (await self._attempter.attempt(addr, role, attempt_deadline), addr)
            except OSError as err:
                self.errors.append(err)
                first_err = first_err or err
                self._first.setdefault(role, err)
        if first_err is None:
            raise OSError("no addresses to dial")  # the caller never passes an empty list
        raise first_err

    def _emit_loser(self, addr: A, role: Role) -> None:
        tracer = self._tracer
        assert tracer is not None
        tracer.emit(LoserClosed(**tracer.stamp(), addr=str(addr), role=role))
