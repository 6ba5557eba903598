"""trionet.trace.render_svg: well-formed SVG whose bars carry the exact times of real fake dials."""

from __future__ import annotations

import errno
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
import trio.testing

import trionet
import trionet.testing
from trionet import trace

NS = "{http://www.w3.org/2000/svg}"
GOLDEN = Path(__file__).parent / "golden" / "svg_fast_fallback.svg"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{NS}svg"
    return root


def bars(root: ET.Element) -> list[dict[str, str]]:
    """Every attempt bar's attributes, its <title> text under the key "title"."""
    found = []
    for rect in root.iter(f"{NS}rect"):
        if "attempt" in rect.get("class", "").split():
            title = rect.find(f"{NS}title")
            assert title is not None, "every bar has a <title>"
            assert title.text
            found.append({**rect.attrib, "title": title.text})
    return found


def markers(root: ET.Element) -> dict[str, float]:
    """The dial-wide vertical lines: their <title> (the label) -> time in ms."""
    lines = {}
    for line in root.iter(f"{NS}line"):
        if "marker" in line.get("class", "").split():
            title = line.find(f"{NS}title")
            assert title is not None
            assert title.text
            lines[title.text] = float(line.attrib["data-at-ms"])
    return lines


def times(bar: dict[str, str]) -> tuple[float, float]:
    return float(bar["data-start-ms"]), float(bar["data-end-ms"])


async def dial_traced(
    net: trionet.testing.FakeNet,
    address: str,
    *,
    timeout: float | None = None,
    fallback_delay: float | None = None,
) -> list[trace.Event]:
    dialer = trionet.Dialer(resolver=net.resolver, timeout=timeout, fallback_delay=fallback_delay)
    with net.install(), trace.collect() as events:
        try:
            stream = await dialer.dial("tcp", address)
        except OSError:
            pass
        else:
            await stream.aclose()
    return events


def dual(*, v6: str, v4: str, v6_delay: float = 0.0) -> trionet.testing.FakeNet:
    net = trionet.testing.FakeNet()
    net.add_host("dual.test", ["::1", "127.0.0.1"])
    for addr, rule in (("::1", v6), ("127.0.0.1", v4)):
        if rule == "blackhole":
            net.blackhole(addr)
        elif rule == "refuse":
            net.refuse(addr)
        elif rule == "delay":
            net.delay(addr, v6_delay)
    return net


async def test_fast_fallback_over_a_blackholed_primary(autojump_clock: trio.testing.MockClock) -> None:
    events = await dial_traced(dual(v6="blackhole", v4="connect"), "dual.test:80")
    root = parse(trace.render_svg(events))
    assert root.get("width") == "600"
    primary, fallback = bars(root)
    assert (primary["data-addr"], primary["data-role"], primary["data-outcome"]) == (
        "[::1]:80",
        "primary",
        "cancelled",
    )
    assert times(primary) == (0.0, 300.0)
    assert (fallback["data-addr"], fallback["data-outcome"]) == ("127.0.0.1:80", "won")
    assert times(fallback) == (300.0, 300.0)
    assert "won at 300.0 ms" in fallback["title"]
    assert markers(root) == {"fallback delay 300 ms": 300.0}
    # The outcome is written, not only coloured.
    texts = "".join(root.itertext())
    assert "cancelled at 300.0 ms: another attempt won" in texts
    assert "=> connected to 127.0.0.1:80 after 300.0 ms" in texts


async def test_a_refused_primary_starts_the_fallback_at_once(autojump_clock: trio.testing.MockClock) -> None:
    events = await dial_traced(dual(v6="refuse", v4="connect"), "dual.test:80", fallback_delay=0.2)
    root = parse(trace.render_svg(events))
    primary, fallback = bars(root)
    assert (primary["data-outcome"], times(primary)) == ("refused", (0.0, 0.0))
    assert "connection refused" in primary["title"]
    assert (fallback["data-outcome"], times(fallback)) == ("won", (0.0, 0.0))
    # The fallback delay is far from a dial that took no time: listed, not drawn at 200 ms.
    assert markers(root) == {}
    assert "off the chart: fallback delay 200 ms at 200.0 ms" in "".join(root.itertext())


async def test_both_families_refused(autojump_clock: trio.testing.MockClock) -> None:
    events = await dial_traced(dual(v6="refuse", v4="refuse"), "dual.test:80")
    root = parse(trace.render_svg(events, span=0.4))
    assert [b["data-outcome"] for b in bars(root)] == ["refused", "refused"]
    assert markers(root) == {"fallback delay 300 ms": 300.0}  # span=0.4 brings it on the chart
    assert "=> failed after 0.0 ms: dial tcp [::1]:80: connect: connection refused" in "".join(
        root.itertext()
    )


