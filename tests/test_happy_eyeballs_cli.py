"""``trionet dial --happy-eyeballs``: the RFC 8305 strategy from the command line, on loopback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import trio

import trionet

pytestmark = pytest.mark.loopback

CMD = [sys.executable, "-m", "trionet"]


async def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(30):
        return await trio.run_process(
            [*CMD, *args], stdin=stdin, capture_stdout=True, capture_stderr=True, check=False
        )


async def test_dial_happy_eyeballs_traces_the_strategy() -> None:
    listener = await trionet.listen("tcp", "127.0.0.1:0")
    assert isinstance(listener.addr, trionet.TCPAddr)
    port = listener.addr.port

    async def echo(stream: trio.SocketStream) -> None:
        async with stream:
            while data := await stream.receive_some():
                await stream.send_all(data)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, echo, [listener])
        result = await run(
            "dial", "--happy-eyeballs", "--trace", "--json", "tcp", f"127.0.0.1:{port}", stdin=b"x"
        )
        nursery.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"x"
    events = [json.loads(line) for line in result.stderr.decode().splitlines() if line.startswith("{")]
    starts = [e for e in events if e["event"] == "AttemptStart"]
    assert [(e["addr"], e["position"], e["deadline"]) for e in starts] == [(f"127.0.0.1:{port}", 0, None)]
    assert f"=> connected to 127.0.0.1:{port} after" in result.stderr.decode()


async def test_https_records_needs_happy_eyeballs() -> None:
    result = await run("dial", "--https-records", "tcp", "127.0.0.1:1")
    assert result.returncode == 2
    assert b"--https-records needs --happy-eyeballs" in result.stderr
