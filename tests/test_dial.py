"""The dial engine on real loopback sockets: errors, local addresses, keep-alive, fast fallback
against a real blackhole, deadlines, MPTCP, descriptor hygiene.
"""

from __future__ import annotations

import errno
import os
import random
import re
import socket
import sys
import traceback
from collections.abc import Iterator

import pytest
import trio

import trionet
from trionet import Dialer, DNSError, KeepAliveConfig, OpError, TCPAddr, UDPAddr, UnixAddr, parse_network
from trionet._attempt import SysDialer, is_self_connected
from trionet._sockaddr import SockAddr
from trionet._sockopt import IPPROTO_MPTCP, AnySocket, using_mptcp
from trionet.testing import blackhole_listener

from .gotables import KEEPALIVE_CONFIGS, OS_KEEPALIVE, expected_keepalive, keepalive_values
from .loopback import closed_port, listener, needs_mptcp, open_fds, scripted_resolver

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.loopback


@pytest.fixture
def port4() -> Iterator[int]:
    with listener("127.0.0.1") as lsock:
        yield lsock.getsockname()[1]


@pytest.fixture
def port6() -> Iterator[int]:
    with listener("::1") as lsock:
        yield lsock.getsockname()[1]


async def test_dial_returns_a_socket_stream(port4: int) -> None:
    stream = await trionet.dial("tcp", f"127.0.0.1:{port4}")
    assert isinstance(stream, trio.SocketStream)
    assert stream.socket.getpeername() == ("127.0.0.1", port4)
    assert stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    await stream.aclose()


async def test_refused_reads_like_go_and_keeps_errno() -> None:
    port = closed_port()
    with pytest.raises(OpError) as info:
        await trionet.dial("tcp", f"127.0.0.1:{port}")
    assert str(info.value) == f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    assert info.value.errno == errno.ECONNREFUSED
    assert isinstance(info.value, ConnectionRefusedError)
    assert info.value.addr == TCPAddr("127.0.0.1", port)
    assert info.value.source is None


async def test_refused_with_local_addr_shows_source() -> None:
    port = closed_port()
    with pytest.raises(OpError) as info:
        await Dialer(local_addr=TCPAddr("127.0.0.1")).dial("tcp", f"127.0.0.1:{port}")
    assert str(info.value) == f"dial tcp 127.0.0.1:0->127.0.0.1:{port}: connect: connection refused"


class FailingResolver(trionet.Resolver):
    """Go's TestDialError resolver hook: every name fails with a timeout DNSError."""

    def __init__(self) -> None:  # a private, empty configuration: nothing can reach a server
        super().__init__(
            prefer_python=True, nameservers=["127.0.0.1:1"], resolv_conf=os.devnull, hosts_file=os.devnull
        )

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[trionet.IPAddr]:
        raise DNSError("dial error test", "name", "server", is_timeout=True)


