"""The lean DNS codec against dnspython, its reference: unit cases and a differential fuzz test.

Every input goes to both parsers. The contract (trionet/_resolver/_wire.py): when the lean codec
accepts, dnspython accepts the same bytes and yields the same header, question and A/AAAA/CNAME
RRsets; when it raises WireError, dnspython rejects them too; Unsupported hands them to
dnspython; any other exception fails the test. Inputs: random bytes, real replies built by
dnspython (compressed, mixed case, duplicates, CNAME chains, NXDOMAIN/NODATA with SOA, EDNS)
mutated in every way below, structured messages from random records, compression-pointer
loops and chains, and every truncation of the real replies.

``TRIONET_FUZZ_EXAMPLES`` sets the examples per property (CI: the default below); the long
run published in docs/benchmarks.rst used a larger value.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.version
import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st
from hypothesis.control import currently_in_test_context

from trionet._resolver import _wire as wire
from trionet._resolver._codec import ExchangeError, LeanQuery, Truncated, make_lean_query, make_query

EXAMPLES = int(os.environ.get("TRIONET_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(data: bytes) -> wire.Reply | None:
    """dnspython's verdict on *data*: its parse as a Reply, or None if it refuses it (with any
    exception: a dnspython bug still counts as a rejection, never as the lean codec's)."""
    try:
        msg = dns.message.from_wire(data, ignore_trailing=True)
    except Exception:
        return None
    return wire.from_message(msg)


def reference_head(data: bytes) -> dns.message.Message | None:
    try:
        return dns.message.from_wire(data, question_only=True)
    except Exception:
        return None


def check(data: bytes) -> str:
    """Hold the lean codec to its contract on *data*; which way it went (also a hypothesis
    event, so ``--hypothesis-show-statistics`` shows how often each path ran)."""
    outcome = _check(data)
    if currently_in_test_context():
        event(outcome)
    return outcome


# dnspython 2.9 (Python 3.11+) stops after 16 compression-pointer hops, as the lean codec does;
# 2.8 (the newest on Python 3.10) follows a chain of any length. On 2.8 that one refusal is the
# codec's own rule, not a disagreement.
_REFERENCE_FOLLOWS_ANY_CHAIN = tuple(int(p) for p in dns.version.version.split(".")[:2]) < (2, 9)


def _chain_limit_only(exc: wire.WireError) -> bool:
    return _REFERENCE_FOLLOWS_ANY_CHAIN and "pointer chain too long" in str(exc)


def _check(data: bytes) -> str:
    head_ref = reference_head(data)
    try:
        head = wire.decode_head(data)
    except wire.WireError as exc:
        assert head_ref is None or _chain_limit_only(exc), (
            f"lean refused a question dnspython reads: {data!r}"
        )
    except wire.Unsupported:
        pass
    else:
        assert head_ref is not None, f"lean read a question dnspython refuses: {data!r}"
        q = head_ref.question[0]
        assert (head.id, head.flags) == (head_ref.id, int(head_ref.flags))
        assert (head.qname, head.qtype, head.qclass) == (q.name.labels, q.rdtype, q.rdclass)
    ref = reference(data)
    try:
        got = wire.decode(data)
    except wire.WireError as exc:
        assert ref is None or _chain_limit_only(exc), f"lean refused a message dnspython accepts: {data!r}"
        return "rejected"
    except wire.Unsupported:
        return "unsupported"
    assert ref is not None, f"lean accepted a message dnspython refuses: {data!r}"
    assert got == ref, data
    for rrset in got.answer:
        assert wire.name_text(rrset.name) == dns.name.Name(rrset.name).to_text()
    return "accepted"


# -- a corpus of real replies --------------------------------------------------------------------
def _query(name: str, rdtype: str, edns: bool = True) -> dns.message.Message:
    if edns:
        return dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.message.make_query(name, rdtype, use_edns=False)


