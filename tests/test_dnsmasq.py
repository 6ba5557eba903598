"""The pure resolver against a real dnsmasq on a loopback port (machine.md's command line)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rcode
import pytest

import trionet
from trionet import DNSError, IPAddr, Resolver

DNSMASQ = "/usr/sbin/dnsmasq"
pytestmark = [
    pytest.mark.loopback,
    pytest.mark.skipif(not os.path.exists(DNSMASQ), reason=f"{DNSMASQ} is not installed"),
]


def _free_port() -> int:
    # A port free for UDP and TCP on both loopback addresses (dnsmasq binds all four).
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            for family, kind, host in (
                (socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
                (socket.AF_INET6, socket.SOCK_STREAM, "::1"),
            ):
                with socket.socket(family, kind) as t:
                    t.bind((host, port))
        except OSError:
            continue
        return port
    raise OSError("no free port")


def _ready(port: int) -> bool:
    query = dns.message.make_query("dual.test.", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.05)
        try:
            s.sendto(query.to_wire(), ("127.0.0.1", port))
            reply = dns.message.from_wire(s.recv(4096))
        except OSError:
            return False
    return reply.rcode() == dns.rcode.NOERROR and bool(reply.answer)


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    directory = tmp_path_factory.mktemp("dnsmasq")
    hosts = directory / "hosts"
    hosts.write_text("127.0.0.1 dual.test\n::1 dual.test\n127.0.0.2 v4only.test\n")
    port = _free_port()
    log = (directory / "dnsmasq.log").open("wb")
    proc = subprocess.Popen(
        [
            DNSMASQ,
            "--keep-in-foreground",
            "--log-facility=-",
            "--conf-file=/dev/null",
            "--pid-file=",
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--listen-address=::1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            f"--addn-hosts={hosts}",
            "--local=/test/",
            "--user=root",
            "--group=root",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 5
        while not _ready(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dnsmasq did not start: {(directory / 'dnsmasq.log').read_text()!r}")
            time.sleep(0.005)
        yield port
    finally:
        proc.terminate()  # by PID, never by name
        proc.wait(timeout=5)
        log.close()


@pytest.fixture(params=["127.0.0.1", "[::1]"])
def resolver(request: pytest.FixtureRequest, dnsmasq: int, tmp_path: Path) -> Resolver:
    (tmp_path / "resolv.conf").write_text("search test\noptions timeout:2 attempts:1\n")
    (tmp_path / "hosts").write_text("")
    return Resolver(
        nameservers=[f"{request.param}:{dnsmasq}"],
        resolv_conf=str(tmp_path / "resolv.conf"),
        hosts_file=str(tmp_path / "hosts"),
    )


async def test_both_families(resolver: Resolver) -> None:
    assert await resolver.lookup_ip_addr("dual.test") == [IPAddr("::1"), IPAddr("127.0.0.1")]
    assert await resolver.lookup_ip_addr("dual", network="ip4") == [IPAddr("127.0.0.1")]  # via search
    assert await resolver.lookup_ip("ip6", "dual.test") == [IPAddr("::1").ip]


async def test_v4_only_and_nxdomain(resolver: Resolver) -> None:
    assert await resolver.lookup_host("v4only.test") == ["127.0.0.2"]
    server = resolver.nameservers[0] if resolver.nameservers else ""
    with pytest.raises(DNSError) as info:
        await resolver.lookup_ip_addr("nope.test.")
    assert str(info.value) == f"lookup nope.test. on {server}: no such host"
    assert info.value.is_not_found


async def test_dial_nonexistent_name(resolver: Resolver) -> None:
    server = resolver.nameservers[0] if resolver.nameservers else ""
    with pytest.raises(trionet.OpError) as info:
        await trionet.Dialer(resolver=resolver).dial("tcp", "nope.test.:80")
    assert str(info.value) == f"dial tcp: lookup nope.test. on {server}: no such host"


async def test_use_vc(dnsmasq: int, tmp_path: Path) -> None:
    # A smoke test: a real server answers over TCP. That TCP is really used is checked against
    # the fake server, which sees the transport (test_resolver.py::test_use_vc).
    (tmp_path / "resolv.conf").write_text("options use-vc timeout:2\n")
    (tmp_path / "hosts").write_text("")
    r = Resolver(
        nameservers=[f"127.0.0.1:{dnsmasq}"],
        resolv_conf=str(tmp_path / "resolv.conf"),
        hosts_file=str(tmp_path / "hosts"),
    )
    assert await r.lookup_ip_addr("dual.test.") == [IPAddr("::1"), IPAddr("127.0.0.1")]


@pytest.mark.parametrize(
    "options", ["single-request-reopen", "trust-ad edns0", "rotate attempts:2"], ids=lambda o: o.split()[0]
)
async def test_resolv_conf_options(dnsmasq: int, tmp_path: Path, options: str) -> None:
    # A smoke test: the options the issue names keep a real server on both loopback families
    # answering. Their effects are checked where queries can be observed, against the fake
    # server in test_resolver.py (test_single_request_is_sequential, test_rotate,
    # test_trust_ad_and_edns0_options).
    (tmp_path / "resolv.conf").write_text(f"search test\noptions timeout:2 {options}\n")
    (tmp_path / "hosts").write_text("")
    r = Resolver(
        nameservers=[f"127.0.0.1:{dnsmasq}", f"[::1]:{dnsmasq}"],
        resolv_conf=str(tmp_path / "resolv.conf"),
        hosts_file=str(tmp_path / "hosts"),
    )
    # Two rounds: the answers stay right on a later lookup too, after a first one has left its
    # state behind (which of the two servers answers is not observed here).
    for _ in range(2):
        assert await r.lookup_ip_addr("dual") == [IPAddr("::1"), IPAddr("127.0.0.1")]
        assert await r.lookup_host("v4only") == ["127.0.0.2"]