# Go's TestDialError inputs. tcp/udp ones must fail without reaching connect.
DIAL_ERRORS = [
    ("foo", "", "dial foo: unknown network foo"),
    ("bar", "baz", "dial bar: unknown network bar"),
    ("datakit", "mh/astro/r70", "dial datakit: unknown network datakit"),
    ("tcp", "", "dial tcp: missing address"),
    ("tcp", "127.0.0.1:☺", "dial tcp: lookup tcp/☺: unknown port"),
    ("tcp", "no-such-name:80", "dial tcp: lookup name on server: dial error test"),
    ("tcp", "mh/astro/r70:http", "dial tcp: lookup name on server: dial error test"),
    ("tcp", "127.0.0.1:-1", "dial tcp: address -1: invalid port"),
    ("tcp", "127.0.0.1:123456789", "dial tcp: address 123456789: invalid port"),
    ("udp", "127.0.0.1:-1", "dial udp: address -1: invalid port"),
    ("udp", "127.0.0.1:123456789", "dial udp: address 123456789: invalid port"),
    ("ip:icmp", "127.0.0.1", None),  # reaches the kernel (an unconnected raw socket); must be typed
    ("unix", "/path/to/somewhere", "dial unix /path/to/somewhere: connect: no such file or directory"),
    (
        "unixgram",
        "/path/to/somewhere",
        "dial unixgram /path/to/somewhere: connect: no such file or directory",
    ),
    (
        "unixpacket",
        "/path/to/somewhere",
        "dial unixpacket /path/to/somewhere: connect: no such file or directory",
    ),
    # And a few of trionet's own: bad input is a clear error, never a hang.
    ("tcp", "127.0.0.1", "dial tcp: address 127.0.0.1: missing port in address"),
    ("tcp", "::1:80", "dial tcp: address ::1:80: too many colons in address"),
    ("tcp4", "[::1]:80", "dial tcp4: address ::1: no suitable address found"),
    ("tcp6", "127.0.0.1:80", "dial tcp6: address 127.0.0.1: no suitable address found"),
    ("tcp6", "[::ffff:127.0.0.1]:80", "dial tcp6: address ::ffff:127.0.0.1: no suitable address found"),
    ("ip", "127.0.0.1", "dial ip: unknown network ip"),
    ("ip4:foo", "127.0.0.1", "dial ip4:foo: address foo: unknown IP protocol specified"),
]


@pytest.mark.parametrize(("network", "address", "text"), DIAL_ERRORS)
async def test_dial_error(network: str, address: str, text: str | None) -> None:
    reached: list[str] = []
    d = Dialer(
        timeout=3600,
        resolver=FailingResolver(),
        control=lambda net, addr, sock: reached.append(net),
    )
    before = open_fds()
    try:
        conn = await d.dial(network, address)
    except OpError as exc:
        assert exc.op == "dial"
        assert exc.net == network
        if text is not None:
            assert str(exc) == text
    else:
        # ip:icmp to 127.0.0.1 may legitimately "connect" a raw socket as root.
        assert network == "ip:icmp"
        await conn.aclose()
    if network.startswith(("tcp", "udp")) or network in ("foo", "bar", "datakit", "ip"):
        assert reached == [], "bad input must fail before any socket is set up"
    assert open_fds() == before


async def test_dial_error_for_bad_local_address_types(port4: int) -> None:
    with pytest.raises(OpError) as info:
        await Dialer(local_addr=UDPAddr()).dial("tcp4", f"127.0.0.1:{port4}")
    assert str(info.value) == "dial tcp4: address :0: mismatched local address type"
    with pytest.raises(OpError) as info:
        await Dialer(local_addr=UnixAddr("")).dial("tcp4", f"127.0.0.1:{port4}")
    assert str(info.value) == "dial tcp4: mismatched local address type"
    with pytest.raises(OpError) as info:
        await Dialer(local_addr=TCPAddr("::1")).dial("tcp", f"127.0.0.1:{port4}")
    assert str(info.value) == "dial tcp: address [::1]:0: no suitable address found"
    with pytest.raises(OpError) as info:
        await Dialer(local_addr="localhost:0").dial("tcp", f"127.0.0.1:{port4}")
    assert "local address must be an IP literal" in str(info.value)


