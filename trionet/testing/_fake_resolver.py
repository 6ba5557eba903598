"""The fake network's names: :class:`FakeResolver`, and the hostname resolver Trio gets while a
:class:`~trionet.testing.FakeNet` is installed. Nothing here sends a packet.

Per-family answer delays (``ipv4_delay``/``ipv6_delay``) exist for the RFC 8305 strategy, which
asks A and AAAA separately: a test can make AAAA late and check the resolution delay. A lookup of
both families (``network="ip"``) answers when the slower of the two would have.
"""

from __future__ import annotations

import os
import socket as _stdlib_socket
from collections.abc import Iterable
from typing import Literal, TypeAlias, final

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.IN.HTTPS
import trio

# Public names through the package door (the resolver's modules are private to it).
from .. import MX, NS, SRV, DNSError, IPAddr, Resolver
from .._address import lookup_port_static, parse_ip
from ._exact import sleep_exact

__all__ = ["GAIEntry", "FakeResolver", "HostnameResolver", "check_delay", "not_faked"]


#: One ``getaddrinfo`` entry, as :class:`trio.abc.HostnameResolver` types it.
GAIEntry: TypeAlias = (
    tuple[Literal[_stdlib_socket.AddressFamily.AF_INET], _stdlib_socket.SocketKind, int, str, tuple[str, int]]
    | tuple[
        Literal[_stdlib_socket.AddressFamily.AF_INET6],
        _stdlib_socket.SocketKind,
        int,
        str,
        tuple[str, int, int, int] | tuple[int, bytes],
    ]
)


def check_delay(delay: float) -> float:
    """*delay* if it is a valid script delay (>= 0, ``math.inf`` allowed), else ValueError."""
    if not delay >= 0:
        raise ValueError(f"delay must be >= 0 seconds, not {delay!r}")
    return delay


def not_faked(what: str, name: str) -> DNSError:
    """The loud failure of a lookup the fake network does not answer: no query is ever sent."""
    return DNSError(f"{what} lookups are not faked by trionet.testing (no query was sent)", name)


def _name_key(name: str) -> str:
    return name.lower().rstrip(".")


class _Host:
    __slots__ = ("addrs", "ipv4_delay", "ipv6_delay")

    def __init__(self, addrs: list[IPAddr], ipv4_delay: float, ipv6_delay: float) -> None:
        self.addrs = addrs
        self.ipv4_delay = ipv4_delay
        self.ipv6_delay = ipv6_delay

    def delay(self, network: str) -> float:
        if network == "ip4":
            return self.ipv4_delay
        if network == "ip6":
            return self.ipv6_delay
        return max(self.ipv4_delay, self.ipv6_delay)  # both queries asked: the slower one ends it


