"""The RFC 8305 strategy inside a dial: ``Dialer(happy_eyeballs=HappyEyeballs(...))``.

Go's steps 3 to 5 (resolve, partition, race) become one step for ``tcp``/``tcp4``/``tcp6``:
the answers feed the race as they arrive (RFC 8305 §3), so resolving cannot finish before
connecting starts. :func:`dial_rfc8305` builds the seams :class:`~trionet._rfc8305_race.Stagger`
runs on:

* **one lookup per answer**: AAAA and A are two concurrent ``lookup_ip_addr(host,
  network="ip6"/"ip4")`` calls on the dialer's resolver, each through Go's ``resolveAddrList``
  (``_addrlist.lookup_addr_list``) so the port, the network's family and ``local_addr`` filter
  them exactly as in Go's algorithm. Hosts-file names answer both at once (the resolver reads
  the file, no I/O); so do IP literals, which skip the lookups altogether. With
  ``https_records`` a third lookup asks the HTTPS record (:func:`_https_lookup`).
* **one attempt per address**: ``SysDialer.attempt`` (Go's ``dialSingle``) with no partial
  deadline — RFC 8305 attempts overlap, so no share of the time is theirs alone; the dialer's own
  deadline and the enclosing scopes cover the whole strategy.

Errors are the dial's as ever: every attempt failed → the first attempt's :class:`OpError`, with
all of them in ``__cause__``; no address at all → ``dial tcp: lookup NAME: ...``; the dialer's
own timeout → ``dial tcp FIRST: i/o timeout`` naming the first address attempted (a
:class:`TimeoutError`), or the lookup's timeout when nothing was attempted yet.

The port rule for HTTPS records: a record describes the name's HTTPS origin, port 443 (RFC 9460
§9.1 names other ports' records ``_PORT._https.NAME``, which are not asked). So its ``port``
replaces the dial's port only when the dial named 443 (or ``https``); any other port is kept.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Awaitable, Sequence
from typing import Final, cast

import dns.rdtypes.IN.HTTPS
import dns.rdtypes.svcbbase
import trio

from . import trace
from ._address import (
    Addr,
    IPAddr,
    TCPAddr,
    is_ipv4,
    is_wildcard,
    join_host_port,
    parse_ip,
    parse_port,
    split_host_port,
)
from ._addrlist import is_ipv4_addr, lookup_addr_list, suits_local
from ._attempt import SysDialer, Target, describe
from ._errors import DNSError, OpError
from ._resolver import Resolver, default_resolver
from ._rfc8305 import Family, HappyEyeballs, alpn_registry
from ._rfc8305_race import AnswerKind, Lookup, Stagger

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

__all__ = ["dial_rfc8305"]

#: The HTTPS port whose origin an HTTPS record describes.
HTTPS_PORT: Final = 443

#: How many AliasMode hops are followed (RFC 9460 §3.1: clients SHOULD bound the chain).
MAX_ALIAS_HOPS: Final = 4


def _family(addr: Addr) -> Family:
    return 4 if is_ipv4_addr(addr) else 6


class _OneFamily:
    """The dialer's resolver asked for one family only, whatever network the caller passes
    (``lookup_addr_list`` asks ``"ip"`` for ``tcp``): the A or the AAAA half of a lookup."""

    __slots__ = ("_network", "_resolver")

    def __init__(self, resolver: Resolver, network: str) -> None:
        self._resolver = resolver
        self._network = network

    async def lookup_port(self, network: str, service: str) -> int:
        return await self._resolver.lookup_port(network, service)

    async def lookup_ip_addr(self, host: str, *, network: str = "ip") -> list[IPAddr]:
        ips = await self._resolver.lookup_ip_addr(host, network=self._network)
        # The hosts file (and an IP literal) answers with every family: keep ours.
        v4 = self._network == "ip4"
        ips = [a for a in ips if (a.ip is not None and a.ip.version == 4) == v4]
        if not ips:
            raise DNSError("no such host", host, is_not_found=True)
        return ips


@dataclasses.dataclass(slots=True)
class _Https:
    """What the HTTPS answer said, once it came."""

    port: int | None = None
    alpn: tuple[str, ...] = ()
    target: str | None = None


class _Dial:
    """One RFC 8305 dial: the race's observer (trace events, what a timeout names) and the
    port an HTTPS record asks for. It is the dial's ``in_flight`` strategy (``_dial._timed_out``
    asks it what to say) once the first attempt has started."""

    __slots__ = (
        "_quiet",
        "_real",
        "_resolved",
        "_sd",
        "addrs",
        "errors",
        "host",
        "https",
        "lookups_left",
        "stagger",
    )

    def __init__(self, sd: SysDialer, he: HappyEyeballs, addrs: tuple[Addr, ...], host: str) -> None:
        self._sd = sd
        # The attempts run on an untraced copy: this class emits their events, with positions.
        self._quiet = SysDialer(sd.d, sd.net, sd.address, sd.local, None, self_connected=sd.self_connected)
        self._real: dict[Addr, Addr] = {}
        self._resolved: list[str] = []
        #: The addresses known without a lookup (literals), or ().
        self.addrs = addrs
        #: The host name looked up ("" for literals).
        self.host = host
        #: What the HTTPS answer said (empty until it comes).
        self.https = _Https()
        #: Lookups not answered yet; -1 once ResolveDone was emitted.
        self.lookups_left = 0
        self.stagger: Stagger[Addr, trio.socket.SocketType] = Stagger(
            he, self._attempt, _family, observer=self, order=self._rfc6724 if host else None
        )
        #: Every attempt error so far, in the order they happened (the race's own list).
        self.errors: list[OSError] = self.stagger.errors

    # -- the Strategy protocol (``_dial._timed_out``) ------------------------------------------
    def expired_error(self) -> OSError:
        """``dial tcp FIRST: i/o timeout``, naming the first address attempted (RFC 8305 has
        no serial walk whose "next address" Go would name; the first is the most relevant)."""
        attempted = self.stagger.attempted
        return self._sd.timeout_error(self.real(attempted[0]) if attempted else self.addrs[0])

    # -- addresses -----------------------------------------------------------------------------
    def real(self, addr: Addr) -> Addr:
        """*addr* as dialed: with the HTTPS record's port when the dial named 443. Fixed the
        first time an address is asked for, so its trace events and its attempt agree."""
        got = self._real.get(addr)
        if got is None:
            got = addr
            port = self.https.port
            if port is not None and isinstance(addr, TCPAddr) and addr.port == HTTPS_PORT:
                got = TCPAddr(addr.ip, port, addr.zone)
            self._real[addr] = got
        return got

    def _rfc6724(self, addrs: list[Addr]) -> list[Addr]:
        """The A and AAAA answers sorted together, as the resolver sorts one answer (RFC 6724,
        with the kernel's source address for each): the race's §4 order across families."""
        resolver = self._sd.d.resolver or default_resolver
        by_ip = {IPAddr(a.ip, a.zone): a for a in addrs if isinstance(a, TCPAddr)}
        if len(by_ip) != len(addrs):
            return addrs  # (only TCP addresses race)
        ordered = resolver._sort_addrs(self.host, list(by_ip))  # pyright: ignore[reportPrivateUsage]
        return [by_ip[ip] for ip in ordered if ip in by_ip]

    def _attempt(self, addr: Addr) -> Awaitable[trio.socket.SocketType]:
        return self._quiet.attempt(self.real(addr))

    # -- the race's observer -------------------------------------------------------------------
    def answer(self, kind: AnswerKind, addrs: Sequence[Addr], error: OSError | None) -> None:
        """An answer arrived: DNSAnswer, and ResolveDone after the last one."""
        self._resolved.extend(str(a) for a in addrs)
        tracer = self._sd.tracer
        if tracer is not None:
            https = self.https if kind == "HTTPS" else _Https()
            tracer.emit(
                trace.DNSAnswer(
                    **tracer.stamp(),
                    host=self.host,
                    kind=kind,
                    addrs=tuple(str(a) for a in addrs),
                    error=error,
                    alpn=https.alpn,
                    port=https.port,
                    target=https.target,
                )
            )
        self.lookups_left -= 1
        if self.lookups_left == 0:
            self.resolve_done(None if self._resolved else error)

    def target_answer(self, target: str, addrs: Sequence[Addr], error: OSError | None) -> None:
        """The HTTPS record's target name answered (A and AAAA together): one DNSAnswer per
        family, or one failure."""
        tracer = self._sd.tracer
        if tracer is None:
            return
        groups: list[tuple[AnswerKind, tuple[str, ...]]] = []
        for kind, family in (("AAAA", 6), ("A", 4)):
            found = tuple(str(a) for a in addrs if _family(a) == family)
            if found:
                groups.append((kind, found))  # type: ignore[arg-type]
        if error is not None or not groups:
            groups = [("A", ())]
        for kind, found in groups:
            tracer.emit(
                trace.DNSAnswer(
                    **tracer.stamp(),
                    host=target,
                    kind=kind,
                    addrs=found,
                    error=error,
                )
            )

    def resolve_done(self, error: BaseException | None) -> None:
        """Emit ResolveDone once: after the last answer, or when the dial ends before it (a
        :class:`trio.Cancelled` *error*: the lookups still running were cancelled, by the
        winner, the dialer's own timeout or an enclosing scope)."""
        if self.lookups_left < 0:
            return
        self.lookups_left = -1
        tracer = self._sd.tracer
        if tracer is not None:
            cancelled = isinstance(error, trio.Cancelled)
            tracer.emit(
                trace.ResolveDone(
                    **tracer.stamp(),
                    host=self.host,
                    addrs=tuple(self._resolved),
                    error=error,
                    cancelled=cancelled,
                )
            )

    def attempt_start(self, addr: Addr, position: int) -> None:
        """An attempt is starting (called in position order, before its task runs)."""
        if position == 0:
            self._sd.in_flight = self  # the dialer's own timeout now names the first address
        tracer = self._sd.tracer
        if tracer is not None:
            text, family = describe(self.real(addr))
            tracer.emit(
                trace.AttemptStart(
                    **tracer.stamp(),
                    addr=text,
                    family=family,
                    role=self._role(addr),
                    deadline=math.inf,  # RFC 8305 attempts have no deadline of their own
                    position=position,
                )
            )

    def attempt_done(self, addr: Addr, position: int, error: OSError | None, cancelled: bool) -> None:
        """An attempt connected, failed or was cancelled."""
        tracer = self._sd.tracer
        if tracer is not None:
            text, family = describe(self.real(addr))
            tracer.emit(
                trace.AttemptDone(
                    **tracer.stamp(),
                    addr=text,
                    family=family,
                    role=self._role(addr),
                    error=error,
                    cancelled=cancelled,
                    position=position,
                )
            )

    def loser_closed(self, addr: Addr, position: int) -> None:
        """A connection that lost the race was closed."""
        tracer = self._sd.tracer
        if tracer is not None:
            tracer.emit(
                trace.LoserClosed(
                    **tracer.stamp(),
                    addr=str(self.real(addr)),
                    role=self._role(addr),
                    position=position,
                )
            )

    def delay(self, name: str, seconds: float) -> None:
        """The attempt or resolution delay began."""
        tracer = self._sd.tracer
        if tracer is not None:
            tracer.emit(trace.DelayStart(**tracer.stamp(), name=name, delay=seconds))

    def _role(self, addr: Addr) -> trace.Role:
        # The preferred family plays Go's primary racer in the timeline's two rows.
        return "primary" if _family(addr) == self.stagger.preferred else "fallback"


async def dial_rfc8305(
    sd: SysDialer, he: HappyEyeballs, addrs: tuple[Addr, ...] | None, target: Target | None
) -> tuple[trio.socket.SocketType, Addr]:
    """Steps 3 to 5 of a ``tcp*`` dial with the RFC 8305 strategy: returns the winning socket
    and its address. *addrs* are the addresses when no lookup is needed (the plan's literals,
    or a hosts-file name's from memory; else None), *target* the plan's ``(family,
    sockaddr)`` for a single literal.

    Raises:
        OpError: as :meth:`trionet.Dialer.dial` says.
        trio.Cancelled: the dialer's own deadline (``_dial`` turns that into the timeout
            error) or an enclosing scope.
    """
    if addrs is not None and len(addrs) == 1 and sd.tracer is None:
        # One literal, nobody tracing: the strategy is one attempt (the IP-literal hot path).
        addr = sd.in_flight = addrs[0]
        return await sd.attempt(addr, target=target), addr
    host = "" if addrs is not None else _host_of(sd.address)
    if addrs is None and parse_ip(host) is not None:
        # An IP literal with a service-name port ("192.0.2.1:https"): no DNS, both at once.
        resolver = sd.d.resolver or default_resolver
        try:
            addrs = await lookup_addr_list(resolver, "dial", sd.net, sd.address, sd.local)
        except OSError as exc:
            raise OpError("dial", sd.net.name, None, None, exc) from None
        host = ""
    dial = _Dial(sd, he, addrs or (), host)
    lookups = [] if addrs is not None else _lookups(sd, he, dial)
    tracer = sd.tracer
    if lookups:
        sd.in_flight = "resolve"  # until the first attempt: a timeout is the lookup's
        dial.lookups_left = len(lookups)
        if tracer is not None:
            tracer.emit(trace.ResolveStart(**tracer.stamp(), host=host))
    else:
        dial.lookups_left = -1
        sd.in_flight = dial
    try:
        sock, addr = await dial.stagger.run(addrs or (), lookups)
    except OSError as exc:
        if not dial.stagger.attempted:  # nothing to try: the lookup's error, as Go's
            dial.resolve_done(exc)
            raise OpError("dial", sd.net.name, None, None, exc) from None
        dial.resolve_done(None)
        if len(dial.stagger.errors) > 1:
            # As Go's race: the first attempt's error, every attempt's in __cause__.
            raise exc from ExceptionGroup("every dial attempt failed", dial.stagger.errors)
        raise
    except trio.Cancelled as exc:
        dial.resolve_done(exc)  # the dialer's own timeout or an enclosing scope
        raise
    finally:
        dial.resolve_done(None)  # a winner before the last answer: the rest was not needed
    if dial.https.alpn:
        alpn_registry[sock] = dial.https.alpn
    return sock, dial.real(addr)


def _host_of(address: str) -> str:
    try:
        return split_host_port(address)[0]
    except OSError:  # pragma: no cover - the plan rejected it already
        return address


def _lookups(sd: SysDialer, he: HappyEyeballs, dial: _Dial) -> list[Lookup[Addr]]:
    """AAAA and A (as the network allows), and HTTPS when asked for, in that order: when all
    fail, the AAAA error is the one raised (the first lookup's)."""
    resolver = sd.d.resolver or default_resolver

    def family(network: str) -> Lookup[Addr]:
        async def run() -> Sequence[Addr]:
            return await lookup_addr_list(_OneFamily(resolver, network), "dial", sd.net, sd.address, sd.local)

        return Lookup("AAAA" if network == "ip6" else "A", run)

    # A non-wildcard local IP allows one family only (Go's filterAddrList): the other family's
    # lookup could bring nothing dialable, and waiting the resolution delay for it would only
    # make the dial later.
    afnet = sd.net.afnet
    local = sd.local
    if afnet == "tcp" and isinstance(local, TCPAddr) and not is_wildcard(local.ip):
        afnet = "tcp4" if is_ipv4(local.ip) else "tcp6"
    out: list[Lookup[Addr]] = []
    if afnet != "tcp4":
        out.append(family("ip6"))
    if afnet != "tcp6":
        out.append(family("ip4"))
    if he.https_records:

        async def https() -> Sequence[Addr]:
            return await _https_lookup(resolver, sd, dial)

        out.append(Lookup("HTTPS", https))
    return out


async def _https_lookup(resolver: Resolver, sd: SysDialer, dial: _Dial) -> list[Addr]:
    """The HTTPS record's addresses: its hints, and a target name's own addresses.

    AliasMode (priority 0) records are followed, at most :data:`MAX_ALIAS_HOPS` deep; of the
    ServiceMode records the one with the lowest priority is used. Its port and ALPN are kept in
    ``dial.https`` (the port is applied by ``_Dial.real``). No record: no addresses.
    """
    name = dial.host
    records = await resolver._lookup_https(name)  # pyright: ignore[reportPrivateUsage]
    for _ in range(MAX_ALIAS_HOPS):
        alias = next((r for r in records if r.priority == 0), None)
        if alias is None:
            break
        target = alias.target.to_text(omit_final_dot=True)
        if target in ("", "."):
            return []  # RFC 9460 §2.5.1: AliasMode to "." means the service is not available
        name = target
        records = await resolver._lookup_https(name)  # pyright: ignore[reportPrivateUsage]
    services = sorted((r for r in records if r.priority > 0), key=lambda r: r.priority)
    if not services:
        return []
    record = services[0]
    target = record.target.to_text(omit_final_dot=True)
    if target in ("", "."):
        target = name  # ServiceMode "." : the owner name itself (after any alias)
    port, alpn, v6hints, v4hints = _service_params(record)
    dial.https = _Https(
        port=port,
        alpn=alpn,
        target=None if target.lower() == dial.host.lower().rstrip(".") else target,
    )
    dial_port = await _dial_port(resolver, sd)
    hints: list[Addr] = []
    for texts, want in ((v6hints, "tcp6"), (v4hints, "tcp4")):
        if sd.net.afnet not in ("tcp", want):
            continue
        for text in texts:
            parsed = parse_ip(text)
            if parsed is None:
                continue
            hint = TCPAddr(parsed[0], dial_port, parsed[1])
            # The local-address rule answers get (lookup_addr_list) holds for hints too.
            if sd.local is None or suits_local(hint, sd.local):
                hints.append(hint)
    if dial.https.target is not None:
        # The service lives at another name: its own addresses join the race as real answers
        # (hints are dropped once their family's answer is in; these are not hints).
        try:
            found = await lookup_addr_list(
                resolver, "dial", sd.net, join_host_port(target, str(dial_port)), sd.local
            )
        except OSError as exc:
            dial.target_answer(target, (), exc)  # the origin's own A/AAAA answers still serve
        else:
            dial.target_answer(target, found, None)
            dial.stagger.feed(found)
    return hints


def _service_params(
    record: dns.rdtypes.IN.HTTPS.HTTPS,
) -> tuple[int | None, tuple[str, ...], list[str], list[str]]:
    """(port, ALPN IDs, IPv6 hints, IPv4 hints) of a ServiceMode record (dnspython leaves the
    parameter values untyped, hence the casts)."""
    params = cast("dict[dns.rdtypes.svcbbase.ParamKey, object]", record.params)
    keys = dns.rdtypes.svcbbase.ParamKey
    port_param = params.get(keys.PORT)
    alpn_param = params.get(keys.ALPN)
    port = port_param.port if isinstance(port_param, dns.rdtypes.svcbbase.PortParam) else None
    alpn: tuple[str, ...] = ()
    if isinstance(alpn_param, dns.rdtypes.svcbbase.ALPNParam):
        ids = cast("tuple[bytes, ...]", alpn_param.ids)  # pyright: ignore[reportUnknownMemberType]
        alpn = tuple(i.decode("ascii", "replace") for i in ids)
    hints: list[list[str]] = []
    for key in (keys.IPV6HINT, keys.IPV4HINT):
        addresses = cast("tuple[object, ...]", getattr(params.get(key), "addresses", ()))
        hints.append([str(a) for a in addresses])
    return port, alpn, hints[0], hints[1]


async def _dial_port(resolver: Resolver, sd: SysDialer) -> int:
    port, needs_lookup = parse_port(split_host_port(sd.address)[1])
    if needs_lookup:
        port = await resolver.lookup_port(sd.net.afnet, split_host_port(sd.address)[1])
    return port
