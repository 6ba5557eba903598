"""``resolv.conf`` with Go's defaults, and Go's rules for names sent to DNS.

What may live here: parsing and caching resolv.conf (Go's ``dnsconfig_unix.go``,
``dnsReadConfig``), the search list built from it (``dnsclient_unix.go``, ``nameList``), and the
name rules (``isDomainName`` from ``dnsclient.go``, ``avoidDNS``). Which resolver answers a name
(``nsswitch.conf``, Go's ``conf.go``) is :mod:`trionet._conf`'s job, which reads this module.

Pure: no trio, no dnspython. The only I/O is ``stat`` and reading the file; times are passed in.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Generic, Protocol, TypeVar

from .._address import join_host_port, parse_ip
from .._etc import ascii_fields, dtoi, read_file

__all__ = [
    "DEFAULT_NS",
    "RECHECK_INTERVAL",
    "DNSConfig",
    "ResolvConf",
    "WatchedFile",
    "avoid_dns",
    "is_domain_name",
    "read_dns_config",
]

DEFAULT_NS: Final = ("127.0.0.1:53", "[::1]:53")
"""Go's ``defaultNS``: the servers used when resolv.conf names none."""

RECHECK_INTERVAL: Final = 5.0
"""Seconds between two ``stat`` calls on resolv.conf, and on nsswitch.conf (Go's ``tryUpdate``)."""


#: One label of Go's ``isDomainName``: 1-63 of letters, digits, ``_`` and ``-``, not starting or
#: ending with ``-``. The whole name is labels joined by dots, with an optional final dot.
_LABEL: Final = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DOMAIN_NAME: Final = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
_NON_NUMERIC: Final = re.compile(r"[A-Za-z_-]")


def is_domain_name(s: str) -> bool:
    """Go's ``isDomainName``: letters, digits, ``_`` and inner ``-``; labels 1-63; total ≤ 254.

    A name made only of digits and dots is not a domain name (it would be an IP address).
    """
    # Go walks the name a character at a time; the same rules as one compiled pattern cost a
    # new name's lookup a few microseconds less (tests/test_dnsconfig.py holds the two equal).
    if s == ".":
        return True
    n = len(s)
    if n == 0 or n > 254 or (n == 254 and s[-1] != "."):
        return False
    return _DOMAIN_NAME.fullmatch(s) is not None and _NON_NUMERIC.search(s) is not None


def avoid_dns(name: str) -> bool:
    """Go's ``avoidDNS``: the empty name and ``.onion`` names (RFC 7686) never go to DNS."""
    if name == "":
        return True
    return name.removesuffix(".").lower().endswith(".onion")


def _ensure_rooted(s: str) -> str:
    return s if s.endswith(".") else s + "."


def _default_search(hostname: str) -> list[str]:
    """Go's ``dnsDefaultSearch``: the domain of the host name, if it has one."""
    i = hostname.find(".")
    if 0 <= i < len(hostname) - 1:
        return [_ensure_rooted(hostname[i + 1 :])]
    return []


def _dtoi(s: str) -> int:
    """Go's ``n, _, _ := dtoi(s)``: the leading ASCII digits (0 when there are none), at most
    :data:`~trionet._etc.BIG`."""
    return dtoi(s)[0]


@dataclass
class DNSConfig:
    """A parsed resolv.conf (Go's ``dnsConfig``); every field has Go's default."""

    servers: list[str] = field(default_factory=list[str])  # "IP:53" / "[IPv6]:53"
    search: list[str] = field(default_factory=list[str])  # rooted suffixes
    ndots: int = 1
    timeout: float = 5.0  # seconds per exchange
    attempts: int = 2
    rotate: bool = False
    single_request: bool = False
    use_tcp: bool = False
    trust_ad: bool = False
    no_reload: bool = False
    unknown_opt: bool = False  # something Go does not understand: libc may do better
    err: OSError | None = None  # why the file could not be read
    mtime_ns: int | None = None
    _soffset: int = 0

    def server_offset(self) -> int:
        """Go's ``serverOffset``: 0, or a counter advancing on each call with ``rotate``."""
        if not self.rotate:
            return 0
        offset = self._soffset
        self._soffset += 1
        return offset

    def name_list(self, name: str) -> list[str]:
        """Go's ``nameList``: the rooted names to try for *name*, search suffixes applied by ndots."""
        rooted = name.endswith(".")
        if len(name) > 254 or (len(name) == 254 and not rooted):
            return []
        if rooted:
            return [] if avoid_dns(name) else [name]
        has_ndots = name.count(".") >= self.ndots
        name += "."
        names: list[str] = []
        if has_ndots and not avoid_dns(name):
            names.append(name)
        for suffix in self.search:
            fqdn = name + suffix
            if not avoid_dns(fqdn) and len(fqdn) <= 254:
                names.append(fqdn)
        if not has_ndots and not avoid_dns(name):
            names.append(name)
        return names


