"""The clients the lab measures, one entry each.

A client is a long-running process in the client namespace that reads one request per stdin
line, ``HOST PORT TIMEOUT`` (seconds), dials once, and answers one JSON line:
``{"ok": bool, "elapsed": seconds, "remote": IP or null, "error": text or null}``. ``elapsed``
runs from just before the client's dial call to just after it returned (name resolution
included), measured by the client itself.

Python clients are a coroutine in :data:`PY_DIALERS` (run by ``python -m tests.netlab._pyclient
NAME``); adding one is one entry there. Go and curl have their own runner.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: (host, port, timeout) -> (the peer IP, the library the coroutine needs: "trio"/"asyncio").
PyDial = Callable[[str, int, float], Awaitable[str]]


def _peer(sockname: Any) -> str:
    host = str(sockname[0])
    return host.removeprefix("::ffff:")


async def _trionet_default(host: str, port: int, timeout: float) -> str:
    import trionet

    stream = await trionet.Dialer(timeout=timeout).dial("tcp", f"{host}:{port}")
    try:
        return _peer(stream.socket.getpeername())
    finally:
        await stream.aclose()


async def _trio(host: str, port: int, timeout: float) -> str:
    import trio

    with trio.fail_after(timeout):
        stream = await trio.open_tcp_stream(host, port)
    try:
        return _peer(stream.socket.getpeername())
    finally:
        await stream.aclose()


async def _asyncio(host: str, port: int, timeout: float) -> str:
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, happy_eyeballs_delay=0.25, interleave=1), timeout
    )
    try:
        return _peer(writer.get_extra_info("peername"))
    finally:
        writer.close()
        await writer.wait_closed()


async def _anyio(host: str, port: int, timeout: float) -> str:
    import anyio
    from anyio.abc import SocketAttribute

    with anyio.fail_after(timeout):
        stream = await anyio.connect_tcp(host, port)
    try:
        return _peer(stream.extra(SocketAttribute.remote_address))
    finally:
        await stream.aclose()


async def _trionet_rfc8305(host: str, port: int, timeout: float, **options: Any) -> str:
    import trionet

    strategy = trionet.HappyEyeballs(**options)  # type: ignore[attr-defined, unused-ignore]
    dialer = trionet.Dialer(timeout=timeout, happy_eyeballs=strategy)  # type: ignore[call-arg, unused-ignore]
    stream = await dialer.dial("tcp", f"{host}:{port}")
    try:
        return _peer(stream.socket.getpeername())
    finally:
        await stream.aclose()


async def _trionet_rfc8305_https(host: str, port: int, timeout: float) -> str:
    return await _trionet_rfc8305(host, port, timeout, https_records=True)


async def _trionet_rfc8305_adaptive(host: str, port: int, timeout: float) -> str:
    # The process-wide connect-time history lives as long as the runner: the delay each dial
    # uses comes from the dials this client made before it, as in a long-lived program.
    return await _trionet_rfc8305(host, port, timeout, adaptive=True)


@dataclass(frozen=True)
class PyDialer:
    """A Python client: its coroutine and the event loop it runs under."""

    dial: PyDial
    loop: str  # "trio" or "asyncio"
    description: str


#: The Python clients, by name. Adding a client is one entry here and one in :data:`CLIENTS`.
PY_DIALERS: dict[str, PyDialer] = {
    "trionet": PyDialer(_trionet_default, "trio", "trionet.Dialer(timeout=T).dial (Go's algorithm)"),
    "trio": PyDialer(_trio, "trio", "trio.open_tcp_stream (happy_eyeballs_delay=0.25)"),
    "asyncio": PyDialer(
        _asyncio, "asyncio", "asyncio.open_connection(happy_eyeballs_delay=0.25, interleave=1)"
    ),
    "anyio": PyDialer(_anyio, "trio", "anyio.connect_tcp on the trio backend (happy_eyeballs_delay=0.25)"),
    "trionet-rfc8305": PyDialer(
        _trionet_rfc8305, "trio", "trionet.Dialer(happy_eyeballs=trionet.HappyEyeballs()) (RFC 8305)"
    ),
    "trionet-rfc8305-https": PyDialer(
        _trionet_rfc8305_https, "trio", "trionet.Dialer(happy_eyeballs=HappyEyeballs(https_records=True))"
    ),
    "trionet-rfc8305-adaptive": PyDialer(
        _trionet_rfc8305_adaptive, "trio", "trionet.Dialer(happy_eyeballs=HappyEyeballs(adaptive=True))"
    ),
}


@dataclass(frozen=True)
class Client:
    """How to start one client's runner (argv inside the client namespace)."""

    name: str
    description: str
    argv: Callable[[], Sequence[str] | str]  # a str is "unavailable: why"


