"""Go's test tables and helpers that more than one test module ports.

Each name says which Go test or helper it comes from (``src/net/*_test.go``). Nothing here opens a
connection: the only socket made is a fresh, unconnected TCP socket whose defaults are read.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Final

import trio

from trionet import join_host_port

# Go's TestTCPConnKeepAliveConfigDialer and TestTCPConnKeepAliveConfigListener share this table:
# (idle, interval, count) of an enabled KeepAliveConfig; 0 → Go's default, -1 → left untouched.
KEEPALIVE_CONFIGS: Final = [
    (5, 3, 10),
    (0, 0, 0),
    (-1, -1, -1),
    (-1, 3, 10),
    (5, -1, 10),
    (5, 3, -1),
    (-1, -1, 10),
    (-1, 3, -1),
    (5, -1, -1),
    (0, 3, 10),
    (5, 0, 10),
    (5, 3, 0),
    (0, 0, 10),
    (0, 3, 0),
    (5, 0, 0),
]


def keepalive_values(sock: socket.socket | trio.socket.SocketType) -> tuple[int, int, int, int]:
    """``(SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT)`` as the kernel reports them."""
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
    )


def _fresh_keepalive() -> tuple[int, int, int, int]:
    with socket.socket() as fresh:
        return keepalive_values(fresh)


#: A fresh TCP socket's keep-alive settings: what "left untouched" must keep. Read from the
#: kernel like Go's tests read "the value before the call" (on Linux: off, 7200 s, 75 s, 9).
OS_KEEPALIVE: Final = _fresh_keepalive()


def expected_keepalive(idle: int, interval: int, count: int) -> tuple[int, int, int, int]:
    """What :func:`keepalive_values` must read after an enabled ``KeepAliveConfig(idle, interval,
    count)`` from :data:`KEEPALIVE_CONFIGS` was applied: 0 is Go's default (15 s, 15 s, 9 probes),
    a negative value keeps :data:`OS_KEEPALIVE`'s, anything else is used as is."""
    _, os_idle, os_interval, os_count = OS_KEEPALIVE

    def pick(value: int, default: int, os_value: int) -> int:
        return default if value == 0 else os_value if value < 0 else value

    return (1, pick(idle, 15, os_idle), pick(interval, 15, os_interval), pick(count, 9, os_count))


# Go's TestDialerControl and TestListenConfigControl run Go's controlOnConnSetup over the same
# networks: (network, host, the network the Control hook sees). *host* is the loopback address
# to listen on or dial, None for a socket path; the hook sees the family-specific network.
CONTROL_STREAM: Final = [
    ("tcp", "127.0.0.1", "tcp4"),
    ("tcp", "::1", "tcp6"),
    ("tcp4", "127.0.0.1", "tcp4"),
    ("tcp6", "::1", "tcp6"),
    ("unix", None, "unix"),
    ("unixpacket", None, "unixpacket"),
]
CONTROL_PACKET: Final = [
    ("udp", "127.0.0.1", "udp4"),
    ("udp", "::1", "udp6"),
    ("udp4", "127.0.0.1", "udp4"),
    ("udp6", "::1", "udp6"),
    ("unixgram", None, "unixgram"),
]


def control_address(host: str | None, directory: Path) -> str:
    """The listen address for a CONTROL_* row: a socket path in *directory* for unix rows
    (*host* None), else *host* with port 0."""
    return str(directory / "c.sock") if host is None else join_host_port(host, 0)


def check_hop_limit(sock: socket.socket | trio.socket.SocketType, ctrl_network: str) -> None:
    """Check that :func:`control_on_conn_setup`'s TTL / hop limit of 1 reached *sock*.

    *ctrl_network* is the network the hook saw; unix sockets have no hop limit to check.
    """
    if ctrl_network.endswith("4"):
        assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 1
    elif ctrl_network.endswith("6"):
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS) == 1


def control_on_conn_setup(seen: list[tuple[str, str]]) -> Callable[[str, str, trio.socket.SocketType], None]:
    """Go's controlOnConnSetup: reject ambiguous networks, set TTL/hop limit, read SO_ERROR.

    Every call's ``(network, address)`` is appended to *seen*.
    """

    def control(network: str, address: str, sock: trio.socket.SocketType) -> None:
        seen.append((network, address))
        if network in ("tcp", "udp", "ip"):
            raise ValueError("ambiguous network: " + network)
        if network.startswith("unix"):
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        elif network.endswith("4"):
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        elif network.endswith("6"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
        else:
            raise ValueError("unknown network: " + network)

    return control


# Go's dialSerial and the dialer's own timeout (issue 11 item 1): three blackholed addresses,
# ``Dialer{Timeout: T}``, which of them the error names (index into the resolved list).
# dialSerial checks ctx.Done() before each address: the deadline expiring while address i is
# tried names address i+1 (never tried); expiring during the last one ends the loop, and the
# first address's error ("most relevant") is returned. Measured with go1.27.3 against three
# loopback blackhole listeners (the order of the addresses logged through Dialer.Control):
#   0.6 s: tried [a]           → names b        2.5 s: tried [a@0, b@2]       → names c
#   4.5 s: tried [a, b@2, c@4] → names a        12 s:  tried [a, b@4, c@8]    → names a
# (The issue reported the second address for 2.5 s; Go's code and this run give the third: the
# first address gets 2 s, the second the 0.5 s left, during which the deadline expires.)
DIAL_SERIAL_OWN_TIMEOUT: Final = [
    # (timeout, connect start times, index of the address named)
    (0.6, [0.0], 1),
    (2.5, [0.0, 2.0], 2),
    (4.5, [0.0, 2.0, 4.0], 0),
    (12.0, [0.0, 4.0, 8.0], 0),
]
