"""The resolver: Go's ``net.Resolver`` on Trio (``lookup.go``, ``dnsclient_unix.go``, ``conf.go``).

The pure path reads the hosts file first, then asks DNS through :mod:`trionet._dnsclient`
(A and AAAA concurrently in one nursery), and orders results by RFC 6724. The system path is
``getaddrinfo`` in a worker thread. Timekeeping is Trio's: the per-query timeout is a cancel
scope, and an enclosing scope's cancellation propagates as a bare :class:`trio.Cancelled`.
"""

from __future__ import annotations

import ipaddress
import os
import random
import socket as _stdlib_socket
from dataclasses import dataclass
from typing import Any, Final

import dns.message
import dns.rdatatype
import dns.reversename
import dns.rrset
import trio

from ._address import IP, Addr, IPAddr, TCPAddr, UDPAddr, UnixAddr, lookup_port_static, parse_ip, sockaddr_for
from ._addrlist import resolve_addr_list
from ._addrselect import sort_by_rfc6724
from ._dnsclient import Server, do_shared, parse_server, try_one_name
from ._dnsconfig import (
    DNSConfig,
    NSSwitch,
    Order,
    ResolvConf,
    env_prefers_libc,
    host_lookup_order,
    is_domain_name,
)
from ._errors import ERR_NO_SUCH_HOST, ERR_NO_SUITABLE_ADDRESS, AddrError, DNSError, UnknownNetworkError
from ._hosts import HostsFile
from ._network import parse_network

__all__ = ["MX", "NS", "SRV", "Resolver", "default_resolver"]

_MALFORMED: Final = "DNS response contained records which contain invalid names"
_SYSTEM_FILES: Final = ("/etc/hosts", "/etc/resolv.conf")
_SYSTEM_NSSWITCH: Final = "/etc/nsswitch.conf"


@dataclass(frozen=True)
class SRV:
    """One SRV record (Go's ``net.SRV``)."""

    target: str
    port: int
    priority: int
    weight: int


@dataclass(frozen=True)
class MX:
    """One MX record (Go's ``net.MX``): *pref* is the preference, lower first."""

    host: str
    pref: int


@dataclass(frozen=True)
class NS:
    """One NS record (Go's ``net.NS``)."""

    host: str


def _renamed(err: DNSError, name: str) -> DNSError:
    """Go sets ``err.Name = name``: report the name asked, not the search-list FQDN tried."""
    return DNSError(err.err, name, err.server, err.is_timeout, err.is_temporary, err.is_not_found)


def _source_of(addr: IPAddr) -> IP | None:
    """The source address the kernel would pick for *addr* (Go's ``srcAddrs``): a UDP socket is
    "connected" to port 53, which sends nothing; None when there is no route."""
    ip = addr.ip
    if ip is None:
        return None
    family = _stdlib_socket.AF_INET6 if ip.version == 6 else _stdlib_socket.AF_INET
    try:
        with _stdlib_socket.socket(family, _stdlib_socket.SOCK_DGRAM) as s:
            s.connect(sockaddr_for(family, ip, 53, addr.zone))
            parsed = parse_ip(str(s.getsockname()[0]).partition("%")[0])
    except OSError:
        return None
    return None if parsed is None else parsed[0]


def sort_addrs(addrs: list[IPAddr]) -> list[IPAddr]:
    """Go's ``sortByRFC6724``: sources from the kernel, then the pure sort."""
    if len(addrs) < 2:
        return addrs
    return sort_by_rfc6724(addrs, [_source_of(a) for a in addrs])