V4, V6 = "127.0.0.1", "::1"
# Go's TestDialerLocalAddr, TCP rows: (network, remote, local, ok). Local "none" is a nil LocalAddr,
# "{}" an empty TCPAddr; UDP/Unix rows check the type rule.
LOCAL_ADDR_ROWS: list[tuple[str, str, object, bool]] = [
    ("tcp4", V4, None, True),
    ("tcp4", V4, TCPAddr(), True),
    ("tcp4", V4, TCPAddr("0.0.0.0"), True),
    ("tcp4", V4, TCPAddr("::ffff:0.0.0.0"), True),
    ("tcp4", V4, TCPAddr("::"), False),  # AF_INET socket: "non-IPv4 address"
    ("tcp4", V4, TCPAddr("127.0.0.1"), True),
    ("tcp4", V4, TCPAddr("::ffff:127.0.0.1"), True),
    ("tcp4", V4, TCPAddr("::1"), False),
    ("tcp4", V4, UDPAddr(), False),
    ("tcp4", V4, UnixAddr(""), False),
    ("tcp6", V6, None, True),
    ("tcp6", V6, TCPAddr(), True),
    ("tcp6", V6, TCPAddr("0.0.0.0"), True),
    ("tcp6", V6, TCPAddr("::"), True),
    ("tcp6", V6, TCPAddr("127.0.0.1"), False),
    ("tcp6", V6, TCPAddr("::ffff:127.0.0.1"), False),
    ("tcp6", V6, TCPAddr("::1"), True),
    ("tcp6", V6, UDPAddr(), False),
    ("tcp6", V6, UnixAddr(""), False),
    ("tcp", V4, None, True),
    ("tcp", V4, TCPAddr(), True),
    ("tcp", V4, TCPAddr("0.0.0.0"), True),
    ("tcp", V4, TCPAddr("127.0.0.1"), True),
    ("tcp", V4, TCPAddr("::ffff:127.0.0.1"), True),
    ("tcp", V4, TCPAddr("::1"), False),
    ("tcp", V4, UDPAddr(), False),
    ("tcp", V4, UnixAddr(""), False),
    ("tcp", V6, None, True),
    ("tcp", V6, TCPAddr(), True),
    ("tcp", V6, TCPAddr("0.0.0.0"), True),
    ("tcp", V6, TCPAddr("::"), True),
    ("tcp", V6, TCPAddr("::1"), True),
    ("tcp", V6, TCPAddr("127.0.0.1"), False),
    ("tcp", V6, UDPAddr(), False),
    ("tcp", V6, UnixAddr(""), False),
    ("tcp", V4, TCPAddr("::"), True),  # IPv4-mapped works on Linux: AF_INET6 socket bound to ::
    ("tcp", V4, "127.0.0.1:0", True),  # trionet: local_addr as text
    ("tcp6", V6, "[::1]:0", True),
]


@pytest.mark.parametrize(("network", "remote", "local", "ok"), LOCAL_ADDR_ROWS)
async def test_dialer_local_addr(
    network: str, remote: str, local: object, ok: bool, port4: int, port6: int
) -> None:
    port = port4 if remote == V4 else port6
    d = Dialer(local_addr=local)  # type: ignore[arg-type]
    address = trionet.join_host_port(remote, port)
    if not ok:
        with pytest.raises(OpError) as info:
            await d.dial(network, address)
        assert info.value.op == "dial"
        assert info.value.net == network
        return
    stream = await d.dial(network, address)
    try:
        local_ip = stream.socket.getsockname()[0]
        assert local_ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1")
    finally:
        await stream.aclose()


@pytest.mark.parametrize(("idle", "interval", "count"), KEEPALIVE_CONFIGS)
async def test_keepalive_config_dialer(idle: int, interval: int, count: int, port4: int) -> None:
    cfg = KeepAliveConfig(enable=True, idle=idle, interval=interval, count=count)
    # keep_alive alongside "should be ignored" when the config is enabled.
    stream = await Dialer(keep_alive=15, keep_alive_config=cfg).dial("tcp", f"127.0.0.1:{port4}")
    try:
        assert keepalive_values(stream.socket) == expected_keepalive(idle, interval, count)
    finally:
        await stream.aclose()


