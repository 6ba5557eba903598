"""trionet's DNS transport on Trio: one question to a list of servers (Go's ``dnsclient_unix.go``).

dnspython builds and parses the messages; sockets, waiting and time are Trio's, so every query
is bounded by cancel scopes on Trio's clock (dnspython's wall-clock ``lifetime`` is never used).

* UDP first with EDNS0 (1232-byte payload, as Go), TCP (RFC 7766 framing) when the answer is
  truncated or ``use-vc`` is set.
* A fresh socket per exchange, ``connect``-ed to the server: the kernel picks a random source
  port and drops datagrams from any other address or port. Query IDs come from :mod:`secrets`.
  So A and AAAA never share a socket, which is what ``single-request-reopen`` asks for.
* A UDP datagram is accepted only if it is a response with our ID and our question (name, type,
  class); anything else (garbage, a wrong ID, a wrong question) is ignored and we keep waiting,
  as Go's ``dnsPacketRoundTrip`` does. Over TCP a mismatch fails the exchange.
* Each exchange gets its own ``timeout`` (resolv.conf ``timeout:``) in a ``move_on_after``;
  only *that* expiry becomes ``i/o timeout``. An enclosing scope's cancellation is not caught.
"""

from __future__ import annotations

import copy
import functools
import secrets
import socket as _stdlib_socket
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Final, Generic, NamedTuple, Protocol, TypeVar, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset
import trio

from ._address import (
    TCPAddr,
    UDPAddr,
    ip_text,
    join_host_port,
    parse_ip,
    parse_port,
    sockaddr_for,
    split_host_port,
)
from ._errors import ERR_NO_SUCH_HOST, AddrError, DNSError, OpError, SyscallError

__all__ = ["MAX_PACKET", "Server", "do_shared", "parse_server", "try_one_name"]

_T = TypeVar("_T")

MAX_PACKET: Final = 1232
"""The EDNS0 UDP payload size we advertise (Go's ``maxDNSPacketSize``, the DNS flag day value)."""

_RECV_SIZE: Final = 65535  # read whole datagrams; an oversized answer still parses
ERR_CANNOT_UNMARSHAL: Final = "cannot unmarshal DNS message"
ERR_INVALID_RESPONSE: Final = "invalid DNS response"
ERR_MISBEHAVING: Final = "server misbehaving"
ERR_LAME_REFERRAL: Final = "lame referral"


@dataclass(frozen=True)
class Server:
    """A nameserver: ``hostport`` is Go's ``"IP:53"`` text used in error messages."""

    hostport: str
    family: int
    sockaddr: tuple[str, int] | tuple[str, int, int, int]


@functools.lru_cache(maxsize=64)  # resolv.conf's servers are parsed again for every query
def parse_server(text: str) -> Server:
    """``"127.0.0.1"``, ``"127.0.0.1:5353"``, ``"::1"`` or ``"[::1]:5353"`` as a :class:`Server`.

    Raises:
        ValueError: not an IP literal with an optional port.
    """
    parsed = parse_ip(text)
    port = 53
    if parsed is None:
        try:
            host, service = split_host_port(text)
        except AddrError:
            host, service = "", ""
        port, needs_lookup = parse_port(service)
        parsed = parse_ip(host)
        if parsed is None or needs_lookup or not 0 < port <= 65535:
            raise ValueError(f"nameserver must be IP or IP:port, not {text!r}")
    ip, zone = parsed
    family = _stdlib_socket.AF_INET6 if ip.version == 6 else _stdlib_socket.AF_INET
    return Server(join_host_port(ip_text(ip, zone), port), family, sockaddr_for(family, ip, port, zone))


