"""Addresses, as Go spells them: ``host:port`` splitting and joining, ports, IP literals, zones,
and the value types :class:`TCPAddr`, :class:`UDPAddr`, :class:`IPAddr`, :class:`UnixAddr`.

Pure: no trio. The only I/O is reading ``/etc/services`` once for service names, as Go does.

One representation choice worth knowing: Go's ``net.IP`` treats an IPv4-mapped IPv6 address
(``::ffff:127.0.0.1``) as IPv4 everywhere (``To4() != nil``, printed as ``127.0.0.1``). We get the
same behaviour by normalising such addresses to :class:`ipaddress.IPv4Address` on the way in.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
from typing import TYPE_CHECKING, Final, TypeAlias, cast, final

from ._errors import AddrError, DNSError, errno_error
from ._etc import services

if TYPE_CHECKING:
    pass

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "check_address_args",
    "ip_text",
    "IP",
    "IPAddr",
    "TCPAddr",
    "UDPAddr",
    "UnixAddr",
    "join_host_port",
    "lookup_port_static",
    "parse_ip",
    "parse_port",
    "split_host_port",
]

IP: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_MISSING_PORT: Final = "missing port in address"

#: Longer than any valid address: a DNS name is at most 255 bytes (Go rejects longer hosts),
#: a unix path at most 107, plus brackets, an interface zone and a port or service name. Longer
#: input is rejected before it reaches any cache (issue 11: 1 MiB addresses grew RSS without
#: bound through the literal caches).
MAX_ADDRESS_LENGTH: Final = 1024
#: Longer than any network name (``"ip6:ipv6-icmp"``).
MAX_NETWORK_LENGTH: Final = 64


def _shorten(text: str) -> str:
    return text if len(text) <= 64 else f"{text[:48]}...({len(text)} characters)"


def check_address_args(network: object, address: object) -> None:
    """Reject what cannot be a ``(network, address)`` pair before any parsing or cache.

    Raises:
        TypeError: a non-string network or address; an int port or a ``(host, port)`` tuple gets
            a message naming the ``"host:port"`` form and :func:`trionet.open_tcp_stream`.
        AddrError: ``address too long`` for an address longer than :data:`MAX_ADDRESS_LENGTH`.
    """
    if not isinstance(network, str):
        raise TypeError(f'network must be a str such as "tcp", not {type(network).__name__}')
    if isinstance(address, int | tuple) and not isinstance(address, bool):
        shown = repr(cast(object, address))
        kind = type(cast(object, address)).__name__
        raise TypeError(
            f'address must be a "host:port" str (Go\'s form), not the {kind} '
            f"{shown}: write join_host_port(host, port), or call "
            "trionet.open_tcp_stream(host, port) for trio's signature"
        )
    if not isinstance(address, str):
        raise TypeError(f'address must be a str ("host:port", or a path), not {type(address).__name__}')
    if len(address) > MAX_ADDRESS_LENGTH:
        raise AddrError("address too long", _shorten(address))


_TOO_MANY_COLONS: Final = "too many colons in address"


def split_host_port(hostport: str) -> tuple[str, str]:
    """Split ``"host:port"``, ``"[host]:port"`` or ``"[host%zone]:port"`` (Go's ``SplitHostPort``).

    A literal IPv6 address must be in brackets. The port is returned as text (it may be a
    service name or empty).

    Raises:
        AddrError: with Go's texts: ``missing port in address``, ``too many colons in address``,
            ``missing ']' in address``, ``unexpected '[' in address``,
            ``unexpected ']' in address``.

    >>> split_host_port("[::1]:80")
    ('::1', '80')
    """
    if not isinstance(hostport, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"hostport must be a str, not {type(hostport).__name__}")
    i = hostport.rfind(":")
    if i < 0:
        raise AddrError(_MISSING_PORT, hostport)
    j = k = 0
    if hostport[0] == "[":
        end = hostport.find("]")
        if end < 0:
            raise AddrError("missing ']' in address", hostport)
        if end + 1 == len(hostport):
            raise AddrError(_MISSING_PORT, hostport)
        if end + 1 != i:
            # Either ']' is followed by a colon (but it's not the last one) or by something else.
            why = _TOO_MANY_COLONS if hostport[end + 1] == ":" else _MISSING_PORT
            raise AddrError(why, hostport)
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise AddrError(_TOO_MANY_COLONS, hostport)
    if "[" in hostport[j:]:
        raise AddrError("unexpected '[' in address", hostport)
    if "]" in hostport[k:]:
        raise AddrError("unexpected ']' in address", hostport)
    return host, hostport[i + 1 :]


def join_host_port(host: str, port: str | int) -> str:
    """Join *host* and *port*, bracketing a host that contains ``:`` (Go's ``JoinHostPort``).

    >>> join_host_port("::1", 80)
    '[::1]:80'
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_port(service: str) -> tuple[int, bool]:
    """Go's ``parsePort``: ``(port, needs_lookup)``.

    ``""`` is port 0 (Go issue 13610); an optional sign then decimal digits is a number, which
    saturates rather than overflowing (so the caller's range check reports ``invalid port``);
    anything else needs a service-name lookup. The result is not range-checked.
    """
    if service == "":
        return 0, False
    cutoff = 1 << 30
    maximum = (1 << 32) - 1
    neg = service[0] == "-"
    digits = service[1:] if service[0] in "+-" else service
    # Go's loop, digit by digit: it stops reading once the number saturates, so what follows is
    # never looked at ("11111111111a" is a saturated number, "invalid port", not a service
    # name), and at most eleven characters are read, however long the string.
    n = 0
    for ch in digits:
        if not ("0" <= ch <= "9"):
            return 0, True
        if n >= cutoff:
            n = maximum
            break
        n = n * 10 + (ord(ch) - 48)
        if n > maximum:
            n = maximum
            break
    if not neg and n >= cutoff:
        port = cutoff - 1
    elif neg and n > cutoff:
        port = cutoff
    else:
        port = n
    return (-port if neg else port), False


def lookup_port_static(network: str, service: str, services_file: str = "/etc/services") -> int:
    """Go's ``LookupPort`` without DNS: numbers, then ``/etc/services``, then Go's built-in table.

    Args:
        network: ``tcp``/``tcp4``/``tcp6``, ``udp``/``udp4``/``udp6``, or ``ip``/``""`` (either).
        service: a port number or a service name (case-insensitive).

    Raises:
        AddrError: ``address SERVICE: invalid port`` outside 0-65535;
            ``address NETWORK: unknown network`` for another network.
        DNSError: ``lookup tcp/SERVICE: unknown port`` (``is_not_found``).
    """
    port, needs_lookup = parse_port(service)
    if needs_lookup:
        net = network or "ip"
        candidates: tuple[str, ...]
        if net == "ip":
            candidates = ("tcp", "udp")
        elif net in ("tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"):
            candidates = (net[:3],)
        else:
            raise AddrError("unknown network", network)
        table = services(services_file)
        lowered = service.lower()
        for proto in candidates:
            found = table.get(proto, {}).get(lowered)
            if found is not None:
                return found
        err_net = "ip" if net == "ip" else candidates[0]
        raise DNSError("unknown port", f"{err_net}/{service}", is_not_found=True)
    if not 0 <= port <= 65535:
        raise AddrError("invalid port", service)
    return port


@functools.lru_cache(maxsize=256)
def parse_ip(host: str) -> tuple[IP, str] | None:
    """Parse an IP literal with an optional IPv6 zone: ``(ip, zone)``, or None if not a literal.

    IPv4-mapped IPv6 addresses come back as IPv4 (Go's ``To4``). Zones are allowed on IPv6 only,
    as in Go's ``netip.ParseAddr``.
    """
    text, sep, zone = host.partition("%")
    if sep and not zone:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            # Go's netip.ParseAddr takes a zone on any IPv6 text, mapped ones included; the
            # dial then treats the address as IPv4 (To4), zone kept: "127.0.0.1%lo:80".
            return ip.ipv4_mapped, zone
        return ip, zone
    return (ip, "") if not zone else None


def _coerce_ip(ip: IP | str | None) -> tuple[IP | None, str]:
    if ip is None or ip == "":
        return None, ""
    if isinstance(ip, str):
        parsed = parse_ip(ip)
        if parsed is None:
            raise ValueError(f"ip must be an IP address literal, not {ip!r}")
        return parsed
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped, ""
        if ip.scope_id:
            return ipaddress.IPv6Address(str(ip).partition("%")[0]), ip.scope_id
        return ip, ""
    if isinstance(ip, ipaddress.IPv4Address):  # pyright: ignore[reportUnnecessaryIsInstance]
        return ip, ""
    raise TypeError(f"ip must be an IP address, a string or None, not {ip!r}")


def ip_text(ip: IP | None, zone: str) -> str:
    """An IP with its zone as Go prints it (``fe80::1%eth0``); ``""`` for None."""
    if ip is None:
        return ""
    return f"{ip}%{zone}" if zone else str(ip)


def is_ipv4(ip: IP | None) -> bool:
    """Go's ``To4() != nil``; None (no IP) is not IPv4 here."""
    return isinstance(ip, ipaddress.IPv4Address)


def is_wildcard(ip: IP | None) -> bool:
    """No IP or an unspecified one (``0.0.0.0``, ``::``): "the local system"."""
    return ip is None or ip.is_unspecified


class _InetAddr:
    """Shared implementation of TCPAddr and UDPAddr (Go's identical ``String`` and fields)."""

    __slots__ = ("_ip", "_port", "_zone")
    _network: str = ""

    def __init__(self, ip: IP | str | None = None, port: int = 0, zone: str = "") -> None:
        parsed_ip, parsed_zone = _coerce_ip(ip)
        if not isinstance(port, int) or isinstance(port, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"port must be an int, not {port!r}")
        self._ip = parsed_ip
        self._port = port
        self._zone = zone or parsed_zone

    @property
    def ip(self) -> IP | None:
        """The IP address; None means "no address" (the wildcard for a listener)."""
        return self._ip

    @property
    def port(self) -> int:
        """The port number; 0 means "any" (chosen by the system)."""
        return self._port

    @property
    def zone(self) -> str:
        """The IPv6 scope zone (interface name or index), ``""`` when none."""
        return self._zone

    @property
    def network(self) -> str:
        """Go's ``Network()``: ``"tcp"`` or ``"udp"``."""
        return self._network

    def __str__(self) -> str:
        return join_host_port(ip_text(self._ip, self._zone), self._port)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._ip) if self._ip else None!r}, {self._port}, zone={self._zone!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _InetAddr)
        return (self._ip, self._port, self._zone) == (other._ip, other._port, other._zone)

    def __hash__(self) -> int:
        return hash((type(self), self._ip, self._port, self._zone))


