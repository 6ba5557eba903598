"""A lean DNS wire codec for the resolver's hot path: A/AAAA queries and the replies to them.

Go's resolver does not use a general DNS library on this path either (``dnsmessage``'s builder
and parser). Pure: no I/O, no trio. What it covers, and only this:

* :func:`build_query`: one question, RD (and AD when asked), an EDNS0 OPT record with Go's
  1232-byte payload, the caller's ID: byte for byte what dnspython's
  ``make_query(name, type, use_edns=0, payload=1232)`` renders (a test checks);
  :func:`encode_name` gives a plain ASCII name's wire form (None: let dnspython encode it).
* :func:`decode`: a reply's header, its one question, and its records when every record is
  in the lean subset: class IN A, AAAA and CNAME answers, an SOA in the authority section (a
  NODATA or NXDOMAIN reply carries one), an OPT without options in the additional section.

dnspython stays the **reference**. Each rule below is dnspython 2.9's (``dns.message``,
``dns.name.from_wire_parser``): compression pointers must point strictly backwards, at most 16
of them, each target wholly before the previous segment; names at most 255 octets; labels
0x40-0xBF refused; rdata exactly its length; an OPT only in the additional section, once,
owned by the root; any TSIG refused (we hold no key); trailing bytes ignored. Records are
grouped into RRsets as dnspython groups them (owner compared case-insensitively, first owner
spelling kept, duplicates dropped, the lowest TTL, a later CNAME replacing an earlier one).

Two ways out besides a result: :class:`WireError`, the message is malformed and dnspython
rejects it too; :class:`Unsupported`, it is outside the subset (another type or class, EDNS
options, an UPDATE, not exactly one question) and the caller asks dnspython. A differential
fuzz test (``tests/test_dnswire.py``) holds both to that contract on random, mutated and
hostile input, and :func:`from_message` converts dnspython's parse to the same :class:`Reply`.
"""

from __future__ import annotations

import struct
from typing import Any, Final, NamedTuple, cast

import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.rdataclass

__all__ = [
    "AAAA",
    "CNAME",
    "ECHO_MAX_RECORDS",
    "MAX_PAYLOAD",
    "A",
    "Head",
    "RRset",
    "Reply",
    "Unsupported",
    "WireError",
    "build_query",
    "decode",
    "decode_echo",
    "decode_head",
    "encode_name",
    "from_message",
    "name_text",
    "read_name",
]

A: Final = 1
CNAME: Final = 5
SOA: Final = 6
AAAA: Final = 28
OPT: Final = 41
TSIG: Final = 250
_IN: Final = 1
_UPDATE: Final = 5  # the opcode whose sections dnspython reads differently

MAX_PAYLOAD: Final = 1232
"""The EDNS0 UDP payload size advertised (Go's ``maxDNSPacketSize``, the DNS flag day value)."""

_MAX_HOPS: Final = 16  # dnspython's MAX_COMPRESSION_POINTER_CHAIN
_HEADER: Final = struct.Struct("!HHHHHH")
_RR: Final = struct.Struct("!HHIH")
_QTAIL: Final = struct.Struct("!HH")
_OPT_RR: Final = b"\x00" + _RR.pack(OPT, MAX_PAYLOAD, 0, 0)  # root owner, version 0, no options
_RD: Final = 0x0100
_AD: Final = 0x0020

Labels = tuple[bytes, ...]
"""A name as dnspython's ``Name.labels``: the labels, then ``b""`` for the root."""


class WireError(ValueError):
    """The message is malformed: dnspython rejects it as well."""


class Unsupported(Exception):
    """The message is outside the lean subset; dnspython must parse it."""


class Head(NamedTuple):
    """The header and the one question of a message; *end* is the offset after the question."""

    id: int
    flags: int
    qname: Labels
    qtype: int
    qclass: int
    counts: tuple[int, int, int]
    end: int


class RRset(NamedTuple):
    """Class IN records of one owner and type. *items*: the 4- or 16-byte addresses of A or
    AAAA records, or one CNAME target's labels."""

    name: Labels
    rdtype: int
    ttl: int
    items: tuple[bytes | Labels, ...]


