"""The pure resolver's questions to DNS (Go's ``dnsclient_unix.go``: ``Resolver.exchange``,
``tryOneName``, ``Resolver.lookup`` and the DNS half of ``goLookupIPCNAMEOrder``).

What may live here: the order in which names, servers and transports are tried, the per-exchange
timeout, and turning replies into addresses or :class:`~trionet.DNSError`. Every round trip goes
through an :class:`~trionet._resolver._transport.Exchange`; messages are
:mod:`trionet._resolver._codec`'s. The hosts file, nsswitch order and RFC 6724 sorting are the
resolver's (:mod:`trionet._resolver._resolver`). Timekeeping is Trio's: the per-exchange timeout
is a cancel scope, and only *its* expiry becomes ``i/o timeout``; an enclosing scope's
cancellation propagates as a bare :class:`trio.Cancelled`.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import trio

from .._address import IPAddr
from .._errors import ERR_NO_SUCH_HOST, DNSError
from .._sock import sockets_are_trios
from . import _wire
from ._codec import (
    ExchangeError,
    LeanQuery,
    Truncated,
    check_header,
    check_reply,
    make_lean_query,
    make_query,
)
from ._dnsconfig import DNSConfig, is_domain_name
from ._singleflight import Later
from ._transport import Exchange, Server, SocketExchange, UDPFlight, send_udp

if sys.version_info < (3, 11):  # pragma: no cover - exercised by the 3.10 nox session
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "Asker",
    "FirstOutcomes",
    "InlineLookup",
    "exchange",
    "lookup",
    "lookup_ip_dns",
    "renamed",
    "start_inline",
    "try_one_name",
]

_M = TypeVar("_M")
_M_co = TypeVar("_M_co", covariant=True)


class _Question(Protocol[_M_co]):
    """A query on the wire and how to read its replies (:class:`~._codec.Query` gives dnspython
    messages, :class:`~._codec.LeanQuery` the lean codec's replies)."""

    @property
    def wire(self) -> bytes: ...
    def match(self, data: bytes, /) -> _M_co | None: ...
    def match_stream(self, data: bytes, /) -> _M_co: ...


def renamed(err: DNSError, name: str) -> DNSError:
    """Go sets ``err.Name = name``: report the name asked, not the search-list FQDN tried."""
    return DNSError(err.err, name, err.server, err.is_timeout, err.is_temporary, err.is_not_found)


@dataclass(frozen=True)
class Asker:
    """What one lookup asks DNS with: resolv.conf's settings, the servers (resolv.conf's or the
    resolver's own), the transport, and Go's ``StrictErrors``."""

    conf: DNSConfig
    servers: Sequence[Server]
    exchange: Exchange
    strict_errors: bool


async def exchange(
    transport: Exchange,
    server: Server,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    timeout: float,
    use_tcp: bool,
    trust_ad: bool,
) -> dns.message.Message:
    """Go's ``Resolver.exchange``: one question to one server, UDP then TCP on truncation.

    Raises:
        ExchangeError: a socket error, an unparsable or mismatched TCP answer, or ``i/o timeout``
            when *timeout* (seconds, per transport) expires.
    """
    return await _exchange(transport, server, make_query(qname, rdtype, trust_ad), timeout, use_tcp)


async def _exchange(
    transport: Exchange, server: Server, query: _Question[_M], timeout: float, use_tcp: bool
) -> _M:
    """:func:`exchange` of a query already built (a fresh one, with a fresh ID, per exchange)."""
    for proto in ("tcp",) if use_tcp else ("udp", "tcp"):
        with trio.move_on_after(timeout) as scope:
            try:
                if proto == "udp":
                    return await transport.udp(server, query.wire, query.match)
                return query.match_stream(await transport.tcp(server, query.wire))
            except Truncated:
                continue
        if scope.cancelled_caught:
            raise ExchangeError("i/o timeout", temporary=True, timeout=True)
    raise ExchangeError("no answer from DNS server")  # pragma: no cover - TCP never truncates here


@functools.lru_cache(maxsize=512)
def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


async def try_one_name(asker: Asker, name: str, qtype: dns.rdatatype.RdataType) -> dns.message.Message:
    """Go's ``tryOneName``: ask each server in turn, ``attempts`` rounds; the first answer.

    NXDOMAIN or NODATA from any server ends the search at once (``is_not_found``); SERVFAIL is
    ``server misbehaving`` (``is_temporary``) and tries the next server; no answer in time is
    ``i/o timeout`` (``is_timeout``).

    Raises:
        DNSError: the last server's failure, named *name* and that server.
    """
    if len(name) > 254:  # what conf.name_list lets through; keeps _name's cache keys short
        raise DNSError("cannot marshal DNS message", name)
    try:
        qname = _name(name)
    except dns.exception.DNSException:
        raise DNSError("cannot marshal DNS message", name) from None
    trust_ad = asker.conf.trust_ad
    return await _try_servers(
        asker,
        name,
        lambda: make_query(qname, qtype, trust_ad),
        lambda msg: check_header(msg, qtype),
        lambda msg: msg.rcode(),
    )


async def try_one_name_lean(
    asker: Asker, name: str, qtype: dns.rdatatype.RdataType, first: _First[_wire.Reply] | None = None
) -> _wire.Reply:
    """:func:`try_one_name` for an A, AAAA or CNAME question, through the lean codec (*first*:
    see :func:`_try_servers`)."""
    if first is None:
        _lean_query(asker, name, qtype, 0)  # refuse the name before any exchange
    trust_ad = asker.conf.trust_ad
    return await _try_servers(
        asker,
        name,
        lambda: make_lean_query(name, qtype, trust_ad),
        lambda reply: check_reply(reply, qtype),
        lambda reply: reply.rcode,
        first,
    )


def _lean_query(asker: Asker, name: str, qtype: dns.rdatatype.RdataType, qid: int | None = None) -> LeanQuery:
    """The lean query for *name*, or Go's ``cannot marshal DNS message`` for a name it cannot
    carry (too long, or what dnspython refuses to encode)."""
    if len(name) > 254:
        raise DNSError("cannot marshal DNS message", name)
    try:
        return make_lean_query(name, qtype, asker.conf.trust_ad, qid)
    except dns.exception.DNSException:
        raise DNSError("cannot marshal DNS message", name) from None


#: How the first UDP exchange of a question went when the client made it itself (the paired
#: first try): the reply, or why there is none yet.
_First = tuple[_Question[_M], "_M | ExchangeError | Truncated"]


async def _try_servers(
    asker: Asker,
    name: str,
    build: Callable[[], _Question[_M]],
    check: Callable[[_M], str | None],
    rcode: Callable[[_M], int],
    first: _First[_M] | None = None,
) -> _M:
    """Go's ``tryOneName`` loop. *first*: the first server's UDP exchange was already made
    (by :func:`_ask_paired`); its outcome stands for that step, a truncated reply still going
    on to TCP with the same question, as :func:`_exchange` would."""
    conf, servers = asker.conf, asker.servers
    offset = conf.server_offset()
    last: DNSError | None = None
    for _ in range(conf.attempts):
        for j in range(len(servers)):
            server = servers[(offset + j) % len(servers)]
            try:
                if first is None:
                    msg = await _exchange(asker.exchange, server, build(), conf.timeout, conf.use_tcp)
                else:
                    (query, outcome), first = first, None
                    if isinstance(outcome, ExchangeError):
                        raise outcome
                    if isinstance(outcome, Truncated):
                        msg = await _exchange(asker.exchange, server, query, conf.timeout, True)
                    else:
                        msg = outcome
            except ExchangeError as exc:
                last = DNSError(
                    exc.text, name, server.hostport, is_timeout=exc.timeout, is_temporary=exc.temporary
                )
                continue
            why = check(msg)
            if why == ERR_NO_SUCH_HOST:
                raise DNSError(why, name, server.hostport, is_not_found=True)
            if why is not None:
                last = DNSError(why, name, server.hostport, is_temporary=rcode(msg) == dns.rcode.SERVFAIL)
                continue
            return msg
    if last is None:  # no servers at all
        raise DNSError("no answer from DNS server", name)
    raise last


async def lookup(asker: Asker, name: str, qtype: dns.rdatatype.RdataType) -> dns.message.Message:
    """Go's ``Resolver.lookup``: the search list in order, first success wins.

    Raises:
        DNSError: ``no such host`` for a name that is not a domain name; else the last name's
            failure (the first temporary one with ``strict_errors``), named *name*.
    """
    if not is_domain_name(name):
        raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
    last: DNSError | None = None
    for fqdn in asker.conf.name_list(name):
        try:
            return await try_one_name(asker, fqdn, qtype)
        except DNSError as exc:  # noqa: PERF203 - one try per search-list name
            last = exc
            if exc.temporary and asker.strict_errors:
                break
    if last is None:
        raise DNSError(ERR_NO_SUCH_HOST, name, is_not_found=True)
    raise renamed(last, name)


async def _ask_all(
    asker: Asker, fqdn: str, qtypes: list[dns.rdatatype.RdataType]
) -> list[_wire.Reply | DNSError]:
    """Each query type for *fqdn*: concurrently, or in turn with ``single-request``.

    The nursery's children catch every :class:`DNSError` themselves, so the only exceptions
    that can leave the nursery are cancellation and bugs. Trio wraps the children's
    :class:`trio.Cancelled` in a :class:`BaseExceptionGroup`; a caller must be able to write
    ``except trio.Cancelled``, so a group of nothing but cancellations leaves as one bare
    ``Cancelled`` (anything else in it: the group, so nothing is hidden).
    """
    results: list[_wire.Reply | DNSError] = [DNSError("unreachable", fqdn)] * len(qtypes)

    async def ask(i: int) -> None:
        try:
            results[i] = await try_one_name_lean(asker, fqdn, qtypes[i])
        except DNSError as exc:
            results[i] = exc

    if asker.conf.single_request or len(qtypes) == 1:
        for i in range(len(qtypes)):
            await ask(i)
    elif _can_pair(asker):
        return await _ask_paired(asker, fqdn, qtypes)
    else:
        try:
            async with trio.open_nursery() as nursery:
                # The first question is asked from the nursery's body, the others from child
                # tasks: all are in flight together, with one task fewer to start.
                for i in range(1, len(qtypes)):
                    nursery.start_soon(ask, i)
                await ask(0)
        except BaseExceptionGroup as group:
            cancelled, rest = group.split(trio.Cancelled)
            if cancelled is None or rest is not None:
                raise
            raise _first_leaf(cancelled) from None
    return results


def _can_pair(asker: Asker) -> bool:
    """Whether :func:`_ask_paired` applies: real sockets of Trio's own (no scripted
    :class:`Exchange`, no custom socket factory), UDP first, and the same first server for
    every question (no ``rotate``)."""
    conf = asker.conf
    return (
        type(asker.exchange) is SocketExchange
        and bool(asker.servers)
        and not conf.use_tcp
        and not conf.rotate
        and sockets_are_trios()
    )


async def _ask_paired(
    asker: Asker, fqdn: str, qtypes: list[dns.rdatatype.RdataType]
) -> list[_wire.Reply | DNSError]:
    """:func:`_ask_all`'s concurrent questions with their first exchange made by this task: every
    question goes to the first server at once, each on its own socket with its own ID (as Go's
    parallel ``tryOneName`` calls send them), and the replies are read in turn under one
    per-exchange timeout -- every question is in flight for the same time, so one deadline is
    each one's. A question whose first exchange settles it (an answer, NXDOMAIN or NODATA) needs
    nothing more; the others (a timeout, a truncated reply, SERVFAIL, a socket error) go on
    through Go's loop from there, concurrently as :func:`_ask_all` runs them.

    For a new name this is most lookups, and it saves a nursery, a task and a cancel scope per
    lookup (docs/benchmarks.rst).
    """
    try:
        queries = [_lean_query(asker, fqdn, qtype) for qtype in qtypes]
    except DNSError as exc:
        return [exc] * len(qtypes)
    first = _FirstTry(asker.servers[0], queries, asker.conf.timeout)
    try:
        outcomes = await first.outcomes()
    finally:
        first.close()
    return await _go_on(asker, fqdn, qtypes, queries, outcomes)


async def _go_on(
    asker: Asker,
    fqdn: str,
    qtypes: list[dns.rdatatype.RdataType],
    queries: list[LeanQuery],
    outcomes: list[_Outcome],
) -> list[_wire.Reply | DNSError]:
    """Each question's result, from its first exchange's *outcome* on: settled ones as they
    are, the others through Go's loop from that step, concurrently."""
    results = _settle(outcomes, qtypes, fqdn, asker.servers[0])

    async def go_on(i: int) -> None:
        try:
            results[i] = await try_one_name_lean(asker, fqdn, qtypes[i], (queries[i], outcomes[i]))
        except DNSError as exc:
            results[i] = exc

    rest = [i for i, result in enumerate(results) if result is None]
    if len(rest) == 1:
        await go_on(rest[0])
    elif rest:
        try:
            async with trio.open_nursery() as nursery:
                for i in rest:
                    nursery.start_soon(go_on, i)
        except BaseExceptionGroup as group:
            cancelled, others = group.split(trio.Cancelled)
            if cancelled is None or others is not None:
                raise
            raise _first_leaf(cancelled) from None
    settled = [r for r in results if r is not None]
    assert len(settled) == len(results)  # every question went on to a result
    return settled


#: How one question's first UDP exchange went: the reply, or why there is none.
_Outcome = _wire.Reply | ExchangeError | Truncated


class _FirstTry:
    """Every query sent to *server* at once, each reply read in turn within *timeout* of the
    sending. Its state (sockets, what has arrived, the deadline) lives here, not in a frame:
    after a cancellation, :meth:`outcomes` may be awaited again, from another task too, and
    goes on where it stopped (which :class:`~._singleflight.Inline` work needs)."""

    __slots__ = ("_deadline", "_flights", "_outcomes", "_waited")

    def __init__(self, server: Server, queries: list[LeanQuery], timeout: float) -> None:
        self._outcomes: list[_Outcome | None] = [None] * len(queries)
        self._flights: list[UDPFlight[_wire.Reply] | None] = []
        self._waited = False
        try:
            for i, query in enumerate(queries):
                try:
                    self._flights.append(send_udp(server, query.wire, query.match))
                except ExchangeError as exc:  # noqa: PERF203 - one send per question
                    self._flights.append(None)
                    self._outcomes[i] = exc
        except BaseException:
            self.close()
            raise
        self._deadline = trio.current_time() + timeout

    def close(self) -> None:
        for flight in self._flights:
            if flight is not None:
                flight.close()

    async def outcomes(self) -> list[_Outcome]:
        """Each query's reply, or what went wrong (``i/o timeout`` for none in time)."""
        outcomes, flights = self._outcomes, self._flights
        with trio.move_on_at(self._deadline):
            for i, flight in enumerate(flights):
                if flight is not None and outcomes[i] is None:
                    try:
                        # A reply that has arrived already (the next one after a wait, often;
                        # with many lookups in flight, often the first too) is taken without
                        # a trip through the scheduler and the poller.
                        got = flight.reply_now()
                        if got is None:
                            self._waited = True
                            got = await flight.reply()
                        outcomes[i] = got
                    except (ExchangeError, Truncated) as exc:
                        outcomes[i] = exc
        for i, flight in enumerate(flights):
            if outcomes[i] is None and flight is not None:
                # Out of time while reading an earlier reply: take what has arrived for this
                # one meanwhile, or it timed out too.
                try:
                    outcomes[i] = flight.reply_now()
                except (ExchangeError, Truncated) as exc:
                    outcomes[i] = exc
        if not self._waited:  # no wait (every reply was in, or every send failed): still a
            self._waited = True  # checkpoint, as any lookup is
            await trio.lowlevel.checkpoint()
        return [
            outcome if outcome is not None else ExchangeError("i/o timeout", temporary=True, timeout=True)
            for outcome in outcomes
        ]


def _settle(
    outcomes: list[_Outcome], qtypes: list[dns.rdatatype.RdataType], fqdn: str, server: Server
) -> list[_wire.Reply | DNSError | None]:
    """:func:`_settled` for each question."""
    return [_settled(outcome, qtype, fqdn, server) for outcome, qtype in zip(outcomes, qtypes, strict=True)]


def _settled(
    outcome: _wire.Reply | ExchangeError | Truncated,
    qtype: dns.rdatatype.RdataType,
    fqdn: str,
    server: Server,
) -> _wire.Reply | DNSError | None:
    """What a first exchange decides on its own, as :func:`_try_servers` would: the answer, or
    ``no such host`` for NXDOMAIN/NODATA; None when Go's loop must go on."""
    if not isinstance(outcome, _wire.Reply):
        return None
    why = check_reply(outcome, qtype)
    if why is None:
        return outcome
    if why == ERR_NO_SUCH_HOST:
        return DNSError(why, fqdn, server.hostport, is_not_found=True)
    return None


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first: BaseException = group
    while isinstance(first, BaseExceptionGroup):
        first = cast("BaseException", first.exceptions[0])  # pyright: ignore[reportUnknownMemberType]
    return first


def _qtypes(network: str) -> list[dns.rdatatype.RdataType]:
    if network[-1:] == "4":
        return [dns.rdatatype.A]
    if network[-1:] == "6":
        return [dns.rdatatype.AAAA]
    if network == "CNAME":
        return [dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.CNAME]
    return [dns.rdatatype.A, dns.rdatatype.AAAA]


@dataclass
class _Found:
    """What :func:`lookup_ip_dns` has gathered so far."""

    addrs: list[IPAddr]
    cname: str = ""
    last: DNSError | None = None

    def take(self, results: list[_wire.Reply | DNSError], fqdn: str, name: str, strict_errors: bool) -> bool:
        """Add one search-list name's *results*; True when a temporary error ends the search
        (``strict_errors``)."""
        strict_hit = False
        for result in results:
            if isinstance(result, DNSError):
                if result.temporary and strict_errors:
                    strict_hit, self.last = True, result
                elif self.last is None or fqdn == name + ".":
                    self.last = result
                continue
            # Go reads every answer record in order, whichever question it answers: A and
            # AAAA records give addresses (the first one's owner is the canonical name), a
            # CNAME record's target is the canonical name if none is known yet.
            # The lean reply holds class IN A, AAAA and CNAME RRsets only (as rdatas_in would
            # keep), addresses as packed bytes.
            for rrset in result.answer:
                if rrset.rdtype == _wire.CNAME:
                    if not self.cname:
                        self.cname = _wire.name_text(rrset.items[0])  # type: ignore[arg-type]
                    continue
                make = ipaddress.IPv4Address if rrset.rdtype == _wire.A else ipaddress.IPv6Address
                self.addrs.extend(IPAddr(make(packed)) for packed in rrset.items)
                if not self.cname:
                    self.cname = _wire.name_text(rrset.name)
        return strict_hit


@dataclass(frozen=True)
class FirstOutcomes:
    """The first search-list name's first exchanges, made already (by :class:`InlineLookup`):
    :func:`lookup_ip_dns` goes on from them instead of asking that name again."""

    fqdn: str
    queries: list[LeanQuery]
    outcomes: list[_Outcome]


async def lookup_ip_dns(
    asker: Asker, network: str, name: str, first: FirstOutcomes | None = None
) -> tuple[list[IPAddr], str, DNSError | None]:
    """The DNS half of Go's ``goLookupIPCNAMEOrder``: (addresses in answer order, canonical
    name, the error to report if there are no addresses).

    *network* ending in ``4``/``6`` asks A or AAAA only; ``"CNAME"`` asks A, AAAA and CNAME and
    stops at the first name with a canonical name. Records of another class or type are ignored.
    *name* must be a domain name (Go's ``isDomainName``): the caller has checked, as Go's
    ``goLookupIPCNAMEOrder`` does before it asks. *first*: see :class:`FirstOutcomes`.
    """
    qtypes = _qtypes(network)
    found = _Found([])
    for fqdn in asker.conf.name_list(name):
        if first is not None and first.fqdn == fqdn:
            results = await _go_on(asker, fqdn, qtypes, first.queries, first.outcomes)
            first = None
        else:
            results = await _ask_all(asker, fqdn, qtypes)
        if found.take(results, fqdn, name, asker.strict_errors):
            found.addrs = []
            break
        if found.addrs or (network == "CNAME" and found.cname):
            break
    last = renamed(found.last, name) if found.last is not None else None
    return found.addrs, found.cname, last


class InlineLookup:
    """:func:`lookup_ip_dns` for ``"ip"``, ``"ip4"`` or ``"ip6"`` as
    :class:`~._singleflight.Inline` work: the first search-list name's questions are sent when
    it is made, and :meth:`result` is ``sort(addresses)`` when those first replies settle every
    question and give an address (a NODATA for one family included); anything else (a
    timeout, TC, SERVFAIL, a socket error, no address at all) is handed on as
    ``later(first)``, the whole lookup going on from those exchanges.

    Made by :func:`start_inline`, which says when it applies.
    """

    __slots__ = ("_asker", "_first", "_fqdn", "_later", "_name", "_qtypes", "_queries", "_sort")

    def __init__(
        self,
        asker: Asker,
        name: str,
        fqdn: str,
        qtypes: list[dns.rdatatype.RdataType],
        queries: list[LeanQuery],
        sort: Callable[[list[IPAddr]], list[IPAddr]],
        later: Callable[[FirstOutcomes], Awaitable[list[IPAddr]]],
    ) -> None:
        self._asker, self._name, self._fqdn, self._qtypes = asker, name, fqdn, qtypes
        self._queries, self._sort, self._later = queries, sort, later
        self._first = _FirstTry(asker.servers[0], queries, asker.conf.timeout)

    def close(self) -> None:
        self._first.close()

    async def result(self) -> list[IPAddr] | Later[list[IPAddr]]:
        try:
            outcomes = await self._first.outcomes()
        except Exception:
            self.close()
            raise
        self.close()
        results = _settle(outcomes, self._qtypes, self._fqdn, self._asker.servers[0])
        settled = [r for r in results if r is not None]
        if len(settled) == len(results):
            # As lookup_ip_dns takes the first name's results. A settled error is never a
            # temporary one, so strict_errors cannot end the search here.
            found = _Found([])
            found.take(settled, self._fqdn, self._name, self._asker.strict_errors)
            if found.addrs:
                return self._sort(found.addrs)
        first = FirstOutcomes(self._fqdn, self._queries, outcomes)
        later = self._later
        return Later(lambda: later(first))


def start_inline(
    asker: Asker,
    network: str,
    name: str,
    sort: Callable[[list[IPAddr]], list[IPAddr]],
    later: Callable[[FirstOutcomes], Awaitable[list[IPAddr]]],
) -> InlineLookup | None:
    """:class:`InlineLookup` work for :func:`lookup_ip_dns` of *name* (a domain name), its first
    questions sent, its answer ordered by *sort*, what it cannot settle finished by *later*;
    None where it does not apply (then the lookup runs as before): real sockets
    of Trio's own, UDP first, the same first server for every question (:func:`_can_pair`), no
    ``single-request`` for two questions, *network* ``"ip"``, ``"ip4"`` or ``"ip6"``, and a
    name the query can carry (the usual path reports one it cannot).
    """
    if network not in ("ip", "ip4", "ip6") or not _can_pair(asker):
        return None
    qtypes = _qtypes(network)
    if len(qtypes) > 1 and asker.conf.single_request:
        return None
    names = asker.conf.name_list(name)
    if not names:
        return None
    fqdn = names[0]
    try:
        queries = [_lean_query(asker, fqdn, qtype) for qtype in qtypes]
    except DNSError:
        return None  # the usual path reports it, as it would
    return InlineLookup(asker, name, fqdn, qtypes, queries, sort, later)