@final
class TCPAddr(_InetAddr):
    """A TCP endpoint (Go's ``net.TCPAddr``): ``TCPAddr("127.0.0.1", 80)``.

    ``str()`` is Go's: ``127.0.0.1:80``, ``[::1]:80``, ``[fe80::1%eth0]:80``, and ``:80`` when
    *ip* is None. *ip* may be an :mod:`ipaddress` object, a literal (``"fe80::1%eth0"`` sets the
    zone), or None.
    """

    __slots__ = ()
    _network = "tcp"


@final
class UDPAddr(_InetAddr):
    """A UDP endpoint (Go's ``net.UDPAddr``); same fields and format as :class:`TCPAddr`."""

    __slots__ = ()
    _network = "udp"


@final
class IPAddr:
    """An IP endpoint for raw ``ip*`` networks (Go's ``net.IPAddr``): ``IPAddr("127.0.0.1")``.

    ``str()`` is the address with ``%zone`` when set, ``""`` when *ip* is None.
    """

    __slots__ = ("_ip", "_zone")

    def __init__(self, ip: IP | str | None = None, zone: str = "") -> None:
        parsed_ip, parsed_zone = _coerce_ip(ip)
        self._ip = parsed_ip
        self._zone = zone or parsed_zone

    @property
    def ip(self) -> IP | None:
        """The IP address; None means "no address"."""
        return self._ip

    @property
    def zone(self) -> str:
        """The IPv6 scope zone, ``""`` when none."""
        return self._zone

    @property
    def network(self) -> str:
        """Go's ``Network()``: ``"ip"``."""
        return "ip"

    def __str__(self) -> str:
        return ip_text(self._ip, self._zone)

    def __repr__(self) -> str:
        return f"IPAddr({str(self._ip) if self._ip else None!r}, zone={self._zone!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IPAddr):
            return NotImplemented
        return (self._ip, self._zone) == (other._ip, other._zone)

    def __hash__(self) -> int:
        return hash((IPAddr, self._ip, self._zone))


