"""An in-process DNS server for tests, written with dnspython, on loopback UDP and TCP.

It is a Trio task (``await nursery.start(fake.serve)``), so it works under ``autojump_clock``:
a slow answer is a ``trio.sleep`` on the same clock as the resolver's timeouts.

Zone: ``fake.add(name, rdtype, *rdatas)``. A name with no record of the asked type gets
NOERROR/NODATA; an unknown name gets NXDOMAIN. Per-name behaviours (``fake.behave(name, how)``):

``servfail`` / ``refused``  that rcode
``truncate``               UDP: TC=1 and no answer; TCP: the full answer
``truncate-tcp``           as ``truncate``, but the TCP answer has TC=1 too (go.dev/issue/64896)
``silent``                 no reply at all
``slow``                   the answer after ``fake.delay`` seconds
``garbage``                only garbage bytes (UDP)
``garbage-first``, ``wrong-id-first``, ``wrong-question-first``, ``spoof-first``,
``spoof-addr-first``       that bogus reply first, then the answer. ``spoof``: the right ID
                           and question with a bogus 192.0.2.66 answer, sent from another port
                           of the server's address (``spoof-addr``: from the server's port on
                           127.0.0.2, IPv4 only); ``spoofs_sent`` counts them
``oversized``              the answer padded to > 1232 bytes without TC (UDP)
``lame``                   NOERROR, no answer, no RA/AA flags (Go's lame referral)
``wide``                   A: ``fake.wide`` addresses (127.x.y.z), written as bytes, without
                           dnspython (a 4,000-address answer costs the server nothing)

Run as a program (``python tests/dnsfake.py PORT [--delay=SECONDS] [--wide=N] NAME=IP ...``) it
serves until killed; the benchmark uses that to keep the server out of the measured process,
``--delay`` to stand for a server some milliseconds away, and ``--wide`` answers every A query,
whatever the name, with N addresses (the "wide" behaviour).
"""

from __future__ import annotations

import functools
import socket
import sys
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import trio

__all__ = ["FakeDNS"]


@dataclass(frozen=True)
class Received:
    """One query as it arrived: transport, the client's (host, port), the parsed message."""

    transport: str
    peer: tuple[str, int]
    message: dns.message.Message