def parse_dns_config(text: str, hostname: str = "") -> DNSConfig:
    """Parse resolv.conf text (Go's ``dnsReadConfig`` loop); *hostname* gives the default search."""
    conf = DNSConfig()
    for line in text.split("\n"):  # Go splits lines at "\n" only, fields at ASCII blanks
        if line[:1] in (";", "#"):
            continue
        f = ascii_fields(line)
        if not f:
            continue
        key = f[0]
        if key == "nameserver":
            # Go keeps at most three ("small, but the standard limit") and only IP literals.
            if len(f) > 1 and len(conf.servers) < 3 and parse_ip(f[1]) is not None:
                conf.servers.append(join_host_port(f[1], "53"))
        elif key == "domain":
            if len(f) > 1:
                conf.search = [_ensure_rooted(f[1])]
        elif key == "search":
            conf.search = [s for s in (_ensure_rooted(x) for x in f[1:]) if s != "."]
        elif key == "options":
            for s in f[1:]:
                _apply_option(conf, s)
        elif key == "lookup":
            pass  # OpenBSD only
        else:
            conf.unknown_opt = True
    if not conf.servers:
        conf.servers = list(DEFAULT_NS)
    if not conf.search:
        conf.search = _default_search(hostname)
    return conf


def _apply_option(conf: DNSConfig, s: str) -> None:
    if s.startswith("ndots:"):
        conf.ndots = min(max(_dtoi(s[6:]), 0), 15)
    elif s.startswith("timeout:"):
        conf.timeout = float(max(_dtoi(s[8:]), 1))
    elif s.startswith("attempts:"):
        conf.attempts = max(_dtoi(s[9:]), 1)
    elif s == "rotate":
        conf.rotate = True
    elif s in ("single-request", "single-request-reopen"):
        conf.single_request = True
    elif s in ("use-vc", "usevc", "tcp"):
        conf.use_tcp = True
    elif s == "trust-ad":
        conf.trust_ad = True
    elif s == "edns0":
        pass  # EDNS0 is always on (1232-byte payload), as in Go
    elif s == "no-reload":
        conf.no_reload = True
    else:
        conf.unknown_opt = True


def read_dns_config(path: str, hostname: str | None = None) -> DNSConfig:
    """Read resolv.conf at *path*; a missing file gives Go's defaults with ``err`` set.

    Args:
        path: the file.
        hostname: for the default search list; None asks :func:`socket.gethostname`.
    """
    host = socket.gethostname() if hostname is None else hostname
    try:
        data, st = read_file(path)  # never blocks: a FIFO is refused, not waited on
    except OSError as exc:
        conf = DNSConfig(servers=list(DEFAULT_NS), search=_default_search(host), err=exc)
        return conf
    conf = parse_dns_config(data.decode("utf-8", errors="replace"), host)
    conf.mtime_ns = st.st_mtime_ns
    return conf


class _Stamped(Protocol):
    """A parsed configuration that remembers its file's mtime (None: the file was unreadable)."""

    @property
    def mtime_ns(self) -> int | None: ...


_C = TypeVar("_C", bound=_Stamped)


class WatchedFile(Generic[_C]):
    """A configuration file read on first use and re-read when its mtime changes, looked at no
    more than every :data:`RECHECK_INTERVAL` seconds (Go's ``resolverConfig.tryUpdate`` and
    ``nsswitchConfig.tryUpdate``).

    Args:
        path: the file.
        read: parses it; never raises (an unreadable file is a configuration too).
    """

    def __init__(self, path: str, read: Callable[[str], _C]) -> None:
        self.path = path
        self._read = read
        self._conf: _C | None = None
        self._checked = -float("inf")

    def get(self, now: float) -> _C:
        """The configuration; *now* is the caller's monotonic clock."""
        conf = self._conf
        if conf is not None and (self._frozen(conf) or now < self._checked + RECHECK_INTERVAL):
            return conf
        self._checked = now
        if conf is not None:
            try:
                mtime_ns: int | None = os.stat(self.path).st_mtime_ns
            except OSError:
                mtime_ns = None
            if mtime_ns == conf.mtime_ns:
                return conf
        self._conf = conf = self._read(self.path)
        return conf

    def _frozen(self, conf: _C) -> bool:
        """Whether *conf* asks never to be re-read."""
        return False


class ResolvConf(WatchedFile[DNSConfig]):
    """resolv.conf, read on first use and re-read when its mtime changes (checked every 5 s),
    unless it says ``options no-reload``.

    Args:
        path: the file.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path, read_dns_config)

    def _frozen(self, conf: DNSConfig) -> bool:
        return conf.no_reload
