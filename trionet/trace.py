"""Watch a dial happen: resolve, every attempt, the winner, the losers, the timeout.

A dial with fast fallback and partial deadlines is invisible from outside: you see the stream it
returns or the error it raises. Tracing shows the race. Observers are held in a
:class:`contextvars.ContextVar`, so they follow the dial into the tasks of its racing nursery and
apply to every dial made inside the ``with`` block (and only there)::

    with trionet.trace.collect() as events:
        stream = await trionet.dial("tcp", "localhost:8080")
    for event in events:
        print(event)

Every event is also logged to the ``trionet.trace`` logger at ``DEBUG`` level. When nobody
observes and that logger is not enabled for ``DEBUG``, a dial checks this once and emits nothing
(the cost is one context-variable read and one ``isEnabledFor`` call per dial).

Event times are on Trio's clock (``trio.current_time()``), so under ``autojump_clock`` they are
exact and reproducible.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final, Literal, TypedDict, cast

import trio

__all__ = [
    "AttemptDone",
    "AttemptStart",
    "DNSAnswer",
    "DelayStart",
    "DialDone",
    "DialStart",
    "Event",
    "LoserClosed",
    "ResolveDone",
    "ResolveStart",
    "Role",
    "collect",
    "observe",
    "render_svg",
]

#: Which racer made an attempt: the primary address family or the fallback one.
Role = Literal["primary", "fallback"]

logger: Final = logging.getLogger("trionet.trace")

_observers: ContextVar[tuple[Callable[[Event], None], ...]] = ContextVar(
    "trionet_trace_observers", default=()
)
_dial_ids = itertools.count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every trace event.

    Attributes:
        time: when it happened, on Trio's clock.
        dial: a number identifying the dial within the process, so that events of concurrent
            dials can be told apart.
    """

    time: float
    dial: int

    def describe(self) -> str:
        """A one-line, human-readable description (also what is logged)."""
        return type(self).__name__

    def as_dict(self) -> dict[str, object]:
        """The event as JSON-ready data, its kind first: ``{"event": "AttemptStart", "time": 0.0, ...}``.

        Errors become their ``str()``, an infinite deadline (none) becomes None, tuples lists.
        ``trionet dial --json`` prints one of these per line.
        """
        data: dict[str, object] = {"event": type(self).__name__}
        for f in dataclasses.fields(self):
            value: object = getattr(self, f.name)
            if isinstance(value, BaseException):
                value = str(value)
            elif isinstance(value, float) and math.isinf(value):
                value = None
            elif isinstance(value, tuple):
                value = list(cast("tuple[object, ...]", value))
            data[f.name] = value
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class DialStart(Event):
    """A dial began.

    Attributes:
        network: the network as given (``"tcp"``).
        address: the address as given (``"localhost:8080"``).
        deadline: the dial's effective deadline (its own timeout/deadline and the enclosing
            scopes'), ``math.inf`` when none.
        own_deadline: the dialer's own deadline alone (``timeout``/``deadline``), ``math.inf``
            when none; only this one turns into an ``i/o timeout`` error.
    """

    network: str
    address: str
    deadline: float
    own_deadline: float

    def describe(self) -> str:
        return f"dial {self.network} {self.address}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveStart(Event):
    """Name resolution began for *host* (not emitted for IP literals, which need none)."""

    host: str

    def describe(self) -> str:
        return f"resolve {self.host}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveDone(Event):
    """Name resolution finished.

    Attributes:
        host: the name looked up.
        addrs: the addresses found, in the order they will be tried.
        error: the error, or None on success; the :class:`trio.Cancelled` when *cancelled*.
        cancelled: the lookup was cancelled (an enclosing scope, or the dialer's own timeout).
    """

    host: str
    addrs: tuple[str, ...]
    error: BaseException | None = None
    cancelled: bool = False

    def describe(self) -> str:
        if self.cancelled:
            return f"resolve {self.host} cancelled"
        if self.error is not None:
            return f"resolve {self.host} failed: {self.error}"
        return f"resolved {self.host}: {', '.join(self.addrs)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DNSAnswer(Event):
    """One DNS answer of the RFC 8305 strategy arrived (it asks A, AAAA and HTTPS separately;
    Go's algorithm reports one :class:`ResolveDone` instead).

    Attributes:
        host: the name asked.
        kind: ``"A"``, ``"AAAA"`` or ``"HTTPS"``.
        addrs: the addresses it brought (for HTTPS: the record's address hints), as dialed.
        error: why the lookup failed, or None.
        alpn: HTTPS only: the ALPN protocol IDs of the record used (``("h2", "h3")``).
        port: HTTPS only: the record's port, or None when it has none.
        target: HTTPS only: the name whose addresses serve the record (an AliasMode or
            ServiceMode target), or None when it is *host* itself.
    """

    host: str
    kind: Literal["A", "AAAA", "HTTPS"]
    addrs: tuple[str, ...]
    error: BaseException | None = None
    alpn: tuple[str, ...] = ()
    port: int | None = None
    target: str | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.kind} {self.host} failed: {self.error}"
        extra = f" alpn={','.join(self.alpn)}" if self.alpn else ""
        extra += f" port={self.port}" if self.port is not None else ""
        extra += f" target={self.target}" if self.target else ""
        return f"{self.kind} {self.host}: {', '.join(self.addrs) or '(none)'}{extra}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptStart(Event):
    """One connect attempt began.

    Attributes:
        addr: the address tried (Go's format, ``[::1]:80``).
        family: ``"ipv4"``, ``"ipv6"`` or ``"unix"``.
        role: ``"primary"`` or ``"fallback"``.
        deadline: this attempt's own deadline (Go's partial deadline), ``math.inf`` when none.
        position: the attempt's place in the RFC 8305 strategy's order (0 first), or None for
            Go's algorithm (which has two racers, told apart by *role*).
    """

    addr: str
    family: str
    role: Role
    deadline: float
    position: int | None = None

    def describe(self) -> str:
        return f"{self.role} attempt {self.addr} ({self.family})"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptDone(Event):
    """One connect attempt ended.

    Attributes:
        addr: the address tried.
        family: ``"ipv4"``, ``"ipv6"`` or ``"unix"``.
        role: ``"primary"`` or ``"fallback"``.
        error: why it failed, or None when it connected.
        cancelled: true when the attempt was cancelled (another racer won, the dial timed out,
            or an enclosing scope was cancelled); *error* is then None.
        position: as in :class:`AttemptStart`.
    """

    addr: str
    family: str
    role: Role
    error: BaseException | None = None
    cancelled: bool = False
    position: int | None = None

    @property
    def ok(self) -> bool:
        """The attempt connected."""
        return self.error is None and not self.cancelled

    def describe(self) -> str:
        if self.cancelled:
            outcome = "cancelled"
        elif self.error is not None:
            outcome = f"failed: {self.error}"
        else:
            outcome = "connected"
        return f"{self.role} attempt {self.addr} {outcome}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayStart(Event):
    """A configured delay began counting: unless something earlier makes it moot, the dial acts
    at ``time + delay`` (the fallback racer starts when the fallback delay ends).

    Attributes:
        name: which delay, in words: ``"fallback delay"``.
        delay: its length in seconds (0 or more).
    """

    name: str
    delay: float

    def describe(self) -> str:
        return f"{self.name} of {self.delay * 1000:g} ms started"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoserClosed(Event):
    """A racer connected after another had already won; its connection was closed unused.

    Attributes:
        addr: the address the late connection went to.
        role: ``"primary"`` or ``"fallback"``: the racer that made it.
        position: as in :class:`AttemptStart`.
    """

    addr: str
    role: Role
    position: int | None = None

    def describe(self) -> str:
        return f"closed losing {self.role} connection {self.addr}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DialDone(Event):
    """A dial ended.

    Attributes:
        winner: the address connected to, or None.
        error: the error raised, or None. For a cancellation by an enclosing scope, *error* is
            None and *cancelled* is true.
        timed_out: the dialer's own timeout or deadline expired.
        cancelled: an enclosing cancel scope stopped the dial.
    """

    winner: str | None
    error: BaseException | None = None
    timed_out: bool = False
    cancelled: bool = False

    def describe(self) -> str:
        if self.winner is not None:
            return f"dial done: connected to {self.winner}"
        if self.cancelled:
            return "dial cancelled by an enclosing scope"
        return f"dial failed: {self.error}"


