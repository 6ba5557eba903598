"""A real ASGI server on loopback for the httpx/httpcore tests: hypercorn's trio worker, run
in-process as a Trio task, plus trustme certificates.

``await nursery.start(serve_app, binds)`` starts hypercorn on *binds* (``"127.0.0.1:0"``,
``"unix:/path"``) and returns the URLs it bound; the task ends when the nursery is cancelled.
The app answers every request with ``200`` and the body ``hello HTTP_VERSION PATH``.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import trio
import trustme
from hypercorn.config import Config
from hypercorn.trio import serve

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def app(
    scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """Hello-world ASGI app with the lifespan protocol hypercorn expects."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = f"hello {scope['http_version']} {scope['path']}".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def config(binds: Sequence[str], cert: trustme.LeafCert | None = None, tmp: Path | None = None) -> Config:
    """A quiet hypercorn config; with *cert*, TLS with ALPN h2 and http/1.1."""
    cfg = Config()
    cfg.bind = list(binds)
    cfg.accesslog = None
    cfg.errorlog = None
    cfg.graceful_timeout = 0.5
    # Idle connections whose client has gone are closed quickly, so a test counting the
    # process's descriptors sees the server's ends go too.
    cfg.keep_alive_timeout = 1.0
    if cert is not None:
        assert tmp is not None
        certfile, keyfile = tmp / "server.pem", tmp / "server.key"
        cert.cert_chain_pems[0].write_to_path(str(certfile))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(certfile), append=True)
        cert.private_key_pem.write_to_path(str(keyfile))
        cfg.certfile = str(certfile)
        cfg.keyfile = str(keyfile)
    return cfg


async def serve_app(
    cfg: Config, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run hypercorn with *cfg* until cancelled; reports the bound URLs."""
    await serve(app, cfg, shutdown_trigger=trio.sleep_forever, task_status=task_status)  # type: ignore[arg-type]


def client_context(ca: trustme.CA, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A client context that trusts *ca* (and offers *alpn*)."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def server_context(cert: trustme.LeafCert, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A server context presenting *cert* (and accepting *alpn*)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


__all__ = ["app", "client_context", "config", "serve_app", "server_context"]
