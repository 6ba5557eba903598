"""Draw :mod:`trionet.trace` events as an SVG picture (``trionet.trace.render_svg``).

Pure: events in, text out (no Trio, no I/O, standard library only), like the text timeline in
``_timeline.py``. The picture has, per dial, one row per attempt with a bar from its start to its
end coloured *and labelled* by outcome, a DNS row with the answers as marks, the configured delays
and deadlines as labelled vertical lines, and one time axis in ms under all the dials.

Every bar carries its exact times as ``data-start-ms``/``data-end-ms`` attributes (relative to the
picture's time zero) and a ``<title>``, so tests and screen readers read what the eye sees.

To draw a new kind of event, add a branch to :meth:`Panel.add`; events it does not know are
skipped, except that any event with an ``addrs`` tuple (a DNS answer) becomes a mark on the DNS row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

from ._svg_model import Bar, Line, Panel, ms, panels
from .trace import Event

__all__ = ["render_svg"]

#: Okabe-Ito colours (distinguishable with colour-blindness); every bar is also labelled in text.
COLOURS = {
    "won": "#009E73",
    "connected": "#009E73",
    "loser closed": "#56B4E9",
    "refused": "#D55E00",
    "failed": "#D55E00",
    "timed out": "#E69F00",
    "cancelled": "#BBBBBB",
    "running": "#FFFFFF",
}
LINE_COLOURS = {"delay": "#0072B2", "deadline": "#B00020", "scope": "#7B3294"}
FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
CHAR_W = 6.7  # px per character of 11 px monospace text, to keep labels inside the picture
SMALL_W = 6.1  # the same for the 10 px line labels
MARGIN = 10
ROW_H = 34
LANE_H = 13
HALO = ' stroke="#FFFFFF" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _num(value: float, digits: int = 1) -> str:
    """A coordinate or time with at most *digits* decimals and no trailing zeros."""
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text(value: object, limit: int = 300) -> str:
    """*value* as text that is valid XML (odd characters replaced), cut to *limit* characters."""
    text = _NOT_XML.sub("\ufffd", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _axis(span_ms: float, max_ticks: int) -> tuple[float, float]:
    """A round axis length covering *span_ms*, and its tick step (both in ms)."""
    span_ms = max(span_ms, 1.0)  # a dial that took no time still gets a readable 1 ms axis
    exponent = 10.0 ** math.floor(math.log10(span_ms / max_ticks))
    for factor in (1, 2, 2.5, 5, 10, 20):
        step = factor * exponent
        ticks = math.ceil(round(span_ms / step, 9))
        if ticks <= max_ticks:
            return ticks * step, step
    raise AssertionError(f"no axis for {span_ms} ms")  # pragma: no cover - 20x always fits


def render_svg(
    events: Sequence[Event],
    *,
    width: int = 600,
    title: str | None = None,
    start: float | None = None,
    span: float | None = None,
) -> str:
    """An SVG picture of the dials in *events*, as text (``<svg ...>...</svg>``).

    One panel per dial (events grouped by their ``dial`` number, in order of appearance), all on
    one time axis in milliseconds. A panel has a row per connect attempt (``role address
    (family)``), whose bar runs from the attempt's start to its end, coloured and labelled by
    outcome: *won*, *connected*, *refused*, *failed*, *timed out*, *cancelled*, *loser closed*
    (it connected after another attempt had won and was closed unused) or *running* (no end
    event). A light box behind a bar shows its partial deadline. The DNS row shows the lookup and
    its answers as marks. Vertical lines show the configured delays (each
    :class:`~trionet.trace.DelayStart`, such as the fallback delay), the dialer's own deadline and
    an enclosing scope's earlier deadline (or the moment it cancelled the dial). Event kinds the
    renderer does not know are skipped. Each bar has a ``<title>`` and ``data-start-ms``,
    ``data-end-ms`` and ``data-outcome`` attributes.

    Args:
        events: trace events, as :func:`collect` gathers them; empty draws an empty picture.
        width: the picture's width in pixels (at least 320; the height follows the content).
        title: a heading drawn on top, also the SVG's ``<title>``; None or ``""`` draws no
            heading (each dial is still headed ``dial NETWORK ADDRESS``), and the ``<title>``
            then names the dials.
        start: the time (on Trio's clock) drawn as 0 ms; None uses the first event's time.
        span: the length of the time axis in seconds; None picks a round length that covers the
            dials and the lines near them (lines further out are listed as off the chart).
    """
    width = max(int(width), 320)
    t0 = start if start is not None else (events[0].time if events else 0.0)
    dials = panels(events, t0)
    plot_w = width - 2 * MARGIN
    end_ms = max([(p.end - t0) * 1000 for p in dials] + [0.0])
    if span is not None:
        axis_ms, step = _axis(span * 1000, max(3, plot_w // 70))
    else:
        reach = max(end_ms * 3, 1.0)
        far = [(ln.at - t0) * 1000 for p in dials for ln in p.lines]
        # 5% headroom, so that a bar or line at the very end is not on the picture's edge.
        axis_ms, step = _axis(max([end_ms] + [f for f in far if f <= reach]) * 1.05, max(3, plot_w // 70))

    def x(t: float) -> float:
        return MARGIN + min(max((t - t0) * 1000 / axis_ms, 0.0), 1.0) * plot_w

    def on_chart(t: float) -> bool:
        return 0 <= (t - t0) * 1000 <= axis_ms * (1 + 1e-9)

    chars = int(plot_w / CHAR_W)
    heading = title or ""
    name = heading or "; ".join(p.header for p in dials) or "trionet trace"
    head: list[str] = []
    y = 8.0
    if heading:
        head.append(
            f'<text x="{MARGIN}" y="{_num(y + 13)}" font-size="13" font-weight="bold">'
            f"{escape(_text(heading, int(plot_w / 8.0)))}</text>"
        )
        y += 22
    if not dials:
        head.append(f'<text x="{MARGIN}" y="{_num(y + 12)}">(no trace events)</text>')
        y += 20
    top = y
    rows: list[str] = []
    for panel in dials:
        y = _draw_panel(rows, panel, y, x, on_chart, width, chars)
    grid, axis = _draw_axis(top, y, axis_ms, step, width)
    legend: list[str] = []
    y = _draw_legend(legend, dials, y + 26, width)
    body = [*head, *grid, *rows, *axis, *legend]
    height = math.ceil(y + 6)
    outcomes = "; ".join(p.outcome() for p in dials) or "no trace events"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}" font-size="11">\n'
        f"<title>{escape(_text(name))}</title>\n"
        f"<desc>{escape(_text(outcomes, 2000))}</desc>\n"
        f'<rect width="{width}" height="{height}" fill="#FFFFFF"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def _draw_panel(
    out: list[str],
    panel: Panel,
    y: float,
    x: Callable[[float], float],
    on_chart: Callable[[float], bool],
    width: int,
    chars: int,
) -> float:
    """Append one dial's SVG elements to *out*; returns the y below them."""
    out.append(f'<g class="dial" data-dial-header={quoteattr(_text(panel.header))}>')
    out.append(
        f'<text x="{MARGIN}" y="{_num(y + 12)}" font-weight="bold">{escape(_text(panel.header, chars))}</text>'
    )
    y += 18
    # Labels of the vertical lines, in lanes so that none overlaps another.
    shown = sorted((ln for ln in panel.lines if on_chart(ln.at)), key=lambda ln: ln.at)
    off = [ln for ln in panel.lines if not on_chart(ln.at)]
    lanes: list[float] = []
    placed: list[tuple[Line, str, int, float, str]] = []
    for ln in shown:
        text = ln.label if ln.kind == "delay" else f"{ln.label} {ms(ln.at - panel.zero)}"
        w, lx = len(text) * SMALL_W, x(ln.at)
        anchor, a, b = (
            ("start", lx + 3, lx + 3 + w) if lx + 3 + w <= width - MARGIN else ("end", lx - 3 - w, lx - 3)
        )
        lane = next((i for i, right in enumerate(lanes) if right < a - 6), len(lanes))
        if lane == len(lanes):
            lanes.append(b)
        lanes[lane] = b
        placed.append((ln, text, lane, lx + 3 if anchor == "start" else lx - 3, anchor))
    band_top = y
    y += len(lanes) * LANE_H
    bottom = y + ROW_H * (len(panel.bars) + (panel.dns is not None))
    # The lines first: the row labels are drawn over them, on a white halo.
    for ln, text, lane, tx, anchor in placed:
        label_y = band_top + (lane + 1) * LANE_H - 3
        dash = ' stroke-dasharray="5 3"' if ln.kind == "delay" else ""
        out.append(
            f'<line class="marker {ln.kind}" x1="{_num(x(ln.at))}" x2="{_num(x(ln.at))}" y1="{_num(label_y + 2)}" '
            f'y2="{_num(bottom)}" stroke="{LINE_COLOURS[ln.kind]}" stroke-width="1.5"{dash} data-at-ms="{_num((ln.at - panel.zero) * 1000, 6)}">'
            f"<title>{escape(_text(text))}</title></line>"
        )
        out.append(
            f'<text x="{_num(tx)}" y="{_num(label_y)}" font-size="10" fill="{LINE_COLOURS[ln.kind]}" text-anchor="{anchor}"{HALO}>'
            f"{escape(_text(text))}</text>"
        )
    if panel.dns is not None:
        dns = panel.dns
        out.append(
            f'<text x="{MARGIN}" y="{_num(y + 11)}"{HALO}>{escape(_text(f"{dns.label}  {dns.note}", chars))}</text>'
        )
        end = panel.end if dns.end is None else dns.end
        x0, x1 = x(dns.start), x(end)
        out.append(
            f'<rect class="bar dns" x="{_num(x0)}" y="{_num(y + 17)}" width="{_num(max(x1 - x0, 1.5))}" height="6" '
            f'fill="#8C8C8C" data-start-ms="{_num((dns.start - panel.zero) * 1000, 6)}" '
            f'data-end-ms="{_num((end - panel.zero) * 1000, 6)}"><title>{escape(_text(dns.detail or dns.label))}</title></rect>'
        )
        for t, what in panel.marks:
            mx, my = x(t), y + 20
            out.append(
                f'<path class="answer" d="M{_num(mx)} {_num(my - 6)}l4 6l-4 6l-4 -6z" fill="#000000" '
                f'data-time-ms="{_num((t - panel.zero) * 1000, 6)}"><title>{escape(_text(what))}</title></path>'
            )
        y += ROW_H
    for bar in panel.bars:
        _draw_bar(out, panel, bar, y, x, on_chart, chars)
        y += ROW_H
    out.append(f'<text x="{MARGIN}" y="{_num(y + 12)}">{escape(_text(panel.outcome(), chars))}</text>')
    y += 18
    if off:
        text = "off the chart: " + "; ".join(f"{ln.label} at {ms(ln.at - panel.zero)}" for ln in off)
        out.append(
            f'<text x="{MARGIN}" y="{_num(y + 10)}" font-size="10" fill="#555555">{escape(_text(text, chars))}</text>'
        )
        y += 15
    out.append("</g>")
    return y + 8


def _draw_bar(
    out: list[str],
    panel: Panel,
    bar: Bar,
    y: float,
    x: Callable[[float], float],
    on_chart: Callable[[float], bool],
    chars: int,
) -> None:
    end = panel.end if bar.end is None else bar.end
    x0, x1 = x(bar.start), x(end)
    rel = (bar.start - panel.zero) * 1000, (end - panel.zero) * 1000
    label = _text(bar.label, chars)
    note = _text(bar.note, max(chars - len(label) - 2, 0))
    out.append(
        f'<text x="{MARGIN}" y="{_num(y + 11)}"{HALO}><tspan font-weight="bold">{escape(label)}</tspan>'
        f"  {escape(note)}</text>"
    )
    deadline = ""
    if not math.isinf(bar.deadline):
        deadline = f' data-deadline-ms="{_num((bar.deadline - panel.zero) * 1000, 6)}"'
        dx = x(bar.deadline)
        out.append(
            f'<rect class="partial-deadline" x="{_num(x0)}" y="{_num(y + 14)}" width="{_num(max(dx - x0, 0))}" '
            f'height="14" fill="#F0F0F0" stroke="#888888" stroke-dasharray="2 2"/>'
        )
        if on_chart(bar.deadline):
            out.append(
                f'<line class="partial-deadline" x1="{_num(dx)}" x2="{_num(dx)}" y1="{_num(y + 12)}" y2="{_num(y + 30)}" '
                f'stroke="#444444" stroke-width="1.5"><title>partial deadline of {escape(_text(bar.label))} '
                f"at {ms(bar.deadline - panel.zero)}</title></line>"
            )
    style = (
        ' stroke="#333333" stroke-dasharray="3 2"'
        if bar.outcome == "running"
        else ' stroke="#333333" stroke-width="0.5"'
    )
    detail = f": {bar.detail}" if bar.detail else ""
    out.append(
        f'<rect class="bar attempt" x="{_num(x0)}" y="{_num(y + 15)}" width="{_num(max(x1 - x0, 2.0))}" height="12" '
        f'fill="{COLOURS[bar.outcome]}"{style} data-addr={quoteattr(_text(bar.addr))} data-role={quoteattr(_text(bar.role))} '
        f'data-outcome="{bar.outcome}" data-start-ms="{_num(rel[0], 6)}" data-end-ms="{_num(rel[1], 6)}"{deadline}>'
        f"<title>{escape(_text(f'{bar.label}: {_num(rel[0])} to {_num(rel[1])} ms, {bar.note}{detail}'))}</title></rect>"
    )


def _draw_axis(
    top: float, bottom: float, axis_ms: float, step: float, width: int
) -> tuple[list[str], list[str]]:
    """The grid (drawn under the panels) and the axis with its tick labels (under them)."""
    plot_w = width - 2 * MARGIN
    grid: list[str] = []
    axis = [
        f'<line x1="{MARGIN}" x2="{width - MARGIN}" y1="{_num(bottom)}" y2="{_num(bottom)}" stroke="#333333"/>'
    ]
    ticks = round(axis_ms / step)
    for i in range(ticks + 1):
        tx = MARGIN + i / ticks * plot_w
        grid.append(
            f'<line x1="{_num(tx)}" x2="{_num(tx)}" y1="{_num(top)}" y2="{_num(bottom)}" stroke="#E6E6E6"/>'
        )
        anchor = "start" if i == 0 else "end" if i == ticks else "middle"
        label = _num(i * step, 3) + (" ms" if i == ticks else "")
        axis.append(
            f'<line x1="{_num(tx)}" x2="{_num(tx)}" y1="{_num(bottom)}" y2="{_num(bottom + 5)}" stroke="#333333"/>'
        )
        axis.append(
            f'<text class="tick" x="{_num(tx)}" y="{_num(bottom + 17)}" text-anchor="{anchor}">{label}</text>'
        )
    return grid, axis


def _draw_legend(out: list[str], panels: Sequence[Panel], y: float, width: int) -> float:
    """Swatches for the outcomes in the picture (each bar is labelled too); returns the y below."""
    seen = {bar.outcome for p in panels for bar in p.bars}
    lx = float(MARGIN)
    for outcome in (o for o in COLOURS if o in seen):
        w = 16 + len(outcome) * CHAR_W + 12
        if lx + w > width - MARGIN and lx > MARGIN:
            lx, y = MARGIN, y + 16
        out.append(
            f'<rect x="{_num(lx)}" y="{_num(y + 2)}" width="11" height="11" fill="{COLOURS[outcome]}" stroke="#333333" stroke-width="0.5"/>'
            f'<text x="{_num(lx + 15)}" y="{_num(y + 11)}">{outcome}</text>'
        )
        lx += w
    return y + 16 if seen else y


render_svg.__module__ = "trionet.trace"  # documented, and shown in reprs, as trionet.trace.render_svg
