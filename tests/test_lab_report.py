"""The lab report the docs are built from (docs/_data/happy-eyeballs-lab.json, recorded by
``benchmarks/bench_happy_eyeballs.py --json``): it reads back, every table and the chart are
drawn from it, and it shows what docs/broken-networks.rst and docs/happy-eyeballs.rst say it
shows. A new recording that no longer does fails here, not silently in the prose.

No lab needed: this reads the recorded run.
"""

from __future__ import annotations

import json
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.netlab.cases import Dial, all_cases, summarize
from tests.netlab.report import FEATURES, feature_table, matrix, overshoot_table, rst_table, svg_chart

RUN = Path(__file__).resolve().parents[1] / "docs" / "_data" / "happy-eyeballs-lab.json"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, str], list[Dial]]:
    record = json.loads(RUN.read_text(encoding="utf-8"))
    return record["clients"], [Dial.from_dict(d) for d in record["dials"]]


def test_every_case_and_client_is_in_the_run(run: tuple[dict[str, str], list[Dial]]) -> None:
    clients, dials = run
    assert {"trionet", "go", "trio", "asyncio", "anyio", "curl", "trionet-rfc8305"} <= set(clients)
    keys = {c.key for c in all_cases()}
    for client in clients:
        seen = {d.case.key for d in dials if d.client == client}
        assert seen == keys, client
        assert all(len([d for d in dials if d.client == client and d.case.key == k]) >= 3 for k in keys)


def test_tables_and_chart_are_drawn_from_it(run: tuple[dict[str, str], list[Dial]]) -> None:
    clients, dials = run
    names = list(clients)
    summaries = list(summarize(dials))
    headers, rows = matrix(summaries, names)
    assert len(rows) == len(all_cases())
    assert rst_table(headers, rows).count("\n") == len(rows) + 3
    assert overshoot_table(dials, names)[1]
    _, features = feature_table(dials, names)
    assert [r[0] for r in features] == names
    assert all(len(r) == len(FEATURES) + 1 for r in features)
    root = ET.fromstring(svg_chart(summaries, names, "chart"))
    assert root.find(f"{SVG}title") is not None
    assert len(root.findall(f"{SVG}polyline")) == len(names)


def _gaps(dials: list[Dial], client: str, keys: set[str], first: str, second: str) -> list[float]:
    return [
        g for d in dials if d.client == client and d.case.key in keys for g in [d.gap(first, second)] if g
    ]


def test_the_run_shows_what_the_docs_say(run: tuple[dict[str, str], list[Dial]]) -> None:
    _, dials = run
    blackholed = {"CAD: IPv6 blackholed", "CAD: IPv6 +1000 ms", "CAD: IPv6 +500 ms"}
    # RFC 8305 mode: CAD 250 +- 2 ms, RD <= 50 + 2 ms, same family 250 +- 2 ms, interlaced
    cad = statistics.median(_gaps(dials, "trionet-rfc8305", blackholed, "6", "4"))
    assert abs(cad - 0.250) <= 0.002
    aaaa_late = {f"RD: AAAA +{ms} ms after A" for ms in (100, 200, 500)} | {"RD: AAAA never answered"}
    late = [
        d.first_syn_after_a
        for d in dials
        if d.client == "trionet-rfc8305" and d.case.key in aaaa_late and d.first_syn_after_a is not None
    ]
    assert len(late) >= 12
    assert statistics.median(late) <= 0.052
    same = _gaps(dials, "trionet-rfc8305", {"same-family: 2 IPv4, first blackholed"}, "4a", "4b")
    assert abs(statistics.median(same) - 0.250) <= 0.002
    walk = [
        d for d in dials if d.client == "trionet-rfc8305" and d.case.key == "interlace: 3+3, all blackholed"
    ]
    assert {d.order for d in walk} == {"6a 4a 6b 4b 6c 4c"}
    # Go's algorithm (trionet's default and Go): 300 ms, the same-family case at ~2.5 s
    for client in ("trionet", "go"):
        assert abs(statistics.median(_gaps(dials, client, blackholed, "6", "4")) - 0.300) <= 0.002
        s = next(
            s for s in summarize(dials) if s.client == client and s.case.key.startswith("same-family: 2 IPv4")
        )
        assert 2.49 <= s.median <= 2.52
    # HTTPS hints: only the https_records variant connects before A/AAAA (300 ms late)
    https = {s.client: s.median for s in summarize(dials) if s.case.group == "HTTPS"}
    assert https["trionet-rfc8305-https"] < 0.05
    assert all(t > 0.29 for c, t in https.items() if c != "trionet-rfc8305-https")
