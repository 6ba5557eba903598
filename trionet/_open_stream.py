"""``open_tcp_stream`` and ``open_ssl_over_tcp_stream``: trio's signatures, trionet's dialer.

Libraries written for Trio (trio-websocket, httpcore's trio backend, anything that takes an
"open a stream" callable) call ``trio.open_tcp_stream(host, port, happy_eyeballs_delay=...)``.
These two functions take exactly those arguments with trio's meanings, and dial with a
:class:`trionet.Dialer`, so such code gets trionet's resolver, keep-alive and typed Go errors by
changing one import.

What stays trio's: ``host`` is ``str`` or ``bytes`` (else :class:`ValueError`), ``port`` an
``int`` (else :class:`TypeError`); ``happy_eyeballs_delay`` staggers *all* attempts (RFC 8305's
Connection Attempt Delay, :class:`trionet.HappyEyeballs`), ``None`` meaning the default (as
trio's code does, whatever its docstring says); ``local_address`` is an
IP whose family restricts the dial (``"0.0.0.0"`` IPv4 only, ``"::"`` IPv6 only). What is
trionet's: the errors (:class:`trionet.OpError`, an :class:`OSError` with Go's text), a bare
:class:`trio.Cancelled` on outer cancellation (trio raises an exception group), TCP keep-alive
on by default (Go's 15 s), and, for ``open_ssl_over_tcp_stream``, a handshake done before the
stream is returned, under the same deadline as the connect.
"""

from __future__ import annotations

import dataclasses
import functools
import ssl
from typing import Final, Literal

import trio

from ._address import TCPAddr, join_host_port, parse_ip
from ._dial import Dialer
from ._handshake import dial_tls
from ._rfc8305 import HappyEyeballs

__all__ = ["DEFAULT_DELAY", "TCPNetwork", "local_plan", "open_ssl_over_tcp_stream", "open_tcp_stream"]

#: trio's ``DEFAULT_DELAY``: RFC 8305's recommended Connection Attempt Delay, 250 ms.
DEFAULT_DELAY: Final = 0.250

_BASE_DIALER: Final = Dialer()

#: What a dial from these functions runs on: ``tcp``, or one family when local_address says so.
TCPNetwork = Literal["tcp", "tcp4", "tcp6"]


def _check_host_port(host: object, port: object) -> str:
    """trio's argument checks, with its exception types and messages; the host as text."""
    if not isinstance(host, str | bytes):
        raise ValueError(f"host must be str or bytes, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be int, not {port!r}")
    # bytes hosts are already IDNA-encoded (trio hands them to getaddrinfo as they are).
    return host.decode("ascii") if isinstance(host, bytes) else host


def _check_delay(happy_eyeballs_delay: float | None) -> float:
    if happy_eyeballs_delay is None:
        return DEFAULT_DELAY  # trio's code (not its docstring): None means the default
    if isinstance(happy_eyeballs_delay, bool) or not isinstance(happy_eyeballs_delay, int | float):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(
            f"happy_eyeballs_delay must be a number of seconds or None, not {happy_eyeballs_delay!r}"
        )
    if not happy_eyeballs_delay >= 0:  # negative or NaN (trio's move_on_after refuses both)
        raise ValueError(f"happy_eyeballs_delay must be >= 0 seconds or None, not {happy_eyeballs_delay!r}")
    return float(happy_eyeballs_delay)


@functools.lru_cache(maxsize=64)
def local_plan(local_address: str) -> tuple[TCPNetwork, TCPAddr | None]:
    """The network a ``local_address`` restricts the dial to, and what to bind (None: nothing,
    for a wildcard: binding 0.0.0.0 or :: with port 0 is what the kernel does anyway)."""
    parsed = parse_ip(local_address)
    if parsed is None:
        raise ValueError(f"local_address must be an IP address string or None, not {local_address!r}")
    ip, zone = parsed
    network: TCPNetwork = "tcp4" if ip.version == 4 else "tcp6"
    return network, (None if ip.is_unspecified else TCPAddr(ip, 0, zone))


def _strategy(base: Dialer, delay: float) -> HappyEyeballs:
    """trio's stagger as RFC 8305's: every attempt starts *delay* after the previous one
    started (or at once when it failed), whatever the family. A dialer that brings its own
    strategy keeps its other settings (resolution delay, adaptive delay, HTTPS records)."""
    if base.happy_eyeballs is None:
        return HappyEyeballs(attempt_delay=delay)
    return dataclasses.replace(base.happy_eyeballs, attempt_delay=delay)


@functools.lru_cache(maxsize=64)
def _plan(dialer: Dialer | None, delay: float, local_address: str | None) -> tuple[TCPNetwork, Dialer]:
    """The network and the dialer for one call shape; cached, since the shape rarely changes
    and building a Dialer validates every field."""
    base = dialer or _BASE_DIALER
    strategy = _strategy(base, delay)
    if local_address is None:
        return "tcp", dataclasses.replace(base, happy_eyeballs=strategy)
    network, local = local_plan(local_address)
    # The RFC 8305 strategy also staggers tcp4/tcp6 dials: restricting the family keeps it.
    return network, dataclasses.replace(base, happy_eyeballs=strategy, local_addr=local)


