"""Runner for one Python client of :data:`tests.netlab.clients.PY_DIALERS`:
``python -m tests.netlab._pyclient NAME``, inside the client namespace.

Each request gets a fresh event loop (``trio.run`` / ``asyncio.run``); the clock starts inside
it, just before the dial call, so loop start-up is not counted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from .clients import PY_DIALERS, PyDialer, _describe, serve


def _once(dialer: PyDialer, host: str, port: int, timeout: float) -> dict[str, Any]:
    result: dict[str, Any] = {}

    async def measure() -> None:
        start = time.monotonic()
        try:
            remote = await dialer.dial(host, port, timeout)
        except Exception as exc:  # every failure is a measurement
            result.update(ok=False, elapsed=time.monotonic() - start, remote=None, error=_describe(exc))
        else:
            result.update(ok=True, elapsed=time.monotonic() - start, remote=remote, error=None)
        # CLOCK_MONOTONIC is shared by every network namespace: the controller can place the
        # delayer's SYN times on this dial's own time line.
        result["t_start"] = start

    if dialer.loop == "trio":
        import trio

        trio.run(measure)
    else:
        asyncio.run(measure())
    return result


def main() -> None:
    dialer = PY_DIALERS[sys.argv[1]]
    serve(lambda host, port, timeout: _once(dialer, host, port, timeout))


if __name__ == "__main__":
    main()