class Reply(NamedTuple):
    """What the resolver needs from a reply to an A or AAAA query.

    *rcode* includes the EDNS extended bits; *answer* holds the class IN A, AAAA and CNAME
    RRsets in dnspython's order; *has_answer* is whether the answer section held any record at
    all, *has_additional* whether the additional section did (the OPT included): Go's
    lame-referral test needs both.
    """

    id: int
    flags: int
    rcode: int
    qname: Labels
    qtype: int
    qclass: int
    answer: tuple[RRset, ...]
    has_answer: bool
    has_additional: bool


# -- building ------------------------------------------------------------------------------------
def encode_name(text: str) -> bytes | None:
    """The wire form of the absolute name *text* (``"example.com."``, ``"example.com"``,
    ``"."``), or None when it is not plain: non-ASCII (IDNA), escapes, ``"@"``, empty or
    over-long labels, over 255 octets. dnspython encodes (or refuses) those."""
    if not text.isascii() or "\\" in text or text == "@":
        return None
    if text == ".":
        return b"\x00"
    raw = text.encode("ascii")
    if raw.endswith(b"."):
        raw = raw[:-1]
    out = bytearray()
    for label in raw.split(b"."):
        if not 0 < len(label) < 64:
            return None
        out.append(len(label))
        out += label
    out.append(0)
    return bytes(out) if len(out) <= 255 else None


def build_query(qname: bytes, qtype: int, qid: int, *, trust_ad: bool = False) -> bytes:
    """A query for the wire-form name *qname*, class IN, with ID *qid* (0-65535), RD set, AD
    set when *trust_ad*, and an EDNS0 OPT record (version 0, no options, MAX_PAYLOAD)."""
    flags = _RD | (_AD if trust_ad else 0)
    return _HEADER.pack(qid, flags, 1, 0, 0, 1) + qname + _QTAIL.pack(qtype, _IN) + _OPT_RR


# -- parsing -------------------------------------------------------------------------------------
def _name(data: bytes, pos: int, end: int) -> tuple[Labels, int]:
    """The (possibly compressed) name at *pos*, read within ``data[:end]``; (labels, offset
    after it). dnspython's rules, see the module docstring.

    Raises:
        WireError: truncated, a forward or self pointer, too many pointers, a reserved label
            type, or longer than 255 octets.
    """
    labels: list[bytes] = []
    total = 1  # the root label's length octet
    start = limit = pos
    after = -1
    hops = 0
    while True:
        if pos >= end:
            raise WireError("name runs past the data")
        count = data[pos]
        if count == 0:
            pos += 1
            break
        if count < 64:
            pos += 1
            stop = pos + count
            if stop > end:
                raise WireError("label runs past the data")
            labels.append(data[pos:stop])
            total += count + 1
            if total > 255:
                raise WireError("name longer than 255 octets")
            pos = stop
        elif count >= 192:
            if pos + 2 > end:
                raise WireError("pointer runs past the data")
            target = ((count & 0x3F) << 8) | data[pos + 1]
            if target >= limit:
                raise WireError("compression pointer does not point backwards")
            hops += 1
            if hops > _MAX_HOPS:
                raise WireError("compression pointer chain too long")
            if after < 0:
                after = pos + 2
            # dnspython: the target's labels must end before the segment that pointed there.
            end = start
            pos = start = limit = target
        else:
            raise WireError("reserved label type")
    labels.append(b"")
    return tuple(labels), (pos if after < 0 else after)


def read_name(data: bytes, pos: int) -> tuple[Labels, int]:
    """The name at *pos* in *data* and the offset after it (see :func:`decode` for the rules).

    Raises:
        WireError: malformed.
    """
    return _name(data, pos, len(data))


