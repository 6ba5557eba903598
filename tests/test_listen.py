"""ListenConfig, listen, Listener and serve on real loopback and unix sockets.

Go's listener tests ported: TestListenError, TestTCPListener, TestDualStackTCPListener,
TestUnixUnlink, TestListenConfigControl, TestCloseError, TestClosingListener, TestMultiPathTCP
(listener side), the keep-alive tables for accepted connections, plus SO_REUSEPORT, the backlog
and Trio's listener contract (serve_listeners, nursery.start, ClosedResourceError).
"""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import trio

import trionet
from trionet import Dialer, KeepAliveConfig, ListenConfig, Listener, OpError, TCPAddr, UDPAddr, UnixAddr
from trionet._listen import listener_backlog
from trionet._sockopt import IPPROTO_MPTCP, using_mptcp
from trionet.testing import FakeResolver

from .gotables import (
    CONTROL_PACKET,
    CONTROL_STREAM,
    KEEPALIVE_CONFIGS,
    OS_KEEPALIVE,
    check_hop_limit,
    control_address,
    control_on_conn_setup,
    expected_keepalive,
    keepalive_values,
)
from .loopback import (
    accept_message,
    check_close_wakes,
    closed_port,
    needs_mptcp,
    needs_raw_sockets,
    open_fds,
    scripted_resolver,
)

pytestmark = pytest.mark.loopback

AF4, AF6 = socket.AF_INET, socket.AF_INET6


def exists(path: str) -> bool:
    return os.path.exists(path)


def touch(path: str) -> None:
    Path(path).touch()


# --- Go's TestListenError: bad input fails before any socket exists -------------------------


LISTEN_ERRORS = [
    ("foo", "", "listen foo: unknown network foo"),
    ("bar", "baz", "listen bar: unknown network bar"),
    ("datakit", "mh/astro/r70", "listen datakit: unknown network datakit"),
    ("tcp", "127.0.0.1:☺", "listen tcp: lookup tcp/☺: unknown port"),
    ("tcp", "no-such-name:80", "listen tcp: lookup no-such-name: no such host"),
    ("tcp", "mh/astro/r70:http", "listen tcp: lookup mh/astro/r70: no such host"),
    ("tcp", "127.0.0.1:-1", "listen tcp: address -1: invalid port"),
    ("tcp", "127.0.0.1:123456789", "listen tcp: address 123456789: invalid port"),
    ("unix", "/path/to/somewhere", None),
    ("unixpacket", "/path/to/somewhere", None),
    ("udp", "127.0.0.1:0", "listen udp 127.0.0.1:0: address 127.0.0.1:0: unexpected address type"),
    ("ip4:icmp", "127.0.0.1", "listen ip4:icmp 127.0.0.1: address 127.0.0.1: unexpected address type"),
    ("unixgram", "/tmp/x.sock", "listen unixgram /tmp/x.sock: unknown network unixgram"),
    ("ip", "", "listen ip: unknown network ip"),
    ("ip4:nosuchproto", "", "listen ip4:nosuchproto: address nosuchproto: unknown IP protocol specified"),
]

LISTEN_PACKET_ERRORS = [
    ("foo", "", "listen foo: unknown network foo"),
    ("bar", "baz", "listen bar: unknown network bar"),
    ("datakit", "mh/astro/r70", "listen datakit: unknown network datakit"),
    ("udp", "127.0.0.1:☺", "listen udp: lookup udp/☺: unknown port"),
    ("udp", "no-such-name:80", "listen udp: lookup no-such-name: no such host"),
    ("udp", "mh/astro/r70:http", "listen udp: lookup udp/http: unknown port"),
    ("udp", "127.0.0.1:-1", "listen udp: address -1: invalid port"),
    ("udp", "127.0.0.1:123456789", "listen udp: address 123456789: invalid port"),
    ("tcp", ":0", "listen tcp :0: address :0: unexpected address type"),
    ("unix", "/tmp/x.sock", "listen unix /tmp/x.sock: unknown network unix"),
    ("unixpacket", "/tmp/x.sock", "listen unixpacket /tmp/x.sock: unknown network unixpacket"),
]


def _no_control(network: str, address: str, sock: trio.socket.SocketType) -> None:
    raise AssertionError(f"control reached for {network} {address}")


