"""The ``trionet`` command, run as a real subprocess (``python -m trionet``) against loopback."""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import trio

import trionet
import trionet.testing

from .dnsfake import FakeDNS
from .loopback import closed_port

pytestmark = pytest.mark.loopback

CMD = [sys.executable, "-m", "trionet"]


async def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(30):
        return await trio.run_process(
            [*CMD, *args], stdin=stdin, capture_stdout=True, capture_stderr=True, check=False
        )


async def echo_server(nursery: trio.Nursery) -> int:
    """A trionet listener on 127.0.0.1 that echoes until EOF, then closes."""
    listener = await trionet.listen("tcp", "127.0.0.1:0")

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            while data := await stream.receive_some():
                await stream.send_all(data)

    nursery.start_soon(trio.serve_listeners, handle, [listener])
    assert isinstance(listener.addr, trionet.TCPAddr)
    return listener.addr.port


# -- demo ---------------------------------------------------------------------------------------
async def test_demo_draws_the_race() -> None:
    result = await run("demo")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    # Act 1: the blackholed IPv6 primary is cancelled, the IPv4 fallback wins after 300 ms.
    primary = re.search(r"^primary  \[::1\]:(\d+) +=+/ +cancelled at ([\d.]+) ms$", out, re.M)
    # The winner's bar is "*", or "=*" when the real connect crossed a column (~8 ms) under load.
    fallback = re.search(
        r"^fallback 127\.0\.0\.1:(\d+) +=*\* +connected at ([\d.]+) ms  <- winner$", out, re.M
    )
    assert primary is not None, out
    assert fallback is not None, out
    assert primary.group(1) == fallback.group(1)  # one port, two families
    assert (
        300.0 <= float(fallback.group(2)) < 3000.0
    )  # real clock in a child process: generous above, exact below
    assert f"=> connected to 127.0.0.1:{fallback.group(1)} after" in out
    # Act 2: own timeout → OpError (a TimeoutError); outer scope → bare Cancelled, nothing raised.
    assert re.search(r"raises OpError: dial tcp \[::1\]:\d+: i/o timeout", out)
    assert "isinstance(e, TimeoutError): True" in out
    assert "scope.cancelled_caught: True" in out
    assert "=> the dialer's own timeout expired" in out
    assert "=> cancelled by an enclosing cancel scope" in out


async def test_demo_json_is_one_event_per_line() -> None:
    result = await run("demo", "--json", "--fallback-delay", "100ms")
    assert result.returncode == 0, result.stderr.decode()
    events = [json.loads(line) for line in result.stdout.decode().splitlines() if line]
    kinds = [e["event"] for e in events]
    assert kinds.count("DialStart") == 3
    assert kinds.count("DialDone") == 3
    winner = next(
        e for e in events if e["event"] == "AttemptDone" and e["error"] is None and not e["cancelled"]
    )
    assert winner["role"] == "fallback"
    assert winner["family"] == "ipv4"
    start = next(e for e in events if e["event"] == "DialStart")
    assert 0.1 <= winner["time"] - start["time"] < 3.0  # real clock: generous above


# -- dial ---------------------------------------------------------------------------------------
async def test_dial_copies_stdin_and_prints_the_reply() -> None:
    async with trio.open_nursery() as nursery:
        port = await echo_server(nursery)
        result = await run("dial", "tcp", f"127.0.0.1:{port}", stdin=b"hello\nworld\n")
        nursery.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"hello\nworld\n"
    assert result.stderr == b""


async def test_dial_unixpacket_ends_when_the_peer_closes(tmp_path: Path) -> None:
    # stdin stays open: only the peer's close can end the command. A unixpacket socket reads
    # b"" forever once the peer has gone; treating that as data spun the CPU until stdin ended.
    path = str(tmp_path / "p.sock")
    read_end, write_end = os.pipe()
    try:
        async with await trionet.listen("unixpacket", path) as ln:

            async def say_bye_and_close() -> None:
                conn = await ln.accept()
                await conn.send(b"bye")
                await conn.aclose()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(say_bye_and_close)
                with trio.fail_after(10):
                    result = await trio.run_process(
                        [*CMD, "dial", "unixpacket", path],
                        stdin=read_end,
                        capture_stdout=True,
                        capture_stderr=True,
                        check=False,
                    )
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"bye"


