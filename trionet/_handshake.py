"""A TLS client handshake on a connected stream, with its failures as trionet errors.

Shared by :mod:`trionet.tls` (Go's ``tls.Dialer``) and the httpcore backend's ``start_tls``, so
both report a failed handshake with the same text: ``tls: failed to verify certificate: ...``.

Why a wrapper error rather than the :class:`ssl.SSLError` itself inside :class:`OpError`: an
``SSLError`` carries OpenSSL's error *category* in ``errno`` (1 for ``SSL_ERROR_SSL``), and an
:class:`OpError` turns its wrapped ``errno`` into a builtin subclass, so a failed certificate
check would become a :class:`PermissionError` (``EPERM`` is 1 too). The wrapper keeps the
``SSLError`` as its ``__cause__`` (and in ``.ssl_error``) and a real errno only when the
transport failed (a reset during the handshake stays a :class:`ConnectionResetError`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import socket as _stdlib_socket
import ssl
from typing import Final, Literal, cast

import trio

from ._address import TCPAddr, UnixAddr
from ._deadline import own_deadline
from ._dial import Dialer
from ._errors import OpError, io_timeout

__all__ = [
    "HandshakeError",
    "client_handshake",
    "default_client_context",
    "dial_tls",
    "handshake_error",
    "peer_addr",
]

_DEFAULT_NET_DIALER: Final = Dialer()


@functools.cache
def default_client_context() -> ssl.SSLContext:
    """The context used when none is given: Go's ``defaultConfig()``, the system's CAs with
    host names checked. Made once: loading the CA store costs milliseconds, and Go shares its
    default config the same way. As in trio, an unexpected EOF stays an error (OpenSSL 3 can
    be told to ignore it, which would hide a truncated stream)."""
    context = ssl.create_default_context()
    if hasattr(ssl, "OP_IGNORE_UNEXPECTED_EOF"):
        context.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return context


async def dial_tls(
    net_dialer: Dialer | None,
    config: ssl.SSLContext | None,
    network: str,
    address: str,
    name: str | None,
    https_compatible: bool,
) -> trio.SSLStream[trio.SocketStream]:
    """Dial with *net_dialer* (None: ``Dialer()``), then the TLS handshake for server *name*,
    both before one deadline fixed now from the dialer's timeout and deadline (Go's
    ``tls.DialWithDialer``, whose context covers both). *network* is a stream network.

    Raises:
        ValueError: no *name* while *config* checks host names, or a *name* that TLS cannot
            carry (too long, a NUL byte).
        OpError: see :func:`client_handshake` and :meth:`trionet.Dialer.dial`.
    """
    context = config or default_client_context()
    if not name and context.check_hostname:
        raise ValueError(
            f"no server name to check for {address!r}: pass server_hostname, or a config "
            "with check_hostname=False"
        )
    d = net_dialer or _DEFAULT_NET_DIALER
    deadline = math.inf
    if d.timeout is not None or d.deadline is not None:
        deadline = own_deadline(trio.current_time(), d.timeout, d.deadline)
        d = dataclasses.replace(d, timeout=None, deadline=deadline)
    stream = await d.dial(cast(Literal["tcp", "tcp4", "tcp6", "unix"], network), address)
    try:
        ssl_stream = trio.SSLStream(
            stream, context, server_hostname=name or None, https_compatible=https_compatible
        )
    except (ValueError, TypeError, ssl.SSLError) as exc:
        # OpenSSL and the ssl module refuse some names only here (too long, a NUL byte):
        # an argument error, reported as one, with the connection closed.
        stream.socket.close()
        raise ValueError(f"server name {name!r} cannot be used for TLS: {exc}") from exc
    except BaseException:
        stream.socket.close()
        raise
    await client_handshake(ssl_stream, deadline, network, address)
    return ssl_stream


# OpenSSL's reason codes read like C constants (WRONG_VERSION_NUMBER); Go's crypto/tls prints
# plain words for the few a user meets most, so we do the same for those.
_REASONS: Final = {
    "WRONG_VERSION_NUMBER": "first record does not look like a TLS handshake",
    "TLSV1_ALERT_UNKNOWN_CA": "remote error: tls: unknown certificate authority",
    "TLSV1_ALERT_NO_APPLICATION_PROTOCOL": "remote error: tls: no application protocol",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "remote error: tls: handshake failure",
    "TLSV1_ALERT_PROTOCOL_VERSION": "remote error: tls: protocol version not supported",
}


class HandshakeError(OSError):
    """A failed TLS handshake; prints ``tls: REASON``.

    ``ssl_error`` is the :class:`ssl.SSLError` (or :class:`ssl.CertificateError`) when TLS
    itself failed, None when the transport did (then ``errno`` is the transport's).
    """

    timeout = False

    def __init__(self, reason: str, ssl_error: BaseException | None, errno: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ssl_error = ssl_error
        self.errno = errno

    def __str__(self) -> str:
        return self.reason


def handshake_error(exc: trio.BrokenResourceError) -> HandshakeError:
    """What a :class:`trio.BrokenResourceError` from ``SSLStream.do_handshake`` means."""
    cause = exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return _with_cause(
            HandshakeError(f"tls: failed to verify certificate: {cause.verify_message}", cause), cause
        )
    if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        # The peer closed the connection in the middle of the handshake (Go: EOF).
        return _with_cause(HandshakeError("tls: handshake: EOF", cause), cause)
    if isinstance(cause, ssl.SSLError):
        reason = cause.reason or ""
        text = _REASONS.get(reason) or (reason.lower().replace("_", " ") if reason else str(cause))
        return _with_cause(HandshakeError(f"tls: {text}", cause), cause)
    # The transport broke (a reset, a closed socket): keep its errno, Go-style text.
    transport = cause.__cause__ if isinstance(cause, trio.BrokenResourceError) else cause
    if isinstance(transport, OSError) and transport.errno is not None:
        text = transport.strerror or str(transport)
        return _with_cause(
            HandshakeError(f"tls: handshake: {text[:1].lower()}{text[1:]}", None, transport.errno), transport
        )
    return _with_cause(
        HandshakeError(f"tls: handshake: {cause if cause is not None else 'broken connection'}", None), exc
    )


def _with_cause(error: HandshakeError, cause: BaseException) -> HandshakeError:
    error.__cause__ = cause
    return error


def peer_addr(stream: trio.SocketStream, fallback: str) -> TCPAddr | UnixAddr | str:
    """The connected peer as Go prints it in an :class:`OpError`; *fallback* if unknown."""
    sock = stream.socket
    try:
        peer: object = sock.getpeername()
    except OSError:
        return fallback
    if sock.family == _stdlib_socket.AF_UNIX:
        return UnixAddr(peer.decode() if isinstance(peer, bytes) else str(peer), "unix")
    if isinstance(peer, tuple) and len(peer) >= 2:  # pyright: ignore[reportUnknownArgumentType]
        return TCPAddr(str(peer[0]), int(peer[1]))  # pyright: ignore[reportUnknownArgumentType]
    return fallback  # pragma: no cover - a socket family trionet does not dial


async def client_handshake(
    ssl_stream: trio.SSLStream[trio.SocketStream], deadline: float, network: str, address: str
) -> None:
    """Run the handshake of *ssl_stream* until *deadline* (``math.inf``: none).

    On any failure the TCP connection is closed before the error leaves, so no descriptor is
    left behind. An enclosing scope's cancellation propagates as a bare :class:`trio.Cancelled`.

    Raises:
        OpError: ``dial NET ADDR: tls: ...`` for a failed handshake (``err`` is a
            :class:`HandshakeError` whose ``__cause__`` is the :class:`ssl.SSLError`), or
            ``dial NET ADDR: i/o timeout`` (a :class:`TimeoutError`) when *deadline* passed.
    """
    transport = ssl_stream.transport_stream
    try:
        if deadline == math.inf:
            await ssl_stream.do_handshake()
            return
        with trio.CancelScope(deadline=deadline):
            await ssl_stream.do_handshake()
            return
        # Our deadline expired; if an enclosing scope expired at the same instant, its
        # cancellation wins (outer cancellation is never turned into an error).
        await trio.lowlevel.checkpoint_if_cancelled()
    except trio.BrokenResourceError as exc:
        error = OpError("dial", network, None, peer_addr(transport, address), handshake_error(exc))
        transport.socket.close()
        raise error from None
    except BaseException:
        # Closed synchronously: an async close here could itself be cancelled.
        transport.socket.close()
        raise
    error = OpError("dial", network, None, peer_addr(transport, address), io_timeout())
    transport.socket.close()
    raise error