class Resolver:
    """Looks up names, ports and addresses (Go's ``net.Resolver``).

    Like Go's fields, the attributes may be changed after construction (for example
    ``trionet.default_resolver.prefer_python = True``); a change applies to lookups that start
    afterwards. It is safe to share a resolver between tasks.

    Args:
        prefer_python: None decides like Go's ``conf.go`` (the pure resolver unless the system
            configuration needs libc, see :doc:`resolver`); True: the pure async resolver
            always (Go's ``PreferGo``); False: ``getaddrinfo``/``getnameinfo`` in a worker
            thread for host and address lookups (SRV, MX, NS and TXT always use the pure path,
            as in Go).
        strict_errors: a temporary error (timeout, SERVFAIL) in one of the A/AAAA queries fails
            the whole lookup instead of returning the other query's results (Go's StrictErrors).
        nameservers: ``["127.0.0.1:5353", "::1", ...]`` (port 53 when omitted); None: the
            ``nameserver`` lines of *resolv_conf* (Go's defaults 127.0.0.1:53 and [::1]:53 if
            none). The other resolv.conf settings still come from *resolv_conf*.
        resolv_conf: path of the resolver configuration; read on first use, not before.
        hosts_file: path of the hosts file, consulted before DNS.

    Raises:
        ValueError: a nameserver that is not ``IP`` or ``IP:port``.
    """

    def __init__(
        self,
        *,
        prefer_python: bool | None = None,
        strict_errors: bool = False,
        nameservers: list[str] | None = None,
        resolv_conf: str = "/etc/resolv.conf",
        hosts_file: str = "/etc/hosts",
    ) -> None:
        self.prefer_python = prefer_python
        self.strict_errors = strict_errors
        self.nameservers = nameservers
        self.resolv_conf = resolv_conf
        self.hosts_file = hosts_file
        self._nss = NSSwitch(_SYSTEM_NSSWITCH)
        self._offset = 0

    @property
    def nameservers(self) -> list[str] | None:
        """Read-write: the servers asked instead of resolv.conf's (None: resolv.conf's); a copy,
        so assign a new list to change them."""
        return None if self._nameservers is None else list(self._nameservers)

    @nameservers.setter
    def nameservers(self, value: list[str] | None) -> None:
        servers = None if value is None else [parse_server(s) for s in value]
        self._nameservers = None if value is None else list(value)
        self._servers = servers

    @property
    def resolv_conf(self) -> str:
        """Read-write: the resolv.conf path; setting it forgets the parsed file."""
        return self._resolv_conf

    @resolv_conf.setter
    def resolv_conf(self, path: str) -> None:
        self._resolv_conf = path
        self._resolv = ResolvConf(path)

    @property
    def hosts_file(self) -> str:
        """Read-write: the hosts file path; setting it forgets the parsed file."""
        return self._hosts_file

    @hosts_file.setter
    def hosts_file(self, path: str) -> None:
        self._hosts_file = path
        self._hosts_cache = HostsFile(path)

    def __repr__(self) -> str:
        return (
            f"Resolver(prefer_python={self.prefer_python!r}, strict_errors={self.strict_errors!r}, "
            f"nameservers={self.nameservers!r}, resolv_conf={self.resolv_conf!r}, "
            f"hosts_file={self.hosts_file!r})"
        )

    # -- configuration -----------------------------------------------------------------------
    def _config(self) -> DNSConfig:
        return self._resolv.get(trio.current_time())

    def _order(self, name: str) -> Order:
        """Go's ``hostLookupOrder`` (*name* ``""``: ``addrLookupOrder``); see docs/resolver.rst."""
        if self.prefer_python is False:
            return "system"
        if (self.hosts_file, self.resolv_conf) != _SYSTEM_FILES or self._servers is not None:
            return "files,dns"  # private files or servers: libc could not honour them
        now = trio.current_time()
        return host_lookup_order(
            name,
            self._resolv.get(now),
            self._nss.get(now),
            prefer_go=bool(self.prefer_python),
            prefer_libc=env_prefers_libc(os.environ),
        )

    def _static_host(self, name: str) -> tuple[list[str], str]:
        return self._hosts_cache.lookup_host(name, trio.current_time())

    async def _query(self, name: str, qtype: dns.rdatatype.RdataType) -> tuple[dns.message.Message, str]:
        """Go's ``Resolver.lookup``: the name list, first success wins."""
        if not is_domain_name(name):
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        conf = self._config()
        last: DNSError | None = None
        for fqdn in conf.name_list(name):
            try:
                return await self._try_one_name(conf, fqdn, qtype)
            except DNSError as exc:  # noqa: PERF203 - one try per search-list name
                last = exc
                if exc.temporary and self.strict_errors:
                    break
        if last is None:
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        raise _renamed(last, name)

    async def _try_one_name(
        self, conf: DNSConfig, fqdn: str, qtype: dns.rdatatype.RdataType
    ) -> tuple[dns.message.Message, str]:
        servers: list[Server] = self._servers or [parse_server(s) for s in conf.servers]
        offset = 0
        if conf.rotate:
            offset, self._offset = self._offset, self._offset + 1
        return await try_one_name(
            servers, offset, conf.attempts, conf.timeout, conf.use_tcp, conf.trust_ad, fqdn, qtype
        )

    # -- addresses ---------------------------------------------------------------------------
    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The IP addresses of *host*, RFC 6724 ordered; *network* ``"ip4"``/``"ip6"`` asks
        for one family (A or AAAA only), ``"ip"`` for both, queried concurrently.

        An IP literal is returned as is. Concurrent identical lookups share one query.

        Raises:
            DNSError: ``lookup HOST on SERVER: no such host`` and the like.
        """
        if host == "":
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        literal = parse_ip(host)
        if literal is not None:
            return [IPAddr(literal[0], literal[1])]
        addrs = await do_shared((id(self), network, host), lambda: self._lookup_ip(network, host))
        return list(addrs)

    async def _lookup_ip(self, network: str, host: str) -> list[IPAddr]:
        order = self._order(host)
        if order == "system":
            return await _getaddrinfo(host, network)
        addrs, _ = await self._lookup_ip_cname(network, host, order)
        return addrs

    async def _lookup_ip_cname(self, network: str, name: str, order: Order) -> tuple[list[IPAddr], str]:
        """Go's ``goLookupIPCNAMEOrder``: (addresses, canonical name)."""
        if order in ("files,dns", "files"):
            addrs, canonical = self._files_addrs(name)
            if addrs:
                return addrs, canonical
            if order == "files":
                raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        if not is_domain_name(name):
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        conf = self._config()
        qtypes = [dns.rdatatype.A, dns.rdatatype.AAAA]
        if network[-1:] == "4":
            qtypes = [dns.rdatatype.A]
        elif network[-1:] == "6":
            qtypes = [dns.rdatatype.AAAA]
        elif network == "CNAME":
            qtypes.append(dns.rdatatype.CNAME)
        addrs = list[IPAddr]()
        cname = ""
        last: DNSError | None = None
        for fqdn in conf.name_list(name):
            results = await self._ask_all(conf, fqdn, qtypes)
            strict_hit = False
            for result in results:
                if isinstance(result, DNSError):
                    if result.temporary and self.strict_errors:
                        strict_hit, last = True, result
                    elif last is None or fqdn == name + ".":
                        last = result
                    continue
                for rrset in result.answer:
                    if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                        addrs.extend(IPAddr(str(rd.address)) for rd in _each(rrset))
                        cname = cname or rrset.name.to_text()
                    elif rrset.rdtype == dns.rdatatype.CNAME and not cname:
                        cname = str(_each(rrset)[0].target.to_text())
            if strict_hit:
                addrs = []
                break
            if addrs or (network == "CNAME" and cname):
                break
        addrs = sort_addrs(addrs)
        if not addrs and not (network == "CNAME" and cname):
            if order == "dns,files":
                found, canonical = self._files_addrs(name)
                if found:
                    return found, canonical
            if last is not None:
                raise _renamed(last, name)
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        return addrs, cname

    async def _ask_all(
        self, conf: DNSConfig, fqdn: str, qtypes: list[dns.rdatatype.RdataType]
    ) -> list[dns.message.Message | DNSError]:
        """Each query type for *fqdn*: concurrently in a nursery, or in turn with single-request."""
        results: list[dns.message.Message | DNSError] = [DNSError("unreachable", fqdn)] * len(qtypes)

        async def ask(i: int) -> None:
            try:
                results[i] = (await self._try_one_name(conf, fqdn, qtypes[i]))[0]
            except DNSError as exc:
                results[i] = exc

        if conf.single_request or len(qtypes) == 1:
            for i in range(len(qtypes)):
                await ask(i)
        else:
            async with trio.open_nursery() as nursery:
                for i in range(len(qtypes)):
                    nursery.start_soon(ask, i)
        return results

    def _files_addrs(self, name: str) -> tuple[list[IPAddr], str]:
        """Go's ``goLookupIPFiles``: hosts-file addresses, RFC 6724 ordered, and the canonical name."""
        texts, canonical = self._static_host(name)
        addrs: list[IPAddr] = []
        for text in texts:
            parsed = parse_ip(text)
            if parsed is not None:
                addrs.append(IPAddr(parsed[0], parsed[1]))
        return sort_addrs(addrs), canonical

    async def lookup_host(self, host: str) -> list[str]:
        """The addresses of *host* as text (Go's ``LookupHost``); hosts-file order for hosts-file
        names, RFC 6724 order otherwise.

        Raises:
            DNSError: as :meth:`lookup_ip_addr`.
        """
        if host == "":
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        if parse_ip(host) is not None:
            await trio.lowlevel.checkpoint()
            return [host]
        if self._order(host) in ("files,dns", "files"):
            texts, _ = self._static_host(host)
            if texts:
                await trio.lowlevel.checkpoint()
                return texts
        return [str(a) for a in await self.lookup_ip_addr(host)]

    async def lookup_ip(self, network: str, host: str) -> list[IP]:
        """The IPs of *host* for *network* ``"ip"``, ``"ip4"`` or ``"ip6"`` (Go's ``LookupIP``).

        Raises:
            UnknownNetworkError: another network.
            DNSError: as :meth:`lookup_ip_addr`.
            AddrError: ``no suitable address found`` when none is of the family asked.
        """
        if network not in ("ip", "ip4", "ip6"):
            raise UnknownNetworkError(network)
        addrs = await self.lookup_ip_addr(host, network=network)
        want = {"ip": (4, 6), "ip4": (4,), "ip6": (6,)}[network]
        ips = [a.ip for a in addrs if a.ip is not None and a.ip.version in want]
        if not ips:
            raise AddrError(ERR_NO_SUITABLE_ADDRESS, host)
        return ips

    async def lookup_port(self, network: str, service: str) -> int:
        """The port of *service* (a number, or a name from ``/etc/services`` and Go's built-in
        table) on *network* (``tcp*``, ``udp*``, ``ip`` or ``""``). Never leaves the process.

        Raises:
            AddrError: ``invalid port`` (outside 0-65535) or ``unknown network``.
            DNSError: ``lookup tcp/SERVICE: unknown port`` (``is_not_found``).
        """
        await trio.lowlevel.checkpoint()
        return lookup_port_static(network, service)

    # -- records -----------------------------------------------------------------------------
    async def lookup_cname(self, host: str) -> str:
        """The canonical name of *host*, rooted (``"www.example.com."``) (Go's ``LookupCNAME``).

        Raises:
            DNSError: no such host, or a canonical name that is not a valid domain name.
        """
        order = self._order(host)
        if order == "system":
            cname = await _getaddrinfo_cname(host)
        else:
            _, cname = await self._lookup_ip_cname("CNAME", host, order)
            cname = cname if cname.endswith(".") or "." not in cname else cname + "."
        if not is_domain_name(cname):
            raise DNSError(_MALFORMED, host)
        return cname

    async def lookup_srv(self, service: str, proto: str, name: str) -> tuple[str, list[SRV]]:
        """``_service._proto.name`` SRV records, sorted by priority then randomly by weight
        (RFC 2782); empty *service* and *proto* look *name* up as is. Returns (cname, records).

        Raises:
            DNSError: the lookup failed, or some targets were invalid names (the valid records
                are then dropped with the error, unlike Go which returns both).
        """
        target = name if service == "" and proto == "" else f"_{service}._{proto}.{name}"
        msg, _ = await self._query(target, dns.rdatatype.SRV)
        cname, srvs = "", list[SRV]()
        for rrset in msg.answer:
            if rrset.rdtype == dns.rdatatype.SRV:
                cname = cname or rrset.name.to_text()
                srvs.extend(
                    SRV(str(rd.target.to_text()), rd.port, rd.priority, rd.weight) for rd in _each(rrset)
                )
        if not all(is_domain_name(s.target) for s in srvs):
            raise DNSError(_MALFORMED, name)
        return cname, _sort_srv(srvs)

    async def lookup_mx(self, name: str) -> list[MX]:
        """MX records of *name*, by preference (equal preferences in random order).

        Raises:
            DNSError: the lookup failed or a host was not a valid name.
        """
        msg, _ = await self._query(name, dns.rdatatype.MX)
        mxs = [MX(str(rd.exchange.to_text()), int(rd.preference)) for rd in _answers(msg, dns.rdatatype.MX)]  # pyright: ignore
        if not all(is_domain_name(m.host) for m in mxs):
            raise DNSError(_MALFORMED, name)
        random.shuffle(mxs)
        return sorted(mxs, key=lambda m: m.pref)

    async def lookup_ns(self, name: str) -> list[NS]:
        """NS records of *name*.

        Raises:
            DNSError: the lookup failed or a host was not a valid name.
        """
        msg, _ = await self._query(name, dns.rdatatype.NS)
        nss = [NS(str(rd.target.to_text())) for rd in _answers(msg, dns.rdatatype.NS)]
        if not all(is_domain_name(n.host) for n in nss):
            raise DNSError(_MALFORMED, name)
        return nss

    async def lookup_txt(self, name: str) -> list[str]:
        """TXT records of *name*, the strings of each record joined (Go); bytes decoded as UTF-8
        with replacement characters.

        Raises:
            DNSError: the lookup failed.
        """
        msg, _ = await self._query(name, dns.rdatatype.TXT)
        return [b"".join(rd.strings).decode("utf-8", "replace") for rd in _answers(msg, dns.rdatatype.TXT)]

    async def lookup_addr(self, addr: str) -> list[str]:
        """Names for the IP literal *addr*: the hosts file first, then PTR records (rooted names).

        Raises:
            DNSError: ``unrecognized address`` for a non-literal, or the lookup failed.
        """
        parsed = parse_ip(addr)
        if parsed is None:
            raise DNSError("unrecognized address", addr)
        order = self._order("")  # Go's addrLookupOrder asks conf.go with an empty host name
        if order == "system":
            return await _getnameinfo(addr)
        if order in ("files", "files,dns"):
            names = self._hosts_cache.lookup_addr(addr, trio.current_time())
            if names:
                await trio.lowlevel.checkpoint()
                return names
            if order == "files":
                raise DNSError(ERR_NO_SUCH_HOST, addr, is_not_found=True)
        arpa = str(dns.reversename.from_address(str(parsed[0])).to_text())
        try:
            msg, _ = await self._query(arpa, dns.rdatatype.PTR)
        except DNSError as exc:
            if exc.is_not_found and order == "dns,files":
                names = self._hosts_cache.lookup_addr(addr, trio.current_time())
                if names:
                    return names
            raise _renamed(exc, addr) from None
        names = [str(rd.target.to_text()) for rd in _answers(msg, dns.rdatatype.PTR)]
        if not all(is_domain_name(n) for n in names):
            raise DNSError(_MALFORMED, addr)
        return names


