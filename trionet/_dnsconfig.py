"""``resolv.conf`` and ``nsswitch.conf`` with Go's defaults, and Go's name rules.

Pure: no trio, no dnspython. Ports of Go's ``dnsconfig_unix.go`` (``dnsReadConfig``),
``dnsclient_unix.go`` (``nameList``, ``avoidDNS``), ``dnsclient.go`` (``isDomainName``),
``nss.go`` (nsswitch.conf) and ``conf.go`` (``lookupOrder``: the pure resolver or libc).
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from ._address import join_host_port, parse_ip

__all__ = [
    "DEFAULT_NS",
    "DNSConfig",
    "NSSConf",
    "NSSCriterion",
    "NSSSource",
    "NSSwitch",
    "ResolvConf",
    "avoid_dns",
    "env_prefers_libc",
    "host_lookup_order",
    "is_domain_name",
    "is_localhost",
    "mdns_allow_exists",
    "parse_nss_conf",
    "read_dns_config",
    "read_nss_conf",
]

DEFAULT_NS: Final = ("127.0.0.1:53", "[::1]:53")
"""Go's ``defaultNS``: the servers used when resolv.conf names none."""

RECHECK_INTERVAL: Final = 5.0
"""Seconds between two ``stat`` calls on resolv.conf (Go's ``tryUpdate``)."""

Order = Literal["system", "files,dns", "dns,files", "files", "dns"]


def is_domain_name(s: str) -> bool:
    """Go's ``isDomainName``: letters, digits, ``_`` and inner ``-``; labels 1-63; total ≤ 254.

    A name made only of digits and dots is not a domain name (it would be an IP address).
    """
    if s == ".":
        return True
    n = len(s)
    if n == 0 or n > 254 or (n == 254 and s[-1] != "."):
        return False
    last = "."
    non_numeric = False
    partlen = 0
    for c in s:
        if ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_":
            non_numeric = True
            partlen += 1
        elif "0" <= c <= "9":
            partlen += 1
        elif c == "-":
            if last == ".":
                return False
            partlen += 1
            non_numeric = True
        elif c == ".":
            if last in ".-" or partlen > 63 or partlen == 0:
                return False
            partlen = 0
        else:
            return False
        last = c
    if last == "-" or partlen > 63:
        return False
    return non_numeric


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
    """Go's ``dtoi``: the leading decimal digits (0 when there are none)."""
    digits = "".join(itertools.takewhile(str.isdigit, s))
    return int(digits) if digits and digits.isascii() else 0


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
    for line in text.splitlines():
        if line[:1] in (";", "#"):
            continue
        f = line.split()
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
        with open(path, "rb") as f:
            mtime_ns = os.fstat(f.fileno()).st_mtime_ns
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        conf = DNSConfig(servers=list(DEFAULT_NS), search=_default_search(host), err=exc)
        return conf
    conf = parse_dns_config(text, host)
    conf.mtime_ns = mtime_ns
    return conf