def _dial_plan(
    host: object,
    port: object,
    happy_eyeballs_delay: float | None,
    local_address: str | None,
    dialer: Dialer | None,
) -> tuple[TCPNetwork, str, Dialer, str]:
    text = _check_host_port(host, port)
    delay = _check_delay(happy_eyeballs_delay)
    if local_address is not None and not isinstance(local_address, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"local_address must be an IP address string or None, not {local_address!r}")
    if dialer is not None and not isinstance(dialer, Dialer):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"dialer must be a trionet.Dialer or None, not {dialer!r}")
    network, d = _plan(dialer, delay, local_address)
    assert isinstance(port, int)  # checked by _check_host_port
    return network, join_host_port(text, port), d, text


async def open_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    happy_eyeballs_delay: float | None = DEFAULT_DELAY,
    local_address: str | None = None,
    dialer: Dialer | None = None,
) -> trio.SocketStream:
    """Connect to *host* and *port* over TCP: :func:`trio.open_tcp_stream`, dialed by trionet.

    Args:
        host: a host name or an IP literal, as :class:`str` or (IDNA-encoded) :class:`bytes`.
            An empty host dials the local system (Go's rule; trio's getaddrinfo refuses it).
        port: the port number.
        happy_eyeballs_delay: seconds to wait for an attempt before starting the next address
            in parallel, whatever its family: the dial uses the RFC 8305 strategy,
            ``Dialer(happy_eyeballs=HappyEyeballs(attempt_delay=happy_eyeballs_delay))``.
            None: the default, 0.25 s (trio's behaviour). Zero: all attempts at once.
            ``math.inf``: one attempt at a time. Negative: :class:`ValueError`.
        local_address: the local IP to connect from, or None to let the system pick. Its
            family restricts the dial, as in trio: ``"0.0.0.0"`` connects over IPv4 only, ``"::"``
            over IPv6 only, without binding a specific address. Host names are not accepted.
        dialer: the :class:`trionet.Dialer` whose options (timeout, keep-alive, resolver,
            control, ...) the dial uses; None: ``trionet.Dialer()``. Its ``happy_eyeballs``
            strategy gets ``attempt_delay=happy_eyeballs_delay`` (a dialer without one gets
            ``HappyEyeballs(attempt_delay=happy_eyeballs_delay)``; its ``fallback_delay`` is
            then unused); *local_address*, when given, replaces its local address.

    Returns:
        The connected :class:`trio.SocketStream`.

    Raises:
        OpError: the connection failed, with Go's text (``dial tcp 127.0.0.1:1: connect:
            connection refused``); an :class:`OSError`, as trio promises.
        ValueError: *host* is not str/bytes, a negative delay, or a *local_address* that is not
            an IP.
        TypeError: *port* is not an int.
        trio.Cancelled: an enclosing scope was cancelled (bare, never in an exception group).
    """
    network, address, d, _ = _dial_plan(host, port, happy_eyeballs_delay, local_address, dialer)
    return await d.dial(network, address)


def _default_ssl_context() -> ssl.SSLContext:
    # trio's open_ssl_over_tcp_stream: a fresh default context, where an unexpected EOF is
    # an error (OpenSSL 3 may ignore it otherwise, which would hide truncation attacks).
    context = ssl.create_default_context()
    if hasattr(ssl, "OP_IGNORE_UNEXPECTED_EOF"):
        context.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return context


async def open_ssl_over_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    https_compatible: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    happy_eyeballs_delay: float | None = DEFAULT_DELAY,
    dialer: Dialer | None = None,
) -> trio.SSLStream[trio.SocketStream]:
    """Make a TLS connection to *host* and *port*: :func:`trio.open_ssl_over_tcp_stream`, on
    trionet's dialer.

    The TCP part is :func:`open_tcp_stream` (same *host*, *port*, *happy_eyeballs_delay* and
    *dialer* meanings). *host* is also the server name checked against the certificate.

    Args:
        https_compatible: passed to :class:`trio.SSLStream`: True for HTTPS-style peers that
            close without a TLS ``close_notify``.
        ssl_context: the client context; None: :func:`ssl.create_default_context` (a fresh
            one per call, as trio does).

    Unlike trio, the handshake is done before the stream is returned, under the dialer's
    timeout and deadline (Go's ``tls.DialWithDialer``), so a bad certificate is an
    :class:`OSError` from this call (``dial tcp ADDR: tls: failed to verify certificate: ...``)
    rather than a :class:`trio.BrokenResourceError` from the first send or receive.

    Raises:
        OpError: the connection or the handshake failed; see :meth:`trionet.tls.Dialer.dial`.
        ValueError, TypeError: bad arguments, as for :func:`open_tcp_stream`.
        trio.Cancelled: an enclosing scope was cancelled.
    """
    network, address, d, name = _dial_plan(host, port, happy_eyeballs_delay, None, dialer)
    context = ssl_context if ssl_context is not None else _default_ssl_context()
    return await dial_tls(d, context, network, address, name or None, https_compatible)
