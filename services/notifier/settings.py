"""Everything the notifier reads from its environment, with safe defaults for a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.settings import (
    env_bool,
    env_float,
    env_int,
    trusted_proxies_from_env,
    var_dir_path,
)

if TYPE_CHECKING:
    from .keys import KeyRing


def default_notifier_database_url() -> str:
    return f"sqlite:///{var_dir_path() / 'notifier.db'}"


def _text(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _optional(name: str) -> str | None:
    return os.environ.get(name) or None


@dataclass(frozen=True)
class NotifierSettings:
    """The notifier's configuration. Every field has an environment variable (see from_env)."""

    database_url: str = field(default_factory=default_notifier_database_url)
    # Email (BRIDGES_SMTP_*). The default is a local development relay (e.g. aiosmtpd).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Bridges <alerts@bridges.localhost>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    # Webhooks: loopback destinations only for tests and local demos; never in production.
    webhook_allow_loopback: bool = False
    webhook_timeout_seconds: float = 5.0
    # Delivery retries: exponential backoff from `base`, capped, with up to `jitter` (a
    # fraction) taken off each delay at random; a delivery is failed after `max_attempts`.
    delivery_max_attempts: int = 8
    delivery_backoff_base_seconds: float = 30.0
    delivery_backoff_cap_seconds: float = 3600.0
    delivery_jitter: float = 0.5
    # A claimed delivery is left to its dispatcher this long before another may take it.
    delivery_lease_seconds: int = 120
    delivery_batch_size: int = 100
    # The scheduler: its period, and the Europe/London hour from which daily digests go out.
    tick_seconds: int = 60
    digest_hour: int = 7
    # Where the data keys that open sealed personal fields come from: the ledger's URL (its
    # internal API), or the ledger's database URL on a single machine; and how many to cache.
    keys_url: str = "http://127.0.0.1:8000"
    key_cache_size: int = 10_000
    # Reverse proxies in front of the API whose X-Forwarded-For is believed.
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls) -> NotifierSettings:
        digest_hour = env_int("BRIDGES_NOTIFIER_DIGEST_HOUR", 7, minimum=0)
        if digest_hour > 23:
            raise ValueError(f"BRIDGES_NOTIFIER_DIGEST_HOUR must be 0 to 23, not {digest_hour}")
        jitter = env_float("BRIDGES_DELIVERY_JITTER", 0.5, minimum=0)
        if jitter > 1:
            raise ValueError(f"BRIDGES_DELIVERY_JITTER must be between 0 and 1, not {jitter}")
        return cls(
            database_url=_text("NOTIFIER_DATABASE_URL", default_notifier_database_url()),
            smtp_host=_text("BRIDGES_SMTP_HOST", "127.0.0.1"),
            smtp_port=env_int("BRIDGES_SMTP_PORT", 1025, minimum=1),
            smtp_from=_text("BRIDGES_SMTP_FROM", "Bridges <alerts@bridges.localhost>"),
            smtp_username=_optional("BRIDGES_SMTP_USERNAME"),
            smtp_password=_optional("BRIDGES_SMTP_PASSWORD"),
            smtp_starttls=env_bool("BRIDGES_SMTP_STARTTLS", False),
            smtp_timeout_seconds=env_float("BRIDGES_SMTP_TIMEOUT_SECONDS", 10.0, minimum=0.1),
            webhook_allow_loopback=env_bool("BRIDGES_WEBHOOK_ALLOW_LOOPBACK", False),
            webhook_timeout_seconds=env_float("BRIDGES_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            delivery_max_attempts=env_int("BRIDGES_DELIVERY_MAX_ATTEMPTS", 8, minimum=1),
            delivery_backoff_base_seconds=env_float(
                "BRIDGES_DELIVERY_BACKOFF_BASE_SECONDS", 30.0, minimum=0
            ),
            delivery_backoff_cap_seconds=env_float(
                "BRIDGES_DELIVERY_BACKOFF_CAP_SECONDS", 3600.0, minimum=0
            ),
            delivery_jitter=jitter,
            delivery_lease_seconds=env_int("BRIDGES_DELIVERY_LEASE_SECONDS", 120, minimum=1),
            delivery_batch_size=env_int("BRIDGES_DELIVERY_BATCH_SIZE", 100, minimum=1),
            tick_seconds=env_int("BRIDGES_NOTIFIER_TICK_SECONDS", 60, minimum=1),
            digest_hour=digest_hour,
            keys_url=_text("BRIDGES_NOTIFIER_KEYS_URL", "http://127.0.0.1:8000"),
            key_cache_size=env_int("BRIDGES_NOTIFIER_KEY_CACHE_SIZE", 10_000, minimum=1),
            trusted_proxies=trusted_proxies_from_env(),
        )

    def key_ring(self) -> KeyRing:
        """The data keys, from `keys_url`, signed with the key both services share."""
        from shared.tokens import token_key

        from .keys import KeyRing, key_source

        return KeyRing(key_source(self.keys_url, token_key(var_dir_path())), self.key_cache_size)
