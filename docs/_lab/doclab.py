"""Loopback helpers for the documentation's examples.

Every example in the docs runs in CI (``sphinx-build -b doctest``) and talks only to loopback:

* :func:`listener` — a real listening socket; the kernel completes handshakes on its own, so a
  dial to it succeeds without anyone calling ``accept()``.
* :func:`refused` — a port that refuses connections: bound, but not listening, so no other
  program can take it while the example runs.
* :func:`blackhole` — a port where a connect *hangs*: a listener that never accepts, its tiny
  backlog already full, so the kernel drops further SYNs silently (not refused).
* :func:`NamesResolver` — a :class:`trionet.testing.FakeResolver` with fixed answers (``"dual.test"`` → ``::1`` and
  ``127.0.0.1``), so examples never ask a real DNS server anything.
* :func:`timeline` — prints trace events one per line, time first.

Why the examples can run under ``MockClock(autojump_threshold=0)`` with real sockets: on loopback,
a successful or refused connect is complete inside the kernel before Trio next polls for I/O, so
the only waits left are the blackholed connects, which never complete — and the virtual clock
jumps straight to the next deadline. Times printed by the examples are therefore exact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import socket
from collections.abc import Iterable, Iterator

import trionet
import trionet.testing
from trionet import trace


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


@contextlib.contextmanager
def listener(host: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """A listening TCP socket on *host*; yields its port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
        yield sock.getsockname()[1]


@contextlib.contextmanager
def refused(host: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """A port on *host* that refuses connections (bound, never listening); yields it."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, port))
        yield sock.getsockname()[1]


@contextlib.contextmanager
def blackhole(host: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """A port on *host* (``127.0.0.1`` or ``::1``) where connects hang until they are
    cancelled; yields it. :func:`trionet.testing.blackhole_listener` does the work."""
    with trionet.testing.blackhole_listener(_family(host), port=port) as addr:
        yield addr.port


def NamesResolver(names: dict[str, list[str]], delay: float = 0.0) -> trionet.testing.FakeResolver:
    """A :class:`trionet.Resolver` whose names have fixed answers; nothing leaves the process.

    Args:
        names: host name → IP address texts, in the order the resolver returns them.
        delay: how long each lookup takes, in seconds (to show cancellation mid-lookup).
    """
    resolver = trionet.testing.FakeResolver()
    for name, addrs in names.items():
        resolver.add(name, addrs, delay)
    return resolver


def open_sockets() -> int:
    """How many file descriptors this process holds (to show that nothing leaks)."""
    import os

    return len(os.listdir("/proc/self/fd"))


def timeline(events: Iterable[trace.Event], ports: Iterable[int] = ()) -> None:
    """Print *events* one per line: time, then the event; *ports* are shown as ``PORT``."""
    for event in events:
        text = event.describe()
        for port in ports:
            text = text.replace(f":{port}", ":PORT")
        extra = ""
        if isinstance(event, trace.AttemptStart) and event.deadline != math.inf:
            extra = f"  (deadline {event.deadline:g})"
        print(f"{event.time:6.3f}  {text}{extra}")


def picture(events: Iterable[trace.Event], ports: Iterable[int] = ()) -> None:
    """Draw *events* as ``trionet dial --trace`` does (bars on a time axis); *ports* as ``PORT``.

    The events are rewritten before drawing (addresses, and errors as their text), so the
    columns are laid out for ``PORT`` and the picture does not depend on the port drawn.
    """
    from trionet._timeline import render

    def hide(text: str) -> str:
        for port in ports:
            text = text.replace(f":{port}", ":PORT")
        return text

    rewritten: list[trace.Event] = []
    for event in events:
        changes: dict[str, object] = {}
        for item in dataclasses.fields(event):
            value = getattr(event, item.name)
            if isinstance(value, str):
                changes[item.name] = hide(value)
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                changes[item.name] = tuple(hide(v) for v in value)
            elif isinstance(value, BaseException):
                changes[item.name] = OSError(hide(str(value)))
        rewritten.append(dataclasses.replace(event, **changes))  # type: ignore[arg-type]
    print("\n".join(line.rstrip() for line in render(rewritten, width=40).splitlines()))
