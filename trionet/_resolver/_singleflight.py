"""The shared query (Go's ``lookupGroup``, a ``singleflight.Group``): concurrent identical
lookups that need I/O run once and every caller gets the answer.

What may live here: :func:`do_shared` and its bookkeeping, one table per Trio run. It knows
nothing of DNS: the key and the work are the resolver's.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import trio

__all__ = ["do_shared"]

_T = TypeVar("_T")


class _Call(Generic[_T]):
    def __init__(self) -> None:
        self.done = trio.Event()
        self.waiters = 0
        self.scope = trio.CancelScope()
        self.result: _T | None = None
        self.error: Exception | None = None


_GROUPS: trio.lowlevel.RunVar[dict[Hashable, _Call[object]]] = trio.lowlevel.RunVar("trionet_lookup_group")


async def _run_shared(key: Hashable, call: _Call[_T], fn: Callable[[], Awaitable[_T]]) -> None:
    groups = _GROUPS.get()
    try:
        with call.scope:
            call.result = await fn()
    except Exception as exc:  # handed to every waiter; Cancelled (a BaseException) passes
        call.error = exc
    finally:
        if groups.get(key) is call:
            del groups[key]
        call.done.set()


async def do_shared(key: Hashable, fn: Callable[[], Awaitable[_T]]) -> _T:
    """Go's ``singleflight.DoChan`` + ``ForgetUnshared``: concurrent calls with the same *key*
    share one run of *fn*.

    The shared run is a Trio system task (Go runs it in its own goroutine, detached from the
    callers' contexts), so one caller's cancellation never cancels it for the others; when the
    *last* waiting caller is cancelled, the run is cancelled too and nothing is left behind.
    Each caller gets a copy of a shared exception.
    """
    try:
        groups = _GROUPS.get()
    except LookupError:
        groups = dict[Hashable, _Call[object]]()
        _GROUPS.set(groups)
    call = groups.get(key)
    if call is None:
        call = _Call[object]()
        groups[key] = call
        # A constant task name: formatting the key for each new name is measurable per lookup.
        trio.lowlevel.spawn_system_task(_run_shared, key, call, fn, name="trionet.lookup")
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