def _reply(
    name: str,
    rdtype: str,
    *rrsets: tuple[str, str, list[str]],
    rcode: int = 0,
    edns: bool = True,
    soa: bool = False,
    flags: int = dns.flags.RA,
) -> bytes:
    query = _query(name, rdtype, edns)
    msg = dns.message.make_response(query)
    msg.flags |= flags
    msg.set_rcode(dns.rcode.Rcode(rcode))
    for owner, kind, values in rrsets:
        msg.answer.append(dns.rrset.from_text(owner, 300, "IN", kind, *values))
    if soa:
        msg.authority.append(
            dns.rrset.from_text("test.", 60, "IN", "SOA", "ns.test. hostmaster.test. 1 2 3 4 5")
        )
    return msg.to_wire()


CORPUS: list[bytes] = [
    _reply("bench-1.test.", "A", ("bench-1.test.", "A", ["127.0.0.1"])),
    _reply("bench-1.test.", "AAAA", ("bench-1.test.", "AAAA", ["::1", "2001:db8::1"])),
    _reply("BeNcH.Test.", "A", ("bench.test.", "A", ["127.0.0.1", "127.0.0.2"])),
    _reply("www.test.", "A", ("www.test.", "CNAME", ["web.test."]), ("web.test.", "A", ["192.0.2.1"])),
    _reply(
        "a.test.",
        "AAAA",
        ("a.test.", "CNAME", ["b.test."]),
        ("b.test.", "CNAME", ["c.test."]),
        ("c.test.", "AAAA", ["::ffff:192.0.2.1"]),
    ),
    _reply("nope.test.", "A", rcode=dns.rcode.NXDOMAIN, soa=True),
    _reply("v4only.test.", "AAAA", soa=True),
    _reply("v4only.test.", "AAAA", edns=False),
    _reply("lame.test.", "A", flags=0, edns=False),
    _reply("sf.test.", "A", rcode=dns.rcode.SERVFAIL),
    _reply("odd\\.name.test.", "A", ("odd\\.name.test.", "A", ["10.0.0.1"])),
    _reply("x.test.", "A", ("x.test.", "A", ["10.0.0.1"]), edns=False),
]


def _edited(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def test_real_replies_take_the_lean_path() -> None:
    """The replies a resolver sees every day are parsed by the lean codec, not handed back."""
    assert [check(data) for data in CORPUS] == ["accepted"] * len(CORPUS)


def test_duplicates_and_case_group_as_dnspython_does() -> None:
    records = [
        (b"\x07bench-1\x04test\x00", "10.0.0.1", 300),
        (b"\x07BENCH-1\x04test\x00", "10.0.0.1", 60),
        (b"\xc0\x0c", "10.0.0.2", 100),
    ]
    base = bytearray(_reply("bench-1.test.", "A", edns=False))
    base[6:8] = struct.pack("!H", len(records))
    for owner, address, ttl in records:
        base += owner + struct.pack("!HHIH", 1, 1, ttl, 4) + bytes(int(p) for p in address.split("."))
    assert check(bytes(base)) == "accepted"
    got = wire.decode(bytes(base))
    assert got.answer == (wire.RRset((b"bench-1", b"test", b""), 1, 60, (b"\n\0\0\1", b"\n\0\0\2")),)


def test_outside_the_subset_is_handed_to_dnspython() -> None:
    mx = dns.message.make_response(_query("m.test.", "MX"))
    mx.answer.append(dns.rrset.from_text("m.test.", 300, "IN", "MX", "10 mail.test."))
    with_cookie = dns.message.make_response(_query("c.test.", "A"))
    with_cookie.use_edns(0, payload=1232, options=[dns.edns.CookieOption(b"8bytesss", b"")])
    ch = dns.message.make_response(_query("c.test.", "A"))
    ch.answer.append(dns.rrset.from_text("c.test.", 300, "CH", "TXT", "x"))
    for msg in (mx, with_cookie, ch):
        data = msg.to_wire()
        assert check(data) == "unsupported"
        with pytest.raises(wire.Unsupported):
            wire.decode(data)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"\xc0\x0c", "self pointer"),
        (b"\xc0\x20", "forward pointer"),
        (b"\x01a\xc0\x0c", "pointer back into the same name"),
        (b"\x40" + b"a" * 64 + b"\x00", "reserved label type"),
        (b"\x80\x00", "reserved label type"),
        ((b"\x3f" + b"a" * 63) * 4 + b"\x00", "longer than 255 octets"),
        (b"\x03abc", "truncated"),
    ],
)
def test_hostile_question_names_are_refused(name: bytes, why: str) -> None:
    data = struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"
    assert check(data) == "rejected", why
    with pytest.raises(wire.WireError):
        wire.decode_head(data)


