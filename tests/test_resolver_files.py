"""The files the resolver reads, when they are hostile: huge, FIFOs, Unicode blanks, digits that
are not ASCII (issue 11 items 5, 6 and 7). Real files under tmp_path; DNS from tests/dnsfake.py.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import trio

import trionet
from trionet import AddrError, DNSError, IPAddr, Resolver
from trionet._etc import dtoi, protocols, services
from trionet._resolver._dnsconfig import parse_dns_config, read_dns_config
from trionet._resolver._hosts import HostsFile, parse_hosts

from .dnsfake import FakeDNS

pytestmark = pytest.mark.loopback


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeDNS:
    server: FakeDNS = await nursery.start(FakeDNS().serve)
    server.add("v4.test", "A", "127.0.0.2")
    return server


def _private(
    tmp_path: Path,
    fake: FakeDNS,
    *,
    hosts: str | Path = "",
    conf: str | Path = "options timeout:1 attempts:1\n",
) -> Resolver:
    def path(content: str | Path, name: str) -> str:
        if isinstance(content, Path):
            return str(content)
        (tmp_path / name).write_text(content)
        return str(tmp_path / name)

    return Resolver(
        nameservers=[fake.address], resolv_conf=path(conf, "resolv.conf"), hosts_file=path(hosts, "hosts")
    )


# -- a large hosts file is parsed off the event loop (item 5) --------------------------------------
async def test_a_large_hosts_file_does_not_freeze_other_tasks(tmp_path: Path, fake: FakeDNS) -> None:
    lines = 100_000  # ~1 s to parse; the 1,000,000 lines took 8.5 s, all inline
    hosts = tmp_path / "hosts"
    with hosts.open("w") as f:
        f.writelines(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} host{i}.test\n" for i in range(lines))
        f.write("127.0.0.9 last.test\n")
    r = _private(tmp_path, fake, hosts=hosts)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await trio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        start = time.monotonic()
        assert await r.lookup_ip_addr("last.test") == [IPAddr("127.0.0.9")]
        took = time.monotonic() - start
        nursery.cancel_scope.cancel()
    # The ticker kept ticking while the file was parsed: parsed inline, the longest gap would be
    # the whole parse. (Relative, because the machine's load stretches both.)
    assert max(gaps) < max(0.5, took / 5), (max(gaps), took)
    assert fake.queries == []
    # The table is kept: the next lookup parses nothing.
    start = time.monotonic()
    assert await r.lookup_host("host7.test") == ["10.0.0.7"]
    assert time.monotonic() - start < 0.1


async def test_a_cancelled_lookup_does_not_wait_for_a_large_parse(tmp_path: Path, fake: FakeDNS) -> None:
    hosts = tmp_path / "hosts"
    with hosts.open("w") as f:
        f.writelines(f"10.0.{i >> 8 & 255}.{i & 255} h{i}.test\n" for i in range(100_000))
    r = _private(tmp_path, fake, hosts=hosts)
    start = time.monotonic()
    with trio.move_on_after(0.05) as scope:
        await r.lookup_host("h1.test")
    assert scope.cancelled_caught
    assert time.monotonic() - start < 0.5


# -- FIFO paths never hang the loop (item 7) ------------------------------------------------------
def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _unblock_later(path: Path, after: float) -> threading.Timer:
    """Opens the FIFO for writing after *after* seconds, which ends a blocked open() of it: a
    failing test then takes that long instead of hanging the run."""

    def writer() -> None:
        os.close(os.open(path, os.O_RDWR))  # a reader's blocked open() returns

    timer = threading.Timer(after, writer)
    timer.start()
    return timer


@pytest.mark.parametrize("which", ["hosts_file", "resolv_conf", "nsswitch_conf"])
async def test_a_fifo_path_is_not_waited_on(tmp_path: Path, fake: FakeDNS, which: str) -> None:
    fifo = _fifo(tmp_path, which)
    timer = _unblock_later(fifo, 3.0)
    try:
        r = _private(tmp_path, fake)
        setattr(r, which, str(fifo))
        start = time.monotonic()
        # resolv.conf as a FIFO: Go's defaults (the private nameservers still apply).
        assert await r.lookup_ip_addr("v4.test.", network="ip4") == [IPAddr("127.0.0.2")]
        assert time.monotonic() - start < 1.0
    finally:
        timer.cancel()
        timer.join()


def test_fifo_files_read_as_unreadable(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "f")
    timer = _unblock_later(fifo, 3.0)
    try:
        conf = read_dns_config(str(fifo), hostname="h.example")
        assert conf.err is not None
        assert conf.servers == ["127.0.0.1:53", "[::1]:53"]
        hosts = HostsFile(str(fifo))
        assert hosts.lookup_host("x", 0.0) == ([], "")
        assert services(str(fifo))["tcp"]["http"] == 80  # the built-in table only
    finally:
        timer.cancel()
        timer.join()


# -- ASCII blanks only, lines at \n only (item 7) --------------------------------------------------
@pytest.mark.parametrize(
    ("text", "name", "want"),
    [
        ("127.0.0.1\u00a0nbsp.test\n", "nbsp.test", []),  # one field: not an address
        ("127.0.0.1\x0cff.test\n", "ff.test", []),
        ("127.0.0.1 a.test\u2028127.0.0.2 b.test\n", "b.test", ["127.0.0.1"]),  # one line in Go
        ("127.0.0.1 a.test\x0b127.0.0.2 c.test\n", "c.test", ["127.0.0.1"]),
        ("127.0.0.1\ttab.test\r\n", "tab.test", ["127.0.0.1"]),  # tab and CR are blanks
    ],
)
def test_hosts_fields_are_split_at_ascii_blanks(text: str, name: str, want: list[str]) -> None:
    entry = parse_hosts(text).by_name.get(name + ".")
    assert (entry[0] if entry else []) == want


def test_resolv_conf_fields_are_split_at_ascii_blanks() -> None:
    conf = parse_dns_config(
        "nameserver\u00a0127.0.0.9\nsearch a.test\u2028b.test c.test\noptions ndots:3\x0c\n"
    )
    assert conf.servers == ["127.0.0.1:53", "[::1]:53"]  # "nameserver\xa0..." is no keyword
    assert conf.unknown_opt
    assert conf.search == ["a.test\u2028b.test.", "c.test."]  # one line, two fields
    assert conf.ndots == 3  # Go reads the leading digits of "3\x0c"


# -- digits that are not ASCII, numbers too long for int() (item 6) --------------------------------
def test_services_and_protocols_lines_with_odd_digits(tmp_path: Path) -> None:
    svc = tmp_path / "services"
    svc.write_text(
        f"bad \u00b2/tcp\nhuge {'9' * 4301}/tcp\nzero 0/tcp\nwide \uff18\uff10/tcp\nok 8080/tcp alt\n"
    )
    table = services(str(svc))
    assert table["tcp"]["ok"] == table["tcp"]["alt"] == 8080
    for name in ("bad", "huge", "zero", "wide"):
        assert name not in table["tcp"]
    proto = tmp_path / "protocols"
    proto.write_text(f"bad \u00b2\nhuge {'9' * 4301}\nlead 6abc\nfine 99 alias\n")
    numbers = protocols(str(proto))
    assert numbers["fine"] == numbers["alias"] == 99
    assert numbers["lead"] == 6  # Go's dtoi reads the leading digits
    assert "bad" not in numbers
    assert "huge" not in numbers


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", (0, 0, False)),
        ("12", (12, 2, True)),
        ("12/tcp", (12, 2, True)),
        ("\u00b2", (0, 0, False)),
        ("16777214", (16777214, 8, True)),
        ("16777215", (0xFFFFFF, 7, False)),
        ("9" * 4301, (0xFFFFFF, 7, False)),
    ],
)
def test_dtoi_is_gos(text: str, want: tuple[int, int, bool]) -> None:
    assert dtoi(text) == want


async def test_lookup_port_with_4301_digits_is_an_invalid_port() -> None:
    for service in ("9" * 4301, "-" + "9" * 4301, "11111111111a"):
        with pytest.raises(AddrError) as info:
            await trionet.lookup_port("tcp", service)
        assert str(info.value) == f"address {service}: invalid port"
    with pytest.raises(DNSError, match="unknown port"):
        await trionet.lookup_port("tcp", "\u00b2")


async def test_hosts_dial_list_from_memory_remembers_a_no_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trionet._network import parse_network
    from trionet._resolver import hosts_addr_list_now
    from trionet._resolver._hosts import HostsTable

    hosts, empty = tmp_path / "hosts", tmp_path / "empty"
    hosts.write_text("127.0.0.1 in.test\n")
    empty.write_text("")
    r = Resolver(hosts_file=str(hosts), resolv_conf=str(empty))
    net = parse_network("tcp")
    assert hosts_addr_list_now(r, net, "in.test:80", None) is None  # the table is not read yet
    await r.lookup_ip_addr("in.test")  # reads it
    searched: list[str] = []
    real = Resolver._hosts_addrs_now

    def counting(self: Resolver, host: str, table: HostsTable) -> list[IPAddr] | None:
        searched.append(host)
        return real(self, host, table)

    monkeypatch.setattr(Resolver, "_hosts_addrs_now", counting)
    for _ in range(3):
        assert hosts_addr_list_now(r, net, "in.test:80", None) == (trionet.TCPAddr("127.0.0.1", 80),)
        assert hosts_addr_list_now(r, net, "out.test:80", None) is None  # a DNS name
    assert searched == ["in.test", "out.test"]  # each searched once, the "no" remembered too
    for i in range(200):  # bounded, whatever the dials ask
        hosts_addr_list_now(r, net, f"n{i}.test:80", None)
    assert len(r._hosts_now) <= 64  # pyright: ignore[reportPrivateUsage]
