"""The pure resolver against an in-process dnspython server (tests/dnsfake.py) on loopback.

Every Resolver here has explicit loopback nameservers and private resolv.conf/hosts files.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import dns.flags
import pytest
import trio
import trio.testing

import trionet
import trionet._resolver
from trionet import MX, NS, SRV, DNSError, IPAddr, OpError, Resolver

from .dnsfake import FakeDNS

pytestmark = pytest.mark.loopback

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


async def test_lookup_ip_addr_checks_its_network(make: MakeResolver, fake: FakeDNS) -> None:
    r = make()
    for network in ("CNAME", "bogus", "tcp"):
        with pytest.raises(trionet.UnknownNetworkError):
            await r.lookup_ip_addr("dual.test.", network=network)
    assert fake.queries == []


class _Spawns(trio.abc.Instrument):
    """The names of the tasks spawned while it is added."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.names.append(task.name)

    def shared(self) -> int:
        return len([n for n in self.names if n.startswith("trionet.lookup")])


async def test_hosts_file_answers_share_no_task(make: MakeResolver, fake: FakeDNS) -> None:
    # A hosts-file answer needs no I/O: it comes back without do_shared's system task. So does
    # a lone DNS lookup that its first exchange answers (the inline work, run by the caller's
    # own task), a NODATA for the other family included; a lookup that needs more (here
    # NXDOMAIN, which Go's loop reports) starts one.
    r = make(hosts="127.0.0.5 local.test\n")
    spawns = _Spawns()
    trio.lowlevel.add_instrument(spawns)
    try:
        assert await r.lookup_ip_addr("local.test") == [IPAddr("127.0.0.5")]
        assert spawns.shared() == 0
        await r.lookup_ip_addr("v4.test.", network="ip4")
        assert spawns.shared() == 0
        assert await r.lookup_ip_addr("v4.test.") == [IPAddr("127.0.0.2")]  # AAAA: NODATA
        assert spawns.shared() == 0
        with pytest.raises(DNSError, match="no such host"):
            await r.lookup_ip_addr("nowhere.test.", network="ip4")  # the control case
        assert spawns.shared() == 1
    finally:
        trio.lowlevel.remove_instrument(spawns)
    assert fake.asked() == [
        ("v4.test.", "A"),
        ("v4.test.", "A"),
        ("v4.test.", "AAAA"),
        ("nowhere.test.", "A"),  # NXDOMAIN asked once
    ]


def test_nameservers_must_be_servers() -> None:
    with pytest.raises(ValueError, match="at least one server"):
        Resolver(nameservers=[])
    for bad in ("bogus", "[::1]", "1.2.3.4:http", ""):
        with pytest.raises(ValueError, match="nameserver must be IP or IP:port"):
            Resolver(nameservers=[bad])


async def test_lookup_ip_networks_and_the_unspecified_address(make: MakeResolver, fake: FakeDNS) -> None:
    # Go's LookupIP parses the network with parseNetwork(needsProto=false): a protocol suffix
    # is allowed; and internetAddrList adds 0.0.0.0 to a lone "::" (Go issue 18806).
    r = make()
    assert await r.lookup_ip("ip4:icmp", "v4.test") == [ipaddress.IPv4Address("127.0.0.2")]
    v4zero, v6zero = ipaddress.IPv4Address("0.0.0.0"), ipaddress.IPv6Address("::")
    assert await r.lookup_ip("ip", "::") == [v6zero, v4zero]
    assert await r.lookup_ip("ip4", "::") == [v4zero]
    assert await r.lookup_ip("ip6", "::") == [v6zero]
    with pytest.raises(trionet.AddrError, match=r"^address nosuchproto: unknown IP protocol specified$"):
        await r.lookup_ip("ip4:nosuchproto", "v4.test")
    with pytest.raises(trionet.UnknownNetworkError):
        await r.lookup_ip("udp", "v4.test")
    assert fake.asked() == [("v4.test.", "A")]  # literals and bad networks ask nothing


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


@pytest.mark.parametrize("timeout", [5, 1], ids=["during-the-first-try", "during-the-retries"])
async def test_enclosing_cancel_is_bare_cancelled(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, timeout: int
) -> None:
    # At 1.5 s the first tries (sent together from the lookup's task) are still waiting with a
    # 5 s timeout; with a 1 s one they have timed out and the retries run in a nursery.
    fake.behave("silent.test", "silent")
    r = make(conf=f"options timeout:{timeout} attempts:2\n")
    with trio.move_on_after(1.5) as scope:
        await r.lookup_ip_addr("silent.test.")
    assert scope.cancelled_caught
    assert trio.current_time() == 1.5
    await trio.testing.wait_all_tasks_blocked()
    assert _lookup_tasks() == []  # the shared query was cancelled with its only waiter
    assert _client_sockets(fake.port) == 0
    assert len(fake.asked()) == (2 if timeout == 5 else 4)
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
    r = _slow(make, fake)
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