def _pointer_chain(links: int) -> bytes:
    """A reply whose CNAME target takes *links* + 1 compression pointers to resolve: *links* A
    records each hold, as their address, a pointer to the previous one's (the first to the
    question name at 12), and the CNAME's rdata points at the last."""
    body = bytearray(b"\x01a\x00\x00\x01\x00\x01")  # question: a. A IN
    target = 12
    for _ in range(links):
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4)
        here = 12 + len(body)
        body += struct.pack("!H", 0xC000 | target) + b"\0\0"
        target = here
    body += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 1, 2) + struct.pack("!H", 0xC000 | target)
    return struct.pack("!HHHHHH", 1, 0x8180, 1, links + 1, 0, 0) + bytes(body)


def test_pointer_chains_of_16_hops_are_read_and_17_refused() -> None:
    assert check(_pointer_chain(15)) == "accepted"
    assert wire.decode(_pointer_chain(15)).answer[-1].items == ((b"a", b""),)
    assert check(_pointer_chain(16)) == "rejected"


def test_tsig_and_misplaced_opt_are_refused() -> None:
    base = _reply("x.test.", "A", ("x.test.", "A", ["10.0.0.1"]), edns=False)
    tsig = bytearray(base)
    tsig[10:12] = b"\x00\x01"
    tsig += b"\x00" + struct.pack("!HHIH", 250, 255, 0, 0)
    opt_in_answer = bytearray(base)
    opt_in_answer[6:8] = b"\x00\x02"
    opt_in_answer += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    two_opts = bytearray(base)
    two_opts[10:12] = b"\x00\x02"
    two_opts += (b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)) * 2
    for data in (tsig, opt_in_answer, two_opts):
        assert check(bytes(data)) == "rejected"


def test_every_truncation_of_the_corpus() -> None:
    for data in CORPUS:
        for cut in range(len(data)):
            check(data[:cut])
        check(data + b"trailing junk")


def test_extended_rcode_comes_from_the_opt_ttl() -> None:
    data = bytearray(_reply("x.test.", "A", rcode=dns.rcode.BADVERS))
    assert check(bytes(data)) == "accepted"
    assert wire.decode(bytes(data)).rcode == dns.rcode.BADVERS


# -- the query builder ---------------------------------------------------------------------------
_LABEL_CHARS = st.sampled_from("abcxyzABCXYZ0189-_*")


@given(
    labels=st.lists(st.text(_LABEL_CHARS, min_size=1, max_size=70), min_size=1, max_size=6),
    rooted=st.booleans(),
    qtype=st.sampled_from([1, 28, 5]),
    qid=st.integers(0, 65535),
    trust_ad=st.booleans(),
)
@FUZZ
def test_query_is_dnspythons_make_query(
    labels: list[str], rooted: bool, qtype: int, qid: int, trust_ad: bool
) -> None:
    text = ".".join(labels) + ("." if rooted else "")
    encoded = wire.encode_name(text)
    try:
        name = dns.name.from_text(text)
    except dns.exception.DNSException:
        assert encoded is None
        return
    assert encoded is not None
    assert encoded == name.to_wire()
    query = dns.message.make_query(name, dns.rdatatype.RdataType(qtype), use_edns=0, payload=1232)
    query.id = qid
    if trust_ad:
        query.flags |= dns.flags.AD
    assert wire.build_query(encoded, qtype, qid, trust_ad=trust_ad) == query.to_wire()


@given(st.text(max_size=80))
@example(".")
@example("@")
@example("a..b")
@example("\u00e9x.test")
@example("a\\.b.test")
@FUZZ
def test_encode_name_is_none_or_dnspythons(text: str) -> None:
    encoded = wire.encode_name(text)
    if encoded is None:
        return
    assert encoded == dns.name.from_text(text).to_wire()


# -- the differential fuzz test ------------------------------------------------------------------
@given(st.binary(max_size=512))
@FUZZ
def test_fuzz_random_bytes(data: bytes) -> None:
    check(data)


