"""An httpcore network backend that dials with trionet (``pip install "trionet[httpx]"``).

httpcore (the engine under httpx) makes every connection through an
:class:`httpcore.AsyncNetworkBackend`. :class:`NetworkBackend` is one that dials with a
:class:`trionet.Dialer`, so HTTP clients get trionet's resolver, Happy Eyeballs, keep-alive and
Go's error texts::

    pool = httpcore.AsyncConnectionPool(network_backend=trionet.httpcore.NetworkBackend())

(with httpx, use :class:`trionet.httpx.AsyncHTTPTransport`, which builds that pool).

What each backend call maps to:

* ``connect_tcp(host, port, timeout, local_address, socket_options)`` →
  ``dialer.dial("tcp", "host:port")``. *timeout* becomes the dialer's timeout (the smaller of the
  two when the dialer has one); *local_address* restricts the family as in trio
  (``"0.0.0.0"``: IPv4 only, ``"::"``: IPv6 only, another IP: bound); *socket_options* are set
  before the connect (through the dialer's ``control`` hook, after the user's own ``control``)
  **and again once connected**, so they win over what trionet and Trio set after the connect
  (keep-alive, ``TCP_NODELAY``).
* ``connect_unix_socket(path, ...)`` → ``dialer.dial("unix", path)``, the same way.
* A dial that runs out of time raises :class:`httpcore.ConnectTimeout`; any other dial failure
  :class:`httpcore.ConnectError`. The message is trionet's Go text
  (``dial tcp 127.0.0.1:1: connect: connection refused``) and ``__cause__`` is the
  :class:`trionet.OpError`.
* ``start_tls`` runs a :class:`trio.SSLStream` handshake under the given timeout
  (``ConnectTimeout``/``ConnectError``, text ``tls: ...``); reads and writes map
  :class:`trio.TooSlowError`, :class:`trio.BrokenResourceError` and
  :class:`trio.ClosedResourceError` as httpcore's own trio backend does; ``sleep`` is
  :func:`trio.sleep`. An enclosing scope's cancellation passes through as :class:`trio.Cancelled`.
"""

from __future__ import annotations

try:
    import httpcore
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'trionet.httpcore needs httpcore: install the extra with pip install "trionet[httpx]"'
    ) from _exc

import dataclasses
import math
import socket as _stdlib_socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any, Final, cast, final

import trio

from ._address import join_host_port
from ._dial import Dialer
from ._handshake import handshake_error
from ._network import Control
from ._open_stream import local_plan
from ._sock import stdlib_socket_of

__all__ = ["NetworkBackend"]

#: httpcore's socket option forms: (level, option, int | bytes) or (level, option, None, length).
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

_AnyStream = trio.SocketStream | trio.SSLStream[Any]

# Per backend, the dialers derived for each (timeout, local address, options) shape: a client
# uses one or two shapes, so deriving (and validating) a Dialer per connection would be waste.
# Bounded, so varied timeouts cannot grow it without limit.
_MAX_DERIVED: Final = 64


def _text(exc: BaseException) -> str:
    """A message for an error whose own text may be empty (trio's Broken/Closed errors)."""
    text = str(exc)
    cause = exc.__cause__
    while not text and cause is not None:
        text, cause = str(cause), cause.__cause__
    return text or type(exc).__name__


def _set_options(target: trio.SocketStream | trio.socket.SocketType, options: Sequence[SocketOption]) -> None:
    for option in options:
        if len(option) == 4:
            target.setsockopt(option[0], option[1], None, option[3])
        else:
            target.setsockopt(option[0], option[1], option[2])


def _control_with(previous: Control | None, options: tuple[SocketOption, ...]) -> Control:
    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        if previous is not None:
            previous(network, address, sock)
        _set_options(sock, options)

    return control


def _innermost(stream: _AnyStream) -> trio.SocketStream:
    inner: object = stream
    while isinstance(inner, trio.SSLStream):
        inner = cast("trio.SSLStream[trio.abc.Stream]", inner).transport_stream
    assert isinstance(inner, trio.SocketStream)
    return inner


