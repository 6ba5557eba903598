"""The dual-stack lab: two network namespaces joined by a veth pair, and the server agent.

Layout (every name starts with ``tnlab`` and carries this process's pid and a per-process
counter, so parallel runs and stale leftovers never collide)::

    client ns tnlab<pid>-<n>c                  server ns tnlab<pid>-<n>s
    veth tnlab<pid>-<n>a 192.0.2.1/24 <---->   veth tnlab<pid>-<n>b  192.0.2.53/24 (DNS)
                      2001:db8::1/64                              2001:db8::53/64
                                                                  + a pool of service addresses
                                                                    198.51.100.10-109, 2001:db8:1::a-6d

There is no default route in either namespace and no link to the host's: nothing in the lab can
reach an address outside it. The client namespace gets its own ``resolv.conf`` (the lab DNS
server only), ``hosts`` (localhost only) and ``nsswitch.conf`` under ``/etc/netns/<client>/``,
which ``ip netns exec`` bind-mounts over ``/etc``; the machine's nameserver is never asked.

Impairments live inside the server namespace only (so deleting it removes them): a mangle
PREROUTING rule queues every SYN to the service port to the agent (the delayer, which also
records it); filter INPUT rules per address DROP, REJECT with a TCP reset, or REJECT with an ICMP
unreachable. The host's own iptables rules are never touched.

Teardown (``close()``, also run by ``with``, on failure, on Ctrl-C and at interpreter exit) kills
the processes the lab started, deletes both namespaces (which removes the veth and the rules) and
the ``/etc/netns`` directory. :func:`remove_stale` deletes what a killed run left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

AGENT = Path(__file__).resolve().parent / "_agent.py"
REPO = Path(__file__).resolve().parents[2]
PORT = 8080
QUEUE = 7
DNS4, DNS6 = "192.0.2.53", "2001:db8::53"
CLIENT4, CLIENT6 = "192.0.2.1", "2001:db8::1"
POOL = 100
# The service addresses sit in other documentation prefixes than the client's, reached through
# an on-link route: every one of them then shares the same common-prefix length with the
# client's source address, so RFC 6724 rule 9 (longest matching prefix) never reorders a case's
# addresses and each client sees them in DNS order.
SERVICE4, SERVICE6 = "198.51.100.0/24", "2001:db8:1::/64"
POOL4 = [f"198.51.100.{10 + i}" for i in range(POOL)]
POOL6 = [f"2001:db8:1::{10 + i:x}" for i in range(POOL)]
ZONE = "tnlab.test"
#: resolv.conf options of the client namespace: the "resolver timeout" of the lab is 2 s, one try.
RESOLV_OPTIONS = "options timeout:2 attempts:1"
NETNS_ETC = Path("/etc/netns")
#: The lab's processes run under real-time FIFO scheduling: the development machine has 2 cores
#: shared by many processes, and their load otherwise adds milliseconds of scheduling noise to
#: each measured dial (more to a Python client than to Go, which spends less CPU per dial). The
#: agent (delayer, DNS) outranks the clients so that its timestamps and delays stay exact. The
#: processes sleep almost all the time, and the kernel keeps 5 % of each CPU for everything else
#: (sched_rt_runtime_us), so nothing else on the machine is starved.
AGENT_PRIORITY = ["chrt", "--fifo", "20"]
CLIENT_PRIORITY = ["chrt", "--fifo", "10"]


class LabError(RuntimeError):
    """The lab could not be set up; the message says which command failed and why."""


def missing_requirements() -> list[str]:
    """What this machine lacks for the lab (empty when it can run): root, namespaces, the
    ``ip``/``iptables``/``ip6tables`` commands, NetfilterQueue, dnspython."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (CAP_NET_ADMIN for network namespaces)")
    missing += [
        f"the {cmd} command" for cmd in ("ip", "iptables", "ip6tables", "chrt") if shutil.which(cmd) is None
    ]
    try:
        import netfilterqueue  # noqa: F401
    except ImportError:
        missing.append("NetfilterQueue (pip; needs libnetfilter-queue-dev)")
    if not missing and not Path("/proc/self/ns/net").exists():
        missing.append("network namespaces")
    return missing


