"""Tables and the chart of a lab run (standard library only)."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from html import escape

from .cases import Dial, Summary

#: Each client's nominal fallback / connection attempt delay, seconds (documented defaults).
NOMINAL_DELAY = {
    "trionet": 0.3,
    "go": 0.3,
    "trio": 0.25,
    "asyncio": 0.25,
    "anyio": 0.25,
    "curl": 0.2,
    "trionet-rfc8305": 0.25,
    "trionet-rfc8305-https": 0.25,
    # adaptive=True has no nominal delay (it moves with the connect times it saw): no overshoot
}

_FAMILY = {"IPv6": "v6", "IPv4": "v4", "error": "err"}


def rst_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A reStructuredText simple table (for docs/broken-networks.rst and docs/benchmarks.rst)."""
    cells = [[c or "-" for c in headers], *[[c or "-" for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    rule = "  ".join("=" * w for w in widths)

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([rule, fmt(cells[0]), rule, *(fmt(r) for r in cells[1:]), rule])


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def matrix(summaries: Sequence[Summary], clients: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """One row per case, one column per client: ``median ms family``."""
    rows: dict[str, dict[str, Summary]] = {}
    for s in summaries:
        rows.setdefault(s.case.key, {})[s.client] = s
    headers = ["case", *clients]
    out = []
    for key, by_client in rows.items():
        cells = [key]
        for c in clients:
            found = by_client.get(c)
            cells.append("n/a" if found is None else f"{ms(found.median)} {_FAMILY[found.family]}")
        out.append(cells)
    return headers, out


def details(summaries: Sequence[Summary]) -> tuple[list[str], list[list[str]]]:
    """One row per (case, client): family, median, range, SYN order and times, error."""
    headers = ["case", "client", "won", "median ms", "min-max ms", "SYN order", "SYN ms after first", "error"]
    out = []
    for s in summaries:
        times = s.dials[len(s.dials) // 2].syns
        out.append(
            [
                s.case.key,
                s.client,
                s.family,
                ms(s.median),
                f"{ms(s.lo)}-{ms(s.hi)}",
                s.order,
                " ".join(f"{t * 1000:.0f}" for t, _ in times) or "-",
                (s.error or "")[:90],
            ]
        )
    return headers, out


def overshoots(dials: Sequence[Dial], client: str, delay: float | None = None) -> list[float]:
    """Seconds by which the first IPv4 SYN left later than *delay* after the first IPv6 SYN,
    over the CAD dials where IPv6 was slower than the delay (so the fallback had to fire)."""
    nominal = NOMINAL_DELAY.get(client, 0.3) if delay is None else delay
    out = []
    for d in dials:
        if d.client != client or d.case.group != "CAD" or d.case.v6[0] in ("reset", "ok"):
            continue
        v6 = d.case.v6[0]
        if v6.startswith("delay:") and float(v6[6:]) <= nominal + 0.02:
            continue
        if v6 == "unreach":
            continue  # an ICMP error can end the primary early
        gap = d.gap("6", "4")
        if gap is not None:
            out.append(gap - nominal)
    return out


def overshoot_table(dials: Sequence[Dial], clients: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    headers = ["client", "nominal delay ms", "dials", "median overshoot ms", "min-max ms"]
    rows = []
    for c in clients:
        if c not in NOMINAL_DELAY:
            continue
        values = overshoots(dials, c)
        if not values:
            continue
        rows.append(
            [
                c,
                f"{NOMINAL_DELAY.get(c, 0.3) * 1000:.0f}",
                str(len(values)),
                f"{statistics.median(values) * 1000:.2f}",
                f"{min(values) * 1000:.2f}-{max(values) * 1000:.2f}",
            ]
        )
    return headers, rows


_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def svg_chart(summaries: Sequence[Summary], clients: Sequence[str], title: str) -> str:
    """Time to connect against the IPv6 SYN delay (the CAD cases), one line per client."""
    points: dict[str, list[tuple[float, float]]] = {c: [] for c in clients}
    for s in summaries:
        if s.case.ipv6_delay_ms is not None and s.client in points and s.family != "error":
            points[s.client].append((s.case.ipv6_delay_ms, s.median * 1000))
    xs = [x for pts in points.values() for x, _ in pts] or [0.0, 1.0]
    ys = [y for pts in points.values() for _, y in pts] or [0.0, 1.0]
    x_max = max(xs) or 1.0
    y_max = max(400.0, max(ys) * 1.05)
    width, height, left, right, top, bottom = 800, 440, 60, 190, 40, 50
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + pw * x / x_max

    def py(y: float) -> float:
        return top + ph * (1 - y / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(title)}: one line per client ({escape(', '.join(clients))})</title>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>',
    ]
    step_x = 100 if x_max <= 1000 else 250
    x = 0.0
    while x <= x_max + 1e-9:
        parts.append(
            f'<line x1="{px(x):.1f}" y1="{top + ph}" x2="{px(x):.1f}" y2="{top + ph + 4}" stroke="black"/>'
        )
        parts.append(f'<text x="{px(x):.1f}" y="{top + ph + 17}" text-anchor="middle">{x:.0f}</text>')
        x += step_x
    step_y = 100 if y_max <= 1200 else 250
    y = 0.0
    while y <= y_max + 1e-9:
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + pw}" y2="{py(y):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.0f}</text>')
        y += step_y
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">IPv6 SYN delay (ms)</text>'
    )
    parts.append(
        f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + ph / 2})">time to connect, median (ms)</text>'
    )
    for i, c in enumerate(clients):
        pts = sorted(points[c])
        if not pts:
            continue
        colour = _COLOURS[i % len(_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="5,3"' if i % 2 else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in pts:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>')
        ly = top + 10 + 18 * i
        parts.append(
            f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 36}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        parts.append(f'<text x="{left + pw + 40}" y="{ly + 4}">{escape(c)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


FEATURES = [
    "CAD value",
    "resolution delay",
    "interlacing",
    "same-family stagger",
    "dynamic CAD",
    "HTTPS records",
]


def _median(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def features(dials: Sequence[Dial], client: str) -> dict[str, str]:
    """Each Happy Eyeballs feature of *client*, as the lab measured it (see the docs page for
    how each cell is read)."""
    mine = [d for d in dials if d.client == client]

    def case(key: str) -> list[Dial]:
        return [d for d in mine if d.case.key == key]

    out: dict[str, str] = {}
    # CAD: first IPv4 SYN after the first IPv6 SYN, where IPv6 could not win first.
    fired = [d for d in mine if d.case.group == "CAD" and d.case.v6[0] in ("drop", "delay:1.0", "delay:0.5")]
    cad = _median([d.gap("6", "4") for d in fired])
    out["CAD value"] = "-" if cad is None else f"{cad * 1000:.0f} ms"
    # RD: AAAA 500 ms after A -- does the first SYN wait for AAAA?
    rd = case("RD: AAAA +500 ms after A")
    after_a = _median([d.first_syn_after_a for d in rd])
    fam = _mode_text([d.family for d in rd])
    if after_a is None:
        out["resolution delay"] = "-"
    elif after_a < 0.4:
        out["resolution delay"] = f"yes: first SYN {after_a * 1000:.0f} ms after A ({fam})"
    else:
        out["resolution delay"] = f"no: waits for AAAA, first SYN {after_a * 1000:.0f} ms after A"
    # Interlacing: all six addresses dead, the SYN order.
    walk = case("interlace: 3+3, all blackholed")
    order = _mode_text([d.order for d in walk])
    fams = [lab[0] for lab in order.split()] if walk else []
    alternates = len(fams) >= 4 and all(a != b for a, b in itertools.pairwise(fams))
    # RFC 8305 interlacing is one list, attempts staggered by the attempt delay. Two serial
    # walks (Go's, trionet's default) also alternate families once the first attempts time
    # out, but only seconds apart: that is not interlacing.
    times = walk[len(walk) // 2].syns if walk else []
    staggered = all(b[0] - a[0] < 1.0 for a, b in itertools.pairwise(times))
    if not walk:
        out["interlacing"] = "-"
    elif alternates and staggered:
        out["interlacing"] = f"yes: {order}"
    elif alternates:
        out["interlacing"] = f"no (two serial walks): {order} at " + " ".join(
            f"{t * 1000:.0f}" for t, _ in times
        )
    else:
        out["interlacing"] = f"no: {order}"
    # Same-family stagger: two IPv4, the first dead.
    same = case("same-family: 2 IPv4, first blackholed")
    gap = _median([d.gap("4a", "4b") for d in same])
    out["same-family stagger"] = "-" if gap is None else f"{gap * 1000:.0f} ms"
    # Dynamic CAD: over every dial whose first IPv6 address was dead (blackholed, or delayed
    # 500 ms or more) while IPv4 addresses waited -- the CAD cases, the interlaced names, both
    # families dead -- the gap from the first IPv6 SYN to the first IPv4 SYN. A fixed delay
    # gives the same gap in every such dial (within the lab's noise); an adaptive one moves
    # with what the client learnt. (The same-family gap is left out: Go's and curl's there is
    # a partial deadline, not an attempt delay.)
    waiting = [
        d for d in mine if d.case.v6 and d.case.v4 and d.case.v6[0] in ("drop", "delay:0.5", "delay:1.0")
    ]
    gaps = [g for g in (d.gap("6", "4") for d in waiting) if g is not None]
    if len(gaps) >= 2:
        lo, hi = min(gaps), max(gaps)
        out["dynamic CAD"] = (
            f"not seen ({lo * 1000:.0f}-{hi * 1000:.0f} ms over {len(gaps)} dials)"
            if hi - lo < 0.01
            else f"yes: {lo * 1000:.0f}-{hi * 1000:.0f} ms over {len(gaps)} dials"
        )
    else:
        out["dynamic CAD"] = "-"
    # HTTPS records: asked for type 65? connected before A/AAAA (300 ms) arrived?
    https = case("HTTPS: A/AAAA +300 ms, HTTPS hints at once")
    if https:
        asked = any("HTTPS" in d.qtypes for d in https)
        t = statistics.median(d.elapsed for d in https)
        used = t < 0.29
        out["HTTPS records"] = (
            f"{'asks' if asked else 'not asked'}; {'hints used' if used else 'hints not used'}: {t * 1000:.0f} ms"
        )
    else:
        out["HTTPS records"] = "-"
    return out


def _mode_text(values: Sequence[str]) -> str:
    if not values:
        return "-"
    return max(values, key=values.count)


def feature_table(dials: Sequence[Dial], clients: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    rows = []
    for c in clients:
        f = features(dials, c)
        rows.append([c, *(f[name] for name in FEATURES)])
    return ["client", *FEATURES], rows