@pytest.mark.parametrize(("network", "address", "text"), LISTEN_ERRORS)
async def test_listen_error(network: str, address: str, text: str | None) -> None:
    resolver = FakeResolver()
    before = open_fds()
    lc = ListenConfig(control=_no_control if text else None)
    with pytest.raises(OpError) as info:
        await lc._listen(network, address, resolver)
    assert info.value.op == "listen"
    assert info.value.net == network
    if text is not None:
        assert str(info.value) == text
    else:  # a socket was made; the directory does not exist, so bind fails
        assert str(info.value) == f"listen {network} {address}: bind: no such file or directory"
        assert isinstance(info.value, FileNotFoundError)
    assert open_fds() == before


@pytest.mark.parametrize(("network", "address", "text"), LISTEN_PACKET_ERRORS)
async def test_listen_packet_error(network: str, address: str, text: str) -> None:
    before = open_fds()
    with pytest.raises(OpError) as info:
        await ListenConfig(control=_no_control)._listen_packet(network, address, FakeResolver())
    assert str(info.value) == text
    assert open_fds() == before


async def test_public_listen_uses_the_default_resolver_for_literals() -> None:
    # The module-level functions are the zero-value shortcuts (Go's Listen / ListenPacket).
    async with await trionet.listen("tcp", "127.0.0.1:0") as ln:
        assert isinstance(ln, Listener)
    async with await trionet.listen_packet("udp", "127.0.0.1:0") as pc:
        assert isinstance(pc, trionet.PacketConn)


async def test_a_host_name_listens_on_its_first_ipv4_address() -> None:
    # Go's first(isIPv4): even when ::1 sorts first.
    resolver = scripted_resolver({"dual.test": ["::1", "127.0.0.1"], "v6.test": ["::1"]})
    ln = await ListenConfig()._listen("tcp", "dual.test:0", resolver)
    assert str(ln.addr) == f"127.0.0.1:{ln.socket.getsockname()[1]}"
    await ln.aclose()
    ln = await ListenConfig()._listen("tcp", "v6.test:0", resolver)
    assert ln.socket.family == AF6
    assert str(ln.addr).startswith("[::1]:")
    await ln.aclose()


# --- Go's TestTCPListener / TestUDPListener -------------------------------------------------

LISTENER_ROWS = [
    ("", "", AF6),
    ("", "0.0.0.0", AF6),
    ("", "::ffff:0.0.0.0", AF6),
    ("", "::", AF6),
    ("", "127.0.0.1", AF4),
    ("", "::ffff:127.0.0.1", AF4),
    ("", "::1", AF6),
    ("4", "", AF4),
    ("4", "0.0.0.0", AF4),
    ("4", "::ffff:0.0.0.0", AF4),
    ("4", "127.0.0.1", AF4),
    ("4", "::ffff:127.0.0.1", AF4),
    ("6", "", AF6),
    ("6", "::", AF6),
    ("6", "::1", AF6),
]


AnyListener = (
    Listener[trio.SocketStream, TCPAddr | UnixAddr]
    | Listener[trionet.PacketConn, UnixAddr]
    | trionet.PacketConn
)


async def _open(kind: str, network: str, address: str) -> AnyListener:
    if kind == "tcp":
        return await ListenConfig(multipath_tcp=False).listen(network, address)
    return await ListenConfig().listen_packet(network, address)


def _port_of(obj: AnyListener) -> int:
    return int(obj.socket.getsockname()[1])


@pytest.mark.parametrize("kind", ["tcp", "udp"])
@pytest.mark.parametrize(("suffix", "host", "family"), LISTENER_ROWS)
async def test_listener_family_and_second_listen_fails(
    kind: str, suffix: str, host: str, family: int
) -> None:
    network = kind + suffix
    first = await _open(kind, network, trionet.join_host_port(host, 0))
    try:
        assert first.socket.family == family
        if family == AF6 and host in ("", "::", "0.0.0.0", "::ffff:0.0.0.0"):
            # (Linux itself makes a socket bound to a specific IPv6 address IPv6-only.)
            v6only = first.socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            assert v6only == (1 if suffix == "6" else 0)
        before = open_fds()
        with pytest.raises(OpError) as info:
            await _open(kind, network, trionet.join_host_port(host, _port_of(first)))
        assert info.value.errno == errno.EADDRINUSE
        assert str(info.value).endswith(": bind: address already in use")
        assert open_fds() == before
    finally:
        await first.aclose()