@final
class NetworkBackend(httpcore.AsyncNetworkBackend):
    """An :class:`httpcore.AsyncNetworkBackend` whose connections are trionet dials.

    Args:
        dialer: the :class:`trionet.Dialer` to dial with (its timeout, keep-alive, resolver,
            fast fallback, control...); None: ``trionet.Dialer()``, Go's defaults (keep-alive on
            at 15 s, Go's fast fallback after 300 ms, one address of a family after the
            other). For trio's stagger of every attempt, pass
            ``trionet.Dialer(happy_eyeballs=trionet.HappyEyeballs())``. The per-request timeout
            and local address given by httpcore are applied on top of it, per connection.
    """

    def __init__(self, dialer: Dialer | None = None) -> None:
        if dialer is not None and not isinstance(dialer, Dialer):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"dialer must be a trionet.Dialer or None, not {dialer!r}")
        #: The dialer every connection starts from.
        self.dialer: Final[Dialer] = dialer if dialer is not None else Dialer()
        self._derived: dict[tuple[object, ...], tuple[str, Dialer]] = {}

    def _plan(
        self, unix: bool, timeout: float | None, local_address: str | None, options: tuple[SocketOption, ...]
    ) -> tuple[str, Dialer]:
        key = (unix, timeout, local_address, options)
        plan = self._derived.get(key)
        if plan is not None:
            return plan
        d = self.dialer
        network = "unix" if unix else "tcp"
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = timeout if d.timeout is None else min(timeout, d.timeout)
        if local_address is not None and not unix:
            network, local = local_plan(local_address)
            changes["local_addr"] = local
        if options:
            changes["control"] = _control_with(d.control, options)
        plan = (network, dataclasses.replace(d, **changes) if changes else d)
        if len(self._derived) >= _MAX_DERIVED:
            self._derived.clear()
        self._derived[key] = plan
        return plan

    async def _connect(
        self,
        address: str,
        unix: bool,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[SocketOption] | None,
    ) -> httpcore.AsyncNetworkStream:
        options = tuple(socket_options) if socket_options else ()
        network, d = self._plan(unix, timeout, local_address, options)
        try:
            stream = await d.dial(network, address)
        except OSError as exc:
            if isinstance(exc, TimeoutError):  # trionet's timeouts are TimeoutErrors
                raise httpcore.ConnectTimeout(str(exc)) from exc
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(stream, trio.SocketStream)
        if options:
            try:
                _set_options(stream, options)
            except OSError as exc:
                stream.socket.close()
                raise httpcore.ConnectError(f"setsockopt: {exc}") from exc
        return _Stream(stream)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Dial ``host:port`` over TCP; see the module documentation for the mapping."""
        return await self._connect(join_host_port(host, port), False, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Dial the unix socket at *path*; see the module documentation for the mapping."""
        return await self._connect(path, True, timeout, None, socket_options)

    async def sleep(self, seconds: float) -> None:
        """:func:`trio.sleep`."""
        await trio.sleep(seconds)


