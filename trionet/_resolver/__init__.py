"""The resolver package (Go's ``net.Resolver`` and its files): this module is its only door.

Nothing outside ``trionet._resolver`` imports the private modules below it; everything the rest
of trionet (the dialer, the listener, the CLI, :mod:`trionet.testing`) and the public namespace
need is re-exported here. The layout, one module per Go file where Go has one:

=====================  ================================================================
``_resolver``          :class:`Resolver`, ``default_resolver`` (``lookup.go``)
``_funcs``             package-level ``lookup_*`` and ``resolve_*_addr`` (``lookup.go``,
                       ``iprawsock.go``/``tcpsock.go``/``udpsock.go``/``unixsock.go``)
``_client``            names, servers, attempts, timeouts (``dnsclient_unix.go``)
``_codec``             build a query, check and parse a reply; pure (``dnsmessage`` use)
``_wire``              the lean A/AAAA/CNAME codec under ``_codec``; pure (``dnsmessage``)
``_transport``         :class:`Exchange`: UDP and TCP round trips (``dnsclient_unix.go``)
``_singleflight``      the shared query (``lookupGroup``, ``singleflight``)
``_dnsconfig``         resolv.conf and the name rules (``dnsconfig_unix.go``, ``dnsclient.go``)
``_conf``              nsswitch.conf and the lookup order (``conf.go``, ``nss.go``)
``_hosts``             the hosts file (``hosts.go``)
``_syslookup``         libc in a thread, RFC 6724 sorting (``cgo_unix.go``, ``addrselect.go``)
``_sources``           RFC 6724 source addresses, remembered briefly (``addrselect.go``)
``_addrselect``        the RFC 6724 sort; pure (``addrselect.go``)
``_records``           SRV, MX, NS and the SRV order (``dnsclient.go``)
=====================  ================================================================

``/etc/services`` and ``/etc/protocols`` (:mod:`trionet._etc`) stay outside: port and protocol
names are parsed by the address and network layers below the resolver.
"""

from __future__ import annotations

from ._addrs import resolve_addr_list as resolve_addr_list
from ._codec import ExchangeError as ExchangeError
from ._funcs import (
    lookup_addr as lookup_addr,
    lookup_cname as lookup_cname,
    lookup_host as lookup_host,
    lookup_ip as lookup_ip,
    lookup_ip_addr as lookup_ip_addr,
    lookup_mx as lookup_mx,
    lookup_ns as lookup_ns,
    lookup_port as lookup_port,
    lookup_srv as lookup_srv,
    lookup_txt as lookup_txt,
    resolve_ip_addr as resolve_ip_addr,
    resolve_tcp_addr as resolve_tcp_addr,
    resolve_udp_addr as resolve_udp_addr,
    resolve_unix_addr as resolve_unix_addr,
)
from ._records import MX as MX, NS as NS, SRV as SRV
from ._resolver import (
    Resolver as Resolver,
    default_resolver as default_resolver,
    hosts_addr_list_now as hosts_addr_list_now,
)
from ._sources import forget_sources as forget_sources
from ._transport import Exchange as Exchange, Server as Server, SocketExchange as SocketExchange

__all__ = [
    "MX",
    "NS",
    "SRV",
    "Exchange",
    "ExchangeError",
    "Resolver",
    "Server",
    "SocketExchange",
    "default_resolver",
    "forget_sources",
    "hosts_addr_list_now",
    "lookup_addr",
    "lookup_cname",
    "lookup_host",
    "lookup_ip",
    "lookup_ip_addr",
    "lookup_mx",
    "lookup_ns",
    "lookup_port",
    "lookup_srv",
    "lookup_txt",
    "resolve_addr_list",
    "resolve_ip_addr",
    "resolve_tcp_addr",
    "resolve_udp_addr",
    "resolve_unix_addr",
]