async def test_dial_trace_and_json_go_to_stderr() -> None:
    async with trio.open_nursery() as nursery:
        port = await echo_server(nursery)
        result = await run("dial", "--trace", "--json", "tcp", f"127.0.0.1:{port}", stdin=b"x")
        nursery.cancel_scope.cancel()
    assert result.returncode == 0
    assert result.stdout == b"x"
    err = result.stderr.decode()
    assert f"dial tcp 127.0.0.1:{port}" in err
    assert f"=> connected to 127.0.0.1:{port} after" in err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert events[0]["event"] == "DialStart"
    assert events[-1]["winner"] == f"127.0.0.1:{port}"


async def test_dial_refused_prints_go_error_and_exits_1() -> None:
    port = closed_port()
    result = await run("dial", "tcp", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.decode() == f"dial tcp 127.0.0.1:{port}: connect: connection refused\n"
    assert result.stdout == b""


async def test_negative_durations_are_written_with_an_equals_sign() -> None:
    # --fallback-delay=-1s disables racing (docs/cli.rst); the refusal is Go's plain error.
    port = closed_port()
    result = await run("dial", "--fallback-delay=-1s", "--keepalive=-1s", "tcp", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.decode() == f"dial tcp 127.0.0.1:{port}: connect: connection refused\n"


async def test_a_reset_connection_is_one_line_not_a_traceback(nursery: trio.Nursery) -> None:
    listener = await trionet.listen("tcp", "127.0.0.1:0")
    assert isinstance(listener.addr, trionet.TCPAddr)

    async def reset(stream: trio.SocketStream) -> None:
        # SO_LINGER 0: close() sends RST, so the client's next receive fails with ECONNRESET.
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        while await stream.receive_some():  # the client's data, then its EOF (send_eof)
            pass
        stream.socket.close()

    nursery.start_soon(trio.serve_listeners, reset, [listener])
    result = await run("dial", "tcp", str(listener.addr), stdin=b"hello\n")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith(f"tcp {listener.addr}: ")


async def test_dial_timeout_against_a_blackhole() -> None:
    with trionet.testing.blackhole_listener() as hole:
        result = await run("dial", "--timeout", "200ms", "tcp", str(hole))
    assert result.returncode == 1
    assert result.stderr.decode() == f"dial tcp {hole}: i/o timeout\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dial", "foo", "127.0.0.1:80"], "dial foo: unknown network foo\n"),
        (["dial", "tcp", "127.0.0.1"], "dial tcp: address 127.0.0.1: missing port in address\n"),
        (["dial", "--timeout", "soon", "tcp", "127.0.0.1:80"], None),
        (["lookup", "--type", "BOGUS", "example.test"], None),
        (["frobnicate"], None),
        (["lookup", "--server", "127.0.0.1:notaport", "x.test"], None),
        (["lookup", "--server", "", "x.test"], None),
    ],
    ids=[
        "unknown-network",
        "missing-port",
        "bad-duration",
        "bad-type",
        "bad-command",
        "bad-server",
        "no-server",
    ],
)
async def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str | None) -> None:
    result = await run(*args)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1, err
    if message is not None:
        assert err == message


@pytest.mark.parametrize("command", ["dial", "listen", "lookup", "demo"])
async def test_help(command: str) -> None:
    result = await run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.decode().startswith(f"usage: trionet {command}")


