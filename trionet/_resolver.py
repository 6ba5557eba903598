"""Resolver (interim): the system resolver (getaddrinfo in a thread) behind Go's interface.

The pure resolver (dnspython messages over trionet's own Trio transport) replaces this as the
default; the methods the dialer uses (``lookup_ip_addr``, ``lookup_port``) keep their shape.
"""

from __future__ import annotations

import socket as _stdlib_socket

import trio

from ._address import IPAddr, lookup_port_static, parse_ip
from ._errors import DNSError

__all__ = ["Resolver", "default_resolver"]


class Resolver:
    """Looks up names, ports and addresses (Go's ``net.Resolver``).

    Args:
        prefer_python: None decides like Go's ``conf.go``; True: the pure async resolver;
            False: ``getaddrinfo`` in a worker thread.
        strict_errors: a temporary error (timeout, SERVFAIL) in one of the A/AAAA queries fails
            the whole lookup instead of returning the other query's results.
        nameservers: ``["127.0.0.1:5353", ...]``; None reads them from *resolv_conf*.
        resolv_conf: path of the resolver configuration.
        hosts_file: path of the hosts file.
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

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        """The IP addresses of *host*; *network* ``"ip4"`` or ``"ip6"`` asks for one family.

        Raises:
            DNSError: ``lookup HOST: no such host`` and the like.
        """
        literal = parse_ip(host)
        if literal is not None:
            return [IPAddr(literal[0], literal[1])]
        if host == "":
            raise DNSError("no such host", host, is_not_found=True)
        family = {"ip4": _stdlib_socket.AF_INET, "ip6": _stdlib_socket.AF_INET6}.get(network, 0)
        try:
            infos = await trio.socket.getaddrinfo(host, None, family, _stdlib_socket.SOCK_STREAM)
        except _stdlib_socket.gaierror as exc:
            not_found = exc.errno in (_stdlib_socket.EAI_NONAME, getattr(_stdlib_socket, "EAI_NODATA", -5))
            raise DNSError(
                "no such host" if not_found else str(exc.strerror),
                host,
                is_not_found=not_found,
                is_temporary=exc.errno == _stdlib_socket.EAI_AGAIN,
            ) from None
        seen: list[IPAddr] = []
        for info in infos:
            sockaddr = info[4]
            parsed = parse_ip(str(sockaddr[0]))
            if parsed is None:
                continue
            addr = IPAddr(parsed[0], parsed[1])
            if addr not in seen:
                seen.append(addr)
        return seen

    async def lookup_port(self, network: str, service: str) -> int:
        """The port of *service* (a number or a service name) on *network*."""
        await trio.lowlevel.checkpoint()
        return lookup_port_static(network, service)


default_resolver = Resolver()
