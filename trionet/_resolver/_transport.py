"""The DNS transport: one round trip with one server over UDP or TCP (Go's ``dnsclient_unix.go``:
``dnsPacketRoundTrip``, ``dnsStreamRoundTrip`` and the ``Dial`` they use).

What may live here: :class:`Server` (a parsed ``nameserver``), the :class:`Exchange` protocol
that the pure path sends every query through, and :class:`SocketExchange`, its implementation on
real sockets, with Go's texts for socket failures. Bytes in, bytes out: building and checking
messages is :mod:`trionet._resolver._codec`'s job, choosing servers, transports and timeouts
:mod:`trionet._resolver._client`'s. Tests pass their own :class:`Exchange` to script a server's
replies without sockets.

* A fresh socket per exchange, ``connect``-ed to the server: the kernel picks a random source
  port and drops datagrams from any other address or port. So A and AAAA never share a socket,
  which is what ``single-request-reopen`` asks for.
* A UDP datagram is handed to the caller's *accept*; one it refuses (garbage, a wrong ID, a wrong
  question) is ignored and we keep waiting, as Go's ``dnsPacketRoundTrip`` does.
* TCP uses RFC 7766 framing (a two-byte length before each message).
* Nothing here keeps time: the caller's cancel scope bounds each round trip.
"""

from __future__ import annotations

import functools
import socket as _stdlib_socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

import trio

from .._address import TCPAddr, UDPAddr, ip_text, join_host_port, parse_ip, parse_port, split_host_port
from .._errors import AddrError, OpError, SyscallError
from .._sock import sockets_are_trios
from .._sockaddr import sockaddr_for
from ._codec import ExchangeError

__all__ = ["Exchange", "Server", "SocketExchange", "UDPFlight", "parse_server", "send_udp"]

_M = TypeVar("_M")

_RECV_SIZE: Final = 65535  # read whole datagrams; an oversized answer still parses
_MAX_SERVER_TEXT: Final = 128  # longer than "[IPv6%zone]:port" can be: refused before the cache


@dataclass(frozen=True)
class Server:
    """A nameserver: ``hostport`` is Go's ``"IP:53"`` text used in error messages."""

    hostport: str
    family: int
    sockaddr: tuple[str, int] | tuple[str, int, int, int]


@functools.lru_cache(maxsize=64)  # resolv.conf's servers are parsed again for every query
def _parse_server(text: str) -> Server:
    parsed = parse_ip(text)
    port = 53
    if parsed is None:
        try:
            host, service = split_host_port(text)
        except AddrError:
            host, service = "", ""
        port, needs_lookup = parse_port(service)
        parsed = parse_ip(host)
        if parsed is None or needs_lookup or not 0 < port <= 65535:
            raise ValueError(f"nameserver must be IP or IP:port, not {text!r}")
    ip, zone = parsed
    family = _stdlib_socket.AF_INET6 if ip.version == 6 else _stdlib_socket.AF_INET
    return Server(join_host_port(ip_text(ip, zone), port), family, sockaddr_for(family, ip, port, zone))


def parse_server(text: str) -> Server:
    """``"127.0.0.1"``, ``"127.0.0.1:5353"``, ``"::1"`` or ``"[::1]:5353"`` as a :class:`Server`.

    Raises:
        ValueError: not an IP literal with an optional port.
    """
    if len(text) > _MAX_SERVER_TEXT:
        raise ValueError(f"nameserver must be IP or IP:port, not {text[:_MAX_SERVER_TEXT]!r}...")
    return _parse_server(text)


class Exchange(Protocol):
    """One round trip with one server, the seam between the pure resolver and the network.

    Both methods raise :class:`~trionet._resolver._codec.ExchangeError` (Go's text,
    ``temporary`` set) when the socket cannot be made, connected, written or read; they never
    time out by themselves (the caller's cancel scope does), and a cancelled call leaves nothing
    open.
    """

    async def udp(self, server: Server, query: bytes, accept: Callable[[bytes], _M | None], /) -> _M:
        """Send the datagram *query* to *server*, then return ``accept(datagram)`` for the first
        reply it does not refuse (returns None for); exceptions from *accept* propagate."""
        ...

    async def tcp(self, server: Server, query: bytes, /) -> bytes:
        """Send *query* framed on a new TCP connection to *server*; return the one reply read
        back (unframed).

        Raises:
            ExchangeError: also ``EOF`` / ``unexpected EOF`` when the server closes early.
        """
        ...


