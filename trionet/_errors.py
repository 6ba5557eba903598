"""Go's ``net`` error types, as :class:`OSError` subclasses with Go's exact ``str()``.

Go's errors are a structure (``OpError{Op, Net, Source, Addr, Err}``) whose text users' tests
compare literally (``dial tcp 127.0.0.1:1: connect: connection refused``). trionet keeps both the
structure and the text, and makes every error an :class:`OSError` so ``except OSError`` keeps
working. Two Python refinements on top of Go:

* ``errno`` is kept: an :class:`OpError` wrapping ``ECONNREFUSED`` has ``.errno == ECONNREFUSED``
  and is also a :class:`ConnectionRefusedError`, exactly as the builtin :class:`OSError` would
  be. Likewise a timeout is a :class:`TimeoutError`.
* Nothing here imports trio: this module is pure (sans-IO) and sits at the bottom of the package.
"""

from __future__ import annotations

import errno as _errno
import os
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # _address imports this module; the hint alone needs the address types
    from ._address import Addr

__all__ = [
    "ERR_CLOSED",
    "ERR_WRITE_TO_CONNECTED",
    "AddrError",
    "ClosedError",
    "DNSError",
    "OpError",
    "SyscallError",
    "UnknownNetworkError",
    "WriteToConnectedError",
    "errno_error",
    "io_timeout",
    "missing_address",
]

# Go's internal error texts (net.go). Kept as constants so tests and docs name them once.
ERR_CLOSED: Final = "use of closed network connection"
ERR_MISSING_ADDRESS: Final = "missing address"
ERR_NO_SUITABLE_ADDRESS: Final = "no suitable address found"
ERR_MISMATCHED_LOCAL: Final = "mismatched local address type"
ERR_NO_SUCH_HOST: Final = "no such host"
#: Go's ``ErrWriteToConnected`` text.
ERR_WRITE_TO_CONNECTED: Final = "use of WriteTo with pre-connected connection"


def _errno_of(err: BaseException | None) -> int | None:
    if isinstance(err, OSError) and isinstance(err.errno, int):
        return err.errno
    return None


def _is_timeout(err: BaseException | None) -> bool:
    timeout = getattr(err, "timeout", None)
    if isinstance(timeout, bool):
        return timeout
    # A bare kernel error: ETIMEDOUT is Go's syscall.Errno.Timeout() (EAGAIN too, but a dial
    # never reports that one).
    return isinstance(err, TimeoutError) or _errno_of(err) == _errno.ETIMEDOUT


# Python maps errno values to OSError subclasses (ECONNREFUSED -> ConnectionRefusedError, ...).
# We mirror that mapping for our own types, so `except ConnectionRefusedError:` catches a refused
# dial. One cached subclass per (base, builtin) pair; __reduce__ keeps them picklable.
_variants: dict[tuple[type[OSError], type[OSError]], type[OSError]] = {}


def _builtin_class_for(err_no: int | None, timeout: bool) -> type[OSError] | None:
    if timeout:
        return TimeoutError
    if err_no is None:
        return None
    cls = type(OSError(err_no, ""))
    return None if cls is OSError else cls


def _variant(base: type[OSError], builtin: type[OSError] | None) -> type[OSError]:
    if builtin is None:
        return base
    key = (base, builtin)
    cls = _variants.get(key)
    if cls is None:
        cls = type(base.__name__, (base, builtin), {"__module__": base.__module__, "_variant_of": base})
        cls.__qualname__ = f"{base.__qualname__}[{builtin.__name__}]"
        _variants[key] = cls
    return cls


class _NetError(OSError):
    """Common base: picks the builtin OSError subclass that matches errno / timeout."""

    # Subclasses set these in __init__; declared here for type checkers.
    timeout: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        chosen: type[OSError] = cls
        if "_variant_of" not in cls.__dict__:  # a public class: pick its errno variant
            chosen = _variant(cls, cls._builtin_for(*args, **kwargs))
        return super().__new__(chosen)  # pyright: ignore[reportArgumentType]

    @classmethod
    def _builtin_for(cls, *args: Any, **kwargs: Any) -> type[OSError] | None:
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild through the public class so the variant is re-derived, not pickled by name.
        public = type(self).__dict__.get("_variant_of", type(self))
        return (public, self.args)

    @property
    def temporary(self) -> bool:
        """Go's deprecated ``Temporary()``: true for timeouts."""
        return self.timeout


