"""``Resolver._lookup_https`` (RFC 9460 HTTPS records, for the Happy Eyeballs v3 strategy)
against tests/dnsfake.py on loopback."""

from __future__ import annotations

from pathlib import Path

import dns.name
import dns.rdtypes.IN.HTTPS
import dns.rrset
import pytest
import trio
import trio.testing

from trionet import DNSError, Resolver

from .dnsfake import FakeDNS

pytestmark = pytest.mark.loopback


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeDNS:
    server: FakeDNS = await nursery.start(FakeDNS().serve)
    server.add("svc.test", "HTTPS", '1 . alpn="h3,h2" ipv4hint=127.0.0.1', "2 alt.test. alpn=h2")
    server.add("svc.test", "A", "127.0.0.1")
    server.add("v4.test", "A", "127.0.0.2")
    return server


def _resolver(
    tmp_path: Path,
    fake: FakeDNS,
    conf: str = "search test.\noptions timeout:1 attempts:1\n",
    prefer_python: bool | None = None,
) -> Resolver:
    rc, hf = tmp_path / "resolv.conf", tmp_path / "hosts"
    rc.write_text(conf)
    hf.write_text("")
    return Resolver(
        nameservers=[fake.address], resolv_conf=str(rc), hosts_file=str(hf), prefer_python=prefer_python
    )


async def test_https_records_are_returned_in_answer_order(tmp_path: Path, fake: FakeDNS) -> None:
    records = await _resolver(tmp_path, fake)._lookup_https("svc.test.")
    assert all(isinstance(rd, dns.rdtypes.IN.HTTPS.HTTPS) for rd in records)
    assert sorted(rd.to_text() for rd in records) == [
        '1 . alpn="h3,h2" ipv4hint="127.0.0.1"',
        '2 alt.test. alpn="h2"',
    ]
    assert fake.asked() == [("svc.test.", "HTTPS")]


async def test_https_follows_the_search_list(tmp_path: Path, fake: FakeDNS) -> None:
    records = await _resolver(tmp_path, fake)._lookup_https("svc")
    assert len(records) == 2
    assert fake.asked() == [("svc.test.", "HTTPS")]  # ndots:1 and a dotless name: suffix first


@pytest.mark.parametrize("name", ["nowhere.test.", "v4.test.", "bad..name"])
async def test_no_such_name_or_no_data_is_an_empty_list(tmp_path: Path, fake: FakeDNS, name: str) -> None:
    assert await _resolver(tmp_path, fake)._lookup_https(name) == []


async def test_servfail_is_a_dns_error(tmp_path: Path, fake: FakeDNS) -> None:
    fake.behave("broken.test", "servfail")
    with pytest.raises(DNSError) as info:
        await _resolver(tmp_path, fake)._lookup_https("broken.test.")
    assert str(info.value) == f"lookup broken.test. on {fake.address}: server misbehaving"
    assert info.value.is_temporary


async def test_timeout_is_a_dns_error(
    tmp_path: Path, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.behave("silent.test", "silent")
    with pytest.raises(DNSError) as info:
        await _resolver(tmp_path, fake)._lookup_https("silent.test.")
    assert info.value.is_timeout
    assert trio.current_time() == 1.0


async def test_libc_path_asks_nothing(tmp_path: Path, fake: FakeDNS) -> None:
    assert await _resolver(tmp_path, fake, prefer_python=False)._lookup_https("svc.test.") == []
    assert fake.queries == []


async def test_enclosing_cancel_scope_is_honoured(
    tmp_path: Path, fake: FakeDNS, autojump_clock: trio.testing.MockClock
) -> None:
    fake.behave("silent.test", "silent")
    r = _resolver(tmp_path, fake, conf="options timeout:5 attempts:2\n")
    with trio.move_on_after(0.5) as scope:
        await r._lookup_https("silent.test.")
    assert scope.cancelled_caught
    assert trio.current_time() == 0.5


async def test_records_of_another_class_are_ignored(tmp_path: Path, fake: FakeDNS) -> None:
    fake.zone.clear()
    fake.add("svc.test", "A", "127.0.0.1")
    qname = dns.name.from_text("svc.test")
    fake.zone[(qname, 65)] = dns.rrset.from_text(qname, 60, "CH", "TYPE65", r"\# 3 000100")
    assert await _resolver(tmp_path, fake)._lookup_https("svc.test.") == []
