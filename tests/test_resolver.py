"""The pure resolver against an in-process dnspython server (tests/dnsfake.py) on loopback.

Every Resolver here has explicit loopback nameservers and private resolv.conf/hosts files.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest
import trio
import trio.testing

import trionet
from trionet import DNSError, IPAddr, OpError, Resolver
from trionet._resolver import MX, NS, SRV

from .dnsfake import FakeDNS

MakeResolver = Callable[..., Resolver]
DEFAULT_CONF = "search test.\noptions timeout:1 attempts:1\n"


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeDNS:
    server: FakeDNS = await nursery.start(FakeDNS().serve)
    server.add("dual.test", "A", "127.0.0.1").add("dual.test", "AAAA", "::1")
    server.add("v4.test", "A", "127.0.0.2")
    return server


@pytest.fixture
def make(tmp_path: Path, fake: FakeDNS) -> MakeResolver:
    def factory(
        conf: str = DEFAULT_CONF, hosts: str = "", servers: list[str] | None = None, **kw: object
    ) -> Resolver:
        rc, hf = tmp_path / "resolv.conf", tmp_path / "hosts"
        rc.write_text(conf)
        hf.write_text(hosts)
        return Resolver(
            nameservers=servers or [fake.address],
            resolv_conf=str(rc),
            hosts_file=str(hf),
            **kw,  # type: ignore[arg-type]
        )

    return factory


async def test_both_families_rfc6724(make: MakeResolver, fake: FakeDNS) -> None:
    r = make()
    assert await r.lookup_ip_addr("dual.test") == [IPAddr("::1"), IPAddr("127.0.0.1")]
    assert sorted(fake.asked()) == [("dual.test.", "A"), ("dual.test.", "AAAA")]
    assert await r.lookup_host("dual.test") == ["::1", "127.0.0.1"]


@pytest.mark.parametrize(("network", "qtype", "want"), [("ip4", "A", "127.0.0.1"), ("ip6", "AAAA", "::1")])
async def test_one_family(make: MakeResolver, fake: FakeDNS, network: str, qtype: str, want: str) -> None:
    assert await make().lookup_ip_addr("dual.test", network=network) == [IPAddr(want)]
    assert fake.asked() == [("dual.test.", qtype)]  # Go #45024: only the family asked


async def test_lookup_ip(make: MakeResolver) -> None:
    r = make()
    assert await r.lookup_ip("ip6", "dual.test") == [ipaddress.IPv6Address("::1")]
    assert await r.lookup_ip("ip", "v4.test") == [ipaddress.IPv4Address("127.0.0.2")]
    with pytest.raises(trionet.UnknownNetworkError):
        await r.lookup_ip("tcp", "v4.test")
    with pytest.raises(DNSError, match=r"^lookup v4.test on .*: no such host$"):
        await r.lookup_ip("ip6", "v4.test")  # NODATA is "no such host" (Go's skipToAnswer)


async def test_literals_and_empty(make: MakeResolver, fake: FakeDNS) -> None:
    r = make()
    assert await r.lookup_ip_addr("fe80::1%lo") == [IPAddr("fe80::1", "lo")]
    assert await r.lookup_host("192.0.2.1") == ["192.0.2.1"]
    with pytest.raises(DNSError, match=r"^lookup : no such host$") as info:
        await r.lookup_ip_addr("")
    assert info.value.is_not_found
    assert fake.queries == []


async def test_nxdomain_stops_other_servers(make: MakeResolver, fake: FakeDNS, nursery: trio.Nursery) -> None:
    second: FakeDNS = await nursery.start(FakeDNS().serve)
    second.add("nope.test", "A", "10.0.0.1")
    r = make(conf="options timeout:1 attempts:2\n", servers=[fake.address, second.address])
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("nope.test.", network="ip4")
    err = info.value
    assert str(err) == f"lookup nope.test. on {fake.address}: no such host"
    assert (err.is_not_found, err.is_temporary, err.is_timeout) == (True, False, False)
    assert second.queries == []


async def test_servfail_next_server(make: MakeResolver, fake: FakeDNS, nursery: trio.Nursery) -> None:
    fake.behave("flaky.test", "servfail")
    second: FakeDNS = await nursery.start(FakeDNS().serve)
    second.add("flaky.test", "A", "10.0.0.7")
    r = make(conf="options timeout:1 attempts:1\n", servers=[fake.address, second.address])
    assert await r.lookup_ip_addr("flaky.test.", network="ip4") == [IPAddr("10.0.0.7")]


async def test_servfail_error(make: MakeResolver, fake: FakeDNS) -> None:
    fake.behave("sf.test", "servfail")
    with pytest.raises(DNSError) as info:
        await make().lookup_ip_addr("sf.test.")
    err = info.value
    assert str(err) == f"lookup sf.test. on {fake.address}: server misbehaving"
    assert (err.is_not_found, err.is_temporary, err.is_timeout) == (False, True, False)
    assert err.temporary
    assert not isinstance(err, TimeoutError)


async def test_refused_and_lame(make: MakeResolver, fake: FakeDNS) -> None:
    fake.behave("refused.test", "refused").behave("lame.test", "lame")
    r = make()
    with pytest.raises(DNSError, match=r"server misbehaving$") as info:
        await r.lookup_ip_addr("refused.test.", network="ip4")
    assert not info.value.is_temporary  # only SERVFAIL is temporary
    with pytest.raises(DNSError, match=r"lame referral$"):
        await r.lookup_ip_addr("lame.test.", network="ip4")


async def test_timeout_on_trio_clock(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.behave("silent.test", "silent")
    r = make(conf="options timeout:3 attempts:2\n")
    start = trio.current_time()
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("silent.test.")
    # A and AAAA in parallel, each 2 attempts x 3 s: exactly 6 s of Trio time.
    assert trio.current_time() - start == 6.0
    err = info.value
    assert str(err) == f"lookup silent.test. on {fake.address}: i/o timeout"
    assert err.is_timeout
    assert err.is_temporary
    assert isinstance(err, TimeoutError)
    assert len(fake.queries) == 4


async def test_slow_server_within_timeout(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.delay = 4.0
    fake.behave("slow.test", "slow").add("slow.test", "A", "10.1.1.1")
    start = trio.current_time()
    assert await make(conf="options timeout:5\n").lookup_ip_addr("slow.test.", network="ip4") == [
        IPAddr("10.1.1.1")
    ]
    assert trio.current_time() - start == 4.0
    fake.delay = 6.0
    with pytest.raises(DNSError, match=r"i/o timeout$"):
        await make(conf="options timeout:5 attempts:1\n").lookup_ip_addr("slow.test.", network="ip4")


async def test_enclosing_cancel_is_bare_cancelled(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.behave("silent.test", "silent")
    r = make(conf="options timeout:5 attempts:2\n")
    with trio.move_on_after(1.5) as scope:
        await r.lookup_ip_addr("silent.test.")
    assert scope.cancelled_caught
    assert trio.current_time() == 1.5
    await trio.testing.wait_all_tasks_blocked()
    assert _lookup_tasks() == []  # the shared query was cancelled with its only waiter
    with pytest.raises(trio.TooSlowError):  # fail_after sees a plain Cancelled inside
        with trio.fail_after(1):
            await r.lookup_ip_addr("silent.test.")


def _lookup_tasks() -> list[str]:
    root = trio.lowlevel.current_root_task()
    assert root is not None
    names: list[str] = []
    todo = [root]
    while todo:
        task = todo.pop()
        names.append(task.name)
        todo.extend(t for n in task.child_nurseries for t in n.child_tasks)
    return [n for n in names if n.startswith("trionet.lookup")]


async def test_singleflight_shares_and_survives_one_cancel(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.delay = 2.0
    fake.behave("slow.test", "slow").add("slow.test", "A", "10.2.2.2")
    r = make(conf="options timeout:5\n")
    results: list[list[IPAddr]] = []

    async def patient() -> None:
        results.append(await r.lookup_ip_addr("slow.test.", network="ip4"))

    async def impatient() -> None:
        with trio.move_on_after(1):
            await r.lookup_ip_addr("slow.test.", network="ip4")
        results.append([])

    async with trio.open_nursery() as nursery:
        nursery.start_soon(impatient)
        nursery.start_soon(patient)
        nursery.start_soon(patient)
    assert sorted(results, key=len) == [[], [IPAddr("10.2.2.2")], [IPAddr("10.2.2.2")]]
    assert fake.asked() == [("slow.test.", "A")]  # one query for three callers
    assert trio.current_time() == 2.0


async def test_search_and_ndots(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("web.corp.test", "A", "10.3.3.3")
    r = make(conf="search corp.test other.test\noptions ndots:1 timeout:1 attempts:1\n")
    assert await r.lookup_ip_addr("web", network="ip4") == [IPAddr("10.3.3.3")]
    assert fake.asked() == [("web.corp.test.", "A")]
    fake.queries.clear()
    # ndots:2 → "x.y" is tried with the search suffixes first, then as is.
    r2 = make(conf="search corp.test\noptions ndots:2 timeout:1 attempts:1\n")
    with pytest.raises(DNSError, match=r"^lookup x.y on .*: no such host$"):
        await r2.lookup_ip_addr("x.y", network="ip4")
    assert fake.asked() == [("x.y.corp.test.", "A"), ("x.y.", "A")]


async def test_hosts_first_and_reload(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    r = make(hosts="10.9.9.9 dual.test\n127.0.0.1 localhost\n::1 localhost\n")
    assert await r.lookup_ip_addr("DUAL.test.") == [IPAddr("10.9.9.9")]
    assert await r.lookup_host("localhost") == ["127.0.0.1", "::1"]  # hosts order for lookup_host
    assert await r.lookup_ip_addr("localhost") == [IPAddr("::1"), IPAddr("127.0.0.1")]  # RFC 6724
    assert await r.lookup_cname("dual.test") == "dual.test."
    assert fake.queries == []
    (tmp_path / "hosts").write_text("127.0.0.1 localhost\n")
    await trio.sleep(5)  # Go's 5-second hosts cache
    assert await r.lookup_ip_addr("dual.test") == [IPAddr("::1"), IPAddr("127.0.0.1")]
    assert fake.queries != []


async def test_localhost_not_in_hosts_goes_to_dns(make: MakeResolver, fake: FakeDNS) -> None:
    # Go's pure resolver has no built-in localhost: without a hosts entry it asks DNS.
    with pytest.raises(DNSError, match=r"no such host"):
        await make(conf="options timeout:1\n").lookup_ip_addr("localhost", network="ip4")
    assert fake.asked() == [("localhost.", "A")]


@pytest.mark.parametrize("name", ["hidden.onion.", "bad..name", "-bad.test", "a" * 255, "x y.test"])
async def test_never_sent(make: MakeResolver, fake: FakeDNS, name: str) -> None:
    with pytest.raises(DNSError, match=r"no such host$") as info:
        await make().lookup_ip_addr(name)
    assert info.value.is_not_found
    assert info.value.server == ""
    assert fake.queries == []


async def test_truncation_retries_over_tcp(make: MakeResolver, fake: FakeDNS) -> None:
    fake.behave("big.test", "truncate").add("big.test", "A", *(f"10.4.0.{i}" for i in range(1, 60)))
    got = await make().lookup_ip_addr("big.test.", network="ip4")
    assert len(got) == 59
    assert fake.queries == [("udp", "big.test.", "A"), ("tcp", "big.test.", "A")]


async def test_use_vc(make: MakeResolver, fake: FakeDNS) -> None:
    assert await make(conf="options use-vc\n").lookup_ip_addr("v4.test.", network="ip4") == [
        IPAddr("127.0.0.2")
    ]
    assert fake.queries == [("tcp", "v4.test.", "A")]


@pytest.mark.parametrize("how", ["wrong-id-first", "wrong-question-first", "garbage-first", "spoof-first"])
async def test_bogus_replies_ignored(make: MakeResolver, fake: FakeDNS, how: str) -> None:
    fake.behave("target.test", how).add("target.test", "A", "10.5.5.5")
    assert await make().lookup_ip_addr("target.test.", network="ip4") == [IPAddr("10.5.5.5")]


async def test_only_garbage_times_out(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.behave("junk.test", "garbage")
    with pytest.raises(DNSError, match=r"i/o timeout$"):
        await make().lookup_ip_addr("junk.test.", network="ip4")


async def test_cname_loop(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("a.test", "CNAME", "b.test.").add("b.test", "CNAME", "a.test.")
    with pytest.raises(DNSError, match=r"no such host$"):
        await make().lookup_ip_addr("a.test.")
    assert await make().lookup_cname("a.test.") == "b.test."


async def test_oversized_udp_answer_accepted(make: MakeResolver, fake: FakeDNS) -> None:
    fake.behave("fat.test", "oversized").add("fat.test", "A", "10.6.6.6")
    assert await make().lookup_ip_addr("fat.test.", network="ip4") == [IPAddr("10.6.6.6")]
    assert fake.asked("tcp") == []


async def test_connection_refused_is_temporary(make: MakeResolver, tmp_path: Path) -> None:
    with trio.socket.socket(type=trio.socket.SOCK_DGRAM) as s:  # a port with nobody listening
        await s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(DNSError) as info:
        await make(servers=[dead]).lookup_ip_addr("x.test.", network="ip4")
    assert info.value.is_temporary
    assert str(info.value).startswith(f"lookup x.test. on {dead}: read udp 127.0.0.1:")
    assert str(info.value).endswith(f"->{dead}: read: connection refused")


async def test_strict_errors(make: MakeResolver, fake: FakeDNS) -> None:
    # A answers, AAAA gets SERVFAIL (Go's StrictErrors doc: broken AAAA handling).
    fake.add("half.test", "A", "10.7.7.7").behave("half.test", "servfail", "AAAA")
    assert await make().lookup_ip_addr("half.test.") == [IPAddr("10.7.7.7")]
    with pytest.raises(DNSError, match=r"server misbehaving$") as info:
        await make(strict_errors=True).lookup_ip_addr("half.test.")
    assert info.value.is_temporary


async def test_single_request_is_sequential(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.delay = 1.0
    fake.behave("seq.test", "slow").add("seq.test", "A", "10.8.8.8")
    await make(conf="options single-request\n").lookup_ip_addr("seq.test.")
    assert trio.current_time() == 2.0  # A then AAAA, one after the other
    assert fake.asked() == [("seq.test.", "A"), ("seq.test.", "AAAA")]
    await make(conf="options timeout:5\n").lookup_ip_addr("seq.test.")
    assert trio.current_time() == 3.0  # in parallel


async def test_records(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("mx.test", "MX", "10 b.mx.test.", "5 a.mx.test.")
    fake.add("_sip._tcp.srv.test", "SRV", "10 0 5060 b.srv.test.", "0 0 5061 a.srv.test.")
    fake.add("ns.test", "NS", "ns1.test.")
    fake.add("txt.test", "TXT", '"v=spf1" " -all"')
    r = make()
    assert await r.lookup_mx("mx.test") == [MX("a.mx.test.", 5), MX("b.mx.test.", 10)]
    assert await r.lookup_srv("sip", "tcp", "srv.test") == (
        "_sip._tcp.srv.test.",
        [SRV("a.srv.test.", 5061, 0, 0), SRV("b.srv.test.", 5060, 10, 0)],
    )
    assert await r.lookup_ns("ns.test") == [NS("ns1.test.")]
    assert await r.lookup_txt("txt.test") == ["v=spf1 -all"]


async def test_lookup_addr(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("5.5.0.10.in-addr.arpa", "PTR", "five.test.")
    r = make(hosts="10.0.0.9 nine.test nine\n")
    assert await r.lookup_addr("10.0.0.9") == ["nine.test.", "nine"]
    assert await r.lookup_addr("10.0.5.5") == ["five.test."]
    assert fake.asked() == [("5.5.0.10.in-addr.arpa.", "PTR")]
    with pytest.raises(DNSError, match=r"^lookup nope: unrecognized address$"):
        await r.lookup_addr("nope")


async def test_lookup_port(make: MakeResolver) -> None:
    r = make()
    assert await r.lookup_port("tcp", "443") == 443
    assert await r.lookup_port("tcp", "https") == 443
    with pytest.raises(DNSError, match=r"^lookup tcp/nosuchsvc: unknown port$"):
        await r.lookup_port("tcp", "nosuchsvc")


async def test_dial_error_text(make: MakeResolver, fake: FakeDNS) -> None:
    d = trionet.Dialer(resolver=make())
    with pytest.raises(OpError) as info:
        await d.dial("tcp", "nosuch.test:80")
    assert str(info.value) == f"dial tcp: lookup nosuch.test on {fake.address}: no such host"
    assert isinstance(info.value.err, DNSError)
    assert info.value.err.is_not_found


async def test_dial_through_resolver(make: MakeResolver, fake: FakeDNS) -> None:
    listener = await trionet.listen("tcp", "127.0.0.1:0")
    async with listener:
        assert isinstance(listener.addr, trionet.TCPAddr)
        port = listener.addr.port
        fake.add("svc.test", "A", "127.0.0.1")
        stream = await trionet.Dialer(resolver=make()).dial("tcp", f"svc.test:{port}")
        await stream.aclose()


async def test_resolve_addrs(make: MakeResolver) -> None:
    r = make()
    assert await trionet.resolve_tcp_addr("tcp", "dual.test:80", resolver=r) == trionet.TCPAddr(
        "127.0.0.1", 80
    )
    assert await trionet.resolve_tcp_addr("tcp6", "dual.test:80", resolver=r) == trionet.TCPAddr("::1", 80)
    assert await trionet.resolve_udp_addr("udp", "[::1]:53", resolver=r) == trionet.UDPAddr("::1", 53)
    assert await trionet.resolve_ip_addr("ip", "dual.test", resolver=r) == IPAddr("127.0.0.1")
    assert await trionet.resolve_ip_addr("ip", "::1") == IPAddr("::1")
    assert await trionet.resolve_unix_addr("unixgram", "/tmp/x") == trionet.UnixAddr("/tmp/x", "unixgram")
    with pytest.raises(trionet.UnknownNetworkError, match=r"^unknown network udp$"):
        await trionet.resolve_tcp_addr("udp", "127.0.0.1:80")


async def test_rotate(make: MakeResolver, fake: FakeDNS, nursery: trio.Nursery) -> None:
    second: FakeDNS = await nursery.start(FakeDNS().serve)
    second.add("v4.test", "A", "127.0.0.2")
    r = make(conf="options rotate\n", servers=[fake.address, second.address])
    for _ in range(4):
        await r.lookup_ip_addr("v4.test.", network="ip4")
    assert len(fake.queries) == len(second.queries) == 2


def test_default_resolver_reads_nothing_at_import() -> None:
    r = trionet.default_resolver
    assert r._resolv._conf is None  # pyright: ignore[reportPrivateUsage]
    assert not r._hosts_cache._loaded  # pyright: ignore[reportPrivateUsage]
