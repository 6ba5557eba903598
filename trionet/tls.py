"""TLS on top of trionet's dialer and listener: Go's ``crypto/tls`` ``Dialer``, ``Dial``, ``Listen``.

The handshake is part of the dial, as in Go's ``tls.DialWithDialer``: "the timeout applies to
the TLS handshake as well". One deadline, computed when the dial starts from the net dialer's
``timeout`` and ``deadline``, covers name resolution, the TCP connect and the handshake; the
enclosing cancel scopes cover all three too and their cancellation stays a bare
:class:`trio.Cancelled`. A connection whose handshake fails is closed before the error leaves.

Streams are :class:`trio.SSLStream` objects with ``https_compatible=False`` (Trio's default and
Go's behaviour: ``aclose`` sends a ``close_notify``, and a peer that closes without one is an
error rather than an EOF). The negotiated ALPN protocol is
``stream.selected_alpn_protocol()``; the TCP stream is ``stream.transport_stream``.

>>> # stream = await trionet.tls.dial("tcp", "example.test:443")
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Final, Literal, cast, final

import trio

from ._address import TCPAddr, UnixAddr, split_host_port
from ._dial import Dialer as _NetDialer
from ._errors import AddrError
from ._handshake import dial_tls
from ._listen import listen as _listen
from ._listener import Listener

__all__ = ["Dialer", "dial", "listen"]

#: The networks a TLS connection can run over: Go's tls accepts any stream network.
TLSNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
_TLS_NETWORKS: Final = frozenset({"tcp", "tcp4", "tcp6", "unix"})


def _check_network(network: str) -> None:
    if network not in _TLS_NETWORKS:
        raise ValueError(f"network must be one of 'tcp', 'tcp4', 'tcp6' or 'unix', not {network!r}")


def _default_server_name(network: str, address: str) -> str | None:
    """Go's rule: without a ServerName, the host of the dialed address (for tcp networks)."""
    if network == "unix":
        return None
    try:
        host = split_host_port(address)[0]
    except AddrError:
        return None  # the dial itself reports the malformed address, with Go's text
    return host or None


@final
@dataclass(frozen=True, slots=True)
class Dialer:
    """Dials TLS connections: Go's ``tls.Dialer``. Immutable; safe to share between tasks.

    Args:
        net_dialer: the :class:`trionet.Dialer` for the underlying connection; None:
            ``trionet.Dialer()``. Its ``timeout`` and ``deadline`` cover the TLS handshake too
            (Go's ``DialWithDialer``); its other options (keep-alive, resolver, local address,
            control, fast fallback) apply to the connection as for any dial.
        config: the client :class:`ssl.SSLContext` (certificates trusted, ALPN protocols,
            versions); None: :func:`ssl.create_default_context` (the system's CAs, host names
            checked), made once per process. The context is never modified.

    Raises:
        TypeError: *net_dialer* is not a :class:`trionet.Dialer`, or *config* not an
            :class:`ssl.SSLContext`.
    """

    net_dialer: _NetDialer | None = None
    config: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.net_dialer is not None and not isinstance(self.net_dialer, _NetDialer):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"net_dialer must be a trionet.Dialer or None, not {self.net_dialer!r}")
        if self.config is not None and not isinstance(self.config, ssl.SSLContext):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"config must be an ssl.SSLContext or None, not {self.config!r}")

    async def dial(
        self, network: str, address: str, server_hostname: str | None = None
    ) -> trio.SSLStream[trio.SocketStream]:
        """Connect to *address* and complete a TLS handshake (Go's ``tls.Dialer.DialContext``).

        *network* is ``tcp``, ``tcp4``, ``tcp6`` or ``unix``; *address* as for
        :meth:`trionet.Dialer.dial`. *server_hostname* is the name sent as SNI and checked
        against the certificate; None: the host of *address* (an IP literal is checked against
        the certificate's IP addresses and sent without SNI). A unix address has no host: pass
        *server_hostname* or use a context that does not check host names.

        Raises:
            OpError: every failure, with Go's text. The connection: as :meth:`trionet.Dialer.dial`
                (``dial tcp 127.0.0.1:1: connect: connection refused``). The handshake: ``dial
                tcp 127.0.0.1:8443: tls: failed to verify certificate: ...``; ``err`` is an
                :class:`OSError` whose ``__cause__`` (and ``ssl_error``) is the
                :class:`ssl.SSLError`. The net dialer's timeout, also during the handshake:
                ``dial tcp ADDR: i/o timeout``, a :class:`TimeoutError`.
            ValueError: a network that is not a stream network, no server name to check, or a
                server name TLS cannot carry (too long, a NUL byte).
            TypeError: *server_hostname* is not a string or None.
            trio.Cancelled: an enclosing scope was cancelled (the connection is closed).
        """
        _check_network(network)
        if server_hostname is not None and not isinstance(server_hostname, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"server_hostname must be a string or None, not {server_hostname!r}")
        name = server_hostname if server_hostname is not None else _default_server_name(network, address)
        return await dial_tls(self.net_dialer, self.config, network, address, name, https_compatible=False)


async def dial(
    network: str, address: str, config: ssl.SSLContext | None = None
) -> trio.SSLStream[trio.SocketStream]:
    """Connect and complete a TLS handshake with a default net dialer (Go's ``tls.Dial``).

    The same as ``Dialer(config=config).dial(network, address)``; *config* None means the
    system's default context. See :meth:`Dialer.dial`.
    """
    return await Dialer(config=config).dial(network, address)


async def listen(network: str, address: str, config: ssl.SSLContext) -> trio.SSLListener[trio.SocketStream]:
    """Listen on *address* and serve TLS with *config* (Go's ``tls.Listen``).

    The listener is :func:`trionet.listen`'s (``.transport_listener``, with its ``.addr``),
    wrapped in a :class:`trio.SSLListener`. Each accepted stream is a :class:`trio.SSLStream`
    whose handshake runs on its first send or receive (or an explicit ``do_handshake()``), as
    in Go. *config* is required and must be a server context
    (``ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)`` with a certificate loaded).

    Raises:
        OpError: the listen failed (``listen tcp 127.0.0.1:80: bind: address already in use``).
        TypeError: *config* is not an :class:`ssl.SSLContext`.
        ValueError: *config* is a client-only context, or the network is not a stream network.
    """
    if not isinstance(config, ssl.SSLContext):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"config must be an ssl.SSLContext, not {config!r}")
    if config.protocol == ssl.PROTOCOL_TLS_CLIENT:
        raise ValueError(
            "config is a client context (PROTOCOL_TLS_CLIENT); a listener needs a server context"
        )
    _check_network(network)
    # _check_network admitted only the stream networks, whose listeners accept SocketStreams.
    listener = cast(
        "Listener[trio.SocketStream, TCPAddr | UnixAddr]", await _listen(cast(TLSNetwork, network), address)
    )
    return trio.SSLListener(listener, config, https_compatible=False)