@pytest.mark.parametrize(
    ("keep_alive", "config", "values"),
    [
        (None, None, (1, 15, 15, 9)),  # zero value
        (0, None, (1, 15, 15, 9)),
        (5, None, (1, 5, 15, 9)),
        (30, None, (1, 30, 15, 9)),
        (1.5, None, (1, 2, 15, 9)),  # rounded up to whole seconds
        (1e-9, None, (1, 1, 15, 9)),
        (-1, None, OS_KEEPALIVE),  # untouched
        (0, KeepAliveConfig(enable=False, count=3), (1, 15, 15, 9)),  # a non-enabled config is replaced
        (-1, KeepAliveConfig(enable=False), OS_KEEPALIVE),
        (-1, KeepAliveConfig(enable=True, idle=5, interval=3, count=10), (1, 5, 3, 10)),
    ],
)
async def test_dialer_keep_alive_table(
    keep_alive: float | None, config: KeepAliveConfig | None, values: tuple[int, int, int, int], port4: int
) -> None:
    stream = await Dialer(keep_alive=keep_alive, keep_alive_config=config).dial("tcp", f"127.0.0.1:{port4}")
    try:
        assert keepalive_values(stream.socket) == values
    finally:
        await stream.aclose()


def test_keepalive_config_rejects_what_linux_would_reject() -> None:
    with pytest.raises(ValueError, match="32767"):
        KeepAliveConfig(enable=True, idle=32768)
    with pytest.raises(ValueError, match="127"):
        KeepAliveConfig(enable=True, count=128)
    with pytest.raises(ValueError, match="32767"):
        Dialer(keep_alive=40000)
    with pytest.raises(TypeError, match=r"^keep_alive_config must be a KeepAliveConfig, not 5$"):
        Dialer(keep_alive_config=5)  # type: ignore[arg-type]
    KeepAliveConfig(enable=True, idle=32767, count=127)  # the limits themselves are fine


def test_a_control_hook_that_cannot_be_called_fails_at_construction() -> None:
    with pytest.raises(TypeError, match=r"^control must be callable or None, not 'nope'$"):
        Dialer(control="nope")  # type: ignore[arg-type]


async def test_dial_local_and_listener_addr(port4: int) -> None:
    # Go's TestDialLocal (":port" is the local system) and TestDialListenerAddr ("[::]:port"
    # with tcp4 dials 0.0.0.0).
    for network, address in [("tcp", f":{port4}"), ("tcp4", f"[::]:{port4}"), ("tcp", f"0.0.0.0:{port4}")]:
        stream = await trionet.dial(network, address)
        await stream.aclose()


async def test_control_sees_family_specific_networks(port4: int, port6: int) -> None:
    seen: list[tuple[str, str]] = []

    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        assert network not in ("tcp", "udp", "ip"), "ambiguous network: " + network
        seen.append((network, address))
        ttl_option = socket.IP_TTL if network.endswith("4") else socket.IPV6_UNICAST_HOPS
        level = socket.IPPROTO_IP if network.endswith("4") else socket.IPPROTO_IPV6
        sock.setsockopt(level, ttl_option, 1)

    d = Dialer(control=control)
    for network, address in [
        ("tcp", f"127.0.0.1:{port4}"),
        ("tcp", f"[::1]:{port6}"),
        ("tcp4", f"127.0.0.1:{port4}"),
        ("tcp6", f"[::1]:{port6}"),
    ]:
        stream = await d.dial(network, address)
        await stream.aclose()
    assert seen == [
        ("tcp4", f"127.0.0.1:{port4}"),
        ("tcp6", f"[::1]:{port6}"),
        ("tcp4", f"127.0.0.1:{port4}"),
        ("tcp6", f"[::1]:{port6}"),
    ]


async def test_control_rejection_aborts_the_attempt_only(port4: int) -> None:
    # An SSRF-style filter: refuse IPv6, so a dual-stack name connects over IPv4.
    class Blocked(Exception):
        pass

    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        if network == "tcp6":
            raise Blocked(f"blocked {address}")

    resolver = scripted_resolver({"dual.test": ["::1", "127.0.0.1"]})
    stream = await Dialer(control=control, resolver=resolver).dial("tcp", f"dual.test:{port4}")
    assert stream.socket.getpeername()[0] == "127.0.0.1"
    await stream.aclose()
    with pytest.raises(OpError) as info:
        await Dialer(control=control).dial("tcp", f"[::1]:{port4}")
    assert str(info.value) == f"dial tcp [::1]:{port4}: blocked [::1]:{port4}"
    assert isinstance(info.value.err, Blocked)