def _each(rrset: dns.rrset.RRset) -> list[Any]:
    """The rdatas of *rrset*; dnspython's rdata classes set their fields dynamically (untyped)."""
    return list(rrset)


def _answers(msg: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> list[Any]:
    """Every rdata of type *rdtype* in the answer section."""
    return [rd for rrset in msg.answer if rrset.rdtype == rdtype for rd in _each(rrset)]


def _sort_srv(srvs: list[SRV]) -> list[SRV]:
    """Go's ``byPriorityWeight.sort``: by priority, then weighted random order (RFC 2782)."""
    out: list[SRV] = []
    for prio in sorted({s.priority for s in srvs}):
        group = sorted((s for s in srvs if s.priority == prio), key=lambda s: s.weight)
        total = sum(s.weight for s in group)
        while total > 0 and len(group) > 1:
            n, acc = random.randrange(total), 0
            for i, s in enumerate(group):
                acc += s.weight
                if acc > n:
                    group[0], group[i] = group[i], group[0]
                    break
            total -= group[0].weight
            out.append(group.pop(0))
        out.extend(group)
    return out


def _gai_error(host: str, exc: _stdlib_socket.gaierror) -> DNSError:
    """Go's ``cgoLookup*`` error mapping: EAI_NONAME/EAI_NODATA are ``no such host``
    (``is_not_found``), EAI_AGAIN is temporary; the server is never named."""
    not_found = exc.errno in (_stdlib_socket.EAI_NONAME, getattr(_stdlib_socket, "EAI_NODATA", -5))
    return DNSError(
        ERR_NO_SUCH_HOST if not_found else str(exc.strerror),
        host,
        is_not_found=not_found,
        is_temporary=exc.errno == _stdlib_socket.EAI_AGAIN,
    )


async def _system_getaddrinfo(host: str, family: int, flags: int) -> list[Any]:
    """libc's getaddrinfo in a worker thread (abandoned on cancellation, as Go abandons a cgo
    call), through :func:`trio.socket.getaddrinfo` so trio's hostname-resolver hook applies."""
    try:
        return list(await trio.socket.getaddrinfo(host, None, family, _stdlib_socket.SOCK_STREAM, 0, flags))
    except _stdlib_socket.gaierror as exc:
        raise _gai_error(host, exc) from None
    except ValueError:  # IDNA refuses the name, or it holds a NUL: libc would find nothing
        raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True) from None


