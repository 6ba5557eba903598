"""The resolver: Go's ``net.Resolver`` on Trio (``lookup.go``, ``dnsclient_unix.go``).

What may live here: the :class:`Resolver` class, its configuration and every one of its lookups,
which choose the path (:mod:`trionet._resolver._conf`), read the hosts file, ask DNS through
:mod:`trionet._resolver._client` and decode the answers; and ``default_resolver``. The pure path
reads the hosts file first, then asks DNS (A and AAAA concurrently), and orders results by
RFC 6724. Elsewhere: the system path and RFC 6724 sources (:mod:`trionet._resolver._syslookup`),
the record types (:mod:`trionet._resolver._records`), and the module-level functions, which
import this module (:mod:`trionet._resolver._funcs`).
"""

from __future__ import annotations

import os
import random
from typing import Final

import dns.message
import dns.rdatatype
import dns.rdtypes.IN.HTTPS
import dns.reversename
import trio

from .._address import IP, Addr, IPAddr, lookup_port_static, parse_ip, split_host_port
from .._addrlist import addr_list_of
from .._errors import ERR_NO_SUCH_HOST, DNSError, UnknownNetworkError
from .._network import Network, parse_network
from ._addrs import resolve_addr_list
from ._client import Asker, FirstOutcomes, lookup, lookup_ip_dns, start_inline
from ._codec import answer_rdatas
from ._conf import NSSwitch, Order, env_prefers_libc, host_lookup_order
from ._dnsconfig import DNSConfig, ResolvConf, is_domain_name
from ._hosts import INLINE_MAX, HostsFile, HostsTable, lookup_static_addr, lookup_static_host
from ._records import MX, NS, SRV, mx_records, ns_records, ptr_names, sort_srv, srv_records, txt_records
from ._singleflight import Inline, do_shared
from ._sources import SOURCE_TTL
from ._syslookup import sort_addrs, system_lookup_addr, system_lookup_cname, system_lookup_ip
from ._transport import Exchange, Server, SocketExchange, parse_server

__all__ = ["Resolver", "default_resolver"]