async def test_partial_deadlines_over_three_addresses(autojump_clock: trio.testing.MockClock) -> None:
    net = trionet.testing.FakeNet()
    net.add_host("many.test", ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    net.blackhole("192.0.2.1")
    net.blackhole("192.0.2.2")
    events = await dial_traced(net, "many.test:80", timeout=12)
    root = parse(trace.render_svg(events))
    found = bars(root)
    assert [(b["data-addr"], b["data-outcome"]) for b in found] == [
        ("192.0.2.1:80", "timed out"),
        ("192.0.2.2:80", "timed out"),
        ("192.0.2.3:80", "won"),
    ]
    # Go's partial deadline: an equal share of the time left, 12 s / 3 then 8 s / 2.
    assert [times(b) for b in found] == [(0.0, 4000.0), (4000.0, 8000.0), (8000.0, 8000.0)]
    assert [float(b["data-deadline-ms"]) for b in found] == [4000.0, 8000.0, 12000.0]
    assert "timed out at 4000.0 ms (its partial deadline)" in found[0]["title"]
    assert markers(root) == {"dialer deadline 12000.0 ms": 12000.0}


async def test_own_timeout_and_enclosing_scope(autojump_clock: trio.testing.MockClock) -> None:
    net = dual(v6="blackhole", v4="blackhole")
    timeout = await dial_traced(net, "dual.test:80", timeout=0.5)
    with net.install(), trace.collect() as scoped, trio.move_on_after(0.5):
        await trionet.Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
    root = parse(trace.render_svg(timeout + scoped, start=timeout[0].time))
    dials = root.findall(f"{NS}g")
    assert len(dials) == 2
    own, enclosing = (bars(d) for d in dials)
    assert [b["data-outcome"] for b in own + enclosing] == ["cancelled"] * 4
    assert "the dialer's deadline" in own[0]["title"]
    assert "an enclosing scope" in enclosing[0]["title"]
    assert markers(dials[0]) == {"fallback delay 300 ms": 300.0, "dialer deadline 500.0 ms": 500.0}
    # The second dial started 500 ms after the first: the shared axis counts from the first.
    assert markers(dials[1]) == {"fallback delay 300 ms": 800.0, "enclosing scope deadline 1000.0 ms": 1000.0}
    assert times(enclosing[0]) == (500.0, 1000.0)


async def test_a_cancel_without_a_deadline_is_marked_where_it_happened(
    autojump_clock: trio.testing.MockClock,
) -> None:
    net = dual(v6="blackhole", v4="blackhole")
    with net.install(), trace.collect() as events, trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trionet.Dialer(resolver=net.resolver).dial, "tcp", "dual.test:80")
            await trio.sleep(0.1)
            scope.cancel()
    root = parse(trace.render_svg(events))
    assert markers(root)["cancelled by an enclosing scope 100.0 ms"] == 100.0