async def test_address_in_use_reads_like_go() -> None:
    async with await trionet.listen("tcp", "127.0.0.1:0") as ln:
        port = ln.addr.port
        with pytest.raises(OpError) as info:
            await trionet.listen("tcp", f"127.0.0.1:{port}")
    assert str(info.value) == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert isinstance(info.value, OSError)
    assert info.value.errno == errno.EADDRINUSE
    assert info.value.addr == TCPAddr("127.0.0.1", port)


async def test_ipv6_wildcard_listener_reports_an_ipv6_address() -> None:
    # Go's TestListenIPv6WildcardAddr (go.dev/issue/77945).
    async with await trionet.listen("tcp", "[::]:0") as ln:
        assert str(ln.addr).startswith("[::]:")
        assert ln.addr.network == "tcp"


# --- Go's TestDualStackTCPListener / TestDualStackUDPListener --------------------------------

DUAL_STACK_ROWS = [
    ("", "", "", "", False),
    ("", "", "", "0.0.0.0", False),
    ("", "0.0.0.0", "", "", False),
    ("", "", "", "::", False),
    ("", "::", "", "", False),
    ("", "0.0.0.0", "", "::", False),
    ("", "::", "", "0.0.0.0", False),
    ("", "::ffff:0.0.0.0", "", "::", False),
    ("", "::", "", "::ffff:0.0.0.0", False),
    ("4", "", "6", "", True),
    ("6", "", "4", "", True),
    ("4", "0.0.0.0", "6", "::", True),
    ("6", "::", "4", "0.0.0.0", True),
    ("", "127.0.0.1", "", "::1", True),
    ("", "::1", "", "127.0.0.1", True),
    ("4", "127.0.0.1", "6", "::1", True),
    ("6", "::1", "4", "127.0.0.1", True),
]


@pytest.mark.parametrize("kind", ["tcp", "udp"])
@pytest.mark.parametrize(("s1", "h1", "s2", "h2", "ok"), DUAL_STACK_ROWS)
async def test_dual_stack_listener(kind: str, s1: str, h1: str, s2: str, h2: str, ok: bool) -> None:
    # Like Go, retry with another port when the second family's port is taken by someone else.
    for _ in range(5):
        first = await _open(kind, kind + s1, trionet.join_host_port(h1, 0))
        try:
            try:
                second = await _open(kind, kind + s2, trionet.join_host_port(h2, _port_of(first)))
            except OpError as exc:
                assert exc.errno == errno.EADDRINUSE
                if ok:
                    continue
                return
            await second.aclose()
            assert ok, "the second listen should have failed with EADDRINUSE"
            return
        finally:
            await first.aclose()
    pytest.fail("the second listen kept failing with EADDRINUSE")


# --- Go's TestUnixUnlink --------------------------------------------------------------------


