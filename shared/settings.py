"""Settings from environment variables, with safe defaults for a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """An integer variable; `default` when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    """A number variable; `default` when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_flag(name: str) -> bool | None:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off; None when unset."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; `default` when unset."""
    flag = env_flag(name)
    return default if flag is None else flag


def trusted_proxies_from_env() -> int:
    """How many reverse proxies in front of a service append to `X-Forwarded-For` and may be
    believed (BRIDGES_TRUSTED_PROXIES; 0: none, the socket's peer is the client)."""
    return env_int("BRIDGES_TRUSTED_PROXIES", 0, minimum=0)


def var_dir_path() -> Path:
    return Path(os.environ.get("BRIDGES_VAR_DIR", str(REPO_ROOT / "var")))


def default_ledger_database_url() -> str:
    return f"sqlite:///{var_dir_path() / 'ledger.db'}"


@dataclass(frozen=True)
class LedgerSettings:
    """Everything the ledger reads from its environment."""

    database_url: str = field(default_factory=default_ledger_database_url)
    max_body_bytes: int = 1_000_000
    max_page_size: int = 200
    public_url: str = "http://127.0.0.1:8000"
    # Web forms. secret_key None: a random key per process when testing, else one kept in
    # var_dir/secret_key. secure_cookies None: Secure cookies unless testing.
    secret_key: str | None = None
    secure_cookies: bool | None = None
    var_dir: str = field(default_factory=lambda: str(var_dir_path()))
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # The notifier's HTTP API, which the web pages call for alerts, statements and indicators.
    notifier_url: str = "http://127.0.0.1:8001"
    # Days after a claim closes (paid, rejected, withdrawn) before `bridges people retention`
    # erases its personal fields; 0 keeps them (the default: the organisation decides).
    retention_closed_claim_days: int = 0
    # Reverse proxies in front whose X-Forwarded-For is believed (see shared/http.py).
    trusted_proxies: int = 0
    # Receipts on expense lines: the largest file accepted, and where the bytes are kept
    # ("local": receipts_dir, default var_dir/receipts; "s3": an S3-compatible bucket).
    receipt_max_bytes: int = 10_000_000
    receipts_storage: str = "local"
    receipts_dir: str | None = None
    receipts_s3_bucket: str | None = None
    receipts_s3_endpoint_url: str | None = None
    receipts_s3_region: str | None = None

    @classmethod
    def from_env(cls) -> LedgerSettings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_ledger_database_url(),
            max_body_bytes=env_int("BRIDGES_MAX_BODY_BYTES", 1_000_000),
            max_page_size=env_int("BRIDGES_MAX_PAGE_SIZE", 200),
            public_url=os.environ.get("BRIDGES_LEDGER_URL", "http://127.0.0.1:8000"),
            secret_key=os.environ.get("BRIDGES_SECRET_KEY") or None,
            secure_cookies=env_flag("BRIDGES_SECURE_COOKIES"),
            var_dir=str(var_dir_path()),
            session_hours=env_int("BRIDGES_SESSION_HOURS", 12),
            login_max_failures=env_int("BRIDGES_LOGIN_MAX_FAILURES", 5),
            login_window_seconds=env_int("BRIDGES_LOGIN_WINDOW_SECONDS", 900),
            notifier_url=os.environ.get("BRIDGES_NOTIFIER_URL") or "http://127.0.0.1:8001",
            retention_closed_claim_days=env_int("BRIDGES_RETENTION_CLOSED_CLAIM_DAYS", 0),
            trusted_proxies=trusted_proxies_from_env(),
            receipt_max_bytes=env_int("BRIDGES_RECEIPT_MAX_BYTES", 10_000_000, minimum=1),
            receipts_storage=(os.environ.get("BRIDGES_RECEIPTS_STORAGE") or "local").lower(),
            receipts_dir=os.environ.get("BRIDGES_RECEIPTS_DIR") or None,
            receipts_s3_bucket=os.environ.get("BRIDGES_RECEIPTS_S3_BUCKET") or None,
            receipts_s3_endpoint_url=os.environ.get("BRIDGES_RECEIPTS_S3_ENDPOINT_URL") or None,
            receipts_s3_region=os.environ.get("BRIDGES_RECEIPTS_S3_REGION") or None,
        )


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class KafkaSettings:
    """Where the event topics live and how to reach them (TLS and SASL passed through)."""

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    events_topic: str = "bridges.ledger.events"
    dlq_topic: str = "bridges.ledger.events.dlq"

    @classmethod
    def from_env(cls) -> KafkaSettings:
        protocol = (os.environ.get("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper()
        if protocol not in KAFKA_SECURITY_PROTOCOLS:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(KAFKA_SECURITY_PROTOCOLS)}, "
                f"not {protocol!r}"
            )
        return cls(
            bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092",
            security_protocol=protocol,
            sasl_mechanism=os.environ.get("KAFKA_SASL_MECHANISM") or None,
            sasl_username=os.environ.get("KAFKA_SASL_USERNAME") or None,
            sasl_password=os.environ.get("KAFKA_SASL_PASSWORD") or None,
            ssl_cafile=os.environ.get("KAFKA_SSL_CAFILE") or None,
            ssl_certfile=os.environ.get("KAFKA_SSL_CERTFILE") or None,
            ssl_keyfile=os.environ.get("KAFKA_SSL_KEYFILE") or None,
            events_topic=os.environ.get("BRIDGES_EVENTS_TOPIC") or "bridges.ledger.events",
            dlq_topic=os.environ.get("BRIDGES_DLQ_TOPIC") or "bridges.ledger.events.dlq",
        )


def kafka_client_config(settings: KafkaSettings) -> dict[str, object]:
    """The connection part of a kafka-python client's configuration (producer, consumer or
    admin): bootstrap servers, security protocol, and the TLS/SASL settings that are set."""
    config: dict[str, object] = {
        "bootstrap_servers": [
            s.strip() for s in settings.bootstrap_servers.split(",") if s.strip()
        ],
        "security_protocol": settings.security_protocol,
    }
    optional = {
        "sasl_mechanism": settings.sasl_mechanism,
        "sasl_plain_username": settings.sasl_username,
        "sasl_plain_password": settings.sasl_password,
        "ssl_cafile": settings.ssl_cafile,
        "ssl_certfile": settings.ssl_certfile,
        "ssl_keyfile": settings.ssl_keyfile,
    }
    config.update({name: value for name, value in optional.items() if value is not None})
    if settings.security_protocol.startswith("SASL_") and "sasl_mechanism" not in config:
        config["sasl_mechanism"] = "PLAIN"
    return config
