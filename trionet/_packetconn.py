"""PacketConn: a message-oriented socket (UDP, raw IP, ``unixgram``, ``unixpacket``) with Go's rules.

Go has ``UDPConn``, ``IPConn`` and ``UnixConn``; they share ``Read``/``Write`` (connected) and
``ReadFrom``/``WriteTo`` (any), report ``LocalAddr``/``RemoteAddr`` as typed addresses, refuse
``WriteTo`` on a connected socket (``ErrWriteToConnected``), and strip the IPv4 header that a raw
IPv4 socket delivers to ``ReadFrom`` (``stripIPv4Header``). :class:`PacketConn` is that one type
for Trio, following Trio's resource conventions: after :meth:`~PacketConn.aclose` every operation
raises :class:`trio.ClosedResourceError`.
"""

from __future__ import annotations

import errno as _errno
import socket as _stdlib_socket
from typing import Final, NoReturn, cast, final

import trio

from ._address import Addr, IPAddr, PacketAddr, TCPAddr, UDPAddr, UnixAddr
from ._errors import AddrError, OpError, SyscallError, WriteToConnectedError, errno_error
from ._network import parse_network
from ._sockaddr import addr_from_sockaddr, sockaddr_for

__all__ = ["PacketConn"]

# Big enough for any UDP datagram (65507 bytes of payload) and any raw IPv4/IPv6 packet.
DEFAULT_MAX_SIZE: Final = 65536

# Errors after which a connected socket cannot be used any more: the peer of a unixpacket
# connection went away. Trio maps these to BrokenResourceError; a UDP ECONNREFUSED (an ICMP
# "port unreachable" for an earlier datagram) is not among them — the socket still works.
_BROKEN_ERRNOS: Final = frozenset({_errno.EPIPE, _errno.ECONNRESET})


def _shown(addr: Addr | None) -> Addr | None:
    """The address for an error message: an unnamed unix socket prints as nothing (None)."""
    return None if isinstance(addr, UnixAddr) and not addr.name else addr


def _strip_ipv4_header(data: bytes) -> bytes:
    """Go's ``stripIPv4Header``: a raw IPv4 socket delivers the IP header; ReadFrom drops it."""
    if len(data) < 20 or data[0] >> 4 != 4:
        return data
    header_len = (data[0] & 0x0F) << 2
    if header_len < 20 or header_len > len(data):
        return data
    return data[header_len:]


def _check_max_size(max_size: int) -> None:
    # As trio.SocketStream.receive_some does: a read of 0 bytes would still take the datagram.
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, not {max_size!r}")


