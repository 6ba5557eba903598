"""``.. lab-report:: KIND`` — a table or the chart of the Happy Eyeballs lab, rendered at build
time from one recorded run.

``benchmarks/bench_happy_eyeballs.py --json docs/_data/happy-eyeballs-lab.json`` (as root, in
the network lab) records every dial: the case, the client, its time, the SYNs and the DNS
queries the lab saw. This directive reads that file and draws what the benchmark prints, with
the same functions (``tests/netlab/report.py``), so every figure on the page is read off that
run and none is typed by hand. A missing or unreadable file, an unknown kind or client, stops
the build.

Kinds:

``header``      the run's one-line description (machine, versions, size, duration);
``matrix``      time to connect, one row per case, one column per client;
``details``     every case and client: winner, median, range, SYN order and times, error;
``overshoot``   how late each client's fallback SYN left after its nominal delay;
``features``    the Happy Eyeballs feature table, each cell measured;
``chart``       time to connect against the IPv6 SYN delay, one line per client (SVG).

Options: ``:data:`` the JSON file, relative to the docs folder (default
``_data/happy-eyeballs-lab.json``); ``:clients:`` a comma-separated subset, in column order
(default: every client of the run); ``:cases:`` (``details`` only) keep the cases whose
``group: label`` contains this text; ``:title:`` (``chart`` only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = "_data/happy-eyeballs-lab.json"
KINDS = ("header", "matrix", "details", "overshoot", "features", "chart")


def _report() -> Any:
    # The lab's own report code (standard library only); the repository root is not on the
    # docs build's path.
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.netlab import cases, report

    return cases, report


class LabReport(SphinxDirective):
    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {
        "data": directives.unchanged,
        "clients": directives.unchanged,
        "cases": directives.unchanged,
        "title": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        where = f"{self.env.docname}.rst:{self.lineno}"
        kind = self.arguments[0]
        if kind not in KINDS:
            raise ExtensionError(f"{where}: lab-report: unknown kind {kind!r}; known: {', '.join(KINDS)}")
        path = Path(self.env.srcdir) / self.options.get("data", DEFAULT_DATA)
        self.env.note_dependency(str(path))
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExtensionError(f"{where}: lab-report: cannot read {path}: {exc}") from exc
        cases, report = _report()
        dials = [cases.Dial.from_dict(d) for d in record["dials"]]
        names = list(record["clients"])
        if "clients" in self.options:
            wanted = [c.strip() for c in self.options["clients"].split(",") if c.strip()]
            unknown = [c for c in wanted if c not in names]
            if unknown:
                raise ExtensionError(f"{where}: lab-report: {unknown} not in the run ({names})")
            names = wanted
        dials = [d for d in dials if d.client in names]
        summaries = list(cases.summarize(dials))
        if kind == "header":
            return [nodes.paragraph("", record["header"])]
        if kind == "chart":
            title = self.options.get("title", "Time to connect vs. IPv6 SYN delay (lab)")
            svg = report.svg_chart(summaries, names, title)
            return [nodes.raw("", f'<div class="trace-picture-svg lab-chart">{svg}</div>', format="html")]
        if kind == "matrix":
            table = report.matrix(summaries, names)
        elif kind == "details":
            wanted_case = self.options.get("cases", "")
            table = report.details([s for s in summaries if wanted_case in s.case.key])
        elif kind == "overshoot":
            table = report.overshoot_table(dials, names)
        else:
            table = report.feature_table(dials, names)
        text = report.rst_table(*table)
        container = nodes.container(classes=["lab-report", f"lab-{kind}"])
        self.state.nested_parse(StringList(text.splitlines(), source=where), self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("lab-report", LabReport)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
