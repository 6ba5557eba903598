"""trionet.tls against real TLS peers on loopback (trustme certificates).

Timing tests run the real sockets under ``autojump_clock``: a handshake that waits for a peer
that never answers leaves every task blocked, so the clock jumps straight to the next deadline
and the times asserted are exact.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trio
import trio.testing
import trustme

import trionet
import trionet.testing
import trionet.tls
from trionet._handshake import HandshakeError

from .httpd import client_context, server_context
from .loopback import open_fds, scripted_resolver

pytestmark = pytest.mark.loopback

Handler = Callable[[trio.SSLStream[trio.SocketStream]], Awaitable[None]]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("good.test", "127.0.0.1", "::1")


async def greet(stream: trio.SSLStream[trio.SocketStream]) -> None:
    """Handshake, send the negotiated ALPN protocol, close."""
    try:
        await stream.do_handshake()
        await stream.send_all(str(stream.selected_alpn_protocol()).encode())
        await stream.aclose()
    except trio.BrokenResourceError:
        pass  # the client rejected our certificate: what those tests want


@pytest.fixture
async def server(
    nursery: trio.Nursery, cert: trustme.LeafCert
) -> tuple[trio.SSLListener[trio.SocketStream], list[str | None]]:
    """A trionet.tls listener on 127.0.0.1 serving :func:`greet`; yields it and the SNI names
    the server saw."""
    names: list[str | None] = []
    ctx = server_context(cert, ["h2", "http/1.1"])

    def sni(obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    ctx.sni_callback = sni
    listener = await trionet.tls.listen("tcp", "127.0.0.1:0", ctx)
    nursery.start_soon(trio.serve_listeners, greet, [listener])
    return listener, names


def port_of(listener: trio.SSLListener[trio.SocketStream]) -> int:
    transport = listener.transport_listener
    assert isinstance(transport, trionet.Listener)
    addr = transport.addr
    assert isinstance(addr, trionet.TCPAddr)
    return addr.port


async def test_dial_success_alpn_and_default_server_name(
    server: tuple[trio.SSLListener[trio.SocketStream], list[str | None]], ca: trustme.CA
) -> None:
    listener, names = server
    port = port_of(listener)
    # A name from a private resolver: the server name defaults to the address's host.
    dialer = trionet.Dialer(resolver=scripted_resolver({"good.test": ["127.0.0.1"]}))
    tls = trionet.tls.Dialer(dialer, client_context(ca, ["h2"]))
    stream = await tls.dial("tcp", f"good.test:{port}")
    assert isinstance(stream, trio.SSLStream)
    assert stream.selected_alpn_protocol() == "h2"
    assert await stream.receive_some(100) == b"h2"
    assert names == ["good.test"]
    await stream.aclose()


async def test_dial_ip_literal_checks_the_ip_and_sends_no_sni(
    server: tuple[trio.SSLListener[trio.SocketStream], list[str | None]], ca: trustme.CA
) -> None:
    listener, names = server
    stream = await trionet.tls.dial("tcp", f"127.0.0.1:{port_of(listener)}", client_context(ca, ["http/1.1"]))
    assert stream.selected_alpn_protocol() == "http/1.1"
    await stream.aclose()
    assert names == [None]  # TLS sends no SNI for an IP; the certificate's IP SAN matched


async def test_wrong_host_name(
    server: tuple[trio.SSLListener[trio.SocketStream], list[str | None]], ca: trustme.CA
) -> None:
    port = port_of(server[0])
    before = open_fds()
    with pytest.raises(trionet.OpError) as info:
        await trionet.tls.Dialer(config=client_context(ca)).dial(
            "tcp", f"127.0.0.1:{port}", server_hostname="wrong.test"
        )
    err = info.value
    assert str(err) == (
        f"dial tcp 127.0.0.1:{port}: tls: failed to verify certificate: "
        "Hostname mismatch, certificate is not valid for 'wrong.test'."
    )
    assert isinstance(err, OSError)
    assert not isinstance(err, PermissionError)  # SSLError's errno 1 is not EPERM
    assert err.errno is None
    assert not err.timeout
    assert isinstance(err.err, HandshakeError)
    assert isinstance(err.err.ssl_error, ssl.SSLCertVerificationError)
    assert err.err.__cause__ is err.err.ssl_error
    await trio.testing.wait_all_tasks_blocked()  # the server side finished with its end too
    assert open_fds() == before  # the TCP connection was closed


async def test_unknown_ca(server: tuple[trio.SSLListener[trio.SocketStream], list[str | None]]) -> None:
    port = port_of(server[0])
    before = open_fds()
    with pytest.raises(trionet.OpError) as info:
        await trionet.tls.dial("tcp", f"127.0.0.1:{port}")  # the system CAs do not know trustme's
    assert str(info.value) == (
        f"dial tcp 127.0.0.1:{port}: tls: failed to verify certificate: unable to get local issuer certificate"
    )
    await trio.testing.wait_all_tasks_blocked()  # the server side finished with its end too
    assert open_fds() == before


async def test_not_a_tls_server(nursery: trio.Nursery) -> None:
    async def http_server(stream: trio.SocketStream) -> None:
        await stream.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await stream.aclose()

    listener = await trionet.listen("tcp", "127.0.0.1:0")
    nursery.start_soon(trio.serve_listeners, http_server, [listener])
    ctx = ssl.create_default_context()
    with pytest.raises(trionet.OpError) as info:
        await trionet.tls.dial("tcp", str(listener.addr), ctx)
    assert (
        str(info.value) == f"dial tcp {listener.addr}: tls: first record does not look like a TLS handshake"
    )


async def test_peer_closes_during_handshake(nursery: trio.Nursery) -> None:
    async def read_hello_then_close(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        await stream.aclose()

    listener = await trionet.listen("tcp", "127.0.0.1:0")
    nursery.start_soon(trio.serve_listeners, read_hello_then_close, [listener])
    with pytest.raises(trionet.OpError) as info:
        await trionet.tls.dial("tcp", str(listener.addr))
    assert str(info.value) == f"dial tcp {listener.addr}: tls: handshake: EOF"
    assert info.value.errno is None


async def test_peer_resets_during_handshake(nursery: trio.Nursery) -> None:
    # Closing without reading the ClientHello makes the kernel answer with a reset: the
    # transport's errno is kept, so the error is a ConnectionResetError.
    async def close_unread(stream: trio.SocketStream) -> None:
        await trio.testing.wait_all_tasks_blocked()  # the ClientHello has arrived, unread
        await stream.aclose()

    listener = await trionet.listen("tcp", "127.0.0.1:0")
    nursery.start_soon(trio.serve_listeners, close_unread, [listener])
    with pytest.raises(ConnectionResetError) as info:
        await trionet.tls.dial("tcp", str(listener.addr))
    assert str(info.value) == f"dial tcp {listener.addr}: tls: handshake: connection reset by peer"


async def silent_listener() -> trionet.Listener[trio.SocketStream, trionet.TCPAddr]:
    """A listener that never accepts: the kernel completes the TCP handshake, TLS never starts."""
    return await trionet.listen("tcp", "127.0.0.1:0")


async def test_hanging_handshake_hits_the_dialer_timeout(autojump_clock: trio.abc.Clock) -> None:
    listener = await silent_listener()
    before = open_fds()
    start = trio.current_time()
    with pytest.raises(trionet.OpError) as info:
        await trionet.tls.Dialer(trionet.Dialer(timeout=0.5)).dial("tcp", str(listener.addr))
    assert trio.current_time() - start == 0.5
    assert str(info.value) == f"dial tcp {listener.addr}: i/o timeout"
    assert isinstance(info.value, TimeoutError)
    assert info.value.timeout
    await trio.testing.wait_all_tasks_blocked()  # the server side finished with its end too
    assert open_fds() == before
    await listener.aclose()


async def test_hanging_handshake_hits_the_dialer_deadline(autojump_clock: trio.abc.Clock) -> None:
    listener = await silent_listener()
    deadline = trio.current_time() + 0.7
    with pytest.raises(TimeoutError, match=r"i/o timeout$"):
        await trionet.tls.Dialer(trionet.Dialer(deadline=deadline)).dial("tcp", str(listener.addr))
    assert trio.current_time() == deadline
    await listener.aclose()


async def test_one_deadline_covers_lookup_connect_and_handshake(
    autojump_clock: trio.abc.Clock, nursery: trio.Nursery, cert: trustme.LeafCert, ca: trustme.CA
) -> None:
    # The lookup takes 0.3 s and the server waits 0.3 s before its handshake: 0.6 s in all.
    # A 0.5 s timeout that restarted for the handshake would let it through; Go's one
    # deadline (and ours) expires at 0.5 s, during the handshake.
    async def slow_start(stream: trio.SSLStream[trio.SocketStream]) -> None:
        await trio.sleep(0.3)
        await greet(stream)

    listener = await trionet.tls.listen("tcp", "127.0.0.1:0", server_context(cert))
    nursery.start_soon(trio.serve_listeners, slow_start, [listener])
    resolver = trionet.testing.FakeResolver()
    resolver.add("good.test", ["127.0.0.1"], delay=0.3)
    address = f"good.test:{port_of(listener)}"
    ctx = client_context(ca)
    start = trio.current_time()
    with pytest.raises(trionet.OpError, match=r"^dial tcp 127\.0\.0\.1:\d+: i/o timeout$"):
        await trionet.tls.Dialer(trionet.Dialer(timeout=0.5, resolver=resolver), ctx).dial("tcp", address)
    assert trio.current_time() - start == 0.5
    # With room for both, the same dial succeeds, at 0.3 + 0.3.
    start = trio.current_time()
    stream = await trionet.tls.Dialer(trionet.Dialer(timeout=0.7, resolver=resolver), ctx).dial(
        "tcp", address
    )
    assert trio.current_time() - start == pytest.approx(0.6)
    await stream.aclose()


async def test_enclosing_cancellation_is_bare_and_closes(autojump_clock: trio.abc.Clock) -> None:
    listener = await silent_listener()
    before = open_fds()
    saw_bare_cancelled = False
    with trio.move_on_after(0.25) as scope:
        try:
            await trionet.tls.dial("tcp", str(listener.addr))
        except trio.Cancelled:
            saw_bare_cancelled = True
            raise
    assert scope.cancelled_caught
    assert saw_bare_cancelled
    assert trio.current_time() == 0.25
    await trio.testing.wait_all_tasks_blocked()  # the server side finished with its end too
    assert open_fds() == before
    await listener.aclose()


async def test_enclosing_deadline_shorter_than_the_dialer_timeout(autojump_clock: trio.abc.Clock) -> None:
    # The enclosing scope expires first: a bare Cancelled, not the dialer's i/o timeout.
    listener = await silent_listener()
    with trio.move_on_after(0.2) as scope:
        await trionet.tls.Dialer(trionet.Dialer(timeout=1.0)).dial("tcp", str(listener.addr))
    assert scope.cancelled_caught
    assert trio.current_time() == 0.2
    await listener.aclose()


async def test_connect_failure_is_the_net_dialers_error() -> None:
    listener = await trionet.listen("tcp", "127.0.0.1:0")
    address = str(listener.addr)
    await listener.aclose()
    with pytest.raises(ConnectionRefusedError, match=rf"^dial tcp {address}: connect: connection refused$"):
        await trionet.tls.dial("tcp", address)


async def test_unix_socket(
    tmp_path: Path, nursery: trio.Nursery, cert: trustme.LeafCert, ca: trustme.CA
) -> None:
    path = str(tmp_path / "tls.sock")
    names: list[str | None] = []
    ctx = server_context(cert)
    ctx.sni_callback = lambda _obj, name, _ctx: names.append(name)
    listener = await trionet.tls.listen("unix", path, ctx)
    nursery.start_soon(trio.serve_listeners, greet, [listener])
    with pytest.raises(ValueError, match="no server name"):
        await trionet.tls.dial("unix", path, client_context(ca))
    stream = await trionet.tls.Dialer(config=client_context(ca)).dial(
        "unix", path, server_hostname="good.test"
    )
    assert await stream.receive_some(100) == b"None"
    assert names == ["good.test"]
    await stream.aclose()


async def test_argument_errors(cert: trustme.LeafCert) -> None:
    with pytest.raises(TypeError, match=r"net_dialer must be a trionet\.Dialer"):
        trionet.tls.Dialer(net_dialer=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"config must be an ssl\.SSLContext"):
        trionet.tls.Dialer(config="cert.pem")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="network must be one of"):
        await trionet.tls.dial("udp", "127.0.0.1:1")
    with pytest.raises(ValueError, match="client context"):
        await trionet.tls.listen("tcp", "127.0.0.1:0", ssl.create_default_context())
    with pytest.raises(TypeError, match=r"config must be an ssl\.SSLContext"):
        await trionet.tls.listen("tcp", "127.0.0.1:0", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="network must be one of"):
        await trionet.tls.listen("udp", "127.0.0.1:0", server_context(cert))


@pytest.mark.parametrize("name", ["x" * 300, "bad\x00name"], ids=["too-long", "nul"])
async def test_unusable_server_names_are_value_errors(name: str) -> None:
    listener = await silent_listener()
    before = open_fds()
    with pytest.raises(ValueError, match=r"^server name .* cannot be used for TLS: "):
        await trionet.tls.Dialer().dial("tcp", str(listener.addr), server_hostname=name)
    assert open_fds() == before
    with pytest.raises(TypeError, match=r"^server_hostname must be a string or None, not b'x'$"):
        await trionet.tls.Dialer().dial("tcp", str(listener.addr), server_hostname=b"x")  # type: ignore[arg-type]
    await listener.aclose()


async def test_listen_error_is_go_text(cert: trustme.LeafCert) -> None:
    first = await trionet.tls.listen("tcp", "127.0.0.1:0", server_context(cert))
    addr = first.transport_listener.addr  # type: ignore[attr-defined]
    with pytest.raises(trionet.OpError, match=rf"^listen tcp {addr}: bind: address already in use$"):
        await trionet.tls.listen("tcp", str(addr), server_context(cert))
    await first.aclose()


def test_dialer_is_a_frozen_value() -> None:
    d = trionet.tls.Dialer()
    assert d.net_dialer is None
    assert d.config is None
    with pytest.raises(AttributeError):
        d.config = ssl.create_default_context()  # type: ignore[misc]
