"""PacketConn on real sockets: UDP, unixgram and unixpacket round trips, message boundaries,
Go's WriteTo/Write rules and error texts, Trio's closed/broken conventions, and an ICMP echo to
127.0.0.1 over raw ``ip4:icmp`` (and ICMPv6 to ::1).
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest
import trio
import trio.testing

import trionet
from trionet import Dialer, IPAddr, OpError, PacketConn, TCPAddr, UDPAddr, UnixAddr
from trionet._packetconn import _strip_ipv4_header

from .loopback import check_close_wakes, needs_raw_sockets

pytestmark = pytest.mark.loopback


@pytest.mark.parametrize(
    ("network", "host", "client_network"),
    [
        ("udp", "127.0.0.1", "udp"),
        ("udp4", "127.0.0.1", "udp4"),
        ("udp6", "::1", "udp6"),
        ("udp", "::1", "udp"),
    ],
)
async def test_udp_round_trip(network: str, host: str, client_network: str) -> None:
    server = await trionet.listen_packet(network, trionet.join_host_port(host, 0))
    assert server.remote_addr is None
    assert isinstance(server.local_addr, UDPAddr)
    client = await trionet.dial(client_network, str(server.local_addr))
    assert isinstance(client, PacketConn)
    assert client.remote_addr == server.local_addr
    await client.send(b"ping")
    data, addr = await server.receive_from()
    assert data == b"ping"
    assert isinstance(addr, UDPAddr)
    assert addr == client.local_addr
    assert await server.send_to(b"pong", addr) == 4
    assert await client.receive() == b"pong"
    await client.aclose()
    await server.aclose()


async def test_dual_stack_udp_reports_ipv4_senders_as_ipv4() -> None:
    # listen_packet("udp", ":0") is one AF_INET6 socket; an IPv4 sender arrives as
    # ::ffff:127.0.0.1 and is reported as 127.0.0.1 (Go's To4 normalisation).
    async with await trionet.listen_packet("udp", ":0") as server:
        port = server.local_addr.port  # type: ignore[union-attr]
        assert str(server.local_addr) == f"[::]:{port}"
        async with await trionet.dial("udp", f"127.0.0.1:{port}") as client:
            await client.send(b"v4")
            data, addr = await server.receive_from()
            assert (data, addr) == (b"v4", client.local_addr)
            assert str(addr).startswith("127.0.0.1:")
            await server.send_to(b"back", addr)  # an IPv4 address on an AF_INET6 socket
            assert await client.receive() == b"back"


async def test_message_boundaries_and_truncation() -> None:
    server = await trionet.listen_packet("udp", "127.0.0.1:0")
    async with server, await trionet.dial("udp", str(server.local_addr)) as client:
        for message in (b"a", b"", b"ccc", b"0123456789"):
            await client.send(message)
        assert await server.receive() == b"a"
        assert await server.receive() == b""  # an empty datagram is a message too
        assert await server.receive() == b"ccc"
        assert await server.receive(4) == b"0123"  # the rest of the datagram is dropped


async def test_write_to_on_a_connected_conn_is_go_error() -> None:
    server = await trionet.listen_packet("udp", "127.0.0.1:0")
    async with server, await trionet.dial("udp", str(server.local_addr)) as client:
        target = server.local_addr
        assert isinstance(target, UDPAddr)
        with pytest.raises(OpError) as info:
            await client.send_to(b"x", target)
        assert (
            str(info.value)
            == f"write udp {client.local_addr}->{target}: use of WriteTo with pre-connected connection"
        )
        assert info.value.errno == errno.EISCONN


async def test_send_on_an_unconnected_conn_needs_an_address() -> None:
    async with await trionet.listen_packet("udp", "127.0.0.1:0") as server:
        with pytest.raises(OpError) as info:
            await server.send(b"to whom?")
        assert str(info.value) == f"write udp {server.local_addr}: write: destination address required"
        assert info.value.errno == errno.EDESTADDRREQ


async def test_send_to_with_the_wrong_address_kind() -> None:
    async with await trionet.listen_packet("udp", "127.0.0.1:0") as server:
        local = server.local_addr
        with pytest.raises(OpError) as info:
            await server.send_to(b"x", UnixAddr("/x", "unixgram"))
        assert str(info.value) == f"write udp {local}->/x: invalid argument"
        assert info.value.errno == errno.EINVAL
        with pytest.raises(OpError) as info:
            # The hint rejects a TCPAddr; the run-time check must too (untyped callers).
            await server.send_to(b"x", TCPAddr("127.0.0.1", 9))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        assert info.value.errno == errno.EINVAL
        with pytest.raises(OpError) as info:
            await server.send_to(b"x", UDPAddr("::1", 9))  # an AF_INET socket
        assert str(info.value) == f"write udp {local}->[::1]:9: address ::1: non-IPv4 address"
        with pytest.raises(TypeError):
            await server.send_to(b"x", ("127.0.0.1", 9))  # type: ignore[arg-type]


async def test_refused_datagram_is_reported_and_the_conn_still_works() -> None:
    # An ICMP port-unreachable for an earlier datagram: Go's "read: connection refused", an
    # OpError (not BrokenResourceError): the socket is still usable.
    with trio.socket.socket(type=trio.socket.SOCK_DGRAM) as closed:
        await closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with await trionet.dial("udp", f"127.0.0.1:{port}") as client:
        await client.send(b"anyone?")
        with pytest.raises(OpError) as info:
            await client.receive()
        assert str(info.value) == f"read udp {client.local_addr}->127.0.0.1:{port}: read: connection refused"
        assert isinstance(info.value, ConnectionRefusedError)
        # Go's ReadFrom names the connected peer too.
        await client.send(b"still nobody?")
        with pytest.raises(OpError) as info:
            await client.receive_from()
        assert str(info.value) == (
            f"read udp {client.local_addr}->127.0.0.1:{port}: recvfrom: connection refused"
        )


async def test_closed_conn_raises_closed_resource_error() -> None:
    pc = await trionet.listen_packet("udp", "127.0.0.1:0")
    local = pc.local_addr
    async with pc:
        pass
    await pc.aclose()  # idempotent
    assert pc.local_addr == local
    assert "closed" in repr(pc)
    with pytest.raises(trio.ClosedResourceError):
        await pc.receive()
    with pytest.raises(trio.ClosedResourceError):
        await pc.receive_from()
    with pytest.raises(trio.ClosedResourceError):
        await pc.send(b"x")
    with pytest.raises(trio.ClosedResourceError):
        await pc.send_to(b"x", UDPAddr("127.0.0.1", 9))


async def test_closing_wakes_a_blocked_receive() -> None:
    pc = await trionet.listen_packet("udp", "127.0.0.1:0")
    await check_close_wakes(pc, pc.receive_from)


async def test_concurrent_receivers_get_trios_busy_resource_error() -> None:
    server = await trionet.listen_packet("udp", "127.0.0.1:0")
    async with server, trio.open_nursery() as nursery:
        nursery.start_soon(server.receive_from)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(trio.BusyResourceError):
            await server.receive()
        nursery.cancel_scope.cancel()


async def test_unixgram_round_trip(tmp_path: Path) -> None:
    server_path, client_path = str(tmp_path / "srv.sock"), str(tmp_path / "cli.sock")
    async with await trionet.listen_packet("unixgram", server_path) as server:
        assert server.local_addr == UnixAddr(server_path, "unixgram")
        dialer = Dialer(local_addr=UnixAddr(client_path, "unixgram"))
        async with await dialer.dial("unixgram", server_path) as client:
            assert client.remote_addr == UnixAddr(server_path, "unixgram")
            await client.send(b"dgram")
            data, addr = await server.receive_from()
            assert (data, addr) == (b"dgram", UnixAddr(client_path, "unixgram"))
            await server.send_to(b"reply", addr)
            assert await client.receive() == b"reply"
        # An unbound sender has no name.
        async with await trionet.dial("unixgram", server_path) as anonymous:
            await anonymous.send(b"who")
            data, addr = await server.receive_from()
            assert (data, addr) == (b"who", UnixAddr("", "unixgram"))
            # ... and no error shows an empty name for it (every PacketConn error alike).
            with pytest.raises(OpError) as info:
                await anonymous.send_to(b"x", UnixAddr(server_path, "unixgram"))
            assert str(info.value) == (
                f"write unixgram {server_path}: use of WriteTo with pre-connected connection"
            )
        # Go's UnixConn.WriteTo: an address of another unix network is EAFNOSUPPORT.
        with pytest.raises(OpError) as info:
            await server.send_to(b"x", UnixAddr(client_path, "unix"))
        assert info.value.errno == errno.EAFNOSUPPORT
        assert str(info.value) == (
            f"write unixgram {server_path}->{client_path}: address family not supported by protocol"
        )


async def test_unixpacket_keeps_message_boundaries(tmp_path: Path) -> None:
    path = str(tmp_path / "seq.sock")
    async with await trionet.listen("unixpacket", path) as ln:
        assert ln.addr == UnixAddr(path, "unixpacket")
        client = await trionet.dial("unixpacket", path)
        assert isinstance(client, PacketConn)
        server = await ln.accept()
        assert isinstance(server, PacketConn)
        for message in (b"a", b"bb", b"ccc"):
            await client.send(message)
        assert [await server.receive() for _ in range(3)] == [b"a", b"bb", b"ccc"]
        await server.send(b"0123456789")
        data, addr = await client.receive_from(4)
        assert (data, addr) == (b"0123", UnixAddr(path, "unixpacket"))
        await client.aclose()
        assert await server.receive() == b""  # the peer is gone: end of connection
        with pytest.raises(trio.BrokenResourceError) as info:
            await server.send(b"anyone?")
        assert isinstance(info.value.__cause__, OpError)
        assert info.value.__cause__.errno == errno.EPIPE
        await server.aclose()


# --- Raw IP: an ICMP echo to 127.0.0.1, built by hand ----------------------------------------


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _echo_request(kind: int, ident: int, seq: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    checksum = _checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, checksum, ident, seq) + payload


def test_checksum_of_a_known_packet() -> None:
    # The classic RFC 1071 example bytes; and a packet with its checksum in place sums to zero.
    assert _checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    packet = _echo_request(8, 0x1234, 1, b"trionet")
    assert _checksum(packet) == 0


def test_strip_ipv4_header() -> None:
    header = bytes([0x45]) + bytes(19)
    assert _strip_ipv4_header(header + b"payload") == b"payload"
    options = bytes([0x46]) + bytes(23)  # IHL 6: 24-byte header
    assert _strip_ipv4_header(options + b"x") == b"x"
    assert _strip_ipv4_header(b"short") == b"short"
    assert _strip_ipv4_header(bytes([0x60]) + bytes(39)) == bytes([0x60]) + bytes(39)  # IPv6
    assert _strip_ipv4_header(bytes([0x4F]) + bytes(20)) == bytes([0x4F]) + bytes(20)  # IHL > len


async def _await_reply(conn: PacketConn, kind: int, ident: int) -> tuple[bytes, object]:
    # A raw socket also sees our own request on loopback: wait for the reply.
    with trio.fail_after(5):
        while True:
            data, addr = await conn.receive_from()
            if data[0] == kind and struct.unpack("!H", data[4:6])[0] == ident:
                return data, addr


@needs_raw_sockets
async def test_icmp_echo_over_ip4_icmp() -> None:
    ident = os.getpid() & 0xFFFF
    async with await trionet.listen_packet("ip4:icmp", "127.0.0.1") as conn:
        assert conn.local_addr == IPAddr("127.0.0.1")
        await conn.send_to(_echo_request(8, ident, 1, b"trionet ping"), IPAddr("127.0.0.1"))
        data, addr = await _await_reply(conn, 0, ident)  # the IPv4 header is already stripped
    assert addr == IPAddr("127.0.0.1")
    assert data[8:] == b"trionet ping"
    assert _checksum(data) == 0


@needs_raw_sockets
async def test_icmp_echo_over_a_dialed_ip4_icmp_conn_keeps_the_header() -> None:
    ident = (os.getpid() + 1) & 0xFFFF
    conn = await trionet.dial("ip4:icmp", "127.0.0.1")
    assert isinstance(conn, PacketConn)
    async with conn:
        await conn.send(_echo_request(8, ident, 7, b"dialed"))
        with trio.fail_after(5):
            while True:
                packet = await conn.receive()  # Go's Read: the IPv4 header is kept
                assert packet[0] >> 4 == 4
                icmp = packet[(packet[0] & 0x0F) * 4 :]
                if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
                    break
    assert icmp[8:] == b"dialed"


@needs_raw_sockets
async def test_icmpv6_echo_over_ip6() -> None:
    ident = (os.getpid() + 2) & 0xFFFF
    async with await trionet.listen_packet("ip6:ipv6-icmp", "::1") as conn:
        # The kernel fills in the ICMPv6 checksum (it covers a pseudo-header).
        await conn.send_to(_echo_request(128, ident, 1, b"v6 ping"), IPAddr("::1"))
        data, addr = await _await_reply(conn, 129, ident)
    assert addr == IPAddr("::1")
    assert data[8:] == b"v6 ping"


@needs_raw_sockets
async def test_a_raw_conn_knows_its_peer_only_when_told() -> None:
    # getpeername() fails with ENOTCONN on a connected raw socket, so the dialer must say.
    sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_RAW, 1)
    await sock.connect(("127.0.0.1", 0))
    assert PacketConn(sock, "ip4:icmp").remote_addr is None
    conn = PacketConn(sock, "ip4:icmp", remote_addr=IPAddr("127.0.0.1"))
    assert conn.remote_addr == IPAddr("127.0.0.1")
    with pytest.raises(OpError, match="use of WriteTo with pre-connected connection"):
        await conn.send_to(b"x", IPAddr("127.0.0.1"))
    await conn.aclose()


@needs_raw_sockets
async def test_a_dialed_raw_conn_reports_its_remote_addr() -> None:
    conn = await trionet.dial("ip4:icmp", "127.0.0.1")
    assert isinstance(conn, PacketConn)
    async with conn:
        assert conn.remote_addr == IPAddr("127.0.0.1")


async def test_a_read_of_no_bytes_is_refused_and_loses_nothing() -> None:
    async with await trionet.listen_packet("udp", "127.0.0.1:0") as pc:
        assert isinstance(pc.local_addr, UDPAddr)
        async with await trionet.dial("udp", str(pc.local_addr)) as client:
            await client.send(b"hello")
            for size in (0, -1):
                with pytest.raises(ValueError, match="max_size must be >= 1"):
                    await pc.receive_from(size)
                with pytest.raises(ValueError, match="max_size must be >= 1"):
                    await pc.receive(size)
            data, _ = await pc.receive_from()
            assert data == b"hello"  # the refused reads did not consume the datagram
