"""Runner for curl: ``python -m tests.netlab._curlclient``, inside the client namespace.

One ``curl`` process per request with its default Happy Eyeballs timeout (200 ms);
``elapsed`` is curl's own ``time_connect`` (from its start to the TCP connection, resolution
included), or ``time_total`` when it failed. The lab's service accepts and closes, so a
connected curl ends with "Empty reply from server" (52) or a reset (56): both mean connected.
"""

from __future__ import annotations

import subprocess
from typing import Any

from .clients import serve

_FMT = "%{time_connect} %{time_total} %{remote_ip}"


def _once(host: str, port: int, timeout: float) -> dict[str, Any]:
    url_host = f"[{host}]" if ":" in host else host
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", str(timeout), "-w", _FMT,
         f"http://{url_host}:{port}/"],
        capture_output=True, text=True, timeout=timeout + 30, check=False,
    )  # fmt: skip
    parts = done.stdout.split()
    connect, total = float(parts[0]), float(parts[1])
    remote = parts[2] if len(parts) > 2 else None
    if done.returncode in (0, 52, 56) and connect > 0:
        return {"ok": True, "elapsed": connect, "remote": remote, "error": None}
    error = done.stderr.strip().removeprefix("curl: ") or f"exit {done.returncode}"
    return {"ok": False, "elapsed": total, "remote": None, "error": f"curl exit {done.returncode}: {error}"}


def main() -> None:
    serve(_once)


if __name__ == "__main__":
    main()
