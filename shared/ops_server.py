"""The small HTTP endpoint of a process that serves no API (the relay, the notifier's consumer):
`/metrics` (Prometheus), `/healthz` (the process answers) and `/readyz` (`ready()` raises
`NotReady` with a reason, answered as a 503 problem document), in a daemon thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared.problems import PROBLEM_TYPE_BASE
from shared.readiness import NotReady, ReadinessCollector


def serve_ops(
    host: str,
    port: int,
    registry: CollectorRegistry,
    ready: Callable[[], None],
    *,
    process: str | None = None,
) -> ThreadingHTTPServer:
    """Start serving on host:port (0: any free port, see `server.server_port`). With a
    `process` name, `/metrics` also reports `bridges_ready{process}`."""
    if process is not None:
        registry.register(ReadinessCollector(process, ready))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif path == "/healthz":
                self._json(200, "application/json", {"status": "ok"})
            elif path == "/readyz":
                try:
                    ready()
                except Exception as exc:  # noqa: BLE001 - any failure means not ready
                    reason = str(exc) if isinstance(exc, NotReady) else type(exc).__name__
                    self._json(
                        503,
                        "application/problem+json",
                        {
                            "type": PROBLEM_TYPE_BASE + "not-ready",
                            "title": "Not ready",
                            "status": 503,
                            "detail": f"not ready: {reason}",
                        },
                    )
                else:
                    self._json(200, "application/json", {"status": "ready"})
            else:
                self._json(404, "application/json", {"status": "not found"})

        def _json(self, status: int, mimetype: str, body: dict[str, object]) -> None:
            self._send(status, mimetype, json.dumps(body).encode())

        def _send(self, status: int, mimetype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", mimetype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # probes every few seconds would flood the logs

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="ops-http", daemon=True).start()
    return server