def decode_head(data: bytes) -> Head:
    """The header and question of *data*.

    Raises:
        WireError: shorter than a header, or the question is malformed.
        Unsupported: an UPDATE, or not exactly one question.
    """
    if len(data) < 12:
        raise WireError("shorter than a DNS header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    if (flags >> 11) & 0xF == _UPDATE or qdcount != 1:
        raise Unsupported
    qname, pos = _name(data, 12, len(data))
    if pos + 4 > len(data):
        raise WireError("question runs past the data")
    qtype, qclass = _QTAIL.unpack_from(data, pos)
    return Head(qid, flags, qname, qtype, qclass, (ancount, nscount, arcount), pos + 4)


def _rr_header(data: bytes, pos: int, n: int) -> tuple[Labels, int, int, int, int, int]:
    name, pos = _name(data, pos, n)
    if pos + 10 > n:
        raise WireError("record header runs past the data")
    rdtype, rdclass, ttl, rdlen = _RR.unpack_from(data, pos)
    pos += 10
    if rdtype == TSIG:
        raise WireError("TSIG without a key")  # dnspython: BadTSIG or UnknownTSIGKey
    return name, rdtype, rdclass, ttl, pos, rdlen


def decode(data: bytes) -> Reply:
    """*data* parsed, if every record is in the lean subset.

    Raises:
        WireError: malformed (dnspython rejects it too).
        Unsupported: outside the subset: parse it with dnspython.
    """
    head = decode_head(data)
    ancount, nscount, arcount = head.counts
    n = len(data)
    pos = head.end
    groups: _Groups = {}
    for _ in range(ancount):
        name, rdtype, rdclass, ttl, pos, rdlen = _rr_header(data, pos, n)
        if rdtype == OPT:
            raise WireError("OPT outside the additional section")
        if rdclass != _IN or rdtype not in (A, AAAA, CNAME):
            raise Unsupported
        stop = pos + rdlen
        if stop > n:
            raise WireError("rdata runs past the data")
        item: bytes | Labels
        if rdtype == CNAME:
            item, after = _name(data, pos, stop)
            if after != stop:
                raise WireError("CNAME rdata longer than its name")
        elif rdlen != (4 if rdtype == A else 16):
            raise WireError("address of the wrong length")
        else:
            item = data[pos:stop]
        pos = stop
        _add_record(groups, (tuple(label.lower() for label in name), rdtype), name, ttl, item)
    for _ in range(nscount):
        name, rdtype, rdclass, ttl, pos, rdlen = _rr_header(data, pos, n)
        if rdtype == OPT:
            raise WireError("OPT outside the additional section")
        if rdclass != _IN or rdtype != SOA:
            raise Unsupported
        stop = pos + rdlen
        if stop > n:
            raise WireError("rdata runs past the data")
        _, after = _name(data, pos, stop)  # MNAME
        _, after = _name(data, after, stop)  # RNAME
        if after + 20 != stop:
            raise WireError("SOA rdata of the wrong length")
        pos = stop
    ednsflags = 0
    seen_opt = False
    for _ in range(arcount):
        name, rdtype, rdclass, ttl, pos, rdlen = _rr_header(data, pos, n)
        if rdtype != OPT:
            raise Unsupported
        if seen_opt or name != (b"",):
            raise WireError("a second OPT, or one not owned by the root")
        if pos + rdlen > n:
            raise WireError("rdata runs past the data")
        if rdlen:
            raise Unsupported  # EDNS options: dnspython validates each kind
        seen_opt = True
        ednsflags = ttl
    rcode = (head.flags & 0xF) | ((ednsflags >> 20) & 0xFF0)
    return Reply(
        head.id,
        head.flags,
        rcode,
        head.qname,
        head.qtype,
        head.qclass,
        _rrsets(groups),
        ancount > 0,
        arcount > 0,
    )


#: Records grouped into RRsets as dnspython groups them: (lowercased owner, type) -> [first
#: owner spelling, lowest TTL, items].
_Groups = dict[tuple[Labels, int], list[Any]]


def _add_record(
    groups: _Groups, key: tuple[Labels, int], name: Labels, ttl: int, item: bytes | Labels
) -> None:
    if ttl > 0x7FFFFFFF:  # dnspython, after RFC 2181 §8
        ttl = 0
    group = groups.get(key)
    if group is None:
        groups[key] = [name, ttl, [item]]
        return
    if ttl < group[1]:
        group[1] = ttl
    items: list[bytes | Labels] = group[2]
    if key[1] == CNAME:
        items[:] = [item]  # a singleton type: the later record replaces the earlier
    elif item not in items:
        items.append(item)


def _rrsets(groups: _Groups) -> tuple[RRset, ...]:
    return tuple(RRset(g[0], key[1], g[1], tuple(g[2])) for key, g in groups.items())


#: The most answer records :func:`decode_echo` reads; a longer answer takes the general path
#: (which caps what it keeps).
ECHO_MAX_RECORDS: Final = 16


def decode_echo(data: bytes, query: bytes, qend: int, qname: Labels) -> Reply | None:
    """*data* parsed as :func:`decode` would, when it is a reply to *query* (our own, whose
    question section ends at *qend* and names *qname*) in the form nearly every server
    gives: the question echoed byte for byte, then at most :data:`ECHO_MAX_RECORDS` class IN
    A or AAAA records owned by a pointer to the question's name, no authority records, and at
    most an option-less OPT. None for anything else (nothing is decided: ask :func:`decode`).

    The echo stands for the question check (the same bytes are the same name, type and class)
    and the owner for the name lookup; the rest is :func:`decode`'s rules, which
    ``tests/test_dnswire.py`` holds it to.
    """
    n = len(data)
    if n < qend or data[12:qend] != query[12:qend]:
        return None
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    if qdcount != 1 or nscount or arcount > 1 or ancount > ECHO_MAX_RECORDS or (flags >> 11) & 0xF == _UPDATE:
        return None
    qtype, qclass = _QTAIL.unpack_from(data, qend - 4)
    pos = qend
    groups: _Groups = {}  # one owner (the question's name): keyed by type alone
    for _ in range(ancount):
        # 0xC0 0x0C: a pointer to offset 12, the question's name (which ends before it).
        if pos + 12 > n or data[pos] != 0xC0 or data[pos + 1] != 12:
            return None
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(data, pos + 2)
        pos += 12
        if rdclass != _IN or rdlen != (4 if rdtype == A else 16 if rdtype == AAAA else -1):
            return None
        stop = pos + rdlen
        if stop > n:
            return None
        _add_record(groups, ((), rdtype), qname, ttl, data[pos:stop])
        pos = stop
    ednsflags = 0
    if arcount:
        # The root's name (one zero octet), type OPT, no options.
        if pos + 11 > n or data[pos] != 0:
            return None
        rdtype, _, ttl, rdlen = _RR.unpack_from(data, pos + 1)
        if rdtype != OPT or rdlen:
            return None
        ednsflags = ttl
    rcode = (flags & 0xF) | ((ednsflags >> 20) & 0xFF0)
    return Reply(qid, flags, rcode, qname, qtype, qclass, _rrsets(groups), ancount > 0, arcount > 0)


def from_message(msg: dns.message.Message) -> Reply:
    """dnspython's parse as a :class:`Reply` (for replies outside the lean subset)."""
    answer: list[RRset] = []
    for rrset in msg.answer:
        if rrset.rdclass != dns.rdataclass.IN or rrset.rdtype not in (A, AAAA, CNAME):
            continue
        rdatas: list[Any] = list(rrset)  # dnspython's rdata classes are untyped
        items: tuple[bytes | Labels, ...]
        if rrset.rdtype == A:
            items = tuple(dns.ipv4.inet_aton(str(rd.address)) for rd in rdatas)
        elif rrset.rdtype == AAAA:
            items = tuple(dns.ipv6.inet_aton(str(rd.address)) for rd in rdatas)
        else:
            items = tuple(cast("Labels", rd.target.labels) for rd in rdatas)
        answer.append(RRset(rrset.name.labels, int(rrset.rdtype), int(rrset.ttl), items))
    question = msg.question[0] if msg.question else None
    return Reply(
        msg.id,
        int(msg.flags),
        int(msg.rcode()),
        question.name.labels if question is not None else (),
        int(question.rdtype) if question is not None else 0,
        int(question.rdclass) if question is not None else 0,
        tuple(answer),
        bool(msg.answer),
        bool(msg.additional) or msg.opt is not None,
    )


_PLAIN: Final = bytes(c for c in range(0x21, 0x7F) if chr(c) not in '"().;\\@$')


def name_text(labels: Labels) -> str:
    """*labels* as dnspython's ``Name.to_text()``: rooted, special octets escaped."""
    if labels == (b"",):
        return "."
    if all(not label.translate(None, _PLAIN) for label in labels):
        return ".".join(label.decode("ascii") for label in labels)
    return str(dns.name.Name(labels).to_text())