def _slow(make: MakeResolver, fake: FakeDNS, *families: str) -> Resolver:
    """A resolver whose server answers ``slow.test`` (A 10.2.2.2, and AAAA fd00::22 when asked
    for) after 2 s; the exchange timeout is 5 s."""
    fake.delay = 2.0
    fake.behave("slow.test", "slow").add("slow.test", "A", "10.2.2.2")
    if "AAAA" in families:
        fake.add("slow.test", "AAAA", "fd00::22")
    return make(conf="options timeout:5\n")


def _sorted_like(r: Resolver, texts: list[str]) -> list[IPAddr]:
    return r._sort_addrs("", [IPAddr(t) for t in texts])  # pyright: ignore[reportPrivateUsage]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("network", ["ip4", "ip"])
async def test_first_caller_cancelled_hands_its_query_on(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, network: str
) -> None:
    # The first caller runs the lookup in its own task (no shared task). Cancelled at 1 s while
    # two others wait, it leaves at once, and a system task reads the same query's reply
    # (sent at 0 s, answered at 2 s) for them: one query per type, the answer at 2 s, as Go.
    r = _slow(make, fake, "AAAA")
    left: list[float] = []
    answers: list[tuple[list[IPAddr], float]] = []

    async def impatient() -> None:
        with trio.move_on_after(1):
            await r.lookup_ip_addr("slow.test.", network=network)
        left.append(trio.current_time())

    async def patient() -> None:
        answers.append((await r.lookup_ip_addr("slow.test.", network=network), trio.current_time()))

    spawns = _Spawns()
    trio.lowlevel.add_instrument(spawns)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(impatient)
            await trio.testing.wait_all_tasks_blocked()
            assert len(fake.asked()) == (1 if network == "ip4" else 2)  # it leads
            nursery.start_soon(patient)
            nursery.start_soon(patient)
    finally:
        trio.lowlevel.remove_instrument(spawns)
    want = [IPAddr("10.2.2.2")] if network == "ip4" else _sorted_like(r, ["10.2.2.2", "fd00::22"])
    assert left == [1.0]
    assert answers == [(want, 2.0), (want, 2.0)]
    assert len(fake.asked()) == (1 if network == "ip4" else 2)  # the same query, handed on
    assert spawns.shared() == 1  # the hand-off's task, and nothing else


