"""trionet.testing itself: the fake network's rules, records, sockets, and the real blackhole."""

from __future__ import annotations

import errno
import ipaddress
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


async def test_per_family_answer_delays(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"], delay=0.5, ipv6_delay=0.2)
    net.add_host("v4late.test", ["::1", "127.0.0.1"], ipv4_delay=0.3)  # AAAA at once
    net.add_host("v4only.test", ["127.0.0.1"], ipv6_delay=0.7)
    r = net.resolver
    cases = [
        ("dual.test", "ip6", 0.2, [IPAddr("::1")]),
        ("dual.test", "ip4", 0.5, [IPAddr("127.0.0.1")]),
        ("dual.test", "ip", 0.5, [IPAddr("::1"), IPAddr("127.0.0.1")]),  # the slower family
        ("v4late.test", "ip6", 0.0, [IPAddr("::1")]),
        ("v4late.test", "ip4", 0.3, [IPAddr("127.0.0.1")]),
        ("v4late.test", "ip", 0.3, [IPAddr("::1"), IPAddr("127.0.0.1")]),
        # a family without addresses still answers after its delay: no such host
        ("v4only.test", "ip6", 0.7, "lookup v4only.test: no such host"),
    ]
    got: dict[tuple[str, str], tuple[float, object]] = {}

    async def one(name: str, network: str) -> None:
        try:
            answer: object = await r.lookup_ip_addr(name, network=network)
        except DNSError as exc:
            answer = str(exc)
        got[name, network] = (trio.current_time(), answer)

    async with trio.open_nursery() as nursery:  # all asked at 0
        for name, network, _, _ in cases:
            nursery.start_soon(one, name, network)
    assert got == {(name, network): (when, answer) for name, network, when, answer in cases}
    for bad in ({"ipv4_delay": -1}, {"ipv6_delay": -0.5}, {"delay": -1, "ipv4_delay": 1, "ipv6_delay": 1}):
        with pytest.raises(ValueError, match="delay must be >= 0"):
            net.add_host("x.test", ["::1"], **bad)


async def test_summed_delays_are_exact(autojump_clock: trio.testing.MockClock) -> None:
    # 0.1 + 0.05 is 0.15000000000000002 in binary floats; the script says 0.15.
    net = FakeNet()
    net.delay("127.0.0.1", 0.1)
    net.delay("127.0.0.2", 0.05, then="refuse")
    net.add_host("late.test", ["127.0.0.3"], delay=0.7)
    net.delay("127.0.0.3", 0.2)
    with net.install():
        (await trionet.dial("tcp", "127.0.0.1:80")).socket.close()
        with pytest.raises(ConnectionRefusedError):
            await trionet.dial("tcp", "127.0.0.2:80")
        assert trio.current_time() == 0.15
        assert net.connects[1].end == 0.15
        (await trionet.Dialer(resolver=net.resolver).dial("tcp", "late.test:80")).socket.close()
        assert trio.current_time() == 1.05  # 0.15 + 0.7 + 0.2
    net.check()


async def test_install_isolates_the_default_resolver(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"], delay=0.1)
    before = dict(vars(trionet.default_resolver))
    with net.install():
        # no resolver named: the default one answers from the fake
        assert await trionet.lookup_host("dual.test") == ["::1", "127.0.0.1"]
        assert await trionet.lookup_ip("ip4", "dual.test") == [ipaddress.ip_address("127.0.0.1")]
        assert await trionet.lookup_cname("dual.test") == "dual.test."
        stream = await trionet.dial("tcp", "dual.test:80")
        assert stream.socket.getpeername()[0] == "::1"
        await stream.aclose()
        with pytest.raises(OpError, match=r"^dial tcp: lookup nosuch.test: no such host$"):
            await trionet.dial("tcp", "nosuch.test:80")
        # what the fake cannot answer fails at once, loudly, and sends nothing
        for call, text in [
            (trionet.lookup_mx("dual.test"), "lookup dual.test: MX lookups are not faked"),
            (trionet.lookup_txt("dual.test"), "lookup dual.test: TXT lookups are not faked"),
            (trionet.lookup_ns("dual.test"), "lookup dual.test: NS lookups are not faked"),
            (trionet.lookup_srv("x", "tcp", "dual.test"), "lookup dual.test: SRV lookups are not faked"),
            (trionet.lookup_addr("127.0.0.1"), "lookup 127.0.0.1: PTR lookups are not faked"),
        ]:
            start = trio.current_time()
            with pytest.raises(DNSError) as info:
                await call
            assert str(info.value).startswith(text)
            assert trio.current_time() == start
        # trio's own getaddrinfo (trio.open_tcp_stream, the libc path) answers from the fake too
        infos = await trio.socket.getaddrinfo("dual.test", 443, type=socket.SOCK_STREAM)
        assert [i[4][:2] for i in infos] == [("::1", 443), ("127.0.0.1", 443)]
        with pytest.raises(socket.gaierror):
            await trio.socket.getaddrinfo("nosuch.test", 443)
        assert await trio.socket.getaddrinfo("127.0.0.1", 1, type=socket.SOCK_STREAM)  # numeric: as ever
    assert not [s for s in net.sockets if s.type == socket.SOCK_DGRAM]  # no query socket was made
    assert dict(vars(trionet.default_resolver)) == before  # restored: no shadow left behind
    with pytest.raises(TypeError), net.install(), FakeNet().install():  # nested installs restore in order
        raise TypeError
    assert dict(vars(trionet.default_resolver)) == before


async def test_https_records(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.add_https("svc.test", alpn=["h2", "h3"], port=8443, ipv4hint=["192.0.2.1"], ipv6hint=["2001:db8::1"])
    net.add_https("svc.test", priority=2, target="alt.test.", delay=0.25)
    records = await net.resolver._lookup_https("svc.test")
    assert trio.current_time() == 0.25
    assert [r.to_text() for r in records] == [
        '1 . alpn="h2,h3" port="8443" ipv4hint="192.0.2.1" ipv6hint="2001:db8::1"',
        "2 alt.test.",
    ]
    assert await net.resolver._lookup_https("none.test") == []
    with pytest.raises(ValueError, match="not a valid HTTPS record"):
        net.add_https("bad.test", ipv4hint=["::1"])
