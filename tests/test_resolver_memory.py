"""Memory stays bounded under hostile answers (issue 10 item 6, issue 11 item 4): 700 answers of
4,000 addresses each, from tests/dnsfake.py on loopback, in a fresh interpreter that reads its
own RSS from /proc. Before the parse cache was bounded in bytes, RSS went from 30 to 424 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.loopback

ROOT = Path(__file__).resolve().parent.parent

_CLIENT = r"""
import json
import sys
import tempfile
from pathlib import Path

import trio

sys.path.insert(0, sys.argv[1])
from tests.dnsfake import FakeDNS  # noqa: E402
from trionet import Resolver  # noqa: E402


def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def main():
    directory = Path(tempfile.mkdtemp(prefix="resolver-rss-"))
    (directory / "resolv.conf").write_text("options timeout:5 attempts:1\n")
    (directory / "hosts").write_text("")
    async with trio.open_nursery() as nursery:
        fake = await nursery.start(FakeDNS(wide=4000, wide_everywhere=True).serve)
        r = Resolver(
            nameservers=[fake.address],
            resolv_conf=str(directory / "resolv.conf"),
            hosts_file=str(directory / "hosts"),
        )
        counts = set()
        for i in range(20):  # warm up: imports, first allocations
            counts.add(len(await r.lookup_ip_addr(f"warm{i}.test.", network="ip4")))
        before = rss_kib()
        peak = before
        for i in range(700):  # every answer is new: 700 distinct names
            counts.add(len(await r.lookup_ip_addr(f"n{i}.test.", network="ip4")))
            if i % 50 == 0:
                peak = max(peak, rss_kib())
        after = rss_kib()
        nursery.cancel_scope.cancel()
    print(json.dumps({"before": before, "after": after, "peak": max(peak, after), "counts": sorted(counts)}))


trio.run(main)
"""


def test_rss_stays_bounded_under_700_answers_of_4000_addresses() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(ROOT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["counts"] == [256]  # the answer is read up to the cap
    grown_mib = (figures["peak"] - figures["before"]) / 1024
    assert grown_mib < 40, figures  # was ~394 MiB (30 -> 424) with the unbounded-bytes cache
