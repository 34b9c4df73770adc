"""A small reverse proxy in front of several web nodes, as a load balancer would be.

    python -m tests.reliability.proxy --port 8000 --upstream 127.0.0.1:8001 --upstream ...

Round robin over the upstreams; a node that refuses the connection is skipped for the next
one (nginx's ``proxy_next_upstream error``: only when nothing was sent, so a request is
never delivered twice), and marked down for a second. A node that dies after the request
was sent answers 502 (the client, or Shopify's webhook retries, send it again). Bodies are
read whole (they are small here); hop-by-hop headers are dropped; ``X-Forwarded-For`` is
appended. Counts what it did in ``GET /_proxy/stats`` (never forwarded).
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}


class Upstreams:
    """The nodes, whose turn it is, and which refused a connection lately."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self._turn = itertools.cycle(range(len(addresses)))
        self._down_until = [0.0] * len(addresses)
        self._lock = threading.Lock()
        self.stats = {"forwarded": 0, "refused_skipped": 0, "bad_gateway": 0,
                      "per_node": {a: 0 for a in addresses}}

    def order(self) -> list[int]:
        """Every node once, starting with the next in turn, nodes marked down last."""
        with self._lock:
            first = next(self._turn)
        now = time.monotonic()
        ring = [(first + i) % len(self.addresses) for i in range(len(self.addresses))]
        return sorted(ring, key=lambda i: self._down_until[i] > now)

    def mark_down(self, index: int) -> None:
        with self._lock:
            self._down_until[index] = time.monotonic() + 1.0
            self.stats["refused_skipped"] += 1

    def count(self, key: str, node: str | None = None) -> None:
        with self._lock:
            self.stats[key] += 1
            if node:
                self.stats["per_node"][node] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstreams: Upstreams

    def log_message(self, *args) -> None:  # quiet
        pass

    def _relay(self) -> None:
        if self.path == "/_proxy/stats":
            return self._answer(200, json.dumps(self.upstreams.stats).encode(),
                                [("Content-Type", "application/json")])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        for index in self.upstreams.order():
            node = self.upstreams.addresses[index]
            host, port = node.rsplit(":", 1)
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            try:
                conn.connect()
            except OSError:
                conn.close()
                self.upstreams.mark_down(index)
                continue  # nothing was sent: the next node may take it
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.upstreams.count("bad_gateway")
                return self._answer(502, b"bad gateway: the node went away", [])
            finally:
                conn.close()
            self.upstreams.count("forwarded", node)
            out = [(k, v) for k, v in response.getheaders()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            return self._answer(response.status, data, out)
        self.upstreams.count("bad_gateway")
        return self._answer(502, b"bad gateway: no node answers", [])

    def _answer(self, status: int, data: bytes, headers: list) -> None:
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay


def serve(port: int, upstreams: list[str]) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"upstreams": Upstreams(upstreams)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
    args = parser.parse_args()
    serve(args.port, args.upstream).serve_forever()


if __name__ == "__main__":
    main()
