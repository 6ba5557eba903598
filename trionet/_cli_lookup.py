"""``trionet lookup``: one lookup through trionet's resolver, one record per line."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Awaitable, Callable
from typing import cast

import trio

from ._address import join_host_port, split_host_port
from ._cli_common import UsageError, fail
from ._errors import DNSError
from ._resolver import Resolver, default_resolver

__all__ = ["lookup_command"]


async def lookup_command(args: argparse.Namespace) -> int:
    resolver = default_resolver
    if args.server is not None:
        # The pure resolver, so that the server given is the one asked (libc would ignore it),
        # and, like dig @SERVER, only that server: no hosts file, no resolv.conf search list.
        try:
            resolver = Resolver(
                prefer_python=True, nameservers=[args.server], resolv_conf=os.devnull, hosts_file=os.devnull
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    kind: str | None = args.type
    name: str = args.name
    calls: dict[str | None, tuple[str, tuple[str, ...]]] = {
        None: ("lookup_host", (name,)),
        "A": ("lookup_ip", ("ip4", name)),
        "AAAA": ("lookup_ip", ("ip6", name)),
        "CNAME": ("lookup_cname", (name,)),
        "MX": ("lookup_mx", (name,)),
        "NS": ("lookup_ns", (name,)),
        "SRV": ("lookup_srv", ("", "", name)),  # Go: empty service and proto look NAME up as is
        "TXT": ("lookup_txt", (name,)),
        "PTR": ("lookup_addr", (name,)),
    }
    method_name, call_args = calls[kind]
    method: Callable[..., Awaitable[object]] = getattr(resolver, method_name)
    server = "" if args.server is None else _server_name(args.server)
    if args.trace:
        asked = f"only {server}, no hosts file, no search list" if server else "the system configuration"
        print(f"lookup {name} {kind or 'A+AAAA'}: asking {asked}", file=sys.stderr, flush=True)
    start = trio.current_time()
    timeout: float = math.inf if args.timeout is None else args.timeout
    result: object = None
    try:
        with trio.move_on_after(timeout) as scope:
            result = await method(*call_args)
        if scope.cancelled_caught:
            # As Go's lookup under an expired context deadline (the server named when known).
            raise DNSError("i/o timeout", name, server, is_timeout=True)
    except OSError as exc:
        if args.trace:
            print(f"=> failed after {_took(start)}: {exc}", file=sys.stderr)
        return fail(exc)
    lines = _records(result)
    if args.trace:
        print(f"=> {len(lines)} record{'s' * (len(lines) != 1)} after {_took(start)}", file=sys.stderr)
    for line in lines:
        print(line)
    return 0


def _took(start: float) -> str:
    return f"{(trio.current_time() - start) * 1000:.1f} ms"


def _server_name(server: str) -> str:
    """``--server``'s address as Go names a server in errors: ``127.0.0.1:53``, ``[::1]:53``."""
    try:
        split_host_port(server)
    except OSError:
        return join_host_port(server, "53")
    return server


def _records(result: object) -> list[str]:
    """Lines for a lookup result: one record per line, in dig-like field order."""
    value: object = result
    if isinstance(result, tuple):
        parts = cast("tuple[object, ...]", result)
        if len(parts) == 2 and isinstance(parts[1], list):
            value = cast("list[object]", parts[1])  # Go's LookupSRV returns (cname, records)
    items = cast("list[object]", value) if isinstance(value, list) else [value]
    lines: list[str] = []
    for item in items:
        for fields in (("priority", "weight", "port", "target"), ("pref", "host"), ("host",)):
            if all(hasattr(item, name) for name in fields):
                lines.append(" ".join(str(getattr(item, name)) for name in fields))
                break
        else:
            lines.append(str(item))
    return lines
