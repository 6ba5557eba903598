"""The lab's cases (the "Lazy Eye Inspection" tests, plus the ones Go users report) and the
measurement loop that runs every client on them.

A case names the server addresses of one host name, in DNS order (IPv6 first then IPv4, each a
tuple of impairments) and the DNS delay of each record type. Each address gets a label: ``6a``
is the first IPv6 address, ``4b`` the second IPv4 one; a SYN order is a list of labels.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .clients import Client, Runner
from .lab import PORT, ZONE, Lab, LabError

#: Every dial gets this much time (the dialer's timeout; trio/anyio/asyncio get a scope).
TIMEOUT = 5.0
CAD_DELAYS_MS = (0, 25, 50, 100, 150, 200, 250, 275, 300, 325, 350, 400, 500, 1000)
RD_DELAYS_MS = (0, 25, 50, 100, 200, 500)


@dataclass(frozen=True)
class Case:
    """One lab case."""

    group: str  # "CAD", "RD", "interlace", "same-family", "dead"
    label: str
    v6: tuple[str, ...]  # impairment per IPv6 address: ok, delay:S, drop, reset, unreach
    v4: tuple[str, ...]
    dns_delays: dict[str, float | None] = field(default_factory=dict)  # A/AAAA/HTTPS -> s or None
    timeout: float = TIMEOUT
    ipv6_delay_ms: float | None = None  # the chart's x axis (CAD cases)
    https: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.group}: {self.label}"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        """The inverse of :func:`dataclasses.asdict` through JSON (lists back to tuples)."""
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**fields)


def _cad(ms: float) -> Case:
    return Case("CAD", f"IPv6 +{ms:g} ms", (f"delay:{ms / 1000}",), ("ok",), ipv6_delay_ms=ms)


def all_cases() -> list[Case]:
    """Every case of the issue, in table order."""
    cases = [_cad(ms) for ms in CAD_DELAYS_MS]
    cases += [
        Case("CAD", "IPv6 blackholed", ("drop",), ("ok",)),
        Case("CAD", "IPv6 refused", ("reset",), ("ok",)),
        Case("CAD", "IPv6 ICMP unreachable", ("unreach",), ("ok",)),
    ]
    cases += [
        Case("RD", f"AAAA +{ms} ms after A", ("ok",), ("ok",), {"AAAA": ms / 1000}) for ms in RD_DELAYS_MS
    ]
    cases += [
        Case("RD", "A +100 ms after AAAA", ("ok",), ("ok",), {"A": 0.1}),
        Case("RD", "AAAA never answered", ("ok",), ("ok",), {"AAAA": None}),
    ]
    cases += [
        Case("interlace", f"3+3, first {k} IPv6 blackholed", ("drop",) * k + ("ok",) * (3 - k), ("ok",) * 3)
        for k in (1, 2, 3)
    ]
    # Every address dead: how each client walks all six (interlaced or family by family) and
    # how it spaces the attempts, until the 5 s timeout.
    cases.append(Case("interlace", "3+3, all blackholed", ("drop",) * 3, ("drop",) * 3))
    cases += [
        Case("same-family", "2 IPv4, first blackholed", (), ("drop", "ok")),
        Case("same-family", "2 IPv6, first blackholed", ("drop", "ok"), ()),
    ]
    cases += [
        Case("dead", "both blackholed", ("drop",), ("drop",)),
        Case("dead", "both refused", ("reset",), ("reset",)),
    ]
    # HEv3 draft: A and AAAA answered 300 ms late, the HTTPS record at once with address hints
    # (``{v4}``/``{v6}`` become the case's addresses) -- a client that asks for HTTPS records and
    # uses the hints connects before A/AAAA arrive.
    cases.append(
        Case(
            "HTTPS",
            "A/AAAA +300 ms, HTTPS hints at once",
            ("ok",),
            ("ok",),
            {"A": 0.3, "AAAA": 0.3},
            https=('1 . alpn="h2" ipv4hint={v4} ipv6hint={v6}',),
        )
    )
    return cases


QUICK = {
    "CAD: IPv6 +0 ms",
    "CAD: IPv6 +100 ms",
    "CAD: IPv6 +275 ms",
    "CAD: IPv6 +400 ms",
    "CAD: IPv6 blackholed",
    "RD: AAAA +100 ms after A",
    "RD: AAAA never answered",
    "interlace: 3+3, first 2 IPv6 blackholed",
    "same-family: 2 IPv4, first blackholed",
    "dead: both refused",
    "HTTPS: A/AAAA +300 ms, HTTPS hints at once",
}


def quick_cases() -> list[Case]:
    """A few cases of each kind: the smoke run."""
    return [c for c in all_cases() if c.key in QUICK]


@dataclass
class Dial:
    """One measured dial."""

    client: str
    case: Case
    ok: bool
    elapsed: float  # seconds, as the client measured it
    remote: str | None
    error: str | None
    syns: list[tuple[float, str]]  # (seconds after the first SYN, label); retransmits left out
    retransmits: int
    a_answer: float | None  # seconds from the first SYN back to the first A answer (negative)
    first_syn_after_a: float | None  # seconds from the first A answer to the first SYN
    qtypes: tuple[str, ...] = ()  # the DNS record types the client asked for, in order

    @property
    def family(self) -> str:
        if not self.ok or self.remote is None:
            return "error"
        return "IPv6" if ":" in self.remote else "IPv4"

    @property
    def order(self) -> str:
        return " ".join(label for _, label in self.syns) or "-"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form (the benchmark's ``--json``; the docs render their tables from it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dial:
        fields = dict(d)
        fields["case"] = Case.from_dict(fields["case"])
        fields["syns"] = [(float(t), str(label)) for t, label in fields["syns"]]
        fields["qtypes"] = tuple(fields.get("qtypes", ()))
        return cls(**fields)

    def gap(self, first: str, second: str) -> float | None:
        """Seconds from the first SYN to label-prefix *first* to the first to *second*."""
        t1 = next((t for t, lab in self.syns if lab.startswith(first)), None)
        t2 = next((t for t, lab in self.syns if lab.startswith(second)), None)
        return None if t1 is None or t2 is None else t2 - t1


class Session:
    """A lab plus started clients: runs cases, one dial at a time."""

    def __init__(self, lab: Lab, clients: Sequence[Client]) -> None:
        self.lab = lab
        self.runners: dict[str, Runner] = {}
        self.unavailable: dict[str, str] = {}
        self._n = 0
        for client in clients:
            argv = client.argv()
            if isinstance(argv, str):
                self.unavailable[client.name] = argv
                continue
            self.runners[client.name] = Runner(client.name, lab.popen_client(argv))
        self._warm_up()

    def _warm_up(self) -> None:
        # First dials pay for imports and caches; the measurement should not.
        case = Case("warm", "warm-up", ("ok",), ("ok",))
        for _ in range(2):
            self.run_case(case, 1)

    def run_case(self, case: Case, reps: int, clients: Sequence[str] | None = None) -> list[Dial]:
        """*reps* rounds of every client (or of *clients*) on *case*, the client order rotated
        each round."""
        self._n += 1
        name = f"c{self._n}.{ZONE}"
        addrs = self.lab.allocate(len(case.v6), len(case.v4))
        labels = {a: f"6{chr(97 + i)}" for i, a in enumerate(addrs.v6)}
        labels.update({a: f"4{chr(97 + i)}" for i, a in enumerate(addrs.v4)})
        impair = dict(zip(addrs.v6, case.v6, strict=True)) | dict(zip(addrs.v4, case.v4, strict=True))
        dns_delays = {"A": 0.0, "AAAA": 0.0, "HTTPS": 0.0} | case.dns_delays
        https = [
            h.replace("{v4}", ",".join(addrs.v4)).replace("{v6}", ",".join(addrs.v6)) for h in case.https
        ]
        self.lab.configure(name, addrs, impair, dns_delays, https=https)
        names = list(self.runners) if clients is None else [c for c in self.runners if c in clients]
        out: list[Dial] = []
        for rep in range(reps):
            shift = rep % max(1, len(names))
            out.extend(self._dial(client, case, name, labels) for client in [*names[shift:], *names[:shift]])
        return out

    def _dial(self, client: str, case: Case, name: str, labels: dict[str, str]) -> Dial:
        self.lab.agent(op="log")  # forget anything earlier
        t0 = time.monotonic()
        answer = self.runners[client].dial(name, PORT, case.timeout)
        t1 = time.monotonic()
        log = self.lab.agent(op="log")
        seen: set[tuple[str, int]] = set()
        syns: list[tuple[float, str]] = []
        retransmits = 0
        for syn in log["syns"]:
            if not t0 <= syn["t"] <= t1 or syn["dst"] not in labels:
                continue
            key = (syn["src"], syn["sport"])
            if key in seen:
                retransmits += 1
                continue
            seen.add(key)
            syns.append((syn["t"], labels[syn["dst"]]))
        a_times = [
            d["t_answer"]
            for d in log["dns"]
            if d["qtype"] == "A" and d["t_answer"] and t0 <= d["t_query"] <= t1
        ]
        first = syns[0][0] if syns else None
        a_first = min(a_times) if a_times else None
        return Dial(
            client=client,
            case=case,
            ok=bool(answer["ok"]),
            elapsed=float(answer["elapsed"]),
            remote=answer.get("remote"),
            error=answer.get("error"),
            syns=[(t - (first or 0.0), lab) for t, lab in syns],
            retransmits=retransmits,
            a_answer=None if a_first is None or first is None else a_first - first,
            first_syn_after_a=None if a_first is None or first is None else first - a_first,
            qtypes=tuple(d["qtype"] for d in log["dns"] if t0 <= d["t_query"] <= t1),
        )


@dataclass
class Summary:
    """Every repetition of one client on one case."""

    client: str
    case: Case
    dials: list[Dial]

    @property
    def median(self) -> float:
        return statistics.median(d.elapsed for d in self.dials)

    @property
    def lo(self) -> float:
        return min(d.elapsed for d in self.dials)

    @property
    def hi(self) -> float:
        return max(d.elapsed for d in self.dials)

    @property
    def family(self) -> str:
        return _mode([d.family for d in self.dials])

    @property
    def order(self) -> str:
        return _mode([d.order for d in self.dials])

    @property
    def error(self) -> str | None:
        errors = [d.error for d in self.dials if d.error]
        return _mode(errors) if errors else None

    def median_of(self, fn: Callable[[Dial], float | None]) -> float | None:
        values = [v for v in (fn(d) for d in self.dials) if v is not None]
        return statistics.median(values) if values else None


def _mode(values: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def summarize(dials: Sequence[Dial]) -> Iterator[Summary]:
    """Group dials by (case, client), in first-seen order."""
    groups: dict[tuple[str, str], list[Dial]] = {}
    for d in dials:
        groups.setdefault((d.case.key, d.client), []).append(d)
    for (_, client), ds in groups.items():
        yield Summary(client, ds[0].case, ds)


__all__ = [
    "TIMEOUT",
    "Case",
    "Dial",
    "LabError",
    "Session",
    "Summary",
    "all_cases",
    "quick_cases",
    "summarize",
]
