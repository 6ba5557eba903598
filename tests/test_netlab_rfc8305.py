"""The opt-in RFC 8305 strategy (``Dialer(happy_eyeballs=HappyEyeballs())``) on every lab case.

The fake-network tests (tests/test_rfc8305*.py) prove the rules under a virtual clock; these
prove them on a real dual-stack network: real SYNs, stamped on arrival by the lab's delayer,
real DNS answers with per-type delays. Each case has the outcome RFC 8305 predicts with the
defaults (Connection Attempt Delay 250 ms, Resolution Delay 50 ms, First Address Family Count
1), and the issue's targets are asserted on medians of the repetitions:

* CAD: the IPv4 SYN leaves 250 ms (± 2 ms) after the IPv6 one when IPv6 is slower than that;
* RD: when AAAA is late, the first SYN leaves at most 50 ms (+ 2 ms) after the A answer;
* same family: the second address is tried 250 ms (± 2 ms) after the first, not 2 s;
* interlacing: the SYN order alternates families, each SYN 250 ms (± 2 ms) after the previous;
* HTTPS records (``https_records=True``): the record's address hints are used before A/AAAA.

Same requirements and marker as tests/test_netlab.py.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from tests.netlab.cases import Case, Dial, Session, all_cases, summarize
from tests.netlab.clients import by_name
from tests.netlab.lab import Lab, missing_requirements, remove_stale

_missing = missing_requirements()
pytestmark = [
    pytest.mark.netlab,
    pytest.mark.skipif(bool(_missing), reason="the network lab needs " + ", ".join(_missing)),
]

#: Repetitions per case and client: five, so that one or two dials a busy host delayed do not
#: move the median; three for the cases that wait out the 5 s timeout (CI time), whose bound
#: (5.0-5.1 s) is loose.
REPS, SLOW_REPS = 5, 3
CAD, RD = 0.250, 0.050
#: The issue's bounds on the medians: ± 2 ms around a delay, + 2 ms over the resolution delay.
#: What trionet itself adds is about 0.9 ms (docs/broken-networks.rst): Trio's I/O wait takes
#: its timeout in whole milliseconds, rounded up, so a timer fires 0-1 ms late, and the next
#: attempt's socket set-up comes after that.
TOL = 0.002


class TimingMiss(AssertionError):
    """A median outside its time bound: the one failure a busy host can cause on its own."""


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    remove_stale()
    with Lab() as lab:
        yield Session(lab, by_name(["trionet-rfc8305", "trionet-rfc8305-https"]))


@dataclass(frozen=True)
class Expect:
    """What RFC 8305 with the default knobs does on one case."""

    family: str | None  # "IPv6", "IPv4", "error"; None: either (a tie, or a kernel race)
    order: str | None  # the SYN order the delayer sees; None: not checked
    gaps: tuple[float | None, ...] = ()  # seconds between successive SYNs; None: not checked
    after_a: float | None = None  # the first SYN this long after the A answer (upper bound + TOL)
    within: tuple[float, float] = (0.0, 0.1)  # bounds on the median time to connect (or fail)
    error: str | None = None  # text the error contains


def expect(case: Case) -> Expect:
    """RFC 8305's prediction for *case* (the lab's cases, tests/netlab/cases.py)."""
    v6, v4 = case.v6, case.v4
    if case.group == "CAD" and case.ipv6_delay_ms is not None:
        d = case.ipv6_delay_ms / 1000
        if d < CAD - 0.01:  # IPv6 answers before the CAD fires: no IPv4 SYN at all
            return Expect("IPv6", "6a", within=(d, d + 0.02))
        if d > CAD + 0.01:
            return Expect("IPv4", "6a 4a", (CAD,), within=(CAD, CAD + 0.02))
        return Expect(None, None, within=(CAD - 0.01, CAD + 0.02))  # the 250 ms tie
    if case.key == "CAD: IPv6 blackholed":
        return Expect("IPv4", "6a 4a", (CAD,), within=(CAD, CAD + 0.02))
    if case.key == "CAD: IPv6 refused":
        # §5: a failure starts the next attempt at once, not after the CAD.
        return Expect("IPv4", "6a 4a", (None,), within=(0.0, 0.02))
    if case.key == "CAD: IPv6 ICMP unreachable":
        # The kernel's soft-error race (docs/broken-networks.rst): the IPv6 failure is seen at
        # once or not before the IPv4 attempt starts at the CAD; either way IPv4 wins.
        return Expect("IPv4", "6a 4a", (None,), within=(0.0, CAD + 0.02))
    if case.group == "RD":
        late_aaaa = case.dns_delays.get("AAAA", 0.0)
        if case.dns_delays.get("A"):
            # AAAA first: §3 starts at once, without waiting for the A answer (100 ms late).
            return Expect("IPv6", "6a", within=(0.0, 0.02))
        if late_aaaa is None or late_aaaa > RD + 0.01:
            # §3: A answered, AAAA late -- wait the Resolution Delay, then go with IPv4.
            return Expect("IPv4", "4a", after_a=RD, within=(RD, RD + 0.02))
        if late_aaaa < RD - 0.01:
            return Expect("IPv6", "6a", after_a=late_aaaa, within=(late_aaaa, late_aaaa + 0.02))
        return Expect(None, None, after_a=RD, within=(RD - 0.01, RD + 0.02))  # the 50 ms tie
    if case.group == "interlace":
        if all(i == "drop" for i in (*v6, *v4)):
            # §4: one interlaced list, §5: each attempt CAD after the previous one; every one
            # keeps running until the dialer's 5 s timeout, reported for the first address.
            return Expect(
                "error", "6a 4a 6b 4b 6c 4c", (CAD,) * 5, within=(5.0, 5.1), error="]:8080: i/o timeout"
            )
        # The first IPv6 is dead; the second attempt is the first IPv4, which works.
        return Expect("IPv4", "6a 4a", (CAD,), within=(CAD, CAD + 0.02))
    if case.group == "same-family":
        fam, order = ("IPv4", "4a 4b") if v4 else ("IPv6", "6a 6b")
        return Expect(fam, order, (CAD,), within=(CAD, CAD + 0.02))
    if case.key == "dead: both blackholed":
        return Expect("error", "6a 4a", (CAD,), within=(5.0, 5.1), error="]:8080: i/o timeout")
    if case.key == "dead: both refused":
        return Expect("error", "6a 4a", (None,), within=(0.0, 0.02), error="connection refused")
    if case.group == "HTTPS":
        # Without https_records the client waits for A and AAAA (both 300 ms late).
        return Expect("IPv6", "6a", within=(0.3, 0.32))
    raise AssertionError(f"no expectation for {case.key}")


def _median(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def _gaps(d: Dial) -> list[float]:
    return [b[0] - a[0] for a, b in zip(d.syns, d.syns[1:], strict=False)]


def _check(dials: Sequence[Dial], want: Expect) -> None:
    detail = "; ".join(
        f"{d.order} at {[round(t * 1000, 1) for t, _ in d.syns]} in {d.elapsed * 1000:.1f} ms "
        f"({d.family}, A answer {None if d.first_syn_after_a is None else round(d.first_syn_after_a * 1000, 1)}"
        f" ms before the first SYN{', ' + d.error if d.error else ''})"
        for d in dials
    )
    s = next(summarize(dials))
    if want.family is not None:
        assert s.family == want.family, detail
        assert all(d.family == want.family for d in dials), detail
    if want.order is not None:
        assert all(d.order == want.order for d in dials), detail
    for i, gap in enumerate(want.gaps):
        got = _median([_gaps(d)[i] if len(_gaps(d)) > i else None for d in dials])
        assert got is not None, detail
        if gap is None:
            continue
        if abs(got - gap) > TOL:
            raise TimingMiss(f"gap {i + 1}: {got * 1000:.2f} ms; {detail}")
    if want.after_a is not None:
        got = _median([d.first_syn_after_a for d in dials])
        assert got is not None, detail
        if got > want.after_a + TOL:
            raise TimingMiss(f"first SYN {got * 1000:.2f} ms after A; {detail}")
    lo, hi = want.within
    if not lo <= s.median <= hi:
        raise TimingMiss(
            f"median {s.median * 1000:.1f} ms outside [{lo * 1000:.0f}, {hi * 1000:.0f}]; {detail}"
        )
    if want.error is not None:
        assert all(want.error in (d.error or "") for d in dials), detail


def _measured(measure: Callable[[], list[Dial]], check: Callable[[list[Dial]], None]) -> None:
    """Measure and check; after a :class:`TimingMiss`, measure once more, and the second
    measurement decides. Why: on a shared virtual machine a burst of stolen CPU time can land on
    most dials of one case (seen in CI: 252.3, 250.8 and 252.5 ms for the 250 ms delay, the
    case before and after it on time). Both tries test the same rule, so a wrong delay still
    fails, and a wrong family or order (never the host's doing) fails on the first."""
    try:
        check(measure())
    except TimingMiss as first:
        try:
            check(measure())
        except TimingMiss as second:
            raise TimingMiss(f"twice: {first}\nthen: {second}") from None


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.key.replace(" ", "_"))
def test_rfc8305_on_every_lab_case(session: Session, case: Case) -> None:
    want = expect(case)
    # The cases that wait for the 5 s timeout run one client only (CI time).
    slow = want.within[0] >= 1.0
    clients = ["trionet-rfc8305"] if slow else ["trionet-rfc8305", "trionet-rfc8305-https"]
    reps = SLOW_REPS if slow else REPS
    _measured(
        lambda: session.run_case(case, reps, clients=clients), lambda dials: _check_case(case, want, dials)
    )


