"""trionet: Go's ``net`` dialing and listening semantics on Trio.

The caller's cancel scopes play Go's ``context``; each dial attempt lives in a nursery; fast
fallback is a nursery racing the primary address family against the fallback one.
"""

from __future__ import annotations

from . import tls as tls, trace as trace
from ._address import (
    Addr as Addr,
    IPAddr as IPAddr,
    TCPAddr as TCPAddr,
    UDPAddr as UDPAddr,
    UnixAddr as UnixAddr,
    join_host_port as join_host_port,
    split_host_port as split_host_port,
)
from ._deadline import partial_deadline as partial_deadline
from ._dial import Dialer as Dialer, dial as dial, dial_timeout as dial_timeout
from ._errors import (
    AddrError as AddrError,
    DNSError as DNSError,
    OpError as OpError,
    SyscallError as SyscallError,
    UnknownNetworkError as UnknownNetworkError,
)
from ._listen import ListenConfig as ListenConfig, listen as listen, listen_packet as listen_packet
from ._listen_serve import serve as serve
from ._listener import Listener as Listener
from ._network import Control as Control, Network as Network, parse_network as parse_network
from ._open_stream import (
    open_ssl_over_tcp_stream as open_ssl_over_tcp_stream,
    open_tcp_stream as open_tcp_stream,
)
from ._packetconn import PacketConn as PacketConn
from ._public import claim_names
from ._resolver import (
    MX as MX,
    NS as NS,
    SRV as SRV,
    Resolver as Resolver,
    default_resolver as default_resolver,
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
from ._rfc8305 import HappyEyeballs as HappyEyeballs
from ._sockopt import KeepAliveConfig as KeepAliveConfig
from ._version import __version__ as __version__

__all__ = [
    "Addr",
    "AddrError",
    "Control",
    "DNSError",
    "Dialer",
    "HappyEyeballs",
    "IPAddr",
    "KeepAliveConfig",
    "ListenConfig",
    "Listener",
    "MX",
    "NS",
    "Network",
    "OpError",
    "PacketConn",
    "Resolver",
    "SRV",
    "SyscallError",
    "TCPAddr",
    "UDPAddr",
    "UnixAddr",
    "UnknownNetworkError",
    "default_resolver",
    "dial",
    "dial_timeout",
    "join_host_port",
    "listen",
    "listen_packet",
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
    "open_ssl_over_tcp_stream",
    "open_tcp_stream",
    "parse_network",
    "partial_deadline",
    "resolve_ip_addr",
    "resolve_tcp_addr",
    "resolve_udp_addr",
    "resolve_unix_addr",
    "serve",
    "split_host_port",
    "tls",
    "trace",
]


claim_names(globals(), __all__, "trionet")
del claim_names