def _run(*argv: str, stdin: str | None = None) -> str:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{' '.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        raise LabError(
            f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout


def list_netns() -> list[str]:
    """``ip netns list``, names only."""
    return sorted(line.split()[0] for line in _run("ip", "netns", "list").splitlines() if line.strip())


def remove_stale() -> list[str]:
    """Delete lab namespaces (and /etc/netns dirs) whose creating process is gone."""
    removed = []
    for name in list_netns():
        pid_text = name[5:].split("-")[0]
        if not name.startswith("tnlab") or not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if Path(f"/proc/{pid}").exists():
            continue
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
        removed.append(name)
    return removed


@dataclass(frozen=True)
class Addrs:
    """The service addresses one case uses, in the order DNS returns them."""

    v6: tuple[str, ...]
    v4: tuple[str, ...]


class Lab:
    """The two namespaces, the agent, and per-case configuration. Use as a context manager."""

    _instances = 0

    def __init__(self) -> None:
        # tnlab<pid>-<n><role>: unique per process and per lab in it; 15 characters at most
        # (the interface name limit) for pids up to 7 digits.
        Lab._instances += 1
        tag = f"tnlab{os.getpid()}-{'0123456789abcdefghijklmnopqrstuvwxyz'[Lab._instances % 36]}"
        self.client_ns = f"{tag}c"
        self.server_ns = f"{tag}s"
        self._veth = (f"{tag}a", f"{tag}b")
        self._agent: subprocess.Popen[str] | None = None
        self._procs: list[subprocess.Popen[Any]] = []
        self._next4 = 0
        self._next6 = 0
        self._closed = False
        self._created: list[str] = []

    # -- set-up and teardown ----------------------------------------------------------------
    def __enter__(self) -> Lab:  # noqa: PYI034 - Lab is not subclassed
        atexit.register(self.close)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _setup(self) -> None:
        c, s = self.client_ns, self.server_ns
        a, b = self._veth
        for ns in (c, s):
            _run("ip", "netns", "add", ns)
            self._created.append(ns)
        # veth is created in the root namespace, then each end moved (creating it inside
        # `ip netns exec` fails on this kernel with "Unknown device type").
        _run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        try:
            _run("ip", "link", "set", a, "netns", c)
            _run("ip", "link", "set", b, "netns", s)
        except LabError:
            subprocess.run(["ip", "link", "del", a], capture_output=True, check=False)
            raise
        client_batch = [
            "link set lo up",
            f"addr add {CLIENT4}/24 dev {a}",
            f"addr add {CLIENT6}/64 dev {a} nodad",
            f"link set {a} up",
            f"route add {SERVICE4} dev {a}",
            f"route add {SERVICE6} dev {a}",
        ]
        server_batch = [
            "link set lo up",
            f"addr add {DNS4}/24 dev {b}",
            f"addr add {DNS6}/64 dev {b} nodad",
            *(f"addr add {x}/32 dev {b}" for x in POOL4),
            *(f"addr add {x}/128 dev {b} nodad" for x in POOL6),
            f"link set {b} up",
        ]
        _run("ip", "-n", c, "-batch", "-", stdin="\n".join(client_batch) + "\n")
        _run("ip", "-n", s, "-batch", "-", stdin="\n".join(server_batch) + "\n")
        etc = NETNS_ETC / c
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text(f"nameserver {DNS4}\n{RESOLV_OPTIONS}\n")
        (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        (etc / "nsswitch.conf").write_text("hosts: files dns\n")
        for tool in ("iptables", "ip6tables"):
            self._ns(s, tool, "-t", "mangle", "-A", "PREROUTING", "-p", "tcp", "--syn", "--dport", str(PORT),
                     "-j", "NFQUEUE", "--queue-num", str(QUEUE))  # fmt: skip
        self._start_agent()
        self._wait_reachable()

    def _ns(self, ns: str, *argv: str, input_text: str | None = None) -> str:
        return _run("ip", "netns", "exec", ns, *argv, stdin=input_text)

    def _start_agent(self) -> None:
        argv = ["ip", "netns", "exec", self.server_ns, *AGENT_PRIORITY, sys.executable, str(AGENT),
                "--queue", str(QUEUE), "--port", str(PORT), "--dns", DNS4, "--dns", DNS6]  # fmt: skip
        self._agent = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        line = self._agent_read(timeout=20)
        if not line.get("ready"):
            raise LabError(f"lab agent did not start: {line}")

    def _agent_read(self, timeout: float = 10) -> dict[str, Any]:
        assert self._agent is not None
        assert self._agent.stdout is not None
        line = _readline(self._agent.stdout, timeout)
        if not line:
            err = self._agent.stderr.read() if self._agent.stderr and self._agent.poll() is not None else ""
            raise LabError(f"lab agent exited: {err.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def agent(self, **cmd: Any) -> dict[str, Any]:
        """Send one command to the agent and return its reply."""
        assert self._agent is not None
        assert self._agent.stdin is not None
        self._agent.stdin.write(json.dumps(cmd) + "\n")
        self._agent.stdin.flush()
        reply = self._agent_read()
        if not reply.get("ok"):
            raise LabError(f"lab agent refused {cmd.get('op')}: {reply}")
        return reply

    def _wait_reachable(self) -> None:
        # IPv6 neighbour discovery and the listener: one connect per family, bounded in time.
        code = (
            "import socket,sys,time\n"
            "for a in sys.argv[1:]:\n"
            "  for i in range(50):\n"
            f"    try: socket.create_connection((a, {PORT}), timeout=1).close(); break\n"
            "    except OSError: time.sleep(0.05)\n"
            "  else: sys.exit('unreachable: '+a)\n"
        )
        self._ns(self.client_ns, sys.executable, "-c", code, POOL4[0], POOL6[0])
        self.agent(op="log")

    def close(self) -> None:
        """Tear everything down; safe to call twice, never raises."""
        if self._closed:
            return
        self._closed = True
        for proc in [*self._procs, *([self._agent] if self._agent else [])]:
            with contextlib.suppress(Exception):
                if proc.stdin:
                    proc.stdin.close()
            with contextlib.suppress(Exception):
                proc.wait(timeout=2)
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(Exception):
                        pipe.close()
        for ns in self._created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self._veth[0]], capture_output=True, check=False)
        shutil.rmtree(NETNS_ETC / self.client_ns, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)

    # -- processes in the client namespace ------------------------------------------------------
    def popen_client(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[str]:
        """Start *argv* in the client namespace (stdin/stdout pipes, text); killed at teardown."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.client_ns, *CLIENT_PRIORITY, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=REPO,
            env=env,
            **kw,
        )
        self._procs.append(proc)
        return proc

    def run_client(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run *argv* to completion in the client namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", self.client_ns, *argv],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    # -- per-case configuration ------------------------------------------------------------------
    def allocate(self, n6: int, n4: int) -> Addrs:
        """Fresh service addresses (round-robin through the pool) so that no SYN retransmit or
        neighbour state of one case touches the next."""
        v6 = tuple(POOL6[(self._next6 + i) % POOL] for i in range(n6))
        v4 = tuple(POOL4[(self._next4 + i) % POOL] for i in range(n4))
        self._next6 += n6
        self._next4 += n4
        return Addrs(v6, v4)

    def configure(
        self,
        name: str,
        addrs: Addrs,
        impair: dict[str, str],
        dns_delays: dict[str, float | None],
        https: Sequence[str] = (),
        extra_names: dict[str, dict[str, list[str]]] | None = None,
    ) -> None:
        """Serve *name* with *addrs*, impair each address as *impair* says (``"ok"``,
        ``"delay:<seconds>"``, ``"drop"``, ``"reset"``, ``"unreach"``) and delay each DNS
        record type as *dns_delays* says (None: never answered)."""
        rules4 = ["*filter", ":INPUT ACCEPT [0:0]"]
        rules6 = ["*filter", ":INPUT ACCEPT [0:0]"]
        delays: dict[str, float] = {}
        for addr, how in impair.items():
            v6 = ":" in addr
            rules = rules6 if v6 else rules4
            match = f"-A INPUT -d {addr} -p tcp --dport {PORT}"
            if how.startswith("delay:"):
                delays[addr] = float(how.split(":", 1)[1])
            elif how == "drop":
                rules.append(f"{match} -j DROP")
            elif how == "reset":
                rules.append(f"{match} -j REJECT --reject-with tcp-reset")
            elif how == "unreach":
                kind = "icmp6-addr-unreachable" if v6 else "icmp-host-unreachable"
                rules.append(f"{match} -j REJECT --reject-with {kind}")
            elif how != "ok":
                raise ValueError(f"unknown impairment {how!r}")
        # iptables-restore with the filter table only: replaces INPUT, leaves mangle alone.
        self._ns(
            self.server_ns, "iptables-restore", "--noflush", input_text="\n".join([*rules4, "COMMIT", ""])
        )
        self._ns(
            self.server_ns, "ip6tables-restore", "--noflush", input_text="\n".join([*rules6, "COMMIT", ""])
        )
        zone = {name: {"A": list(addrs.v4), "AAAA": list(addrs.v6), "HTTPS": list(https)}}
        zone.update(extra_names or {})
        self.agent(op="config", delays=delays, zone=zone, dns_delays=dns_delays)

    def iptables_rules(self) -> str:
        """The server namespace's rules (for tests)."""
        return self._ns(self.server_ns, "iptables-save") + self._ns(self.server_ns, "ip6tables-save")


def _readline(stream: IO[str], timeout: float) -> str:
    import select

    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise LabError(f"no answer within {timeout} s")
    return stream.readline()


@contextlib.contextmanager
def lab() -> Iterator[Lab]:
    """``with lab() as L:`` -- a set-up lab, torn down on the way out."""
    with Lab() as instance:
        yield instance


__all__ = ["Addrs", "Lab", "LabError", "lab", "list_netns", "missing_requirements", "remove_stale"]
