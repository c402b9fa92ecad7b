"""`bridges notifier …`: run the consumer, serve the API, evaluate the rules as at a date,
rebuild the read model from the topic."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from services.backup_commands import add_backup_commands
from shared import clock
from shared.calendar import london_date
from shared.settings import REPO_ROOT, KafkaSettings, kafka_client_config

if TYPE_CHECKING:
    from services.notifier.ops import Letter


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


add_backup_commands(
    notifier_db,
    database_option,
    lambda database_url: str(_settings(database_url).database_url),
    backup_help="Back up the notifier's database to FILE, safe while it runs: SQLite with its "
    "online backup API, PostgreSQL with pg_dump --format=custom.",
    restore_help="Replace the notifier's database with a backup made by `bridges notifier db "
    "backup` (stop the notifier first), then run `bridges notifier db upgrade`.",
)


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
    help="Drop the read model and replay every event into it until caught up. Alerts, "
    "deliveries and statements are kept (each alert is raised once, ever). By default the "
    "events topic is replayed from offset 0 (the consumer group's stored offsets and processed "
    "ids are forgotten). If the topic is lost or truncated, use --from-ledger with the LEDGER'S "
    "DATABASE URL: the read model is rebuilt from the ledger's event store (the feed the relay "
    "publishes), and the stored offsets are forgotten so the consumer then reads the (new) topic "
    "from its start, skipping by event id what is already applied. Stop `bridges notifier run` "
    "first.",
)
@database_option
@click.option("--group", envvar="BRIDGES_NOTIFIER_GROUP", default="notifier", show_default=True)
@click.option(
    "--from-ledger",
    "ledger_url",
    default=None,
    metavar="LEDGER_DATABASE_URL",
    help="Rebuild from the ledger's event store at this SQLAlchemy URL instead of the topic.",
)
@click.option(
    "--dry-run", is_flag=True, help="Say what would be cleared and replayed; change nothing."
)
@click.option(
    "--batch-size",
    envvar="BRIDGES_NOTIFIER_REBUILD_BATCH_SIZE",
    default=None,
    type=click.IntRange(min=1),
    help="Most records applied in one transaction while replaying the topic "
    "(default: services/notifier/rebuild.py REBUILD_BATCH_SIZE, 2,000).",
)
def notifier_rebuild(
    database_url: str | None,
    group: str,
    ledger_url: str | None,
    dry_run: bool,
    batch_size: int | None,
) -> None:
    from services.notifier.ops import read_model_counts, rebuild_from_feed
    from services.notifier.rebuild import rebuild

    settings, engine = _engine(database_url)
    counts = read_model_counts(engine)
    kafka = KafkaSettings.from_env()
    if ledger_url:
        from services.ledger.store import EventStore, make_engine

        ledger_engine = make_engine(ledger_url)
        store = EventStore(ledger_engine)
        if dry_run:
            click.echo(
                f"dry run: would clear {counts} and apply {store.last_position()} events "
                "from the ledger's store"
            )
            return
        from services.notifier.keys import DatabaseKeySource, KeyRing

        applied = rebuild_from_feed(
            engine, store.read_feed, now=clock.now, keys=KeyRing(DatabaseKeySource(ledger_engine))
        )
        ledger_engine.dispose()
        click.echo(f"read model rebuilt from the ledger's store: {applied} events applied")
        return
    if dry_run:
        from services.notifier.ops import topic_bounds

        earliest, latest = topic_bounds(kafka_client_config(kafka), kafka.events_topic)
        records = sum(latest[p] - earliest[p] for p in latest)
        click.echo(
            f"dry run: would clear {counts} and replay {records} records of {kafka.events_topic}"
        )
        return
    applied = rebuild(
        engine,
        kafka_client_config(kafka),
        kafka.events_topic,
        kafka.dlq_topic,
        group,
        keys=settings.key_ring(),
        **({"batch_size": batch_size} if batch_size else {}),
    )
    click.echo(f"read model rebuilt from {kafka.events_topic}: {applied} events applied")


@notifier.group("dlq", help="The dead-letter topic: records the consumer could not read.")
def notifier_dlq() -> None:
    pass


def _letters() -> tuple[KafkaSettings, list[Letter]]:
    from services.notifier.ops import read_letters

    kafka = KafkaSettings.from_env()
    return kafka, read_letters(kafka_client_config(kafka), kafka.dlq_topic)


@notifier_dlq.command(
    "list", help="List the dead letters: partition, offset, time, event type and reason."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the default is text).")
def notifier_dlq_list(as_json: bool) -> None:
    kafka, letters = _letters()
    if as_json:
        click.echo(json.dumps([letter.summary() for letter in letters], indent=2))
        return
    click.echo(f"{len(letters)} dead letters on {kafka.dlq_topic}")
    for letter in letters:
        row = letter.summary()
        click.echo(
            f"{row['partition']}/{row['offset']}  {row['time']}  {row['type'] or '-'}  "
            f"{row['reason']}"
        )


def _parse_where(where: str) -> tuple[int, int]:
    try:
        partition, offset = (int(part) for part in where.split("/"))
    except ValueError:
        raise click.BadParameter("give PARTITION/OFFSET, e.g. 0/12") from None
    return partition, offset


@notifier_dlq.command(
    "show", help="Show one dead letter, PARTITION/OFFSET (as `dlq list` prints): headers and body."
)
@click.argument("where")
def notifier_dlq_show(where: str) -> None:
    from services.notifier.ops import find_letter

    partition, offset = _parse_where(where)
    _, letters = _letters()
    letter = find_letter(letters, partition, offset)
    if letter is None:
        raise click.ClickException(f"no dead letter at {where}")
    click.echo(json.dumps(letter.to_json(), indent=2))


@notifier_dlq.command(
    "redrive",
    help="Publish dead letters again to the events topic (original key, value and headers) so "
    "the consumer applies them, once the notifier can read them (e.g. after an upgrade that "
    "knows a new event type). The consumer skips events it already applied, by event id, so "
    "redriving twice is harmless. The dead letters stay on the dead-letter topic.",
)
@click.option("--all", "everything", is_flag=True, help="Redrive every dead letter.")
@click.option("--partition", type=int, default=None, help="The dead letter's partition.")
@click.option("--offset", type=int, default=None, help="The dead letter's offset.")
@click.option("--dry-run", is_flag=True, help="Say what would be published; publish nothing.")
def notifier_dlq_redrive(
    everything: bool, partition: int | None, offset: int | None, dry_run: bool
) -> None:
    from services.notifier.ops import find_letter, redrive

    if everything == (partition is not None or offset is not None):
        raise click.UsageError("give either --all or --partition P --offset O")
    if not everything and (partition is None or offset is None):
        raise click.UsageError("give both --partition and --offset")
    kafka, letters = _letters()
    if not everything:
        assert partition is not None and offset is not None  # noqa: S101 - checked above
        letter = find_letter(letters, partition, offset)
        if letter is None:
            raise click.ClickException(f"no dead letter at {partition}/{offset}")
        letters = [letter]
    for letter in letters:
        click.echo(f"{letter.partition}/{letter.offset}  {letter.event_type or '-'}")
    if dry_run:
        click.echo(f"dry run: would publish {len(letters)} records to {kafka.events_topic}")
        return
    count = redrive(kafka_client_config(kafka), kafka.events_topic, letters)
    click.echo(f"published {count} records to {kafka.events_topic}")


@notifier.command(
    "reset-offsets",
    help="Move the consumer group's position on the events topic. The notifier keeps its "
    "consumed offsets in ITS OWN DATABASE (with the effects, for exactly-once), so this "
    "rewrites those rows; Kafka's copy only serves monitoring. Going back (--to earliest, or "
    "an earlier --offset) replays records: events already applied are skipped by event id, so "
    "nothing is applied or alerted twice. Going forward (--to latest, or a later --offset) "
    "SKIPS records: their changes never reach the read model and their alerts are never raised "
    "(rebuild later to repair the read model). Refused while any member of the group is "
    "running (stop `bridges notifier run` first) unless --force.",
)
@database_option
@click.option("--group", envvar="BRIDGES_NOTIFIER_GROUP", default="notifier", show_default=True)
@click.option("--to", "to", type=click.Choice(["earliest", "latest", "offset"]), required=True)
@click.option("--offset", type=int, default=None, help="With --to offset: the next offset to read.")
@click.option(
    "--partition", "partitions", type=int, multiple=True, help="Only this partition (repeatable)."
)
@click.option("--dry-run", is_flag=True, help="Print the change; write nothing.")
@click.option("--force", is_flag=True, help="Reset even while consumers of the group run.")
def notifier_reset_offsets(
    database_url: str | None,
    group: str,
    to: str,
    offset: int | None,
    partitions: tuple[int, ...],
    dry_run: bool,
    force: bool,
) -> None:
    from services.notifier.ops import active_members, apply_reset, plan_reset, topic_bounds

    if to == "offset" and offset is None:
        raise click.UsageError("--to offset needs --offset N")
    _, engine = _engine(database_url)
    kafka = KafkaSettings.from_env()
    config = kafka_client_config(kafka)
    members = active_members(config, group)
    if members and not force:
        raise click.ClickException(
            f"group {group} has {len(members)} running member(s): {', '.join(members)}; "
            "stop them first (or --force)"
        )
    earliest, latest = topic_bounds(config, kafka.events_topic)
    try:
        changes = plan_reset(
            engine,
            group=group,
            topic=kafka.events_topic,
            earliest=earliest,
            latest=latest,
            to=to,
            offset=offset,
            partitions=partitions,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    for change in changes:
        before = "-" if change.before is None else change.before
        click.echo(f"partition {change.partition}: {before} -> {change.after}")
    if dry_run:
        click.echo("dry run: nothing written")
        return
    apply_reset(engine, group=group, topic=kafka.events_topic, changes=changes, now=clock.now())
    click.echo(f"offsets of group {group} on {kafka.events_topic} reset")


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
