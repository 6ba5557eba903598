"""The shared query (Go's ``lookupGroup``, a ``singleflight.Group``): concurrent identical
lookups that need I/O run once and every caller gets the answer.

What may live here: :func:`do_shared`, the :class:`Inline` work it can run in the first caller's
own task, and their bookkeeping, one table per Trio run. It knows nothing of DNS: the key and
the work are the resolver's.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

import trio

__all__ = ["Inline", "Later", "do_shared"]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class Later(Generic[_T]):
    """What :meth:`Inline.result` returns when the rest of the work needs more than its one
    resumable wait (a retry, another server, TCP): *fn* finishes it as the shared task."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], Awaitable[_T]]) -> None:
        self.fn = fn


class Inline(Protocol[_T_co]):
    """Work whose only wait keeps its state in the object, not in a coroutine's frame, so that
    another task can take it over: :func:`do_shared` runs it in the first caller's task, and
    if that caller is cancelled while others wait, a system task awaits :meth:`result` again
    and it goes on where it stopped (the same sockets, the same deadline)."""

    async def result(self) -> _T_co | Later[_T_co]:
        """The answer, or what finishes it; may be awaited again after a cancellation. Releases
        what it holds when it returns or raises anything but a cancellation."""
        ...

    def close(self) -> None:
        """Nobody wants the answer any more: release what it holds (idempotent)."""
        ...


class _Call(Generic[_T]):
    def __init__(self) -> None:
        self.done = trio.Event()
        self.waiters = 0
        self.scope = trio.CancelScope()
        self.result: _T | None = None
        self.error: Exception | None = None


_GROUPS: trio.lowlevel.RunVar[dict[Hashable, _Call[object]]] = trio.lowlevel.RunVar("trionet_lookup_group")


def _groups() -> dict[Hashable, _Call[object]]:
    try:
        return _GROUPS.get()
    except LookupError:
        groups = dict[Hashable, _Call[object]]()
        _GROUPS.set(groups)
        return groups


def _finish(key: Hashable, call: _Call[_T], groups: dict[Hashable, _Call[object]]) -> None:
    if groups.get(key) is call:
        del groups[key]
    call.done.set()


async def _run_shared(key: Hashable, call: _Call[_T], fn: Callable[[], Awaitable[_T]]) -> None:
    groups = _GROUPS.get()
    try:
        with call.scope:
            call.result = await fn()
    except Exception as exc:  # handed to every waiter; Cancelled (a BaseException) passes
        call.error = exc
    finally:
        _finish(key, call, groups)


def _spawn(key: Hashable, call: _Call[_T], fn: Callable[[], Awaitable[_T]]) -> None:
    # A constant task name: formatting the key for each new name is measurable per lookup.
    trio.lowlevel.spawn_system_task(_run_shared, key, call, fn, name="trionet.lookup")


async def _resumed(work: Inline[_T]) -> _T:
    """The rest of *work* in the shared task, after its first caller left."""
    try:
        out = await work.result()
    except BaseException:
        work.close()
        raise
    if isinstance(out, Later):
        later: Later[_T] = out  # pyright: ignore[reportUnknownVariableType]
        return await later.fn()
    return out


async def do_shared(
    key: Hashable, fn: Callable[[], Awaitable[_T]], inline: Callable[[], Inline[_T] | None] | None = None
) -> _T:
    """Go's ``singleflight.DoChan`` + ``ForgetUnshared``: concurrent calls with the same *key*
    share one run of *fn*.

    The shared run is a Trio system task (Go runs it in its own goroutine, detached from the
    callers' contexts), so one caller's cancellation never cancels it for the others; when the
    *last* waiting caller is cancelled, the run is cancelled too and nothing is left behind.
    Each caller gets a copy of a shared exception.

    *inline*, when given, is asked (synchronously) by the first caller for :class:`Inline`
    work standing for *fn*; None: run *fn* as above. Inline work runs in the first caller's
    own task, which saves the system task, its scope and two trips through the scheduler (a
    fifth of a new name's lookup, docs/benchmarks.rst). Nothing else changes: callers that
    arrive meanwhile share it; if the first caller is cancelled while others still wait, a
    system task takes the work over where it stopped and the first caller leaves at once; if
    nobody else waits, the work is closed with it.
    """
    groups = _groups()
    call = groups.get(key)
    if call is None:
        call = _Call[object]()
        groups[key] = call
        try:
            work = inline() if inline is not None else None
        except BaseException:
            _finish(key, call, groups)  # nothing was started: nobody can be waiting yet
            raise
        if work is None:
            _spawn(key, call, fn)
        else:
            return await _lead(key, call, work, groups)  # type: ignore[arg-type]
    return await _wait(key, call, groups)  # type: ignore[arg-type]


async def _lead(
    key: Hashable, call: _Call[_T], work: Inline[_T], groups: dict[Hashable, _Call[object]]
) -> _T:
    """The first caller runs *work* itself (see :func:`do_shared`)."""
    call.waiters += 1  # so that a later caller's cancellation does not cancel the work
    try:
        out = await work.result()
    except Exception as exc:
        call.error = exc
        _finish(key, call, groups)
        raise
    except BaseException:  # this caller's cancellation (or KeyboardInterrupt)
        if call.waiters > 1:
            _spawn(key, call, lambda: _resumed(work))  # the others' answer goes on
        else:
            work.close()
            _finish(key, call, groups)
        raise
    finally:
        call.waiters -= 1
    if isinstance(out, Later):
        _spawn(key, call, out.fn)
        return await _wait(key, call, groups)  # counts this caller again
    call.result = out
    _finish(key, call, groups)
    return out


async def _wait(key: Hashable, call: _Call[_T], groups: dict[Hashable, _Call[object]]) -> _T:
    call.waiters += 1
    try:
        await call.done.wait()
    finally:
        call.waiters -= 1
        if call.waiters == 0 and not call.done.is_set():
            call.scope.cancel()  # nobody wants the answer any more (Go: ForgetUnshared → cancel)
            if groups.get(key) is call:
                del groups[key]
    if call.error is not None:
        raise copy.copy(call.error)
    return call.result  # type: ignore[return-value]  # set whenever error is None and done
