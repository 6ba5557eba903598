"""httpx with trionet.httpx.AsyncHTTPTransport, and the httpcore backend under it, against a
real ASGI server (hypercorn's trio worker, in-process) on loopback and a unix socket."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpcore
import httpx
import pytest
import trio
import trio.testing
import trustme

import trionet
import trionet.httpcore
import trionet.httpx
import trionet.testing

from .dnsfake import FakeDNS
from .httpd import client_context, config, serve_app
from .loopback import closed_port, open_fds

pytestmark = pytest.mark.loopback


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "good.test")


@pytest.fixture
async def http_url(nursery: trio.Nursery) -> str:
    binds: list[str] = await nursery.start(serve_app, config(["127.0.0.1:0"]))
    return binds[0]


@pytest.fixture
async def https_url(nursery: trio.Nursery, cert: trustme.LeafCert, tmp_path: Path) -> str:
    binds: list[str] = await nursery.start(serve_app, config(["127.0.0.1:0"], cert, tmp_path))
    return binds[0]


def client(**kwargs: object) -> httpx.AsyncClient:
    """An httpx client on trionet's transport; never the environment's proxies."""
    dialer = kwargs.pop("dialer", None)
    assert dialer is None or isinstance(dialer, trionet.Dialer)
    transport = trionet.httpx.AsyncHTTPTransport(dialer, trust_env=False, **kwargs)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, trust_env=False)


async def settle(before: int) -> int:
    """Wait (bounded: 5 s) until the process holds *before* descriptors again (the server's
    ends of closed connections included); the count."""
    for _ in range(500):
        if open_fds() == before:
            break
        await trio.sleep(0.01)
    return open_fds()


async def test_sequential_and_100_concurrent_gets(http_url: str) -> None:
    before = open_fds()
    async with client() as c:
        for i in range(10):
            response = await c.get(f"{http_url}/seq/{i}")
            assert response.status_code == 200
            assert response.text == f"hello 1.1 /seq/{i}"
        results: dict[int, str] = {}

        async def get(i: int) -> None:
            results[i] = (await c.get(f"{http_url}/par/{i}")).text

        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(get, i)
        assert results == {i: f"hello 1.1 /par/{i}" for i in range(100)}
    assert await settle(before) == before


@pytest.mark.parametrize(("http2", "version"), [(False, "HTTP/1.1"), (True, "HTTP/2")])
async def test_https_http1_and_http2(https_url: str, ca: trustme.CA, http2: bool, version: str) -> None:
    async with client(verify=client_context(ca), http2=http2) as c:
        responses = [await c.get(f"{https_url}/tls") for _ in range(3)]
        for response in responses:
            assert response.http_version == version
            assert response.text == f"hello {version.removeprefix('HTTP/')} /tls"
        stream = responses[-1].extensions["network_stream"]
        assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == ("h2" if http2 else "http/1.1")
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"


async def test_https_bad_certificate_is_a_connect_error(https_url: str) -> None:
    async with client() as c:  # the system CAs do not know trustme's
        with pytest.raises(httpx.ConnectError) as info:
            await c.get(https_url)
    assert str(info.value) == "tls: failed to verify certificate: unable to get local issuer certificate"


async def test_unix_socket(nursery: trio.Nursery, tmp_path: Path) -> None:
    path = tmp_path / "http.sock"
    await nursery.start(serve_app, config([f"unix:{path}"]))
    async with client(uds=str(path)) as c:
        response = await c.get("http://unix.invalid/over-unix")
    assert response.text == "hello 1.1 /over-unix"


async def test_refused() -> None:
    port = closed_port()
    async with client() as c:
        with pytest.raises(httpx.ConnectError) as info:
            await c.get(f"http://127.0.0.1:{port}/")
    text = f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    assert str(info.value) == text
    cause = info.value.__cause__
    assert isinstance(cause, httpcore.ConnectError)
    assert isinstance(cause.__cause__, trionet.OpError)
    assert isinstance(cause.__cause__, ConnectionRefusedError)


async def test_connect_timeout() -> None:
    with trionet.testing.blackhole_listener() as hole:
        before = open_fds()
        async with client() as c:
            start = time.monotonic()
            with pytest.raises(httpx.ConnectTimeout) as info:
                await c.get(f"http://{hole}/", timeout=httpx.Timeout(5.0, connect=0.3))
            elapsed = time.monotonic() - start
        assert 0.29 <= elapsed < 2.0
        assert str(info.value) == f"dial tcp {hole}: i/o timeout"
        assert isinstance(info.value.__cause__, httpcore.ConnectTimeout)
        assert isinstance(info.value.__cause__.__cause__, TimeoutError)
        assert open_fds() == before


async def test_outer_cancellation_is_bare() -> None:
    with trionet.testing.blackhole_listener() as hole:
        before = open_fds()
        saw_bare = False
        async with client() as c:
            with trio.move_on_after(0.2) as scope:
                try:
                    await c.get(f"http://{hole}/")
                except trio.Cancelled:
                    saw_bare = True
                    raise
        assert scope.cancelled_caught
        assert saw_bare
        assert open_fds() == before


@pytest.fixture
async def dns(nursery: trio.Nursery) -> FakeDNS:
    fake: FakeDNS = await nursery.start(FakeDNS().serve)
    return fake


async def test_private_hosts_file_name_with_a_blackholed_first_address(
    nursery: trio.Nursery, tmp_path: Path, dns: FakeDNS
) -> None:
    # two.test: 127.0.0.1 first, where connects hang, then 127.0.0.2, where the server is.
    binds: list[str] = await nursery.start(serve_app, config(["127.0.0.2:0"]))
    port = int(binds[0].rsplit(":", 1)[1])
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 two.test\n127.0.0.2 two.test\n")
    resolver = trionet.Resolver(hosts_file=str(hosts), nameservers=[dns.address], resolv_conf=os.devnull)
    with trionet.testing.blackhole_listener(port=port):
        # Go's algorithm (trionet.Dialer's default, and the transport's): the addresses are
        # walked one by one, each with its share of httpx's 5 s connect timeout, so the
        # fallback comes at 2.5 s.
        async with client(dialer=trionet.Dialer(resolver=resolver)) as c:
            start = time.monotonic()
            response = await c.get(f"http://two.test:{port}/fallback")
            elapsed = time.monotonic() - start
        assert response.text == "hello 1.1 /fallback"
        assert 2.45 <= elapsed < 3.5, elapsed
        # RFC 8305 (trio's behaviour): the second address is tried 250 ms after the first.
        he = trionet.Dialer(resolver=resolver, happy_eyeballs=trionet.HappyEyeballs())
        async with client(dialer=he) as c:
            start = time.monotonic()
            response = await c.get(f"http://two.test:{port}/fallback")
            elapsed = time.monotonic() - start
        assert response.text == "hello 1.1 /fallback"
        assert 0.24 <= elapsed < 1.2, elapsed
    assert dns.queries == []  # the name came from the private hosts file; no DNS at all


async def test_socket_options_win_over_trionets_own(http_url: str) -> None:
    async with client() as c:
        response = await c.get(http_url)
        sock = response.extensions["network_stream"].get_extra_info("socket")
        # trionet's and trio's defaults: keep-alive at Go's 15 s, TCP_NODELAY.
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 15
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0),
        (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 77),
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 0),
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 65536),
    ]
    seen_before_connect: list[int] = []

    def control(network: str, address: str, s: trio.socket.SocketType) -> None:
        seen_before_connect.append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))

    async with client(socket_options=options, dialer=trionet.Dialer(control=control)) as c:
        response = await c.get(http_url)
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 77
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 2 * 65536  # Linux doubles it
    # The user's own control hook still runs, before the options are set.
    assert seen_before_connect == [7200]


async def test_local_address_restricts_the_family(http_url: str) -> None:
    port = int(http_url.rsplit(":", 1)[1])
    resolver = trionet.testing.FakeResolver()
    resolver.add("dual.test", ["::1", "127.0.0.1"])  # nothing listens on [::1]:port
    attempts: list[str] = []

    def record(event: trionet.trace.Event) -> None:
        if isinstance(event, trionet.trace.AttemptStart):
            attempts.append(event.addr)

    with trionet.trace.observe(record):
        async with client(local_address="0.0.0.0", dialer=trionet.Dialer(resolver=resolver)) as c:
            response = await c.get(f"http://dual.test:{port}/v4")
            assert response.extensions["network_stream"].get_extra_info("client_addr")[0] == "127.0.0.1"
        assert attempts == [f"127.0.0.1:{port}"]
        attempts.clear()
        async with client(local_address="::", dialer=trionet.Dialer(resolver=resolver)) as c:
            with pytest.raises(
                httpx.ConnectError, match=rf"^dial tcp6 \[::1\]:{port}: connect: connection refused$"
            ):
                await c.get(f"http://dual.test:{port}/v6")
        assert attempts == [f"[::1]:{port}"]


# -- the httpcore backend directly ---------------------------------------------------------


async def test_backend_connect_errors_and_timeouts() -> None:
    backend = trionet.httpcore.NetworkBackend()
    port = closed_port()
    with pytest.raises(
        httpcore.ConnectError, match=rf"^dial tcp 127\.0\.0\.1:{port}: connect: connection refused$"
    ):
        await backend.connect_tcp("127.0.0.1", port)
    with trionet.testing.blackhole_listener() as hole:
        with pytest.raises(httpcore.ConnectTimeout, match=rf"^dial tcp {hole}: i/o timeout$") as info:
            await backend.connect_tcp("127.0.0.1", hole.port, timeout=0.2)
        assert isinstance(info.value.__cause__, trionet.OpError)
        # The dialer's own timeout is kept when it is shorter than httpcore's.
        short = trionet.httpcore.NetworkBackend(trionet.Dialer(timeout=0.1))
        start = time.monotonic()
        with pytest.raises(httpcore.ConnectTimeout):
            await short.connect_tcp("127.0.0.1", hole.port, timeout=10.0)
        assert time.monotonic() - start < 1.0
    with pytest.raises(
        httpcore.ConnectError, match=r"^dial unix /nonexistent/x\.sock: connect: no such file or directory$"
    ):
        await backend.connect_unix_socket("/nonexistent/x.sock")
    with pytest.raises(httpcore.ConnectError, match=r"^dial tcp: lookup nosuch\.test: no such host$"):
        await trionet.httpcore.NetworkBackend(
            trionet.Dialer(resolver=trionet.testing.FakeResolver())
        ).connect_tcp("nosuch.test", 80)
    with pytest.raises(TypeError, match=r"dialer must be a trionet\.Dialer"):
        trionet.httpcore.NetworkBackend(object())  # type: ignore[arg-type]


async def test_backend_start_tls(nursery: trio.Nursery, cert: trustme.LeafCert, ca: trustme.CA) -> None:
    backend = trionet.httpcore.NetworkBackend()
    silent = await trionet.listen("tcp", "127.0.0.1:0")  # never accepts: the handshake hangs
    assert isinstance(silent.addr, trionet.TCPAddr)
    stream = await backend.connect_tcp("127.0.0.1", silent.addr.port)
    start = time.monotonic()
    with pytest.raises(httpcore.ConnectTimeout, match=r"^tls: handshake: i/o timeout$"):
        await stream.start_tls(client_context(ca), "good.test", timeout=0.2)
    assert 0.19 <= time.monotonic() - start < 1.5
    assert stream.get_extra_info("socket").fileno() == -1  # closed on failure
    await silent.aclose()

    tls_listener = await trionet.tls.listen("tcp", "127.0.0.1:0", _server_ctx(cert))
    nursery.start_soon(trio.serve_listeners, _handshake_only, [tls_listener])
    port = tls_listener.transport_listener.addr.port  # type: ignore[attr-defined]
    stream = await backend.connect_tcp("127.0.0.1", port)
    with pytest.raises(httpcore.ConnectError, match=r"^tls: failed to verify certificate: Hostname mismatch"):
        await stream.start_tls(client_context(ca), "wrong.test", timeout=5)
    stream = await backend.connect_tcp("127.0.0.1", port)
    with pytest.raises(httpcore.ConnectError, match=r"^tls: server name 'x{300}' cannot be used: "):
        await stream.start_tls(client_context(ca), "x" * 300, timeout=5)
    assert stream.get_extra_info("socket").fileno() == -1
    stream = await backend.connect_tcp("127.0.0.1", port)
    tls_stream = await stream.start_tls(client_context(ca, ["h2"]), "good.test", timeout=5)
    assert tls_stream.get_extra_info("ssl_object").selected_alpn_protocol() is None
    assert tls_stream.get_extra_info("is_readable") in (True, False)
    assert tls_stream.get_extra_info("nothing") is None
    await tls_stream.aclose()


def _server_ctx(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


async def _handshake_only(stream: trio.SSLStream[trio.SocketStream]) -> None:
    try:
        await stream.do_handshake()
        await stream.receive_some(1)
    except trio.BrokenResourceError:
        pass


async def test_backend_sleep_is_trio_sleep(autojump_clock: trio.abc.Clock) -> None:
    await trionet.httpcore.NetworkBackend().sleep(5)
    assert trio.current_time() == 5


# -- packaging: the extra is optional ---------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_core_package_does_not_import_the_adapters() -> None:
    done = _python(
        "import sys, trionet\n"
        "loaded = sorted(m for m in ('httpx', 'httpcore', 'trionet.httpx', 'trionet.httpcore') if m in sys.modules)\n"
        "print(loaded)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "missing"), [("trionet.httpcore", "httpcore"), ("trionet.httpx", "httpx")]
)
def test_clear_import_error_without_the_extra(module: str, missing: str) -> None:
    done = _python(f"import sys\nsys.modules[{missing!r}] = None\nimport {module}")
    assert done.returncode == 1
    assert 'pip install "trionet[httpx]"' in done.stderr, done.stderr


# -- the plain stream's reads and writes (tried without waiting first, then under the timeout) --


async def _backend_pair(nursery: trio.Nursery) -> tuple[httpcore.AsyncNetworkStream, trio.SocketStream]:
    """A backend stream to a loopback server, and the server's end of it."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    backend = trionet.httpcore.NetworkBackend()
    stream = await backend.connect_tcp("127.0.0.1", port, timeout=5)
    server = await listener.accept()
    await listener.aclose()
    return stream, server


