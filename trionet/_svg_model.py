"""What an SVG picture of a dial shows, worked out from :mod:`trionet.trace` events (no drawing).

Pure logic for ``_svg.py``: the events of each dial become a :class:`Panel` of rows (the DNS
lookup, one :class:`Bar` per attempt with its outcome settled) and vertical :class:`Line` s
(configured delays and deadlines), all in absolute Trio-clock times.

To draw a new kind of event, add a branch to :meth:`Panel.add`. Events it does not know are
skipped, except that any event with an ``addrs`` tuple (a DNS answer) becomes a mark on the DNS row.
"""

from __future__ import annotations

import errno
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .trace import (
    AttemptDone,
    AttemptStart,
    DelayStart,
    DialDone,
    DialStart,
    Event,
    LoserClosed,
    ResolveDone,
    ResolveStart,
)

__all__ = ["Bar", "Line", "Panel", "ms", "panels"]


def ms(seconds: float) -> str:
    """Seconds as the pictures print them: ``300.0 ms``."""
    return f"{seconds * 1000:.1f} ms"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(slots=True)
class Bar:
    """A row's bar: the DNS lookup or one attempt, from *start* to *end* (Trio-clock times)."""

    label: str  # "primary  [::1]:80 (ipv6)" or "DNS host"
    start: float
    end: float | None = None  # None: never reported (drawn to the end of the dial)
    outcome: str = "running"
    note: str = ""
    detail: str = ""
    addr: str = ""
    role: str = ""
    deadline: float = math.inf  # the attempt's partial deadline
    kind: str = "attempt"


@dataclass(slots=True)
class Line:
    """A vertical line at *at*: a configured delay or a deadline, by *kind*."""

    at: float
    label: str
    kind: str  # "delay" (a DelayStart), "deadline" (the dialer's own) or "scope" (an enclosing one)