@final
class UnixAddr:
    """A unix socket address (Go's ``net.UnixAddr``): a path, or ``@name`` for Linux's abstract
    namespace.

    Args:
        name: the path; ``""`` means unnamed (an autobound or unbound socket).
        net: ``"unix"``, ``"unixgram"`` or ``"unixpacket"``.
    """

    __slots__ = ("_name", "_net")

    def __init__(self, name: str, net: str = "unix") -> None:
        if net not in ("unix", "unixgram", "unixpacket"):
            raise ValueError(f"net must be 'unix', 'unixgram' or 'unixpacket', not {net!r}")
        self._name = name
        self._net = net

    @property
    def name(self) -> str:
        """The socket path (``@`` prefix for an abstract name)."""
        return self._name

    @property
    def network(self) -> str:
        """Go's ``Network()``: the unix network name."""
        return self._net

    def sockaddr(self) -> str | bytes:
        """The address as the socket module takes it (``@name`` becomes a leading NUL byte).

        Raises:
            OSError: ``EINVAL`` (``invalid argument``) for a name the kernel cannot take as
                meant: a NUL inside a path (the kernel would bind the part before it), or
                text that has no file-system encoding (a lone surrogate).
        """
        name = self._name
        if name.startswith("@"):
            try:
                return b"\0" + os.fsencode(name[1:])
            except UnicodeError:
                raise errno_error(errno.EINVAL) from None
        if not name.isascii() or "\0" in name:
            try:
                encoded = os.fsencode(name)
            except UnicodeError:
                raise errno_error(errno.EINVAL) from None
            if b"\0" in encoded:
                raise errno_error(errno.EINVAL)
        return name

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"UnixAddr({self._name!r}, {self._net!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnixAddr):
            return NotImplemented
        return (self._name, self._net) == (other._name, other._net)

    def __hash__(self) -> int:
        return hash((UnixAddr, self._name, self._net))


Addr: TypeAlias = TCPAddr | UDPAddr | IPAddr | UnixAddr
#: The addresses a :class:`PacketConn` has and sends to (never a TCPAddr).
PacketAddr: TypeAlias = UDPAddr | IPAddr | UnixAddr
