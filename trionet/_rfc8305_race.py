"""The RFC 8305 race: asynchronous answers in, staggered overlapping attempts out.

This module never touches a socket or a resolver. It runs injected coroutines — one per DNS
answer (:class:`Lookup`), one per connection attempt (``attempt(addr)``, returning something
closable or raising :class:`OSError`) — on a schedule computed from :mod:`trionet._rfc8305`, so
the whole strategy is tested with scripted answers and attempts under ``autojump_clock``.

The schedule, as RFC 8305 has it:

* **§3.** Every lookup runs at once. Attempts start when the AAAA answer arrives (or when every
  lookup has answered); when the A answer comes first, its addresses wait up to
  ``resolution_delay`` for AAAA. An answer that arrives later is sorted into the addresses not
  yet tried (:class:`~trionet._rfc8305.AddressQueue`).
* **§4.** When the attempts start with answers of both families in, the injected *order* (the
  resolver's RFC 6724 sort) sorts them together and its head's family leads the interlacing.
* **§5.** The next attempt starts ``attempt_delay`` after the previous one *started*, or at once
  when an attempt fails. Earlier attempts are **not** cancelled when a new one starts (unlike
  Go's serial walk, and like trio's ``open_tcp_stream``): the first to connect wins, every other
  attempt is cancelled, and a loser that connected in the same instant is closed.
* **Errors.** When everything failed, the *first attempt's* error is raised (the first address is
  the most relevant, as in Go's ``dialSerial``); every attempt error is in :attr:`Stagger.errors`
  in the order they happened, for the caller to chain as the Go race's errors are chained. With
  no attempt at all, the error of the first lookup (in the order given) that failed is raised.

Cancellation: an enclosing scope's cancellation leaves as one bare :class:`trio.Cancelled`, never
a group, and a connection that won in that instant is closed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

import trio

from ._happy_eyeballs import Closable, collapse_cancelled
from ._rfc8305 import AddressQueue, Family, HappyEyeballs, RTTHistory, rtt_history

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

__all__ = ["AnswerKind", "Lookup", "RaceObserver", "Stagger"]

#: Which DNS answer a :class:`Lookup` gives: AAAA and A are addresses of their family; HTTPS
#: gives the record's address hints, used until the real answer of their family arrives.
AnswerKind = Literal["A", "AAAA", "HTTPS"]

A = TypeVar("A")
C = TypeVar("C", bound=Closable)
A_contra = TypeVar("A_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class Lookup(Generic[A]):
    """One asynchronous answer: *run* returns its addresses (any order the resolver chose,
    RFC 6724 for A/AAAA) or raises :class:`OSError`."""

    kind: AnswerKind
    run: Callable[[], Awaitable[Sequence[A]]]


class RaceObserver(Protocol[A_contra]):
    """What the race reports as it goes (the dial turns these into :mod:`trionet.trace` events).

    *position* is the attempt's place in the order of attempts, from 0. ``delay`` says that the
    ``"resolution delay"`` or an ``"attempt delay"`` began.
    """

    def answer(self, kind: AnswerKind, addrs: Sequence[A_contra], error: OSError | None) -> None: ...
    def attempt_start(self, addr: A_contra, position: int) -> None: ...
    def attempt_done(self, addr: A_contra, position: int, error: OSError | None, cancelled: bool) -> None: ...
    def loser_closed(self, addr: A_contra, position: int) -> None: ...
    def delay(self, name: str, seconds: float) -> None: ...


_REPLACES: dict[AnswerKind, Family | None] = {"AAAA": 6, "A": 4, "HTTPS": None}


class Stagger(Generic[A, C]):
    """One RFC 8305 race. Make one per dial, then :meth:`run` it once.

    Args:
        he: the strategy's settings.
        attempt: connects to one address, returns the connection or raises :class:`OSError`.
        family_of: 4 or 6 for an address.
        history: the connect-time history ``adaptive=True`` reads and every success feeds;
            None: the process-wide one.
        observer: gets every answer and attempt as it happens, or None.
        order: sorts addresses of both families together (RFC 6724); used once, when the
            attempts start with answers of both families in (§4: the addresses received so
            far are sorted together). None: the family whose answer came first leads.
    """

    __slots__ = (
        "_a_at",
        "_aaaa_left",
        "_addr_at",
        "_attempt",
        "_changed",
        "_errors_at",
        "_family_of",
        "_has_v6",
        "_he",
        "_held",
        "_history",
        "_https_left",
        "_kicks",
        "_lookup_errors_at",
        "_lookups_left",
        "_observer",
        "_order",
        "_queue",
        "_real",
        "_running",
        "_started",
        "_winner",
        "attempted",
        "errors",
        "lookup_errors",
    )

    def __init__(
        self,
        he: HappyEyeballs,
        attempt: Callable[[A], Awaitable[C]],
        family_of: Callable[[A], Family],
        *,
        history: RTTHistory | None = None,
        observer: RaceObserver[A] | None = None,
        order: Callable[[list[A]], Sequence[A]] | None = None,
    ) -> None:
        self._he = he
        self._order = order
        self._attempt = attempt
        self._family_of = family_of
        self._history = rtt_history if history is None else history
        self._observer = observer
        self._queue: AddressQueue[A] = AddressQueue(family_of, he.first_family_count)
        self._changed = trio.Event()
        self._started = False  # §3's condition met: attempts may start
        self._held: list[tuple[list[A], Family | None]] = []
        self._real: set[Family] = set()  # families whose A/AAAA answer came (hints are moot)
        self._has_v6 = False  # IPv6 addresses arrived (AAAA or hints)
        self._a_at: float | None = None  # when IPv4 addresses first arrived
        self._addr_at: float | None = None  # when the first A or AAAA addresses arrived
        self._lookups_left = 0
        self._aaaa_left = 0
        self._https_left = 0
        self._running = 0
        self._kicks = 0  # failures not yet answered by starting another attempt
        self._winner: tuple[C, A] | None = None
        self._errors_at: dict[int, OSError] = {}
        self._lookup_errors_at: dict[int, OSError] = {}
        #: Every attempt error, in the order they happened.
        self.errors: list[OSError] = []
        #: Every lookup error, in the order they happened.
        self.lookup_errors: list[OSError] = []
        #: The addresses attempted, in the order they were started; the first one is what a
        #: dial timeout names.
        self.attempted: list[A] = []

    async def run(self, addrs: Sequence[A] = (), lookups: Sequence[Lookup[A]] = ()) -> tuple[C, A]:
        """Race *addrs* (known now and RFC 6724 ordered: a literal, the hosts file, libc) and
        the addresses *lookups* bring; return the winning connection and its address.

        Raises:
            OSError: the first attempt's error when every attempt failed, or when nothing could
                be attempted the error of the first of *lookups* (in their order) that failed.
            trio.Cancelled: an enclosing scope was cancelled (bare, never in a group).
        """
        if addrs:
            self._queue.add(addrs)
            self._started = True  # both families at once: nothing to wait for
        self._lookups_left = len(lookups)
        self._aaaa_left = sum(1 for lookup in lookups if lookup.kind == "AAAA")
        self._https_left = sum(1 for lookup in lookups if lookup.kind == "HTTPS")
        try:
            async with trio.open_nursery() as nursery:
                for i, lookup in enumerate(lookups):
                    nursery.start_soon(self._lookup, lookup, i)
                await self._schedule(nursery)
        except BaseExceptionGroup as group:
            if self._winner is not None:  # won just as an enclosing scope cancelled us
                self._winner[0].close()
            raise collapse_cancelled(group) from None
        if self._winner is not None:
            return self._winner
        if self._errors_at:
            # Attempts fail out of order; the first *started* one's error is Go's firstErr.
            raise self._errors_at[min(self._errors_at)]
        if self._lookup_errors_at:
            raise self._lookup_errors_at[min(self._lookup_errors_at)]
        raise OSError("no addresses to dial")

    @property
    def preferred(self) -> Family | None:
        """The family that leads the interlacing, once the first address is queued."""
        return self._queue.preferred

    def _start_wait(self, now: float) -> float | None:
        """§3's start condition: None when attempts may start, else until when to wait.

        Addresses: AAAA has answered (or brought IPv6 hints), or there is no AAAA to wait for,
        or ``resolution_delay`` has passed since the A answer. HTTPS (HEv3 draft): it has
        answered, or ``resolution_delay`` has passed since the first A/AAAA addresses, so its
        port and ALPN apply from the first attempt whenever the record is not slow.
        """
        if self._lookups_left == 0:
            return None
        rd = self._he.resolution_delay
        waits: list[float] = []
        a_deadline = math.inf if self._a_at is None else self._a_at + rd
        if not (self._has_v6 or self._aaaa_left == 0 or now >= a_deadline):
            waits.append(a_deadline)
        if self._https_left:
            h_deadline = math.inf if self._addr_at is None else self._addr_at + rd
            if now < h_deadline:
                waits.append(h_deadline)
        return min(waits) if waits else None

    async def _schedule(self, nursery: trio.Nursery) -> None:
        """The coordinator: wait for §3's start condition, then start attempts on §5's clock."""
        he, queue = self._he, self._queue
        next_at = -math.inf
        told_rd = False
        while True:
            self._changed = trio.Event()  # set by any lookup or attempt that ends from now on
            now = trio.current_time()
            if not self._started:
                wait = self._start_wait(now)
                if wait is not None:
                    if self._a_at is not None and not told_rd and self._observer is not None:
                        told_rd = True
                        self._observer.delay("resolution delay", he.resolution_delay)
                    await self._wait_until(wait)
                    continue
                self._started = True
                for answer, replace in self._held:  # AAAA, if it came, was queued first
                    queue.add(answer, replace=replace)
                self._held.clear()
                if self._order is not None:
                    queue.reorder(self._order)  # both families in: RFC 6724 picks the first
            if len(queue) and (self._kicks or now >= next_at):
                addr = queue.pop()
                assert addr is not None
                self._kicks = max(0, self._kicks - 1)
                self.attempted.append(addr)
                self._running += 1
                if self._observer is not None:  # here, not in the task: events in position order
                    self._observer.attempt_start(addr, len(self.attempted) - 1)
                nursery.start_soon(self._run_attempt, nursery, addr, len(self.attempted) - 1)
                delay = he.delay_after(self._family_of(addr), self._history)
                next_at = now + delay
                if self._observer is not None and delay < math.inf and (len(queue) or self._lookups_left):
                    self._observer.delay("attempt delay", delay)
                continue
            if not len(queue) and self._running == 0 and self._lookups_left == 0:
                return  # everything failed
            await self._wait_until(next_at if len(queue) else math.inf)

    async def _wait_until(self, when: float) -> None:
        with trio.move_on_at(when):
            await self._changed.wait()

    async def _lookup(self, lookup: Lookup[A], index: int) -> None:
        try:
            answer = list(await lookup.run())
        except OSError as exc:
            self.lookup_errors.append(exc)
            self._lookup_errors_at[index] = exc
            answer = []
            if self._observer is not None:
                self._observer.answer(lookup.kind, (), exc)
        else:
            if self._observer is not None:
                self._observer.answer(lookup.kind, answer, None)
        finally:
            self._lookups_left -= 1
            self._changed.set()
        replace = _REPLACES[lookup.kind]
        if replace is None:  # hints count only until their family's real answer is in
            answer = [a for a in answer if self._family_of(a) not in self._real]
        else:
            self._real.add(replace)
        if lookup.kind == "AAAA":
            self._aaaa_left -= 1
        elif lookup.kind == "HTTPS":
            self._https_left -= 1
        self._accept(answer, replace, real=replace is not None)

    def feed(self, addrs: Sequence[A]) -> None:
        """Add addresses a lookup found on the side (an HTTPS record's target name's own A and
        AAAA answers): sorted in like an answer, never dropped as hints are. Call it while
        that lookup is still running."""
        self._accept(list(addrs), None, real=True)
        self._changed.set()

    def _accept(self, answer: list[A], replace: Family | None, *, real: bool) -> None:
        if answer and real and self._addr_at is None:
            self._addr_at = trio.current_time()
        families = {self._family_of(a) for a in answer}
        if 4 in families and self._a_at is None:
            self._a_at = trio.current_time()
        if self._started or 6 in families:
            self._has_v6 = self._has_v6 or 6 in families
            self._queue.add(answer, replace=replace)
        elif answer or replace is not None:
            self._held.append((answer, replace))

    async def _run_attempt(self, nursery: trio.Nursery, addr: A, position: int) -> None:
        observer = self._observer
        start = trio.current_time()
        try:
            conn = await self._attempt(addr)
        except OSError as exc:
            self.errors.append(exc)
            self._errors_at[position] = exc
            self._kicks += 1  # §5: a failure starts the next attempt at once
            if observer is not None:
                observer.attempt_done(addr, position, exc, False)
            return
        except trio.Cancelled:
            if observer is not None:
                observer.attempt_done(addr, position, None, True)
            raise
        finally:
            self._running -= 1
            self._changed.set()
        self._history.record(self._family_of(addr), trio.current_time() - start)
        if observer is not None:
            observer.attempt_done(addr, position, None, False)
        if self._winner is None:
            self._winner = (conn, addr)
            nursery.cancel_scope.cancel()
        else:
            # Connected in the same instant as the winner: the race is decided, close it.
            conn.close()
            if observer is not None:
                observer.loser_closed(addr, position)
