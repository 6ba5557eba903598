"""A scripted DNS server behind the resolver's Exchange seam: no sockets, Trio's clock only.

``ScriptedExchange(handler)`` is passed as ``Resolver(exchange=...)``. For every round trip the
handler is called with the transport (``"udp"``/``"tcp"``), the server asked and the parsed query,
and returns what the server sends back:

* a :class:`dns.message.Message` or ``bytes``: that reply;
* a list of them (UDP): datagrams in that order, the resolver keeps the first it accepts;
* ``None``: silence (the round trip waits until the resolver's timeout cancels it);
* an :class:`~trionet._resolver.ExchangeError`: the socket failure it stands for.

``latency`` seconds pass (on Trio's clock) before each reply. ``calls`` records
``(time, transport, server hostport, name, type)`` for each round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import trio

from trionet._resolver import ExchangeError, Server

__all__ = ["Reply", "ScriptedExchange", "answer", "reply"]

_M = TypeVar("_M")
Datagram = dns.message.Message | bytes
Reply = Datagram | list[Datagram] | ExchangeError | None
Handler = Callable[[str, Server, dns.message.Message], Reply]


def reply(
    query: dns.message.Message, rcode: dns.rcode.Rcode = dns.rcode.NOERROR, *, ra: bool = True
) -> dns.message.Message:
    """An empty response to *query* with *rcode* (RA set unless *ra* is False)."""
    resp = dns.message.make_response(query)
    if ra:
        resp.flags |= dns.flags.RA
    else:
        resp.flags &= ~dns.flags.RA
    resp.set_rcode(rcode)
    return resp


def answer(query: dns.message.Message, *records: str, rdclass: str = "IN") -> dns.message.Message:
    """A response to *query* whose answer holds *records* (``"A 127.0.0.1"``) owned by the
    question's name."""
    resp = reply(query)
    q = query.question[0]
    for text in records:
        rdtype, _, rdata = text.partition(" ")
        resp.answer.append(dns.rrset.from_text(q.name, 60, rdclass, rdtype, rdata))
    return resp


def _wire(datagram: Datagram) -> bytes:
    return datagram if isinstance(datagram, bytes) else datagram.to_wire(max_size=65535)


@dataclass
class ScriptedExchange:
    handler: Handler
    latency: float = 0.0
    calls: list[tuple[float, str, str, str, str]] = field(
        default_factory=list[tuple[float, str, str, str, str]]
    )

    def asked(self) -> list[tuple[str, str, str]]:
        """(transport, server, name) of each round trip, in order."""
        return [(t, s, n) for _, t, s, n, _ in self.calls]

    def _reply(self, transport: str, server: Server, query: bytes) -> Reply:
        msg = dns.message.from_wire(query)
        q = msg.question[0]
        self.calls.append(
            (
                trio.current_time(),
                transport,
                server.hostport,
                q.name.to_text(),
                dns.rdatatype.to_text(q.rdtype),
            )
        )
        return self.handler(transport, server, msg)

    async def udp(self, server: Server, query: bytes, accept: Callable[[bytes], _M | None], /) -> _M:
        out = self._reply("udp", server, query)
        await trio.sleep(self.latency)
        if isinstance(out, ExchangeError):
            raise out
        for datagram in out if isinstance(out, list) else [] if out is None else [out]:
            accepted = accept(_wire(datagram))
            if accepted is not None:
                return accepted
        await trio.sleep_forever()  # silence, or nothing the resolver accepts
        raise AssertionError("unreachable")

    async def tcp(self, server: Server, query: bytes, /) -> bytes:
        out = self._reply("tcp", server, query)
        await trio.sleep(self.latency)
        if isinstance(out, ExchangeError):
            raise out
        if out is None:
            await trio.sleep_forever()
        if isinstance(out, list):
            out = out[0]
        return _wire(out)