async def test_unix_unlink(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    ln = await trionet.listen("unix", path)
    assert ln.addr == UnixAddr(path, "unix")
    assert ln.unlink_on_close
    assert exists(path)
    await ln.aclose()
    assert not exists(path)

    # Only the first close unlinks: a file re-created at the path survives a second close.
    ln = await trionet.listen("unix", path)
    ln.close()
    touch(path)
    await ln.aclose()
    assert exists(path)
    os.unlink(path)

    # unlink_on_close=False keeps the file.
    ln = await trionet.listen("unix", path)
    ln.unlink_on_close = False
    await ln.aclose()
    assert exists(path)

    # Listen never removes a stale file: Go's "bind: address already in use".
    with pytest.raises(OpError) as info:
        await trionet.listen("unix", path)
    assert str(info.value) == f"listen unix {path}: bind: address already in use"


@pytest.mark.parametrize(("network", "kind"), [("unix", "stream"), ("unixgram", "packet")])
async def test_unix_empty_name_gets_an_automatic_abstract_name(network: str, kind: str) -> None:
    # Go listens on "" with the kernel's autobind: an abstract name ("@" + 5 hex digits). Trio's
    # own bind cannot take an empty path; trionet binds it anyway.
    before = open_fds()
    addr: object
    if kind == "stream":
        async with await trionet.listen(network, "") as ln:
            addr = ln.addr
    else:
        async with await trionet.listen_packet(network, "") as pc:
            addr = pc.local_addr
    assert isinstance(addr, UnixAddr)
    assert re.fullmatch(r"@[0-9a-f]{5}", addr.name), addr
    assert addr.network == network
    assert open_fds() == before


async def test_multicast_listen_binds_the_wildcard_and_shares_the_port() -> None:
    # Go's listenDatagram: a multicast address binds the wildcard (with SO_REUSEADDR) so that
    # several listeners share the group's port; the control hook sees that wildcard address.
    port = closed_port(socktype=socket.SOCK_DGRAM)
    seen: list[tuple[str, str]] = []
    lc = ListenConfig(control=lambda network, address, sock: seen.append((network, address)))
    async with (
        await lc.listen_packet("udp4", f"224.0.0.251:{port}") as a,
        await lc.listen_packet("udp4", f"224.0.0.251:{port}") as b,
    ):
        assert a.local_addr == b.local_addr == UDPAddr("0.0.0.0", port)
    assert seen == [("udp4", f"0.0.0.0:{port}")] * 2


async def test_unix_abstract_name_has_no_file(tmp_path: Path) -> None:
    name = f"@trionet-test-{os.getpid()}-{id(tmp_path)}"
    ln = await trionet.listen("unix", name)
    assert str(ln.addr) == name
    assert not ln.unlink_on_close
    async with await trionet.dial("unix", name) as client:
        server = await accept_message(ln, client, b"abstract")
        await server.aclose()
    await ln.aclose()


async def test_unixgram_listen_packet_does_not_unlink(tmp_path: Path) -> None:
    path = str(tmp_path / "g.sock")
    pc = await trionet.listen_packet("unixgram", path)
    await pc.aclose()
    assert exists(path)


# --- Go's TestListenConfigControl -----------------------------------------------------------


# Listening only: the wildcard host (":0") makes one dual-stack AF_INET6 socket, so the hook sees
# the IPv6 network; a dial has no wildcard to go to.
CONTROL_STREAM_WILDCARD: list[tuple[str, str | None, str]] = [("tcp", "", "tcp6")]
CONTROL_PACKET_WILDCARD: list[tuple[str, str | None, str]] = [("udp", "", "udp6")]


@pytest.mark.parametrize(("network", "host", "ctrl"), CONTROL_STREAM + CONTROL_STREAM_WILDCARD)
async def test_listen_config_control_stream(
    network: str, host: str | None, ctrl: str, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    address = control_address(host, tmp_path)
    lc = ListenConfig(control=control_on_conn_setup(seen), multipath_tcp=False)
    async with await lc.listen(network, address) as ln:
        check_hop_limit(ln.socket, ctrl)
    assert seen == [(ctrl, address)]  # the family-specific network and the pre-bind address


@pytest.mark.parametrize(("network", "host", "ctrl"), CONTROL_PACKET + CONTROL_PACKET_WILDCARD)
async def test_listen_config_control_packet(
    network: str, host: str | None, ctrl: str, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    address = control_address(host, tmp_path)
    async with await ListenConfig(control=control_on_conn_setup(seen)).listen_packet(network, address) as pc:
        check_hop_limit(pc.socket, ctrl)
    assert seen == [(ctrl, address)]


async def test_control_error_aborts_the_listen_without_leaking() -> None:
    def refuse(network: str, address: str, sock: trio.socket.SocketType) -> None:
        raise PermissionError(errno.EACCES, "not on my watch")

    before = open_fds()
    with pytest.raises(OpError) as info:
        await ListenConfig(control=refuse, multipath_tcp=False).listen("tcp", "127.0.0.1:0")
    assert str(info.value) == "listen tcp 127.0.0.1:0: [Errno 13] not on my watch"
    assert isinstance(info.value.err, PermissionError)
    assert open_fds() == before


# --- Closing: Trio's aclose, Go's close (TestCloseError), TestClosingListener ----------------


async def test_close_twice_is_go_error_aclose_twice_is_fine() -> None:
    ln = await trionet.listen("tcp", "127.0.0.1:0")
    ln.close()
    with pytest.raises(OpError) as info:
        ln.close()
    assert str(info.value) == f"close tcp {ln.addr}: use of closed network connection"
    await ln.aclose()
    await ln.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await ln.accept()


async def test_closing_wakes_a_blocked_accept() -> None:
    ln = await trionet.listen("tcp", "127.0.0.1:0")
    await check_close_wakes(ln, ln.accept)


async def test_closing_listener_can_listen_again_at_once() -> None:
    # Go's TestClosingListener (#21856): SO_REUSEADDR lets the address be reused immediately,
    # even with an accepted connection left in TIME_WAIT.
    ln = await trionet.listen("tcp", "127.0.0.1:0")
    address = str(ln.addr)
    async with trio.open_nursery() as nursery:

        async def accept_loop() -> None:
            while True:
                try:
                    conn = await ln.accept()
                except trio.ClosedResourceError:
                    return
                await conn.aclose()

        nursery.start_soon(accept_loop)
        client = await trionet.dial("tcp", address)
        await client.receive_some(1)  # the server closed first: its side is in TIME_WAIT
        await client.aclose()
        await ln.aclose()
    again = await trionet.listen("tcp", address)
    await again.aclose()


# --- keep-alive on accepted connections (Go's TestTCPConnKeepAliveConfigListener) -------------


async def _accepted(lc: ListenConfig) -> tuple[trio.SocketStream, trio.SocketStream]:
    async with await lc.listen("tcp", "127.0.0.1:0") as ln:
        client = await Dialer(keep_alive=-1).dial("tcp", str(ln.addr))
        return client, await ln.accept()


@pytest.mark.parametrize(("idle", "interval", "count"), KEEPALIVE_CONFIGS)
async def test_keepalive_config_listener(idle: int, interval: int, count: int) -> None:
    config = KeepAliveConfig(enable=True, idle=idle, interval=interval, count=count)
    client, server = await _accepted(ListenConfig(keep_alive=15, keep_alive_config=config))
    async with client, server:
        assert keepalive_values(server.socket) == expected_keepalive(idle, interval, count)
        assert server.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


@pytest.mark.parametrize(
    ("keep_alive", "expect"),
    [
        (None, (1, 15, 15, 9)),
        (0, (1, 15, 15, 9)),
        (5, (1, 5, 15, 9)),
        (1.5, (1, 2, 15, 9)),
        (-1, OS_KEEPALIVE),  # left alone: the kernel's own defaults
    ],
)
async def test_listen_config_keep_alive_table(keep_alive: float | None, expect: tuple[int, ...]) -> None:
    client, server = await _accepted(ListenConfig(keep_alive=keep_alive, multipath_tcp=False))
    async with client, server:
        assert keepalive_values(server.socket) == expect


# --- SO_REUSEPORT ---------------------------------------------------------------------------


async def test_reuse_port_shares_a_port() -> None:
    lc = ListenConfig(reuse_port=True)
    a = await lc.listen("tcp", "127.0.0.1:0")
    b = await lc.listen("tcp", str(a.addr))
    assert a.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    with pytest.raises(OpError) as info:
        await trionet.listen("tcp", str(a.addr))  # without the option: in use
    assert info.value.errno == errno.EADDRINUSE
    counts = {"a": 0, "b": 0}
    async with trio.open_nursery() as nursery:
        for name, ln in (("a", a), ("b", b)):

            async def serve_one(name: str = name, ln: Listener[trio.SocketStream, TCPAddr] = ln) -> None:
                while True:
                    conn = await ln.accept()
                    counts[name] += 1
                    await conn.aclose()

            nursery.start_soon(serve_one)
        for _ in range(40):
            client = await trionet.dial("tcp", str(a.addr))
            await client.receive_some(1)  # wait for the server's close: it was accepted
            await client.aclose()
        nursery.cancel_scope.cancel()
    assert counts["a"] + counts["b"] == 40
    assert counts["a"] > 0  # each: a 2**-40 chance of a false failure
    assert counts["b"] > 0
    await a.aclose()
    await b.aclose()


async def test_reuse_port_shares_a_udp_port() -> None:
    lc = ListenConfig(reuse_port=True)
    a = await lc.listen_packet("udp", "127.0.0.1:0")
    b = await lc.listen_packet("udp", str(a.local_addr))
    assert a.local_addr == b.local_addr
    await a.aclose()
    await b.aclose()


async def test_reuse_port_on_unix_is_refused_up_front(tmp_path: Path) -> None:
    before = open_fds()
    path = str(tmp_path / "r.sock")
    with pytest.raises(OpError) as info:
        await ListenConfig(reuse_port=True).listen("unix", path)
    assert str(info.value) == f"listen unix {path}: setsockopt: operation not supported"
    assert info.value.errno == errno.EOPNOTSUPP
    assert not exists(path)
    assert open_fds() == before


# --- MPTCP (Go's TestMultiPathTCP, listener side) ---------------------------------------------


def test_listen_config_multipath_tcp_tri_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIONET_MULTIPATHTCP", raising=False)
    assert ListenConfig().multipath_tcp_enabled()
    assert not ListenConfig(multipath_tcp=False).multipath_tcp_enabled()
    for setting, expect in (("0", False), ("1", True), ("2", True), ("3", False)):
        monkeypatch.setenv("TRIONET_MULTIPATHTCP", setting)
        assert ListenConfig().multipath_tcp_enabled() is expect
        assert ListenConfig(multipath_tcp=True).multipath_tcp_enabled()


@needs_mptcp
async def test_mptcp_listener_accepts_mptcp_and_plain_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIONET_MULTIPATHTCP", raising=False)
    async with await trionet.listen("tcp", "127.0.0.1:0") as ln:
        assert ln.socket.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == IPPROTO_MPTCP
        assert ln.addr.network == "tcp"
        for multipath in (True, False):
            client = await Dialer(multipath_tcp=multipath).dial("tcp", str(ln.addr))
            server = await accept_message(ln, client, b"MPTCP TEST")
            assert using_mptcp(server.socket) is multipath
            assert using_mptcp(client.socket) is multipath
            await client.aclose()
            await server.aclose()


@needs_mptcp
async def test_mptcp_off_gives_a_plain_tcp_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    async with await ListenConfig(multipath_tcp=False).listen("tcp", "127.0.0.1:0") as ln:
        assert ln.socket.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_TCP
    monkeypatch.setenv("TRIONET_MULTIPATHTCP", "0")
    async with await trionet.listen("tcp", "127.0.0.1:0") as ln:
        assert ln.socket.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_TCP


@needs_mptcp
async def test_mptcp_failure_falls_back_to_plain_tcp() -> None:
    protos: list[int] = []

    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        proto = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)
        protos.append(proto)
        if proto == IPPROTO_MPTCP:
            raise OSError(errno.ENOPROTOOPT, "pretend net.mptcp.enabled=0")

    before = open_fds()
    async with await ListenConfig(control=control).listen("tcp", "127.0.0.1:0") as ln:
        assert ln.socket.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_TCP
    assert protos == [IPPROTO_MPTCP, socket.IPPROTO_TCP]
    assert open_fds() == before


# --- Backlog (Go's maxListenerBacklog) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "release", "expect"),
    [
        ("4096\n", "6.18.0", 4096),
        (None, "6.18.0", 128),
        ("", "6.18.0", 128),
        ("0\n", "6.18.0", 128),
        ("abc\n", "6.18.0", 128),
        ("12abc\n", "6.18.0", 12),
        ("  200 extra\nsecond line", "6.18.0", 200),
        ("100000\n", "4.0.9", 65535),
        ("100000\n", "4.1.0", 100000),
        ("4294967296\n", "6.1", 2**31 - 1),
    ],
)
def test_listener_backlog(text: str | None, release: str, expect: int) -> None:
    assert listener_backlog(text, release) == expect


def _ss_backlog(port: int) -> int:
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[2])  # State Recv-Q Send-Q: for a listener, Send-Q is the backlog


