"""trionet.open_tcp_stream / open_ssl_over_tcp_stream: trio's call shapes, run against trio's
own functions and trionet's side by side, then what trionet adds (typed errors, bare
Cancelled, the staggered attempts under a fake network)."""

from __future__ import annotations

import functools
import math
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import trio
import trio.testing
import trustme

import trionet
import trionet.testing

from .httpd import client_context, server_context
from .loopback import closed_port, open_fds

pytestmark = pytest.mark.loopback

OpenTCP = Callable[..., Awaitable[trio.SocketStream]]
IMPLEMENTATIONS = [
    pytest.param(trio.open_tcp_stream, id="trio"),
    pytest.param(trionet.open_tcp_stream, id="trionet"),
]


@pytest.fixture
def listen_sock() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock


# -- trio's own tests (src/trio/_tests/test_highlevel_open_tcp_stream.py), against both ------


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
async def test_trio_real_socket_smoketest(open_tcp_stream: OpenTCP) -> None:
    listen_sock = trio.socket.socket()
    await listen_sock.bind(("127.0.0.1", 0))
    _, listen_port = listen_sock.getsockname()
    listen_sock.listen(1)
    client_stream = await open_tcp_stream("127.0.0.1", listen_port)
    server_sock, _ = await listen_sock.accept()
    await client_stream.send_all(b"x")
    assert await server_sock.recv(1) == b"x"
    await client_stream.aclose()
    server_sock.close()
    listen_sock.close()


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
async def test_trio_input_validation(open_tcp_stream: OpenTCP) -> None:
    with pytest.raises(ValueError, match=r"^host must be str or bytes, not None$"):
        await open_tcp_stream(None, 80)
    with pytest.raises(TypeError):
        await open_tcp_stream("127.0.0.1", b"80")
    with pytest.raises(TypeError, match=r"^port must be int, not '80'$"):
        await open_tcp_stream("127.0.0.1", "80")


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
async def test_trio_local_address_real(open_tcp_stream: OpenTCP) -> None:
    with trio.socket.socket() as listener:
        await listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        async with await open_tcp_stream("127.0.0.1", port, local_address="127.0.0.1") as client_stream:
            assert client_stream.socket.getsockname()[0] == "127.0.0.1"
            assert client_stream.socket.getsockopt(
                trio.socket.IPPROTO_IP, trio.socket.IP_BIND_ADDRESS_NO_PORT
            )
            server_sock, remote_addr = await listener.accept()
            await client_stream.aclose()
            server_sock.close()
            assert remote_addr[0] == "127.0.0.1"
        # The IPv6 wildcard cannot reach an IPv4 address (trio's text differs; both OSError).
        with pytest.raises(OSError):
            await open_tcp_stream("127.0.0.1", port, local_address="::")
        # But the IPv4 wildcard address works.
        async with await open_tcp_stream("127.0.0.1", port, local_address="0.0.0.0") as client_stream:
            server_sock, remote_addr = await listener.accept()
            server_sock.close()
            assert remote_addr == client_stream.socket.getsockname()


