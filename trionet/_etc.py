"""The system's small tables, read once per process: ``/etc/services`` and ``/etc/protocols``;
and how every system file trionet reads is opened.

Go reads the same files (``port_unix.go``'s ``readServices``, ``lookup_unix.go``'s
``readProtocols``) and falls back to built-in tables, kept here too. Pure: no trio, no sockets;
the only I/O is reading the file, once per path (a missing or unreadable file is empty).
:func:`read_file` is also how the resolver reads resolv.conf, nsswitch.conf and the hosts file.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from typing import Final

__all__ = ["BIG", "ascii_fields", "dtoi", "protocols", "read_file", "services"]


def read_file(path: str) -> tuple[bytes, os.stat_result]:
    """The contents of the regular file *path* and its ``fstat``.

    Opened with ``O_NONBLOCK``: a FIFO without a writer would block ``open()`` forever, in the
    event loop's thread, and a FIFO or a device (``/dev/zero``) can block or never end a read;
    anything but a regular file is refused before it is read.

    Raises:
        OSError: the file cannot be opened (``FileNotFoundError``, ``PermissionError``, ...), or
            is not a regular file (``EINVAL``).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), st


_TO_SPACE: Final = str.maketrans("\t\r\n", "   ")


def ascii_fields(line: str) -> list[str]:
    """*line* split on ASCII space, tab, CR and LF only, as Go's ``getFields`` does
    (``splitAtBytes(s, " \\r\\t\\n")``): NBSP, U+2028 or a form feed are part of a field, where
    :meth:`str.split` would split on them."""
    return [f for f in line.translate(_TO_SPACE).split(" ") if f]


def _fields(path: str) -> list[list[str]]:
    """The whitespace-separated fields of each line of *path*, comments (``#``) removed; lines
    with fewer than two fields are left out."""
    try:
        data, _ = read_file(path)
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").split("\n")
    return [fields for line in lines if len(fields := ascii_fields(line.split("#", 1)[0])) >= 2]


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


BIG: Final = 0xFFFFFF
"""Where Go's ``dtoi`` stops counting (``big``): a larger number is not a number."""


def dtoi(s: str) -> tuple[int, int, bool]:
    """Go's ``dtoi``: the value of the leading ASCII digits of *s*, how many there were, and
    whether they made a number below :data:`BIG` (``(BIG, i, False)`` past it, ``(0, 0, False)``
    without digits). Only ``0``-``9`` count: ``"²"`` is no digit, as in Go."""
    n = 0
    i = 0
    for c in s:
        if not "0" <= c <= "9":
            break
        n = n * 10 + ord(c) - 48
        if n >= BIG:
            return BIG, i, False
        i += 1
    if i == 0:
        return 0, 0, False
    return n, i, True


@functools.cache
def services(path: str) -> dict[str, dict[str, int]]:
    """``{"tcp": {"http": 80, ...}, "udp": {...}}``: Go's built-in table overlaid with *path*
    (names and aliases lower-cased, as lookups are case-insensitive). A line whose second field
    is not ``PORT/NETWORK`` with ASCII digits and a port above 0 is skipped (Go's
    ``readServices``)."""
    table: dict[str, dict[str, int]] = {k: dict(v) for k, v in _BUILTIN_SERVICES.items()}
    for fields in _fields(path):
        portnet = fields[1]
        port, j, ok = dtoi(portnet)
        if not ok or port <= 0 or j >= len(portnet) or portnet[j] != "/":
            continue
        by_name = table.setdefault(portnet[j + 1 :], {})
        for name in (fields[0], *fields[2:]):
            by_name[name.lower()] = port
    return table


@functools.cache
def protocols(path: str) -> dict[str, int]:
    """``{"icmp": 1, ...}``: *path* (names and aliases lower-cased; the first entry for a name
    wins), then Go's built-in table for the names the file lacks (Go's ``lookupProtocol``). The
    number is the second field's leading ASCII digits (Go's ``readProtocols``)."""
    table: dict[str, int] = {}
    for fields in _fields(path):
        number, _, ok = dtoi(fields[1])
        if not ok:
            continue
        for alias in (fields[0], *fields[2:]):
            table.setdefault(alias.lower(), number)
    for name, number in _BUILTIN_PROTOCOLS.items():
        table.setdefault(name, number)
    return table
