"""The ``trionet`` command, run as a real subprocess (``python -m trionet``) against loopback."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import trio

import trionet
import trionet.testing

from ._signals import default_sigint
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


# -- round 2: version, Ctrl-C, fast fallback off, SVG, relative JSON, lookup --timeout/--trace ---
SVG = "{http://www.w3.org/2000/svg}"


def attempt_bars(path: Path) -> list[dict[str, str]]:
    """The attempt bars of an SVG file written by the command (parsed: well-formed XML)."""
    root = ET.parse(path).getroot()
    return [dict(r.attrib) for r in root.iter(f"{SVG}rect") if "attempt" in r.get("class", "").split()]


async def test_version_comes_from_the_package_metadata() -> None:
    result = await run("--version")
    assert result.returncode == 0
    assert result.stdout.decode() == f"trionet {importlib.metadata.version('trionet')}\n"
    assert trionet.__version__ == importlib.metadata.version("trionet")


async def _interrupt(args: list[str], ready: str, *, connect: str | None = None) -> tuple[int, str]:
    """Start ``trionet listen ARGS``, wait for *ready* on stderr, optionally leave a connection
    open to *connect* (so a handler task runs), then send SIGINT; the exit status and stderr."""
    proc = await trio.lowlevel.open_process(
        [*CMD, "listen", *args], stderr=subprocess.PIPE, preexec_fn=default_sigint
    )
    assert proc.stderr is not None
    err = b""
    client: trio.SocketStream | trionet.PacketConn | None = None
    try:
        with trio.fail_after(20):
            while ready.encode() not in err:
                chunk = await proc.stderr.receive_some()
                assert chunk, err.decode()
                err += chunk
            if connect is not None:
                port = re.search(rb"127\.0\.0\.1:(\d+)", err)
                network, address = (
                    ("tcp", f"127.0.0.1:{port.group(1).decode()}") if port else ("unix", connect)
                )
                client = await trionet.dial(network, address)
                while b"accepted" not in err:
                    err += await proc.stderr.receive_some()
            proc.send_signal(signal.SIGINT)
            while chunk := await proc.stderr.receive_some():
                err += chunk
            status = await proc.wait()
    finally:
        if client is not None:
            await client.aclose()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return status, err.decode()


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "with-a-connection"])
@pytest.mark.parametrize("network", ["tcp", "unix"])
async def test_listen_ctrl_c_exits_130_without_a_traceback(tmp_path: Path, network: str, busy: bool) -> None:
    path = str(tmp_path / "l.sock")
    address = "127.0.0.1:0" if network == "tcp" else path
    status, err = await _interrupt([network, address], "listening on", connect=path if busy else None)
    assert status == 130, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    if network == "unix":
        assert not Path(path).exists()  # noqa: ASYNC240 - the listener was closed on the way out (Go unlinks)


async def test_demo_with_fast_fallback_off_is_go_serial_and_ends_in_seconds() -> None:
    start = trio.current_time()
    result = await run("demo", "--fallback-delay=-1s")  # used to wait ~134 s on the blackhole
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "fast fallback off" in out.lower()
    assert "(-1000 ms)" not in out
    # Serial: both addresses are the primary racer's; [::1] gets Go's 2 s partial deadline.
    first = re.search(
        r"^primary  \[::1\]:\d+ +=+x +failed at ([\d.]+) ms: dial tcp .*: i/o timeout$", out, re.M
    )
    second = re.search(r"^primary  127\.0\.0\.1:\d+ +=*\* +connected at ([\d.]+) ms  <- winner$", out, re.M)
    assert first is not None, out
    assert second is not None, out
    assert 2000.0 <= float(first.group(1)) <= float(second.group(1)) < 3500.0
    assert not re.search(r"^fallback ", out.split("Act 2")[0], re.M)  # no fallback racer
    assert trio.current_time() - start < 20


async def test_demo_svg_writes_both_acts(tmp_path: Path) -> None:
    out_dir = tmp_path / "pictures"  # created by the command
    result = await run("demo", "--svg", str(out_dir))
    assert result.returncode == 0, result.stderr.decode()
    act1, act2 = sorted(out_dir.iterdir())
    assert (act1.name, act2.name) == ("act1-fast-fallback.svg", "act2-who-stops-a-dial.svg")
    assert f"wrote {act1}" in result.stderr.decode()
    one = attempt_bars(act1)
    assert [(b["data-role"], b["data-outcome"]) for b in one] == [
        ("primary", "cancelled"),
        ("fallback", "won"),
    ]
    assert float(one[1]["data-start-ms"]) >= 300.0  # the fallback waited for its delay
    two = attempt_bars(act2)
    assert [b["data-outcome"] for b in two] == ["cancelled"] * 4  # two dials, two attempts each
    assert len(ET.parse(act2).getroot().findall(f"{SVG}g")) == 2


async def test_dial_svg_file(tmp_path: Path) -> None:
    picture = tmp_path / "dial.svg"
    async with trio.open_nursery() as nursery:
        port = await echo_server(nursery)
        result = await run("dial", "--trace", "--svg", str(picture), "tcp", f"127.0.0.1:{port}", stdin=b"x")
        nursery.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"x"
    (bar,) = attempt_bars(picture)
    assert (bar["data-addr"], bar["data-outcome"]) == (f"127.0.0.1:{port}", "won")
    assert f"=> connected to 127.0.0.1:{port}" in result.stderr.decode()  # --trace still drawn


async def test_dial_svg_of_a_failure(tmp_path: Path) -> None:
    picture = tmp_path / "refused.svg"
    port = closed_port()
    result = await run("dial", "--svg", str(picture), "tcp", f"127.0.0.1:{port}")
    assert result.returncode == 1
    (bar,) = attempt_bars(picture)
    assert bar["data-outcome"] == "refused"


async def test_dial_svg_to_an_unwritable_place_is_bad_input(tmp_path: Path) -> None:
    result = await run("dial", "--svg", str(tmp_path / "no" / "such" / "dir.svg"), "tcp", "127.0.0.1:1")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("trionet dial: cannot write --svg ")
    assert err.count("\n") == 1


async def test_json_trace_times_count_from_the_dial_start() -> None:
    async with trio.open_nursery() as nursery:
        port = await echo_server(nursery)
        result = await run("dial", "--json", "--timeout", "5s", "tcp", f"127.0.0.1:{port}")
        nursery.cancel_scope.cancel()
    assert result.returncode == 0, result.stderr.decode()
    events = [json.loads(line) for line in result.stderr.decode().splitlines()]
    assert events[0]["event"] == "DialStart"
    assert events[0]["time"] == 0.0  # Trio's clock starts anywhere; the trace starts at 0
    assert 4.9 < events[0]["own_deadline"] <= 5.0  # a deadline is a moment too: relative
    assert all(0.0 <= e["time"] < 5.0 for e in events)
    attempt = next(e for e in events if e["event"] == "AttemptStart")
    assert 4.9 < attempt["deadline"] <= 5.0


async def test_lookup_timeout_against_a_silent_server(dns: FakeDNS) -> None:
    dns.behave("quiet.example.test.", "silent")
    start = trio.current_time()
    result = await run(
        "lookup", "--server", dns.address, "--timeout", "300ms", "--type", "A", "quiet.example.test"
    )
    assert result.returncode == 1
    assert result.stderr.decode() == f"lookup quiet.example.test on {dns.address}: i/o timeout\n"
    assert trio.current_time() - start < 5.0  # the resolver's own timeouts would take 10 s
    assert dns.asked() == [("quiet.example.test.", "A")]


async def test_lookup_trace_says_who_was_asked_and_how_long_it_took(dns: FakeDNS) -> None:
    result = await run("lookup", "--server", dns.address, "--trace", "--type", "A", "www.example.test")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "192.0.2.10\n"  # stdout keeps only the records
    err = result.stderr.decode().splitlines()
    assert err[0] == f"lookup www.example.test A: asking only {dns.address}, no hosts file, no search list"
    assert re.fullmatch(r"=> 1 record after [\d.]+ ms", err[1]), err


async def test_lookup_trace_of_a_failure(dns: FakeDNS) -> None:
    result = await run("lookup", "--server", dns.address, "--trace", "--type", "A", "nosuch.example.test")
    assert result.returncode == 1
    err = result.stderr.decode().splitlines()
    assert re.fullmatch(r"=> failed after [\d.]+ ms: lookup nosuch\.example\.test.*: no such host", err[1]), (
        err
    )


async def test_lookup_ptr_of_a_non_address_is_bad_input(dns: FakeDNS) -> None:
    result = await run("lookup", "--server", dns.address, "--type", "PTR", "notanip")
    assert result.returncode == 2
    assert result.stderr.decode() == "lookup notanip: unrecognized address\n"
    assert dns.asked() == []