# -- listen -------------------------------------------------------------------------------------
async def start_listener(*args: str) -> tuple[trio.Process, int, trio.abc.ReceiveStream]:
    proc = await trio.lowlevel.open_process(
        [*CMD, "listen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    assert proc.stdout is not None
    seen = b""
    with trio.fail_after(10):
        while b"\n" not in seen:
            chunk = await proc.stderr.receive_some()
            assert chunk, "listener exited early"
            seen += chunk
    line = seen.decode().splitlines()[0]
    match = re.fullmatch(r"listening on tcp 127\.0\.0\.1:(\d+)", line)
    assert match, line
    return proc, int(match.group(1)), proc.stdout


async def read_all(stream: trio.abc.ReceiveStream) -> bytes:
    data = b""
    while chunk := await stream.receive_some():
        data += chunk
    return data


async def test_listen_echo_once() -> None:
    proc, port, _ = await start_listener("tcp", "127.0.0.1:0", "--echo", "--once", "--keepalive", "30s")
    with trio.fail_after(10):
        stream = await trionet.dial("tcp", f"127.0.0.1:{port}")
        await stream.send_all(b"ping")
        await stream.send_eof()
        assert await read_all(stream) == b"ping"
        await stream.aclose()
        assert await proc.wait() == 0


async def test_listen_prints_what_it_receives() -> None:
    proc, port, stdout = await start_listener("tcp", "127.0.0.1:0", "--once", "--no-mptcp")
    with trio.fail_after(10):
        async with await trionet.dial("tcp", f"127.0.0.1:{port}") as stream:
            await stream.send_all(b"from the client\n")
        assert await read_all(stdout) == b"from the client\n"
        assert await proc.wait() == 0


async def test_listen_address_in_use_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run("listen", "tcp", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.decode() == f"listen tcp 127.0.0.1:{port}: bind: address already in use\n"


# -- lookup -------------------------------------------------------------------------------------
ZONE = {
    ("www.example.test.", "A"): ["192.0.2.10"],
    ("www.example.test.", "AAAA"): ["2001:db8::10"],
    ("example.test.", "MX"): ["10 mail.example.test."],
    ("example.test.", "TXT"): ['"hello world"'],
    ("_sip._tcp.example.test.", "SRV"): ["1 2 5060 sip.example.test."],
}


@pytest.fixture
async def dns(nursery: trio.Nursery) -> FakeDNS:
    """tests/dnsfake.py's server on 127.0.0.1, answering from ZONE (NXDOMAIN otherwise)."""
    fake: FakeDNS = await nursery.start(FakeDNS().serve)
    for (name, rdtype), rdatas in ZONE.items():
        fake.add(name, rdtype, *rdatas)
    return fake


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["www.example.test", "--type", "A"], "192.0.2.10\n"),
        (["www.example.test", "--type", "AAAA"], "2001:db8::10\n"),
        (["example.test", "--type", "MX"], "10 mail.example.test.\n"),
        (["example.test", "--type", "TXT"], "hello world\n"),
        (["_sip._tcp.example.test", "--type", "SRV"], "1 2 5060 sip.example.test.\n"),
    ],
    ids=["A", "AAAA", "MX", "TXT", "SRV"],
)
async def test_lookup_against_a_local_server(dns: FakeDNS, args: list[str], expected: str) -> None:
    result = await run("lookup", "--server", dns.address, *args)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == expected


async def test_lookup_no_such_host_exits_1(dns: FakeDNS) -> None:
    result = await run("lookup", "--server", dns.address, "--type", "A", "nosuch.example.test")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("lookup nosuch.example.test")
    assert "no such host" in result.stderr.decode()


async def test_lookup_with_server_asks_only_that_server(dns: FakeDNS) -> None:
    # Like dig @SERVER: the machine's hosts file (which names localhost) and resolv.conf search
    # list play no part; the name goes to the server as it is.
    result = await run("lookup", "--server", dns.address, "--type", "A", "localhost")
    assert result.returncode == 1, result.stdout.decode()
    assert "no such host" in result.stderr.decode()
    assert dns.asked() == [("localhost.", "A")]


def test_listen_keeps_accepting_when_out_of_descriptors() -> None:
    # accept() failing with EMFILE means "busy", not "broken": like trio.serve_listeners the
    # command waits and accepts again (it used to die with an ExceptionGroup traceback).
    import resource

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))

    proc = subprocess.Popen(
        [*CMD, "listen", "tcp", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=few_descriptors,
    )
    assert proc.stderr is not None
    clients: list[socket.socket] = []
    try:
        first = proc.stderr.readline()
        match = re.search(r":(\d+)$", first.strip())
        assert match is not None, first
        port = int(match.group(1))
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        lines: list[str] = []
        while not any("too many open files; accepting again" in line for line in lines):
            line = proc.stderr.readline()
            assert line, "".join(lines)  # EOF: the command died
            lines.append(line)
        for client in clients:
            client.close()
        with socket.create_connection(("127.0.0.1", port)):
            while "accepted" not in (line := proc.stderr.readline()):
                assert line, "the command died after the descriptors were freed"
        assert re.fullmatch(r"accepted 127\.0\.0\.1:\d+\n", line), line  # Go's address form
        assert proc.poll() is None
    finally:
        for client in clients:
            client.close()
        proc.kill()
        proc.wait()
        proc.stderr.close()
