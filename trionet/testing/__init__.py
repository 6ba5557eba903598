"""A fake network for your own tests, and a real loopback blackhole.

:class:`FakeNet` lets a test decide, address by address, what a connect does: connect, be
refused, hang forever (a *blackhole*), or wait and then do one of those. Host names map to
address lists through :attr:`FakeNet.resolver`, which you hand to :class:`trionet.Dialer`. Every
wait is a Trio sleep, so under pytest-trio's ``autojump_clock`` a test can assert **exact** times,
the way Trio's own ``open_tcp_stream`` tests do::

    async def test_fallback_after_300_ms(autojump_clock):
        net = trionet.testing.FakeNet()
        net.add_host("dual.test", ["::1", "127.0.0.1"])
        net.blackhole("::1")
        with net.install():
            stream = await trionet.Dialer(resolver=net.resolver).dial("tcp", "dual.test:80")
        assert trio.current_time() == 0.3
        assert net.connect_times == {"::1": 0.0, "127.0.0.1": 0.3}
        await stream.aclose()
        net.check()                       # every fake socket was closed

:meth:`FakeNet.install` replaces Trio's socket factory (:func:`trio.socket.set_custom_socket_factory`)
for the current :func:`trio.run`: while it is active, every ``trio.socket.socket()`` call for an
IP family returns a :class:`FakeSocket`. Unix-domain sockets stay real. It also isolates name
resolution: :data:`trionet.default_resolver` and ``trio.socket.getaddrinfo`` answer from the
fake's names, and a lookup the fake cannot answer fails at once with a :class:`trionet.DNSError`
saying so. Nothing ever leaves the process. Only dialing is faked: listening, accepting and
unconnected ``sendto``/``recvfrom`` on a fake socket raise ``OSError(EOPNOTSUPP)``.

A connected fake socket talks to an in-memory echo peer: what you send comes back, and after
``send_eof()`` the peer closes too. That is enough for code that writes a request and reads a
reply; it is not a TCP model (no windows, no resets after connect).

:func:`blackhole_listener` is the real-socket counterpart: a loopback port where connects hang.

This package is imported on demand (``import trionet.testing``); the dial and listen code never
imports it (only the ``trionet demo`` command borrows :func:`blackhole_listener`). Its modules
are laid out as :mod:`trio.testing`'s are: this file re-exports, the private modules behind it
hold one job each (``_fake_net`` the scripting, ``_fake_resolver`` the names, ``_fake_socket``
the sockets, ``_blackhole`` the real blackhole, ``_exact`` the clock arithmetic).

Delays are seconds on Trio's clock: 0 is at once, ``math.inf`` never (until cancelled), and a
negative delay raises :class:`ValueError`. A time that is a sum of the script's delays is exact
(``0.1`` then ``0.05`` ends at ``0.15``, not ``0.15000000000000002``).
"""

# Uses `from x import y as y` for pyright --verifytypes, as trio/testing/__init__.py does.
from __future__ import annotations

from ._blackhole import blackhole_listener as blackhole_listener
from ._fake_net import FakeNet as FakeNet
from ._fake_resolver import FakeResolver as FakeResolver
from ._fake_socket import Connect as Connect, FakeSocket as FakeSocket

__all__ = ["Connect", "FakeNet", "FakeResolver", "FakeSocket", "blackhole_listener"]


# Show trionet.testing.X in reprs, tracebacks and the docs, not the private module (as trio does).
def _claim() -> None:
    for name in __all__:
        globals()[name].__module__ = __name__


_claim()
del _claim