async def test_backend_read_and_write_timeouts_and_errors(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    # Real loopback sockets in this process, on Trio's virtual clock: the timeouts are exact.
    stream, server = await _backend_pair(nursery)
    # data already there: read without waiting; nothing there: wait, then time out on time
    await server.send_all(b"ready")
    assert await stream.read(100, timeout=1.0) == b"ready"
    start = trio.current_time()
    with pytest.raises(httpcore.ReadTimeout, match="read: i/o timeout"):
        await stream.read(100, timeout=0.2)
    assert trio.current_time() - start == pytest.approx(0.2)

    # a reply that comes while the read waits
    async def later() -> None:
        await trio.sleep(0.05)
        await server.send_all(b"late")

    nursery.start_soon(later)
    start = trio.current_time()
    assert await stream.read(100, timeout=1.0) == b"late"
    assert trio.current_time() - start == pytest.approx(0.05)
    # a write larger than the socket buffers, to a peer that does not read: the part that
    # does not fit waits under the timeout
    start = trio.current_time()
    with pytest.raises(httpcore.WriteTimeout, match="write: i/o timeout"):
        await stream.write(b"x" * 64_000_000, timeout=0.2)
    assert trio.current_time() - start == pytest.approx(0.2)
    # a reset connection: the read is an httpcore.ReadError, the peer's Go text inside
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    server.socket.close()
    await trio.sleep(0.05)
    with pytest.raises(httpcore.ReadError):
        await stream.read(1_000_000, timeout=1.0)
    await stream.aclose()


async def test_backend_large_write_and_outer_cancellation(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    stream, server = await _backend_pair(nursery)
    body = os.urandom(8_000_000)
    received = bytearray()
    done = trio.Event()

    async def drain() -> None:
        while len(received) < len(body):
            received.extend(await server.receive_some(1_000_000))
        done.set()

    nursery.start_soon(drain)
    await stream.write(body, timeout=5.0)  # more than fits at once: waits for the reader
    with trio.fail_after(5):
        await done.wait()
    assert bytes(received) == body
    # an enclosing scope's cancellation while the read waits: a bare Cancelled, nothing else
    start = trio.current_time()
    with trio.move_on_after(0.1) as scope:
        await stream.read(100, timeout=5.0)
    assert scope.cancelled_caught
    assert trio.current_time() - start == pytest.approx(0.1)
    await stream.aclose()
    await server.aclose()
