"""The ledger's database engine: the shared SQL plumbing plus the ledger's default location."""

from shared.sql import WRITE_OPTION, begin_write, insert_for, make_engine

DEFAULT_DATABASE_URL = "sqlite:///var/ledger.db"

__all__ = ["DEFAULT_DATABASE_URL", "WRITE_OPTION", "begin_write", "insert_for", "make_engine"]
