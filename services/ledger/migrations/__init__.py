"""Alembic migrations of the ledger database; run them with `services.ledger.store.migrate`."""