class ResolvConf:
    """resolv.conf, read on first use and re-read when its mtime changes (checked every 5 s).

    Args:
        path: the file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._conf: DNSConfig | None = None
        self._checked = -float("inf")

    def get(self, now: float) -> DNSConfig:
        """The configuration; *now* is the caller's monotonic clock (Go's ``tryUpdate``)."""
        conf = self._conf
        if conf is None:
            self._conf = conf = read_dns_config(self.path)
            self._checked = now
            return conf
        if conf.no_reload or now < self._checked + RECHECK_INTERVAL:
            return conf
        self._checked = now
        try:
            mtime_ns: int | None = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime_ns = None
        if mtime_ns != conf.mtime_ns:
            self._conf = conf = read_dns_config(self.path)
        return conf


# -- nsswitch.conf (Go's nss.go) ---------------------------------------------------------------
_DEFAULT_ACTIONS: Final = {
    "success": "return",
    "notfound": "continue",
    "unavail": "continue",
    "tryagain": "continue",
}


@dataclass(frozen=True)
class NSSCriterion:
    """One ``[STATUS=ACTION]`` item after a source (Go's ``nssCriterion``), lower case."""

    negate: bool  # "!" was present
    status: str  # "success", "notfound", "unavail", "tryagain"
    action: str  # "return", "continue"

    def standard_status_action(self, last: bool) -> bool:
        """Go's ``standardStatusAction``: equivalent to leaving the criterion out (*last*: it is
        the last one of its block, where ``return`` is what happens anyway)."""
        if self.negate:
            return False
        default = _DEFAULT_ACTIONS.get(self.status)
        if default is None:
            return False  # an unknown status
        if last and self.action == "return":
            return True
        return self.action == default


@dataclass(frozen=True)
class NSSSource:
    """One source of a database line (``files``, ``dns``, ``mdns4_minimal`` ...) and its criteria."""

    source: str
    criteria: tuple[NSSCriterion, ...] = ()

    def standard_criteria(self) -> bool:
        """Go's ``standardCriteria``: every criterion is the default action."""
        last = len(self.criteria) - 1
        return all(c.standard_status_action(i == last) for i, c in enumerate(self.criteria))


@dataclass
class NSSConf:
    """A parsed nsswitch.conf (Go's ``nssConf``): sources by database, or why there are none."""

    sources: dict[str, list[NSSSource]] = field(default_factory=dict[str, list[NSSSource]])
    err: Exception | None = None  # FileNotFoundError, another OSError, or a ValueError (syntax)
    mtime_ns: int | None = None


_SPACE: Final = " \t\r\n"


def _parse_criteria(text: str) -> tuple[NSSCriterion, ...]:
    """Go's ``parseCriteria``: ``"NOTFOUND=return !UNAVAIL=continue"``."""
    out: list[NSSCriterion] = []
    for raw in text.split():
        negate = raw.startswith("!")
        f = raw[1:] if negate else raw
        if len(f) < 3 or "=" not in f:
            raise ValueError(f"invalid criteria: {text}")
        status, _, action = f.lower().partition("=")
        out.append(NSSCriterion(negate, status, action))
    return tuple(out)


def parse_nss_conf(text: str) -> NSSConf:
    """Parse nsswitch.conf text (Go's ``parseNSSConf``). A syntax error (a line without a colon,
    an unclosed or malformed ``[...]``) leaves ``err`` set, as in Go: the caller then cannot
    trust any order and defers to libc.

    Sources are split on any whitespace; Go splits on spaces only (a tab between two sources
    makes one unknown source there, which sends lookups to libc).
    """
    conf = NSSConf()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip(_SPACE)
        if not line:
            continue
        db, colon, srcs = line.partition(":")
        if not colon:
            conf.err = ValueError("no colon on line")
            return conf
        sources = conf.sources.setdefault(db.strip(_SPACE), [])
        srcs = srcs.strip(_SPACE)
        while srcs:
            parts = srcs.split(None, 1)
            src, srcs = parts[0], (parts[1].strip(_SPACE) if len(parts) > 1 else "")
            criteria: tuple[NSSCriterion, ...] = ()
            if srcs.startswith("["):
                close = srcs.find("]")
                if close < 0:
                    conf.err = ValueError("unclosed criterion bracket")
                    return conf
                try:
                    criteria = _parse_criteria(srcs[1:close])
                except ValueError as exc:
                    conf.err = exc
                    return conf
                srcs = srcs[close + 1 :].strip(_SPACE)
            sources.append(NSSSource(src, criteria))
    return conf


def read_nss_conf(path: str) -> NSSConf:
    """Read nsswitch.conf at *path* (Go's ``parseNSSConfFile``); an unreadable file sets ``err``."""
    try:
        with open(path, "rb") as f:
            mtime_ns = os.fstat(f.fileno()).st_mtime_ns
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return NSSConf(err=exc)
    conf = parse_nss_conf(text)
    conf.mtime_ns = mtime_ns
    return conf


class NSSwitch:
    """nsswitch.conf, read on first use and re-read when its mtime changes (checked every 5 s,
    Go's ``nsswitchConfig.tryUpdate``).

    Args:
        path: the file (``/etc/nsswitch.conf``).
    """

    def __init__(self, path: str = "/etc/nsswitch.conf") -> None:
        self.path = path
        self._conf: NSSConf | None = None
        self._checked = -float("inf")

    def get(self, now: float) -> NSSConf:
        """The configuration; *now* is the caller's monotonic clock."""
        conf = self._conf
        if conf is not None and now < self._checked + RECHECK_INTERVAL:
            return conf
        self._checked = now
        if conf is not None:
            try:
                mtime_ns: int | None = os.stat(self.path).st_mtime_ns
            except OSError:
                mtime_ns = None
            if mtime_ns == conf.mtime_ns:
                return conf
        self._conf = conf = read_nss_conf(self.path)
        return conf


# -- conf.go: pure resolver or libc ----------------------------------------------------------------
def env_prefers_libc(environ: Mapping[str, str]) -> bool:
    """Go's ``initConfVal``: ``LOCALDOMAIN`` set (even empty), or ``RES_OPTIONS`` or
    ``HOSTALIASES`` non-empty, change what libc does, so Go prefers libc (cgo)."""
    return "LOCALDOMAIN" in environ or bool(environ.get("RES_OPTIONS")) or bool(environ.get("HOSTALIASES"))


def mdns_allow_exists(path: str = "/etc/mdns.allow") -> bool | None:
    """Whether ``/etc/mdns.allow`` exists; None when ``stat`` fails otherwise (Go: let libc decide)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return True


def _fold_suffix(name: str, suffix: str) -> bool:
    return name.lower().endswith(suffix)


def is_localhost(name: str) -> bool:
    """Go's ``isLocalhost``: a name the ``myhostname`` NSS module answers as loopback."""
    n = name.lower()
    return n in ("localhost", "localhost.localdomain") or n.endswith((".localhost", ".localhost.localdomain"))


def host_lookup_order(
    name: str,
    conf: DNSConfig,
    nss: NSSConf,
    *,
    prefer_go: bool = False,
    prefer_libc: bool = False,
    hostname: Callable[[], str] = socket.gethostname,
    mdns_allow: Callable[[], bool | None] = mdns_allow_exists,
) -> Order:
    """Go's ``conf.lookupOrder`` (conf.go) on Linux: the pure resolver's order, or ``"system"``
    (libc, Go's ``hostLookupCgo``).

    Args:
        name: the host asked (``""`` for address lookups, as Go's ``addrLookupOrder``).
        conf: the system resolv.conf.
        nss: the system nsswitch.conf.
        prefer_go: Go's ``PreferGo``: never libc; sources Go cannot honour are skipped, or
            count as ``dns`` when no ``dns`` source is listed.
        prefer_libc: Go's ``preferCgo`` (see :func:`env_prefers_libc`).
        hostname: the machine's host name (``myhostname`` answers it); raising means "unknown".
        mdns_allow: whether ``/etc/mdns.allow`` exists (None: cannot tell).
    """
    fallback: Order
    if prefer_go:
        fallback, can_use_libc = "files,dns", False
    elif prefer_libc:
        return "system"
    else:
        if "\\" in name or "%" in name:
            return "system"  # glibc escapes and IPv6 zones: Go lets libc handle them
        fallback, can_use_libc = "system", True
    if can_use_libc:
        err = conf.err
        if err is not None and not isinstance(err, FileNotFoundError | PermissionError):
            return "system"  # resolv.conf unreadable: it may say something important
        if conf.unknown_opt:
            return "system"
    name = name.removesuffix(".")
    srcs = nss.sources.get("hosts", [])
    if isinstance(nss.err, FileNotFoundError) or (nss.err is None and not srcs):
        return "files,dns"  # no nsswitch.conf or no hosts line: Go's DNS will do
    if nss.err is not None:
        return fallback
    has_dns = any(s.source == "dns" for s in srcs)
    files_src = dns_src = False
    first = ""
    for src in srcs:
        if src.source in ("files", "dns"):
            if can_use_libc and not src.standard_criteria():
                return "system"  # non-standard; let libc deal with it
            if src.source == "files":
                files_src = True
            else:
                dns_src = True
            first = first or src.source
            continue
        if can_use_libc:
            if name != "" and src.source == "myhostname":
                if is_localhost(name) or name.lower() in ("_gateway", "_outbound"):
                    return "system"
                try:
                    own = hostname()
                except OSError:
                    return "system"
                if name.lower() == own.lower():
                    return "system"
                continue
            if name != "" and src.source.startswith("mdns"):
                # RFC 6762: .local is multicast DNS, which only libc (Avahi) speaks. An
                # mdns.allow file may list other domains: Go does not parse it and defers.
                if _fold_suffix(name, ".local") or mdns_allow() is not False:
                    return "system"
                continue
            return "system"  # a source we do not know (resolve, mymachines, nis, ...)
        if not has_dns:
            # Go with PreferGo: an unknown source counts as DNS when no dns source is listed.
            dns_src = True
            first = first or "dns"
    if files_src and dns_src:
        return "files,dns" if first == "files" else "dns,files"
    if files_src:
        return "files"
    if dns_src:
        return "dns"
    return fallback