# -- trio's documented call shapes, against both ------------------------------------------


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"happy_eyeballs_delay": None}, {"happy_eyeballs_delay": 0}, {"happy_eyeballs_delay": 1.5}],
    ids=["default", "delay-None", "delay-0", "delay-1.5"],
)
@pytest.mark.parametrize("host", ["127.0.0.1", b"127.0.0.1"], ids=["str", "bytes"])
async def test_call_shapes(
    open_tcp_stream: OpenTCP, kwargs: dict[str, Any], host: str | bytes, listen_sock: socket.socket
) -> None:
    port = listen_sock.getsockname()[1]
    stream = await open_tcp_stream(host, port, **kwargs)
    assert isinstance(stream, trio.SocketStream)
    assert stream.socket.getpeername() == ("127.0.0.1", port)
    # Both set TCP_NODELAY (trio.SocketStream does it).
    assert stream.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    await stream.aclose()


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
async def test_trio_tutorial_echo_client(open_tcp_stream: OpenTCP, nursery: trio.Nursery) -> None:
    # The echo client of trio's tutorial, with its server, on a port of our own.
    async def echo_server(server_stream: trio.SocketStream) -> None:
        async for data in server_stream:
            await server_stream.send_all(data)

    listeners = await nursery.start(functools.partial(trio.serve_tcp, echo_server, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    received: list[bytes] = []

    async def sender(client_stream: trio.SocketStream) -> None:
        for _ in range(3):
            await client_stream.send_all(b"async can sometimes be confusing, but I believe in you!")
            await trio.sleep(0.01)
        await client_stream.send_eof()

    async def receiver(client_stream: trio.SocketStream) -> None:
        received.extend([bytes(data) async for data in client_stream])

    client_stream = await open_tcp_stream("127.0.0.1", port)
    async with client_stream, trio.open_nursery() as inner:
        inner.start_soon(sender, client_stream)
        inner.start_soon(receiver, client_stream)
    assert b"".join(received) == b"async can sometimes be confusing, but I believe in you!" * 3


@pytest.mark.parametrize("open_tcp_stream", IMPLEMENTATIONS)
async def test_refused_is_an_oserror(open_tcp_stream: OpenTCP) -> None:
    with pytest.raises(OSError):
        await open_tcp_stream("127.0.0.1", closed_port())


# -- what trionet adds -----------------------------------------------------------------------


async def test_errors_are_trionets() -> None:
    port = closed_port()
    with pytest.raises(trionet.OpError) as info:
        await trionet.open_tcp_stream("127.0.0.1", port)
    assert str(info.value) == f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    assert isinstance(info.value, ConnectionRefusedError)
    with pytest.raises(
        trionet.OpError, match=r"^dial tcp6: address 127\.0\.0\.1: no suitable address found$"
    ):
        await trionet.open_tcp_stream("127.0.0.1", port, local_address="::")
    with pytest.raises(
        ValueError, match=r"^local_address must be an IP address string or None, not 'localhost'$"
    ):
        await trionet.open_tcp_stream("127.0.0.1", port, local_address="localhost")
    with pytest.raises(ValueError, match=r"^happy_eyeballs_delay must be >= 0 seconds or None, not -1$"):
        await trionet.open_tcp_stream("127.0.0.1", port, happy_eyeballs_delay=-1)
    with pytest.raises(TypeError, match=r"^dialer must be a trionet.Dialer or None"):
        await trionet.open_tcp_stream("127.0.0.1", port, dialer=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^port must be int, not True$"):
        await trionet.open_tcp_stream("127.0.0.1", True)


async def test_keep_alive_is_gos_default(listen_sock: socket.socket) -> None:
    stream = await trionet.open_tcp_stream("127.0.0.1", listen_sock.getsockname()[1])
    assert stream.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert stream.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 15
    await stream.aclose()
    # A dialer's options are used: keep-alive left alone.
    stream = await trionet.open_tcp_stream(
        "127.0.0.1", listen_sock.getsockname()[1], dialer=trionet.Dialer(keep_alive=-1)
    )
    assert stream.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    await stream.aclose()


async def test_local_address_restricts_a_dual_stack_name(listen_sock: socket.socket) -> None:
    # "dual.test" lists ::1 first; only 127.0.0.1 listens on the port. Without local_address the
    # IPv6 attempt is refused and IPv4 wins; with "0.0.0.0" IPv6 is never tried; with "::" the
    # dial fails without trying IPv4.
    port = listen_sock.getsockname()[1]
    resolver = trionet.testing.FakeResolver()
    resolver.add("dual.test", ["::1", "127.0.0.1"])
    dialer = trionet.Dialer(resolver=resolver)
    attempts: list[str] = []

    def record(event: trionet.trace.Event) -> None:
        if isinstance(event, trionet.trace.AttemptStart):
            attempts.append(event.addr)

    with trionet.trace.observe(record):
        stream = await trionet.open_tcp_stream("dual.test", port, local_address="0.0.0.0", dialer=dialer)
        assert stream.socket.family == socket.AF_INET
        await stream.aclose()
        assert attempts == [f"127.0.0.1:{port}"]
        attempts.clear()
        with pytest.raises(
            trionet.OpError, match=rf"^dial tcp6 \[::1\]:{port}: connect: connection refused$"
        ):
            await trionet.open_tcp_stream("dual.test", port, local_address="::", dialer=dialer)
        assert attempts == [f"[::1]:{port}"]


async def test_outer_cancellation_is_a_bare_cancelled() -> None:
    # trio's open_tcp_stream raises a BaseExceptionGroup of Cancelled here; trionet a bare one.
    with trionet.testing.blackhole_listener() as hole:
        before = open_fds()
        saw_bare = False
        with trio.move_on_after(0.1) as scope:
            try:
                await trionet.open_tcp_stream(str(hole.ip), hole.port)
            except trio.Cancelled:
                saw_bare = True
                raise
        assert scope.cancelled_caught
        assert saw_bare
        assert open_fds() == before


async def test_happy_eyeballs_delay_staggers_the_families(autojump_clock: trio.abc.Clock) -> None:
    net = trionet.testing.FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"])
    net.blackhole("::1")
    dialer = trionet.Dialer(resolver=net.resolver)
    with net.install():
        for delay, expected in [(None, 0.25), (0.125, 0.125), (0, 0.0), (0.5, 0.5)]:
            net.connects.clear()
            start = trio.current_time()
            stream = await trionet.open_tcp_stream("dual.test", 80, happy_eyeballs_delay=delay, dialer=dialer)
            assert trio.current_time() - start == expected
            assert {c.ip: c.start - start for c in net.connects} == {"::1": 0.0, "127.0.0.1": expected}
            await stream.aclose()
    net.check()


# trio's own timing scenarios (test_highlevel_open_tcp_stream.py), on loopback-looking fake
# addresses: (address, connect time, outcome) rows -> when each attempt started, the winner and
# when the call returned. Every attempt is staggered by 0.25 s, whatever its family.
TRIO_SCENARIOS = [
    pytest.param(
        [("127.0.0.1", 1, "connect"), ("127.0.0.2", 1, "connect"), ("127.0.0.3", 0.2, "connect")],
        {"127.0.0.1": 0.0, "127.0.0.2": 0.25, "127.0.0.3": 0.5},
        "127.0.0.3",
        0.5 + 0.2,
        id="basic_fallthrough",
    ),
    pytest.param(
        [("127.0.0.1", 1, "connect"), ("127.0.0.2", 0.1, "connect"), ("127.0.0.3", 0.1, "connect")],
        {"127.0.0.1": 0.0, "127.0.0.2": 0.25},
        "127.0.0.2",
        0.25 + 0.1,
        id="early_success",
    ),
    pytest.param(
        [("127.0.0.1", 0.1, "refuse"), ("127.0.0.2", 0.1, "refuse"), ("127.0.0.3", 0.2, "connect")],
        {"127.0.0.1": 0.0, "127.0.0.2": 0.1, "127.0.0.3": 0.2},
        "127.0.0.3",
        0.2 + 0.2,
        id="custom_errors_expedite",
    ),
    pytest.param(
        [("::1", 1, "connect"), ("127.0.0.1", 1, "connect"), ("::2", 0.1, "connect")],
        {"::1": 0.0, "127.0.0.1": 0.25, "::2": 0.5},
        "::2",
        0.5 + 0.1,
        id="families_interlaced",
    ),
]


@pytest.mark.parametrize(("rows", "starts", "winner", "done"), TRIO_SCENARIOS)
async def test_trio_timing_scenarios(
    autojump_clock: trio.abc.Clock,
    rows: list[tuple[str, float, str]],
    starts: dict[str, float],
    winner: str,
    done: float,
) -> None:
    net = trionet.testing.FakeNet()
    net.add_host("name.test", [ip for ip, _, _ in rows])
    for ip, delay, outcome in rows:
        net.delay(ip, delay, then="refuse" if outcome == "refuse" else "connect")
    with net.install():
        stream = await trionet.open_tcp_stream("name.test", 80, dialer=trionet.Dialer(resolver=net.resolver))
    assert trio.current_time() == done
    assert net.connect_times == starts
    assert stream.socket.getpeername()[0] == winner
    net.check(stream)  # every losing attempt was closed
    await stream.aclose()


async def test_same_family_stagger_follows_the_delay(autojump_clock: trio.abc.Clock) -> None:
    # The first IPv4 address is dead: trio (and trionet) try the second after the delay, not
    # after a share of the timeout as Go's algorithm does.
    net = trionet.testing.FakeNet()
    net.add_host("two.test", ["127.0.0.1", "127.0.0.2"])
    net.blackhole("127.0.0.1")
    dialer = trionet.Dialer(resolver=net.resolver, timeout=10)
    with net.install():
        for delay, expected in [(None, 0.25), (0.125, 0.125), (0, 0.0), (2.5, 2.5)]:
            net.connects.clear()
            start = trio.current_time()
            stream = await trionet.open_tcp_stream("two.test", 80, happy_eyeballs_delay=delay, dialer=dialer)
            assert trio.current_time() - start == expected
            assert {c.ip: c.start - start for c in net.connects} == {"127.0.0.1": 0.0, "127.0.0.2": expected}
            await stream.aclose()
        # math.inf: one attempt at a time, so the dead address holds the dial until the timeout.
        start = trio.current_time()
        with pytest.raises(trionet.OpError, match=r"i/o timeout$"):
            await trionet.open_tcp_stream("two.test", 80, happy_eyeballs_delay=math.inf, dialer=dialer)
        assert trio.current_time() - start == 10
    net.check()


async def test_a_dialers_own_strategy_keeps_its_settings(autojump_clock: trio.abc.Clock) -> None:
    net = trionet.testing.FakeNet()
    # A answers at once, AAAA after 0.2 s: with resolution_delay=0.3 the dial waits for AAAA
    # and connects to IPv6 first (the dialer's strategy), the attempt delay is the call's.
    net.add_host("late6.test", ["::1", "127.0.0.1"], ipv4_delay=0.0, ipv6_delay=0.2)
    net.blackhole("::1")
    he = trionet.HappyEyeballs(resolution_delay=0.3)
    dialer = trionet.Dialer(resolver=net.resolver, happy_eyeballs=he)
    with net.install():
        stream = await trionet.open_tcp_stream("late6.test", 80, happy_eyeballs_delay=0.125, dialer=dialer)
    assert net.connect_times == {"::1": 0.2, "127.0.0.1": 0.2 + 0.125}
    await stream.aclose()
    net.check()


# -- open_ssl_over_tcp_stream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def tls_server(nursery: trio.Nursery, ca: trustme.CA) -> int:
    async def hello(stream: trio.SSLStream[trio.SocketStream]) -> None:
        try:
            await stream.send_all(b"hello")
            await stream.aclose()
        except trio.BrokenResourceError:
            pass

    ctx = server_context(ca.issue_cert("127.0.0.1"))
    listeners = await nursery.start(trio.serve_ssl_over_tcp, hello, 0, ctx)
    return int(listeners[0].transport_listener.socket.getsockname()[1])


@pytest.mark.parametrize(
    "open_ssl",
    [
        pytest.param(trio.open_ssl_over_tcp_stream, id="trio"),
        pytest.param(trionet.open_ssl_over_tcp_stream, id="trionet"),
    ],
)
@pytest.mark.parametrize("https_compatible", [False, True])
async def test_ssl_call_shapes(
    open_ssl: Callable[..., Awaitable[trio.SSLStream[trio.SocketStream]]],
    https_compatible: bool,
    nursery: trio.Nursery,
    ca: trustme.CA,
) -> None:
    port = await tls_server(nursery, ca)
    stream = await open_ssl(
        "127.0.0.1",
        port,
        ssl_context=client_context(ca),
        https_compatible=https_compatible,
        happy_eyeballs_delay=None,
    )
    assert isinstance(stream, trio.SSLStream)
    assert await stream.receive_some(10) == b"hello"
    await stream.aclose()


async def test_ssl_failure_comes_from_the_call(nursery: trio.Nursery, ca: trustme.CA) -> None:
    port = await tls_server(nursery, ca)
    # trio returns a stream and fails on first use; trionet's handshake is part of the call.
    stream = await trio.open_ssl_over_tcp_stream("127.0.0.1", port)
    with pytest.raises(trio.BrokenResourceError):
        await stream.receive_some(10)
    await stream.aclose()
    with pytest.raises(trionet.OpError) as info:
        await trionet.open_ssl_over_tcp_stream(b"127.0.0.1", port)
    assert str(info.value) == (
        f"dial tcp 127.0.0.1:{port}: tls: failed to verify certificate: unable to get local issuer certificate"
    )


@pytest.mark.parametrize("he", [None, trionet.HappyEyeballs()], ids=["go", "rfc8305"])
async def test_a_hosts_file_name_skips_the_lookups(
    tmp_path: Any,
    listen_sock: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    he: trionet.HappyEyeballs | None,
) -> None:
    # Once the hosts table is read, a hosts-file name needs no lookup at all: both strategies
    # race its addresses at once (both families are in), as an IP-literal list.
    hosts = tmp_path / "hosts"
    hosts.write_text("::1 both.test\n127.0.0.1 both.test\n")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver 127.0.0.1:{closed_port()}\n")
    resolver = trionet.Resolver(hosts_file=str(hosts), resolv_conf=str(resolv))
    dialer = trionet.Dialer(resolver=resolver, happy_eyeballs=he)
    port = listen_sock.getsockname()[1]
    (await dialer.dial("tcp", f"both.test:{port}")).socket.close()  # reads the table
    asked: list[str] = []
    real = trionet.Resolver.lookup_ip_addr

    async def counting(self: trionet.Resolver, host: str, *, network: str = "ip") -> list[trionet.IPAddr]:
        asked.append(host)
        return await real(self, host, network=network)

    monkeypatch.setattr(trionet.Resolver, "lookup_ip_addr", counting)
    stream = await dialer.dial("tcp", f"both.test:{port}")  # [::1] refused, then 127.0.0.1
    assert stream.socket.getpeername()[:2] == ("127.0.0.1", port)
    await stream.aclose()
    assert asked == []
    # A traced dial still looks the name up (its events show the answers).
    with trionet.trace.collect() as events:
        (await dialer.dial("tcp", f"both.test:{port}")).socket.close()
    assert asked == (["both.test"] if he is None else ["both.test", "both.test"])
    assert any(isinstance(e, trionet.trace.ResolveDone) for e in events)
    # Another hosts file: the remembered list belonged to the old one's table, so the next dial
    # looks the name up, finds it gone and asks DNS (a closed port here), which fails.
    other = tmp_path / "hosts2"
    other.write_text("127.0.0.1 other.test\n")
    resolver.hosts_file = str(other)
    with pytest.raises(OSError, match=r"lookup both\.test"):
        await dialer.dial("tcp", f"both.test:{port}")