@dataclass(slots=True)
class Panel:
    """One dial: its rows, its marks and its vertical lines, in absolute Trio-clock times."""

    header: str
    start: float  # when the dial began
    end: float  # its last event
    zero: float  # the picture's 0 ms, for the times written on it
    dns: Bar | None = None
    marks: list[tuple[float, str]] = field(default_factory=list[tuple[float, str]])
    bars: list[Bar] = field(default_factory=list[Bar])
    lines: list[Line] = field(default_factory=list[Line])
    done: DialDone | None = None
    losers: set[tuple[str, str]] = field(default_factory=set[tuple[str, str]])
    open_: dict[tuple[str, str], Bar] = field(default_factory=dict[tuple[str, str], Bar])

    def add(self, e: Event) -> None:
        """Take one event into the picture; unknown kinds are skipped (see the module docs)."""
        self.end = max(self.end, e.time)
        if isinstance(e, DialStart):
            self.header = f"dial {e.network} {e.address}"
            if not math.isinf(e.own_deadline):
                self.lines.append(Line(e.own_deadline, "dialer deadline", "deadline"))
            if e.deadline < e.own_deadline:
                self.lines.append(Line(e.deadline, "enclosing scope deadline", "scope"))
        elif isinstance(e, ResolveStart):
            self.dns = Bar(f"DNS {e.host}", e.time, kind="dns")
        elif isinstance(e, ResolveDone):
            dns = self.dns = self.dns or Bar(f"DNS {e.host}", e.time, kind="dns")
            dns.end = e.time
            if e.cancelled:
                dns.outcome, dns.note = "cancelled", f"cancelled at {ms(e.time - self.zero)}"
            elif e.error is not None:
                dns.outcome, dns.note = "failed", f"failed: {e.error}"
            else:
                dns.outcome, dns.note = "connected", f"{_count(len(e.addrs), 'answer')}: {', '.join(e.addrs)}"
            dns.detail = e.describe()
            self.marks.append((e.time, e.describe()))
        elif isinstance(e, DelayStart):
            self.lines.append(Line(e.time + e.delay, f"{e.name} {e.delay * 1000:g} ms", "delay"))
        elif isinstance(e, AttemptStart):
            bar = Bar(
                f"{e.role:<8} {e.addr} ({e.family})", e.time, addr=e.addr, role=e.role, deadline=e.deadline
            )
            self.bars.append(bar)
            self.open_[e.role, e.addr] = bar
        elif isinstance(e, AttemptDone):
            ended = self.open_.pop((e.role, e.addr), None)
            if ended is None:  # its start was not seen: a zero-length bar at its end
                ended = Bar(f"{e.role:<8} {e.addr} ({e.family})", e.time, addr=e.addr, role=e.role)
                self.bars.append(ended)
            ended.end, ended.outcome = e.time, _outcome(e)
            ended.detail = "" if e.error is None else str(e.error)
        elif isinstance(e, LoserClosed):
            self.losers.add((e.role, e.addr))
        elif isinstance(e, DialDone):
            self.done = e
            if e.cancelled and not any(line.kind == "scope" for line in self.lines):
                # Cancelled without a deadline (scope.cancel()): mark the moment instead.
                self.lines.append(Line(e.time, "cancelled by an enclosing scope", "scope"))
        elif isinstance(getattr(e, "addrs", None), tuple):  # a DNS answer of a kind added later
            if self.dns is None:
                self.dns = Bar("DNS", e.time, kind="dns")
            self.marks.append((e.time, e.describe()))

    def finish(self) -> None:
        """Settle outcomes that need the whole dial: the winner, the losers, who cancelled."""
        done = self.done
        for bar in self.bars:
            end = self.end if bar.end is None else bar.end
            at = f"at {ms(end - self.zero)}"
            if bar.outcome == "connected":
                if (bar.role, bar.addr) in self.losers:
                    bar.outcome, bar.note = "loser closed", f"connected {at}, too late: closed unused"
                elif done is not None and done.winner == bar.addr:
                    bar.outcome, bar.note = "won", f"won {at}"
                else:
                    bar.note = f"connected {at}"
            elif bar.outcome == "cancelled":
                why = ""
                if done is not None:
                    if done.winner is not None:
                        why = ": another attempt won"
                    elif done.timed_out:
                        why = ": the dialer's deadline"
                    elif done.cancelled:
                        why = ": an enclosing scope"
                bar.note = f"cancelled {at}{why}"
            elif bar.outcome == "running":
                bar.note = "still running when the trace ended"
            else:
                partial = bar.outcome == "timed out" and math.isclose(end, bar.deadline, abs_tol=1e-9)
                bar.note = f"{bar.outcome} {at}" + (" (its partial deadline)" if partial else "")

    def outcome(self) -> str:
        done = self.done
        if done is None:
            return "(the trace ends before the dial does)"
        took = ms(done.time - self.start)
        if done.winner is not None:
            return f"=> connected to {done.winner} after {took}"
        if done.cancelled:
            return f"=> cancelled by an enclosing scope after {took} (trio.Cancelled, no error)"
        if done.timed_out:
            return f"=> the dialer's own timeout after {took}: {done.error}"
        return f"=> failed after {took}: {done.error}"


def _outcome(e: AttemptDone) -> str:
    """What became of one attempt, as far as its own event tells (``Panel.finish`` does the rest)."""
    if e.cancelled:
        return "cancelled"
    if e.error is None:
        return "connected"
    if isinstance(e.error, TimeoutError):
        return "timed out"
    return "refused" if getattr(e.error, "errno", None) == errno.ECONNREFUSED else "failed"


def panels(events: Sequence[Event], zero: float) -> list[Panel]:
    """A panel per dial in *events* (grouped by dial number, in order of appearance); the times
    written on them count from *zero*."""
    panels: dict[int, Panel] = {}
    for e in events:
        panel = panels.get(e.dial)
        if panel is None:
            panel = panels[e.dial] = Panel(f"dial #{e.dial}", e.time, e.time, zero)
        panel.add(e)
    for panel in panels.values():
        panel.finish()
    return list(panels.values())
