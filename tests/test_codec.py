"""The DNS message codec, byte for byte (h11's style: wire bytes in, expected result out).

Pure: no sockets, no trio. Each reply below is written out as the bytes a server sends, with
RFC 1035's layout: header (ID, flags, four counts), question, answer records.
"""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype
import pytest

from trionet._resolver._codec import (
    ERR_CANNOT_UNMARSHAL,
    ERR_INVALID_RESPONSE,
    ERR_LAME_REFERRAL,
    ERR_MISBEHAVING,
    MAX_ANSWER_RECORDS,
    MAX_CACHED_REPLY,
    ExchangeError,
    Truncated,
    _capped,  # pyright: ignore[reportPrivateUsage]
    _parse_small,  # pyright: ignore[reportPrivateUsage]
    answer_rdatas,
    check_header,
    make_query,
)

A_TEST = dns.name.from_text("a.test.")
QNAME = bytes.fromhex("01 61 04 74 65 73 74 00")  # \x01a\x04test\x00
QUESTION_A = QNAME + bytes.fromhex("0001 0001")  # type A, class IN
CH_A = b"\x00\x12\x34"  # a Chaosnet A: domain ".", address 0x1234 (4660)
OPT = bytes.fromhex("00 0029 04d0 00000000 0000")  # EDNS0: payload 1232, no options


def _header(qid: int, flags: int, qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return b"".join(x.to_bytes(2, "big") for x in (qid, flags, qd, an, ns, ar))


def _rr(rtype: int, rclass: int, rdata: bytes, name: bytes = b"\xc0\x0c", ttl: int = 60) -> bytes:
    """One resource record; the default name is a pointer to the question's (offset 12)."""
    return (
        name
        + rtype.to_bytes(2, "big")
        + rclass.to_bytes(2, "big")
        + ttl.to_bytes(4, "big")
        + len(rdata).to_bytes(2, "big")
        + rdata
    )


# -- building a query -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rdtype", "trust_ad", "qid", "wire"),
    [
        (dns.rdatatype.A, False, 0x1234, _header(0x1234, 0x0100, ar=1) + QUESTION_A + OPT),
        # AD asked (resolv.conf trust-ad): flags 0x0120.
        (
            dns.rdatatype.AAAA,
            True,
            0xBEEF,
            _header(0xBEEF, 0x0120, ar=1) + QNAME + bytes.fromhex("001c 0001") + OPT,
        ),
        (dns.rdatatype.HTTPS, False, 0, _header(0, 0x0100, ar=1) + QNAME + bytes.fromhex("0041 0001") + OPT),
    ],
)
def test_make_query_bytes(rdtype: dns.rdatatype.RdataType, trust_ad: bool, qid: int, wire: bytes) -> None:
    query = make_query(A_TEST, rdtype, trust_ad, qid)
    assert query.wire == wire
    assert (query.qname, query.rdtype) == (A_TEST, rdtype)


def test_make_query_draws_fresh_ids() -> None:
    ids = {make_query(A_TEST, dns.rdatatype.A, False).wire[:2] for _ in range(64)}
    assert len(ids) > 32  # 16 random bits each: collisions are rare


# -- matching a UDP reply (Go's checkResponse; others are ignored) ---------------------------------
QID = 0x1234
QUERY = make_query(A_TEST, dns.rdatatype.A, False, QID)
ANSWER_RR = _rr(1, 1, bytes([127, 0, 0, 1]))
GOOD = _header(QID, 0x8180, an=1) + QUESTION_A + ANSWER_RR

IGNORED = [
    pytest.param(b"", id="empty"),
    pytest.param(b"\xde\xad\xbe\xef garbage", id="garbage"),
    pytest.param(_header(QID + 1, 0x8180, an=1) + QUESTION_A + ANSWER_RR, id="wrong ID"),
    pytest.param(_header(QID, 0x0100, an=1) + QUESTION_A + ANSWER_RR, id="QR clear: a query"),
    pytest.param(_header(QID, 0x8180, qd=0), id="no question"),
    pytest.param(
        _header(QID, 0x8180) + bytes.fromhex("01 62 04 74 65 73 74 00 0001 0001"), id="another name"
    ),
    pytest.param(_header(QID, 0x8180) + QNAME + bytes.fromhex("001c 0001"), id="another type"),
    pytest.param(_header(QID, 0x8180) + QNAME + bytes.fromhex("0001 0003"), id="class CH"),
    pytest.param(_header(QID, 0x8180, an=1) + QNAME[:3], id="cut in the question"),
]