def _endpoint(net: str, host: str, port: int) -> TCPAddr | UDPAddr:
    ip = host.partition("%")[0]  # getsockname may append a scope to link-local addresses
    return TCPAddr(ip, port) if net == "tcp" else UDPAddr(ip, port)


def _dial_error(net: str, server: Server, syscall: str, exc: OSError) -> ExchangeError:
    """Making the socket or connecting it failed: ``dial udp 127.0.0.1:53: socket: too many
    open files``, ``dial tcp 127.0.0.1:53: connect: connection refused`` (Go's resolver dials
    with a zero ``Dialer``, so no source). Temporary, as in Go's ``tryOneName``: the next
    server is tried."""
    remote = _endpoint(net, server.sockaddr[0], server.sockaddr[1])
    return ExchangeError(str(OpError("dial", net, None, remote, SyscallError(syscall, exc))), temporary=True)


def _socket_error(
    op: str, net: str, sock: trio.socket.SocketType | _stdlib_socket.socket, server: Server, exc: OSError
) -> ExchangeError:
    """A failure on a connected socket as Go prints it, temporary as in Go's ``tryOneName``:
    ``read udp 127.0.0.1:40000->127.0.0.1:53: read: connection refused`` and ``write ...:
    write: ...`` (a connection's errors name both ends).
    """
    remote = _endpoint(net, server.sockaddr[0], server.sockaddr[1])
    try:
        name = sock.getsockname()
        local: TCPAddr | UDPAddr | None = _endpoint(net, str(name[0]), int(name[1]))
    except OSError:
        local = None
    return ExchangeError(str(OpError(op, net, local, remote, SyscallError(op, exc))), temporary=True)


def _stream_error(exc: OSError | trio.BrokenResourceError) -> OSError:
    """The OSError behind a stream failure (trio wraps it in BrokenResourceError)."""
    if isinstance(exc, OSError):
        return exc
    cause = exc.__cause__
    return cause if isinstance(cause, OSError) else OSError(str(exc))