@final
class PacketConn(trio.abc.AsyncResource):
    """A message-oriented connection: UDP, raw IP, ``unixgram`` or ``unixpacket``.

    Returned by :meth:`Dialer.dial` (connected: :meth:`send`/:meth:`receive`) and by
    :meth:`ListenConfig.listen_packet` (unconnected: :meth:`send_to`/:meth:`receive_from`), and by
    a ``unixpacket`` :class:`Listener`'s ``accept``. Message boundaries are kept: one
    :meth:`send` is one :meth:`receive`.

    As with any Trio socket, one task at a time may wait to receive, and one to send; a second
    waiter gets :class:`trio.BusyResourceError` (Trio's own per-socket conflict check). Messages
    are whole, so nothing can interleave: hand received messages to worker tasks instead.

    Errors: kernel errors are :class:`OpError` with Go's text (``read udp 127.0.0.1:5353:
    recvfrom: connection refused``); after :meth:`aclose`, :class:`trio.ClosedResourceError`;
    on a ``unixpacket`` connection whose peer is gone (``EPIPE``/``ECONNRESET``),
    :class:`trio.BrokenResourceError`.

    Args:
        socket: the trio socket, already bound and, for a dial, connected. The
            :class:`PacketConn` owns it from now on.
        network: the network it was made for (``"udp"``, ``"ip4:icmp"``, ``"unixgram"``).
        remote_addr: the peer a dial connected to. None: ask the kernel (``getpeername``), which
            cannot tell for raw IP sockets; give it for those.

    Attributes:
        socket: the underlying :class:`trio.socket.SocketType`, for options the API lacks.
        network: the network name given at creation.
    """

    __slots__ = ("_closed", "_local", "_net", "_remote", "network", "socket")

    def __init__(
        self, socket: trio.socket.SocketType, network: str, *, remote_addr: PacketAddr | None = None
    ) -> None:
        self.socket = socket
        self.network = network
        self._net = parse_network(network)
        self._closed = False
        # Read now, so it is never None: a PacketConn always wraps a live socket, whose
        # getsockname only fails once it is closed (an unbound unix end is UnixAddr("")).
        self._local = self._addr(socket.getsockname())
        self._remote = remote_addr
        if remote_addr is None:
            try:
                self._remote = self._addr(socket.getpeername())
            except OSError:
                pass  # ENOTCONN: not connected (a listen_packet socket), or a raw socket

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"local={self.local_addr!s}, remote={self._remote!s}"
        return f"<trionet.PacketConn {self.network} {state}>"

    def _addr(self, sockaddr: object) -> PacketAddr:
        # A PacketConn's network is never tcp*, so its addresses are never a TCPAddr.
        return cast("PacketAddr", addr_from_sockaddr(self._net, self.socket.family, sockaddr))

    @property
    def local_addr(self) -> PacketAddr:
        """The local address (:class:`UDPAddr`, :class:`IPAddr` or :class:`UnixAddr`), never None.

        Read from the kernel when the :class:`PacketConn` is made, so after :meth:`aclose` it
        still reports the address the socket had. An unbound (unnamed) unix end, such as a
        dialled ``unixgram`` socket without a local address, has ``UnixAddr("")``, which
        error messages leave out, as Go does.
        """
        return self._local

    @property
    def remote_addr(self) -> PacketAddr | None:
        """The connected peer's address, or None when the socket is not connected."""
        return self._remote

    def _check_open(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("this PacketConn was already closed")

    def _fail(self, op: str, addr: Addr | None, err: BaseException) -> OpError:
        """Go's OpError for this connection (an unnamed unix end is not shown, as in Go)."""
        return OpError(op, self.network, _shown(self.local_addr), _shown(addr), err)

    def _raise(self, op: str, syscall: str, addr: Addr | None, exc: OSError) -> NoReturn:
        """Raise a socket error: Trio's closed/broken conventions, else Go's OpError."""
        if exc.errno in (_errno.EBADF, _errno.ENOTSOCK):
            raise trio.ClosedResourceError("this PacketConn was already closed") from None
        err = self._fail(op, addr, SyscallError(syscall, exc))
        if exc.errno in _BROKEN_ERRNOS and self._remote is not None:
            raise trio.BrokenResourceError(str(err)) from err
        raise err from None

    async def send(self, data: bytes | bytearray | memoryview) -> int:
        """Send one message to the connected peer (Go's ``Write``); returns the bytes sent.

        Raises:
            OpError: e.g. ``write udp ...: write: destination address required`` when the
                socket is not connected, or ``message too long``.
        """
        self._check_open()
        try:
            return await self.socket.send(data)
        except OSError as exc:
            self._raise("write", "write", self._remote, exc)

    async def receive(self, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
        """Receive one message (Go's ``Read``), at most *max_size* bytes (the rest is dropped).

        Unlike :meth:`receive_from`, a raw IPv4 socket's message keeps its IP header (Go's
        ``Read`` does not strip it either). ``b""`` is an empty datagram, or on ``unixpacket``
        the end of the connection.

        Raises:
            ValueError: *max_size* below 1 (a 0-byte read would consume a message and lose it).
        """
        _check_max_size(max_size)
        self._check_open()
        try:
            return await self.socket.recv(max_size)
        except OSError as exc:
            self._raise("read", "read", self._remote, exc)

    async def send_to(self, data: bytes | bytearray | memoryview, addr: PacketAddr) -> int:
        """Send one message to *addr* (Go's ``WriteTo``); returns the bytes sent.

        *addr* is a :class:`UDPAddr`, :class:`IPAddr` or :class:`UnixAddr` matching the network.

        Raises:
            OpError: on a connected socket, Go's ``use of WriteTo with pre-connected
                connection``; an address of the wrong type, ``invalid argument``; kernel errors.
        """
        self._check_open()
        if not isinstance(addr, TCPAddr | UDPAddr | IPAddr | UnixAddr):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"addr must be a UDPAddr, IPAddr or UnixAddr, not {addr!r}")
        if self._remote is not None:
            raise self._fail("write", addr, WriteToConnectedError())
        try:
            sockaddr = self._sockaddr(addr)
        except AddrError as exc:
            raise self._fail("write", addr, exc) from None
        try:
            return await self.socket.sendto(data, sockaddr)
        except OSError as exc:
            self._raise("write", "sendto", addr, exc)

    def _sockaddr(self, addr: Addr) -> str | bytes | tuple[str, int] | tuple[str, int, int, int]:
        kind = self._net.kind
        if isinstance(addr, UnixAddr) and self._net.is_unix:
            if addr.network != self._net.afnet:  # Go's UnixConn.writeTo: another socket type
                raise self._fail("write", addr, errno_error(_errno.EAFNOSUPPORT))
            return addr.sockaddr()
        if (isinstance(addr, UDPAddr) and kind == "udp") or (isinstance(addr, IPAddr) and kind == "ip"):
            port = addr.port if isinstance(addr, UDPAddr) else 0
            return sockaddr_for(self.socket.family, addr.ip, port, addr.zone)
        # Go: WriteTo with another address type is EINVAL.
        raise self._fail("write", addr, errno_error(_errno.EINVAL))

    async def receive_from(self, max_size: int = DEFAULT_MAX_SIZE) -> tuple[bytes, PacketAddr]:
        """Receive one message and its sender (Go's ``ReadFrom``): ``(data, addr)``.

        *addr* is a :class:`UDPAddr`, :class:`IPAddr` or :class:`UnixAddr` (``UnixAddr("")`` for
        an unbound unix sender). On a raw IPv4 socket the IP header is removed, as Go does.

        Raises:
            ValueError: *max_size* below 1, as for :meth:`receive`.
        """
        _check_max_size(max_size)
        self._check_open()
        try:
            data, sockaddr = await self.socket.recvfrom(max_size)
        except OSError as exc:
            self._raise("read", "recvfrom", self._remote, exc)  # Go's ReadFrom names raddr
        if self._net.kind == "ip" and self.socket.family == _stdlib_socket.AF_INET:
            data = _strip_ipv4_header(data)
        if sockaddr is None:  # unixpacket and connected unix sockets report no sender
            return data, self._remote or UnixAddr("", self._net.afnet)
        return data, self._addr(sockaddr)

    async def aclose(self) -> None:
        """Close the socket. Idempotent, and always a checkpoint (Trio's ``aclose`` contract)."""
        if not self._closed:
            self._closed = True
            self.socket.close()
        await trio.lowlevel.checkpoint()