@given(st.binary(min_size=12, max_size=12), st.binary(max_size=300))
@FUZZ
def test_fuzz_random_body_after_a_plausible_header(header: bytes, body: bytes) -> None:
    # qdcount 1 and small counts, so the parsers get past the header into names and records.
    counts = struct.pack("!HHHH", 1, header[6] % 4, header[8] % 3, header[10] % 3)
    check(header[:4] + counts + body)


_MUTATIONS = st.sampled_from(["flip", "set", "pointer", "insert", "delete", "truncate", "count"])


def _mutated(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, where, value in edits:
        if not buf:
            break
        at = where % len(buf)
        if kind == "flip":
            buf[at] ^= 1 << (value % 8)
        elif kind == "set":
            buf[at] = value
        elif kind == "pointer":  # a compression pointer to anywhere, often a loop or forward
            buf[at : at + 2] = bytes([0xC0 | (value >> 6), (value * 7 + where) % 256])
        elif kind == "insert":
            buf[at:at] = bytes([value])
        elif kind == "delete":
            del buf[at]
        elif kind == "truncate":
            del buf[at:]
        else:  # a section count
            field = 4 + 2 * (value % 4)
            buf[field : field + 2] = struct.pack("!H", where % 6)
    return bytes(buf)


@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(_MUTATIONS, st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=4),
)
@FUZZ
def test_fuzz_mutated_real_replies(data: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(_mutated(data, edits))


_NAMES = st.sampled_from(["x.test.", "X.TEST.", "y.x.test.", "test.", ".", "a\\000b.test.", "c\\@d.test."])
_RECORDS = st.tuples(
    st.sampled_from(["answer", "authority", "additional"]),
    _NAMES,
    st.sampled_from(["A", "AAAA", "CNAME", "SOA", "TXT", "MX", "NS"]),
    st.sampled_from(["IN", "CH"]),
    st.integers(0, 2**32 - 1),
)
_VALUES = {
    "A": "10.1.2.3",
    "AAAA": "2001:db8::7",
    "CNAME": "target.test.",
    "SOA": "ns.test. host.test. 1 2 3 4 5",
    "TXT": '"txt"',
    "MX": "10 mx.test.",
    "NS": "ns.x.test.",
}


@given(
    qname=_NAMES,
    qtype=st.sampled_from(["A", "AAAA"]),
    records=st.lists(_RECORDS, max_size=6),
    edns=st.booleans(),
    rcode=st.sampled_from([0, 2, 3, 5, 16]),
    compress=st.booleans(),
    cut=st.one_of(st.none(), st.integers(0, 400)),
)
@FUZZ
def test_fuzz_structured_replies(
    qname: str,
    qtype: str,
    records: list[tuple[str, str, str, str, int]],
    edns: bool,
    rcode: int,
    compress: bool,
    cut: int | None,
) -> None:
    msg = dns.message.make_response(_query(qname, qtype, edns))
    if rcode:
        msg.set_rcode(dns.rcode.Rcode(rcode))
    for section, owner, kind, rdclass, ttl in records:
        if rdclass == "CH" and kind != "TXT":
            continue  # CH A and the like have other rdata formats; CH TXT stands for "another class"
        rrset = dns.rrset.from_text(owner, 0, rdclass, kind, _VALUES[kind])
        rrset.ttl = ttl
        getattr(msg, section).append(rrset)
    try:
        data = msg.to_wire() if compress else _uncompressed(msg)
    except dns.exception.DNSException:
        return
    check(data if cut is None else data[:cut])


def _uncompressed(msg: dns.message.Message) -> bytes:
    return msg.to_wire(max_size=65535, compress=None) if _to_wire_takes_compress() else msg.to_wire()


def _to_wire_takes_compress() -> bool:
    import inspect

    return "compress" in inspect.signature(dns.message.Message.to_wire).parameters


@given(st.integers(12, 80), st.lists(st.integers(0, 90), min_size=1, max_size=20))
@FUZZ
def test_fuzz_pointer_webs(qname_at: int, targets: list[int]) -> None:
    """Messages made mostly of compression pointers: loops, forward jumps, long chains."""
    body = b"".join(struct.pack("!H", 0xC000 | t) for t in targets)
    header = struct.pack("!HHHHHH", 7, 0x8180, 1, 1, 0, 0)
    data = header + body + b"\x00\x01\x00\x01" + body[-2:] + struct.pack("!HHIH", 1, 1, 9, 4) + b"\1\2\3\4"
    check(data[: max(qname_at, 12)] + data[12:])
    check(data)


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None, reason="atheris has no wheel for this Python"
)
def test_atheris_bounded() -> None:
    """tests/fuzz_dnswire.py (coverage-guided, libFuzzer) for a bounded number of inputs."""
    runs = max(EXAMPLES * 10, 1000)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("fuzz_dnswire.py")), f"-runs={runs}", "-max_len=1024"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {runs} runs" in done.stderr


