"""The notifier's operations commands against the real broker: rebuild (from the topic and
from the ledger's store), the dead-letter topic (list, show, redrive) and reset-offsets."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from kafka import KafkaProducer
from sqlalchemy import select

from services.cli import main
from services.notifier.consumer import EventConsumer, stored_offsets
from services.notifier.rebuild import REBUILD_BATCH_SIZE, clear_read_model
from services.notifier.store import tables
from shared.settings import KafkaSettings, kafka_client_config
from shared.sql import make_engine
from tests.integration.notifier_kafka.conftest import Consumed
from tests.support.clock import TEST_TODAY, RunningClock
from tests.support.kafka import read_topic, records_per_poll, topic_size
from tests.support.ledger_events import ledger_history
from tests.support.notifier_run import consume_all, snapshot

START = TEST_TODAY - timedelta(days=75)


def bridges(settings: KafkaSettings, *args: str, keys_url: str | None = None) -> Result:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "BRIDGES_EVENTS_TOPIC": settings.events_topic,
        "BRIDGES_DLQ_TOPIC": settings.dlq_topic,
        # Sealed personal fields open with the keys in the ledger's database.
        "BRIDGES_NOTIFIER_KEYS_URL": keys_url or "",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_every_notifier_operations_command_has_help() -> None:
    for command in (
        ["notifier", "rebuild"],
        ["notifier", "dlq", "list"],
        ["notifier", "dlq", "show"],
        ["notifier", "dlq", "redrive"],
        ["notifier", "reset-offsets"],
    ):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    for command in (["notifier", "rebuild"], ["notifier", "dlq", "redrive"]):
        assert "--dry-run" in CliRunner().invoke(main, [*command, "--help"]).output
    reset = CliRunner().invoke(main, ["notifier", "reset-offsets", "--help"]).output
    assert "--dry-run" in reset and "SKIPS" in reset and "event id" in reset


def rebuild_by_command(
    settings: KafkaSettings, notifier_url: str, group: str, *extra: str, keys_url: str
) -> Result:
    """`bridges notifier rebuild` from the topic, as consumer group `group`."""
    return bridges(
        settings,
        "notifier",
        "rebuild",
        "--database-url",
        notifier_url,
        "--group",
        group,
        *extra,
        keys_url=keys_url,
    )


def test_rebuild_from_the_topic_and_from_the_ledgers_store(
    sqlite_url: str, notifier_url: str, kafka_settings: KafkaSettings, consumed: Consumed
) -> None:
    engine = consumed.engine
    live = snapshot(engine)
    assert live["nf_claims"]

    dry = bridges(
        kafka_settings, "notifier", "rebuild", "--database-url", notifier_url, "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "replay" in dry.output
    assert snapshot(engine) == live

    # The topic is lost: rebuild from the ledger's store.
    clear_read_model(engine)
    dry = bridges(
        kafka_settings,
        "notifier",
        "rebuild",
        "--database-url",
        notifier_url,
        "--from-ledger",
        sqlite_url,
        "--dry-run",
    )
    assert dry.exit_code == 0, dry.output
    assert not snapshot(engine)["nf_claims"], "a dry run changes nothing"
    done = bridges(
        kafka_settings,
        "notifier",
        "rebuild",
        "--database-url",
        notifier_url,
        "--from-ledger",
        sqlite_url,
    )
    assert done.exit_code == 0, done.output
    assert snapshot(engine) == live
    with engine.connect() as connection:
        assert not connection.execute(select(tables.consumer_offsets)).all()
    # The consumer then reads the topic from its start and applies nothing twice.
    again = consume_all(
        engine, kafka_settings, ledger_url=consumed.ledger_url, group=consumed.group
    )
    assert again.applied_total == 0
    assert snapshot(engine) == live

    # And from the topic, by the command.
    clear_read_model(engine)
    done = rebuild_by_command(kafka_settings, notifier_url, "g2", keys_url=sqlite_url)
    assert done.exit_code == 0, done.output
    assert snapshot(engine) == live


def _dead_letter(producer: KafkaProducer, topic: str, record: Any, reason: str) -> None:
    headers = [
        *record.headers,
        ("dlq_reason", reason.encode()),
        ("dlq_topic", b"bridges.ledger.events"),
        ("dlq_partition", b"3"),
        ("dlq_offset", b"41"),
    ]
    producer.send(topic, key=record.key, value=record.value, headers=headers).get(timeout=30)


def test_dead_letters_list_show_and_redrive(
    sqlite_url: str, notifier_url: str, kafka_settings: KafkaSettings, events_topic: str
) -> None:
    history = ledger_history(sqlite_url, START)
    good = history.records()
    held_back = good[-1]
    producer = KafkaProducer(acks="all", **kafka_client_config(kafka_settings))
    for record in good[:-1]:
        producer.send(events_topic, key=record.key, value=record.value, headers=record.headers)
    producer.send(
        events_topic,
        key=b"poison",
        value=b"{malformed",
        headers=list(dict(good[0].headers).items()),
    )
    producer.flush()
    # As if an older notifier could not read the last event (say, a newer schema version).
    _dead_letter(producer, kafka_settings.dlq_topic, held_back, "unknown schema version")
    producer.close()
    engine = make_engine(notifier_url)
    consume_all(engine, kafka_settings, ledger_url=sqlite_url, group="notifier")
    before = snapshot(engine)

    listed = bridges(kafka_settings, "notifier", "dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    letters = json.loads(listed.output)
    assert len(letters) == 2
    reasons = sorted(letter["reason"] for letter in letters)
    assert "JSON" in reasons[0] and reasons[1] == "unknown schema version"
    ours = next(letter for letter in letters if letter["reason"] == "unknown schema version")
    assert ours["type"] == dict(held_back.headers)["ce_type"].decode()
    assert ours["time"] and ours["from"] == {
        "topic": "bridges.ledger.events",
        "partition": "3",
        "offset": "41",
    }
    text = bridges(kafka_settings, "notifier", "dlq", "list")
    assert "2 dead letters" in text.output and "unknown schema version" in text.output

    where = f"{ours['partition']}/{ours['offset']}"
    shown = bridges(kafka_settings, "notifier", "dlq", "show", where)
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["body"] == held_back.value.decode()
    assert body["headers"]["ce_id"] == dict(held_back.headers)["ce_id"].decode()
    assert bridges(kafka_settings, "notifier", "dlq", "show", "9/999").exit_code != 0

    size = topic_size(kafka_settings.bootstrap_servers, events_topic)
    args = ["notifier", "dlq", "redrive", "--partition", str(ours["partition"])]
    args += ["--offset", str(ours["offset"])]
    dry = bridges(kafka_settings, *args, "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output, dry.output
    assert topic_size(kafka_settings.bootstrap_servers, events_topic) == size
    assert bridges(kafka_settings, "notifier", "dlq", "redrive").exit_code != 0

    for _ in range(2):  # redriving twice is harmless
        done = bridges(kafka_settings, *args)
        assert done.exit_code == 0, done.output
    assert topic_size(kafka_settings.bootstrap_servers, events_topic) == size + 2
    redriven = [
        r
        for r in read_topic(kafka_settings.bootstrap_servers, events_topic)
        if r.key == held_back.key
    ][-1]
    assert (redriven.value, list(redriven.headers)) == (held_back.value, list(held_back.headers))
    consumer = consume_all(engine, kafka_settings, ledger_url=sqlite_url, group="notifier")
    assert consumer.applied_total == 1
    after = snapshot(engine)
    assert after != before, "the redriven event was applied"
    with engine.connect() as connection:
        ids = set(connection.execute(select(tables.processed_events.c.event_id)).scalars())
    assert dict(held_back.headers)["ce_id"].decode() in ids


def test_reset_offsets_refuses_while_the_group_runs(
    notifier_url: str, kafka_settings: KafkaSettings, events_topic: str, consumed: Consumed
) -> None:
    engine, group = consumed.engine, consumed.group
    with engine.connect() as connection:
        caught_up = stored_offsets(connection, group, events_topic)
    assert sum(caught_up.values()) == topic_size(kafka_settings.bootstrap_servers, events_topic)
    base = ["notifier", "reset-offsets", "--database-url", notifier_url, "--group", group]

    dry = bridges(kafka_settings, *base, "--to", "earliest", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    with engine.connect() as connection:
        assert stored_offsets(connection, group, events_topic) == caught_up

    running = EventConsumer(
        engine,
        topic=events_topic,
        dlq_topic=kafka_settings.dlq_topic,
        kafka_config=kafka_client_config(kafka_settings),
        group=group,
        clock=RunningClock(),
    )
    try:
        running.start()
        deadline = time.monotonic() + 60
        while not running._consumer.assignment():  # noqa: SLF001 - waiting for the join
            assert time.monotonic() < deadline, "the consumer joined its group"
            running.poll_once(timeout_ms=200)
        refused = bridges(kafka_settings, *base, "--to", "earliest")
        assert refused.exit_code != 0
        assert "running member" in refused.output
        with engine.connect() as connection:
            assert stored_offsets(connection, group, events_topic) == caught_up
    finally:
        running.close()

    done = bridges(kafka_settings, *base, "--to", "earliest")
    assert done.exit_code == 0, done.output
    with engine.connect() as connection:
        assert set(stored_offsets(connection, group, events_topic).values()) == {0}
    replay = consume_all(engine, kafka_settings, ledger_url=consumed.ledger_url, group=group)
    assert replay.applied_total == 0, "replayed events are skipped by event id"

    one = bridges(kafka_settings, *base, "--to", "offset", "--offset", "1", "--partition", "0")
    assert one.exit_code == 0, one.output
    with engine.connect() as connection:
        assert stored_offsets(connection, group, events_topic)[0] == min(1, caught_up.get(0, 0))
    latest = bridges(kafka_settings, *base, "--to", "latest")
    assert latest.exit_code == 0, latest.output
    with engine.connect() as connection:
        now = stored_offsets(connection, group, events_topic)
    assert {p: o for p, o in now.items() if o} == {p: o for p, o in caught_up.items() if o}
    assert sum(now.values()) == topic_size(kafka_settings.bootstrap_servers, events_topic)


def test_a_rebuild_replays_in_batches_of_its_own_size(
    sqlite_url: str,
    notifier_url: str,
    kafka_settings: KafkaSettings,
    consumed: Consumed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebuild reads a backlog: by default in batches of REBUILD_BATCH_SIZE (bigger than the
    live consumer's 500), or of `--batch-size`; the read model is the same either way."""
    assert REBUILD_BATCH_SIZE > 500
    sizes: list[int] = []
    created = EventConsumer.__init__

    def recording(self: EventConsumer, *args: Any, **kwargs: Any) -> None:
        sizes.append(kwargs.get("max_records", 500))
        created(self, *args, **kwargs)

    monkeypatch.setattr(EventConsumer, "__init__", recording)
    polled = records_per_poll(monkeypatch)
    live = snapshot(consumed.engine)
    for extra, group in (([], "by-default"), (["--batch-size", "3"], "in-threes")):
        polled.clear()
        done = rebuild_by_command(kafka_settings, notifier_url, group, *extra, keys_url=sqlite_url)
        assert done.exit_code == 0, done.output
        assert snapshot(consumed.engine) == live
    assert sizes == [REBUILD_BATCH_SIZE, 3]
    assert max(polled) <= 3 and len([n for n in polled if n]) > 5, polled
