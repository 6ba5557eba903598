"""What the ``trionet`` sub-commands share: bad input, Go's error text, durations, trace output."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Iterator, Sequence

from . import trace
from ._errors import AddrError, DNSError, OpError, UnknownNetworkError
from ._timeline import render

__all__ = ["UsageError", "duration", "event_json", "fail", "open_svg", "timeline", "write_stdout"]


class UsageError(Exception):
    """Bad input found after parsing: exit 2 with one line."""


_DURATION = re.compile(r"^(-?\d+(?:\.\d*)?|-?\.\d+)(ns|us|µs|ms|s|m|h)?$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(text: str) -> float:
    """Seconds from ``1.5``, ``300ms``, ``2s``, ``1m`` (Go's units; a bare number is seconds)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid duration: {text!r} (try 1.5, 300ms, 2s)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def fail(exc: OSError) -> int:
    """Print a network error as Go would; 2 if it is really bad input."""
    print(str(exc), file=sys.stderr)
    inner = exc.err if isinstance(exc, OpError) else exc
    if isinstance(inner, DNSError) and inner.err == "unrecognized address":
        return 2  # lookup --type PTR of something that is not an IP address
    return 2 if isinstance(inner, AddrError | UnknownNetworkError) else 1


def write_stdout(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


#: Event fields that are moments on Trio's clock; ``--json`` prints them relative to the dial.
_MOMENTS = ("time", "deadline", "own_deadline")


def event_json(events: Sequence[trace.Event]) -> Iterator[str]:
    """One JSON object per event, its moments in seconds since its dial's first event (the
    dial's start), as the text timeline counts them. Trio's clock has an arbitrary origin."""
    starts: dict[int, float] = {}
    for event in events:
        start = starts.setdefault(event.dial, event.time)
        data = event.as_dict()
        for key in _MOMENTS:
            value = data.get(key)
            if isinstance(value, float):  # None (no deadline) stays None
                data[key] = round(value - start, 9)  # no 0.30000000000000004 from the subtraction
        yield json.dumps(data)


#: The text timeline's time axis in columns, when the terminal leaves room for it.
TIMELINE_WIDTH = 48


def timeline(events: Sequence[trace.Event], width: int | None) -> str:
    """The text timeline: ``--width`` columns of time axis if given; else up to
    :data:`TIMELINE_WIDTH`, narrowed so that the lines fit the terminal (``COLUMNS``, or 80 when
    the output is not a terminal) where a narrower axis can make them fit."""
    if width is not None:
        return render(events, width=width)
    return render(events, width=TIMELINE_WIDTH, fit=shutil.get_terminal_size().columns)


def open_svg(path: str) -> None:
    """Fail early, before any dial, when the ``--svg`` file cannot be written."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write --svg {path}: {exc.strerror or exc}") from None
