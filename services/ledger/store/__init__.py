"""The ledger's persistence: the SQL event store, idempotency records, relay progress."""

from services.ledger.store.engine import DEFAULT_DATABASE_URL, begin_write, make_engine
from services.ledger.store.event_store import (
    WRITER_LOCK_KEY,
    ConcurrencyConflict,
    DuplicateEvent,
    EventStore,
    EventStoreError,
    UnitOfWork,
    WriterBusy,
    get_relay_position,
    set_relay_position,
)
from services.ledger.store.idempotency import (
    Begin,
    IdempotencyConflict,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Replay,
    Started,
    idempotency_scope,
)
from services.ledger.store.metadata import metadata
from services.ledger.store.migrate import upgrade

__all__ = [
    "DEFAULT_DATABASE_URL",
    "WRITER_LOCK_KEY",
    "Begin",
    "ConcurrencyConflict",
    "DuplicateEvent",
    "EventStore",
    "EventStoreError",
    "IdempotencyConflict",
    "IdempotencyStore",
    "InFlight",
    "Mismatch",
    "Replay",
    "Started",
    "UnitOfWork",
    "WriterBusy",
    "begin_write",
    "get_relay_position",
    "idempotency_scope",
    "make_engine",
    "metadata",
    "set_relay_position",
    "upgrade",
]