@pytest.mark.parametrize("data", IGNORED)
def test_replies_that_are_not_ours_are_ignored(data: bytes) -> None:
    assert QUERY.match(data) is None


def test_our_reply_is_parsed() -> None:
    msg = QUERY.match(GOOD)
    assert msg is not None
    assert [rd.address for rd in answer_rdatas(msg, dns.rdatatype.A)] == ["127.0.0.1"]


def test_names_compare_case_insensitively() -> None:
    upper = _header(QID, 0x8180) + bytes.fromhex("01 41 04 54 45 53 54 00 0001 0001")  # A.TEST.
    assert QUERY.match(upper) is not None


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        pytest.param(_header(QID, 0x8380) + QUESTION_A, True, id="TC, parses"),
        pytest.param(_header(QID, 0x8380, an=1) + QUESTION_A + ANSWER_RR[:-2], False, id="TC, cut record"),
    ],
)
def test_truncated_replies(data: bytes, parsed: bool) -> None:
    with pytest.raises(Truncated) as info:
        QUERY.match(data)
    assert (info.value.msg is not None) is parsed


def test_our_reply_with_broken_records_is_an_error() -> None:
    broken = _header(QID, 0x8180, an=1) + QUESTION_A + ANSWER_RR[:-2]  # rdlength says 4, 2 follow
    with pytest.raises(ExchangeError) as info:
        QUERY.match(broken)
    assert info.value.text == ERR_CANNOT_UNMARSHAL


# -- a TCP reply (Go's dnsStreamRoundTrip) ----------------------------------------------------------
def test_stream_reply_truncated_is_used_as_it_is() -> None:
    data = _header(QID, 0x8380, an=1) + QUESTION_A + ANSWER_RR  # go.dev/issue/64896
    msg = QUERY.match_stream(data)
    assert [rd.address for rd in answer_rdatas(msg, dns.rdatatype.A)] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(_header(QID + 1, 0x8180) + QUESTION_A, ERR_INVALID_RESPONSE, id="wrong ID"),
        pytest.param(b"\xde\xad", ERR_CANNOT_UNMARSHAL, id="garbage"),
        pytest.param(
            _header(QID, 0x8380, an=1) + QUESTION_A + ANSWER_RR[:-2], ERR_CANNOT_UNMARSHAL, id="TC cut"
        ),
    ],
)
def test_stream_reply_errors(data: bytes, text: str) -> None:
    with pytest.raises(ExchangeError) as info:
        QUERY.match_stream(data)
    assert info.value.text == text


# -- Go's checkHeader / skipToAnswer -------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "why"),
    [
        pytest.param(GOOD, None, id="answer"),
        pytest.param(_header(QID, 0x8183) + QUESTION_A, "no such host", id="NXDOMAIN"),
        pytest.param(_header(QID, 0x8180) + QUESTION_A, "no such host", id="NODATA with RA"),
        pytest.param(
            _header(QID, 0x8100) + QUESTION_A, ERR_LAME_REFERRAL, id="lame: no RA, AA, answer, additional"
        ),
        pytest.param(_header(QID, 0x8100, ar=1) + QUESTION_A + OPT, "no such host", id="no RA but an OPT"),
        pytest.param(_header(QID, 0x8500) + QUESTION_A, "no such host", id="AA, no data"),
        pytest.param(_header(QID, 0x8182) + QUESTION_A, ERR_MISBEHAVING, id="SERVFAIL"),
        pytest.param(_header(QID, 0x8185) + QUESTION_A, ERR_MISBEHAVING, id="REFUSED"),
        pytest.param(
            _header(QID, 0x8180, an=1) + QUESTION_A + _rr(5, 1, QNAME), "no such host", id="only a CNAME"
        ),
        pytest.param(
            _header(QID, 0x8180, an=1) + QUESTION_A + _rr(1, 3, CH_A),
            "no such host",
            id="A of class CH",
        ),
        pytest.param(
            _header(QID, 0x8180, an=1) + QUESTION_A + _rr(1, 42, b"\x12\x34"),
            "no such host",
            id="A of class 42",
        ),
    ],
)
def test_check_header(data: bytes, why: str | None) -> None:
    msg = QUERY.match(data)
    assert msg is not None
    assert check_header(msg, dns.rdatatype.A) == why


