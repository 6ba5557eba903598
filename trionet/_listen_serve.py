"""serve: listen, then hand every accepted connection to a handler (Trio's ``serve_tcp``).

What may live here: ways of *running* a listener on top of :mod:`trionet._listen` (which makes
it) and :mod:`trionet._listener` (which accepts). It sits above both, so neither imports it;
nothing here opens or configures a socket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Literal, NoReturn, TypeVar, final, overload

import trio

from ._address import TCPAddr, UnixAddr
from ._listen import DEFAULT_LISTEN_CONFIG, ListenConfig, StreamListenNetwork
from ._listener import Listener
from ._packetconn import PacketConn

__all__ = ["serve"]

_V = TypeVar("_V")


@final
class _StartedWith(Generic[_V]):
    """A task status that reports *value* whatever ``started()`` is given."""

    def __init__(self, outer: trio.TaskStatus[_V], value: _V) -> None:
        self._outer = outer
        self._value = value

    def started(self, value: object = None) -> None:
        self._outer.started(self._value)


@overload
async def serve(
    handler: Callable[[trio.SocketStream], Awaitable[object]],
    network: StreamListenNetwork,
    address: str,
    *,
    config: ListenConfig | None = None,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Listener[trio.SocketStream, TCPAddr | UnixAddr]] = trio.TASK_STATUS_IGNORED,
) -> NoReturn: ...
@overload
async def serve(
    handler: Callable[[PacketConn], Awaitable[object]],
    network: Literal["unixpacket"],
    address: str,
    *,
    config: ListenConfig | None = None,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Listener[PacketConn, UnixAddr]] = trio.TASK_STATUS_IGNORED,
) -> NoReturn: ...
@overload
async def serve(
    handler: Callable[[Any], Awaitable[object]],
    network: str,
    address: str,
    *,
    config: ListenConfig | None = None,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> NoReturn: ...


async def serve(
    handler: Callable[[Any], Awaitable[object]],
    network: str,
    address: str,
    *,
    config: ListenConfig | None = None,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Listen on *address* and run ``handler(stream)`` for each connection, like :func:`trio.serve_tcp`.

    ``listener = await nursery.start(trionet.serve, handler, "tcp", "127.0.0.1:0")`` returns
    the :class:`Listener` once it accepts connections (read the port from ``listener.addr``).
    Runs until cancelled; closes the listener on the way out. Errors from the handler propagate
    (use *handler_nursery* to decide otherwise), as with :func:`trio.serve_listeners`.

    Args:
        handler: an async function called with each accepted connection; it is closed for you
            (:func:`trio.aclose_forcefully`) if the handler leaves it open.
        network: a :meth:`ListenConfig.listen` network.
        address: the address to listen on.
        config: the :class:`ListenConfig`; None: the default one.
        handler_nursery: where handlers run; None: a nursery of this call.
        task_status: for ``nursery.start``; receives the :class:`Listener`.
    """
    listener = await (config or DEFAULT_LISTEN_CONFIG).listen(network, address)
    await trio.serve_listeners(
        handler,
        [listener],
        handler_nursery=handler_nursery,
        task_status=_StartedWith(task_status, listener),
    )
