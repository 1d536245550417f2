"""A TCP relay on loopback that can be cut and restored, to take a server away from an app.

    with TcpRelay("127.0.0.1", 5432) as relay:   # the app connects to relay.port
        relay.cut()       # live connections dropped, new ones refused: "the server is down"
        relay.restore()   # listening again on the same port: "the server is back"

Threads, not asyncio: a relay lives beside a Flask test client or a gunicorn process.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpRelay:
    """Forwards every connection on 127.0.0.1:``port`` to ``target``; ``cut`` plays an outage."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __enter__(self) -> TcpRelay:
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(5)

    @property
    def up(self) -> bool:
        return self._listener is not None

    def restore(self) -> None:
        """Listen again (on the same port after a cut), as a restarted server would."""
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._start(self._accept, listener)

    def cut(self) -> None:
        """Stop listening and drop every live connection, as a stopped server does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            live, self._sockets = self._sockets, set()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # One side ended: end the other too, and forget both.
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                known = source in self._sockets or sink in self._sockets
                self._sockets.discard(source)
                self._sockets.discard(sink)
            if known:
                source.close()
                sink.close()