async def _getaddrinfo(host: str, network: str) -> list[IPAddr]:
    """The system path for addresses; duplicates (one per socket type) dropped, order kept."""
    family = {"4": _stdlib_socket.AF_INET, "6": _stdlib_socket.AF_INET6}.get(network[-1:], 0)
    seen: list[IPAddr] = []
    for info in await _system_getaddrinfo(host, family, 0):
        parsed = parse_ip(str(info[4][0]))
        if parsed is not None and IPAddr(*parsed) not in seen:
            seen.append(IPAddr(*parsed))
    return seen


async def _getaddrinfo_cname(host: str) -> str:
    infos = await _system_getaddrinfo(host, 0, _stdlib_socket.AI_CANONNAME)
    name = str(infos[0][3]) if infos and infos[0][3] else host
    return name if name.endswith(".") else name + "."


async def _getnameinfo(addr: str) -> list[str]:
    ip = ipaddress.ip_address(addr.partition("%")[0])
    try:
        name, _ = await trio.socket.getnameinfo((str(ip), 0), _stdlib_socket.NI_NAMEREQD)
    except _stdlib_socket.gaierror as exc:
        raise _gai_error(addr, exc) from None
    return [name if name.endswith(".") else name + "."]


default_resolver: Resolver = Resolver()
"""The resolver used by module-level lookups and by dialers without one (Go's ``DefaultResolver``).

Creating it reads nothing: resolv.conf and the hosts file are read on first use."""


