"""Malformed and hostile input to dial, listen and the address functions (issue 11 items 4, 6, 7,
15; issue 14's argument rule): each ends in trionet's own error, fast, with nothing leaked.

Every case here escaped as a foreign exception (ValueError, UnicodeEncodeError, OverflowError,
AttributeError) or grew memory without bound before its fix.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

import trionet
from trionet import AddrError, Dialer, KeepAliveConfig, ListenConfig, OpError, TCPAddr
from trionet.testing import FakeNet

from .loopback import closed_port, listener, open_fds

HUGE = "9" * 4301  # past Python's int-string limit (4300 digits)


# -- numbers too long for int() -------------------------------------------------------------------
async def test_a_port_of_4301_digits_is_an_invalid_port() -> None:
    with pytest.raises(OpError) as info:
        await trionet.dial("tcp", "127.0.0.1:" + HUGE)
    # Longer than any address, so refused before parsing ("address too long"); a port alone
    # that long is Go's "invalid port" (the digits saturate, they are never given to int()).
    assert isinstance(info.value.err, AddrError)
    with pytest.raises(OpError) as listened:
        await trionet.listen("tcp", "127.0.0.1:" + HUGE)
    assert isinstance(listened.value.err, AddrError)
    with pytest.raises(AddrError):
        await trionet.resolve_tcp_addr("tcp", "127.0.0.1:" + HUGE)
    with pytest.raises(AddrError, match="invalid port"):
        await trionet.lookup_port("tcp", HUGE)
    with pytest.raises(OpError, match="invalid port"):
        await trionet.dial("tcp", "127.0.0.1:" + "9" * 1000)


def test_a_protocol_number_of_4301_digits_is_an_unknown_protocol() -> None:
    # Go's dtoi: a number that big is not a number, so it is looked up as a name.
    with pytest.raises(AddrError, match="unknown IP protocol specified"):
        trionet.parse_network("ip:" + HUGE)
    assert trionet.parse_network("ip:" + "0" * 20 + "1").proto == 1  # leading zeros are fine


async def test_digits_then_a_letter_past_the_cutoff_is_invalid_port_as_in_go() -> None:
    # Go's parsePort stops reading once the number saturates: "invalid port", not "unknown port".
    with pytest.raises(OpError) as info:
        await trionet.dial("tcp", "127.0.0.1:11111111111a")
    assert str(info.value) == "dial tcp: address 11111111111a: invalid port"


# -- zones and unix names ---------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ["\u00b2", "a\x00b", "\ud800", "x" * 300])
async def test_an_ipv6_zone_that_is_no_interface_name_is_an_op_error(
    autojump_clock: trio.testing.MockClock, zone: str
) -> None:
    # Go's zone cache answers index 0 for a name it does not know; the dial goes on from there
    # (here to a fake refusing peer: nothing leaves the process).
    net = FakeNet()
    net.refuse("fe80::1")
    with net.install(), pytest.raises(OpError):
        await trionet.dial("tcp", f"[fe80::1%{zone}]:80")
    net.check()


@pytest.mark.parametrize("zone", ["\u00b2", "a\x00b", "\ud800"])
async def test_a_bad_zone_in_listen_and_local_addr_is_an_op_error(zone: str) -> None:
    # Real sockets: the bind of fe80::1 (not a local address) fails before anything is sent.
    with pytest.raises(OpError):
        await trionet.listen("tcp", f"[fe80::1%{zone}]:0")
    with pytest.raises(OpError, match="bind"):
        await Dialer(local_addr=f"[fe80::1%{zone}]:0").dial("tcp", f"[::1]:{closed_port('::1')}")


@pytest.mark.parametrize("name", ["sock\ud800", "@\ud800", "sock\x00junk"])
async def test_a_unix_name_the_kernel_cannot_take_is_an_op_error(name: str, tmp_path: Path) -> None:
    path = str(tmp_path / name) if not name.startswith("@") else name
    with pytest.raises(OpError) as dialed:
        await trionet.dial("unix", path)
    assert str(dialed.value).endswith("invalid argument")
    before = open_fds()
    with pytest.raises(OpError) as listened:
        await trionet.listen("unix", path)
    assert str(listened.value).endswith("bind: invalid argument")
    assert open_fds() == before  # the socket was closed
    assert os.listdir(tmp_path) == []  # and "sock" (the part before the NUL) never bound


async def test_a_unix_listener_closes_its_socket_whatever_the_unlink_does(tmp_path: Path) -> None:
    lis = await trionet.listen("unix", str(tmp_path / "s"))
    lis._unlink_path = "bad\x00name"  # what os.unlink raises ValueError for  # pyright: ignore[reportPrivateUsage]
    await lis.aclose()
    assert lis.socket.fileno() == -1


# -- numbers the kernel or a float cannot hold --------------------------------------------------
async def test_a_local_port_above_65535_is_bind_invalid_argument() -> None:
    with listener() as srv:
        port = srv.getsockname()[1]
        with pytest.raises(OpError) as info:
            await Dialer(local_addr=TCPAddr("127.0.0.1", 70000)).dial("tcp", f"127.0.0.1:{port}")
    assert str(info.value) == f"dial tcp 127.0.0.1:70000->127.0.0.1:{port}: bind: invalid argument"


async def test_keep_alive_minus_infinity_means_untouched() -> None:
    # Negative is Go's "leave keep-alive alone"; -inf is negative (no OverflowError).
    with listener() as srv:
        stream = await Dialer(keep_alive=-math.inf).dial("tcp", f"127.0.0.1:{srv.getsockname()[1]}")
        await stream.aclose()
    with pytest.raises(ValueError, match="at most 32767"):
        KeepAliveConfig(enable=True, idle=math.inf)
    with pytest.raises(ValueError, match="at most 32767"):
        Dialer(keep_alive=math.inf)


def test_an_int_too_large_for_a_float_is_a_value_error_at_construction() -> None:
    with pytest.raises(ValueError, match="too large"):
        Dialer(timeout=10**400)
    with pytest.raises(ValueError, match="too large"):
        Dialer(deadline=-(10**400))
    Dialer(timeout=math.inf)  # the way to say "forever"


# -- argument types ---------------------------------------------------------------------------------
async def test_none_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        trionet.split_host_port(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="network must be a str"):
        await trionet.dial(None, "127.0.0.1:80")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="address must be a str"):
        await trionet.dial("tcp", None)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="network must be a str"):
        trionet.parse_network(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("address", [("127.0.0.1", 80), 80])
async def test_a_port_or_host_port_tuple_points_at_the_go_form_and_open_tcp_stream(address: object) -> None:
    # Issue 14: what trio's open_tcp_stream(host, port) users type first.
    bad: Any = address
    calls: list[tuple[Callable[[str, Any], Awaitable[object]], str]] = [
        (trionet.dial, "tcp"),
        (Dialer().dial, "tcp"),
        (trionet.listen, "tcp"),
        (trionet.listen_packet, "udp"),
        (ListenConfig().listen, "tcp"),
        (ListenConfig().listen_packet, "udp"),
    ]
    for call, network in calls:
        with pytest.raises(TypeError) as info:
            await call(network, bad)
        assert '"host:port"' in str(info.value)
        assert "trionet.open_tcp_stream" in str(info.value)


# -- literals Go accepts ----------------------------------------------------------------------------
async def test_a_mapped_ipv4_literal_with_a_zone_is_a_literal_as_in_go() -> None:
    # Go's netip.ParseAddr takes it; the dial then treats it as IPv4 (To4), zone kept.
    with listener() as srv:
        port = srv.getsockname()[1]
        stream = await trionet.dial("tcp", f"[::ffff:127.0.0.1%lo]:{port}")
        assert stream.socket.getpeername() == ("127.0.0.1", port)
        await stream.aclose()
    assert str(await trionet.resolve_tcp_addr("tcp", "[::ffff:127.0.0.1%lo]:80")) == "127.0.0.1%lo:80"


# -- error reprs ------------------------------------------------------------------------------------
async def test_the_timeout_error_repr_names_no_private_class(autojump_clock: trio.testing.MockClock) -> None:
    net = FakeNet()
    net.blackhole("127.0.0.1")
    with net.install(), pytest.raises(OpError) as info:
        await Dialer(timeout=1).dial("tcp", "127.0.0.1:80")
    assert "_IOTimeout" not in repr(info.value)
    assert "_IOTimeout" not in repr(info.value.err)
    assert repr(info.value.err) == "TimeoutError('i/o timeout')"


# -- bounded memory ---------------------------------------------------------------------------------
_RSS_SCRIPT = textwrap.dedent(
    """
    import trio, trionet

    def rss_mib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    async def main():
        before = rss_mib()
        for i in range(600):
            big = f"[::1%{i}{'x' * (1 << 20)}]:1"  # a distinct 1 MiB IP literal every time
            for call in (lambda: trionet.dial("tcp", big), lambda: trionet.resolve_tcp_addr("tcp", big)):
                try:
                    await call()
                except OSError:
                    pass
            del big
        print(rss_mib() - before)

    trio.run(main)
    """
)


def test_rss_stays_bounded_for_600_dials_of_distinct_1_mib_addresses() -> None:
    # Issue 11 item 4: the literal caches once kept every one of them (RSS 31 -> 845 MiB).
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=os.environ,
    )
    growth = float(out.stdout.strip())
    assert growth < 50, f"RSS grew {growth:.0f} MiB"