# -- the echo path against the general lean decoder ----------------------------------------------
def _lean_for(data: bytes) -> LeanQuery:
    """Our query for the question of *data* (a reply in the corpus), with its ID."""
    head = dns.message.from_wire(data, question_only=True)
    q = head.question[0]
    return make_lean_query(q.name.to_text(), int(q.rdtype), False, head.id)


def _echo_or_decode(data: bytes, lean: LeanQuery) -> None:
    """decode_echo either declines or gives exactly what decode gives; it never raises."""
    echo = wire.decode_echo(data, lean.wire, lean.qend, lean.qlabels)
    if currently_in_test_context():
        event("echo accepted" if echo is not None else "echo declined")
    if echo is not None:
        assert echo == wire.decode(data), data


def test_everyday_replies_take_the_echo_path() -> None:
    """Address answers (an owner compressed case-blind to the question's name included), NODATA
    without an SOA, a lame reply and SERVFAIL are read in one pass; a CNAME, an SOA or a longer
    answer go to the general decoder."""
    taken = [
        wire.decode_echo(d, q.wire, q.qend, q.qlabels) is not None for d in CORPUS for q in [_lean_for(d)]
    ]
    assert taken == [True, True, True, False, False, False, False, True, True, True, True, True]
    for data in CORPUS:
        _echo_or_decode(data, _lean_for(data))
    wide = _reply("w.test.", "A", ("w.test.", "A", [f"10.0.0.{i}" for i in range(wire.ECHO_MAX_RECORDS + 1)]))
    lean = _lean_for(wide)
    assert wire.decode_echo(wide, lean.wire, lean.qend, lean.qlabels) is None
    assert len(lean.match(wide).answer[0].items) == wire.ECHO_MAX_RECORDS + 1  # type: ignore[union-attr]


@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(_MUTATIONS, st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=4),
)
@FUZZ
def test_fuzz_echo_path_is_the_general_decoder(data: bytes, edits: list[tuple[str, int, int]]) -> None:
    _echo_or_decode(_mutated(data, edits), _lean_for(data))