_MALFORMED: Final = "DNS response contained records which contain invalid names"
MAX_NAME: Final = 254
"""The longest name (rooted) Go's ``isDomainName`` accepts. A longer host is ``no such host`` at
once, before it reaches a cache (the IP-literal parser's), a hosts-file table or libc; Go would
give the same error after looking it up in the hosts file."""
_SYSTEM_FILES: Final = ("/etc/hosts", "/etc/resolv.conf")
SYSTEM_NSSWITCH: Final = "/etc/nsswitch.conf"
_SOCKETS: Final = SocketExchange()


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
            none). The other resolv.conf settings still come from *resolv_conf*. An empty list
            is refused. Private servers or files make the pure path the default, unless
            *prefer_python* is False.
        resolv_conf: path of the resolver configuration; read on first use, not before.
        hosts_file: path of the hosts file, consulted before or after DNS as nsswitch.conf's
            ``hosts:`` line says (before it with private files); read on first use.
        nsswitch_conf: path of the name service switch configuration, whose ``hosts:`` line
            orders the hosts file and DNS and may ask for libc (Go's ``conf.go``); read on first
            use. Another path than the system's is applied by the pure path only (libc reads
            the system's file): its ``files``/``dns`` order counts, never a choice of libc.
        exchange: the UDP and TCP round trips of the pure path; None: real sockets
            (:func:`trio.socket.socket`). An object with the ``udp`` and ``tcp`` methods of
            ``trionet._resolver.Exchange``: a seam for tests that script a server's replies
            without sockets (see :doc:`resolver`); its shape may change between releases.

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
        nsswitch_conf: str = SYSTEM_NSSWITCH,
        exchange: Exchange | None = None,
    ) -> None:
        self.prefer_python = prefer_python
        self.strict_errors = strict_errors
        self.nameservers = nameservers
        self.resolv_conf = resolv_conf
        self.hosts_file = hosts_file
        self.nsswitch_conf = nsswitch_conf
        self._exchange: Exchange = _SOCKETS if exchange is None else exchange
        # hosts_addr_list_now's answers, None included: (table, expiry, addresses or None) per
        # (network, address, local)
        self._hosts_now: dict[
            tuple[str, str, Addr | None], tuple[HostsTable, float, tuple[Addr, ...] | None]
        ] = {}

    @property
    def nameservers(self) -> list[str] | None:
        """The servers asked instead of resolv.conf's, or None for resolv.conf's own (an empty
        list is refused). Settable; reading gives a copy, so assign a new list to change them."""
        return None if self._nameservers is None else list(self._nameservers)

    @nameservers.setter
    def nameservers(self, value: list[str] | None) -> None:
        if value is not None and not value:
            # [] would mean "private servers" to _order but "resolv.conf's" to the queries.
            raise ValueError("nameservers must be None (resolv.conf's) or at least one server")
        servers = None if value is None else [parse_server(s) for s in value]
        self._nameservers = None if value is None else list(value)
        self._servers = servers

    @property
    def resolv_conf(self) -> str:
        """The resolv.conf path. Settable; setting it forgets the parsed file."""
        return self._resolv.path

    @resolv_conf.setter
    def resolv_conf(self, path: str) -> None:
        self._resolv = ResolvConf(path)

    @property
    def hosts_file(self) -> str:
        """The hosts file path. Settable; setting it forgets the parsed file."""
        return self._hosts_cache.path

    @hosts_file.setter
    def hosts_file(self, path: str) -> None:
        self._hosts_cache = HostsFile(path)

    @property
    def nsswitch_conf(self) -> str:
        """The nsswitch.conf path. Settable; setting it forgets the parsed file."""
        return self._nss.path

    @nsswitch_conf.setter
    def nsswitch_conf(self, path: str) -> None:
        self._nss = NSSwitch(path)

    def __repr__(self) -> str:
        nss = "" if self.nsswitch_conf == SYSTEM_NSSWITCH else f", nsswitch_conf={self.nsswitch_conf!r}"
        return (
            f"Resolver(prefer_python={self.prefer_python!r}, strict_errors={self.strict_errors!r}, "
            f"nameservers={self.nameservers!r}, resolv_conf={self.resolv_conf!r}, "
            f"hosts_file={self.hosts_file!r}{nss})"
        )

    # -- configuration -----------------------------------------------------------------------
    def _config(self) -> DNSConfig:
        return self._resolv.get(trio.current_time())

    def _asker(self) -> Asker:
        """What this lookup asks DNS with; resolv.conf is looked at (at most every 5 s) now."""
        conf = self._config()
        servers: list[Server] = self._servers or [parse_server(s) for s in conf.servers]
        return Asker(conf, servers, self._exchange, self.strict_errors)

    def _order(self, name: str) -> Order:
        """Go's ``hostLookupOrder`` (*name* ``""``: ``addrLookupOrder``); see docs/resolver.rst."""
        if self.prefer_python is False:
            return "system"
        private_nss = self.nsswitch_conf != SYSTEM_NSSWITCH
        if not private_nss and (
            (self.hosts_file, self.resolv_conf) != _SYSTEM_FILES or self._servers is not None
        ):
            return "files,dns"  # private files or servers: libc could not honour them
        now = trio.current_time()
        return host_lookup_order(
            name,
            self._resolv.get(now),
            self._nss.get(now),
            # libc would read the system's nsswitch.conf, not this one: the pure path only.
            prefer_go=bool(self.prefer_python) or private_nss,
            prefer_libc=env_prefers_libc(os.environ),
        )

    async def _hosts_table(self) -> HostsTable:
        """The hosts file's table; a large file is read and parsed in a worker thread, under the
        caller's cancel scopes (abandoned on cancellation), so the event loop keeps running."""
        hosts = self._hosts_cache
        now = trio.current_time()
        table = hosts.cached(now)
        if table is None:
            if hosts.size <= INLINE_MAX:
                loaded = hosts.load()
            else:
                loaded = await trio.to_thread.run_sync(hosts.load, abandon_on_cancel=True)
            table = hosts.store(now, loaded)
        return table

    async def _static_host(self, name: str) -> tuple[list[str], str]:
        return lookup_static_host(await self._hosts_table(), name)

    async def _query(self, name: str, qtype: dns.rdatatype.RdataType) -> dns.message.Message:
        """Go's ``Resolver.lookup``: the name list, first success wins."""
        return await lookup(self._asker(), name, qtype)

    # -- addresses ---------------------------------------------------------------------------
    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The IP addresses of *host*, RFC 6724 ordered (Go's ``LookupIPAddr``).

        *network* restricts the DNS queries: ``"ip"`` asks A and AAAA concurrently, ``"ip4"``
        only A, ``"ip6"`` only AAAA. An IP literal and hosts-file answers are returned as they
        are, whatever the family (:meth:`lookup_ip` filters). Concurrent identical lookups that
        reach DNS or the system share one query.

        Raises:
            UnknownNetworkError: *network* is not ``"ip"``, ``"ip4"`` or ``"ip6"``.
            DNSError: ``lookup HOST on SERVER: no such host`` and the like.
        """
        if network not in ("ip", "ip4", "ip6"):
            raise UnknownNetworkError(network)
        if host == "" or len(host) > MAX_NAME:
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        literal = parse_ip(host)
        if literal is not None:
            await trio.lowlevel.checkpoint()
            return [IPAddr(literal[0], literal[1])]
        order = self._order(host)
        if order in ("files,dns", "files"):
            # A hosts-file answer needs no I/O, so there is no query to share: answer here
            # rather than through do_shared's task.
            addrs, _ = await self._files_addrs(host)
            if addrs:
                await trio.lowlevel.checkpoint()
                return addrs
        shared = await do_shared(
            (id(self), network, host),
            lambda: self._lookup_ip(network, host, order, files_checked=True),
            lambda: self._inline_ip(network, host, order),
        )
        return list(shared)

    def _inline_ip(self, network: str, host: str, order: Order) -> Inline[list[IPAddr]] | None:
        """:meth:`_lookup_ip` after the hosts file missed, as work the first caller runs in its
        own task (see :func:`do_shared`), its first questions sent; None where it does not apply."""
        if order not in ("files,dns", "dns,files", "dns") or not is_domain_name(host):
            return None

        async def later(first: FirstOutcomes) -> list[IPAddr]:
            addrs, _ = await self._lookup_ip_cname(network, host, order, files_checked=True, first=first)
            return addrs

        # sort_addrs, as _lookup_ip_cname sorts DNS answers.
        return start_inline(self._asker(), network, host, sort_addrs, later)

    def _sort_addrs(self, host: str, addrs: list[IPAddr]) -> list[IPAddr]:
        """*addrs* of *host* in RFC 6724 order, as one answer is sorted (the kernel's source
        address for each, remembered briefly). The RFC 8305 dial sorts its separate A and AAAA
        answers together with it. *host* is unused here; :class:`trionet.testing.FakeResolver`
        overrides this to order by what ``add_host`` was given for *host*."""
        return sort_addrs(addrs)

    async def _lookup_ip(
        self, network: str, host: str, order: Order, *, files_checked: bool = False
    ) -> list[IPAddr]:
        if order == "system":
            return await system_lookup_ip(host, network)
        addrs, _ = await self._lookup_ip_cname(network, host, order, files_checked=files_checked)
        return addrs

    async def _lookup_ip_cname(
        self,
        network: str,
        name: str,
        order: Order,
        *,
        files_checked: bool = False,
        first: FirstOutcomes | None = None,
    ) -> tuple[list[IPAddr], str]:
        """Go's ``goLookupIPCNAMEOrder``: (addresses, canonical name). *files_checked*: the
        caller found *name* missing from the hosts file just now (``files`` first in *order*);
        *first*: the first DNS exchanges, made already (see :func:`lookup_ip_dns`)."""
        if order == "files" and files_checked:
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        if order in ("files,dns", "files") and not files_checked:
            addrs, canonical = await self._files_addrs(name)
            if addrs:
                await trio.lowlevel.checkpoint()
                return addrs, canonical
            if order == "files":
                raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        if not is_domain_name(name):
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        addrs, cname, last = await lookup_ip_dns(self._asker(), network, name, first)
        addrs = sort_addrs(addrs)
        if not addrs and not (network == "CNAME" and cname):
            if order == "dns,files":
                found, canonical = await self._files_addrs(name)
                if found:
                    return found, canonical
            if last is not None:
                raise last
            raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
        return addrs, cname

    def _hosts_addrs_now(self, host: str, table: HostsTable) -> list[IPAddr] | None:
        """:meth:`lookup_ip_addr`'s answer for a hosts-file name from the current *table*, when
        the order reads the file first; None: ask the usual way."""
        if self._order(host) not in ("files,dns", "files"):
            return None
        texts = lookup_static_host(table, host)[0]
        return sort_addrs([IPAddr(text) for text in texts]) if texts else None

    async def _files_addrs(self, name: str) -> tuple[list[IPAddr], str]:
        """Go's ``goLookupIPFiles``: hosts-file addresses, RFC 6724 ordered, and the canonical name."""
        texts, canonical = await self._static_host(name)
        return sort_addrs([IPAddr(text) for text in texts]), canonical  # the table holds literals

    async def lookup_host(self, host: str) -> list[str]:
        """The addresses of *host* as text (Go's ``LookupHost``); hosts-file order for hosts-file
        names, RFC 6724 order otherwise.

        Raises:
            DNSError: as :meth:`lookup_ip_addr`.
        """
        if host == "" or len(host) > MAX_NAME:
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        if parse_ip(host) is not None:
            await trio.lowlevel.checkpoint()
            return [host]
        texts, _ = await self._static_host(host)
        if texts and self._order(host) in ("files,dns", "files"):
            await trio.lowlevel.checkpoint()
            return texts  # hosts-file order, as Go's LookupHost
        return [str(a) for a in await self.lookup_ip_addr(host)]

    async def lookup_ip(self, network: str, host: str) -> list[IP]:
        """The IPs of *host* for *network* ``"ip"``, ``"ip4"`` or ``"ip6"`` (Go's ``LookupIP``);
        a protocol suffix is accepted and ignored (``"ip4:icmp"``), as Go's is.

        As in Go (issue 18806), ``"::"`` also stands for ``0.0.0.0``: ``lookup_ip("ip", "::")``
        is ``[::, 0.0.0.0]`` and ``lookup_ip("ip4", "::")`` is ``[0.0.0.0]``.

        Raises:
            UnknownNetworkError: another network.
            AddrError: ``unknown IP protocol specified`` for a bad suffix; ``no suitable address
                found`` when no address is of the family asked.
            DNSError: as :meth:`lookup_ip_addr`.
        """
        net = parse_network(network, needs_proto=False)
        if net.afnet not in ("ip", "ip4", "ip6"):
            raise UnknownNetworkError(network)
        if host == "":
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        # Go's LookupIP is internetAddrList: the family filter and issue 18806 live there.
        addrs = await resolve_addr_list(self, "lookup", net, host, None)
        return [a.ip for a in addrs if isinstance(a, IPAddr) and a.ip is not None]

    async def lookup_port(self, network: str, service: str) -> int:
        """The port of *service* (a number, or a name from ``/etc/services`` and Go's built-in
        table) on *network* (``tcp*``, ``udp*``, ``ip`` or ``""``). Never leaves the process.
        An empty *service* is port 0.

        Raises:
            AddrError: ``invalid port`` (outside 0-65535) or ``unknown network``.
            DNSError: ``lookup tcp/SERVICE: unknown port`` (``is_not_found``).
        """
        await trio.lowlevel.checkpoint()
        return lookup_port_static(network, service)

    # -- records -----------------------------------------------------------------------------
    async def lookup_cname(self, host: str) -> str:
        """The canonical name of *host* (Go's ``LookupCNAME``): rooted (``"www.example.com."``),
        except a dotless hosts-file name, which the hosts file gives as it is.

        Raises:
            DNSError: no such host, or a canonical name that is not a valid domain name.
        """
        if len(host) > MAX_NAME:
            raise DNSError(ERR_NO_SUCH_HOST, host, is_not_found=True)
        order = self._order(host)
        if order == "system":
            cname = await system_lookup_cname(host)
        else:
            _, cname = await self._lookup_ip_cname("CNAME", host, order)
        if not is_domain_name(cname):
            raise DNSError(_MALFORMED, host)
        return cname

    async def lookup_srv(self, service: str, proto: str, name: str) -> tuple[str, list[SRV]]:
        """``_service._proto.name`` SRV records, sorted by priority then randomly by weight
        (RFC 2782); empty *service* and *proto* look *name* up as is. Returns (cname, records).

        Raises:
            DNSError: the lookup failed; ``SRV header name is invalid`` when the answer's owner
                name is not a valid domain name; or some targets were invalid names (the valid
                records are then dropped with the error, unlike Go which returns both).
        """
        target = name if service == "" and proto == "" else f"_{service}._{proto}.{name}"
        cname, srvs = srv_records(await self._query(target, dns.rdatatype.SRV))
        if cname and not is_domain_name(cname):
            raise DNSError("SRV header name is invalid", name)  # Go's LookupSRV
        if not all(is_domain_name(s.target) for s in srvs):
            raise DNSError(_MALFORMED, name)
        return cname, sort_srv(srvs)

    async def lookup_mx(self, name: str) -> list[MX]:
        """MX records of *name*, by preference (equal preferences in random order).

        Raises:
            DNSError: the lookup failed or a host was not a valid name.
        """
        mxs = mx_records(await self._query(name, dns.rdatatype.MX))
        if not all(is_domain_name(m.host) for m in mxs):
            raise DNSError(_MALFORMED, name)
        random.shuffle(mxs)
        return sorted(mxs, key=lambda m: m.pref)

    async def lookup_ns(self, name: str) -> list[NS]:
        """NS records of *name*.

        Raises:
            DNSError: the lookup failed or a host was not a valid name.
        """
        nss = ns_records(await self._query(name, dns.rdatatype.NS))
        if not all(is_domain_name(n.host) for n in nss):
            raise DNSError(_MALFORMED, name)
        return nss

    async def lookup_txt(self, name: str) -> list[str]:
        """TXT records of *name*, the strings of each record joined (Go); bytes decoded as UTF-8
        with replacement characters.

        Raises:
            DNSError: the lookup failed.
        """
        return txt_records(await self._query(name, dns.rdatatype.TXT))

    async def _lookup_https(self, name: str) -> list[dns.rdtypes.IN.HTTPS.HTTPS]:
        """The HTTPS records (RFC 9460, type 65) of *name*, for the Happy Eyeballs v3 strategy.

        Asked through the pure resolver's servers, search list and timeouts, as SRV is (Go has
        no HTTPS lookup yet; its pure path is the only one that can ask for this type). Records
        of another class or type in the answer are ignored. Not public: the strategy is the only
        caller.

        Returns:
            The records in answer order; an empty list for NXDOMAIN, NODATA, a name that is not
            a domain name, and when *prefer_python* is False (``getaddrinfo`` cannot ask for
            HTTPS records, and the caller then goes on without them).

        Raises:
            DNSError: any other failure (timeout, SERVFAIL, a lame or broken reply).
        """
        if self.prefer_python is False:
            await trio.lowlevel.checkpoint()
            return []
        try:
            msg = await self._query(name, dns.rdatatype.HTTPS)
        except DNSError as exc:
            if exc.is_not_found:
                return []
            raise
        return answer_rdatas(msg, dns.rdatatype.HTTPS)

    async def lookup_addr(self, addr: str) -> list[str]:
        """Names for the IP literal *addr*: the hosts file and PTR records (rooted names), in the
        order nsswitch.conf's ``hosts:`` line gives (the hosts file first with private files).

        Raises:
            DNSError: ``unrecognized address`` for a non-literal, or the lookup failed.
        """
        parsed = parse_ip(addr)
        if parsed is None:
            raise DNSError("unrecognized address", addr)
        order = self._order("")  # Go's addrLookupOrder asks conf.go with an empty host name
        if order == "system":
            return await system_lookup_addr(addr)
        if order in ("files", "files,dns"):
            names = lookup_static_addr(await self._hosts_table(), addr)
            if names:
                await trio.lowlevel.checkpoint()
                return names
            if order == "files":
                raise DNSError(ERR_NO_SUCH_HOST, addr, is_not_found=True)
        arpa = str(dns.reversename.from_address(str(parsed[0])).to_text())
        try:
            msg = await self._query(arpa, dns.rdatatype.PTR)
        except DNSError as exc:
            if exc.is_not_found and order == "dns,files":
                names = lookup_static_addr(await self._hosts_table(), addr)
                if names:
                    return names
            raise  # named after the reverse name asked, as Go's goLookupPTR does
        names = ptr_names(msg)
        if not all(is_domain_name(n) for n in names):
            raise DNSError(_MALFORMED, addr)
        return names


default_resolver: Resolver = Resolver()
"""The resolver used by module-level lookups and by dialers without one (Go's ``DefaultResolver``).

Creating it reads nothing: resolv.conf and the hosts file are read on first use."""


#: Bound of each resolver's remembered hosts-file dial lists (cleared when full).
_HOSTS_NOW_MAX: Final = 64


def hosts_addr_list_now(
    resolver: Resolver, net: Network, address: str, hint: Addr | None
) -> tuple[Addr, ...] | None:
    """The dial's address list for ``host:port`` *address* when *host* is a hosts-file name
    that *resolver* answers from its current table, without I/O or a checkpoint; None when the
    name must be looked up the usual way (not in the file, a service-name port, a table to
    (re)read, a dialing rule that fails, which the usual way then reports in its own words).

    Always None for a resolver whose ``lookup_ip_addr`` is replaced (a subclass, or
    :meth:`trionet.testing.FakeNet.install` shadowing the default one). The dialer uses it for
    untraced dials: ``localhost`` then costs what an IP literal does.
    """
    if type(resolver) is not Resolver or "lookup_ip_addr" in vars(resolver):
        return None
    now = trio.current_time()
    table = resolver._hosts_cache.cached(now)  # pyright: ignore[reportPrivateUsage]
    if table is None:
        return None
    # Remembered, a "no" too (so a DNS name pays one dict lookup here, not a second hosts-file
    # search before its lookup), while the table is the same one and for at most the source
    # cache's lifetime: the RFC 6724 order of the answer is no staler than the sources it was
    # sorted with (and an nsswitch.conf edit is seen within that second).
    memo = resolver._hosts_now  # pyright: ignore[reportPrivateUsage]
    key = (net.name, address, hint)
    hit = memo.get(key)
    if hit is not None and hit[0] is table and now < hit[1]:
        return hit[2]
    addrs = _hosts_addr_list(resolver, table, net, address, hint)
    if len(memo) >= _HOSTS_NOW_MAX:
        memo.clear()
    memo[key] = (table, now + SOURCE_TTL, addrs)
    return addrs


def _hosts_addr_list(
    resolver: Resolver, table: HostsTable, net: Network, address: str, hint: Addr | None
) -> tuple[Addr, ...] | None:
    try:
        ips = resolver._hosts_addrs_now(split_host_port(address)[0], table)  # pyright: ignore[reportPrivateUsage]
        return None if ips is None else addr_list_of(net, address, ips, hint)
    except OSError:  # AddrError included: the lookup path reports it in its own words
        return None