@final
class FakeResolver(Resolver):
    """Answers host lookups from :meth:`FakeNet.add_host`; never sends a query.

    It is a :class:`trionet.Resolver` so that ``Dialer(resolver=...)`` type-checks. The lookups
    a dial uses are faked (:meth:`lookup_ip_addr`, :meth:`lookup_host`,
    :meth:`~trionet.Resolver.lookup_ip`, :meth:`lookup_port`), and :meth:`lookup_cname` answers
    a known name with itself; unknown names fail with Go's ``lookup NAME: no such host``. SRV,
    MX, NS, TXT and PTR lookups fail at once with a :class:`~trionet.DNSError` saying they are
    not faked.

    Attributes:
        lookups: every lookup as ``(host, network)`` (``"HTTPS"`` for HTTPS records), in order.
    """

    def __init__(self) -> None:
        # A private, empty configuration: even an unfaked method cannot reach a real server.
        super().__init__(
            prefer_python=True, nameservers=["127.0.0.1:1"], resolv_conf=os.devnull, hosts_file=os.devnull
        )
        self._hosts: dict[str, _Host] = {}
        self._https: dict[str, tuple[list[dns.rdtypes.IN.HTTPS.HTTPS], float]] = {}
        self.lookups: list[tuple[str, str]] = []

    def add(
        self,
        name: str,
        addrs: Iterable[str],
        delay: float = 0.0,
        *,
        ipv4_delay: float | None = None,
        ipv6_delay: float | None = None,
    ) -> None:
        """Map *name* to *addrs*; see :meth:`FakeNet.add_host` for the delays."""
        ips: list[IPAddr] = []
        for a in addrs:
            parsed = parse_ip(a)
            if parsed is None:
                raise ValueError(f"addresses must be IP literals, not {a!r}")
            ips.append(IPAddr(parsed[0], parsed[1]))
        check_delay(delay)
        v4 = check_delay(delay if ipv4_delay is None else ipv4_delay)
        v6 = check_delay(delay if ipv6_delay is None else ipv6_delay)
        self._hosts[_name_key(name)] = _Host(ips, v4, v6)

    def add_https(
        self,
        name: str,
        *,
        priority: int,
        target: str,
        alpn: Iterable[str],
        port: int | None,
        ipv4hint: Iterable[str],
        ipv6hint: Iterable[str],
        delay: float,
    ) -> None:
        """Add one HTTPS record to *name*; see :meth:`FakeNet.add_https`."""
        params: list[str] = []
        alpns = list(alpn)
        if alpns:
            params.append('alpn="' + ",".join(alpns) + '"')
        if port is not None:
            params.append(f"port={port}")
        for key, hints in (("ipv4hint", list(ipv4hint)), ("ipv6hint", list(ipv6hint))):
            if hints:
                params.append(f"{key}={','.join(hints)}")
        text = " ".join([str(priority), target, *params])
        try:
            record = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.HTTPS, text)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ValueError(f"not a valid HTTPS record: {text!r} ({exc})") from None
        assert isinstance(record, dns.rdtypes.IN.HTTPS.HTTPS)
        records, _ = self._https.get(_name_key(name), ([], 0.0))
        self._https[_name_key(name)] = ([*records, record], check_delay(delay))

    async def _lookup_https(self, name: str) -> list[dns.rdtypes.IN.HTTPS.HTTPS]:
        """The HTTPS records added for *name* (none: an empty list, as for NODATA)."""
        self.lookups.append((name, "HTTPS"))
        records, delay = self._https.get(_name_key(name), ([], 0.0))
        await sleep_exact(delay)
        return list(records)

    def _sort_addrs(self, host: str, addrs: list[IPAddr]) -> list[IPAddr]:
        """The fake's RFC 6724 order: the order :meth:`add` was given for *host* (addresses it
        does not list keep their order, after those it does)."""
        entry = self._hosts.get(_name_key(host))
        listed = [] if entry is None else entry.addrs
        rank: dict[IPAddr, int] = {}
        for i, a in enumerate(listed):
            rank.setdefault(a, i)  # a repeated address ranks where it first appears
        return sorted(addrs, key=lambda a: rank.get(a, len(listed)))

    def _known(self, name: str) -> bool:
        return _name_key(name) in self._hosts

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The addresses mapped to *host*, after the delay of the families asked;
        ``"ip4"``/``"ip6"`` keep one family (no address of it: ``no such host``)."""
        self.lookups.append((host, network))
        literal = parse_ip(host)
        if literal is not None:
            await trio.lowlevel.checkpoint()
            return [IPAddr(literal[0], literal[1])]
        entry = self._hosts.get(_name_key(host))
        if entry is None:
            await trio.lowlevel.checkpoint()
            raise DNSError("no such host", host, is_not_found=True)
        await sleep_exact(entry.delay(network))
        ips = entry.addrs
        if network in ("ip4", "ip6"):
            ips = [a for a in ips if (a.ip is not None and a.ip.version == 4) == (network == "ip4")]
        if not ips:
            raise DNSError("no such host", host, is_not_found=True)
        return list(ips)

    async def lookup_host(self, host: str) -> list[str]:
        """The addresses of *host* as text."""
        return [str(a) for a in await self.lookup_ip_addr(host)]

    async def lookup_port(self, network: str, service: str) -> int:
        """The port of *service* from ``/etc/services`` and Go's built-in table."""
        await trio.lowlevel.checkpoint()
        return lookup_port_static(network, service)

    async def lookup_cname(self, host: str) -> str:
        """*host* itself, rooted, for a known name (the fake has no CNAMEs); else no such host."""
        await trio.lowlevel.checkpoint()
        if not self._known(host):
            raise DNSError("no such host", host, is_not_found=True)
        return host if host.endswith(".") else host + "."

    async def lookup_srv(self, service: str, proto: str, name: str) -> tuple[str, list[SRV]]:
        """Not faked: raises :class:`~trionet.DNSError` at once."""
        await trio.lowlevel.checkpoint()
        raise not_faked("SRV", name)

    async def lookup_mx(self, name: str) -> list[MX]:
        """Not faked: raises :class:`~trionet.DNSError` at once."""
        await trio.lowlevel.checkpoint()
        raise not_faked("MX", name)

    async def lookup_ns(self, name: str) -> list[NS]:
        """Not faked: raises :class:`~trionet.DNSError` at once."""
        await trio.lowlevel.checkpoint()
        raise not_faked("NS", name)

    async def lookup_txt(self, name: str) -> list[str]:
        """Not faked: raises :class:`~trionet.DNSError` at once."""
        await trio.lowlevel.checkpoint()
        raise not_faked("TXT", name)

    async def lookup_addr(self, addr: str) -> list[str]:
        """Not faked: raises :class:`~trionet.DNSError` at once."""
        await trio.lowlevel.checkpoint()
        raise not_faked("PTR", addr)

    # -- trio.socket.getaddrinfo while installed ------------------------------------------------
    def _getaddrinfo_answer(
        self, host: str, port: int, family: int, socktype: int, proto: int
    ) -> list[GAIEntry]:
        """What ``getaddrinfo(host, port, ...)`` returns for a fake name, at once (the delays
        are for the trionet lookups); an unknown name raises ``gaierror(EAI_NONAME)``."""
        entry = self._hosts.get(_name_key(host))
        kinds = (
            [_stdlib_socket.SocketKind(socktype)]
            if socktype
            else [_stdlib_socket.SOCK_STREAM, _stdlib_socket.SOCK_DGRAM]
        )
        out: list[GAIEntry] = []
        for a in [] if entry is None else entry.addrs:
            if a.ip is not None and a.ip.version == 4:
                if family in (0, _stdlib_socket.AF_INET):
                    out.extend((_stdlib_socket.AF_INET, k, proto, "", (str(a.ip), port)) for k in kinds)
            elif family in (0, _stdlib_socket.AF_INET6):
                out.extend((_stdlib_socket.AF_INET6, k, proto, "", (str(a.ip), port, 0, 0)) for k in kinds)
        if not out:
            raise _stdlib_socket.gaierror(_stdlib_socket.EAI_NONAME, "Name or service not known")
        return out