class SyscallError(_NetError):
    """A failed system call, printed as Go's ``os.SyscallError``: ``connect: connection refused``.

    Args:
        syscall: the call that failed (``"connect"``, ``"bind"``, ``"socket"``, ...).
        err: the :class:`OSError` the call raised; its ``errno`` is kept.
    """

    def __init__(self, syscall: str, err: OSError) -> None:
        self.syscall = syscall
        self.err = err
        self.errno = err.errno
        self.strerror = _go_strerror(err)
        self.timeout = _is_timeout(err)
        self.args = (syscall, err)

    @classmethod
    def _builtin_for(cls, syscall: str, err: OSError) -> type[OSError] | None:
        return _builtin_class_for(_errno_of(err), _is_timeout(err))

    def __str__(self) -> str:
        return f"{self.syscall}: {self.strerror}"


def _go_strerror(err: BaseException) -> str:
    """The errno text as Go prints it: libc's message with a lower-case first letter."""
    err_no = _errno_of(err)
    if err_no is not None:
        text = os.strerror(err_no)
    elif isinstance(err, OSError) and err.strerror:
        text = err.strerror
    else:
        text = str(err)
    return text[:1].lower() + text[1:]


class _IOTimeout(TimeoutError):
    """Go's internal ``errTimeout``: prints ``i/o timeout``; a :class:`TimeoutError`."""

    timeout = True

    def __init__(self) -> None:
        super().__init__(_errno.ETIMEDOUT, "i/o timeout")

    def __str__(self) -> str:
        return "i/o timeout"

    def __repr__(self) -> str:
        # What it is to the caller, not the private class (issue 11 item 15).
        return "TimeoutError('i/o timeout')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_IOTimeout, ())


def io_timeout() -> TimeoutError:
    """A fresh ``i/o timeout`` error (Go's ``errTimeout``)."""
    return _IOTimeout()


class _MissingAddress(OSError):
    timeout = False

    def __init__(self) -> None:
        super().__init__(ERR_MISSING_ADDRESS)

    def __str__(self) -> str:
        return ERR_MISSING_ADDRESS


def missing_address() -> OSError:
    """Go's ``errMissingAddress``: prints ``missing address``."""
    return _MissingAddress()


class AddrError(_NetError):
    """An address that cannot be used: Go's ``*net.AddrError``.

    ``str()`` is ``address ADDR: ERR``, or just ``ERR`` when *addr* is empty
    (``address 127.0.0.1: missing port in address``).

    Args:
        err: what is wrong (``"missing port in address"``, ``"invalid port"``, ...).
        addr: the offending address text; ``""`` when there is none.
    """

    def __init__(self, err: str, addr: str = "") -> None:
        self.err = err
        self.addr = addr
        self.timeout = False
        self.args = (err, addr)

    def __str__(self) -> str:
        return f"address {self.addr}: {self.err}" if self.addr else self.err


class UnknownNetworkError(_NetError):
    """A network name Go does not know: ``unknown network NAME`` (Go's ``UnknownNetworkError``).

    Args:
        net: the network string as given.
    """

    def __init__(self, net: str) -> None:
        self.net = net
        self.timeout = False
        self.args = (net,)

    def __str__(self) -> str:
        return f"unknown network {self.net}"


class DNSError(_NetError):
    """A failed lookup: Go's ``*net.DNSError``, ``lookup NAME on SERVER: ERR``.

    Args:
        err: the reason (``"no such host"``, ``"server misbehaving"``, ``"i/o timeout"``, ...).
        name: the name looked up.
        server: the server that answered, ``""`` when none is named (hosts file, system resolver).
        is_timeout: the lookup timed out (also makes the error a :class:`TimeoutError`).
        is_temporary: the failure may go away (SERVFAIL, timeouts, socket errors).
        is_not_found: the name or service does not exist (NXDOMAIN, unknown port).
    """

    def __init__(
        self,
        err: str,
        name: str,
        server: str = "",
        is_timeout: bool = False,
        is_temporary: bool = False,
        is_not_found: bool = False,
    ) -> None:
        self.err = err
        self.name = name
        self.server = server
        self.is_timeout = is_timeout
        self.is_temporary = is_temporary
        self.is_not_found = is_not_found
        self.timeout = is_timeout
        if is_timeout:
            self.errno = _errno.ETIMEDOUT
        self.args = (err, name, server, is_timeout, is_temporary, is_not_found)

    @classmethod
    def _builtin_for(
        cls,
        err: str,
        name: str,
        server: str = "",
        is_timeout: bool = False,
        is_temporary: bool = False,
        is_not_found: bool = False,
    ) -> type[OSError] | None:
        return TimeoutError if is_timeout else None

    @property
    def temporary(self) -> bool:
        """Go's ``Temporary()``: ``is_timeout or is_temporary``."""
        return self.is_timeout or self.is_temporary

    def __str__(self) -> str:
        server = f" on {self.server}" if self.server else ""
        return f"lookup {self.name}{server}: {self.err}"


