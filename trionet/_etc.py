"""The system's small tables, read once per process: ``/etc/services`` and ``/etc/protocols``.

Go reads the same files (``port_unix.go``'s ``readServices``, ``lookup_unix.go``'s
``readProtocols``) and falls back to built-in tables, kept here too. Pure: no trio, no sockets;
the only I/O is reading the file, once per path (a missing or unreadable file is empty).
"""

from __future__ import annotations

import functools
from typing import Final

__all__ = ["protocols", "services"]


def _fields(path: str) -> list[list[str]]:
    """The whitespace-separated fields of each line of *path*, comments (``#``) removed; lines
    with fewer than two fields are left out."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return []
    return [fields for line in lines if len(fields := line.split("#", 1)[0].split()) >= 2]


# Go's built-in services table (lookup.go), used when the services file lacks an entry.
_BUILTIN_SERVICES: Final[dict[str, dict[str, int]]] = {
    "tcp": {
        "ftp": 21,
        "ftps": 990,
        "gopher": 70,
        "http": 80,
        "https": 443,
        "imap2": 143,
        "imap3": 220,
        "imaps": 993,
        "pop3": 110,
        "pop3s": 995,
        "smtp": 25,
        "submissions": 465,
        "ssh": 22,
        "telnet": 23,
    },
    "udp": {"domain": 53},
}

# Go's built-in protocols table (lookup.go), used when the protocols file lacks an entry.
_BUILTIN_PROTOCOLS: Final[dict[str, int]] = {
    "icmp": 1,
    "igmp": 2,
    "tcp": 6,
    "udp": 17,
    "ipv6-icmp": 58,
}


@functools.cache
def services(path: str) -> dict[str, dict[str, int]]:
    """``{"tcp": {"http": 80, ...}, "udp": {...}}``: Go's built-in table overlaid with *path*
    (names and aliases lower-cased, as lookups are case-insensitive)."""
    table: dict[str, dict[str, int]] = {k: dict(v) for k, v in _BUILTIN_SERVICES.items()}
    for fields in _fields(path):
        portnet = fields[1].split("/", 1)
        if len(portnet) != 2 or not portnet[0].isdigit():
            continue
        by_name = table.setdefault(portnet[1], {})
        for name in (fields[0], *fields[2:]):
            by_name[name.lower()] = int(portnet[0])
    return table


@functools.cache
def protocols(path: str) -> dict[str, int]:
    """``{"icmp": 1, ...}``: *path* (names and aliases lower-cased; the first entry for a name
    wins), then Go's built-in table for the names the file lacks (Go's ``lookupProtocol``)."""
    table: dict[str, int] = {}
    for fields in _fields(path):
        if not fields[1].isdigit():
            continue
        number = int(fields[1])
        for alias in (fields[0], *fields[2:]):
            table.setdefault(alias.lower(), number)
    for name, number in _BUILTIN_PROTOCOLS.items():
        table.setdefault(name, number)
    return table