class ExchangeError(Exception):
    """One exchange with one server failed (becomes a :class:`DNSError` naming that server)."""

    def __init__(self, text: str, *, temporary: bool = False, timeout: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.temporary = temporary
        self.timeout = timeout


class _Truncated(Exception):
    """Our reply, with TC set; *msg* is its parse, None when only the header parsed."""

    def __init__(self, msg: dns.message.Message | None) -> None:
        super().__init__()
        self.msg = msg


class _Query(NamedTuple):
    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    wire: bytes


class _Renderer(Protocol):
    """The part of dnspython's (untyped) ``dns.renderer.Renderer`` used here."""

    def add_question(
        self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, rdclass: dns.rdataclass.RdataClass
    ) -> None: ...
    def add_opt(self, opt: dns.rrset.RRset) -> None: ...
    def write_header(self) -> None: ...
    def get_wire(self) -> bytes: ...


_new_renderer = cast("Callable[[int, int, int], _Renderer]", dns.renderer.Renderer)

#: The EDNS0 OPT record every query carries (version 0, no options, MAX_PACKET payload), built
#: by dnspython once: building it is most of what ``make_query(..., use_edns=0)`` costs.
_OPT: Final = cast("dns.rrset.RRset", dns.message.make_query(".", "A", use_edns=0, payload=MAX_PACKET).opt)


@functools.lru_cache(maxsize=512)
def _template(qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, trust_ad: bool) -> bytes:
    """The wire form of a query with ID 0, rendered by dnspython (the ID is set per query).

    The same bytes as ``make_query(qname, rdtype, use_edns=0, payload=MAX_PACKET).to_wire()``
    (a test checks), through dnspython's renderer with the prebuilt OPT record: 2-2.5x cheaper,
    which a name asked for the first time pays.
    """
    flags = dns.flags.RD | (dns.flags.AD if trust_ad else 0)
    renderer = _new_renderer(0, flags, 65535)
    renderer.add_question(qname, rdtype, dns.rdataclass.IN)
    renderer.add_opt(_OPT)
    renderer.write_header()
    return renderer.get_wire()


def _make_query(qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, trust_ad: bool) -> _Query:
    wire = _template(qname, rdtype, trust_ad)
    qid = secrets.randbits(16)
    # RFC 1035 §4.1.1: the ID is the first 16 bits; dnspython rendered everything else.
    return _Query(qname, rdtype, qid.to_bytes(2, "big") + wire[2:])


@functools.lru_cache(maxsize=512)
def _parse_body(body: bytes) -> dns.message.Message:
    """dnspython's parse of a reply whose ID bytes were zeroed. Identical replies (the common
    case when the same name is asked again) are parsed once; the result is never mutated.
    Failures raise and are not cached."""
    return dns.message.from_wire(b"\0\0" + body, ignore_trailing=True)


def _is_answer(data: bytes, head: dns.message.Message, query: _Query) -> bool:
    """Go's ``checkResponse``: a response, with our ID, to our question (name, type, class)."""
    if not head.flags & dns.flags.QR or data[:2] != query.wire[:2] or not head.question:
        return False
    got = head.question[0]
    # dnspython compares names case-insensitively, as Go's equalASCIIName does.
    return got.rdtype == query.rdtype and got.rdclass == dns.rdataclass.IN and got.name == query.qname


def _head(data: bytes) -> dns.message.Message | None:
    try:
        return dns.message.from_wire(data, question_only=True)
    except (dns.exception.DNSException, ValueError):
        return None


def _match(data: bytes, query: _Query) -> dns.message.Message | None:
    """The reply parsed, if *data* answers *query*; None if it does not (ignore it).

    Raises:
        _Truncated: ours, with TC set.
        ExchangeError: ours, but the records cannot be parsed.
    """
    try:
        msg = _parse_body(data[2:])
    except (dns.exception.DNSException, ValueError):
        # Whole-message parsing failed: is it ours at all (then it is broken), or noise?
        head = _head(data)
        if head is None or not _is_answer(data, head, query):
            return None
        if head.flags & dns.flags.TC:
            raise _Truncated(None) from None
        raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
    if not _is_answer(data, msg, query):
        return None
    if msg.flags & dns.flags.TC:
        raise _Truncated(msg)
    return msg


def _endpoint(net: str, host: str, port: int) -> TCPAddr | UDPAddr:
    ip = host.partition("%")[0]  # getsockname may append a scope to link-local addresses
    return TCPAddr(ip, port) if net == "tcp" else UDPAddr(ip, port)


def _dial_error(net: str, server: Server, syscall: str, exc: OSError) -> ExchangeError:
    """Making the socket or connecting it failed: ``dial udp 127.0.0.1:53: socket: too many
    open files``, ``dial tcp 127.0.0.1:53: connect: connection refused`` (Go's resolver dials
    with a zero ``Dialer``, so no source). Temporary, as in Go's ``tryOneName``: the next
    server is tried."""
    remote = _endpoint(net, server.sockaddr[0], server.sockaddr[1])
    return ExchangeError(str(OpError("dial", net, None, remote, SyscallError(syscall, exc))), temporary=True)


def _socket_error(
    op: str, net: str, sock: _stdlib_socket.socket | trio.socket.SocketType, server: Server, exc: OSError
) -> ExchangeError:
    """A failure on a connected socket as Go prints it, temporary as in Go's ``tryOneName``:
    ``read udp 127.0.0.1:40000->127.0.0.1:53: read: connection refused`` and ``write ...:
    write: ...`` (a connection's errors name both ends).
    """
    remote = _endpoint(net, server.sockaddr[0], server.sockaddr[1])
    try:
        name = sock.getsockname()
        local: TCPAddr | UDPAddr | None = _endpoint(net, str(name[0]), int(name[1]))
    except OSError:
        local = None
    return ExchangeError(str(OpError(op, net, local, remote, SyscallError(op, exc))), temporary=True)


def _stream_error(exc: OSError | trio.BrokenResourceError) -> OSError:
    """The OSError behind a stream failure (trio wraps it in BrokenResourceError)."""
    if isinstance(exc, OSError):
        return exc
    cause = exc.__cause__
    return cause if isinstance(cause, OSError) else OSError(str(exc))


async def _udp_round_trip(server: Server, query: _Query) -> dns.message.Message:
    # A plain non-blocking socket and trio.lowlevel.wait_readable: connect and send on UDP
    # never block, so the only wait (and checkpoint) is for the reply. This halves the number
    # of scheduler passes compared with trio.socket's always-checkpointing methods.
    try:
        sock = _stdlib_socket.socket(server.family, _stdlib_socket.SOCK_DGRAM)
    except OSError as exc:  # e.g. EMFILE, or no IPv6 for the default [::1]:53
        raise _dial_error("udp", server, "socket", exc) from None
    with sock:
        sock.setblocking(False)
        try:
            # connect() sends nothing. It binds a fresh random ephemeral port, and from now on
            # the kernel delivers to this socket only datagrams whose source is the server's
            # address *and* port: a reply from anywhere else never reaches us (Go's
            # DialContext("udp", server) gives the same filter). ID and question are checked
            # below.
            sock.connect(server.sockaddr)
        except OSError as exc:
            raise _dial_error("udp", server, "connect", exc) from None
        try:
            sock.send(query.wire)
        except OSError as exc:
            raise _socket_error("write", "udp", sock, server, exc) from None
        while True:
            await trio.lowlevel.wait_readable(sock)
            try:
                data = sock.recv(_RECV_SIZE)
            except BlockingIOError:
                continue
            except OSError as exc:  # e.g. ICMP port unreachable: ECONNREFUSED
                raise _socket_error("read", "udp", sock, server, exc) from None
            msg = _match(data, query)
            if msg is not None:
                return msg
            # not ours (or garbage): keep waiting, do not trust it


async def _read_exactly(stream: trio.SocketStream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = await stream.receive_some(n - len(buf))
        if not chunk:
            raise ExchangeError("EOF" if not buf else "unexpected EOF")
        buf += chunk
    return bytes(buf)


async def _tcp_round_trip(server: Server, query: _Query) -> dns.message.Message:
    try:
        sock = trio.socket.socket(server.family, _stdlib_socket.SOCK_STREAM)
    except OSError as exc:
        raise _dial_error("tcp", server, "socket", exc) from None
    with sock:
        try:
            await sock.connect(server.sockaddr)
        except OSError as exc:
            raise _dial_error("tcp", server, "connect", exc) from None
        stream = trio.SocketStream(sock)
        try:
            await stream.send_all(len(query.wire).to_bytes(2, "big") + query.wire)
        except (OSError, trio.BrokenResourceError) as exc:
            raise _socket_error("write", "tcp", sock, server, _stream_error(exc)) from None
        try:
            length = int.from_bytes(await _read_exactly(stream, 2), "big")
            data = await _read_exactly(stream, length)
        except (OSError, trio.BrokenResourceError) as exc:
            raise _socket_error("read", "tcp", sock, server, _stream_error(exc)) from None
    try:
        msg = _match(data, query)
    except _Truncated as truncated:  # Go returns a truncated TCP answer as it is
        if truncated.msg is None:
            raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
        return truncated.msg
    if msg is None:
        # Go: over TCP, a reply that parses but answers something else is an invalid response.
        raise ExchangeError(ERR_INVALID_RESPONSE if _head(data) is not None else ERR_CANNOT_UNMARSHAL)
    return msg


async def exchange(
    server: Server,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    timeout: float,
    use_tcp: bool,
    trust_ad: bool,
) -> dns.message.Message:
    """Go's ``exchange``: one question to one server, UDP then TCP on truncation.

    Raises:
        ExchangeError: a socket error, an unparsable or mismatched TCP answer, or ``i/o timeout``
            when *timeout* (seconds, per transport) expires.
    """
    query = _make_query(qname, rdtype, trust_ad)
    for transport in ("tcp",) if use_tcp else ("udp", "tcp"):
        with trio.move_on_after(timeout) as scope:
            try:
                if transport == "udp":
                    return await _udp_round_trip(server, query)
                return await _tcp_round_trip(server, query)
            except _Truncated:
                continue
        if scope.cancelled_caught:
            raise ExchangeError("i/o timeout", temporary=True, timeout=True)
    raise ExchangeError("no answer from DNS server")  # pragma: no cover - TCP never truncates here


def check_header(msg: dns.message.Message, qtype: dns.rdatatype.RdataType) -> str | None:
    """Go's ``checkHeader`` + ``skipToAnswer``: None if *msg* holds a *qtype* answer, else why not.

    ``"no such host"`` for NXDOMAIN and for an answer without a *qtype* record (NODATA).
    """
    rcode = msg.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return ERR_NO_SUCH_HOST
    has_additional = bool(msg.additional) or msg.opt is not None
    if (
        rcode == dns.rcode.NOERROR
        and not msg.flags & (dns.flags.AA | dns.flags.RA)
        and not msg.answer
        and not has_additional
    ):
        return ERR_LAME_REFERRAL
    if rcode != dns.rcode.NOERROR:
        return ERR_MISBEHAVING
    if not any(rrset.rdtype == qtype for rrset in msg.answer):
        return ERR_NO_SUCH_HOST
    return None


@functools.lru_cache(maxsize=512)
def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


async def try_one_name(
    servers: list[Server],
    offset: int,
    attempts: int,
    timeout: float,
    use_tcp: bool,
    trust_ad: bool,
    name: str,
    qtype: dns.rdatatype.RdataType,
) -> dns.message.Message:
    """Go's ``tryOneName``: ask each server in turn, *attempts* rounds; the first answer.

    NXDOMAIN or NODATA from any server ends the search at once (``is_not_found``); SERVFAIL is
    ``server misbehaving`` (``is_temporary``) and tries the next server; no answer in time is
    ``i/o timeout`` (``is_timeout``).

    Raises:
        DNSError: the last server's failure, named *name* and that server.
    """
    try:
        qname = _name(name)
    except dns.exception.DNSException:
        raise DNSError("cannot marshal DNS message", name) from None
    last: DNSError | None = None
    for _ in range(attempts):
        for j in range(len(servers)):
            server = servers[(offset + j) % len(servers)]
            try:
                msg = await exchange(server, qname, qtype, timeout, use_tcp, trust_ad)
            except ExchangeError as exc:
                last = DNSError(
                    exc.text, name, server.hostport, is_timeout=exc.timeout, is_temporary=exc.temporary
                )
                continue
            why = check_header(msg, qtype)
            if why == ERR_NO_SUCH_HOST:
                raise DNSError(why, name, server.hostport, is_not_found=True)
            if why is not None:
                last = DNSError(why, name, server.hostport, is_temporary=msg.rcode() == dns.rcode.SERVFAIL)
                continue
            return msg
    if last is None:  # no servers at all
        raise DNSError("no answer from DNS server", name)
    raise last


# -- singleflight (Go's lookupGroup) -----------------------------------------------------------
class _Call(Generic[_T]):
    def __init__(self) -> None:
        self.done = trio.Event()
        self.waiters = 0
        self.scope = trio.CancelScope()
        self.result: _T | None = None
        self.error: Exception | None = None


_GROUPS: trio.lowlevel.RunVar[dict[Hashable, _Call[object]]] = trio.lowlevel.RunVar("trionet_lookup_group")


async def _run_shared(key: Hashable, call: _Call[_T], fn: Callable[[], Awaitable[_T]]) -> None:
    groups = _GROUPS.get()
    try:
        with call.scope:
            call.result = await fn()
    except Exception as exc:  # handed to every waiter; Cancelled (a BaseException) passes
        call.error = exc
    finally:
        if groups.get(key) is call:
            del groups[key]
        call.done.set()


async def do_shared(key: Hashable, fn: Callable[[], Awaitable[_T]]) -> _T:
    """Go's ``singleflight.DoChan`` + ``ForgetUnshared``: concurrent calls with the same *key*
    share one run of *fn*.

    The shared run is a Trio system task (Go runs it in its own goroutine, detached from the
    callers' contexts), so one caller's cancellation never cancels it for the others; when the
    *last* waiting caller is cancelled, the run is cancelled too and nothing is left behind.
    Each caller gets a copy of a shared exception.
    """
    try:
        groups = _GROUPS.get()
    except LookupError:
        groups = dict[Hashable, _Call[object]]()
        _GROUPS.set(groups)
    call = groups.get(key)
    if call is None:
        call = _Call[object]()
        groups[key] = call
        trio.lowlevel.spawn_system_task(_run_shared, key, call, fn, name=f"trionet.lookup{key!r}")
    call.waiters += 1
    try:
        await call.done.wait()
    finally:
        call.waiters -= 1
        if call.waiters == 0 and not call.done.is_set():
            call.scope.cancel()  # nobody wants the answer any more (Go: ForgetUnshared → cancel)
            if groups.get(key) is call:
                del groups[key]
    if call.error is not None:
        raise copy.copy(call.error)
    return call.result  # type: ignore[return-value]  # set whenever error is None and done
