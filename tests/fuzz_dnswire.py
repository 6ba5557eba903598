"""Coverage-guided fuzzing of the lean DNS codec against dnspython, with atheris (libFuzzer).

``python tests/fuzz_dnswire.py [libFuzzer options, e.g. -runs=200000 -max_len=1024]`` runs
the same contract as ``tests/test_dnswire.py`` (``check``): same accepted answers as dnspython
or a rejection dnspython shares; any other outcome, or any exception other than the codec's
own, is a crash libFuzzer reports with the input. The seed corpus is the test's real replies.
``tests/test_dnswire.py::test_atheris_bounded`` runs it for a bounded number of inputs when
atheris is installed (``pip install atheris``; wheels exist for CPython on Linux x86-64).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():  # pyright: ignore[reportAttributeAccessIssue]
    from trionet._resolver import _wire  # noqa: F401 - instrumented for coverage feedback

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.test_dnswire import CORPUS, _check


def one_input(data: bytes) -> None:
    _check(data)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tnres-fuzz-") as seeds:
        for i, reply in enumerate(CORPUS):
            (Path(seeds) / f"seed-{i}").write_bytes(reply)
        atheris.Setup([sys.argv[0], *sys.argv[1:], seeds], one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
