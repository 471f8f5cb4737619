"""A loopback TCP proxy in front of Neo4j's Bolt port that can lose a commit's answer.

Armed with a marker (bytes of a Cypher query), it watches what the driver sends: once a
transaction has run a query containing the marker, its COMMIT message is either passed
to Neo4j and the connection then cut before the answer comes back (`after`: stored, but
the driver cannot know), or the connection is cut instead of sending it (`before`:
never stored). Either way the driver raises `IncompleteCommit`. Disarms after one cut.
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

__all__ = ["BoltProxy", "Cut"]

# A Bolt COMMIT message on the wire: chunk of 2 bytes (struct marker, signature 0x12),
# then the 0x0000 end-of-message marker.
COMMIT_MESSAGE = b"\x00\x02\xb0\x12\x00\x00"
Cut = Literal["before", "after"]


class BoltProxy:
    """`uri` forwards to `target_port`; `arm(marker, cut)` loses the next such commit."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._armed: tuple[bytes, Cut] | None = None
        self._lock = threading.Lock()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def arm(self, marker: bytes, cut: Cut) -> None:
        with self._lock:
            self._armed = (marker, cut)

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._upstream, args=(client, server), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client), daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        """Driver -> Neo4j, watching for the armed transaction's COMMIT."""
        seen_marker = False
        while data := _receive(client):
            armed = self._armed
            seen_marker = seen_marker or (armed is not None and armed[0] in data)
            if seen_marker and armed is not None and COMMIT_MESSAGE in data:
                self._disarm()
                _close(client)  # the driver never hears how the commit went
                if armed[1] == "after":
                    server.sendall(data)  # Neo4j commits; its answer goes nowhere
                else:
                    _close(server)
                return
            server.sendall(data)
        _close(client, server)

    def _disarm(self) -> None:
        with self._lock:
            self._armed = None
            self.cuts += 1


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 16)
    except OSError:
        return b""


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    while data := _receive(source):
        try:
            sink.sendall(data)
        except OSError:
            break
    _close(source, sink)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
