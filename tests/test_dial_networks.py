"""The Dialer on every network other than TCP: udp*, ip* (raw), unix, unixgram, unixpacket.

What each returns, Go's address rules (family filters, local addresses, missing addresses), Go's
default socket options on datagram sockets, and Go's TestDialerControl for every stream and packet
network, all against listeners made with trionet's own ListenConfig on loopback / unix sockets.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

import trionet
from trionet import Dialer, IPAddr, OpError, PacketConn, TCPAddr, UDPAddr, UnixAddr

from .gotables import CONTROL_PACKET, CONTROL_STREAM, check_hop_limit, control_address, control_on_conn_setup
from .loopback import accept_message, needs_raw_sockets

pytestmark = pytest.mark.loopback


@pytest.fixture
async def udp4() -> AsyncIterator[PacketConn]:
    async with await trionet.listen_packet("udp4", "127.0.0.1:0") as pc:
        yield pc


@pytest.fixture
async def udp6() -> AsyncIterator[PacketConn]:
    async with await trionet.listen_packet("udp6", "[::1]:0") as pc:
        yield pc


def _port(pc: PacketConn) -> int:
    addr = pc.local_addr
    assert isinstance(addr, UDPAddr)
    return addr.port


# --- udp udp4 udp6 -----------------------------------------------------------------------------


@pytest.mark.parametrize("network", ["udp", "udp4"])
async def test_udp4_dial_is_a_connected_packet_conn(network: str, udp4: PacketConn) -> None:
    conn = await trionet.dial(network, f"127.0.0.1:{_port(udp4)}")
    assert isinstance(conn, PacketConn)
    async with conn:
        assert conn.network == network
        assert conn.socket.family == socket.AF_INET
        assert conn.socket.type == socket.SOCK_DGRAM
        assert conn.remote_addr == udp4.local_addr
        assert isinstance(conn.local_addr, UDPAddr)
        # Go's setDefaultSockopts: SO_BROADCAST on datagram sockets.
        assert conn.socket.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
        await conn.send(b"hello")
        assert await udp4.receive_from() == (b"hello", conn.local_addr)


@pytest.mark.parametrize("network", ["udp", "udp6"])
async def test_udp6_dial(network: str, udp6: PacketConn) -> None:
    async with await trionet.dial(network, f"[::1]:{_port(udp6)}") as conn:
        assert conn.socket.family == socket.AF_INET6
        assert conn.socket.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == (network == "udp6")
        assert isinstance(conn, PacketConn)
        await conn.send(b"six")
        assert (await udp6.receive_from())[0] == b"six"


@pytest.mark.parametrize(
    ("network", "address", "text"),
    [
        ("udp4", "[::1]:53", "dial udp4: address ::1: no suitable address found"),
        ("udp6", "127.0.0.1:53", "dial udp6: address 127.0.0.1: no suitable address found"),
        ("udp6", "[::ffff:127.0.0.1]:53", "dial udp6: address ::ffff:127.0.0.1: no suitable address found"),
        ("udp", "", "dial udp: missing address"),
        ("udp", "127.0.0.1", "dial udp: address 127.0.0.1: missing port in address"),
        ("udp", "127.0.0.1:-1", "dial udp: address -1: invalid port"),
        ("udp", "127.0.0.1:123456789", "dial udp: address 123456789: invalid port"),
        ("unix", "", "dial unix: missing address"),
        ("unixgram", "", "dial unixgram: missing address"),
        ("unixpacket", "", "dial unixpacket: missing address"),
        ("ip4:icmp", "", "dial ip4:icmp: missing address"),
        ("ip", "127.0.0.1", "dial ip: unknown network ip"),
        (
            "ip:4294967296",
            "127.0.0.1",
            "dial ip:4294967296: address 4294967296: unknown IP protocol specified",
        ),
        ("ip4:nosuch", "127.0.0.1", "dial ip4:nosuch: address nosuch: unknown IP protocol specified"),
        ("udp:53", "127.0.0.1:53", "dial udp:53: unknown network udp:53"),
    ],
)
async def test_bad_input_fails_before_any_socket(network: str, address: str, text: str) -> None:
    def never(network: str, address: str, sock: trio.socket.SocketType) -> None:
        raise AssertionError("control reached")

    with pytest.raises(OpError) as info:
        await Dialer(control=never).dial(network, address)
    assert str(info.value) == text


@pytest.mark.parametrize(
    ("local", "ok", "text"),
    [
        (None, True, ""),
        ("127.0.0.1:0", True, ""),
        (UDPAddr("127.0.0.1"), True, ""),
        (UDPAddr(), True, ""),
        (UDPAddr("0.0.0.0"), True, ""),
        (UDPAddr("::1"), False, "dial udp: address [::1]:0: no suitable address found"),
        (TCPAddr("127.0.0.1"), False, "dial udp: address 127.0.0.1:0: mismatched local address type"),
        (UnixAddr("/x", "unixgram"), False, "dial udp: address /x: mismatched local address type"),
    ],
)
async def test_udp_local_addr_rules(
    local: UDPAddr | TCPAddr | UnixAddr | str | None, ok: bool, text: str, udp4: PacketConn
) -> None:
    dialer = Dialer(local_addr=local)
    if ok:
        async with await dialer.dial("udp", f"127.0.0.1:{_port(udp4)}") as conn:
            local_addr = conn.local_addr
            assert isinstance(local_addr, UDPAddr)
            assert str(local_addr.ip) == "127.0.0.1"
            await conn.send(b"from local")
            assert await udp4.receive_from() == (b"from local", local_addr)
    else:
        with pytest.raises(OpError) as info:
            await dialer.dial("udp", f"127.0.0.1:{_port(udp4)}")
        assert str(info.value) == text


async def test_udp_local_addr_with_a_fixed_port(udp4: PacketConn) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with await Dialer(local_addr=f"127.0.0.1:{port}").dial("udp", f"127.0.0.1:{_port(udp4)}") as conn:
        assert conn.local_addr == UDPAddr("127.0.0.1", port)


async def test_udp_dial_of_the_unspecified_address_reaches_the_local_system(udp4: PacketConn) -> None:
    # Go issue 18806: "[::]" means the local system and also 0.0.0.0; udp4 uses the latter.
    async with await trionet.dial("udp4", f"[::]:{_port(udp4)}") as conn:
        await conn.send(b"wild")
        assert (await udp4.receive_from())[0] == b"wild"


# --- ip ip4 ip6 with :proto ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "address", "family", "proto"),
    [
        ("ip4:icmp", "127.0.0.1", socket.AF_INET, 1),
        ("ip:1", "127.0.0.1", socket.AF_INET, 1),
        ("ip:icmp", "127.0.0.1", socket.AF_INET, 1),
        ("ip6:ipv6-icmp", "::1", socket.AF_INET6, 58),
        ("ip6:58", "::1", socket.AF_INET6, 58),
    ],
)
@needs_raw_sockets
async def test_ip_dial_is_a_raw_packet_conn(network: str, address: str, family: int, proto: int) -> None:
    conn = await trionet.dial(network, address)
    assert isinstance(conn, PacketConn)
    async with conn:
        assert conn.socket.type == socket.SOCK_RAW
        assert conn.socket.family == family
        assert conn.socket.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == proto
        assert conn.local_addr == IPAddr(address)


@needs_raw_sockets
async def test_ip_dial_with_local_addr() -> None:
    for local in ("127.0.0.1", IPAddr("127.0.0.1")):
        async with await Dialer(local_addr=local).dial("ip4:icmp", "127.0.0.1") as conn:
            assert isinstance(conn, PacketConn)
            assert conn.local_addr == IPAddr("127.0.0.1")
    with pytest.raises(OpError) as info:
        await Dialer(local_addr=UDPAddr("127.0.0.1")).dial("ip4:icmp", "127.0.0.1")
    assert str(info.value) == "dial ip4:icmp: address 127.0.0.1:0: mismatched local address type"


# --- unix unixgram unixpacket ------------------------------------------------------------------


async def test_unix_dial_is_a_socket_stream(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    async with await trionet.listen("unix", path) as ln:
        client = await trionet.dial("unix", path)
        assert isinstance(client, trio.SocketStream)
        server = await accept_message(ln, client, b"over unix")
        await client.aclose()
        await server.aclose()


async def test_unix_dial_errors(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.sock")
    with pytest.raises(OpError) as info:
        await trionet.dial("unix", missing)
    assert str(info.value) == f"dial unix {missing}: connect: no such file or directory"
    assert isinstance(info.value, FileNotFoundError)
    stream_path = str(tmp_path / "stream.sock")
    async with await trionet.listen("unix", stream_path):
        with pytest.raises(OpError) as info:
            await trionet.dial("unixpacket", stream_path)
        assert info.value.errno == errno.EPROTOTYPE
        with pytest.raises(OpError) as info:
            await Dialer(local_addr=UnixAddr(str(tmp_path / "l"), "unixgram")).dial("unix", stream_path)
        assert str(info.value) == f"dial unix: address {tmp_path / 'l'}: mismatched local address type"


async def test_unix_dial_to_a_full_backlog_fails_at_once_as_in_go(tmp_path: Path) -> None:
    # A unix listener whose backlog is full makes connect() fail with EAGAIN, and the socket then
    # polls writable without being connected. Go's netFD.connect waits only on EINPROGRESS,
    # EALREADY and EINTR, so Go reports EAGAIN; a dial that waited would return a stream that is
    # not connected (Trio's own connect does exactly that).
    path = str(tmp_path / "full.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with server:
        server.bind(path)
        server.listen(0)  # never accepts: the first connection fills the queue
        first = await trionet.dial("unix", path)
        async with first:
            with trio.fail_after(5), pytest.raises(OpError) as info:
                await trionet.dial("unix", path)
    assert str(info.value) == f"dial unix {path}: connect: resource temporarily unavailable"
    assert info.value.errno == errno.EAGAIN
    assert isinstance(info.value, BlockingIOError)


async def test_a_client_retrying_on_eagain_lets_the_acceptor_run(tmp_path: Path) -> None:
    # A Go-style client retries a dial that failed with EAGAIN (full backlog); each failed dial
    # must still be a schedule point, or the task that would drain the backlog never runs.
    path = str(tmp_path / "busy.sock")
    server = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    early = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with server, early:
        await server.bind(path)
        server.listen(0)
        early.connect(path)  # fills the backlog before the acceptor has had a turn
        all_accepted = trio.Event()
        retries = 0

        async def acceptor() -> None:
            for _ in range(6):  # the early connection and the five dials
                conn, _ = await server.accept()
                conn.close()
            all_accepted.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(acceptor)  # runs only when this task yields
            for _ in range(5):
                for _ in range(1000):
                    try:
                        stream = await trionet.dial("unix", path)
                        break
                    except OpError as exc:
                        assert exc.errno == errno.EAGAIN
                        retries += 1
                else:
                    pytest.fail("1000 dials failed with EAGAIN: the acceptor never ran")
                await stream.aclose()
            with trio.fail_after(5):
                await all_accepted.wait()
    assert retries > 0  # the first dial met the full backlog: the case under test happened


async def test_unix_dial_is_a_checkpoint(tmp_path: Path) -> None:
    # connect() on a unix socket succeeds at once; the dial must still be a schedule point.
    path = str(tmp_path / "s.sock")
    async with await trionet.listen("unix", path) as ln:
        with trio.testing.assert_checkpoints():
            client = await trionet.dial("unix", path)
        await client.aclose()
        await (await ln.accept()).aclose()


async def test_unix_dial_with_local_addr(tmp_path: Path) -> None:
    path, local = str(tmp_path / "s.sock"), str(tmp_path / "c.sock")
    ln = await trionet.listen("unix", path)
    async with ln, await Dialer(local_addr=local).dial("unix", path) as client:
        server = await ln.accept()
        assert server.socket.getpeername() == local
        assert client.socket.getsockname() == local
        await server.aclose()


async def test_unixgram_and_unixpacket_dials_are_packet_conns(tmp_path: Path) -> None:
    gram, seq = str(tmp_path / "g.sock"), str(tmp_path / "p.sock")
    async with await trionet.listen_packet("unixgram", gram) as server:
        conn = await trionet.dial("unixgram", gram)
        assert isinstance(conn, PacketConn)
        async with conn:
            assert conn.socket.type == socket.SOCK_DGRAM
            assert conn.remote_addr == UnixAddr(gram, "unixgram")
            await conn.send(b"g")
            assert (await server.receive_from())[0] == b"g"
    async with await trionet.listen("unixpacket", seq) as ln:
        conn = await trionet.dial("unixpacket", seq)
        assert isinstance(conn, PacketConn)
        async with conn:
            assert conn.socket.type == socket.SOCK_SEQPACKET
            accepted = await ln.accept()
            await conn.send(b"one")
            await conn.send(b"two")
            assert [await accepted.receive(), await accepted.receive()] == [b"one", b"two"]
            await accepted.aclose()


# --- Go's TestDialerControl ---------------------------------------------------------------------


@pytest.mark.parametrize(("network", "host", "ctrl"), CONTROL_STREAM)
async def test_dialer_control_stream(network: str, host: str | None, ctrl: str, tmp_path: Path) -> None:
    listen_net = network if host is None else "tcp"
    address = control_address(host, tmp_path)
    async with await trionet.listen(listen_net, address) as ln:
        seen: list[tuple[str, str]] = []
        conn = await Dialer(control=control_on_conn_setup(seen)).dial(network, str(ln.addr))
        async with conn:
            assert seen == [(ctrl, str(ln.addr))]  # family-specific network, remote address
            check_hop_limit(conn.socket, ctrl)
            accepted = await ln.accept()
            await accepted.aclose()


@pytest.mark.parametrize(("network", "host", "ctrl"), CONTROL_PACKET)
async def test_dialer_control_packet(network: str, host: str | None, ctrl: str, tmp_path: Path) -> None:
    listen_net = "unixgram" if host is None else "udp"
    address = control_address(host, tmp_path)
    async with await trionet.listen_packet(listen_net, address) as server:
        seen: list[tuple[str, str]] = []
        async with await Dialer(control=control_on_conn_setup(seen)).dial(
            network, str(server.local_addr)
        ) as conn:
            assert seen == [(ctrl, str(server.local_addr))]
            check_hop_limit(conn.socket, ctrl)
            assert isinstance(conn, PacketConn)
            await conn.send(b"ttl")
            assert (await server.receive_from())[0] == b"ttl"


@pytest.mark.parametrize(
    ("network", "address", "ctrl"), [("ip:icmp", "127.0.0.1", "ip4"), ("ip:icmp", "::1", "ip6")]
)
@needs_raw_sockets
async def test_dialer_control_raw(network: str, address: str, ctrl: str) -> None:
    seen: list[tuple[str, str]] = []
    async with await Dialer(control=control_on_conn_setup(seen)).dial(network, address):
        assert seen == [(ctrl, address)]


async def test_dialer_control_rejecting_fails_the_dial(udp4: PacketConn) -> None:
    def reject(network: str, address: str, sock: trio.socket.SocketType) -> None:
        raise PermissionError(errno.EACCES, "policy")

    with pytest.raises(OpError) as info:
        await Dialer(control=reject).dial("udp", str(udp4.local_addr))
    assert str(info.value) == f"dial udp {udp4.local_addr}: [Errno 13] policy"
    assert isinstance(info.value, PermissionError)
