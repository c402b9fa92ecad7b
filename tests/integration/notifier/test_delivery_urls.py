"""Webhook destinations (S6): refused at configuration with a precise message; no network is
needed (literal addresses are judged as they are, `localhost` resolves from /etc/hosts, and
`.invalid` never resolves)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from services.notifier.delivery import (
    InvalidSubscription,
    WebhookUrlRefused,
    create_subscription,
    validate_webhook_url,
)
from services.notifier.delivery.subscriptions import secret_key
from shared.sql import begin_write
from tests.integration.notifier.alerts_world import NOW


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://localhost/hook", "loopback"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.8.9.10:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://10.0.0.1/hook", "private"),
        ("https://172.16.5.4/hook", "private"),
        ("https://192.168.1.1/hook", "private"),
        ("https://[fd12:3456::1]/hook", "private"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://100.64.0.1/hook", "not a public internet address"),
        ("https://192.0.2.10/hook", "private"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("ftp://example.com/hook", "scheme 'ftp' is not allowed"),
        ("gopher://example.com/", "scheme 'gopher' is not allowed"),
        ("example.com/hook", "scheme 'none' is not allowed"),
        ("http://example.com/hook", "must use https"),
        ("http://93.184.215.14/hook", "must use https"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://token@example.com/hook", "credentials"),
        ("https://hooks.example.invalid/hook", "does not resolve"),
        ("https:///hook", "no host"),
        ("https://example.com:99999/hook", "malformed"),
        ("https://example.com/a b", "spaces"),
        ("", "empty"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(WebhookUrlRefused, match=reason):
        validate_webhook_url(url, allow_loopback=False)


def test_public_addresses_pass() -> None:
    assert validate_webhook_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    assert validate_webhook_url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/x")


def test_host_names_pass_only_when_every_address_is_public() -> None:
    public = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert validate_webhook_url("https://example.com/hook", resolve=lambda h, p: public)
    # DNS pointing a public-looking name at the inside (rebinding) is caught by the address.
    with pytest.raises(WebhookUrlRefused, match=r"example\.com \(10\.1\.2\.3\) is a private"):
        validate_webhook_url(
            "https://example.com/hook", resolve=lambda h, p: ["93.184.215.14", "10.1.2.3"]
        )


def test_loopback_only_when_allowed_and_http_only_for_loopback() -> None:
    assert validate_webhook_url("http://127.0.0.1:8080/hook", allow_loopback=True)
    assert validate_webhook_url("http://localhost:8080/hook", allow_loopback=True)
    assert validate_webhook_url("https://[::1]/hook", allow_loopback=True)
    with pytest.raises(WebhookUrlRefused, match="private"):
        validate_webhook_url("http://10.0.0.1/hook", allow_loopback=True)
    with pytest.raises(WebhookUrlRefused, match="must use https"):
        validate_webhook_url("http://93.184.215.14/hook", allow_loopback=True)


def test_refused_when_creating_a_subscription(notifier_engine: Engine) -> None:
    with begin_write(notifier_engine) as connection:
        with pytest.raises(InvalidSubscription, match="link-local") as refused:
            create_subscription(
                connection,
                organisation_id="hope",
                created_by="amina",
                channel="webhook",
                target="https://169.254.169.254/latest/meta-data/",
                now=NOW,
            )
        assert refused.value.field == "target"
        with pytest.raises(InvalidSubscription, match="unknown alert kinds"):
            create_subscription(
                connection,
                organisation_id="hope",
                created_by="amina",
                channel="webhook",
                target="https://93.184.215.14/hook",
                kinds=["everything"],
                now=NOW,
            )
        with pytest.raises(InvalidSubscription, match="not an email address"):
            create_subscription(
                connection,
                organisation_id="hope",
                created_by="amina",
                channel="email",
                target="not-an-address",
                now=NOW,
            )
        created = create_subscription(
            connection,
            organisation_id="hope",
            created_by="amina",
            channel="webhook",
            target="https://93.184.215.14/hook",
            kinds=["payment_overdue"],
            now=NOW,
        )
    assert created.secret is not None and created.secret.startswith("whsec_")
    assert len(secret_key(created.secret)) == 32
    assert created.to_json()["kinds"] == ["payment_overdue"]
    assert "secret" not in created.to_json()
