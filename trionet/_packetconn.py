"""PacketConn: a datagram, raw-IP, unixgram or unixpacket socket with Go's address rules.

(Interim minimal version; the full one lands with the listen work.)
"""

from __future__ import annotations

from typing import final

import trio

__all__ = ["PacketConn"]


@final
class PacketConn:
    """A message-oriented connection: UDP, raw IP, ``unixgram`` or ``unixpacket``.

    Args:
        socket: the trio socket, already bound and (for a dial) connected.
        network: the network it was made for (``"udp"``, ``"ip4:icmp"``, ``"unixgram"``).
    """

    def __init__(self, socket: trio.socket.SocketType, network: str) -> None:
        self.socket = socket
        self.network = network

    async def aclose(self) -> None:
        """Close the socket."""
        self.socket.close()
        await trio.lowlevel.checkpoint()