@pytest.mark.skipif(shutil.which("ss") is None, reason="iproute2's ss is not installed")
async def test_backlog_reaches_listen() -> None:
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text().split()[0])  # noqa: ASYNC240
    async with await ListenConfig(multipath_tcp=False).listen("tcp", "127.0.0.1:0") as ln:
        assert _ss_backlog(ln.addr.port) == somaxconn
    async with await ListenConfig(backlog=7, multipath_tcp=False).listen("tcp", "127.0.0.1:0") as ln:
        assert _ss_backlog(ln.addr.port) == 7


# --- Trio's listener contract: serve_listeners, nursery.start(serve) --------------------------


async def echo(stream: trio.SocketStream) -> None:
    async with stream:
        async for data in stream:
            await stream.send_all(data)


async def test_works_with_serve_listeners() -> None:
    ln = await trionet.listen("tcp", "127.0.0.1:0")
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_listeners, echo, [ln])
        assert listeners == [ln]
        async with await trionet.dial("tcp", str(ln.addr)) as client:
            await client.send_all(b"echo?")
            assert await client.receive_some(100) == b"echo?"
        nursery.cancel_scope.cancel()
    with pytest.raises(trio.ClosedResourceError):  # serve_listeners closed it
        await ln.accept()


@pytest.mark.parametrize("network", ["tcp", "unix"])
async def test_serve_with_nursery_start(network: str, tmp_path: Path) -> None:
    address = "127.0.0.1:0" if network == "tcp" else str(tmp_path / "serve.sock")
    async with trio.open_nursery() as nursery:
        ln = await nursery.start(trionet.serve, echo, network, address)
        assert isinstance(ln, Listener)
        client = await trionet.dial(network, str(ln.addr))
        assert isinstance(client, trio.SocketStream)
        async with client:
            await client.send_all(b"served")
            assert await client.receive_some(100) == b"served"
        nursery.cancel_scope.cancel()
    if network == "unix":
        assert not exists(address)  # closed by serve on the way out: file removed