_TTLS = st.sampled_from([0, 300, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
#: (owner, type, class, TTL, rdlength or "fit", rdata seed): mostly records of the echo path's
#: form (a seed of 0-2 makes duplicates likely), some off it in one field.
_ECHO_RECORD = st.one_of(
    st.tuples(
        st.just(b"\xc0\x0c"), st.sampled_from([1, 28]), st.just(1), _TTLS, st.just("fit"), st.integers(0, 2)
    ),
    st.tuples(
        st.just(b"\xc0\x0c"), st.sampled_from([1, 28]), st.just(1), _TTLS, st.just("fit"), st.integers(0, 2)
    ),
    st.tuples(
        st.sampled_from([b"\xc0\x0c", b"\xc0\x0d", b"\xc0\x40", b"\x00", b"\x01a\x00"]),
        st.sampled_from([1, 28, 5, 41, 250, 6, 99]),
        st.sampled_from([1, 3, 255]),
        _TTLS,
        st.sampled_from(["fit", 0, 3, 4, 5, 16, 17, 400]),
        st.integers(0, 2),
    ),
)


@given(
    st.lists(_ECHO_RECORD, max_size=wire.ECHO_MAX_RECORDS + 2),
    st.sampled_from([0, 1, 1, 2]),  # OPT records after them
    st.sampled_from([0, 0, 0, 1]),  # authority count
    st.sampled_from([0, 0, 0, -1, 1]),  # the answer count's error
    st.sampled_from([0x8180, 0x8580, 0x8380, 0x0180, 0x2980, 0x8183]),  # flags
    st.sampled_from([0, 0x00008000, 0x01000000]),  # the OPT's TTL: DO bit, extended rcode
)
@FUZZ
def test_fuzz_echo_path_structured(
    records: list[tuple[bytes, int, int, int, str | int, int]],
    opts: int,
    nscount: int,
    skew: int,
    flags: int,
    opt_ttl: int,
) -> None:
    """Records built after a real header and our own question (owners, types, classes, TTLs,
    lengths and counts on and off the echo path's form): what it accepts, decode gives."""
    base = CORPUS[0]
    lean = _lean_for(base)
    body = b""
    for owner, rdtype, rdclass, ttl, rdlen, seed in records:
        rdata = bytes([10, 0, 0, seed]) if rdtype == 1 else bytes([0xFD] + [0] * 14 + [seed])
        if rdlen != "fit":
            rdata = (rdata * 30)[: int(rdlen)]
        body += owner + struct.pack("!HHIH", rdtype, rdclass, ttl, len(rdata)) + rdata
    for _ in range(opts):
        body += b"\x00" + struct.pack("!HHIH", 41, 1232, opt_ttl, 0)
    counts = struct.pack("!HHHH", 1, max(len(records) + skew, 0), nscount, opts)
    sample = base[:2] + struct.pack("!H", flags) + counts + base[12 : lean.qend] + body
    _echo_or_decode(sample, lean)


# -- the lean question against the dnspython one ---------------------------------------------------
def _outcome(fn: Callable[[bytes], object], data: bytes) -> tuple[str, object]:
    try:
        got = fn(data)
    except Truncated as truncated:
        msg = truncated.msg
        return "truncated", (wire.from_message(msg) if isinstance(msg, dns.message.Message) else msg)
    except ExchangeError as exc:
        return "error", exc.text
    if isinstance(got, dns.message.Message):
        return "reply", wire.from_message(got)
    return ("ignored", None) if got is None else ("reply", got)


def _same_reply(a: tuple[str, object], b: tuple[str, object]) -> bool:
    # Replies are compared without their ID: the lean path reads a zeroed-ID cached decode.
    if a[0] != b[0]:
        return False
    if isinstance(a[1], wire.Reply) and isinstance(b[1], wire.Reply):
        return a[1]._replace(id=0) == b[1]._replace(id=0)
    return a[1] == b[1]


@given(
    st.sampled_from(CORPUS),
    st.lists(st.tuples(_MUTATIONS, st.integers(0, 2000), st.integers(0, 255)), max_size=3),
    st.booleans(),
)
@FUZZ
def test_lean_query_matches_as_the_dnspython_query(
    data: bytes, edits: list[tuple[str, int, int]], tc: bool
) -> None:
    """LeanQuery.match/match_stream give what Query.match/match_stream give, on real replies
    to the query (mutated, or with TC set) and on noise."""
    head = dns.message.from_wire(data, question_only=True)
    q = head.question[0]
    ours = make_query(q.name, q.rdtype, False, head.id)
    lean = make_lean_query(q.name.to_text(), int(q.rdtype), False, head.id)
    assert lean.wire == ours.wire
    buf = bytearray(data)
    if tc:
        buf[2] |= 0x02
    for kind, where, value in edits:
        if not buf:
            break
        at = where % len(buf)
        if kind in ("flip", "pointer"):
            buf[at] ^= 1 << (value % 8)
        elif kind == "set":
            buf[at] = value
        elif kind == "insert":
            buf[at:at] = bytes([value])
        elif kind == "delete":
            del buf[at]
        else:
            del buf[at:]
    sample = bytes(buf)
    try:
        expected = _outcome(ours.match, sample)
        expected_stream = _outcome(ours.match_stream, sample)
    except Exception:
        return  # the lean path maps those to "cannot unmarshal"; nothing to compare
    assert _same_reply(_outcome(lean.match, sample), expected), sample
    assert _same_reply(_outcome(lean.match_stream, sample), expected_stream), sample
