"""Go's ``conf.go`` on Linux: does the pure resolver answer a name, and in which order.

What may live here: reading and caching ``nsswitch.conf`` (Go's ``nss.go``), and the rules that
pick between the pure resolver (``files``/``dns`` in the ``hosts:`` order) and libc: the
environment (``LOCALDOMAIN``, ``RES_OPTIONS``, ``HOSTALIASES``), a resolv.conf Go cannot read,
the ``myhostname`` and ``mdns*`` sources. The answer is an ``Order``; acting on it is the
resolver's job. resolv.conf itself and the name rules are :mod:`trionet._dnsconfig`'s.

Pure: no trio, no dnspython. The only I/O is ``stat`` and reading files; times are passed in.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from .._etc import read_file
from ._dnsconfig import DNSConfig, WatchedFile

__all__ = [
    "NSSConf",
    "NSSCriterion",
    "NSSSource",
    "NSSwitch",
    "Order",
    "env_prefers_libc",
    "host_lookup_order",
    "is_localhost",
    "mdns_allow_exists",
    "parse_nss_conf",
    "read_nss_conf",
]

Order = Literal["system", "files,dns", "dns,files", "files", "dns"]
"""Go's ``hostLookupOrder``: ``"system"`` is libc (Go's ``hostLookupCgo``), the others the pure
resolver's sources in the order tried."""


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


def _parse_sources(srcs: str, sources: list[NSSSource]) -> None:
    """The sources of one database line, each with its ``[...]`` criteria, appended to *sources*
    one by one (those before a syntax error stay).

    Raises:
        ValueError: an unclosed or malformed ``[...]``.
    """
    while srcs:
        parts = srcs.split(None, 1)
        src, srcs = parts[0], (parts[1].strip(_SPACE) if len(parts) > 1 else "")
        criteria: tuple[NSSCriterion, ...] = ()
        if srcs.startswith("["):
            close = srcs.find("]")
            if close < 0:
                raise ValueError("unclosed criterion bracket")
            criteria = _parse_criteria(srcs[1:close])
            srcs = srcs[close + 1 :].strip(_SPACE)
        sources.append(NSSSource(src, criteria))


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
        try:
            _parse_sources(srcs.strip(_SPACE), conf.sources.setdefault(db.strip(_SPACE), []))
        except ValueError as exc:
            conf.err = exc
            return conf
    return conf


def read_nss_conf(path: str) -> NSSConf:
    """Read nsswitch.conf at *path* (Go's ``parseNSSConfFile``); an unreadable file sets ``err``."""
    try:
        data, st = read_file(path)  # never blocks: a FIFO is refused, not waited on
    except OSError as exc:
        return NSSConf(err=exc)
    conf = parse_nss_conf(data.decode("utf-8", errors="replace"))
    conf.mtime_ns = st.st_mtime_ns
    return conf


class NSSwitch(WatchedFile[NSSConf]):
    """nsswitch.conf, read on first use and re-read when its mtime changes (checked every 5 s,
    Go's ``nsswitchConfig.tryUpdate``).

    Args:
        path: the file (``/etc/nsswitch.conf``).
    """

    def __init__(self, path: str = "/etc/nsswitch.conf") -> None:
        super().__init__(path, read_nss_conf)


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


def _needs_libc_before_nss(name: str, conf: DNSConfig) -> bool:
    """Go's ``lookupOrder`` checks before nsswitch.conf, when libc may be used: what in the name
    or in resolv.conf only libc can honour."""
    if "\\" in name or "%" in name:
        return True  # glibc escapes and IPv6 zones: Go lets libc handle them
    err = conf.err
    if err is not None and not isinstance(err, FileNotFoundError | PermissionError):
        return True  # resolv.conf unreadable: it may say something important
    return conf.unknown_opt


def _source_needs_libc(
    name: str, source: str, hostname: Callable[[], str], mdns_allow: Callable[[], bool | None]
) -> bool:
    """Go's ``lookupOrder`` loop for a source other than ``files`` and ``dns``, when libc may be
    used: whether *source* could answer *name* in a way only libc can reproduce."""
    if name != "" and source == "myhostname":
        if is_localhost(name) or name.lower() in ("_gateway", "_outbound"):
            return True
        try:
            own = hostname()
        except OSError:
            return True
        return name.lower() == own.lower()
    if name != "" and source.startswith("mdns"):
        # RFC 6762: .local is multicast DNS, which only libc (Avahi) speaks. An
        # mdns.allow file may list other domains: Go does not parse it and defers.
        return _fold_suffix(name, ".local") or mdns_allow() is not False
    return True  # a source we do not know (resolve, mymachines, nis, ...)


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
    elif prefer_libc or _needs_libc_before_nss(name, conf):
        return "system"
    else:
        fallback, can_use_libc = "system", True
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
            if _source_needs_libc(name, src.source, hostname, mdns_allow):
                return "system"
            continue
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