# -- module-level functions (Go's package-level Lookup* and Resolve*Addr) -----------------------
async def lookup_host(host: str) -> list[str]:
    """:meth:`Resolver.lookup_host` on :data:`default_resolver`."""
    return await default_resolver.lookup_host(host)


async def lookup_ip_addr(host: str, *, network: str = "ip") -> list[IPAddr]:
    """:meth:`Resolver.lookup_ip_addr` on :data:`default_resolver`."""
    return await default_resolver.lookup_ip_addr(host, network=network)


async def lookup_ip(network: str, host: str) -> list[IP]:
    """:meth:`Resolver.lookup_ip` on :data:`default_resolver`."""
    return await default_resolver.lookup_ip(network, host)


async def lookup_port(network: str, service: str) -> int:
    """:meth:`Resolver.lookup_port` on :data:`default_resolver`."""
    return await default_resolver.lookup_port(network, service)


async def lookup_cname(host: str) -> str:
    """:meth:`Resolver.lookup_cname` on :data:`default_resolver`."""
    return await default_resolver.lookup_cname(host)


async def lookup_srv(service: str, proto: str, name: str) -> tuple[str, list[SRV]]:
    """:meth:`Resolver.lookup_srv` on :data:`default_resolver`."""
    return await default_resolver.lookup_srv(service, proto, name)