async def test_fast_fallback_against_a_real_blackhole(autojump_clock: trio.testing.MockClock) -> None:
    # IPv6 is primary but blackholed; IPv4 listens on the same port. The fallback starts after
    # the 300 ms delay and wins; the primary attempt is cancelled. The sockets are real; only the
    # wait is on Trio's virtual clock (it jumps while the blackholed connect is all that runs).
    with blackhole_listener(socket.AF_INET6) as hole, listener("127.0.0.1", hole.port):
        port = hole.port
        resolver = scripted_resolver({"dual.test": ["::1", "127.0.0.1"]})
        start = trio.current_time()
        with trionet.trace.collect() as events:
            stream = await Dialer(resolver=resolver).dial("tcp", f"dual.test:{port}")
        elapsed = trio.current_time() - start
        try:
            assert stream.socket.getpeername() == ("127.0.0.1", port)
        finally:
            await stream.aclose()
    assert elapsed >= 0.3  # the fallback cannot start before the delay
    assert elapsed == pytest.approx(0.3)  # ... and the loopback connect that wins takes no time
    attempts = [e for e in events if isinstance(e, trionet.trace.AttemptDone)]
    assert [(e.role, e.family, e.ok, e.cancelled) for e in attempts] == [
        ("fallback", "ipv4", True, False),
        ("primary", "ipv6", False, True),
    ]
    starts = [e for e in events if isinstance(e, trionet.trace.AttemptStart)]
    assert starts[1].time - starts[0].time >= 0.3
    assert starts[0].time == start


async def test_dialer_timeout_against_a_blackhole_is_io_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with blackhole_listener() as hole:
        port = hole.port
        before = open_fds()
        start = trio.current_time()
        with pytest.raises(OpError) as info:
            await Dialer(timeout=0.2).dial("tcp", f"127.0.0.1:{port}")
        assert trio.current_time() - start == pytest.approx(0.2)  # the blackhole never answers
        assert str(info.value) == f"dial tcp 127.0.0.1:{port}: i/o timeout"
        assert isinstance(info.value, TimeoutError)
        assert info.value.timeout
        # The enclosing scope's expiry is a plain Trio cancellation, never an error.
        with trio.move_on_after(0.2) as scope:
            await trionet.dial("tcp", f"127.0.0.1:{port}")
        assert scope.cancelled_caught
        with pytest.raises(trio.TooSlowError):
            with trio.fail_after(0.2):
                await trionet.dial("tcp", f"127.0.0.1:{port}")
        assert open_fds() == before


async def test_expired_deadlines_fail_before_any_socket(port4: int) -> None:
    # Go: a deadline already passed gives i/o timeout at the (literal) address.
    calls: list[str] = []
    for d in [
        Dialer(timeout=0, control=lambda *a: calls.append("x")),
        Dialer(timeout=-5, control=lambda *a: calls.append("x")),
        Dialer(deadline=trio.current_time() - 1, control=lambda *a: calls.append("x")),
    ]:
        with pytest.raises(OpError) as info:
            await d.dial("tcp", f"127.0.0.1:{port4}")
        assert str(info.value) == f"dial tcp 127.0.0.1:{port4}: i/o timeout"
    assert calls == []
    # A huge timeout does not overflow (Go's TestDialTimeoutMaxDuration).
    for d in [Dialer(timeout=float(1 << 63)), Dialer(deadline=trio.current_time() + float(1 << 63))]:
        stream = await d.dial("tcp", f"127.0.0.1:{port4}")
        await stream.aclose()


