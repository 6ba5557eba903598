"""The pure resolver's search list, servers, attempts, timeouts and reply handling, driven
through the Exchange seam (tests/dnsscript.py): no sockets, exact times under autojump_clock.

tests/test_resolver.py runs the same paths against a real server on loopback.
"""

from __future__ import annotations

from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
import trio
import trio.testing

from trionet import DNSError, IPAddr, Resolver
from trionet._resolver import ExchangeError, Server

from .dnsscript import Reply, ScriptedExchange, answer, reply

S1, S2, S3 = "127.0.0.1:53", "127.0.0.2:53", "127.0.0.3:53"


def _resolver(
    tmp_path: Path, exchange: ScriptedExchange, conf: str, servers: list[str] | None = None, **kw: bool
) -> Resolver:
    rc, hf = tmp_path / "resolv.conf", tmp_path / "hosts"
    rc.write_text(conf)
    hf.write_text("")
    return Resolver(
        nameservers=servers or [S1, S2],
        resolv_conf=str(rc),
        hosts_file=str(hf),
        exchange=exchange,
        strict_errors=kw.get("strict_errors", False),
    )


def _by_name(table: dict[str, str]) -> ScriptedExchange:
    """Names in *table* answer A with that address, others NXDOMAIN."""

    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        ip = table.get(q.question[0].name.to_text())
        return answer(q, f"A {ip}") if ip else reply(q, dns.rcode.NXDOMAIN)

    return ScriptedExchange(handler)


# -- the search list (Go's nameList) -------------------------------------------------------------
@pytest.mark.parametrize(
    ("conf", "name", "tried"),
    [
        # ndots:1 and a dotless name: the suffixes first, then the name as is.
        ("search a.test b.test\n", "x", ["x.a.test.", "x.b.test.", "x."]),
        # enough dots: the name first.
        ("search a.test b.test\n", "x.y", ["x.y.", "x.y.a.test.", "x.y.b.test."]),
        ("search a.test b.test\noptions ndots:3\n", "x.y", ["x.y.a.test.", "x.y.b.test.", "x.y."]),
        # rooted: no search.
        ("search a.test b.test\n", "x.", ["x."]),
        # .onion names never go to DNS (RFC 7686).
        ("search a.test\n", "x.onion.", []),
        ("search a.test\n", "x.onion", ["x.onion.a.test."]),  # Go checks each FQDN tried
    ],
)
async def test_search_list_order(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, conf: str, name: str, tried: list[str]
) -> None:
    ex = _by_name({})
    r = _resolver(tmp_path, ex, conf)
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr(name, network="ip4")
    assert info.value.is_not_found
    assert [n for _, _, n in ex.asked()] == tried
    assert trio.current_time() == 0


