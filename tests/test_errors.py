"""Error types: Go's exact str(), OSError subclasses, errno kept, timeouts are TimeoutErrors."""

from __future__ import annotations

import errno
import pickle

import pytest

from trionet import AddrError, DNSError, OpError, SyscallError, TCPAddr, UnknownNetworkError
from trionet._errors import io_timeout, missing_address


def refused() -> SyscallError:
    return SyscallError("connect", ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            OpError("dial", "tcp", None, TCPAddr("127.0.0.1", 1), refused()),
            "dial tcp 127.0.0.1:1: connect: connection refused",
        ),
        (
            OpError("dial", "tcp", None, TCPAddr("::1", 1), refused()),
            "dial tcp [::1]:1: connect: connection refused",
        ),
        (
            OpError("dial", "tcp", TCPAddr("127.0.0.1", 0), TCPAddr("127.0.0.1", 1), refused()),
            "dial tcp 127.0.0.1:0->127.0.0.1:1: connect: connection refused",
        ),
        (
            OpError("dial", "tcp", None, None, DNSError("no such host", "nosuch.test")),
            "dial tcp: lookup nosuch.test: no such host",
        ),
        (
            OpError(
                "dial",
                "tcp",
                None,
                None,
                DNSError("no such host", "x.test", "127.0.0.1:53", is_not_found=True),
            ),
            "dial tcp: lookup x.test on 127.0.0.1:53: no such host",
        ),
        (
            OpError("dial", "tcp", None, TCPAddr("192.0.2.1", 80), io_timeout()),
            "dial tcp 192.0.2.1:80: i/o timeout",
        ),
        (
            OpError(
                "listen",
                "tcp",
                None,
                TCPAddr("127.0.0.1", 80),
                SyscallError("bind", OSError(errno.EADDRINUSE, "x")),
            ),
            "listen tcp 127.0.0.1:80: bind: address already in use",
        ),
        (OpError("dial", "foo", None, None, UnknownNetworkError("foo")), "dial foo: unknown network foo"),
        (
            OpError("dial", "tcp", None, None, AddrError("missing port in address", "localhost")),
            "dial tcp: address localhost: missing port in address",
        ),
        (OpError("dial", "tcp", None, None, missing_address()), "dial tcp: missing address"),
        (
            OpError("dial", "tcp4", None, None, AddrError("mismatched local address type")),
            "dial tcp4: mismatched local address type",
        ),
        (
            OpError(
                "dial",
                "unix",
                None,
                "/run/x.sock",
                SyscallError("connect", FileNotFoundError(errno.ENOENT, "x")),
            ),
            "dial unix /run/x.sock: connect: no such file or directory",
        ),
    ],
)
def test_go_formats(error: OSError, text: str) -> None:
    assert str(error) == text
    assert isinstance(error, OSError)


def test_errno_and_builtin_subclass_are_kept() -> None:
    e = OpError("dial", "tcp", None, TCPAddr("127.0.0.1", 1), refused())
    assert e.errno == errno.ECONNREFUSED
    assert isinstance(e, ConnectionRefusedError)
    assert isinstance(e, OpError)
    assert not e.timeout
    enoent = OpError("dial", "unix", None, "/x", SyscallError("connect", OSError(errno.ENOENT, "x")))
    assert isinstance(enoent, FileNotFoundError)
    assert not isinstance(OpError("dial", "tcp", None, None, missing_address()), ConnectionError)


def test_timeouts_are_timeout_errors() -> None:
    own = OpError("dial", "tcp", None, TCPAddr("127.0.0.1", 1), io_timeout())
    assert issubclass(type(own), TimeoutError)
    assert own.timeout
    assert own.temporary
    kernel = OpError("dial", "tcp", None, None, SyscallError("connect", TimeoutError(errno.ETIMEDOUT, "x")))
    assert str(kernel) == "dial tcp: connect: connection timed out"
    assert issubclass(type(kernel), TimeoutError)
    assert kernel.timeout
    dns = DNSError("i/o timeout", "example.com", is_timeout=True)
    assert issubclass(type(dns), TimeoutError)
    assert dns.temporary
    assert isinstance(OpError("dial", "tcp", None, None, dns), TimeoutError)
    assert not DNSError("no such host", "x", is_not_found=True).timeout
    assert DNSError("server misbehaving", "x", is_temporary=True).temporary


def test_addr_and_unknown_network_formats() -> None:
    assert str(AddrError("no suitable address found", "::1")) == "address ::1: no suitable address found"
    assert str(AddrError("mismatched local address type")) == "mismatched local address type"
    assert str(UnknownNetworkError("datakit")) == "unknown network datakit"


def test_op_error_requires_an_err() -> None:
    with pytest.raises(TypeError):
        OpError("dial", "tcp", None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        OpError("dial", "tcp", TCPAddr("127.0.0.1", 0), TCPAddr("127.0.0.1", 1), refused()),
        OpError("dial", "tcp", None, TCPAddr("127.0.0.1", 1), io_timeout()),
        DNSError("no such host", "x", "127.0.0.1:53", is_not_found=True),
        AddrError("invalid port", "-1"),
        UnknownNetworkError("foo"),
    ],
)
def test_errors_pickle(error: OSError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