async def test_all_failures_keep_every_error() -> None:
    # One port number for both families: free on 127.0.0.1, and nothing listens on it on ::1
    # either (the assertions below check that both refuse).
    p4 = closed_port("127.0.0.1")
    resolver = scripted_resolver({"two.test": ["::1", "127.0.0.1", "::1"]})
    with pytest.raises(OpError) as info:
        await Dialer(resolver=resolver).dial("tcp", f"two.test:{p4}")
    # Go's choice: the first primary error.
    assert str(info.value) == f"dial tcp [::1]:{p4}: connect: connection refused"
    cause = info.value.__cause__
    assert isinstance(cause, ExceptionGroup)
    # Every attempt's error is reachable: the one raised, and the others in __cause__ (issue 11
    # item 14: the raised one is not repeated there, so a traceback prints each once).
    assert all(e is not info.value for e in cause.exceptions)
    assert sorted(str(e) for e in [info.value, *cause.exceptions]) == sorted(
        [
            f"dial tcp [::1]:{p4}: connect: connection refused",
            f"dial tcp [::1]:{p4}: connect: connection refused",
            f"dial tcp 127.0.0.1:{p4}: connect: connection refused",
        ]
    )


async def test_a_traceback_prints_every_attempt_error_once() -> None:
    p4 = closed_port("127.0.0.1")
    resolver = scripted_resolver({"two.test": ["::1", "127.0.0.1"]})
    with pytest.raises(OpError) as info:
        await Dialer(resolver=resolver).dial("tcp", f"two.test:{p4}")
    text = "".join(traceback.format_exception(info.value))
    for addr in (f"[::1]:{p4}", f"127.0.0.1:{p4}"):
        # the exception lines ("trionet.OpError[ConnectionRefusedError]: dial tcp ..."), once each
        printed = re.findall(
            rf"OpError\[\w+\]: dial tcp {re.escape(addr)}: connect: connection refused", text
        )
        assert len(printed) == 1, text


async def test_connection_outlives_the_scope_it_was_dialed_in() -> None:
    # Go's TestCancelAfterDial: cancelling after a successful dial must not affect the conn.
    with listener("127.0.0.1") as lsock:
        port = lsock.getsockname()[1]
        stream: trio.SocketStream | None = None
        with trio.CancelScope() as scope:
            stream = await Dialer(timeout=10).dial("tcp", f"127.0.0.1:{port}")
        scope.cancel()
        assert stream is not None
        server, _ = lsock.accept()
        with server:
            await stream.send_all(b"echo!\n")
            assert server.recv(16) == b"echo!\n"
            server.sendall(b"back\n")
            assert await stream.receive_some(16) == b"back\n"
            server.shutdown(socket.SHUT_WR)
            assert await stream.receive_some(16) == b""
        await stream.aclose()


async def test_no_descriptor_leaks_when_cancelled_at_random_moments() -> None:
    # Hundreds of dials: to a listener, a blackhole, a closed port and a dual-stack race, each
    # cancelled by an enclosing scope at a random moment. Nothing may stay open.
    rng = random.Random(1234)
    with listener("127.0.0.1") as lsock, blackhole_listener(socket.AF_INET6) as hole_addr:
        hole = hole_addr.port
        port = lsock.getsockname()[1]
        resolver = scripted_resolver({"race.test": ["::1", "127.0.0.1"]})
        targets = [
            ("tcp", f"127.0.0.1:{port}", Dialer()),
            ("tcp", f"[::1]:{hole}", Dialer()),
            ("tcp", f"127.0.0.1:{closed_port()}", Dialer()),
            ("tcp", f"race.test:{hole}", Dialer(resolver=resolver, fallback_delay=0.001)),
            ("tcp", f"127.0.0.1:{port}", Dialer(multipath_tcp=True)),
        ]
        before = open_fds()
        outcomes = {"connected": 0, "cancelled": 0, "failed": 0}
        for i in range(400):
            network, address, d = targets[i % len(targets)]
            with trio.move_on_after(rng.uniform(0, 0.004)) as scope:
                try:
                    stream = await d.dial(network, address)
                except OSError:
                    outcomes["failed"] += 1
                    continue
                outcomes["connected"] += 1
                await stream.aclose()
            if scope.cancelled_caught:
                outcomes["cancelled"] += 1
            # Drain the listener's accept queue so its backlog never fills.
            lsock.setblocking(False)
            try:
                while True:
                    lsock.accept()[0].close()
            except BlockingIOError:
                pass
        assert open_fds() == before
    assert all(outcomes.values()), outcomes