@contextlib.contextmanager
def observe(callback: Callable[[Event], None]) -> Generator[None, None, None]:
    """Call *callback* with every event of every dial made inside the ``with`` block.

    Observers nest: an inner ``observe`` adds to the outer ones. The callback runs synchronously
    inside the dial; it must be quick and must not raise.
    """
    token = _observers.set((*_observers.get(), callback))
    try:
        yield
    finally:
        _observers.reset(token)


@contextlib.contextmanager
def collect() -> Generator[list[Event], None, None]:
    """Collect the events of every dial made inside the ``with`` block into a list."""
    events: list[Event] = []
    with observe(events.append):
        yield events


class Stamp(TypedDict):
    """The two fields every event carries, as :meth:`Tracer.stamp` fills them (internal)."""

    time: float
    dial: int


@dataclass(slots=True)
class Tracer:
    """The emitter one dial uses; obtained once per dial by :func:`start` (internal).

    Events are made as ``tracer.emit(AttemptStart(**tracer.stamp(), addr=...))``: the one
    place that stamps the time and the dial id.
    """

    dial: int
    observers: tuple[Callable[[Event], None], ...]
    log: bool

    def stamp(self) -> Stamp:
        """``time`` (now, on Trio's clock) and ``dial`` for a new event of this dial."""
        return {"time": trio.current_time(), "dial": self.dial}

    def emit(self, event: Event) -> None:
        """Send *event* to every observer and to the logger."""
        for callback in self.observers:
            callback(event)
        if self.log:
            logger.debug("[dial %d @ %.6f] %s", event.dial, event.time, event.describe())


def start() -> Tracer | None:
    """A tracer for a new dial, or None when nobody listens (the common, free case)."""
    observers = _observers.get()
    log = logger.isEnabledFor(logging.DEBUG)
    if not observers and not log:
        return None
    return Tracer(next(_dial_ids), observers, log)


from ._svg import render_svg as render_svg  # noqa: E402  (after the events: _svg imports them)