# -- typed records: another class or a generic parse is skipped -------------------------------------
def test_answer_rdatas_skips_other_classes_and_types() -> None:
    data = (
        _header(QID, 0x8180, an=4)
        + QUESTION_A
        + _rr(1, 3, CH_A)  # class CH: dnspython parses a Chaosnet address (4660)
        + _rr(1, 42, b"\x12\x34")  # class 42: a GenericRdata without .address
        + _rr(16, 1, b"\x02hi")  # TXT
        + ANSWER_RR
    )
    msg = QUERY.match(data)
    assert msg is not None
    assert [rd.address for rd in answer_rdatas(msg, dns.rdatatype.A)] == ["127.0.0.1"]
    assert check_header(msg, dns.rdatatype.A) is None


# -- the parse cache holds small replies only ------------------------------------------------------
def test_large_replies_are_not_cached() -> None:
    many = 80
    big = (
        _header(QID, 0x8180, an=many)
        + QUESTION_A
        + b"".join(_rr(1, 1, bytes([127, 0, 1, i])) for i in range(many))
    )
    assert len(big) > MAX_CACHED_REPLY
    before = _parse_small.cache_info().currsize
    msg = QUERY.match(big)
    assert msg is not None
    assert len(answer_rdatas(msg, dns.rdatatype.A)) == many
    assert _parse_small.cache_info().currsize == before
    small = make_query(dns.name.from_text("small.test."), dns.rdatatype.A, False, QID)
    reply = dns.message.make_response(dns.message.from_wire(small.wire)).to_wire()
    assert small.match(reply) is not None
    assert _parse_small.cache_info().currsize == before + 1


def test_a_record_of_another_class_that_does_not_parse_fails_the_reply() -> None:
    # dnspython parses every record, so a CH "A" too short for a Chaosnet address makes the
    # whole reply unparsable: a DNSError (cannot unmarshal), never a foreign exception. Go skips
    # records of another class without reading their data (docs/resolver.rst lists this).
    data = _header(QID, 0x8180, an=2) + QUESTION_A + _rr(1, 3, b"\x12\x34") + ANSWER_RR
    with pytest.raises(ExchangeError) as info:
        QUERY.match(data)
    assert info.value.text == ERR_CANNOT_UNMARSHAL


# -- work per reply is capped -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "kept"),
    [
        ((1, 0, 1), (1, 0, 1)),
        ((256, 0, 0), (256, 0, 0)),
        ((4000, 3, 1), (256, 0, 0)),  # later sections cannot be reached once one is cut
        ((200, 100, 1), (200, 56, 0)),
        ((0, 0, 4000), (0, 0, 256)),
    ],
)
def test_capped_counts(counts: tuple[int, int, int], kept: tuple[int, int, int]) -> None:
    assert MAX_ANSWER_RECORDS == 256
    data = _header(QID, 0x8180, 1, *counts) + QUESTION_A + b"rest"
    out = _capped(data)
    assert out == _header(QID, 0x8180, 1, *kept) + QUESTION_A + b"rest"


def test_a_huge_answer_is_read_up_to_the_cap() -> None:
    many = 4000
    records = b"".join(_rr(1, 1, i.to_bytes(4, "big")) for i in range(0x7F000001, 0x7F000001 + many))
    data = _header(QID, 0x8180, an=many) + QUESTION_A + records
    msg = QUERY.match(data)
    assert msg is not None
    addrs = [rd.address for rd in answer_rdatas(msg, dns.rdatatype.A)]
    assert addrs[:2] == ["127.0.0.1", "127.0.0.2"]
    assert len(addrs) == MAX_ANSWER_RECORDS
