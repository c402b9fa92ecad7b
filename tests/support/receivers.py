"""Real local receivers for delivery tests: an SMTP server (aiosmtpd) and an HTTP webhook
endpoint (http.server in a thread), both on 127.0.0.1 only; each test module wraps them in
its own fixtures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    accepted: bool


class Inbox:
    """An aiosmtpd handler that keeps every message it is offered (accepted or not)."""

    def __init__(self) -> None:
        self.offered: list[Received] = []
        self.refuse_next_data = 0  # answer 451 (try again later) to the next N messages
        self.unknown_recipients: set[str] = set()  # answered 550 at RCPT
        self._lock = threading.Lock()

    @property
    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.offered if r.accepted]

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.lower() in self.unknown_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            refuse = self.refuse_next_data > 0
            if refuse:
                self.refuse_next_data -= 1
            self.offered.append(Received(list(envelope.rcpt_tos), message, not refuse))
        return "451 4.3.0 Try again later" if refuse else "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int


@contextmanager
def running_smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    port: int
    plan: list[int] = field(default_factory=list)  # statuses to answer, in order; then 200
    hits: list[Hit] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/bridges"


@contextmanager
def running_webhook_receiver() -> Iterator[WebhookReceiver]:
    lock = threading.Lock()
    receiver = WebhookReceiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.hits.append(
                    Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
