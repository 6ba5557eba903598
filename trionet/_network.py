"""Go's network names: ``parse_network`` turns ``"tcp4"`` or ``"ip4:icmp"`` into a :class:`Network`.

Pure: no trio, no I/O except reading ``/etc/protocols`` once for ``ip:NAME`` networks (as Go's
``lookupProtocol`` does), with Go's built-in table as the fallback.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, final

from ._errors import AddrError, UnknownNetworkError
from ._etc import protocols

if TYPE_CHECKING:  # pure module: trio only for the Control type
    import trio

__all__ = ["Control", "Network", "ctrl_network", "lookup_protocol", "parse_network"]

# The networks without a ":proto" suffix, with (family, socket type) for each.
# AF_UNSPEC means "decided per address" (Go's favoriteAddrFamily).
_PLAIN: Final[dict[str, tuple[int, int]]] = {
    "tcp": (socket.AF_UNSPEC, socket.SOCK_STREAM),
    "tcp4": (socket.AF_INET, socket.SOCK_STREAM),
    "tcp6": (socket.AF_INET6, socket.SOCK_STREAM),
    "udp": (socket.AF_UNSPEC, socket.SOCK_DGRAM),
    "udp4": (socket.AF_INET, socket.SOCK_DGRAM),
    "udp6": (socket.AF_INET6, socket.SOCK_DGRAM),
    "unix": (socket.AF_UNIX, socket.SOCK_STREAM),
    "unixgram": (socket.AF_UNIX, socket.SOCK_DGRAM),
    "unixpacket": (socket.AF_UNIX, socket.SOCK_SEQPACKET),
}
_IP: Final[dict[str, int]] = {"ip": socket.AF_UNSPEC, "ip4": socket.AF_INET, "ip6": socket.AF_INET6}


@final
@dataclass(frozen=True, slots=True)
class Network:
    """A parsed network name.

    Attributes:
        name: the network as given (``"tcp"``, ``"ip4:icmp"``).
        afnet: the name without the protocol (``"tcp"``, ``"ip4"``).
        proto: the IP protocol number for ``ip*`` networks, else 0.
        family: ``AF_INET`` / ``AF_INET6`` for the ``4``/``6`` networks, ``AF_UNIX`` for unix
            networks, ``AF_UNSPEC`` when each address decides.
        socktype: ``SOCK_STREAM``, ``SOCK_DGRAM``, ``SOCK_SEQPACKET`` or ``SOCK_RAW``.
    """

    name: str
    afnet: str
    proto: int
    family: int
    socktype: int
    #: ``"tcp"``, ``"udp"``, ``"ip"``, or the unix network name itself.
    kind: str = field(init=False, repr=False, compare=False)
    #: True for ``unix``, ``unixgram`` and ``unixpacket``.
    is_unix: bool = field(init=False, repr=False, compare=False)
    #: True when a dial returns a :class:`trio.SocketStream` (``tcp*`` and ``unix``).
    is_stream: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived once: a dial reads these several times, and networks are cached and shared.
        is_unix = self.family == socket.AF_UNIX
        object.__setattr__(self, "is_unix", is_unix)
        object.__setattr__(self, "kind", self.afnet if is_unix else self.afnet.rstrip("46"))
        object.__setattr__(self, "is_stream", self.socktype == socket.SOCK_STREAM)


def parse_network(network: str, *, needs_proto: bool = True) -> Network:
    """Parse a Go network name (Go's ``parseNetwork``).

    Known names: ``tcp tcp4 tcp6 udp udp4 udp6 unix unixgram unixpacket`` and ``ip ip4 ip6``
    followed by ``:PROTO``, a decimal number or an ``/etc/protocols`` name (``"ip4:icmp"``,
    ``"ip:1"``).

    Args:
        network: the name to parse.
        needs_proto: when true (dialing, listening), a bare ``ip``/``ip4``/``ip6`` is an error;
            when false (address resolution) it is accepted with protocol 0.

    Raises:
        UnknownNetworkError: the name is not one of the above.
        AddrError: ``unknown IP protocol specified`` for an unknown protocol name.

    >>> parse_network("ip4:icmp").proto
    1
    """
    if not isinstance(network, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f'network must be a str such as "tcp", not {type(network).__name__}')
    if len(network) > 64:  # longer than any network name: not worth a cache entry
        short = network[:48] + f"...({len(network)} characters)"
        afnet, sep, proto = network.partition(":")
        if sep and afnet in _IP:  # what Go says for a protocol no table has (a huge number too)
            raise AddrError("unknown IP protocol specified", proto[:48] + f"...({len(proto)} characters)")
        raise UnknownNetworkError(short)
    return _parse_network(network, needs_proto)


@functools.lru_cache(maxsize=64)
def _parse_network(network: str, needs_proto: bool) -> Network:
    i = network.rfind(":")
    if i < 0:
        plain = _PLAIN.get(network)
        if plain is not None:
            return Network(network, network, 0, plain[0], plain[1])
        if network in _IP and not needs_proto:
            return Network(network, network, 0, _IP[network], socket.SOCK_RAW)
        raise UnknownNetworkError(network)
    afnet, protostr = network[:i], network[i + 1 :]
    if afnet not in _IP:
        raise UnknownNetworkError(network)
    # Go's dtoi: plain ASCII digits below 0xFFFFFF are a number; anything else is a name
    # (a longer number is "big", so a name, and is never given to int()).
    if (
        protostr.isascii()
        and protostr.isdigit()
        and len(protostr.lstrip("0")) <= 8
        and int(protostr) < 0xFFFFFF
    ):
        proto = int(protostr)
    else:
        proto = lookup_protocol(protostr)
    return Network(network, afnet, proto, _IP[afnet], socket.SOCK_RAW)


#: The ``control`` hook of :class:`Dialer` and :class:`ListenConfig`: ``control(network,
#: address, sock)``, called after ``socket()`` and before bind/connect/listen, with the network
#: from :func:`ctrl_network`.
Control = Callable[[str, str, "trio.socket.SocketType"], None]


def ctrl_network(net: Network, family: int) -> str:
    """The network a ``control`` hook sees (Go's ``netFD.ctrlNetwork``), for dialers and listeners.

    Never an ambiguous ``tcp``/``udp``/``ip``: those get the suffix of the socket's *family*
    (``"tcp4"``, ``"udp6"``); unix networks and the ``4``/``6`` networks are passed unchanged.
    """
    if net.is_unix or net.afnet[-1] in "46":
        return net.afnet
    return net.afnet + ("4" if family == socket.AF_INET else "6")


def lookup_protocol(name: str, protocols_file: str = "/etc/protocols") -> int:
    """The IP protocol number for *name* (case-insensitive), from the protocols file or Go's table.

    Raises:
        AddrError: ``address NAME: unknown IP protocol specified``.
    """
    proto = protocols(protocols_file).get(name.lower())
    if proto is None:
        raise AddrError("unknown IP protocol specified", name)
    return proto