async def lookup_mx(name: str) -> list[MX]:
    """:meth:`Resolver.lookup_mx` on :data:`default_resolver`."""
    return await default_resolver.lookup_mx(name)


async def lookup_ns(name: str) -> list[NS]:
    """:meth:`Resolver.lookup_ns` on :data:`default_resolver`."""
    return await default_resolver.lookup_ns(name)


async def lookup_txt(name: str) -> list[str]:
    """:meth:`Resolver.lookup_txt` on :data:`default_resolver`."""
    return await default_resolver.lookup_txt(name)


async def lookup_addr(addr: str) -> list[str]:
    """:meth:`Resolver.lookup_addr` on :data:`default_resolver`."""
    return await default_resolver.lookup_addr(addr)


async def _resolve(kind: str, network: str, address: str, resolver: Resolver | None) -> Addr:
    """Go's ``Resolve{TCP,UDP,IP}Addr``: the address list, then ``addrList.forResolve``."""
    network = network or kind
    if network not in (kind, kind + "4", kind + "6"):
        raise UnknownNetworkError(network)
    net = parse_network(network, needs_proto=False)
    addrs = await resolve_addr_list(resolver or default_resolver, "resolve", net, address, None)
    # Go's forResolve: IPv4 preferred unless the address is an IPv6 literal.
    want6 = (":" in address) if network == "ip" else (network in ("tcp", "udp") and "[" in address)
    for a in addrs:
        if (not isinstance(getattr(a, "ip", None), ipaddress.IPv4Address)) == want6:
            return a
    return addrs[0]


