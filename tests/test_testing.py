"""trionet.testing itself: the fake network's rules, records, sockets, and the real blackhole."""

from __future__ import annotations

import errno
import math
import os
import socket

import pytest
import trio

import trionet
from trionet import DNSError, IPAddr, OpError, UDPAddr
from trionet.testing import FakeNet, FakeSocket, blackhole_listener

from .loopback import open_fds


async def test_outcomes_and_times(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.refuse("127.0.0.2")
    net.delay("127.0.0.3", 0.5)
    net.delay("127.0.0.4", 0.25, then="refuse")
    net.fail("127.0.0.5", errno.EHOSTUNREACH, delay=1)
    with net.install():
        with pytest.raises(ConnectionRefusedError) as refused:
            await trionet.dial("tcp", "127.0.0.2:1")
        assert str(refused.value) == "dial tcp 127.0.0.2:1: connect: connection refused"
        slow = await trionet.dial("tcp", "127.0.0.3:2")
        assert trio.current_time() == 0.5
        with pytest.raises(ConnectionRefusedError):
            await trionet.dial("tcp", "127.0.0.4:3")
        assert trio.current_time() == 0.75
        with pytest.raises(OSError) as unreachable:
            await trionet.dial("tcp", "127.0.0.5:4")
        assert unreachable.value.errno == errno.EHOSTUNREACH
        fast = await trionet.dial("tcp", "[::1]:5")  # no rule: connects at once
    assert net.connect_times == {
        "127.0.0.2": 0.0,
        "127.0.0.3": 0.0,
        "127.0.0.4": 0.5,
        "127.0.0.5": 0.75,
        "::1": 1.75,
    }
    assert [(c.ip, c.port, c.end, c.result) for c in net.connects] == [
        ("127.0.0.2", 1, 0.0, "refused"),
        ("127.0.0.3", 2, 0.5, "connected"),
        ("127.0.0.4", 3, 0.75, "refused"),
        ("127.0.0.5", 4, 1.75, "failed"),
        ("::1", 5, 1.75, "connected"),
    ]
    net.check(slow, fast)
    await slow.aclose()
    await fast.aclose()
    net.check()


async def test_blackhole_hangs_until_cancelled(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.blackhole("10.0.0.1")  # fake: no packet leaves the process
    with net.install(), trio.move_on_after(100) as scope:
        await trionet.dial("tcp", "10.0.0.1:80")
    assert scope.cancelled_caught
    assert net.connects[0].result == "cancelled"
    assert net.connects[0].end == 100.0
    assert net.sockets[0].closed  # trio closes a socket whose connect was interrupted
    net.check()


async def test_check_reports_leaks_and_bad_arguments() -> None:
    net = FakeNet()
    with net.install():
        stream = await trionet.dial("tcp", "127.0.0.1:80")
        leaked = trio.socket.socket()
    assert isinstance(leaked, FakeSocket)
    with pytest.raises(AssertionError, match="left open"):
        net.check(stream)
    leaked.close()
    net.check(stream)
    with pytest.raises(AssertionError, match="not a socket of this FakeNet"):
        FakeNet().check(stream)
    await stream.aclose()
    with pytest.raises(AssertionError, match="in use but closed"):
        net.check(stream)


async def test_connected_socket_is_an_echo_peer() -> None:
    net = FakeNet()
    with net.install():
        stream = await trionet.dial("tcp", "127.0.0.1:7")
    assert stream.socket.getpeername() == ("127.0.0.1", 7)
    local = stream.socket.getsockname()
    assert local[0] == "127.0.0.1"
    assert local[1] != 7
    assert stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1  # set by SocketStream
    assert stream.socket.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1  # set by the dialer
    await stream.send_all(b"ping ")
    await stream.send_all(b"pong")
    assert await stream.receive_some(5) == b"ping "
    await stream.send_eof()
    assert await stream.receive_some() == b"pong"
    assert await stream.receive_some() == b""
    await stream.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await stream.send_all(b"x")


async def test_install_is_scoped_and_unix_stays_real(tmp_path: os.PathLike[str]) -> None:
    net = FakeNet()
    with net.install():
        assert isinstance(trio.socket.socket(), FakeSocket)
        unix = trio.socket.socket(socket.AF_UNIX)
        assert not isinstance(unix, FakeSocket)
        unix.close()
    real = trio.socket.socket()
    assert not isinstance(real, FakeSocket)
    real.close()
    net.sockets[0].close()
    net.check()


async def test_resolver(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("Dual.Test.", ["::1", "127.0.0.1"], delay=0.25)
    net.add_host("empty.test", [])
    r = net.resolver
    assert await r.lookup_ip_addr("dual.test") == [IPAddr("::1"), IPAddr("127.0.0.1")]
    assert trio.current_time() == 0.25
    assert await r.lookup_ip_addr("DUAL.test", network="ip4") == [IPAddr("127.0.0.1")]
    assert await r.lookup_ip_addr("dual.test", network="ip6") == [IPAddr("::1")]
    assert await r.lookup_host("dual.test") == ["::1", "127.0.0.1"]
    assert await r.lookup_ip_addr("192.0.2.1") == [IPAddr("192.0.2.1")]
    assert await r.lookup_port("tcp", "http") == 80
    for name in ("nosuch.test", "empty.test"):
        with pytest.raises(DNSError) as info:
            await r.lookup_ip_addr(name)
        assert str(info.value) == f"lookup {name}: no such host"
        assert info.value.is_not_found
    assert r.lookups[0] == ("dual.test", "ip")
    net.add_host("hang.test", ["127.0.0.1"], delay=math.inf)
    with trio.move_on_after(1000) as scope:
        await r.lookup_ip_addr("hang.test")
    assert scope.cancelled_caught


def test_bad_arguments() -> None:
    net = FakeNet()
    with pytest.raises(ValueError, match="IP literal"):
        net.refuse("localhost")
    with pytest.raises(ValueError, match="delay"):
        net.delay("127.0.0.1", -1)
    with pytest.raises(ValueError, match="IP literals"):
        net.add_host("x.test", ["not-an-ip"])
    with pytest.raises(ValueError, match="AF_INET"), blackhole_listener(socket.AF_UNIX):
        pass


@pytest.mark.loopback
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
async def test_blackhole_listener_hangs_a_real_connect(
    family: socket.AddressFamily, autojump_clock: trio.testing.MockClock
) -> None:
    before = open_fds()
    with blackhole_listener(family) as addr:
        assert str(addr.ip) == ("127.0.0.1" if family == socket.AF_INET else "::1")
        with trio.move_on_after(0.3) as scope:
            await trionet.dial("tcp", str(addr))
        assert scope.cancelled_caught  # neither connected nor refused: it hung
        with pytest.raises(OSError) as info:
            await trionet.Dialer(timeout=0.2).dial("tcp", str(addr))
        assert str(info.value) == f"dial tcp {addr}: i/o timeout"
    assert open_fds() == before


async def test_a_local_port_never_equals_the_peer(autojump_clock: trio.testing.MockClock) -> None:
    # The fake hands out local ports from 40000: a dial to port 40000 must not look like a
    # self-connect (the dialer would close it and dial again).
    net = FakeNet()
    with net.install():
        stream = await trionet.dial("tcp", "127.0.0.1:40000")
        assert stream.socket.getsockname() != stream.socket.getpeername()
        await stream.aclose()
    assert len(net.sockets) == 1
    assert [c.result for c in net.connects] == ["connected"]


async def test_only_dialing_is_faked() -> None:
    # Listening and unconnected datagrams are not faked: Go-style errors, not Trio's
    # NotImplementedError, and no fake socket left open.
    net = FakeNet()
    with net.install():
        with pytest.raises(OpError) as info:
            await trionet.listen("tcp", "127.0.0.1:0")
        assert str(info.value) == "listen tcp 127.0.0.1:0: listen: operation not supported"
        assert info.value.errno == errno.EOPNOTSUPP
        async with await trionet.listen_packet("udp", "127.0.0.1:0") as pc:
            with pytest.raises(OpError, match=r": sendto: operation not supported$"):
                await pc.send_to(b"x", UDPAddr("127.0.0.1", 9))
            with pytest.raises(OpError, match=r": recvfrom: operation not supported$"):
                await pc.receive_from()
    net.check()


async def test_check_takes_a_dialed_packet_conn() -> None:
    net = FakeNet()
    with net.install():
        pc = await trionet.dial("udp", "127.0.0.1:9")
        net.check(pc)  # still open, and said to be in use: no leak
        with pytest.raises(AssertionError, match="fake sockets left open"):
            net.check()
        await pc.aclose()
    net.check()