class OpError(_NetError):
    """A failed network operation: Go's ``*net.OpError``.

    ``str()`` is Go's format, ``OP NET SOURCE->ADDR: ERR`` with absent parts left out:
    ``dial tcp 127.0.0.1:1: connect: connection refused``,
    ``dial tcp: lookup nosuch.test: no such host``.

    The error keeps the wrapped error's ``errno`` and is an instance of the builtin subclass that
    ``errno`` selects (a refused dial is a :class:`ConnectionRefusedError`); when the operation
    timed out (``.timeout``), it is a :class:`TimeoutError`.

    Args:
        op: the operation: ``"dial"``, ``"listen"``, ``"accept"``, ``"read"``, ``"write"``,
            ``"close"``.
        net: the network as given (``"tcp"``, ``"udp6"``, ``"unix"``); may be ``""``.
        source: the local address, or None (not known, or an unnamed unix end).
        addr: the remote (dial) or local (listen) address; its text as given (``str``) when
            no typed address is known (a TLS peer that reset before ``getpeername``); None
            when not known yet, as in ``dial tcp: lookup ...``.
        err: the underlying error; never None.

    Attributes:
        op, net, source, addr, err: the arguments; ``source`` is a :class:`TCPAddr`,
            :class:`UDPAddr`, :class:`IPAddr`, :class:`UnixAddr` or None, ``addr`` one of
            those or the address text.
        errno: the wrapped error's errno, or None.
        timeout: whether the operation timed out.
    """

    def __init__(
        self,
        op: str,
        net: str,
        source: Addr | None,
        addr: Addr | str | None,
        err: BaseException,
    ) -> None:
        if err is None:  # pyright: ignore[reportUnnecessaryComparison]
            raise TypeError("OpError needs an err, not None")
        self.op = op
        self.net = net
        self.source = source
        self.addr = addr
        self.err = err
        self.errno = _errno_of(err)
        self.timeout = _is_timeout(err)
        self.args = (op, net, source, addr, err)

    @classmethod
    def _builtin_for(
        cls,
        op: str,
        net: str,
        source: Addr | None,
        addr: Addr | str | None,
        err: BaseException,
    ) -> type[OSError] | None:
        return _builtin_class_for(_errno_of(err), _is_timeout(err))

    def __str__(self) -> str:
        parts = [self.op]
        if self.net:
            parts.append(" " + self.net)
        if self.source is not None:
            parts.append(" " + str(self.source))
        if self.addr is not None:
            parts.append(("->" if self.source is not None else " ") + str(self.addr))
        parts.append(": " + str(self.err))
        return "".join(parts)


class ClosedError(OSError):
    """Go's ``net.ErrClosed``: ``use of closed network connection`` (no errno)."""

    def __init__(self) -> None:
        super().__init__(ERR_CLOSED)

    def __str__(self) -> str:
        return ERR_CLOSED


class _Errno(OSError):
    """A bare errno printed as Go prints a ``syscall.Errno``: ``invalid argument``."""

    def __init__(self, code: int) -> None:
        text = os.strerror(code)
        super().__init__(code, text[:1].lower() + text[1:])

    def __str__(self) -> str:
        return str(self.strerror)


def errno_error(code: int) -> OSError:
    """A bare errno as Go prints a ``syscall.Errno`` (``invalid argument``), errno kept."""
    return _Errno(code)


class WriteToConnectedError(OSError):
    """Go's ``ErrWriteToConnected``; ``errno`` is ``EISCONN``, what the kernel would say."""

    def __init__(self) -> None:
        super().__init__(_errno.EISCONN, ERR_WRITE_TO_CONNECTED)

    def __str__(self) -> str:
        return ERR_WRITE_TO_CONNECTED
