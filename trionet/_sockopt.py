"""Socket creation and options: MPTCP with its TCP fallback, keep-alive, and Go's defaults.

Shared by dialers and listeners, so both apply exactly the same rules (Go's ``newTCPConn``,
``setDefaultSockopts``, ``mptcpsock_linux.go``).
"""

from __future__ import annotations

import functools
import math
import os
import socket as _stdlib_socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, final

import trio

from ._deadline import check_duration
from ._network import Network

__all__ = [
    "IPPROTO_MPTCP",
    "AnySocket",
    "KeepAliveConfig",
    "KeepAlivePlan",
    "apply_keepalive",
    "check_keep_alive",
    "keepalive_plan",
    "mptcp_available",
    "mptcp_default",
    "set_default_sockopts",
    "using_mptcp",
]

IPPROTO_MPTCP: Final = 262
SOL_MPTCP: Final = 284  # no Python version defines socket.SOL_MPTCP
MPTCP_INFO: Final = 1

#: What the option helpers accept: a Trio socket, or the standard-library socket inside one
#: (the dial's hot path calls the kernel through it; see ``_sock.stdlib_socket_of``).
AnySocket = trio.socket.SocketType | _stdlib_socket.socket

#: What to set on a TCP socket: ``(idle, interval, count)`` seconds/probes, None leaves one
#: untouched (see :func:`keepalive_plan`).
KeepAlivePlan = tuple[int | None, int | None, int | None]

# Go's defaults (dial.go, "see go.dev/issue/31510").
DEFAULT_KEEPALIVE_IDLE: Final = 15
DEFAULT_KEEPALIVE_INTERVAL: Final = 15
DEFAULT_KEEPALIVE_COUNT: Final = 9

# Linux's accepted ranges (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT). A plain TCP
# socket rejects values outside them with EINVAL, but an MPTCP socket accepts anything, so we
# check ourselves: the same config must mean the same thing on both.
_MAX_KEEPALIVE_SECONDS: Final = 32767
_MAX_KEEPALIVE_COUNT: Final = 127


@final
@dataclass(frozen=True, slots=True)
class KeepAliveConfig:
    """TCP keep-alive settings (Go's ``net.KeepAliveConfig``).

    Args:
        enable: when true this config is used as is and the dialer's ``keep_alive`` is ignored;
            when false the config is ignored and ``keep_alive`` decides (Go discards the other
            fields of a non-enabled config).
        idle: seconds of idleness before the first probe (``TCP_KEEPIDLE``).
        interval: seconds between probes (``TCP_KEEPINTVL``).
        count: unanswered probes before the connection is dropped (``TCP_KEEPCNT``).

    For each of *idle*, *interval* and *count*: None or 0 selects the default (15 s, 15 s, 9); a
    negative value leaves the socket's current value untouched. Durations are rounded **up** to
    whole seconds (1.5 → 2), as Go does.

    Raises:
        ValueError: a value above what Linux accepts (32767 s, 127 probes; ``math.inf``
            included), or NaN. ``-math.inf`` is negative: that option is left untouched.
    """

    enable: bool = False
    idle: float | None = None
    interval: float | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        for name in ("idle", "interval"):
            value: float | None = getattr(self, name)
            check_duration(f"KeepAliveConfig.{name}", value)
            # (compared as is: ceil() of an infinity raises OverflowError)
            if value is not None and value > _MAX_KEEPALIVE_SECONDS:
                raise ValueError(
                    f"KeepAliveConfig.{name} must be at most {_MAX_KEEPALIVE_SECONDS} seconds, not {value!r}"
                )
        if self.count is not None:
            if isinstance(self.count, bool) or not isinstance(self.count, int):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"KeepAliveConfig.count must be an int or None, not {self.count!r}")
            if self.count > _MAX_KEEPALIVE_COUNT:
                raise ValueError(
                    f"KeepAliveConfig.count must be at most {_MAX_KEEPALIVE_COUNT}, not {self.count!r}"
                )


def check_keep_alive(keep_alive: float | None, keep_alive_config: KeepAliveConfig | None) -> None:
    """Validate the ``keep_alive`` and ``keep_alive_config`` options at construction time.

    ``Dialer`` and ``ListenConfig`` take the same two options with the same meaning, so
    they share this check and raise the same errors.
    """
    check_duration("keep_alive", keep_alive)
    # -inf is negative (keep-alive left untouched, Go's meaning); +inf is above the limit.
    if keep_alive is not None and keep_alive > _MAX_KEEPALIVE_SECONDS:
        raise ValueError(f"keep_alive must be at most {_MAX_KEEPALIVE_SECONDS} seconds, not {keep_alive!r}")
    if keep_alive_config is not None and not isinstance(keep_alive_config, KeepAliveConfig):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"keep_alive_config must be a KeepAliveConfig, not {keep_alive_config!r}")


def _seconds(value: float | None, default: int) -> int | None:
    """Go's rule for one field: 0/None → default, negative → untouched (None), else round up."""
    if value is None or value == 0:
        return default
    if value < 0:
        return None
    return math.ceil(value)