async def _read_exactly(stream: trio.SocketStream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = await stream.receive_some(n - len(buf))
        if not chunk:
            raise ExchangeError("EOF" if not buf else "unexpected EOF")
        buf += chunk
    return bytes(buf)


class UDPFlight(Generic[_M]):
    """One UDP question sent on a standard-library socket made for it, its reply not read yet:
    :meth:`SocketExchange.udp` cut in two, so that one task can have several questions in flight
    (the client's paired first try of A and AAAA) and read each reply in turn.

    Made by :func:`send_udp`; :meth:`close` it. Time is the caller's: :meth:`reply` waits until
    a reply is accepted, under the caller's cancel scope.
    """

    __slots__ = ("_accept", "_raw", "_server")

    def __init__(
        self, raw: _stdlib_socket.socket, server: Server, accept: Callable[[bytes], _M | None]
    ) -> None:
        self._raw, self._server, self._accept = raw, server, accept

    def close(self) -> None:
        # As trio's own socket close: tell Trio first, so that nothing waits on a closed fd.
        if self._raw.fileno() != -1:
            trio.lowlevel.notify_closing(self._raw)
            self._raw.close()

    def _read(self) -> _M | None:
        """One datagram, if there is one (BlockingIOError if not), accepted or None."""
        try:
            data = self._raw.recv(_RECV_SIZE)
        except BlockingIOError:
            raise
        except OSError as exc:  # e.g. ICMP port unreachable: ECONNREFUSED
            raise _socket_error("read", "udp", self._raw, self._server, exc) from None
        return self._accept(data)  # None: not ours (or garbage): keep waiting, do not trust it

    async def reply(self) -> _M:
        """The first datagram *accept* takes (it may raise Truncated or ExchangeError)."""
        while True:
            await trio.lowlevel.wait_readable(self._raw)
            try:
                reply = self._read()
            except BlockingIOError:
                continue
            if reply is not None:
                return reply

    def reply_now(self) -> _M | None:
        """What has arrived already, without waiting: the first accepted reply, or None."""
        while True:
            try:
                reply = self._read()
            except BlockingIOError:
                return None
            if reply is not None:
                return reply


def _udp_socket(server: Server) -> trio.socket.SocketType:
    try:
        return trio.socket.socket(server.family, _stdlib_socket.SOCK_DGRAM)
    except OSError as exc:  # e.g. EMFILE, or no IPv6 for the default [::1]:53
        raise _dial_error("udp", server, "socket", exc) from None


#: Linux makes the socket non-blocking in the socket() call itself: no setblocking() call after.
_SOCK_NONBLOCK: Final = getattr(_stdlib_socket, "SOCK_NONBLOCK", 0)


def send_udp(server: Server, query: bytes, accept: Callable[[bytes], _M | None]) -> UDPFlight[_M] | None:
    """Make a UDP socket, connect it to *server* and send *query*, without waiting and without a
    checkpoint: the flight, or None when a custom socket factory is set in this run (then the
    resolver's sockets are the factory's, which :meth:`SocketExchange.udp` serves through their
    own methods).

    With no factory, :func:`trio.socket.socket` would make exactly this standard-library socket
    and wrap it; the flight uses it unwrapped (Trio is told before it is closed, as Trio's own
    ``close`` does). ``connect`` and ``send`` on UDP never block, so the only wait (and
    checkpoint) of the exchange is for the reply, where ``trio.socket``'s methods checkpoint on
    each call (docs/benchmarks.rst).

    Raises:
        ExchangeError: the socket cannot be made, connected or written (Go's texts).
    """
    if not sockets_are_trios():
        return None
    try:
        raw = _stdlib_socket.socket(server.family, _stdlib_socket.SOCK_DGRAM | _SOCK_NONBLOCK)
    except OSError as exc:  # e.g. EMFILE, or no IPv6 for the default [::1]:53
        raise _dial_error("udp", server, "socket", exc) from None
    try:
        if not _SOCK_NONBLOCK:  # pragma: no cover - not Linux
            raw.setblocking(False)
        try:
            raw.connect(server.sockaddr)  # as in SocketExchange.udp: binds a random port, sends nothing
        except OSError as exc:
            raise _dial_error("udp", server, "connect", exc) from None
        try:
            raw.send(query)
        except OSError as exc:
            raise _socket_error("write", "udp", raw, server, exc) from None
    except BaseException:
        raw.close()  # never waited on: nothing of Trio's to tell
        raise
    return UDPFlight(raw, server, accept)


class SocketExchange:
    """:class:`Exchange` on real sockets made by :func:`trio.socket.socket` (so Trio's
    :func:`~trio.socket.set_custom_socket_factory` hook applies to the resolver's sockets too).
    Stateless: one instance serves every resolver."""

    async def udp(self, server: Server, query: bytes, accept: Callable[[bytes], _M | None], /) -> _M:
        flight = send_udp(server, query, accept)
        if flight is not None:
            try:
                return await flight.reply()
            finally:
                flight.close()
        sock = _udp_socket(server)
        with sock:
            try:
                # connect() sends nothing. It binds a fresh random ephemeral port, and from now
                # on the kernel delivers to this socket only datagrams whose source is the
                # server's address *and* port: a reply from anywhere else never reaches us (Go's
                # DialContext("udp", server) gives the same filter). *accept* checks ID and
                # question.
                await sock.connect(server.sockaddr)
            except OSError as exc:
                raise _dial_error("udp", server, "connect", exc) from None
            try:
                await sock.send(query)
            except OSError as exc:
                raise _socket_error("write", "udp", sock, server, exc) from None
            while True:
                try:
                    data = await sock.recv(_RECV_SIZE)
                except OSError as exc:  # e.g. ICMP port unreachable: ECONNREFUSED
                    raise _socket_error("read", "udp", sock, server, exc) from None
                reply = accept(data)
                if reply is not None:
                    return reply
                # not ours (or garbage): keep waiting, do not trust it

    async def tcp(self, server: Server, query: bytes, /) -> bytes:
        try:
            sock = trio.socket.socket(server.family, _stdlib_socket.SOCK_STREAM)
        except OSError as exc:
            raise _dial_error("tcp", server, "socket", exc) from None
        with sock:
            try:
                await sock.connect(server.sockaddr)
            except OSError as exc:
                raise _dial_error("tcp", server, "connect", exc) from None
            stream = trio.SocketStream(sock)
            try:
                await stream.send_all(len(query).to_bytes(2, "big") + query)
            except (OSError, trio.BrokenResourceError) as exc:
                raise _socket_error("write", "tcp", sock, server, _stream_error(exc)) from None
            try:
                length = int.from_bytes(await _read_exactly(stream, 2), "big")
                return await _read_exactly(stream, length)
            except (OSError, trio.BrokenResourceError) as exc:
                raise _socket_error("read", "tcp", sock, server, _stream_error(exc)) from None
