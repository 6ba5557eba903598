"""RFC 8305 (Happy Eyeballs v2) as values and pure functions: the options, the address order,
the adaptive attempt delay. No I/O, no Trio: the staggered race that uses them is
:mod:`trionet._rfc8305_race`.

Where each rule comes from:

* **§4 sorting and interlacing.** The resolver already orders each answer by RFC 6724. The
  families are then interlaced starting with the preferred one, ``first_family_count`` addresses
  of it first: ``P1 P2 O1 P3 O2 P4 ...`` for a count of 2. We keep one queue per family and pick
  the family of the next attempt from what was attempted so far (:meth:`AddressQueue.pop`), which
  gives exactly that order for a list known at once and stays right when addresses arrive late:
  §4 says they "SHOULD be incorporated into the list of addresses not yet tried".
* **§5 the Connection Attempt Delay**, fixed (``attempt_delay``) or, with ``adaptive=True``,
  from the connect times recently seen to the destination's family (:class:`RTTHistory`),
  clamped to ``[min_attempt_delay, max_attempt_delay]``: the RFC recommends 100 ms and 2 s and
  says the delay MUST NOT fall below 10 ms, which is why a smaller minimum is refused.

What the other implementations do, for the record: trio's ``open_tcp_stream`` staggers every
address 250 ms apart with no resolution delay and an interlace of one (§4 with a count of 1);
Go keeps RFC 6555 (two serial racers; golang/go#23841 asks for RFC 8305); Apple's stack is the
one complete implementation, with an RTT-based delay.
"""

from __future__ import annotations

import math
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, Literal, TypeVar

if TYPE_CHECKING:
    import trio  # the type of alpn_of's argument only: this module does no I/O

__all__ = [
    "AddressQueue",
    "Family",
    "HappyEyeballs",
    "RTTHistory",
    "adaptive_delay",
    "alpn_registry",
    "interlace",
]

#: An address family as the strategy sees it: 4 (IPv4) or 6 (IPv6).
Family = Literal[4, 6]

#: RFC 8305 §5: "MUST NOT be less than 10 milliseconds".
MIN_SANE_ATTEMPT_DELAY: Final = 0.010

A = TypeVar("A")