def _check_case(case: Case, want: Expect, dials: list[Dial]) -> None:
    plain = [d for d in dials if d.client == "trionet-rfc8305"]
    _check(plain, want)
    assert all("HTTPS" not in d.qtypes for d in plain), [d.qtypes for d in plain]
    https = [d for d in dials if d.client == "trionet-rfc8305-https"]
    if not https:
        return
    assert all("HTTPS" in d.qtypes for d in https), [d.qtypes for d in https]
    if case.group == "HTTPS":
        # HEv3: the HTTPS answer's ipv6hint is dialled before A/AAAA (300 ms late) arrive.
        _check(https, Expect("IPv6", "6a", within=(0.0, 0.05)))
    else:
        # No HTTPS record for the name: the lab answers NODATA at once and the strategy is the
        # plain one.
        _check(https, want)


def test_adaptive_attempt_delay_follows_connect_times() -> None:
    """§5 dynamic CAD: the delay after an IPv6 attempt comes from the IPv6 connect times this
    client saw (SRTT + 4 RTTVAR, clamped to [100 ms, 2 s])."""
    remove_stale()
    with Lab() as lab:
        session = Session(lab, by_name(["trionet-rfc8305-adaptive"]))
        fast = Case("adaptive", "IPv6 only, +0 ms", ("ok",), ())
        slow = Case("adaptive", "IPv6 only, +400 ms", ("delay:0.4",), ())
        blackholed = Case("adaptive", "IPv6 blackholed", ("drop",), ("ok",))
        # The warm-up dials of the session were fast IPv6 connects; more of them:
        session.run_case(fast, 8)
        _measured(
            lambda: session.run_case(blackholed, REPS),
            lambda dials: _check(dials, Expect("IPv4", "6a 4a", (0.1,), within=(0.1, 0.12))),
        )
        # IPv6 connects that take 400 ms: SRTT climbs towards 400 ms, RTTVAR with it.
        session.run_case(slow, 8)
        after_slow = session.run_case(blackholed, 1)
        gap = _gaps(after_slow[0])[0]
        assert 0.3 <= gap <= 2.0 + TOL, after_slow