@final
class _Stream(httpcore.AsyncNetworkStream):
    """A connected trio stream as httpcore sees it."""

    __slots__ = ("_sock", "_stream")

    def __init__(self, stream: _AnyStream) -> None:
        self._stream = stream
        # A plain (not TLS) connection: reads and writes first try the socket without waiting,
        # and only one that would block takes the timeout's cancel scope and Trio's waiting
        # path. A timeout cannot fire on an operation that does not wait, and the scope is most
        # of the cost of a small write (about 5 us of the 12 us of a scoped send_all and
        # receive_some pair here). None: a TLS stream, or a socket that is not Trio's own.
        self._sock = stdlib_socket_of(stream.socket) if isinstance(stream, trio.SocketStream) else None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        sock = self._sock
        if sock is not None:
            # Trio's own order for a non-blocking try: honour a pending cancellation first,
            # then try, then a checkpoint that cannot lose the data.
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                data = sock.recv(max_bytes)
            except BlockingIOError:
                return await self._wait_and_read(sock, max_bytes, timeout)
            except OSError as exc:
                raise httpcore.ReadError(_text(exc)) from exc
            await trio.lowlevel.cancel_shielded_checkpoint()
            return data
        try:
            if timeout is None:
                got = await self._stream.receive_some(max_bytes)
            else:
                with trio.fail_after(timeout):
                    got = await self._stream.receive_some(max_bytes)
        except trio.TooSlowError as exc:
            raise httpcore.ReadTimeout("read: i/o timeout") from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise httpcore.ReadError(_text(exc)) from exc
        # A SocketStream gives bytes; an SSLStream may give a bytearray, which httpcore's
        # interface does not promise to accept.
        return got if isinstance(got, bytes) else bytes(got)

    async def _wait_and_read(
        self, sock: _stdlib_socket.socket, max_bytes: int, timeout: float | None
    ) -> bytes:
        """Nothing to read yet: wait for the socket under the timeout (what Trio's
        ``receive_some`` does after its own try, without trying again first)."""
        try:
            with trio.fail_after(math.inf if timeout is None else timeout):
                while True:
                    await trio.lowlevel.wait_readable(sock)
                    try:
                        return sock.recv(max_bytes)
                    except BlockingIOError:  # woken without data (rare): wait again
                        continue
        except trio.TooSlowError as exc:
            raise httpcore.ReadTimeout("read: i/o timeout") from exc
        except (OSError, trio.ClosedResourceError) as exc:  # closed by another task while waiting
            raise httpcore.ReadError(_text(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        sock = self._sock
        if sock is not None:
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                sent = sock.send(buffer)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise httpcore.WriteError(_text(exc)) from exc
            if sent == len(buffer):
                await trio.lowlevel.cancel_shielded_checkpoint()
                return
            buffer = buffer[sent:]  # the socket's buffer is full: wait below, under the timeout
        try:
            if timeout is None:
                await self._stream.send_all(buffer)
                return
            with trio.fail_after(timeout):
                await self._stream.send_all(buffer)
        except trio.TooSlowError as exc:
            raise httpcore.WriteTimeout("write: i/o timeout") from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise httpcore.WriteError(_text(exc)) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        # https_compatible: HTTP servers commonly close without a close_notify (httpcore's
        # trio backend makes the same choice).
        try:
            ssl_stream = trio.SSLStream(
                self._stream, ssl_context, server_hostname=server_hostname, https_compatible=True
            )
        except (ValueError, TypeError, ssl.SSLError) as exc:  # a name TLS cannot carry
            _innermost(self._stream).socket.close()
            raise httpcore.ConnectError(
                f"tls: server name {server_hostname!r} cannot be used: {exc}"
            ) from exc
        deadline = math.inf if timeout is None else trio.current_time() + timeout
        try:
            with trio.CancelScope(deadline=deadline):
                await ssl_stream.do_handshake()
                return _Stream(ssl_stream)
            await trio.lowlevel.checkpoint_if_cancelled()  # an outer expiry at the same instant wins
        except trio.BrokenResourceError as exc:
            error = handshake_error(exc)
            _innermost(self._stream).socket.close()
            raise httpcore.ConnectError(str(error)) from error
        except BaseException:
            _innermost(self._stream).socket.close()
            raise
        _innermost(self._stream).socket.close()
        raise httpcore.ConnectTimeout("tls: handshake: i/o timeout")

    def get_extra_info(self, info: str) -> Any:
        """``ssl_object``, ``client_addr``, ``server_addr``, ``socket``, ``is_readable``, as
        httpcore's trio backend answers them; None for anything else."""
        if info == "ssl_object":
            if isinstance(self._stream, trio.SSLStream):
                # trio keeps the ssl.SSLObject private; httpcore's own backend reads it too.
                return getattr(self._stream, "_ssl_object", None)
            return None
        sock = _innermost(self._stream).socket
        if info == "client_addr":
            return sock.getsockname()
        if info == "server_addr":
            return sock.getpeername()
        if info == "socket":
            return sock
        if info == "is_readable":
            return sock.is_readable()
        return None
