"""NotifierSettings from the environment: defaults for a laptop, precise errors otherwise."""

from __future__ import annotations

import pytest

from services.notifier.settings import NotifierSettings
from shared.settings import REPO_ROOT


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTIFIER_DATABASE_URL", "BRIDGES_VAR_DIR", "BRIDGES_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = NotifierSettings.from_env()
    assert settings.database_url == f"sqlite:///{REPO_ROOT / 'var' / 'notifier.db'}"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)
    assert settings.webhook_allow_loopback is False
    assert settings.tick_seconds == 60
    assert settings.delivery_max_attempts >= 1


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGES_VAR_DIR", "/srv/bridges")
    monkeypatch.setenv("BRIDGES_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("BRIDGES_SMTP_PORT", "587")
    monkeypatch.setenv("BRIDGES_SMTP_STARTTLS", "yes")
    monkeypatch.setenv("BRIDGES_SMTP_USERNAME", "bridges")
    monkeypatch.setenv("BRIDGES_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("BRIDGES_WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("BRIDGES_NOTIFIER_TICK_SECONDS", "15")
    monkeypatch.setenv("BRIDGES_DELIVERY_MAX_ATTEMPTS", "4")
    settings = NotifierSettings.from_env()
    assert settings.database_url == "sqlite:////srv/bridges/notifier.db"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.example.org",
        587,
        True,
    )
    assert (settings.smtp_username, settings.smtp_password) == ("bridges", "s3cret")
    assert settings.webhook_allow_loopback is True
    assert (settings.tick_seconds, settings.delivery_max_attempts) == (15, 4)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", "postgresql+psycopg://n@db/notifier")
    assert NotifierSettings.from_env().database_url == "postgresql+psycopg://n@db/notifier"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIDGES_SMTP_PORT", "smtp", "BRIDGES_SMTP_PORT must be an integer"),
        ("BRIDGES_NOTIFIER_TICK_SECONDS", "0", "must be at least 1"),
        ("BRIDGES_WEBHOOK_ALLOW_LOOPBACK", "maybe", "must be true or false"),
        ("BRIDGES_NOTIFIER_DIGEST_HOUR", "24", "0 to 23"),
        ("BRIDGES_DELIVERY_JITTER", "2", "between 0 and 1"),
    ],
)
def test_bad_values_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        NotifierSettings.from_env()
