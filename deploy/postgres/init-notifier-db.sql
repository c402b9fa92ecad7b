-- Run once by the postgres image when its data volume is new (docker-entrypoint-initdb.d):
-- the ledger's database is POSTGRES_DB; the notifier keeps its own database beside it.
CREATE DATABASE notifier;
