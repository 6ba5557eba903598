"""The lab's server-side agent: one process inside the server namespace that is at once

* the **SYN delayer** -- it owns an NFQUEUE that every TCP SYN to the lab's service port passes
  through (``iptables -t mangle -A PREROUTING ... -j NFQUEUE``); each SYN is stamped with its
  arrival time and destination (the lab's ground truth of what a client tried, when) and accepted
  after the delay configured for its destination address (0 by default);
* the **lab DNS server** -- A, AAAA and HTTPS answers for the names of the current case, each
  record type sent after its own delay, or never;
* the **service** -- one dual-stack listener on the service port that accepts and closes.

It is run as a script (``ip netns exec NS python _agent.py ...``), imports only the standard
library, dnspython and NetfilterQueue, and speaks JSON lines: one command per stdin line, one
reply per stdout line. It exits when stdin closes. Times are ``time.monotonic()``, the same clock
in every network namespace, so the controller can compare them with its own.

Commands::

    {"op": "config", "delays": {ADDR: seconds}, "zone": {NAME: {"A": [..], "AAAA": [..],
     "HTTPS": ["1 . alpn=h2"]}}, "dns_delays": {"A": s, "AAAA": s, "HTTPS": s or null}}
    {"op": "log"}     -> {"syns": [...], "dns": [...]} and forget them
    {"op": "ping"}    -> {"ok": true, "now": t}
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import json
import os
import select
import socket
import sys
import time
from typing import Any

import dns.rdata
import dns.rdatatype
from netfilterqueue import NetfilterQueue, Packet

# Bounds: a lab run is short; a client that floods us must not grow memory without limit.
MAX_LOG = 100_000
MAX_HELD = 10_000


class Agent:
    def __init__(self, queue_num: int, port: int, dns_addrs: list[str]) -> None:
        self.port = port
        self.delays: dict[str, float] = {}
        self.zone: dict[str, dict[str, list[str]]] = {}
        self.dns_delays: dict[str, float | None] = {}
        self.syns: list[dict[str, Any]] = []
        self.dns_log: list[dict[str, Any]] = []
        self.dns_cache: dict[bytes, tuple[bytes, str, str, float | None]] = {}
        self._rdata: dict[tuple[str, str], list[bytes]] = {}
        self.seq = 0
        # (due time, seq, action): packets to accept, DNS answers to send.
        self.timers: list[tuple[float, int, Any]] = []
        self.nfq = NetfilterQueue()
        self.nfq.bind(queue_num, self._on_packet)
        self.nfq_sock = socket.fromfd(self.nfq.get_fd(), socket.AF_UNIX, socket.SOCK_STREAM)
        self.nfq_sock.setblocking(False)
        self.dns_socks: list[socket.socket] = []
        for addr in dns_addrs:
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((addr, 53))
            s.setblocking(False)
            self.dns_socks.append(s)
        self.listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("::", port))
        self.listener.listen(4096)
        self.listener.setblocking(False)

    # -- the SYN delayer -------------------------------------------------------------------
    def _on_packet(self, pkt: Packet) -> None:
        now = time.monotonic()
        payload = pkt.get_payload()
        version = payload[0] >> 4
        if version == 4:
            ihl = (payload[0] & 0x0F) * 4
            dst = str(ipaddress.IPv4Address(payload[16:20]))
            src = str(ipaddress.IPv4Address(payload[12:16]))
            tcp = payload[ihl:]
        else:
            dst = str(ipaddress.IPv6Address(payload[24:40]))
            src = str(ipaddress.IPv6Address(payload[8:24]))
            tcp = payload[40:]  # the lab's SYNs carry no extension headers
        sport = int.from_bytes(tcp[0:2], "big")
        dport = int.from_bytes(tcp[2:4], "big")
        delay = self.delays.get(dst, 0.0)
        if len(self.syns) < MAX_LOG:
            self.syns.append(
                {"t": now, "dst": dst, "src": src, "sport": sport, "dport": dport, "delay": delay}
            )
        if delay <= 0 or len(self.timers) >= MAX_HELD:
            pkt.accept()
            return
        self._schedule(now + delay, ("accept", pkt))

    def _schedule(self, due: float, action: Any) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (due, self.seq, action))

    # -- the DNS server ----------------------------------------------------------------------
    def _on_dns(self, sock: socket.socket) -> None:
        for _ in range(64):  # bounded per wake-up
            try:
                data, peer = sock.recvfrom(4096)
            except BlockingIOError:
                return
            now = time.monotonic()
            # Answers are cached by the query's bytes after its ID: building one with dnspython
            # costs a millisecond or more of CPU, and on a 2-core machine that time is taken
            # from the client being measured (the agent wakes up on its CPU).
            cached = self.dns_cache.get(data[2:])
            if cached is None:
                cached = self._build_answer(data)
                if cached is None:
                    continue
                if len(self.dns_cache) < MAX_LOG:
                    self.dns_cache[data[2:]] = cached
            body, name, qtype, delay = cached
            wire = data[:2] + body
            entry: dict[str, Any] = {"t_query": now, "qtype": qtype, "name": name, "t_answer": None}
            if len(self.dns_log) < MAX_LOG:
                self.dns_log.append(entry)
            if delay is None:
                continue  # never answered
            if delay <= 0:
                self._send_dns(sock, wire, peer, entry)
            else:
                self._schedule(now + delay, ("dns", sock, wire, peer, entry))

    def _build_answer(self, data: bytes) -> tuple[bytes, str, str, float | None] | None:
        """The answer to *data* without its ID, the name, the type and the delay; None when
        the datagram is not a query we can parse (ignored, never fatal).

        Written by hand (header, the question echoed byte for byte, one record per address
        compressed to the question's name): a few microseconds, where dnspython's message
        round trip costs a millisecond of the CPU the measured client also needs."""
        if len(data) < 17 or data[2] & 0x80:
            return None
        labels, pos = [], 12
        while pos < len(data) and data[pos] != 0:
            n = data[pos]
            if n > 63 or pos + 1 + n > len(data):
                return None
            labels.append(data[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        end = pos + 5
        if end > len(data):
            return None
        rdtype = int.from_bytes(data[pos + 1 : pos + 3], "big")
        name = ".".join(labels).lower() + "."
        qtype = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
        records = self.zone.get(name)
        rdatas = [] if records is None else self._rdata.get((name, qtype), [])
        flags = 0x8400 | (int.from_bytes(data[2:4], "big") & 0x7900)  # QR AA, opcode and RD kept
        if records is None:
            flags |= 3  # NXDOMAIN
        header = flags.to_bytes(2, "big") + (1).to_bytes(2, "big") + len(rdatas).to_bytes(2, "big") + bytes(4)
        answers = b"".join(
            b"\xc0\x0c" + rdtype.to_bytes(2, "big") + b"\x00\x01" + (60).to_bytes(4, "big")
            + len(rd).to_bytes(2, "big") + rd
            for rd in rdatas
        )  # fmt: skip
        delay = self.dns_delays.get(qtype, 0.0) if records is not None else 0.0
        return header + data[12:end] + answers, name, qtype, delay

    @staticmethod
    def _send_dns(sock: socket.socket, wire: bytes, peer: Any, entry: dict[str, Any]) -> None:
        try:
            sock.sendto(wire, peer)
        except OSError:
            return
        entry["t_answer"] = time.monotonic()

    # -- control ---------------------------------------------------------------------------------
    def _command(self, line: str) -> dict[str, Any]:
        cmd = json.loads(line)
        op = cmd.get("op")
        if op == "config":
            self.delays = {str(ipaddress.ip_address(a)): float(s) for a, s in cmd.get("delays", {}).items()}
            self.zone = {n.lower().rstrip(".") + ".": r for n, r in cmd.get("zone", {}).items()}
            self.dns_delays = dict(cmd.get("dns_delays", {}))
            self.dns_cache = {}
            self._rdata = {
                (name, rtype): [dns.rdata.from_text("IN", rtype, text).to_wire() or b"" for text in texts]
                for name, recs in self.zone.items()
                for rtype, texts in recs.items()
            }
            return {"ok": True}
        if op == "log":
            out = {"ok": True, "syns": self.syns, "dns": self.dns_log, "now": time.monotonic()}
            self.syns, self.dns_log = [], []
            return out
        if op == "ping":
            return {"ok": True, "now": time.monotonic()}
        return {"ok": False, "error": f"unknown op {op!r}"}

    def run(self) -> None:
        stdin = sys.stdin.buffer
        buf = b""
        fds: list[Any] = [stdin, self.nfq_sock, self.listener, *self.dns_socks]
        print(json.dumps({"ok": True, "ready": True, "pid": os.getpid()}), flush=True)
        while True:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            readable, _, _ = select.select(fds, [], [], timeout)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, action = heapq.heappop(self.timers)
                if action[0] == "accept":
                    action[1].accept()
                else:
                    self._send_dns(*action[1:])
            for r in readable:
                if r is self.nfq_sock:
                    self.nfq.run(block=False)
                elif r is self.listener:
                    for _ in range(64):
                        try:
                            conn, _ = self.listener.accept()
                        except BlockingIOError:
                            break
                        conn.close()
                elif r is stdin:
                    chunk = os.read(stdin.fileno(), 65536)
                    if not chunk:
                        return
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            print(json.dumps(self._command(line.decode())), flush=True)
                else:
                    self._on_dns(r)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dns", action="append", default=[])
    args = parser.parse_args()
    agent = Agent(args.queue, args.port, args.dns)
    try:
        agent.run()
    finally:
        agent.nfq.unbind()


if __name__ == "__main__":
    main()
