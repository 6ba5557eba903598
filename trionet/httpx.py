"""An httpx transport that dials with trionet (``pip install "trionet[httpx]"``)::

    client = httpx.AsyncClient(transport=trionet.httpx.AsyncHTTPTransport())

httpx 0.28 has no public way to give its transport a network backend, so
:class:`AsyncHTTPTransport` is httpx's own :class:`httpx.AsyncHTTPTransport` whose connection
pool it builds itself, the same way httpx does, with a :class:`trionet.httpcore.NetworkBackend`
inside. Everything else (request handling, the mapping of httpcore's errors to httpx's:
``httpx.ConnectTimeout``, ``httpx.ConnectError``, ...) is httpx's.
"""

from __future__ import annotations

try:
    import httpcore
    import httpx
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'trionet.httpx needs httpx and httpcore: install the extra with pip install "trionet[httpx]"'
    ) from _exc

import ssl
from collections.abc import Iterable
from typing import Final, final

from ._dial import Dialer
from .httpcore import NetworkBackend, SocketOption

__all__ = ["AsyncHTTPTransport"]

# httpx's own definitions (private there: httpx._types.CertTypes, httpx._config.DEFAULT_LIMITS).
_CertTypes = str | tuple[str, str] | tuple[str, str, str]
_DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)


@final
class AsyncHTTPTransport(httpx.AsyncHTTPTransport):
    """:class:`httpx.AsyncHTTPTransport` with trionet's dialer underneath.

    Args:
        dialer: the :class:`trionet.Dialer` every connection is dialed with (its keep-alive,
            resolver, fast fallback, control...); None: ``trionet.Dialer()``, Go's algorithm
            (``trionet.Dialer(happy_eyeballs=trionet.HappyEyeballs())`` staggers every
            attempt as httpx's default trio backend does). httpx's connect
            timeout and ``local_address`` apply on top of it, per connection (see
            :mod:`trionet.httpcore`). Connections to a proxy are dialed with it too.
        verify, cert, trust_env, http1, http2, limits, proxy, uds, local_address, retries,
            socket_options: httpx's own transport arguments, with httpx's meanings and
            defaults (``socket_options`` are set after trionet's own options, so they win).

    Raises:
        TypeError: *dialer* is not a :class:`trionet.Dialer`.
        ValueError: a proxy URL whose scheme httpx does not support.
    """

    def __init__(
        self,
        dialer: Dialer | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: _CertTypes | None = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        uds: str | None = None,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> None:
        backend = NetworkBackend(dialer)
        ssl_context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        proxy = httpx.Proxy(url=proxy) if isinstance(proxy, str | httpx.URL) else proxy
        # Not super().__init__(): it would build a pool with httpx's default backend first.
        # What follows is that __init__ (httpx 0.28), each pool given our backend.
        self._pool: httpcore.AsyncConnectionPool
        if proxy is None:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=http1,
                http2=http2,
                uds=uds,
                local_address=local_address,
                retries=retries,
                socket_options=socket_options,
                network_backend=backend,
            )
        elif proxy.url.scheme in ("http", "https"):
            self._pool = httpcore.AsyncHTTPProxy(
                proxy_url=_proxy_url(proxy),
                proxy_auth=proxy.raw_auth,
                proxy_headers=proxy.headers.raw,
                proxy_ssl_context=proxy.ssl_context,
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=http1,
                http2=http2,
                socket_options=socket_options,
                network_backend=backend,
            )
        elif proxy.url.scheme in ("socks5", "socks5h"):
            self._pool = httpcore.AsyncSOCKSProxy(
                proxy_url=_proxy_url(proxy),
                proxy_auth=proxy.raw_auth,
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=http1,
                http2=http2,
                network_backend=backend,
            )
        else:
            raise ValueError(
                "Proxy protocol must be either 'http', 'https', 'socks5', or 'socks5h',"
                f" but got {proxy.url.scheme!r}."
            )
        #: The backend the pool dials with.
        self.network_backend = backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's request handling; a failed connect keeps trionet's error in its chain."""
        try:
            return await super().handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # httpcore's pool re-raises connection errors "from None", which drops the
            # trionet error we raised them from (it survives as __context__): put it back,
            # so httpx's error -> httpcore's error -> trionet's OpError is a __cause__ chain.
            inner = exc.__cause__
            if inner is not None and inner.__cause__ is None and isinstance(inner.__context__, OSError):
                inner.__cause__ = inner.__context__
            raise


def _proxy_url(proxy: httpx.Proxy) -> httpcore.URL:
    return httpcore.URL(
        scheme=proxy.url.raw_scheme, host=proxy.url.raw_host, port=proxy.url.port, target=proxy.url.raw_path
    )