async def test_serve_uses_the_config() -> None:
    config = ListenConfig(keep_alive=7, multipath_tcp=False)
    got: list[int] = []

    async def handler(stream: trio.SocketStream) -> None:
        got.append(stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        ln = await nursery.start(
            functools.partial(trionet.serve, config=config), handler, "tcp", "127.0.0.1:0"
        )
        async with await trionet.dial("tcp", str(ln.addr)) as client:
            await client.receive_some(1)
        nursery.cancel_scope.cancel()
    assert got == [7]


async def test_accept_errors_are_go_op_errors_and_keep_errno() -> None:
    # A listener whose socket stopped listening: accept fails with EINVAL, which is not routine.
    ln = await ListenConfig(multipath_tcp=False).listen("tcp", "127.0.0.1:0")
    ln.socket.shutdown(socket.SHUT_RD)
    with pytest.raises(OpError) as info:
        await ln.accept()
    assert str(info.value) == f"accept tcp {ln.addr}: accept: invalid argument"
    assert info.value.errno == errno.EINVAL
    await ln.aclose()


# --- ListenConfig as a value ----------------------------------------------------------------


def test_listen_config_is_an_immutable_value() -> None:
    import dataclasses

    lc = ListenConfig()
    assert (lc.control, lc.keep_alive, lc.keep_alive_config, lc.reuse_port, lc.multipath_tcp, lc.backlog) == (
        None,
        None,
        None,
        False,
        None,
        None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        lc.backlog = 3  # type: ignore[misc]
    assert dataclasses.replace(lc, backlog=3).backlog == 3
    with pytest.raises(TypeError):
        ListenConfig(None)  # type: ignore[call-arg]  # keyword-only
    with pytest.raises(ValueError, match="backlog must be >= 0"):
        ListenConfig(backlog=-1)
    with pytest.raises(TypeError, match="backlog must be an int"):
        ListenConfig(backlog=True)
    with pytest.raises(TypeError, match="keep_alive_config"):
        ListenConfig(keep_alive_config=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="control"):
        ListenConfig(control=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ListenConfig(keep_alive=40000)


async def test_keepalive_is_set_per_accept_when_the_listener_does_not_carry_it() -> None:
    # The listener normally carries the keep-alive plan (accepted sockets inherit it); when it
    # does not, accept() applies it to each connection, as Go's newTCPConn does.
    from trionet._listener import has_keepalive
    from trionet._network import parse_network

    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    assert not has_keepalive(sock, (15, 15, 9))
    assert has_keepalive(sock, None)
    ln: Listener[trio.SocketStream, TCPAddr] = Listener(
        sock, parse_network("tcp"), trio.SocketStream, (4, 5, 6), None
    )
    async with ln:
        client = await trionet.dial("tcp", str(ln.addr))
        server = await ln.accept()
        assert keepalive_values(server.socket) == (1, 4, 5, 6)
        await client.aclose()
        await server.aclose()


@pytest.mark.parametrize("network", ["tcp", "udp"])
async def test_wild_wildcard_listener(network: str) -> None:
    # Go's TestWildWildcardListener: Listen("tcp", "") and ListenPacket("udp", "") work.
    ln = await (trionet.listen(network, "") if network == "tcp" else trionet.listen_packet(network, ""))
    await ln.aclose()


@needs_raw_sockets
async def test_wild_wildcard_raw_listener() -> None:
    # Go's ListenIP("ip:icmp", nil) half of TestWildWildcardListener: no crash, a wildcard socket.
    async with await trionet.listen_packet("ip:icmp", "") as pc:
        assert pc.local_addr is not None
        assert pc.local_addr.network == "ip"
