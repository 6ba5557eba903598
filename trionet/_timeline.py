"""Draw :mod:`trionet.trace` events as a text timeline: one bar per attempt on a time axis in ms.

Pure: events in, text out (no Trio, no I/O), so the picture is tested without sockets. Used by
``trionet demo`` and ``trionet dial --trace``. Plain ASCII, so it survives any terminal or pipe::

    dial tcp dual.test:80
                             0        100       200       300       400 ms
                             +---------+---------+---------+---------+
    resolve dual.test        *                                         0.0 ms -> ::1, 127.0.0.1
    primary  [::1]:80        ==============================/           cancelled at 300.0 ms
    fallback 127.0.0.1:80                                  *           connected at 300.0 ms  <- winner
    => connected to 127.0.0.1:80 after 300.0 ms

Bar ends: ``*`` connected, ``x`` failed, ``/`` cancelled, ``?`` never reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .trace import (
    AttemptDone,
    AttemptStart,
    DialDone,
    DialStart,
    Event,
    LoserClosed,
    ResolveDone,
    ResolveStart,
)

__all__ = ["render"]


@dataclass(slots=True)
class _Row:
    label: str
    start: float
    end: float
    mark: str
    note: str


#: The narrowest time axis *fit* may leave: four ticks six columns apart, so that tick labels
#: up to five characters (``12500``) stay apart.
MIN_FIT_WIDTH = 24


def render(events: Sequence[Event], *, width: int = 40, fit: int | None = None) -> str:
    """The timeline of every dial in *events* (grouped by dial id, in order of appearance).

    *width* is the number of columns of the time axis (at least 10). With *fit* (a terminal's
    width), a dial whose lines would be wider than *fit* columns gets a narrower axis, down to
    :data:`MIN_FIT_WIDTH` columns; lines that still do not fit (a long address, a long error)
    are left long.
    """
    width = max(width, 10)
    dials: dict[int, list[Event]] = {}
    for event in events:
        dials.setdefault(event.dial, []).append(event)
    return "\n\n".join(_render_dial(evs, width, fit) for evs in dials.values())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _take(
    open_rows: dict[tuple[str, str], _Row], rows: list[_Row], key: tuple[str, str], label: str, t: float
) -> _Row:
    """The row a "done" event closes; a new one, added to *rows*, when its "start" was not seen."""
    row = open_rows.pop(key, None)
    if row is None:
        row = _Row(label, t, t, "?", "")
        rows.append(row)
    return row


def _rows(events: Sequence[Event]) -> tuple[list[_Row], list[str], float]:
    """Bars for the lookup and each attempt, loose notes, and the time the dial ended."""
    t0 = events[0].time
    rows: list[_Row] = []
    notes: list[str] = []
    open_rows: dict[tuple[str, str], _Row] = {}
    end = max(e.time for e in events)
    for e in events:
        t = e.time - t0
        if isinstance(e, ResolveStart):
            open_rows["resolve", e.host] = row = _Row(f"resolve {e.host}", t, t, "?", "")
            rows.append(row)
        elif isinstance(e, ResolveDone):
            row = _take(open_rows, rows, ("resolve", e.host), f"resolve {e.host}", t)
            row.end, row.mark = t, "x" if e.error is not None else "*"
            took = _ms(row.end - row.start)
            if e.cancelled:
                row.mark, row.note = "/", f"cancelled at {_ms(t)}"
            else:
                row.note = (
                    f"{took} failed: {e.error}" if e.error is not None else f"{took} -> {', '.join(e.addrs)}"
                )
        elif isinstance(e, AttemptStart):
            deadline = "" if math.isinf(e.deadline) else f" (deadline {_ms(e.deadline - t0)})"
            open_rows[e.role, e.addr] = row = _Row(f"{e.role:<8} {e.addr}", t, t, "?", deadline)
            rows.append(row)
        elif isinstance(e, AttemptDone):
            row = _take(open_rows, rows, (e.role, e.addr), f"{e.role:<8} {e.addr}", t)
            row.end = t
            if e.cancelled:
                row.mark, row.note = "/", f"cancelled at {_ms(t)}"
            elif e.error is not None:
                row.mark, row.note = "x", f"failed at {_ms(t)}: {e.error}"
            else:
                row.mark, row.note = "*", f"connected at {_ms(t)}"
        elif isinstance(e, LoserClosed):
            notes.append(f"   closed the losing {e.role} connection {e.addr} at {_ms(t)}")
    done = events[-1]
    if isinstance(done, DialDone) and done.winner is not None:
        for row in rows:
            if (
                row.mark == "*"
                and row.label.endswith(" " + done.winner)
                and not row.label.startswith("resolve")
            ):
                row.note += "  <- winner"
                break
    for row in open_rows.values():  # never finished: draw it to the end of the dial
        row.end = end - t0
        row.note = row.note or "still running when the dial ended"
    return rows, notes, end - t0


def _axis(span: float, width: int) -> tuple[float, int]:
    """A round axis length in seconds covering *span*, and the number of ticks."""
    span_ms = max(span * 1000, 1.0)  # a dial that took no time still gets a readable 1 ms axis
    exponent = 10.0 ** math.floor(math.log10(span_ms))
    # span_ms lies in [exponent, 10 * exponent), and four ticks of 2.5 * exponent cover that.
    for factor in (0.25, 0.5, 1, 2, 2.5):
        step = factor * exponent
        if span_ms <= step * 4:
            ticks = max(1, math.ceil(span_ms / step - 1e-9))
            return ticks * step / 1000, ticks
    raise AssertionError(f"no axis for {span_ms} ms")  # pragma: no cover - see above


def _tick_label(ms: float) -> str:
    return f"{ms:.0f}" if ms == round(ms) else f"{ms:g}"


def _render_dial(events: Sequence[Event], width: int, fit: int | None) -> str:
    first = events[0]
    header = first.describe() if isinstance(first, DialStart) else f"dial #{first.dial}"
    if isinstance(first, DialStart) and not math.isinf(first.own_deadline):
        header += f"  (dialer deadline at {_ms(first.own_deadline - first.time)})"
    rows, notes, span = _rows(events)
    label_w = max([len(r.label) for r in rows] + [8]) + 2
    if fit is not None:  # a row is: label, the bar's columns + 2, a space, the note
        room = fit - label_w - 3 - max([len(r.note) for r in rows] + [0])
        width = max(min(width, room), min(width, MIN_FIT_WIDTH))
    axis, ticks = _axis(span, width)
    per_tick = width // ticks
    cols = per_tick * ticks

    def col(t: float) -> int:
        return min(cols, round(t / axis * cols)) if axis > 0 else 0

    tick_ms = axis * 1000 / ticks
    scale = (
        "".join(_tick_label(i * tick_ms).ljust(per_tick) for i in range(ticks))
        + _tick_label(axis * 1000)
        + " ms"
    )
    lines = [header, " " * label_w + scale, " " * label_w + ("+" + "-" * (per_tick - 1)) * ticks + "+"]
    for row in rows:
        c0, c1 = col(row.start), col(row.end)
        bar = " " * c0 + "=" * (c1 - c0) + row.mark
        lines.append(f"{row.label:<{label_w}}{bar:<{cols + 2}} {row.note}".rstrip())
    lines.extend(notes)
    last = events[-1]
    if isinstance(last, DialDone):
        lines.append(f"=> {_outcome(last)} after {_ms(span)}")
    return "\n".join(lines)


def _outcome(done: DialDone) -> str:
    if done.winner is not None:
        return f"connected to {done.winner}"
    if done.cancelled:
        return "cancelled by an enclosing cancel scope (trio.Cancelled, no error)"
    if done.timed_out:
        return f"the dialer's own timeout expired: {done.error}"
    return f"failed: {done.error}"