@final
class HostnameResolver(trio.abc.HostnameResolver):
    """Trio's hostname resolver while a FakeNet is installed: answers from the fake's names.

    Trio answers numeric hosts itself and only asks this for names, so no name lookup made
    through ``trio.socket.getaddrinfo`` (``trio.open_tcp_stream``, the libc path) leaves the
    process.
    """

    def __init__(self, resolver: FakeResolver) -> None:
        self._resolver = resolver

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,  # noqa: A002 - trio's name
        proto: int = 0,
        flags: int = 0,
    ) -> list[GAIEntry]:
        await trio.lowlevel.checkpoint()
        name = "" if host is None else host.decode("ascii", "replace")
        if isinstance(port, bytes):
            port = port.decode("ascii", "replace")
        try:
            number = port if isinstance(port, int) else lookup_port_static("tcp", port or "0")
        except OSError:
            raise _stdlib_socket.gaierror(_stdlib_socket.EAI_SERVICE, "Servname not supported") from None
        return self._resolver._getaddrinfo_answer(name, number, family, type, proto)  # pyright: ignore[reportPrivateUsage]

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int
    ) -> tuple[str, str]:
        await trio.lowlevel.checkpoint()
        raise _stdlib_socket.gaierror(
            _stdlib_socket.EAI_NONAME, "getnameinfo is not faked by trionet.testing"
        )
