"""`bridges notifier …`: run the consumer, serve the API, evaluate the rules as at a date,
rebuild the read model from the topic."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import click

from shared import clock
from shared.calendar import london_date
from shared.settings import REPO_ROOT, KafkaSettings, kafka_client_config


def _settings(database_url: str | None):  # type: ignore[no-untyped-def]
    from services.notifier.settings import NotifierSettings

    settings = NotifierSettings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    return settings


def _engine(database_url: str | None):  # type: ignore[no-untyped-def]
    from services.notifier.store.migrate import upgrade
    from shared.sql import make_engine

    settings = _settings(database_url)
    upgrade(settings.database_url)
    return settings, make_engine(settings.database_url)


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


database_option = click.option(
    "--database-url",
    envvar="NOTIFIER_DATABASE_URL",
    default=None,
    help="The notifier's own database (env NOTIFIER_DATABASE_URL; default SQLite in var/).",
)


@click.group(help="The notifier: alerts, statements and equity indicators from the events.")
def notifier() -> None:
    pass


@notifier.group("db", help="The notifier's own database.")
def notifier_db() -> None:
    pass


@notifier_db.command(
    "upgrade", help="Create or upgrade the notifier's schema to the newest migration."
)
@database_option
def notifier_db_upgrade(database_url: str | None) -> None:
    from services.notifier.store.migrate import upgrade

    settings = _settings(database_url)
    _ensure_sqlite_dir(settings.database_url)
    upgrade(settings.database_url)
    click.echo("notifier database at head")


@notifier_db.command(
    "check",
    help="Say whether the notifier's database is at the newest migration (for deploy "
    "pipelines). Exit status: 0 at head, 1 not at head (it says which revision it is at, and "
    "head), 3 the database does not answer.",
)
@database_option
def notifier_db_check(database_url: str | None) -> None:
    from services.notifier.store.migrate import check
    from shared.migrations import check_report

    status, line = check_report("notifier", _settings(database_url).database_url, check)
    click.echo(line, err=status != 0)
    sys.exit(status)


@notifier.command("run", help="Consume the events topic and run the scheduler's tick.")
@database_option
@click.option(
    "--group",
    envvar="BRIDGES_NOTIFIER_GROUP",
    default="notifier",
    show_default=True,
    help="Kafka consumer group; instances in one group share the partitions.",
)
@click.option(
    "--metrics-port",
    envvar="BRIDGES_NOTIFIER_METRICS_PORT",
    default=9465,
    show_default=True,
    type=int,
    help="Prometheus metrics port (0 to disable).",
)
@click.option(
    "--batch-size",
    envvar="BRIDGES_NOTIFIER_BATCH_SIZE",
    default=500,
    show_default=True,
    type=int,
    help="Most records applied in one transaction.",
)
@click.option(
    "--session-timeout-ms",
    envvar="BRIDGES_NOTIFIER_SESSION_TIMEOUT_MS",
    default=10_000,
    show_default=True,
    type=int,
    help="How soon the group notices a dead instance and moves its partitions.",
)
@click.option(
    "--instance-id",
    envvar="BRIDGES_NOTIFIER_INSTANCE_ID",
    default=None,
    help="A stable name for this instance (e.g. its host name): a restarted instance takes "
    "its partitions back at once instead of waiting for the session timeout.",
)
def notifier_run(
    database_url: str | None,
    group: str,
    metrics_port: int,
    batch_size: int,
    session_timeout_ms: int,
    instance_id: str | None,
) -> None:
    from services.notifier.runner import run_notifier

    settings, engine = _engine(database_url)
    kafka = KafkaSettings.from_env()
    config = {
        **kafka_client_config(kafka),
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": max(session_timeout_ms // 3, 500),
    }
    if instance_id:
        config["group_instance_id"] = instance_id
    run_notifier(
        engine,
        settings=settings,
        kafka_config=config,
        max_records=batch_size,
        topic=kafka.events_topic,
        dlq_topic=kafka.dlq_topic,
        group=group,
        metrics_port=metrics_port,
    )


@notifier.command("serve", help="Serve the notifier API under gunicorn.")
@click.option("--host", envvar="BRIDGES_NOTIFIER_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="BRIDGES_NOTIFIER_PORT", default=8001, show_default=True, type=int)
@database_option
def notifier_serve(host: str, port: int, database_url: str | None) -> None:
    settings, _ = _engine(database_url)
    os.environ["NOTIFIER_DATABASE_URL"] = settings.database_url
    config = REPO_ROOT / "deploy" / "gunicorn.conf.py"
    argv = ["gunicorn", "--bind", f"{host}:{port}"]
    if config.exists():
        argv += ["--config", str(config)]
    argv += ["--workers", os.environ.get("BRIDGES_NOTIFIER_WORKERS", "2")]
    argv.append("services.notifier.api.app:create_app()")
    os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - our own argv


@notifier.command(
    "check",
    help="Evaluate every alert rule as at a date, raise what holds and print it (deliveries "
    "are queued for the running notifier to send).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to evaluate (default today).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be raised; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the raised alerts as JSON.")
@database_option
def notifier_check(
    as_of: datetime | None, dry_run: bool, as_json: bool, database_url: str | None
) -> None:
    from services.notifier.scheduler import check, format_report

    _, engine = _engine(database_url)
    now = clock.now()
    day: date = as_of.date() if as_of else london_date(now)
    raised = check(engine, day, now, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps([alert.to_json() for alert in raised], indent=2))
    else:
        click.echo(format_report(day, raised, dry_run=dry_run))


@notifier.command("send", help="Send the deliveries that are due now, once, and exit.")
@database_option
def notifier_send(database_url: str | None) -> None:
    from services.notifier.delivery import dispatch_due

    settings, engine = _engine(database_url)
    counts = dispatch_due(engine, clock.now(), settings)
    click.echo(json.dumps(counts.to_json()))


@notifier.command(
    "rebuild",
    help="Drop the read model and replay the events topic from the start until caught up. "
    "Alerts already raised are kept (each is raised once, ever).",
)
@database_option
@click.option("--group", envvar="BRIDGES_NOTIFIER_GROUP", default="notifier", show_default=True)
def notifier_rebuild(database_url: str | None, group: str) -> None:
    from services.notifier.rebuild import rebuild

    _, engine = _engine(database_url)
    kafka = KafkaSettings.from_env()
    applied = rebuild(
        engine, kafka_client_config(kafka), kafka.events_topic, kafka.dlq_topic, group
    )
    click.echo(f"read model rebuilt from {kafka.events_topic}: {applied} events applied")


@notifier.command("openapi", help="Print the notifier's OpenAPI document, or write it to a file.")
@click.option("--write", "path", type=click.Path(dir_okay=False), default=None)
def notifier_openapi(path: str | None) -> None:
    from pathlib import Path

    from services.notifier.api.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if path:
        Path(path).write_text(text)
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)
