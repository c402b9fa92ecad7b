"""A claim's place in its payer's approval queue (what every submission answers) is counted
along the queue index, up to the claim (on SQLite from the index alone): the answer does not
cost more as the payer's queue grows. Before: the index held (payer, status, approval
due) only, and the count looked up every queued claim's row to compare submitted-on and id.
The plan of the statement the ledger sends is read on each database (with sequential scans
off on PostgreSQL, so the check does not depend on the size of the test's tables)."""

from __future__ import annotations

from sqlalchemy import Engine

from services.ledger.queue import _PLACE_OF_ONE
from services.ledger.store import make_engine


def _plan(engine: Engine) -> list[str]:
    compiled = _PLACE_OF_ONE.compile(dialect=engine.dialect)
    parameters = compiled.construct_params({"claim_id": "a-claim"})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert compiled.positiontup is not None
            values = tuple(parameters[name] for name in compiled.positiontup)
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
            return [str(row[3]) for row in rows]
        connection.exec_driver_sql("SET enable_seqscan = off")
        return [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", parameters)]


def test_a_place_in_the_queue_is_counted_along_the_queue_index_alone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        plan = _plan(engine)
    finally:
        engine.dispose()
    text = "\n".join(plan)
    if engine.dialect.name == "sqlite":
        queue_scans = [line for line in plan if line.startswith("SEARCH queue")]
        assert len(queue_scans) == 2, text  # the place and the queue's length
        for line in queue_scans:
            assert "USING COVERING INDEX ix_claims_payer_queue" in line, text
        assert any("(approval_due,submitted_on" in line for line in queue_scans), text
        return
    # PostgreSQL: along the queue index, the place's range in its condition. Whether the scan
    # is index-only or a bitmap scan of the index depends on the table's visibility map (a
    # reused test database has dead rows); either way it reads the range, not the queue.
    assert "Seq Scan on claims" not in text, text
    uses = [n for n, line in enumerate(plan) if "ix_claims_payer_queue" in line]
    assert len(uses) == 2, text  # the place and the queue's length
    conditions = [plan[n + 1] for n in uses]
    assert all("Index Cond" in line for line in conditions), text
    assert any("ROW(approval_due" in line for line in conditions), text
