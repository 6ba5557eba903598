"""The hosts file (``/etc/hosts``): parsing and the name ↔ address tables (Go's ``hosts.go``).

Pure: no trio, no dnspython. The only I/O is ``stat`` and reading the file. Times are passed in
by the caller (the resolver passes Trio's clock), so the 5-second cache is testable without
sleeping.

Go's rules, kept here:

* ``#`` starts a comment; a line needs an address and at least one name; lines whose first
  field is not an IP literal are skipped; IPv6 zones (``fe80::1%lo``) are allowed.
* Names are case-insensitive and trailing-dot-insensitive for lookups (a name containing a dot
  is stored rooted, ``absDomainName``); the canonical name is the first name on the line, lower
  case and rooted.
* The file is re-read when it changed (mtime or size) and then cached for 5 seconds; a missing
  or forbidden file is an empty table, never an error.
* Lines end at ``\n`` and fields are split at ASCII spaces and tabs only (Go's ``getFields``):
  a no-break space or U+2028 is part of a field.

Reading is split in three steps so the resolver can run the middle one, reading and parsing, in
a worker thread for a large file: :meth:`HostsFile.cached` (is the table current?),
:meth:`HostsFile.load` (read and parse, no shared state touched) and :meth:`HostsFile.store`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

from .._address import ip_text, parse_ip
from .._etc import ascii_fields, read_file

__all__ = [
    "CACHE_MAX_AGE",
    "INLINE_MAX",
    "HostsFile",
    "HostsTable",
    "Loaded",
    "abs_domain_name",
    "parse_hosts",
]

INLINE_MAX: Final = 16 * 1024
"""A hosts file up to this many bytes is read and parsed in the caller's thread (some 500 lines,
a few milliseconds); a larger one in a worker thread, so that the event loop keeps running (a
1,000,000-line file takes seconds to parse)."""

CACHE_MAX_AGE: Final = 5.0
"""Seconds a parsed hosts file is trusted before its mtime and size are checked again (Go's ``cacheMaxAge``)."""


def abs_domain_name(name: str) -> str:
    """Go's ``absDomainName``: a name containing a dot gets a trailing dot; ``"localhost"`` does not."""
    if "." in name and not name.endswith("."):
        return name + "."
    return name


def _literal(text: str) -> str:
    """Go's ``parseLiteralIP``: the canonical text of an IP literal (with its zone), or ``""``."""
    parsed = parse_ip(text)
    if parsed is None:
        return ""
    return ip_text(*parsed)


@dataclass
class HostsTable:
    """A parsed hosts file.

    Attributes:
        by_name: rooted lower-case name → (addresses in file order, canonical name).
        by_addr: canonical address text → names as written (rooted when they contain a dot).
    """

    by_name: dict[str, tuple[list[str], str]] = field(default_factory=dict[str, tuple[list[str], str]])
    by_addr: dict[str, list[str]] = field(default_factory=dict[str, list[str]])


def parse_hosts(text: str) -> HostsTable:
    """Parse hosts-file text (Go's ``readHosts`` loop)."""
    table = HostsTable()
    for raw in text.split("\n"):
        fields = ascii_fields(raw.split("#", 1)[0])
        if len(fields) < 2:
            continue
        addr = _literal(fields[0])
        if addr == "":
            continue
        canonical = ""
        for i, name in enumerate(fields[1:]):
            key = abs_domain_name(name.lower())
            if i == 0:
                canonical = key
            table.by_addr.setdefault(addr, []).append(abs_domain_name(name))
            entry = table.by_name.get(key)
            if entry is None:
                table.by_name[key] = ([addr], canonical)
            else:
                entry[0].append(addr)
    return table


@dataclass(frozen=True)
class Loaded:
    """The outcome of :meth:`HostsFile.load`: the new table, or None to keep the last one."""

    table: HostsTable | None
    stamp: tuple[int, int] | None


class HostsFile:
    """A hosts file, re-read when it changes (Go's ``hosts`` cache: 5 s, then mtime and size).

    Args:
        path: the file; a missing or forbidden file is an empty table, and another failure to
            open it (a directory, a FIFO or a device, which are never read) keeps the last table
            (as Go's ``readHosts`` does).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._table = HostsTable()
        self._expire = -float("inf")
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the parsed file
        self._loaded = False
        self.size = 0
        """The file's size at the last :meth:`cached` that returned None (0 if unknown)."""

    def cached(self, now: float) -> HostsTable | None:
        """The current table if it needs no read now, else None (then :meth:`load` and
        :meth:`store`); *now* is the caller's clock (seconds, any origin, monotonic)."""
        if self._loaded and now < self._expire and self._table.by_name:
            return self._table
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if self._loaded and stamp is not None and stamp == self._stamp:
            self._expire = now + CACHE_MAX_AGE
            return self._table
        self.size = 0 if stamp is None else stamp[1]
        return None

    def load(self) -> Loaded:
        """Read and parse the file. Touches no state of this object, so it may run in another
        thread."""
        try:
            data, st = read_file(self.path)
        except (FileNotFoundError, PermissionError):
            return Loaded(HostsTable(), None)  # Go's readHosts: a missing or forbidden file is empty
        except OSError:
            # Any other failure to open leaves the table as it was; the next lookup tries again.
            return Loaded(None, None)
        return Loaded(parse_hosts(data.decode("utf-8", errors="replace")), (st.st_mtime_ns, st.st_size))

    def store(self, now: float, loaded: Loaded) -> HostsTable:
        """Keep what :meth:`load` read (a failed read keeps the last table); the current table."""
        if loaded.table is None:
            return self._table
        self._table = loaded.table
        self._stamp = loaded.stamp
        self._expire = now + CACHE_MAX_AGE
        self._loaded = True
        return self._table

    def table(self, now: float) -> HostsTable:
        """The current table, reading the file in this thread if needed."""
        table = self.cached(now)
        return self.store(now, self.load()) if table is None else table

    def lookup_host(self, host: str, now: float) -> tuple[list[str], str]:
        """:func:`lookup_static_host` in the current table."""
        return lookup_static_host(self.table(now), host)

    def lookup_addr(self, addr: str, now: float) -> list[str]:
        """:func:`lookup_static_addr` in the current table."""
        return lookup_static_addr(self.table(now), addr)


def lookup_static_host(table: HostsTable, host: str) -> tuple[list[str], str]:
    """Go's ``lookupStaticHost``: (addresses in file order, canonical name), or ``([], "")``."""
    entry = table.by_name.get(abs_domain_name(host.lower()))
    if entry is None:
        return [], ""
    return list(entry[0]), entry[1]


def lookup_static_addr(table: HostsTable, addr: str) -> list[str]:
    """Go's ``lookupStaticAddr``: the names for the IP literal *addr*, or ``[]``."""
    key = _literal(addr)
    if key == "":
        return []
    return list(table.by_addr.get(key, []))