@functools.lru_cache(maxsize=64)
def keepalive_plan(keep_alive: float | None, config: KeepAliveConfig | None) -> KeepAlivePlan | None:
    """What to set on a new TCP connection: ``(idle, interval, count)`` or None for "leave it".

    Go's ``newTCPConn``: a non-enabled config is replaced by ``{enable, idle=keep_alive}`` unless
    ``keep_alive`` is negative, in which case keep-alive is not touched at all. In the tuple, None
    means "leave that option untouched"; ``SO_KEEPALIVE`` is always set to 1 when a plan exists.
    """
    if config is None or not config.enable:
        if keep_alive is not None and keep_alive < 0:
            return None
        config = KeepAliveConfig(enable=True, idle=keep_alive)
    return (
        _seconds(config.idle, DEFAULT_KEEPALIVE_IDLE),
        _seconds(config.interval, DEFAULT_KEEPALIVE_INTERVAL),
        None if config.count is not None and config.count < 0 else (config.count or DEFAULT_KEEPALIVE_COUNT),
    )


def apply_keepalive(sock: AnySocket, plan: KeepAlivePlan | None) -> None:
    """Apply a :func:`keepalive_plan` to a connected TCP socket.

    Errors are ignored, as Go's ``newTCPConn`` ignores them: keep-alive is best effort and must
    never fail a connection that is otherwise fine.
    """
    if plan is None:
        return
    idle, interval, count = plan
    try:
        sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE, 1)
        if idle is not None:
            sock.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPIDLE, idle)
        if interval is not None:
            sock.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPINTVL, interval)
        if count is not None:
            sock.setsockopt(_stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_KEEPCNT, count)
    except OSError:
        pass


@functools.cache
def mptcp_available() -> bool:
    """Whether the kernel knows MPTCP (Go's probe): ``EPROTONOSUPPORT``/``EINVAL`` mean no.

    Probed once per process with a throw-away socket, as Go does.
    """
    import errno

    try:
        probe = _stdlib_socket.socket(_stdlib_socket.AF_INET, _stdlib_socket.SOCK_STREAM, IPPROTO_MPTCP)
    except OSError as exc:
        return exc.errno not in (errno.EPROTONOSUPPORT, errno.EINVAL)
    probe.close()
    return True


_MPTCP_VARIABLE: Final = "TRIONET_MULTIPATHTCP"
_MPTCP_KEY: Final = _MPTCP_VARIABLE.encode()


def _libc_getenv() -> Callable[[bytes], bytes | None] | None:
    """libc's ``getenv``, called with the GIL held, or None where it cannot be had.

    A dial asks for the variable every time, and ``os.environ.get`` of an unset variable raises
    and catches KeyError twice inside the Mapping machinery: 0.9 µs timed alone on a quiet
    machine (2.8-4.5 µs under load), 1-4% of a loopback dial. libc's ``getenv`` answers the same
    question in about a tenth of that: every change made through :data:`os.environ` goes to the
    C environment too (``putenv``/``unsetenv``), which is what it reads. ``PyDLL`` keeps the GIL
    during the call, so no Python thread can be changing the environment meanwhile.
    """
    try:
        import ctypes

        getenv = ctypes.PyDLL(None).getenv
    except (ImportError, OSError, AttributeError):  # pragma: no cover - no ctypes or no libc
        return None
    getenv.restype = ctypes.c_char_p
    getenv.argtypes = [ctypes.c_char_p]
    return getenv


_getenv: Final = _libc_getenv()


def mptcp_default(*, listener: bool) -> bool:
    """The default MPTCP choice when a dialer/listener leaves ``multipath_tcp=None``.

    Go: on for listeners, off for dialers (go.dev/issue/56539), overridable with
    ``GODEBUG=multipathtcp=N``; trionet reads ``TRIONET_MULTIPATHTCP=N`` with the same meanings:
    0 = off for both, 1 = on for both, 2 = listeners only, 3 = dialers only. Read on every call,
    so tests and long-running programs can change it.
    """
    if _getenv is not None:
        value = _getenv(_MPTCP_KEY)
        setting = "" if value is None else value.decode(errors="replace")
    else:  # pragma: no cover
        setting = os.environ.get(_MPTCP_VARIABLE, "")
    if listener:
        return setting not in ("0", "3")
    return setting in ("1", "3")


def using_mptcp(sock: trio.socket.SocketType) -> bool:
    """Whether a connected socket really runs MPTCP (Go's ``TCPConn.MultipathTCP``).

    ``MPTCP_INFO`` only succeeds on a real MPTCP connection; ``SO_PROTOCOL`` is not enough,
    because a socket that fell back to TCP still reports 262.
    """
    try:
        sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    except OSError:
        return False
    return True


def set_default_sockopts(sock: AnySocket, net: Network, family: int) -> None:
    """Go's ``setDefaultSockopts``, for dialing and listening alike.

    ``IPV6_V6ONLY`` is always set explicitly on a non-raw IPv6 socket, true only for the ``*6``
    networks, so the ``net.ipv6.bindv6only`` sysctl never decides (Go issue 12579);
    ``SO_BROADCAST`` is set on datagram and raw internet sockets.

    Raises:
        OSError: from setsockopt.
    """
    if family == _stdlib_socket.AF_INET6 and net.socktype != _stdlib_socket.SOCK_RAW:
        sock.setsockopt(_stdlib_socket.IPPROTO_IPV6, _stdlib_socket.IPV6_V6ONLY, net.afnet.endswith("6"))
    if net.socktype in (_stdlib_socket.SOCK_DGRAM, _stdlib_socket.SOCK_RAW) and not net.is_unix:
        sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_BROADCAST, 1)