#: The ALPN list of the HTTPS record each connection was dialed with, per socket (weak: an entry
#: goes with its socket). Filled by the dial, read by :meth:`HappyEyeballs.alpn_of`.
alpn_registry: weakref.WeakKeyDictionary[object, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _check_seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0 seconds, not {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class HappyEyeballs:
    """The RFC 8305 ("Happy Eyeballs v2") dial strategy, for ``Dialer(happy_eyeballs=...)``.

    A frozen value: build one and share it. ``Dialer(happy_eyeballs=None)`` (the default) keeps
    Go's algorithm; with a value, a ``tcp``/``tcp4``/``tcp6`` dial asks A and AAAA at once,
    interlaces the families and starts a new connection attempt every *attempt_delay* (or as
    soon as one fails) while the earlier attempts keep running; the first to connect wins.
    ``Dialer.fallback_delay`` is then ignored. See :doc:`happy-eyeballs`.

    Every duration is in seconds on Trio's clock; ``math.inf`` is allowed where it says so.
    ``None`` is not a duration here (:class:`TypeError`), and a negative or NaN one is a
    :class:`ValueError`.

    Args:
        attempt_delay: RFC 8305's Connection Attempt Delay: how long after one attempt
            *started* the next one starts, whatever the family. 0: every address is tried at
            once; ``math.inf``: one at a time, the next only when the previous one failed.
            With *adaptive* it is the delay used until a connect time has been seen.
        resolution_delay: RFC 8305 §3: when the A answer arrives before AAAA, how long to wait
            for AAAA before connecting to IPv4. 0: connect at once; ``math.inf``: always wait
            for the AAAA answer (or its failure).
        first_family_count: RFC 8305 §4's "First Address Family Count": how many addresses of
            the preferred family are tried before the first of the other. At least 1.
        min_attempt_delay: the lower clamp of an adaptive delay (RFC 8305 §5 recommends
            100 ms). Below 10 ms is refused: the RFC says the delay MUST NOT be that short.
        max_attempt_delay: the upper clamp of an adaptive delay (RFC 8305 §5: 2 s);
            ``math.inf``: no upper clamp. Must not be below *min_attempt_delay*.
        adaptive: True: the delay after an attempt to an IPv4 (IPv6) address comes from the
            connect times recently seen to IPv4 (IPv6) destinations in this process — the
            smoothed RTT plus four deviations, as TCP's RFC 6298 retransmission timer — clamped
            to [*min_attempt_delay*, *max_attempt_delay*]. False: *attempt_delay* always, not
            clamped.
        https_records: True: also ask the name's HTTPS (type 65) record, as the Happy Eyeballs
            v3 draft says: its port, address hints and AliasMode target are used and its ALPN
            list is reported (see :doc:`happy-eyeballs`). False: A and AAAA only.

    Raises:
        ValueError: a negative or NaN delay, *first_family_count* below 1,
            *min_attempt_delay* below 0.01, or *min_attempt_delay* above *max_attempt_delay*.
        TypeError: a delay that is not a number, a count that is not an int.
    """

    attempt_delay: float = 0.25
    resolution_delay: float = 0.05
    first_family_count: int = 1
    min_attempt_delay: float = 0.1
    max_attempt_delay: float = 2.0
    adaptive: bool = False
    https_records: bool = False

    def __post_init__(self) -> None:
        for name in ("attempt_delay", "resolution_delay", "min_attempt_delay", "max_attempt_delay"):
            _check_seconds(name, getattr(self, name))
        count = self.first_family_count
        if isinstance(count, bool) or not isinstance(count, int):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"first_family_count must be an int, not {count!r}")
        if count < 1:
            raise ValueError(f"first_family_count must be at least 1, not {count!r}")
        if self.min_attempt_delay < MIN_SANE_ATTEMPT_DELAY:
            raise ValueError(
                f"min_attempt_delay must be at least 0.01 seconds (RFC 8305 §5), not {self.min_attempt_delay!r}"
            )
        if self.min_attempt_delay > self.max_attempt_delay:
            raise ValueError(
                f"min_attempt_delay ({self.min_attempt_delay!r}) must not exceed "
                f"max_attempt_delay ({self.max_attempt_delay!r})"
            )

    @staticmethod
    def alpn_of(stream: trio.SocketStream) -> tuple[str, ...]:
        """The ALPN protocol IDs (``("h2", "http/1.1")``), in the record's order, of the HTTPS
        record the dial of *stream* (a :class:`trio.SocketStream`) used, for a TLS layer to
        offer. ``()`` when there was none: ``https_records`` off, no record, no ``alpn`` in it,
        or a stream this strategy did not dial."""
        return alpn_registry.get(stream.socket, ())

    def delay_after(self, family: Family, history: RTTHistory) -> float:
        """How long after starting an attempt to *family* the next attempt starts."""
        if not self.adaptive:
            return self.attempt_delay
        return adaptive_delay(
            history.samples(family), self.attempt_delay, self.min_attempt_delay, self.max_attempt_delay
        )


# -- §4: the order of attempts --------------------------------------------------------------------
def interlace(addrs: Sequence[A], family_of: Callable[[A], Family], first_family_count: int = 1) -> list[A]:
    """RFC 8305 §4: *addrs* (already RFC 6724 ordered) interlaced by family, starting with the
    family of ``addrs[0]``, *first_family_count* of it first. Order within a family is kept."""
    queue: AddressQueue[A] = AddressQueue(family_of, first_family_count)
    queue.add(addrs)
    out: list[A] = []
    while (addr := queue.pop()) is not None:
        out.append(addr)
    return out


class AddressQueue(Generic[A]):
    """The addresses not yet tried, one queue per family, and the interlacing state (§4).

    The *preferred* family is that of the first address ever added (the head of the first
    RFC 6724-ordered answer to arrive). The next attempt is of the preferred family while fewer
    than *first_family_count* attempts were made, and of the other family than the last attempt
    after that; when that family has nothing left, the other one is used. Addresses added later
    are sorted in with :meth:`add`; an address already tried or queued is not queued twice.
    """

    __slots__ = ("_family_of", "_first_count", "_last", "_queues", "_seen", "popped", "preferred")

    def __init__(self, family_of: Callable[[A], Family], first_family_count: int = 1) -> None:
        self._family_of = family_of
        self._first_count = first_family_count
        self._queues: dict[Family, list[A]] = {6: [], 4: []}
        self._seen: set[A] = set()  # tried or queued
        self._last: Family | None = None
        #: How many addresses were handed out by :meth:`pop`.
        self.popped = 0
        #: The family that leads the interlacing, once known.
        self.preferred: Family | None = None

    def __len__(self) -> int:
        return len(self._queues[4]) + len(self._queues[6])

    def add(self, addrs: Iterable[A], *, replace: Family | None = None) -> list[A]:
        """Sort *addrs* (one RFC 6724-ordered answer) into the untried lists and return the
        addresses newly queued.

        Within a family the new answer's order goes first, then what was queued before and is
        not in it. An address already tried is not queued again. With *replace*, queued
        addresses of that family missing from *addrs* are dropped: real A/AAAA answers replace
        an HTTPS record's address hints.
        """
        addrs = list(addrs)
        incoming = set(addrs)
        fresh: list[A] = []
        for family in (6, 4):
            queued = self._queues[family]
            was_queued = set(queued)
            head: list[A] = []
            in_head: set[A] = set()
            for a in addrs:
                if a in in_head or self._family_of(a) != family:
                    continue
                if a in was_queued or a not in self._seen:
                    if a not in was_queued:
                        self._seen.add(a)
                        fresh.append(a)
                    head.append(a)
                    in_head.add(a)
            if replace == family:
                self._seen.difference_update(a for a in queued if a not in incoming)
                tail: list[A] = []
            else:
                tail = [a for a in queued if a not in incoming]
            self._queues[family] = head + tail
        if self.preferred is None and fresh:
            new = set(fresh)
            self.preferred = self._family_of(next(a for a in addrs if a in new))
        return fresh

    def reorder(self, order: Callable[[list[A]], Sequence[A]]) -> None:
        """§4 across families: before the first :meth:`pop`, with both families queued, sort
        every queued address together with *order* (RFC 6724) and let its head choose the
        preferred family, each family keeping the order *order* gave it. Otherwise (one family,
        or attempts already made) nothing changes: what arrives later is sorted in per family."""
        if self.popped or not (self._queues[4] and self._queues[6]):
            return
        queued = self._queues[6] + self._queues[4]
        ordered = list(order(queued))
        if len(ordered) != len(queued) or set(ordered) != set(queued):
            return  # not a permutation of the queue: keep the order of arrival
        self.preferred = self._family_of(ordered[0])
        for family in (6, 4):
            self._queues[family] = [a for a in ordered if self._family_of(a) == family]

    def pop(self) -> A | None:
        """The next address to try, or None when none is left."""
        if self.preferred is None:
            return None
        other: Family = 4 if self.preferred == 6 else 6
        if self.popped < self._first_count or self._last is None:
            want = self.preferred
        else:
            want = 4 if self._last == 6 else 6
        if not self._queues[want]:
            want = other if want == self.preferred else self.preferred
            if not self._queues[want]:
                return None
        addr = self._queues[want].pop(0)
        self._last = want
        self.popped += 1
        return addr


# -- §5: the adaptive Connection Attempt Delay ------------------------------------------------------
#: How many connect times are kept per family: enough to smooth, few enough to follow a change of
#: network within a few connections.
HISTORY_SIZE: Final = 16


class RTTHistory:
    """Recent connect times (SYN to established, seconds) per destination family, bounded.

    One process-wide instance serves ``adaptive=True`` dials (:data:`rtt_history`); tests make
    their own. At most :data:`HISTORY_SIZE` samples per family are kept, the oldest dropped.
    Negative, NaN and infinite samples are ignored.
    """

    __slots__ = ("_samples",)

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._samples: dict[Family, deque[float]] = {4: deque(maxlen=size), 6: deque(maxlen=size)}

    def record(self, family: Family, rtt: float) -> None:
        """Remember one connect that took *rtt* seconds to a *family* destination."""
        if 0 <= rtt < math.inf:
            self._samples[family].append(rtt)

    def samples(self, family: Family) -> tuple[float, ...]:
        """The samples for *family*, oldest first."""
        return tuple(self._samples[family])

    def clear(self) -> None:
        """Forget every sample."""
        for samples in self._samples.values():
            samples.clear()


#: The history ``adaptive=True`` dials read and feed.
rtt_history: Final = RTTHistory()


def adaptive_delay(samples: Sequence[float], default: float, low: float, high: float) -> float:
    """RFC 8305 §5's delay from connect times: RFC 6298's SRTT + 4·RTTVAR over *samples*
    (oldest first), clamped to [*low*, *high*]; *default* (also clamped) when there is none.

    RFC 6298 is TCP's own answer to "how long before a missing SYN-ACK means loss", which is the
    question an attempt delay asks; its gains (1/8, 1/4) are the RFC's.
    """
    if not samples:
        return min(max(default, low), high)
    srtt = samples[0]
    rttvar = samples[0] / 2
    for r in samples[1:]:
        rttvar = 0.75 * rttvar + 0.25 * abs(srtt - r)
        srtt = 0.875 * srtt + 0.125 * r
    return min(max(srtt + 4 * rttvar, low), high)