def test_multipath_tcp_tri_state(monkeypatch: pytest.MonkeyPatch) -> None:
    # GODEBUG=multipathtcp meanings: 0 off, 1 both, 2 listeners only, 3 dialers only.
    for value, dialer_default in [("", False), ("0", False), ("1", True), ("2", False), ("3", True)]:
        monkeypatch.setenv("TRIONET_MULTIPATHTCP", value)
        assert Dialer().multipath_tcp_enabled() is dialer_default
        assert Dialer(multipath_tcp=True).multipath_tcp_enabled() is True
        assert Dialer(multipath_tcp=False).multipath_tcp_enabled() is False


@needs_mptcp
async def test_mptcp_dial_on_real_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    with listener("127.0.0.1", proto=IPPROTO_MPTCP) as lsock:
        port = lsock.getsockname()[1]
        stream = await Dialer(multipath_tcp=True).dial("tcp", f"127.0.0.1:{port}")
        server, _ = lsock.accept()
        try:
            assert using_mptcp(stream.socket)  # MPTCP_INFO succeeds only on a real MPTCP link
            assert stream.socket.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        finally:
            server.close()
            await stream.aclose()
        plain = await Dialer().dial("tcp", f"127.0.0.1:{port}")
        lsock.accept()[0].close()
        assert not using_mptcp(plain.socket)
        await plain.aclose()
        monkeypatch.setenv("TRIONET_MULTIPATHTCP", "1")
        env = await Dialer().dial("tcp", f"127.0.0.1:{port}")
        lsock.accept()[0].close()
        assert using_mptcp(env.socket)
        await env.aclose()


@needs_mptcp
async def test_mptcp_falls_back_to_tcp_against_a_plain_listener(port4: int) -> None:
    stream = await Dialer(multipath_tcp=True).dial("tcp", f"127.0.0.1:{port4}")
    assert not using_mptcp(stream.socket)  # the server does not speak MPTCP: plain TCP
    await stream.aclose()


async def test_dial_timeout_function(port4: int) -> None:
    stream = await trionet.dial_timeout("tcp", f"127.0.0.1:{port4}", 5)
    await stream.aclose()
    with pytest.raises(OpError) as info:
        await trionet.dial_timeout("tcp", f"127.0.0.1:{port4}", 0)
    assert isinstance(info.value, TimeoutError)