async def test_first_caller_cancelled_alone_closes_its_sockets(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    # Nobody else waits: the work is closed with it (no socket left open, no task), and the
    # next lookup of the name asks again.
    r = _slow(make, fake)
    before = _open_fds()
    spawns = _Spawns()
    trio.lowlevel.add_instrument(spawns)
    try:
        with trio.move_on_after(1) as scope:
            await r.lookup_ip_addr("slow.test.")
        assert scope.cancelled_caught
        assert trio.current_time() == 1.0
        assert _open_fds() == before
        assert await r.lookup_ip_addr("slow.test.", network="ip4") == [IPAddr("10.2.2.2")]
    finally:
        trio.lowlevel.remove_instrument(spawns)
    assert spawns.shared() == 0
    assert fake.asked().count(("slow.test.", "A")) == 2


async def test_a_later_caller_cancelled_leaves_the_first_its_answer(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    r = _slow(make, fake)
    got: list[tuple[str, float]] = []

    async def first() -> None:
        assert await r.lookup_ip_addr("slow.test.", network="ip4") == [IPAddr("10.2.2.2")]
        got.append(("first", trio.current_time()))

    async def later() -> None:
        with trio.move_on_after(0.5):
            await r.lookup_ip_addr("slow.test.", network="ip4")
        got.append(("later", trio.current_time()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(later)
    assert got == [("later", 0.5), ("first", 2.0)]
    assert fake.asked() == [("slow.test.", "A")]


async def test_first_exchange_not_enough_goes_on_shared(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    # SERVFAIL from the first server: Go's loop goes on to the second (which answers after
    # 2 s) in the shared task, and a caller that joined meanwhile gets that answer too, at the
    # same time; each server is asked once.
    second = FakeDNS()
    second.delay = 2.0
    second.add("flaky.test", "A", "10.4.4.4").behave("flaky.test", "slow")
    fake.behave("flaky.test", "servfail")
    async with trio.open_nursery() as servers:
        await servers.start(second.serve)
        r = make(conf="options timeout:5 attempts:1\n", servers=[fake.address, second.address])
        answers: list[tuple[list[IPAddr], float]] = []

        async def ask() -> None:
            answers.append((await r.lookup_ip_addr("flaky.test.", network="ip4"), trio.current_time()))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(ask)
        servers.cancel_scope.cancel()
    assert answers == [([IPAddr("10.4.4.4")], 2.0)] * 2
    assert fake.asked() == [("flaky.test.", "A")]
    assert second.asked() == [("flaky.test.", "A")]


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


async def test_a_truncated_tcp_answer_is_used_as_it_is(make: MakeResolver, fake: FakeDNS) -> None:
    # Go (go.dev/issue/64896): TC over TCP is not retried anywhere; its records are the answer.
    fake.behave("tc.test", "truncate-tcp").add("tc.test", "A", "10.4.1.1")
    assert await make().lookup_ip_addr("tc.test.", network="ip4") == [IPAddr("10.4.1.1")]
    assert fake.queries == [("udp", "tc.test.", "A"), ("tcp", "tc.test.", "A")]


async def test_use_vc(make: MakeResolver, fake: FakeDNS) -> None:
    assert await make(conf="options use-vc\n").lookup_ip_addr("v4.test.", network="ip4") == [
        IPAddr("127.0.0.2")
    ]
    assert fake.queries == [("tcp", "v4.test.", "A")]


# A forged reply from another port is test_udp_reply_from_elsewhere_is_ignored, below.
@pytest.mark.parametrize("how", ["wrong-id-first", "wrong-question-first", "garbage-first"])
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


@pytest.mark.parametrize("option", ["single-request", "single-request-reopen"])
async def test_single_request_is_sequential(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, option: str
) -> None:
    # Go treats single-request-reopen as single-request: A, then AAAA. glibc's "reopen" part
    # (a new socket for the second query) is what trionet always does.
    fake.delay = 1.0
    fake.behave("seq.test", "slow").add("seq.test", "A", "10.8.8.8")
    assert await make(conf=f"options {option}\n").lookup_ip_addr("seq.test.") == [IPAddr("10.8.8.8")]
    assert trio.current_time() == 2.0  # A then AAAA, one after the other
    assert fake.asked() == [("seq.test.", "A"), ("seq.test.", "AAAA")]
    a, aaaa = fake.received
    assert a.peer[1] != aaaa.peer[1]
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


async def test_srv_with_an_invalid_owner_name(make: MakeResolver, fake: FakeDNS) -> None:
    # Go's TestLookupSRV "bad header": the answer's owner name is not a domain name.
    import dns.name
    import dns.rdatatype
    import dns.rrset

    qname = dns.name.from_text("_hdr._tcp.bad.test")
    fake.zone[(qname, int(dns.rdatatype.SRV))] = dns.rrset.from_text(
        "<html>.bad.test.", 60, "IN", "SRV", "0 0 80 ok.test."
    )
    fake.names.add(qname)
    with pytest.raises(DNSError, match=r"^lookup bad\.test: SRV header name is invalid$"):
        await make().lookup_srv("hdr", "tcp", "bad.test")


async def test_answers_without_io_are_still_checkpoints(make: MakeResolver) -> None:
    # IP literals and hosts-file names need no I/O; every async lookup still checkpoints, so
    # one inside an already-cancelled scope raises Cancelled as any Trio call would.
    r = make(hosts="10.0.0.9 nine.test nine\n")
    lookups: list[Callable[[], Awaitable[object]]] = [
        lambda: r.lookup_ip_addr("127.0.0.1"),
        lambda: r.lookup_ip("ip", "127.0.0.1"),
        lambda: r.lookup_host("127.0.0.1"),
        lambda: r.lookup_ip_addr("nine.test"),
        lambda: r.lookup_cname("nine.test"),
        lambda: r.lookup_addr("10.0.0.9"),
        lambda: trionet.resolve_tcp_addr("tcp", "127.0.0.1:80", resolver=r),
        lambda: trionet.resolve_udp_addr("udp", "[::1]:53", resolver=r),
        lambda: trionet.resolve_ip_addr("ip", "127.0.0.1", resolver=r),
    ]
    for lookup in lookups:
        with trio.testing.assert_checkpoints():
            await lookup()


async def test_lookup_addr(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("5.5.0.10.in-addr.arpa", "PTR", "five.test.")
    r = make(hosts="10.0.0.9 nine.test nine\n")
    assert await r.lookup_addr("10.0.0.9") == ["nine.test.", "nine"]
    assert await r.lookup_addr("10.0.5.5") == ["five.test."]
    assert fake.asked() == [("5.5.0.10.in-addr.arpa.", "PTR")]
    with pytest.raises(DNSError, match=r"^lookup nope: unrecognized address$"):
        await r.lookup_addr("nope")
    # A failed PTR query names the reverse name asked (Go's goLookupPTR returns lookup's error).
    with pytest.raises(DNSError) as info:
        await r.lookup_addr("10.0.5.6")
    assert str(info.value) == f"lookup 6.5.0.10.in-addr.arpa. on {fake.address}: no such host"


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
    # An empty host with a service name is the wildcard, as with a numeric port (Go).
    assert await trionet.resolve_tcp_addr("tcp", ":http", resolver=r) == trionet.TCPAddr(None, 80)
    assert await trionet.resolve_udp_addr("udp", ":domain", resolver=r) == trionet.UDPAddr(None, 53)
    assert await trionet.resolve_ip_addr("ip", "dual.test", resolver=r) == IPAddr("127.0.0.1")
    assert await trionet.resolve_ip_addr("ip", "::1") == IPAddr("::1")
    assert await trionet.resolve_unix_addr("unixgram", "/tmp/x") == trionet.UnixAddr("/tmp/x", "unixgram")
    with pytest.raises(trionet.UnknownNetworkError, match=r"^unknown network udp$"):
        await trionet.resolve_tcp_addr("udp", "127.0.0.1:80")
    # Go's parseNetwork(needsProto=false): a protocol suffix is checked, not cut off.
    assert await trionet.resolve_ip_addr("ip4:icmp", "127.0.0.1") == IPAddr("127.0.0.1")
    with pytest.raises(trionet.AddrError, match=r"^address bogus: unknown IP protocol specified$"):
        await trionet.resolve_ip_addr("ip:bogus", "127.0.0.1")
    with pytest.raises(trionet.UnknownNetworkError, match=r"^unknown network tcp:foo$"):
        await trionet.resolve_ip_addr("tcp:foo", "127.0.0.1")


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


# -- the wire: EDNS0, flags, random IDs and ports, replies from elsewhere ------------------------
async def test_queries_carry_edns0_rd_random_ids_and_ports(make: MakeResolver, fake: FakeDNS) -> None:
    r = make()
    for _ in range(8):
        await r.lookup_ip_addr("v4.test.", network="ip4")
    got = fake.received
    assert len(got) == 8
    for q in got:
        assert (q.message.edns, q.message.payload) == (0, 1232)  # EDNS0, Go's maxDNSPacketSize
        assert q.message.flags & dns.flags.RD
        assert not q.message.flags & dns.flags.AD  # no trust-ad
        assert q.peer[0] == "127.0.0.1"
        assert q.peer[1] != fake.port
    # A fresh socket per query: the kernel gives each a random port; IDs come from secrets.
    assert len({q.peer[1] for q in got}) > 1
    assert len({q.message.id for q in got}) > 1


@pytest.mark.parametrize(("options", "ad"), [("trust-ad", True), ("edns0", False), ("edns0 trust-ad", True)])
async def test_trust_ad_and_edns0_options(make: MakeResolver, fake: FakeDNS, options: str, ad: bool) -> None:
    r = make(conf=f"options {options} timeout:1\n")
    assert await r.lookup_ip_addr("v4.test.", network="ip4") == [IPAddr("127.0.0.2")]
    (q,) = fake.received
    assert bool(q.message.flags & dns.flags.AD) is ad  # trust-ad: the AD bit in queries (Go)
    assert (q.message.edns, q.message.payload) == (0, 1232)  # edns0: always on anyway (Go)


@pytest.mark.parametrize("trust_ad", [False, True])
@pytest.mark.parametrize("rdtype", ["A", "AAAA", "SRV", "PTR"])
@pytest.mark.parametrize("name", [".", "v4.test.", "Mixed.Case.example.", "a" * 63 + ".b."])
def test_query_wire_is_dnspythons_make_query(name: str, rdtype: str, trust_ad: bool) -> None:
    # The query template is rendered with a prebuilt OPT record; it must be exactly what
    # dnspython's make_query gives for EDNS0 with a 1232-byte payload (and AD for trust-ad).
    import dns.flags
    import dns.message
    import dns.name
    import dns.rdatatype

    from trionet._resolver._codec import _template  # pyright: ignore[reportPrivateUsage]

    qname, qtype = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
    query = dns.message.make_query(qname, qtype, use_edns=0, payload=1232, id=0)
    if trust_ad:
        query.flags |= dns.flags.AD
    assert _template(qname, qtype, trust_ad) == query.to_wire()


@pytest.mark.parametrize("how", ["spoof-first", "spoof-addr-first"], ids=["other-port", "other-address"])
async def test_udp_reply_from_elsewhere_is_ignored(make: MakeResolver, fake: FakeDNS, how: str) -> None:
    # The forged reply has our ID and our question and arrives first, but from another port
    # (or address) than the server's; the connected socket never sees it.
    fake.behave("target.test", how).add("target.test", "A", "10.5.5.5")
    assert await make().lookup_ip_addr("target.test.", network="ip4") == [IPAddr("10.5.5.5")]
    assert fake.spoofs_sent == 1


async def test_dns_over_tcp_connect_refused(make: MakeResolver) -> None:
    with trio.socket.socket() as s:  # a TCP port with nobody listening
        await s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(DNSError) as info:
        await make(conf="options use-vc attempts:1\n", servers=[dead]).lookup_ip_addr(
            "x.test.", network="ip4"
        )
    # Go's resolver dials with a zero Dialer: no source address in the text.
    assert str(info.value) == f"lookup x.test. on {dead}: dial tcp {dead}: connect: connection refused"
    assert info.value.is_temporary
    assert not info.value.is_not_found


class _NoIPv6Sockets(trio.abc.SocketFactory):
    """Trio's socket factory hook: socket() fails for IPv6 as on a host without it."""

    def socket(
        self,
        family: int | None = None,
        type: int | None = None,  # noqa: A002 - trio.abc.SocketFactory's parameter name
        proto: int | None = None,
    ) -> Any:
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))
        return trio.socket.from_stdlib_socket(socket.socket(family or socket.AF_INET, type or 0, proto or 0))


@pytest.mark.parametrize("network", ["ip4", "ip"])
async def test_socket_failure_is_a_dns_error_and_the_next_server_is_tried(
    make: MakeResolver, fake: FakeDNS, network: str
) -> None:
    # socket() itself fails (EMFILE; or no IPv6 for resolv.conf's default [::1]:53): Go's
    # tryOneName makes it a temporary DNSError and asks the next server, whatever the family.
    # The resolver's sockets come from trio.socket.socket, so Trio's own hook stands in.
    previous = trio.socket.set_custom_socket_factory(_NoIPv6Sockets())
    try:
        r = make(conf="options timeout:1 attempts:1\n", servers=["[::1]:53", fake.address])
        assert await r.lookup_ip_addr("v4.test.", network=network) == [IPAddr("127.0.0.2")]
        r = make(conf="options timeout:1 attempts:1\n", servers=["[::1]:53"])
        with pytest.raises(DNSError) as info:
            await r.lookup_ip_addr("v4.test.", network=network)
    finally:
        trio.socket.set_custom_socket_factory(previous)
    assert str(info.value) == (
        "lookup v4.test. on [::1]:53: dial udp [::1]:53: socket: address family not supported by protocol"
    )
    assert info.value.is_temporary


# -- Go's localhost rules ------------------------------------------------------------------------
async def test_localhost_follows_the_search_list(make: MakeResolver, fake: FakeDNS) -> None:
    # Go's pure resolver has no built-in localhost (golang/go#22826 is open): without a hosts
    # entry, "localhost" (no dots, ndots:1) is tried with the search suffixes first, then as is
    # (golang/go#32017).
    r = make(conf="search corp.test\noptions timeout:1 attempts:1\n")
    with pytest.raises(DNSError, match=r"^lookup localhost on .*: no such host$"):
        await r.lookup_ip_addr("localhost", network="ip4")
    assert fake.asked() == [("localhost.corp.test.", "A"), ("localhost.", "A")]


async def test_localhost_in_hosts_file_only_unrooted(make: MakeResolver, fake: FakeDNS) -> None:
    # Go's absDomainName roots only names with a dot inside: "localhost" is stored as is, so
    # the hosts file answers "localhost" and "LOCALHOST" but not "localhost.", which goes to DNS.
    r = make(hosts="127.0.0.1 localhost\n::1 localhost\n")
    assert await r.lookup_host("LOCALHOST") == ["127.0.0.1", "::1"]
    assert await r.lookup_ip("ip6", "localhost") == [ipaddress.IPv6Address("::1")]
    assert fake.queries == []
    with pytest.raises(DNSError, match=r"no such host$"):
        await r.lookup_ip_addr("localhost.", network="ip4")
    assert fake.asked() == [("localhost.", "A")]


# -- module-level functions, default_resolver, Dialer and ListenConfig ----------------------------
@pytest.fixture
async def default_to_fake(fake: FakeDNS, tmp_path: Path) -> AsyncIterator[Resolver]:
    """trionet.default_resolver pointed at the fake server and private files, then restored
    (Go programs do the same with ``net.DefaultResolver``'s fields)."""
    r = trionet.default_resolver
    saved = (r.prefer_python, r.strict_errors, r.nameservers, r.resolv_conf, r.hosts_file)
    (tmp_path / "default-resolv.conf").write_text(DEFAULT_CONF)
    (tmp_path / "default-hosts").write_text("10.0.0.9 nine.test\n")
    r.nameservers = [fake.address]
    r.resolv_conf = str(tmp_path / "default-resolv.conf")
    r.hosts_file = str(tmp_path / "default-hosts")
    try:
        yield r
    finally:
        r.prefer_python, r.strict_errors, r.nameservers, r.resolv_conf, r.hosts_file = saved


async def test_module_level_lookups_use_default_resolver(default_to_fake: Resolver, fake: FakeDNS) -> None:
    fake.add("alias.test", "CNAME", "dual.test.")
    fake.add("mx.test", "MX", "10 mail.test.")
    fake.add("_sip._udp.srv.test", "SRV", "0 0 5060 sip.test.")
    fake.add("ns.test", "NS", "ns1.test.")
    fake.add("txt.test", "TXT", '"hello"')
    fake.add("5.5.0.10.in-addr.arpa", "PTR", "five.test.")
    assert await trionet.lookup_host("dual.test") == ["::1", "127.0.0.1"]
    assert await trionet.lookup_host("nine.test") == ["10.0.0.9"]  # the default resolver's hosts file
    assert await trionet.lookup_ip_addr("dual.test", network="ip4") == [IPAddr("127.0.0.1")]
    assert await trionet.lookup_ip("ip6", "dual.test") == [ipaddress.IPv6Address("::1")]
    assert await trionet.lookup_port("udp", "domain") == 53
    assert await trionet.lookup_cname("alias.test") == "dual.test."
    assert await trionet.lookup_srv("sip", "udp", "srv.test") == (
        "_sip._udp.srv.test.",
        [SRV("sip.test.", 5060, 0, 0)],
    )
    assert await trionet.lookup_mx("mx.test") == [MX("mail.test.", 10)]
    assert await trionet.lookup_ns("ns.test") == [NS("ns1.test.")]
    assert await trionet.lookup_txt("txt.test") == ["hello"]
    assert await trionet.lookup_addr("10.0.5.5") == ["five.test."]
    assert await trionet.lookup_addr("10.0.0.9") == ["nine.test."]
    with pytest.raises(DNSError, match=rf"^lookup nope.test on {fake.address}: no such host$"):
        await trionet.lookup_host("nope.test")
    assert ("mx.test.", "MX") in fake.asked()
    assert ("5.5.0.10.in-addr.arpa.", "PTR") in fake.asked()


async def test_module_level_resolve_addrs_use_default_resolver(
    default_to_fake: Resolver, fake: FakeDNS
) -> None:
    # Go's Resolve*Addr: IPv4 preferred unless the address is an IPv6 literal.
    assert await trionet.resolve_tcp_addr("tcp", "dual.test:http") == trionet.TCPAddr("127.0.0.1", 80)
    assert await trionet.resolve_tcp_addr("", "dual.test:80") == trionet.TCPAddr("127.0.0.1", 80)
    assert await trionet.resolve_udp_addr("udp6", "dual.test:53") == trionet.UDPAddr("::1", 53)
    assert await trionet.resolve_ip_addr("ip", "dual.test") == IPAddr("127.0.0.1")
    assert await trionet.resolve_ip_addr("ip6", "dual.test") == IPAddr("::1")
    assert await trionet.resolve_ip_addr("ip4:icmp", "v4.test") == IPAddr("127.0.0.2")
    with pytest.raises(DNSError, match=r"^lookup nope.test on .*: no such host$"):
        await trionet.resolve_udp_addr("udp", "nope.test:53")
    with pytest.raises(DNSError, match=r"^lookup v4.test on .*: no such host$"):
        await trionet.resolve_tcp_addr("tcp6", "v4.test:80")  # only AAAA is asked (Go #45024)
    assert ("dual.test.", "AAAA") in fake.asked()


async def test_dialer_and_listen_use_default_resolver(default_to_fake: Resolver, fake: FakeDNS) -> None:
    fake.add("svc.test", "A", "127.0.0.1")
    listener = await trionet.listen("tcp", "svc.test:0")  # Go: ListenConfig always uses DefaultResolver
    async with listener:
        assert isinstance(listener.addr, trionet.TCPAddr)
        assert listener.addr.ip == ipaddress.IPv4Address("127.0.0.1")
        stream = await trionet.dial("tcp", f"svc.test:{listener.addr.port}")  # Dialer(resolver=None)
        await stream.aclose()
    assert fake.asked().count(("svc.test.", "A")) == 2


# -- the system path (getaddrinfo), reached through trio's hostname-resolver hook ----------------
class SystemStub(trio.abc.HostnameResolver):
    """Stands in for libc behind trio.socket.getaddrinfo/getnameinfo: nothing leaves the process."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, int, int]] = []

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,  # noqa: A002 - trio.abc.HostnameResolver's parameter name
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        self.calls.append(("getaddrinfo", host, family, flags))
        if host == b"hang.test":
            await trio.sleep_forever()
        if host == b"again.test":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host not in (b"sys.test", b"localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        canon = "canonical.sys.test" if flags & socket.AI_CANONNAME else ""
        rows = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, canon, ("127.0.0.1", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 0, 0, 0)),
        ]
        return [row for row in rows if family in (0, row[0])]

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int
    ) -> tuple[str, str]:
        self.calls.append(("getnameinfo", sockaddr[0], 0, flags))
        if sockaddr[0] != "127.0.0.1":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return "sys.test", "0"


@pytest.fixture
async def system() -> AsyncIterator[SystemStub]:
    stub = SystemStub()
    previous = trio.socket.set_custom_hostname_resolver(stub)
    try:
        yield stub
    finally:
        trio.socket.set_custom_hostname_resolver(previous)


async def test_system_path_prefer_python_false(make: MakeResolver, fake: FakeDNS, system: SystemStub) -> None:
    fake.add("mx.test", "MX", "10 mail.test.")
    r = make(prefer_python=False, hosts="10.9.9.9 sys.test\n")
    assert await r.lookup_ip_addr("sys.test") == [IPAddr("127.0.0.1"), IPAddr("::1")]  # libc's order
    assert await r.lookup_ip_addr("sys.test", network="ip6") == [IPAddr("::1")]
    assert await r.lookup_host("sys.test") == ["127.0.0.1", "::1"]  # our hosts file is not read
    assert await r.lookup_cname("sys.test") == "canonical.sys.test."
    assert await r.lookup_addr("127.0.0.1") == ["sys.test."]
    assert [(c[0], c[1], c[2]) for c in system.calls] == [
        ("getaddrinfo", b"sys.test", 0),
        ("getaddrinfo", b"sys.test", socket.AF_INET6),
        ("getaddrinfo", b"sys.test", 0),
        ("getaddrinfo", b"sys.test", 0),
        ("getnameinfo", "127.0.0.1", 0),
    ]
    assert system.calls[3][3] & socket.AI_CANONNAME
    assert await r.lookup_mx("mx.test") == [MX("mail.test.", 10)]  # MX and co. stay pure (Go)
    assert fake.asked() == [("mx.test.", "MX")]


async def test_system_path_errors(make: MakeResolver, fake: FakeDNS, system: SystemStub) -> None:
    r = make(prefer_python=False)
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("nosuch.test")
    assert str(info.value) == "lookup nosuch.test: no such host"  # libc names no server
    assert (info.value.is_not_found, info.value.is_temporary) == (True, False)
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("again.test")
    assert str(info.value) == "lookup again.test: Temporary failure in name resolution"
    assert (info.value.is_not_found, info.value.temporary) == (False, True)
    with pytest.raises(DNSError, match=r"^lookup 127.0.0.2: no such host$"):
        await r.lookup_addr("127.0.0.2")
    with pytest.raises(OpError) as dial_info:
        await trionet.Dialer(resolver=r).dial("tcp", "nosuch.test:80")
    assert str(dial_info.value) == "dial tcp: lookup nosuch.test: no such host"  # Go, verbatim
    assert fake.queries == []


@pytest.mark.parametrize("name", ["nul\x00.test", "bad\u00e9..test"], ids=["nul", "idna"])
async def test_system_path_unencodable_name(make: MakeResolver, system: SystemStub, name: str) -> None:
    # Python refuses the name before libc sees it; libc would have found nothing either.
    with pytest.raises(DNSError) as info:
        await make(prefer_python=False).lookup_ip_addr(name)
    assert str(info.value) == f"lookup {name}: no such host"
    assert info.value.is_not_found


async def test_system_path_cancel(
    make: MakeResolver, system: SystemStub, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.move_on_after(2) as scope:
        await make(prefer_python=False).lookup_ip_addr("hang.test")
    assert scope.cancelled_caught
    assert trio.current_time() == 2.0
    await trio.testing.wait_all_tasks_blocked()
    assert _lookup_tasks() == []


# What a Resolver() with the system's own files decides needs the system's own paths: the test
# runs in a private mount namespace in which /etc/nsswitch.conf and /etc/resolv.conf are bind
# mounts of files the test writes (resolv.conf names only 127.0.0.1: a mistake stays on
# loopback). Nothing in trionet is patched.
_SYSTEM_FILES_SCRIPT = r"""
import os
import sys

import trio

sys.path.insert(0, os.getcwd())
from tests.test_resolver import SystemStub  # noqa: E402
from trionet import IPAddr, Resolver  # noqa: E402

NSS, RESOLV = sys.argv[1], sys.argv[2]


def system_files_resolver(nsswitch, resolv="nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"):
    # Written in place: the bind mounts show the same inodes at /etc/nsswitch.conf and
    # /etc/resolv.conf.
    with open(NSS, "w") as f:
        f.write(nsswitch)
    with open(RESOLV, "w") as f:
        f.write(resolv)
    return Resolver()


async def conf_go_choice():
    r = system_files_resolver("hosts: files myhostname dns\n")
    assert r._order("x.test") == "files,dns"
    assert r._order("localhost") == "system"  # myhostname answers localhost: libc (Go)
    assert r._order("a.localhost.") == "system"
    assert r._order("") == "system"  # address lookups (Go's addrLookupOrder)
    r.prefer_python = True
    assert r._order("localhost") == "files,dns"  # PreferGo never picks libc
    r.prefer_python = None
    os.environ["LOCALDOMAIN"] = ""
    assert r._order("x.test") == "system"  # Go's preferCgo
    del os.environ["LOCALDOMAIN"]
    assert system_files_resolver("hosts: dns files\n")._order("x.test") == "dns,files"
    assert system_files_resolver("hosts: files dns\n", "options inet6\n")._order("x.test") == "system"
    r.hosts_file = "/tmp/elsewhere"  # private files: the pure path, files first
    assert r._order("localhost") == "files,dns"


async def conf_go_choice_reaches_getaddrinfo():
    system = SystemStub()
    trio.socket.set_custom_hostname_resolver(system)
    r = system_files_resolver("hosts: files myhostname dns\n")
    assert await r.lookup_ip_addr("localhost") == [IPAddr("127.0.0.1"), IPAddr("::1")]
    assert await r.lookup_host("localhost") == ["127.0.0.1", "::1"]
    assert [c[1] for c in system.calls] == [b"localhost", b"localhost"]


trio.run(globals()[sys.argv[3]])
print("ok")
"""


@pytest.mark.parametrize("case", ["conf_go_choice", "conf_go_choice_reaches_getaddrinfo"])
def test_system_files_in_a_private_mount_namespace(tmp_path: Path, case: str) -> None:
    import subprocess
    import sys

    if not Path("/etc/nsswitch.conf").exists() or not Path("/etc/resolv.conf").exists():
        pytest.skip("needs /etc/nsswitch.conf and /etc/resolv.conf to bind-mount over")
    nss, resolv = tmp_path / "nsswitch.conf", tmp_path / "resolv.conf"
    nss.write_text("")
    resolv.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES")}
    mounts = 'mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/resolv.conf && exec "$3" -c "$4" "$1" "$2" "$5"'
    try:
        done = subprocess.run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                mounts,
                "sh",
                str(nss),
                str(resolv),
                sys.executable,
                _SYSTEM_FILES_SCRIPT,
                case,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
    except FileNotFoundError:
        pytest.skip("unshare(1) is not installed")
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"no private mount namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"


async def test_private_nsswitch_conf_orders_the_pure_path(make: MakeResolver, tmp_path: Path) -> None:
    # A private nsswitch.conf is the resolver's own: its files/dns order counts, libc never
    # (libc reads the system's file).
    nss = tmp_path / "nsswitch.conf"
    nss.write_text("hosts: dns files\n")
    r = make(nsswitch_conf=str(nss))
    assert r.nsswitch_conf == str(nss)
    assert r._order("x.test") == "dns,files"
    nss.write_text("hosts: files myhostname dns\n")
    r.nsswitch_conf = str(nss)  # setting it forgets the parsed file
    assert r._order("localhost") == "files,dns"  # myhostname would pick libc for the system's
    assert "nsswitch_conf=" in repr(r)
    assert "nsswitch_conf=" not in repr(make())


# -- failures and cancellation ----------------------------------------------------------------
async def test_dial_invalid_name_fails_before_any_query(make: MakeResolver, fake: FakeDNS) -> None:
    with pytest.raises(OpError) as info:
        await trionet.Dialer(resolver=make()).dial("tcp", "bad..name:80")
    assert str(info.value) == "dial tcp: lookup bad..name: no such host"
    assert fake.queries == []


def _client_sockets(server_port: int) -> int:
    """Sockets of this process whose peer is *server_port* (from /proc: UDP, TCP, v4 and v6)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("udp", "tcp", "udp6", "tcp6"):
        with open(f"/proc/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == server_port:
                    count += 1
    return count


@pytest.mark.parametrize("options", ["", "use-vc"], ids=["udp", "tcp"])
async def test_cancel_leaves_nothing_running(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, options: str
) -> None:
    fake.behave("silent.test", "silent")
    r = make(conf=f"options {options} timeout:5 attempts:2\n")
    seen: list[int] = []

    async def watch() -> None:
        await trio.sleep(1)
        seen.append(_client_sockets(fake.port))

    with trio.move_on_after(1.5) as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            await r.lookup_ip_addr("silent.test.")
    assert scope.cancelled_caught
    assert trio.current_time() == 1.5  # promptly, on the enclosing scope's deadline
    assert seen == [2]  # A and AAAA were in flight
    await trio.testing.wait_all_tasks_blocked()
    assert _lookup_tasks() == []
    assert _client_sockets(fake.port) == 0


# -- A and AAAA's first exchange from one task (the paired first try) and what follows it ------


async def test_paired_a_truncated_question_goes_on_over_tcp(make: MakeResolver, fake: FakeDNS) -> None:
    fake.add("mix.test", "A", *(f"10.4.2.{i}" for i in range(1, 60))).add("mix.test", "AAAA", "::1")
    fake.behave("mix.test", "truncate", "A")
    got = await make().lookup_ip_addr("mix.test.")
    assert len(got) == 60
    assert fake.queries == [
        ("udp", "mix.test.", "A"),
        ("udp", "mix.test.", "AAAA"),
        ("tcp", "mix.test.", "A"),
    ]


@pytest.mark.parametrize("late", ["A", "AAAA"])
async def test_paired_one_question_times_out(
    make: MakeResolver, fake: FakeDNS, autojump_clock: trio.testing.MockClock, late: str
) -> None:
    # One question unanswered: it is asked again after the timeout (attempts:2), the other's
    # reply -- read while waiting for the first, or after its timeout -- is not asked again.
    fake.add("half.test", "A", "10.7.7.8").add("half.test", "AAAA", "::1").behave("half.test", "silent", late)
    start = trio.current_time()
    got = await make(conf="options timeout:1 attempts:2\n").lookup_ip_addr("half.test.")
    assert got == [IPAddr("::1") if late == "A" else IPAddr("10.7.7.8")]
    assert trio.current_time() - start == 2.0  # both of the late question's tries timed out
    assert sorted(fake.asked()) == sorted([("half.test.", "A"), ("half.test.", "AAAA"), ("half.test.", late)])


@pytest.mark.parametrize("how", ["wrong-id-first", "wrong-question-first", "garbage-first", "spoof-first"])
async def test_paired_bogus_replies_are_ignored(make: MakeResolver, fake: FakeDNS, how: str) -> None:
    fake.behave("dual.test", how)
    assert await make().lookup_ip_addr("dual.test.") == [IPAddr("::1"), IPAddr("127.0.0.1")]
    assert sorted(fake.asked()) == [("dual.test.", "A"), ("dual.test.", "AAAA")]


async def test_paired_nxdomain_and_nodata(make: MakeResolver, fake: FakeDNS) -> None:
    with pytest.raises(DNSError, match=r"^lookup nope\.test\. on .*: no such host$") as info:
        await make().lookup_ip_addr("nope.test.")
    assert info.value.is_not_found
    assert await make().lookup_ip_addr("v4.test.") == [IPAddr("127.0.0.2")]  # AAAA: NODATA
