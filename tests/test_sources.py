"""The RFC 6724 source table (trionet/_resolver/_sources.py): remembered briefly, bounded,
forgotten when the kernel reports a routing change. Probes are real UDP connects (they send
nothing); the routing change happens in a private network namespace this test creates."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from trionet import IPAddr
from trionet._resolver._sources import RouteWatch, SourceCache, probe_source

V4 = IPAddr("127.0.0.1")
V6 = IPAddr("::1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingProbe:
    def __init__(self) -> None:
        self.asked: list[IPAddr] = []

    def __call__(self, addr: IPAddr) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        self.asked.append(addr)
        return probe_source(addr)


def test_probe_source_is_the_kernels_choice() -> None:
    assert probe_source(V4) == ipaddress.ip_address("127.0.0.1")
    assert probe_source(IPAddr("127.0.0.9")) == ipaddress.ip_address("127.0.0.1")
    assert probe_source(IPAddr()) is None


def test_remembered_for_the_ttl_then_asked_again() -> None:
    clock, probe = Clock(), CountingProbe()
    cache = SourceCache(probe=probe, clock=clock, watch=None, ttl=1.0)
    first = cache.lookup([V4, V6])
    assert cache.lookup([V4, V6]) == first
    assert probe.asked == [V4, V6]  # the second sort asked the kernel nothing
    clock.now += 0.999
    cache.lookup([V4])
    assert probe.asked == [V4, V6]
    clock.now += 0.001  # expired: an entry lives ttl seconds, not a moment more
    cache.lookup([V4])
    assert probe.asked == [V4, V6, V4]


def test_the_table_is_bounded() -> None:
    probe = CountingProbe()
    cache = SourceCache(probe=probe, clock=Clock(), watch=None, size=4)
    many = [IPAddr(f"127.0.0.{i}") for i in range(1, 11)]
    cache.lookup(many)
    assert len(cache) <= 4
    assert len(probe.asked) == 10


def test_forget_and_size_zero() -> None:
    probe = CountingProbe()
    cache = SourceCache(probe=probe, clock=Clock(), watch=None)
    cache.lookup([V4])
    cache.forget()
    cache.lookup([V4])
    assert probe.asked == [V4, V4]
    nothing = SourceCache(probe=probe, clock=Clock(), watch=None, size=0)
    nothing.lookup([V4])
    nothing.lookup([V4])
    assert len(nothing) == 0
    assert probe.asked == [V4, V4, V4, V4]


def test_a_watch_that_reports_a_change_empties_the_table() -> None:
    class Changes(RouteWatch):
        def __init__(self) -> None:
            super().__init__()
            self.close()
            self.pending = False

        def changed(self) -> bool:
            pending, self.pending = self.pending, False
            return pending

    probe, watch = CountingProbe(), Changes()
    cache = SourceCache(probe=probe, clock=Clock(), watch=watch)
    cache.lookup([V4])
    cache.lookup([V4])
    watch.pending = True
    cache.lookup([V4])
    assert probe.asked == [V4, V4]


_IN_NAMESPACE = textwrap.dedent(
    """
    import ipaddress, subprocess
    from trionet import IPAddr
    from trionet._resolver._sources import SourceCache

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    cache = SourceCache(clock=lambda: 0.0)  # never expires: only the kernel's report can help
    assert cache._watch is not None and cache._watch.active
    target = IPAddr("10.77.0.1")  # inside this private namespace only
    assert cache.lookup([target]) == [None]  # no route yet
    assert cache.lookup([target]) == [None]  # remembered
    subprocess.run(["ip", "addr", "add", "10.77.0.1/24", "dev", "lo"], check=True)
    assert cache.lookup([target]) == [ipaddress.ip_address("10.77.0.1")], "stale after a change"
    subprocess.run(["ip", "route", "add", "10.88.0.0/16", "dev", "lo", "src", "10.77.0.1"], check=True)
    assert cache.lookup([IPAddr("10.88.1.1")]) == [ipaddress.ip_address("10.77.0.1")]
    subprocess.run(["ip", "route", "del", "10.88.0.0/16"], check=True)
    assert cache.lookup([IPAddr("10.88.1.1")]) != [ipaddress.ip_address("10.77.0.1")]
    print("ok")
    """
)


needs_namespace = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare for a private network namespace",
)


def _in_private_namespace(code: str) -> None:
    """Run *code* in a fresh Python in a network namespace of its own (loopback only, down)."""
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@needs_namespace
def test_a_routing_change_is_seen_at_once() -> None:
    _in_private_namespace(_IN_NAMESPACE)


_FORGET_ON_FAILED_CONNECT = textwrap.dedent(
    """
    import errno, subprocess
    import trio, trionet
    from trionet import IPAddr
    from trionet._resolver._sources import sources

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    table = sources()
    table.lookup([IPAddr("10.77.0.1")])  # what an address sort remembers
    assert len(table) == 1
    try:
        trio.run(trionet.dial, "tcp", "127.0.0.1:1")
    except ConnectionRefusedError:
        pass
    assert len(table) == 1, "a refusal says nothing about routes"
    try:
        trio.run(trionet.dial, "tcp", "10.77.0.1:80")  # no route in this namespace: sends nothing
    except OSError as exc:
        assert exc.errno == errno.ENETUNREACH, exc
    assert len(table) == 0, "a connect without a route forgets the remembered sources"
    print("ok")
    """
)


@needs_namespace
def test_a_connect_without_a_route_forgets_the_sources() -> None:
    _in_private_namespace(_FORGET_ON_FAILED_CONNECT)
