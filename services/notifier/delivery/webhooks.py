"""Signed webhooks, the Standard Webhooks way.

Headers: ``webhook-id`` (the delivery's stable message id: the same on every retry, so a
receiver can dedupe), ``webhook-timestamp`` (unix seconds of this attempt) and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where
the key is the bytes behind the subscription's ``whsec_`` secret. The body is JSON:
``{"type": "alert.raised", "timestamp": …, "data": {…the alert…}}``.

Requests go out without proxies from the environment and without following redirects (a
redirect could point anywhere, past the URL checks); the destination is re-validated first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from .subscriptions import secret_key
from .urls import validate_webhook_url

USER_AGENT = "Bridges-Notifier/1 (+standard-webhooks)"


@dataclass(frozen=True)
class WebhookResult:
    """How one POST went: `sent` on 2xx; `gone` on 410 (stop the subscription)."""

    sent: bool
    status_code: int | None
    detail: str

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def body_of(payload: Mapping[str, Any]) -> str:
    """The exact JSON text that is signed and sent."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers_for(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def send_webhook(
    url: str,
    secret: str,
    message_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    timeout_seconds: float,
    allow_loopback: bool,
) -> WebhookResult:
    """POST one signed webhook. Raises WebhookUrlRefused if the URL no longer passes."""
    validate_webhook_url(url, allow_loopback)
    body = body_of(payload)
    timestamp = int(now.timestamp())
    headers = headers_for(secret, message_id, timestamp, body)
    if payload.get("correlation_id"):
        # The ledger request that caused it: the receiver can quote it to support.
        headers["x-correlation-id"] = str(payload["correlation_id"])
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        try:
            response = session.post(
                url,
                data=body.encode("utf-8"),
                headers=headers,
                timeout=timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return WebhookResult(False, None, f"{type(error).__name__}: {error}"[:500])
    with response:
        code = response.status_code
        if 200 <= code < 300:
            return WebhookResult(True, code, f"HTTP {code}")
        return WebhookResult(False, code, f"HTTP {code} {response.reason or ''}".strip())
