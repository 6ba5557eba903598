"""The socket layer's connect(): Go's ``netFD.connect`` errno handling, on a socket whose answers
are scripted; and its accessor of Trio's internals.

A real connect cannot be made to return EINTR or to report EINPROGRESS through SO_ERROR after the
socket polled writable, so these cases give ``connect`` a socket subclass that replays a
script around a real, always-writable UDP socket (Trio waits on its file descriptor). Real-socket behaviour (refused,
unix full backlog, cancellation) is tested in test_dial.py and test_dial_networks.py.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

import pytest
import trio
import trio.testing

from trionet._sock import connect, sockets_are_trios, stdlib_socket_of

_SOL_ERROR = (socket.SOL_SOCKET, socket.SO_ERROR)
#: connect() makes its calls on the standard-library socket; the Trio socket is not touched.
_NOT_USED: trio.socket.SocketType = None  # type: ignore[assignment]


class _Scripted(socket.socket):
    """connect() raises *connect_errno* (0: returns); SO_ERROR reads replay *so_errors*."""

    def __init__(self, connect_errno: int, so_errors: Sequence[int]) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_DGRAM)
        self.setblocking(False)
        self.connect_errno = connect_errno
        self.so_errors = list(so_errors)
        self.so_error_reads = 0

    def connect(self, address: object) -> None:
        if self.connect_errno:
            raise OSError(self.connect_errno, "scripted")

    def getsockopt(self, *args: int) -> int:  # type: ignore[override]
        if args == _SOL_ERROR:
            self.so_error_reads += 1
            return self.so_errors.pop(0)
        return int(super().getsockopt(*args))


# (connect's errno, SO_ERROR values after each wakeup, expected errno or 0, SO_ERROR reads)
GO_FD_CONNECT = [
    (errno.EINPROGRESS, [0], 0, 1),
    (errno.EINPROGRESS, [errno.EINPROGRESS, errno.EALREADY, errno.EINTR, 0], 0, 4),
    (errno.EALREADY, [0], 0, 1),
    (errno.EINTR, [0], 0, 1),  # Go: EINTR from connect means "in progress"
    (errno.EINPROGRESS, [errno.EISCONN], 0, 1),
    (errno.EINPROGRESS, [errno.ECONNREFUSED], errno.ECONNREFUSED, 1),
    (errno.EINPROGRESS, [errno.EINPROGRESS, errno.ETIMEDOUT], errno.ETIMEDOUT, 2),
    (errno.EISCONN, [], 0, 0),  # already connected: success, no wait
    (0, [], 0, 0),  # connected at once (unix, UDP)
    (errno.EAGAIN, [], errno.EAGAIN, 0),  # unix full backlog: an error, not a wait
    (errno.ECONNREFUSED, [], errno.ECONNREFUSED, 0),
]


@pytest.mark.parametrize(("connect_errno", "so_errors", "want", "reads"), GO_FD_CONNECT)
async def test_go_fd_connect_table(connect_errno: int, so_errors: list[int], want: int, reads: int) -> None:
    with _Scripted(connect_errno, so_errors) as raw:
        # Success or failure, connect is a schedule point (the dial checks for cancellation
        # first): a loop that retries a failing dial must not starve other tasks.
        with trio.testing.assert_checkpoints():
            await trio.lowlevel.checkpoint_if_cancelled()
            if want:
                with pytest.raises(OSError) as info:
                    await connect(_NOT_USED, raw, ("127.0.0.1", 9))
                assert info.value.errno == want
            else:
                await connect(_NOT_USED, raw, ("127.0.0.1", 9))
        assert raw.so_error_reads == reads
        assert raw.so_errors == []


class _DoneInTheCall(_Scripted):
    """connect() says EINPROGRESS, but the handshake is already over (as over loopback)."""

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 9)


async def test_a_connect_finished_inside_the_call_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_wait(sock: object) -> None:  # pragma: no cover - the assertion
        raise AssertionError("waited for writability")

    monkeypatch.setattr(trio.lowlevel, "wait_writable", no_wait)
    with _DoneInTheCall(errno.EINPROGRESS, []) as raw:
        with trio.testing.assert_checkpoints():  # still a schedule point (the dial checks
            await trio.lowlevel.checkpoint_if_cancelled()  # for cancellation first)
            await connect(_NOT_USED, raw, ("127.0.0.1", 9))
        assert raw.so_error_reads == 0


async def test_a_real_loopback_connect_skips_the_poller_and_a_refusal_still_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel runs a loopback handshake inside connect(): no wait for writability. A refused
    # connect is not connected (getpeername: ENOTCONN) and takes the wait, which reports it.
    waits: list[object] = []
    real_wait = trio.lowlevel.wait_writable

    async def counting_wait(sock: socket.socket) -> None:
        waits.append(sock)
        await real_wait(sock)

    monkeypatch.setattr(trio.lowlevel, "wait_writable", counting_wait)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        with socket.socket() as raw:
            raw.setblocking(False)
            await connect(_NOT_USED, raw, listener.getsockname())
            assert raw.getpeername() == listener.getsockname()
        assert waits == []
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]  # bound, never listening: refused
            with socket.socket() as raw:
                raw.setblocking(False)
                with pytest.raises(ConnectionRefusedError):
                    await connect(_NOT_USED, raw, ("127.0.0.1", port))
            assert waits == [raw]


def test_trio_sockets_take_the_direct_path() -> None:
    # If a Trio release moves the socket it wraps, dials would silently fall back to the slower
    # SocketType.connect (and to its EAGAIN handling): this test says so instead.
    with socket.socket() as raw:
        wrapped = trio.socket.from_stdlib_socket(raw)
        assert stdlib_socket_of(wrapped) is raw
        wrapped.detach()


def test_other_socket_classes_are_used_through_their_own_methods() -> None:
    # A subclass of Trio's socket (what a custom factory may return) can override connect or
    # setsockopt: calling the kernel directly would bypass it.
    with socket.socket() as raw:
        trio_class = type(trio.socket.from_stdlib_socket(raw))

        class Overriding(trio_class):  # type: ignore[misc,valid-type]
            pass

        sub = Overriding(raw)  # pyright: ignore[reportCallIssue]  # Trio's private constructor
        assert stdlib_socket_of(sub) is None
        sub.detach()


async def test_a_factory_socket_is_connected_through_its_own_method() -> None:
    class Factory:
        def __init__(self) -> None:
            self.connected: list[object] = []

        async def connect(self, address: object) -> None:
            self.connected.append(address)

    fake = Factory()
    await connect(fake, stdlib_socket_of(fake), ("127.0.0.1", 9))  # type: ignore[arg-type]
    assert fake.connected == [("127.0.0.1", 9)]


async def test_a_cancelled_wait_propagates_and_leaves_the_socket_to_the_caller() -> None:
    # Go issue 16523: a connection whose wait was interrupted is never handed out. Here the wait
    # is cancelled; Cancelled propagates unchanged and the dial (not connect) closes the socket.
    with _Scripted(errno.EINPROGRESS, [0]) as raw:
        with trio.CancelScope() as scope:
            scope.cancel()
            await connect(_NOT_USED, raw, ("127.0.0.1", 9))
            pytest.fail("not reached")  # pragma: no cover
        assert scope.cancelled_caught
        assert raw.so_error_reads == 0
        assert raw.fileno() != -1


class _PassThroughFactory(trio.abc.SocketFactory):
    def socket(self, family: int = -1, type: int = -1, proto: int = -1) -> trio.socket.SocketType:  # noqa: A002
        return trio.socket.from_stdlib_socket(socket.socket(family, type, proto))


async def test_sockets_are_trios_until_a_custom_factory_is_set() -> None:
    # What the resolver's paired first try relies on: with no custom factory every socket
    # trio.socket.socket makes is Trio's own (stdlib_socket_of takes it).
    assert sockets_are_trios()
    with trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        assert stdlib_socket_of(sock) is not None
    previous = trio.socket.set_custom_socket_factory(_PassThroughFactory())
    try:
        assert not sockets_are_trios()
    finally:
        trio.socket.set_custom_socket_factory(previous)
    assert sockets_are_trios()