@dataclass
class FakeDNS:
    """The fake server; ``queries`` records ``(transport, name, type)`` for each query seen,
    ``received`` the whole query with the client's address."""

    host: str = "127.0.0.1"
    delay: float = 10.0
    zone: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = field(default_factory=dict)
    names: set[dns.name.Name] = field(default_factory=set[dns.name.Name])
    behaviours: dict[tuple[dns.name.Name, str], str] = field(
        default_factory=dict[tuple[dns.name.Name, str], str]
    )
    queries: list[tuple[str, str, str]] = field(default_factory=list[tuple[str, str, str]])
    port: int = 0
    received: list[Received] = field(default_factory=list[Received])
    spoofs_sent: int = 0
    wide: int = 4000
    wide_everywhere: bool = False

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"`` / ``"[::1]:PORT"``, for ``Resolver(nameservers=[...])``."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def add(self, name: str, rdtype: str, *rdatas: str, ttl: int = 60) -> FakeDNS:
        """Add records (``add("a.test", "A", "127.0.0.1", "127.0.0.2")``); returns self."""
        qname = dns.name.from_text(name)
        rrset = dns.rrset.from_text(qname, ttl, "IN", rdtype, *rdatas)
        key = (qname, int(rrset.rdtype))
        if key in self.zone:
            self.zone[key].union_update(rrset)  # type: ignore[no-untyped-call]
        else:
            self.zone[key] = rrset
        self.names.add(qname)
        return self

    def behave(self, name: str, how: str, rdtype: str = "") -> FakeDNS:
        """Give *name* a behaviour (see the module docstring), for one query type or all (``""``)."""
        qname = dns.name.from_text(name)
        self.behaviours[(qname, rdtype)] = how
        self.names.add(qname)
        return self

    def _how(self, q: dns.rrset.RRset) -> str:
        if self.wide_everywhere and q.rdtype == dns.rdatatype.A:
            return "wide"
        by_type = self.behaviours.get((q.name, dns.rdatatype.to_text(q.rdtype)))
        return by_type if by_type is not None else self.behaviours.get((q.name, ""), "")

    def asked(self, transport: str | None = None) -> list[tuple[str, str]]:
        """``(name, type)`` of the queries seen, optionally for one transport only."""
        return [(n, t) for tr, n, t in self.queries if transport is None or tr == transport]

    # -- answers ---------------------------------------------------------------------------
    def _answer(self, query: dns.message.Message, how: str) -> dns.message.Message:
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.RA
        q = query.question[0]
        if how in ("servfail", "refused"):
            resp.set_rcode(dns.rcode.SERVFAIL if how == "servfail" else dns.rcode.REFUSED)
            return resp
        if how == "lame":
            resp.flags &= ~dns.flags.RA
            resp.use_edns(False)
            return resp
        if q.name not in self.names:
            resp.set_rcode(dns.rcode.NXDOMAIN)
            return resp
        rrset = self.zone.get((q.name, int(q.rdtype)))
        if rrset is None and q.rdtype != dns.rdatatype.CNAME:
            rrset = self.zone.get((q.name, int(dns.rdatatype.CNAME)))  # no chasing: a loop stays a loop
        if rrset is not None:
            resp.answer.append(rrset)
        if how == "oversized":
            for i in range(120):
                resp.answer.append(dns.rrset.from_text(q.name, 60, "IN", "TXT", f'"padding {i:04d}"'))
        return resp

    async def _reply_udp(self, sock: trio.socket.SocketType, data: bytes, peer: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        q = query.question[0]
        how = self._how(q)
        self.queries.append(("udp", q.name.to_text(), dns.rdatatype.to_text(q.rdtype)))
        self.received.append(Received("udp", (str(peer[0]), int(peer[1])), query))
        if how == "silent":
            return
        if how == "slow":
            await trio.sleep(self.delay)
        if how == "wide":
            await sock.sendto(_wide_reply(data, self.wide), peer)
            return
        if how in ("garbage", "garbage-first"):
            await sock.sendto(b"\xde\xad\xbe\xef garbage", peer)
            if how == "garbage":
                return
        if how == "wrong-id-first":
            bogus = self._answer(query, "")
            bogus.id = (query.id + 1) % 65536
            await sock.sendto(bogus.to_wire(), peer)
        if how == "wrong-question-first":
            other = dns.message.make_query("other.test.", q.rdtype)
            other.id = query.id
            bogus = dns.message.make_response(other)
            bogus.answer.append(dns.rrset.from_text("other.test.", 60, "IN", "A", "192.0.2.66"))
            await sock.sendto(bogus.to_wire(), peer)
        if how in ("spoof-first", "spoof-addr-first"):
            bogus = dns.message.make_response(query)
            bogus.answer.append(dns.rrset.from_text(q.name, 60, "IN", q.rdtype, _bogus(q.rdtype)))
            source = (self.host, 0) if how == "spoof-first" else ("127.0.0.2", self.port)
            with trio.socket.socket(sock.family, socket.SOCK_DGRAM) as other_sock:
                await other_sock.bind(source)
                await other_sock.sendto(bogus.to_wire(), peer)
            self.spoofs_sent += 1
            await trio.sleep(0.01)  # let the spoofed datagram arrive first
        resp = self._answer(query, how)
        if how in ("truncate", "truncate-tcp"):
            resp = dns.message.make_response(query)
            resp.flags |= dns.flags.TC | dns.flags.RA
        await sock.sendto(resp.to_wire(max_size=65535), peer)

    async def _serve_tcp_conn(self, stream: trio.SocketStream) -> None:
        async with stream:
            buf = b""
            while True:
                while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        return
                    buf += chunk
                n = int.from_bytes(buf[:2], "big")
                data, buf = buf[2 : 2 + n], buf[2 + n :]
                query = dns.message.from_wire(data)
                q = query.question[0]
                how = self._how(q)
                self.queries.append(("tcp", q.name.to_text(), dns.rdatatype.to_text(q.rdtype)))
                peer = stream.socket.getpeername()
                self.received.append(Received("tcp", (str(peer[0]), int(peer[1])), query))
                if how == "silent":
                    await trio.sleep_forever()
                if how == "slow":
                    await trio.sleep(self.delay)
                resp = self._answer(query, "" if how in ("truncate", "truncate-tcp") else how)
                if how == "truncate-tcp":
                    resp.flags |= dns.flags.TC
                wire = resp.to_wire()
                await stream.send_all(len(wire).to_bytes(2, "big") + wire)

    async def serve(self, *, task_status: trio.TaskStatus[FakeDNS] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve UDP and TCP on the same free port of ``host`` until cancelled."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(50):
            udp = trio.socket.socket(family, socket.SOCK_DGRAM)
            await udp.bind((self.host, self.port))
            port = udp.getsockname()[1]
            tcp = trio.socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                await tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(64)
            self.port = port
            break
        else:  # pragma: no cover
            raise OSError("no free port for the fake DNS server")
        listener = trio.SocketListener(tcp)
        with udp:
            async with listener, trio.open_nursery() as nursery:
                nursery.start_soon(trio.serve_listeners, self._serve_tcp_conn, [listener])
                task_status.started(self)
                while True:
                    data, peer = await udp.recvfrom(65535)
                    nursery.start_soon(self._reply_udp, udp, data, peer)


def _wide_reply(query: bytes, count: int) -> bytes:
    """A reply to the A query *query* with *count* A records, assembled as bytes (RFC 1035):
    the query's ID and question, then records owned by a pointer to the question's name."""
    end = 12
    while query[end]:  # the question's name: labels up to the root
        end += 1 + query[end]
    question = query[12 : end + 5]  # name, root byte, type and class
    header = query[:2] + b"\x81\x80" + (1).to_bytes(2, "big") + count.to_bytes(2, "big") + bytes(4)
    return header + question + _wide_records(count)


@functools.cache
def _wide_records(count: int) -> bytes:
    head = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"  # pointer, A, IN, TTL 60, 4 bytes
    return b"".join(head + (0x7F000001 + i).to_bytes(4, "big") for i in range(count))


def _bogus(rdtype: int) -> str:
    return "2001:db8::66" if rdtype == dns.rdatatype.AAAA else "192.0.2.66"


async def _main(argv: list[str]) -> None:
    # python tests/dnsfake.py PORT [--delay=SECONDS] NAME=IP ...: with --delay every name is
    # "slow" (answered after that many seconds, each query on its own), a server far away.
    delay = next((float(a.split("=", 1)[1]) for a in argv[1:] if a.startswith("--delay=")), None)
    wide = next((int(a.split("=", 1)[1]) for a in argv[1:] if a.startswith("--wide=")), None)
    fake = FakeDNS(host="127.0.0.1", port=int(argv[0]), delay=10.0 if delay is None else delay)
    if wide is not None:
        fake.wide, fake.wide_everywhere = wide, True
    for spec in (a for a in argv[1:] if not a.startswith("--")):
        name, _, ip = spec.partition("=")
        fake.add(name, "AAAA" if ":" in ip else "A", ip)
        if delay is not None:
            fake.behave(name, "slow")
    async with trio.open_nursery() as nursery:
        await nursery.start(fake.serve)
        print(f"ready {fake.port}", flush=True)


if __name__ == "__main__":
    trio.run(_main, sys.argv[1:])