def test_dialer_is_an_immutable_value() -> None:
    import dataclasses

    d = Dialer(timeout=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.timeout = 2  # type: ignore[misc]
    assert dataclasses.replace(d, timeout=2).timeout == 2
    assert hash(Dialer()) == hash(Dialer())
    assert os.environ.get("TRIONET_MULTIPATHTCP") in (None, "")


# --- one attempt's failure points, made to happen with trio's socket-factory hook ------------


class _Factory(trio.abc.SocketFactory):
    """Real sockets, remembered in *made*; *fail* makes socket() fail."""

    def __init__(self, *, fail: OSError | None = None) -> None:
        self.fail = fail
        self.made: list[trio.socket.SocketType] = []

    def socket(
        self,
        family: int | None = None,
        type: int | None = None,  # noqa: A002 - trio's SocketFactory signature
        proto: int | None = None,
    ) -> trio.socket.SocketType:
        if self.fail is not None:
            raise self.fail
        sock = trio.socket.from_stdlib_socket(
            socket.socket(family or socket.AF_INET, type or socket.SOCK_STREAM, proto or 0)
        )
        self.made.append(sock)
        return sock


@pytest.mark.parametrize(("lie", "returned"), [(1, 1), (2, 2), (3, 2)], ids=["once", "twice", "always"])
async def test_self_connect_is_retried_twice_as_in_go(port4: int, lie: int, returned: int) -> None:
    # Go's doDialTCPProto: a self-connected socket is closed and the dial redone, at most twice;
    # a third self-connect is returned as it is (Go does the same). The first *lie* connected
    # sockets are reported as self-connected (a real one cannot be had on demand).
    checked: list[SockAddr] = []

    def scripted(sock: AnySocket, remote: SockAddr) -> bool:
        checked.append(remote)
        return len(checked) <= lie or real(sock, remote)

    real = is_self_connected
    # The seam: the attempt's self-connect check, passed in instead of patched.
    sd = SysDialer(Dialer(), parse_network("tcp"), self_connected=scripted)
    factory = _Factory()
    trio.socket.set_custom_socket_factory(factory)
    try:
        stream = trio.SocketStream(await sd.attempt(TCPAddr("127.0.0.1", port4)))
    finally:
        trio.socket.set_custom_socket_factory(None)
    assert len(factory.made) == returned + 1
    # the third attempt is not checked: after two redials Go returns what it gets
    assert checked == [("127.0.0.1", port4)] * min(returned + 1, 2)
    assert stream.socket is factory.made[returned]
    assert all(s.fileno() == -1 for s in factory.made[:returned])  # the self-connected ones: closed
    await stream.aclose()


def test_self_connected_compares_the_local_address_with_the_remote_one() -> None:
    # Go's selfConnect: same IP and port at both ends; a socket that cannot say where it is
    # bound counts as self-connected (Go: laddr or raddr nil), so it is redialed.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
        assert is_self_connected(sock, (host, port))
        assert not is_self_connected(sock, (host, port + 1 if port < 65535 else port - 1))
        assert not is_self_connected(sock, ("127.0.0.2", port))
    assert is_self_connected(sock, (host, port))  # closed: getsockname fails


async def test_socket_failure_reads_like_go_and_keeps_errno(port4: int) -> None:
    trio.socket.set_custom_socket_factory(_Factory(fail=OSError(errno.EMFILE, os.strerror(errno.EMFILE))))
    try:
        with pytest.raises(OpError) as info:
            await trionet.dial("tcp", f"127.0.0.1:{port4}")
    finally:
        trio.socket.set_custom_socket_factory(None)
    assert str(info.value) == f"dial tcp 127.0.0.1:{port4}: socket: too many open files"
    assert info.value.errno == errno.EMFILE


async def test_bind_failure_names_both_addresses(port4: int) -> None:
    with listener("127.0.0.2") as taken:  # a port in use on 127.0.0.2, no SO_REUSEADDR here
        local = f"127.0.0.2:{taken.getsockname()[1]}"
        with pytest.raises(OpError) as info:
            await Dialer(local_addr=local).dial("tcp", f"127.0.0.1:{port4}")
    assert str(info.value) == f"dial tcp {local}->127.0.0.1:{port4}: bind: address already in use"
    assert isinstance(info.value, OSError)
    assert info.value.errno == errno.EADDRINUSE


def test_local_addr_of_the_wrong_type_fails_at_construction() -> None:
    with pytest.raises(TypeError, match=r"^local_addr must be an address, a string or None, not 5$"):
        Dialer(local_addr=5)  # type: ignore[arg-type]


@needs_mptcp
async def test_any_mptcp_failure_redials_with_plain_tcp(port4: int) -> None:
    # Go's dialMPTCP: whatever fails on the MPTCP attempt, the dial is redone with plain TCP.
    seen: list[int] = []

    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        seen.append(sock.proto)
        if sock.proto == IPPROTO_MPTCP:
            raise OSError(errno.EPERM, "refused by policy")

    stream = await Dialer(multipath_tcp=True, control=control).dial("tcp", f"127.0.0.1:{port4}")
    assert seen == [IPPROTO_MPTCP, 0]
    assert not using_mptcp(stream.socket)
    await stream.aclose()