async def resolve_tcp_addr(network: str, address: str, *, resolver: Resolver | None = None) -> TCPAddr:
    """A :class:`TCPAddr` for ``"host:port"`` on ``tcp``/``tcp4``/``tcp6`` (``""`` means ``tcp``)
    (Go's ``ResolveTCPAddr``): IPv4 preferred unless *address* is an IPv6 literal.

    Args:
        resolver: None uses :data:`default_resolver`.

    Raises:
        UnknownNetworkError: not a TCP network.
        AddrError: a malformed address or port.
        DNSError: the name could not be resolved.
    """
    addr = await _resolve("tcp", network, address, resolver)
    assert isinstance(addr, TCPAddr)
    return addr


async def resolve_udp_addr(network: str, address: str, *, resolver: Resolver | None = None) -> UDPAddr:
    """A :class:`UDPAddr`, as :func:`resolve_tcp_addr` for ``udp``/``udp4``/``udp6``."""
    addr = await _resolve("udp", network, address, resolver)
    assert isinstance(addr, UDPAddr)
    return addr


async def resolve_ip_addr(network: str, address: str, *, resolver: Resolver | None = None) -> IPAddr:
    """An :class:`IPAddr` for a host (no port) on ``ip``/``ip4``/``ip6`` (Go's ``ResolveIPAddr``)."""
    addr = await _resolve("ip", network.partition(":")[0], address, resolver)
    assert isinstance(addr, IPAddr)
    return addr


async def resolve_unix_addr(network: str, address: str) -> UnixAddr:
    """A :class:`UnixAddr` for ``unix``/``unixgram``/``unixpacket`` (Go's ``ResolveUnixAddr``).

    Raises:
        UnknownNetworkError: another network.
    """
    await trio.lowlevel.checkpoint()
    if network not in ("unix", "unixgram", "unixpacket"):
        raise UnknownNetworkError(network)
    return UnixAddr(address, network)
