"""Serving a sandbox WSGI app on loopback: in a background thread (tests) or forever (CLI)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ssl import SSLContext

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections, as a web server in front of WordPress answers
    (nginx, Apache): werkzeug's default is HTTP/1.0, one connection per request."""

    protocol_version = "HTTP/1.1"


@dataclass
class RunningServer:
    """A server started by :func:`serve_in_thread`; ``url`` has no trailing slash."""

    server: BaseWSGIServer
    thread: threading.Thread
    url: str
    port: int

    def stop(self) -> None:
        """Stop accepting requests and free the port."""
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def start_in_thread(app, *, host: str = "127.0.0.1", port: int = 0,
                    ssl_context: SSLContext | None = None,
                    keep_alive: bool | None = None) -> RunningServer:
    """Start ``app`` on a real socket (port 0 = any free port) in a daemon thread.

    ``keep_alive`` (default: the app's ``sandbox_keep_alive`` attribute) serves HTTP/1.1
    with persistent connections instead of werkzeug's HTTP/1.0.
    """
    if keep_alive is None:
        keep_alive = getattr(app, "sandbox_keep_alive", False)
    server = make_server(host, port, app, threaded=True, ssl_context=ssl_context,
                         request_handler=KeepAliveHandler if keep_alive else None)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi:{server.server_port}",
                              daemon=True)
    thread.start()
    scheme = "https" if ssl_context else "http"
    return RunningServer(server, thread, f"{scheme}://{host}:{server.server_port}",
                         server.server_port)


@contextmanager
def serve_in_thread(app, **kwargs) -> Iterator[RunningServer]:
    """Context manager around :func:`start_in_thread` that always stops the server."""
    running = start_in_thread(app, **kwargs)
    try:
        yield running
    finally:
        running.stop()