async def test_search_list_stops_at_the_first_answer(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    ex = _by_name({"x.b.test.": "127.0.0.9"})
    r = _resolver(tmp_path, ex, "search a.test b.test\n")
    assert await r.lookup_ip_addr("x", network="ip4") == [IPAddr("127.0.0.9")]
    assert [n for _, _, n in ex.asked()] == ["x.a.test.", "x.b.test."]


# -- servers, attempts, rcodes (Go's tryOneName) --------------------------------------------------
async def test_nxdomain_from_one_server_ends_the_search(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    ex = _by_name({})
    with pytest.raises(DNSError) as info:
        await _resolver(tmp_path, ex, "options attempts:3\n").lookup_ip_addr("x.test.", network="ip4")
    assert str(info.value) == f"lookup x.test. on {S1}: no such host"
    assert ex.asked() == [("udp", S1, "x.test.")]  # the second server is not asked


@pytest.mark.parametrize(
    ("how", "text", "temporary"),
    [
        ("servfail", "server misbehaving", True),
        ("refused", "server misbehaving", False),
        ("lame", "lame referral", False),
    ],
)
async def test_a_failing_server_gives_way_to_the_next(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, how: str, text: str, temporary: bool
) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        if server.hostport == S2:
            return answer(q, "A 127.0.0.2")
        if how == "lame":
            resp = reply(q, ra=False)
            resp.use_edns(False)
            return resp
        return reply(q, dns.rcode.SERVFAIL if how == "servfail" else dns.rcode.REFUSED)

    ex = ScriptedExchange(handler)
    r = _resolver(tmp_path, ex, "options attempts:2\n")
    assert await r.lookup_ip_addr("x.test.", network="ip4") == [IPAddr("127.0.0.2")]
    assert ex.asked() == [("udp", S1, "x.test."), ("udp", S2, "x.test.")]
    r = _resolver(tmp_path, ex, "options attempts:2\n", servers=[S1, S3])
    ex.calls.clear()
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("x.test.", network="ip4")
    assert str(info.value) == f"lookup x.test. on {S3}: {text}"  # the last server's error
    assert info.value.is_temporary is temporary
    assert not info.value.is_not_found
    assert [s for _, s, _ in ex.asked()] == [S1, S3, S1, S3]  # attempts rounds over the list


async def test_timeouts_are_per_exchange_and_attempts_multiply(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    ex = ScriptedExchange(lambda t, s, q: None)
    r = _resolver(tmp_path, ex, "options timeout:3 attempts:2\n")
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("x.test.", network="ip4")
    assert str(info.value) == f"lookup x.test. on {S2}: i/o timeout"
    assert info.value.is_timeout
    assert info.value.is_temporary
    assert [(t, s) for t, _, s, _, _ in ex.calls] == [(0, S1), (3, S2), (6, S1), (9, S2)]
    assert trio.current_time() == 12


async def test_rotate_starts_each_query_at_the_next_server(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    ex = ScriptedExchange(lambda t, s, q: answer(q, "A 127.0.0.1"))
    r = _resolver(tmp_path, ex, "options rotate\n", servers=[S1, S2, S3])
    for _ in range(4):
        await r.lookup_ip_addr("x.test.", network="ip4")
    assert [s for _, s, _ in ex.asked()] == [S1, S2, S3, S1]


async def test_a_socket_failure_is_temporary_and_the_next_server_is_tried(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        if server.hostport == S1:
            return ExchangeError(f"dial udp {S1}: socket: too many open files", temporary=True)
        return answer(q, "A 127.0.0.2")

    ex = ScriptedExchange(handler)
    assert await _resolver(tmp_path, ex, "").lookup_ip_addr("x.test.", network="ip4") == [IPAddr("127.0.0.2")]


# -- truncation (UDP, then TCP) --------------------------------------------------------------------
async def test_truncated_udp_reply_is_asked_again_over_tcp(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        if transport == "udp":
            resp = reply(q)
            resp.flags |= dns.flags.TC
            return resp
        return answer(q, "A 127.0.0.7")

    ex = ScriptedExchange(handler, latency=0.25)
    r = _resolver(tmp_path, ex, "options timeout:1\n")
    assert await r.lookup_ip_addr("x.test.", network="ip4") == [IPAddr("127.0.0.7")]
    assert ex.asked() == [("udp", S1, "x.test."), ("tcp", S1, "x.test.")]
    assert trio.current_time() == 0.5


async def test_use_vc_asks_over_tcp_only(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    ex = ScriptedExchange(lambda t, s, q: answer(q, "A 127.0.0.7"))
    await _resolver(tmp_path, ex, "options use-vc\n").lookup_ip_addr("x.test.", network="ip4")
    assert ex.asked() == [("tcp", S1, "x.test.")]


async def test_tcp_timeout_after_truncation_is_its_own(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        if transport == "udp":
            resp = reply(q)
            resp.flags |= dns.flags.TC
            return resp
        return None  # the TCP connection never answers

    ex = ScriptedExchange(handler)
    with pytest.raises(DNSError) as info:
        await _resolver(tmp_path, ex, "options timeout:2 attempts:1\n", servers=[S1]).lookup_ip_addr(
            "x.test.", network="ip4"
        )
    assert info.value.is_timeout
    assert trio.current_time() == 2


# -- the two families and strict errors ------------------------------------------------------------
async def test_a_and_aaaa_are_asked_together(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        return answer(q, "A 127.0.0.1" if q.question[0].rdtype == dns.rdatatype.A else "AAAA ::1")

    ex = ScriptedExchange(handler, latency=1.0)
    addrs = await _resolver(tmp_path, ex, "").lookup_ip_addr("x.test.")
    assert sorted(map(str, addrs)) == ["127.0.0.1", "::1"]
    assert sorted((t, ty) for t, _, _, _, ty in ex.calls) == [(0, "A"), (0, "AAAA")]
    assert trio.current_time() == 1.0  # concurrently


@pytest.mark.parametrize("strict", [False, True])
async def test_strict_errors(tmp_path: Path, autojump_clock: trio.testing.MockClock, strict: bool) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        if q.question[0].rdtype == dns.rdatatype.AAAA:
            return reply(q, dns.rcode.SERVFAIL)
        return answer(q, "A 127.0.0.1")

    r = _resolver(tmp_path, ScriptedExchange(handler), "", strict_errors=strict)
    if not strict:
        assert await r.lookup_ip_addr("x.test.") == [IPAddr("127.0.0.1")]
        return
    with pytest.raises(DNSError) as info:
        await r.lookup_ip_addr("x.test.")
    assert str(info.value) == f"lookup x.test. on {S2}: server misbehaving"


async def test_single_request_asks_in_turn(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    def handler(transport: str, server: Server, q: dns.message.Message) -> Reply:
        return answer(q, "A 127.0.0.1" if q.question[0].rdtype == dns.rdatatype.A else "AAAA ::1")

    ex = ScriptedExchange(handler, latency=1.0)
    await _resolver(tmp_path, ex, "options single-request\n").lookup_ip_addr("x.test.")
    assert [(t, ty) for t, _, _, _, ty in ex.calls] == [(0, "A"), (1, "AAAA")]