def _has_happy_eyeballs() -> bool:
    import trionet

    return hasattr(trionet, "HappyEyeballs")


def _py(name: str, needs_rfc8305: bool = False) -> Client:
    def argv() -> Sequence[str] | str:
        if needs_rfc8305 and not _has_happy_eyeballs():
            return "unavailable: this trionet has no HappyEyeballs"
        return [sys.executable, "-m", "tests.netlab._pyclient", name]

    return Client(name, PY_DIALERS[name].description, argv)


def _go_argv() -> Sequence[str] | str:
    sys.path.insert(0, str(_benchmarks()))
    from _common import build_go  # type: ignore[import-not-found, unused-ignore]

    built = build_go("helab")
    if isinstance(built, str):
        return f"unavailable: {built}"
    return [str(built["helab"])]


def _benchmarks() -> Any:
    from .lab import REPO

    return REPO / "benchmarks"


def _curl_argv() -> Sequence[str] | str:
    if shutil.which("curl") is None:
        return "unavailable: no curl command"
    return [sys.executable, "-m", "tests.netlab._curlclient"]


#: Every client, in table order.
CLIENTS: list[Client] = [
    _py("trionet"),
    Client("go", "Go net.Dialer{Timeout: T}.Dial (Go's resolver)", _go_argv),
    _py("trio"),
    _py("asyncio"),
    _py("anyio"),
    Client("curl", "curl --connect-timeout T (default --happy-eyeballs-timeout-ms, 200)", _curl_argv),
]

#: The opt-in RFC 8305 strategy (issue 13), measured beside the others once trionet has it.
RFC8305_CLIENTS: list[Client] = [
    _py("trionet-rfc8305", True),
    _py("trionet-rfc8305-https", True),
    _py("trionet-rfc8305-adaptive", True),
]


def by_name(names: Sequence[str]) -> list[Client]:
    known = {c.name: c for c in [*CLIENTS, *RFC8305_CLIENTS]}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown client(s) {unknown}; known: {sorted(known)}")
    return [known[n] for n in names]


class Runner:
    """One started client: send requests, read answers (bounded in time)."""

    def __init__(self, name: str, proc: subprocess.Popen[str]) -> None:
        self.name = name
        self.proc = proc
        self.ready = self._read(60.0)

    def _read(self, timeout: float) -> dict[str, Any]:
        import json

        from .lab import LabError, _readline

        assert self.proc.stdout is not None
        try:
            line = _readline(self.proc.stdout, timeout)
        except LabError as exc:
            raise LabError(f"client {self.name}: {exc}") from None
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""
            raise LabError(f"client {self.name} exited: {err.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def dial(self, host: str, port: int, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{shlex.quote(host)} {port} {timeout}\n")
        self.proc.stdin.flush()
        return self._read(timeout + 30.0)


def serve(handle: Callable[[str, int, float], dict[str, Any]]) -> None:
    """The runner loop shared by the Python and curl clients: one JSON line per request."""
    import json

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        host, port, timeout = parts[0], int(parts[1]), float(parts[2])
        print(json.dumps(handle(host, port, timeout)), flush=True)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError) and not str(exc):
        text = "TimeoutError"
    return f"{type(exc).__name__}: {text}"