async def test_a_late_racer_is_drawn_as_loser_closed(autojump_clock: trio.testing.MockClock) -> None:
    # The primary connects at exactly 300 ms, the instant the fallback starts and connects.
    events = await dial_traced(dual(v6="delay", v4="connect", v6_delay=0.3), "dual.test:80")
    assert any(isinstance(e, trace.LoserClosed) for e in events)
    outcomes = {b["data-role"]: b["data-outcome"] for b in bars(parse(trace.render_svg(events)))}
    assert sorted(outcomes.values()) == ["loser closed", "won"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FutureAnswer(trace.Event):
    """An event kind the renderer was not written for, carrying DNS answers."""

    addrs: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FutureThing(trace.Event):
    """An event kind the renderer knows nothing about."""

    payload: object


def fixed_trace() -> list[trace.Event]:
    """A fast-fallback trace written out by hand, so that the golden file depends on the
    renderer alone, plus two event kinds it does not know."""
    refused = OSError(errno.ECONNREFUSED, "connection refused")
    return [
        trace.DialStart(
            time=10.0, dial=7, network="tcp", address="dual.test:80", deadline=12.0, own_deadline=12.0
        ),
        trace.ResolveStart(time=10.0, dial=7, host="dual.test"),
        FutureAnswer(time=10.01, dial=7, addrs=("::1",)),
        trace.ResolveDone(time=10.02, dial=7, host="dual.test", addrs=("::1", "::2", "127.0.0.1")),
        trace.DelayStart(time=10.02, dial=7, name="fallback delay", delay=0.3),
        trace.AttemptStart(
            time=10.02, dial=7, addr="[::1]:80", family="ipv6", role="primary", deadline=11.01
        ),
        FutureThing(time=10.05, dial=7, payload=object()),
        trace.AttemptDone(time=10.1, dial=7, addr="[::1]:80", family="ipv6", role="primary", error=refused),
        trace.AttemptStart(time=10.1, dial=7, addr="[::2]:80", family="ipv6", role="primary", deadline=12.0),
        trace.AttemptStart(
            time=10.32, dial=7, addr="127.0.0.1:80", family="ipv4", role="fallback", deadline=12.0
        ),
        trace.AttemptDone(time=10.35, dial=7, addr="127.0.0.1:80", family="ipv4", role="fallback"),
        trace.AttemptDone(time=10.35, dial=7, addr="[::2]:80", family="ipv6", role="primary", cancelled=True),
        trace.DialDone(time=10.35, dial=7, winner="127.0.0.1:80"),
    ]


def test_golden_file() -> None:
    svg = trace.render_svg(fixed_trace(), title="Fast fallback: the IPv4 racer wins")
    if os.environ.get("TRIONET_REGENERATE_GOLDEN"):  # pragma: no cover - run by hand after a change
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(svg, encoding="utf-8")
    assert svg == GOLDEN.read_text(encoding="utf-8"), "set TRIONET_REGENERATE_GOLDEN=1, then look"


def test_the_fixed_trace_reads_back() -> None:
    root = parse(trace.render_svg(fixed_trace()))
    found = bars(root)
    assert [(b["data-addr"], b["data-outcome"], times(b)) for b in found] == [
        ("[::1]:80", "refused", (20.0, 100.0)),
        ("[::2]:80", "cancelled", (100.0, 350.0)),
        ("127.0.0.1:80", "won", (320.0, 350.0)),
    ]
    # Unknown events: the one with addresses is a mark on the DNS row, the other is skipped.
    answers = [p.get("data-time-ms") for p in root.iter(f"{NS}path") if p.get("class") == "answer"]
    assert answers == ["10", "20"]
    assert markers(root) == {"fallback delay 300 ms": 320.0}  # the dialer's deadline is far off
    assert "off the chart: dialer deadline at 2000.0 ms" in "".join(root.itertext())
    title = root.find(f"{NS}title")
    assert title is not None
    assert title.text == "dial tcp dual.test:80"


def test_hostile_text_stays_well_formed() -> None:
    name = "evil</text>&<script>\x00\x1b\ud800" + "x" * 5000
    events: list[trace.Event] = [
        trace.DialStart(
            time=0.0, dial=1, network="unix", address=name, deadline=math.inf, own_deadline=math.inf
        ),
        trace.AttemptStart(time=0.0, dial=1, addr=name, family="unix", role="primary", deadline=math.inf),
        trace.AttemptDone(time=0.5, dial=1, addr=name, family="unix", role="primary", error=OSError(name)),
        trace.DialDone(time=0.5, dial=1, winner=None, error=OSError(name)),
    ]
    svg = trace.render_svg(events, width=10)
    root = parse(svg)
    assert root.get("width") == "320"  # the smallest width drawn
    (bar,) = bars(root)
    assert bar["data-outcome"] == "failed"
    assert len(svg) < 10_000  # long text is cut, not copied into every element
    for element in root.iter():
        for attr in ("x", "x1", "x2"):
            if attr in element.attrib:
                assert 0 <= float(element.attrib[attr]) <= 320


@pytest.mark.parametrize(
    "events", [[], [FutureThing(time=1.0, dial=1, payload=None)]], ids=["none", "unknown"]
)
def test_nothing_to_draw_is_still_a_picture(events: list[trace.Event]) -> None:
    root = parse(trace.render_svg(events, title="empty"))
    assert bars(root) == []
    title = root.find(f"{NS}title")
    assert title is not None
    assert title.text == "empty"


def test_an_unfinished_trace_draws_running_attempts() -> None:
    events: list[trace.Event] = [
        trace.DialStart(
            time=0.0, dial=1, network="tcp", address="a.test:1", deadline=math.inf, own_deadline=math.inf
        ),
        trace.AttemptStart(
            time=0.0, dial=1, addr="192.0.2.1:1", family="ipv4", role="primary", deadline=math.inf
        ),
        trace.LoserClosed(time=0.25, dial=1, addr="192.0.2.9:1", role="fallback"),
    ]
    root = parse(trace.render_svg(events))
    (bar,) = bars(root)
    assert (bar["data-outcome"], times(bar)) == ("running", (0.0, 250.0))
    assert "(the trace ends before the dial does)" in "".join(root.itertext())


async def test_a_lookup_cut_short_is_drawn_cancelled(autojump_clock: trio.testing.MockClock) -> None:
    net = trionet.testing.FakeNet()
    net.add_host("slow.test", ["127.0.0.1"], delay=math.inf)
    events = await dial_traced(net, "slow.test:80", timeout=0.25)
    root = parse(trace.render_svg(events))
    assert bars(root) == []
    texts = "".join(root.itertext())
    assert "DNS slow.test  cancelled at 250.0 ms" in texts
    assert markers(root) == {"dialer deadline 250.0 ms": 250.0}
