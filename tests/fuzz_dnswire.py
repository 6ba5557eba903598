"""Coverage-guided fuzzing of the lean DNS codec against dnspython, with atheris (libFuzzer).

``python tests/fuzz_dnswire.py [libFuzzer options, e.g. -runs=200000 -max_len=1024]`` runs
the same contracts as ``tests/test_dnswire.py`` (``check``: same accepted answers as dnspython
or a rejection dnspython shares; the echo path declines or agrees with ``decode``); any other
outcome, or any exception other than the codec's own, is a crash libFuzzer reports with the
input. The seed corpus is the test's real replies.
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
from tests.test_dnswire import CORPUS, _check, _echo_or_decode, _lean_for

#: Our queries for the corpus's questions: each input is also read by the echo path as a reply
#: to one of them (chosen by its length), which must decline or agree with decode.
_QUERIES = [_lean_for(reply) for reply in CORPUS]


def one_input(data: bytes) -> None:
    _check(data)
    _echo_or_decode(data, _QUERIES[len(data) % len(_QUERIES)])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tnres-fuzz-") as seeds:
        for i, reply in enumerate(CORPUS):
            (Path(seeds) / f"seed-{i}").write_bytes(reply)
        atheris.Setup([sys.argv[0], *sys.argv[1:], seeds], one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
