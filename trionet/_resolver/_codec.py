"""The DNS message codec: build a query, check and parse an answer (Go's ``dnsmessage`` use in
``dnsclient_unix.go``: ``newRequest``, ``checkResponse``, ``checkHeader``, ``skipToAnswer``).

What may live here: the query's wire form, deciding whether a reply answers our query, parsing it
(dnspython does the parsing), Go's header checks, and reading typed records out of an answer
(records of another class or type are ignored, as Go's parser skips them). Pure: no sockets, no
trio, no clock. The only state is two bounded caches (query templates, and parses of small
replies, keyed by their bytes); the round trips are :mod:`trionet._resolver._transport`'s.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, Final, NamedTuple, Protocol, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset

from .._errors import ERR_NO_SUCH_HOST
from . import _wire

__all__ = [
    "ERR_CANNOT_UNMARSHAL",
    "ERR_INVALID_RESPONSE",
    "ERR_LAME_REFERRAL",
    "ERR_MISBEHAVING",
    "MAX_ANSWER_RECORDS",
    "MAX_PACKET",
    "ExchangeError",
    "LeanQuery",
    "Query",
    "Truncated",
    "answer_rdatas",
    "check_header",
    "check_reply",
    "make_lean_query",
    "make_query",
    "rdatas_in",
]

MAX_PACKET: Final = 1232
"""The EDNS0 UDP payload size we advertise (Go's ``maxDNSPacketSize``, the DNS flag day value)."""

MAX_CACHED_REPLY: Final = MAX_PACKET
"""Replies longer than this many bytes are parsed every time, never kept: a cache entry holds at
most one reply a server may send over UDP without truncating (a 4,000-address answer over TCP
would otherwise pin some 500 KiB of parsed records per entry)."""

MAX_ANSWER_RECORDS: Final = 256
"""Answer records read from one reply; the rest, and the authority and additional sections of
such a reply, are not parsed. A UDP answer holds at most about 75 A records, so only a TCP
answer can exceed this; parsing (and sorting) 4,000 addresses held the event loop for some
150 ms, and no caller needs more (musl keeps 48 addresses, glibc's old resolver 35)."""

ERR_CANNOT_UNMARSHAL: Final = "cannot unmarshal DNS message"
ERR_INVALID_RESPONSE: Final = "invalid DNS response"
ERR_MISBEHAVING: Final = "server misbehaving"
ERR_LAME_REFERRAL: Final = "lame referral"


class ExchangeError(Exception):
    """One exchange with one server failed (becomes a :class:`~trionet.DNSError` naming that
    server). *text* is Go's; *temporary* and *timeout* become the DNSError's flags."""

    def __init__(self, text: str, *, temporary: bool = False, timeout: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.temporary = temporary
        self.timeout = timeout


class Truncated(Exception):
    """Our reply, with TC set; *msg* is its parse, None when only the header parsed."""

    def __init__(self, msg: dns.message.Message | _wire.Reply | None) -> None:
        super().__init__()
        self.msg = msg


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
    which a name asked for the first time pays. Keys are bounded: a ``Name`` is at most 255
    bytes.
    """
    flags = dns.flags.RD | (dns.flags.AD if trust_ad else 0)
    renderer = _new_renderer(0, flags, 65535)
    renderer.add_question(qname, rdtype, dns.rdataclass.IN)
    renderer.add_opt(_OPT)
    renderer.write_header()
    return renderer.get_wire()


@functools.lru_cache(maxsize=512)
def _parse_small(body: bytes) -> dns.message.Message:
    """dnspython's parse of a reply whose ID bytes were zeroed. Identical replies (the common
    case when the same name is asked again) are parsed once; the result is never mutated.
    Failures raise and are not cached. Only replies up to :data:`MAX_CACHED_REPLY` come here."""
    return dns.message.from_wire(b"\0\0" + body, ignore_trailing=True)


def _parse(data: bytes) -> dns.message.Message:
    if len(data) <= MAX_CACHED_REPLY:
        return _parse_small(data[2:])
    return dns.message.from_wire(_capped(data), ignore_trailing=True)


def _capped(data: bytes) -> bytes:
    """*data* with its record counts lowered so that at most :data:`MAX_ANSWER_RECORDS` records
    are parsed in all: dnspython stops there and ignores the rest as trailing bytes.

    RFC 1035 §4.1.1: ANCOUNT, NSCOUNT and ARCOUNT are bytes 6-11, and the sections follow in
    that order, so once one count is lowered the later sections cannot be reached.
    """
    left = MAX_ANSWER_RECORDS
    counts = [int.from_bytes(data[i : i + 2], "big") for i in (6, 8, 10)]
    if sum(counts) <= left:
        return data
    kept: list[int] = []
    for count in counts:
        kept.append(min(count, left))
        left = 0 if count > left else left - count
    return data[:6] + b"".join(c.to_bytes(2, "big") for c in kept) + data[12:]


def _head(data: bytes) -> dns.message.Message | None:
    try:
        return dns.message.from_wire(data, question_only=True)
    except (dns.exception.DNSException, ValueError):
        return None


class Query(NamedTuple):
    """One question on the wire: *wire* is the whole query message, ID included."""

    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    wire: bytes

    def _is_answer(self, data: bytes, head: dns.message.Message) -> bool:
        """Go's ``checkResponse``: a response, with our ID, to our question (name, type, class)."""
        if not head.flags & dns.flags.QR or data[:2] != self.wire[:2] or not head.question:
            return False
        got = head.question[0]
        # dnspython compares names case-insensitively, as Go's equalASCIIName does.
        return got.rdtype == self.rdtype and got.rdclass == dns.rdataclass.IN and got.name == self.qname

    def match(self, data: bytes) -> dns.message.Message | None:
        """The datagram *data* parsed, if it answers this query; None if it does not (a reply
        to something else, or noise: ignore it and keep waiting, as Go's ``dnsPacketRoundTrip``).

        Raises:
            Truncated: ours, with TC set.
            ExchangeError: ours, but the records cannot be parsed.
        """
        try:
            msg = _parse(data)
        except (dns.exception.DNSException, ValueError):
            # Whole-message parsing failed: is it ours at all (then it is broken), or noise?
            head = _head(data)
            if head is None or not self._is_answer(data, head):
                return None
            if head.flags & dns.flags.TC:
                raise Truncated(None) from None
            raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
        if not self._is_answer(data, msg):
            return None
        if msg.flags & dns.flags.TC:
            raise Truncated(msg)
        return msg

    def match_stream(self, data: bytes) -> dns.message.Message:
        """The reply *data* read from a TCP stream (Go's ``dnsStreamRoundTrip``): a truncated
        answer is used as it is (Go issue 64896); a reply to another question is an error.

        Raises:
            ExchangeError: ``cannot unmarshal DNS message`` or ``invalid DNS response``.
        """
        try:
            msg = self.match(data)
        except Truncated as truncated:
            if not isinstance(truncated.msg, dns.message.Message):
                raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
            return truncated.msg
        if msg is None:
            raise ExchangeError(ERR_INVALID_RESPONSE if _head(data) is not None else ERR_CANNOT_UNMARSHAL)
        return msg


def make_query(
    qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, trust_ad: bool, qid: int | None = None
) -> Query:
    """A recursive query for *qname*/*rdtype* (class IN) with EDNS0 (:data:`MAX_PACKET`) and
    the AD bit when *trust_ad*; *qid* None draws the ID from :mod:`secrets`."""
    wire = _template(qname, rdtype, trust_ad)
    if qid is None:
        qid = secrets.randbits(16)
    # RFC 1035 §4.1.1: the ID is the first 16 bits; dnspython rendered everything else.
    return Query(qname, rdtype, qid.to_bytes(2, "big") + wire[2:])


def check_header(msg: dns.message.Message, qtype: dns.rdatatype.RdataType) -> str | None:
    """Go's ``checkHeader`` + ``skipToAnswer``: None if *msg* holds a *qtype* answer, else why not.

    ``"no such host"`` for NXDOMAIN and for an answer without a *qtype* record of class IN
    (NODATA: records of another class do not count, as Go's ``skipToAnswer`` skips them).
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
    if not any(rrset.rdtype == qtype and rrset.rdclass == dns.rdataclass.IN for rrset in msg.answer):
        return ERR_NO_SUCH_HOST
    return None


@functools.lru_cache(maxsize=64)  # bounded: a reply's types are the server's choice
def _rdata_class(rdtype: dns.rdatatype.RdataType) -> type[Any] | None:
    """dnspython's class for IN records of *rdtype*, None when it parses them generically."""
    try:
        cls: type[Any] = dns.rdata.get_rdata_class(dns.rdataclass.IN, rdtype)  # type: ignore[no-untyped-call]
    except Exception:  # pragma: no cover - dnspython knows every type asked here
        return None
    return cls


def rdatas_in(rrset: dns.rrset.RRset) -> list[Any]:
    """The rdatas of *rrset* if it is of class IN, each parsed into dnspython's class for its
    type; ``[]`` otherwise.

    A record of another class (CH, 42) or an rdata dnspython could only parse generically
    (``GenericRdata``) is ignored, as Go's parser skips records of the wrong class: the caller
    can read the fields its type promises. dnspython's rdata fields are set dynamically, so the
    result is untyped.
    """
    if rrset.rdclass != dns.rdataclass.IN:
        return []
    cls = _rdata_class(rrset.rdtype)
    rdatas: list[Any] = list(rrset)
    return [rd for rd in rdatas if cls is None or isinstance(rd, cls)]


def answer_rdatas(msg: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> list[Any]:
    """Every rdata of type *rdtype* and class IN in the answer section, in order (see
    :func:`rdatas_in` for what is ignored)."""
    return [rd for rrset in msg.answer if rrset.rdtype == rdtype for rd in rdatas_in(rrset)]


# -- the lean path: A, AAAA and CNAME questions (issue 15) -----------------------------------------
# The same contract as Query, through the lean codec of :mod:`trionet._resolver._wire`, which
# builds the same bytes as make_query and parses the replies a resolver sees every day without
# dnspython's message layer (half the CPU of a new-name lookup); dnspython still parses what
# the lean codec hands back (other types, EDNS options), converted to the same Reply.
_QR: Final = 0x8000
_TC: Final = 0x0200
_AA_RA: Final = 0x0480


@functools.lru_cache(maxsize=512)
def _lean_name(text: str) -> tuple[bytes, _wire.Labels, tuple[bytes, ...]]:
    """(wire form, labels, lowercased labels) of the absolute name *text*; dnspython encodes the
    names the lean encoder leaves alone (escapes, IDNA). Keys are bounded by the caller (254
    chars).

    Raises:
        dns.exception.DNSException: dnspython refuses the name.
    """
    # to_wire() without a file always returns the bytes (its type says "or None"); a name's
    # wire form is never empty, so the "or" only narrows the type.
    wire = _wire.encode_name(text) or dns.name.from_text(text).to_wire() or b"\0"
    labels, _ = _wire.read_name(wire, 0)
    return wire, labels, tuple(label.lower() for label in labels)


def _decode_any(data: bytes) -> _wire.Reply:
    """*data* as a Reply: the lean codec, or dnspython for what it hands back.

    Raises:
        _wire.WireError: malformed (by either parser).
    """
    try:
        return _wire.decode(data)
    except _wire.Unsupported:
        pass
    try:
        msg = dns.message.from_wire(data, ignore_trailing=True)
    except Exception:
        raise _wire.WireError("dnspython refused the message") from None
    return _wire.from_message(msg)


@functools.lru_cache(maxsize=512)
def _decode_small(body: bytes) -> _wire.Reply:
    """:func:`_decode_any` of a reply whose ID bytes were zeroed (the ID is checked before);
    identical replies are decoded once, as :func:`_parse_small`; failures are not cached."""
    return _decode_any(b"\0\0" + body)


def _lean_head(data: bytes) -> tuple[int, _wire.Labels, int, int] | None:
    """(flags, question name, type, class) of *data*, or None if it has no readable question."""
    try:
        head = _wire.decode_head(data)
    except _wire.WireError:
        return None
    except _wire.Unsupported:
        msg = _head(data)
        if msg is None or not msg.question:
            return None
        q = msg.question[0]
        return int(msg.flags), q.name.labels, int(q.rdtype), int(q.rdclass)
    return head.flags, head.qname, head.qtype, head.qclass


def _head_parses(data: bytes) -> bool:
    """Whether the header and question section of *data* parse (as ``_head(data) is not None``)."""
    try:
        _wire.decode_head(data)
    except _wire.WireError:
        return False
    except _wire.Unsupported:
        return _head(data) is not None
    return True


class LeanQuery(NamedTuple):
    """An A, AAAA or CNAME question as :class:`Query`, answered with a :class:`_wire.Reply`.
    *qkey* is the name's labels lowercased (Go's ``equalASCIIName`` compares case-blind),
    *qlabels* as given; *qend* is where the question section ends in *wire*."""

    qkey: tuple[bytes, ...]
    rdtype: int
    wire: bytes
    qlabels: _wire.Labels
    qend: int

    def _is_answer(self, data: bytes, flags: int, qname: _wire.Labels, qtype: int, qclass: int) -> bool:
        """Go's ``checkResponse``, as :meth:`Query._is_answer`."""
        return (
            bool(flags & _QR)
            and data[:2] == self.wire[:2]
            and qtype == self.rdtype
            and qclass == dns.rdataclass.IN
            and tuple(label.lower() for label in qname) == self.qkey
        )

    def match(self, data: bytes) -> _wire.Reply | None:
        """As :meth:`Query.match`: the reply, or None to ignore *data*.

        Raises:
            Truncated: ours, with TC set.
            ExchangeError: ours, but the records cannot be parsed.
        """
        if data[:2] != self.wire[:2]:
            return None  # another ID: never ours, whatever the rest holds
        # The everyday reply (our question echoed, address records owned by a pointer to it)
        # in one pass; anything else, decided or not, by the general path below.
        echo = _wire.decode_echo(data, self.wire, self.qend, self.qlabels)
        if echo is not None and echo.flags & _QR:
            if echo.flags & _TC:
                raise Truncated(echo)
            return echo
        try:
            # A large reply is decoded up to MAX_ANSWER_RECORDS records, and never cached.
            reply = _decode_small(data[2:]) if len(data) <= MAX_CACHED_REPLY else _decode_any(_capped(data))
        except _wire.WireError:
            head = _lean_head(data)
            if head is None or not self._is_answer(data, *head):
                return None
            if head[0] & _TC:
                raise Truncated(None) from None
            raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
        if not self._is_answer(data, reply.flags, reply.qname, reply.qtype, reply.qclass):
            return None
        if reply.flags & _TC:
            raise Truncated(reply)
        return reply

    def match_stream(self, data: bytes) -> _wire.Reply:
        """As :meth:`Query.match_stream`.

        Raises:
            ExchangeError: ``cannot unmarshal DNS message`` or ``invalid DNS response``.
        """
        try:
            reply = self.match(data)
        except Truncated as truncated:
            if not isinstance(truncated.msg, _wire.Reply):
                raise ExchangeError(ERR_CANNOT_UNMARSHAL) from None
            return truncated.msg
        if reply is None:
            raise ExchangeError(ERR_INVALID_RESPONSE if _head_parses(data) else ERR_CANNOT_UNMARSHAL)
        return reply


def make_lean_query(name: str, rdtype: int, trust_ad: bool, qid: int | None = None) -> LeanQuery:
    """The query :func:`make_query` would build for the absolute name *name* (text), by the
    lean codec; *qid* None draws the ID from :mod:`secrets`.

    Raises:
        dns.exception.DNSException: not a name dnspython can encode.
    """
    wire, labels, qkey = _lean_name(name)
    if qid is None:
        qid = secrets.randbits(16)
    query = _wire.build_query(wire, rdtype, qid, trust_ad=trust_ad)
    return LeanQuery(qkey, rdtype, query, labels, 12 + len(wire) + 4)


def check_reply(reply: _wire.Reply, qtype: int) -> str | None:
    """:func:`check_header` for a :class:`_wire.Reply` (its answer holds class IN records only)."""
    rcode = reply.rcode
    if rcode == dns.rcode.NXDOMAIN:
        return ERR_NO_SUCH_HOST
    if (
        rcode == dns.rcode.NOERROR
        and not reply.flags & _AA_RA
        and not reply.has_answer
        and not reply.has_additional
    ):
        return ERR_LAME_REFERRAL
    if rcode != dns.rcode.NOERROR:
        return ERR_MISBEHAVING
    for rrset in reply.answer:
        if rrset.rdtype == qtype:
            return None
    return ERR_NO_SUCH_HOST
